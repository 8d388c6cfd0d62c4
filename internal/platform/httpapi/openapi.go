package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// OpenAPI builds an OpenAPI 3.1 document describing every registered route.
func (rt *Router) OpenAPI(title, version string) map[string]any {
	gen := &schemaGen{components: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, route := range rt.Routes() {
		if route.UI {
			continue
		}
		op := map[string]any{
			"summary":     route.Summary,
			"operationId": operationID(route),
			"responses":   responses(gen, route),
		}
		if route.Public {
			op["security"] = []any{}
		} else {
			op["security"] = []any{map[string]any{"bearer": []string{route.Scope}}}
			op["x-gaffer-scope"] = route.Scope
		}
		var params []any
		for _, name := range pathParams(route.Path) {
			params = append(params, map[string]any{"name": name, "in": "path", "required": true,
				"schema": map[string]any{"type": "string"}})
		}
		for _, q := range route.Query {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "required": q.Required,
				"description": q.Description, "schema": map[string]any{"type": "string"}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if route.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": gen.schema(reflect.TypeOf(route.Request))}}}
		}
		path := openAPIPath(route.Path)
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(route.Method)] = op
	}
	gen.components["Error"] = map[string]any{"type": "object", "properties": map[string]any{
		"error": map[string]any{"type": "object", "properties": map[string]any{
			"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}}}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": title, "version": version},
		"paths":   paths,
		"components": map[string]any{
			"schemas":         gen.components,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

func responses(gen *schemaGen, route Route) map[string]any {
	errRef := map[string]any{"description": "error", "content": map[string]any{
		"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	ok := map[string]any{"description": "success"}
	if route.Response != nil {
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": gen.schema(reflect.TypeOf(route.Response))}}
	}
	out := map[string]any{"2XX": ok, "4XX": errRef, "5XX": errRef}
	if !route.Public {
		out["401"] = errRef
		out["403"] = errRef
	}
	return out
}

var wildcard = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}`)

func pathParams(p string) []string {
	var out []string
	for _, m := range wildcard.FindAllStringSubmatch(p, -1) {
		out = append(out, m[1])
	}
	return out
}

func openAPIPath(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return wildcard.ReplaceAllString(p, "{$1}")
}

func operationID(route Route) string {
	s := strings.ToLower(route.Method) + strings.NewReplacer("/api/v1/", "_", "/", "_", "{", "", "}", "", ".", "", "$", "", "-", "_").Replace(route.Path)
	return strings.Trim(s, "_")
}

type schemaGen struct {
	components map[string]any
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	durationType = reflect.TypeOf(time.Duration(0))
	rawType      = reflect.TypeOf(json.RawMessage(nil))
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case durationType:
		return map[string]any{"type": "integer", "description": "nanoseconds"}
	case rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		return g.structSchema(t)
	}
	return map[string]any{}
}

func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	name := t.Name()
	if name != "" && !strings.Contains(name, "[") {
		name = componentName(t)
		if _, done := g.components[name]; !done {
			g.components[name] = map[string]any{} // placeholder breaks recursion
			g.components[name] = g.inlineStruct(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return g.inlineStruct(t)
}

func componentName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	if pkg == "" {
		return t.Name()
	}
	return pkg + "." + t.Name()
}

func (g *schemaGen) inlineStruct(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			if embedded, ok := g.inlineStruct(derefType(f.Type))["properties"].(map[string]any); ok {
				for k, v := range embedded {
					props[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer {
			required = append(required, name)
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// OpenAPIHandler serves the router's OpenAPI document.
func (rt *Router) OpenAPIHandler(title, version string) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return WriteJSON(w, http.StatusOK, rt.OpenAPI(title, version))
	}
}
