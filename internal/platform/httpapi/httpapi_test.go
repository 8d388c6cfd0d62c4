package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

type sample struct {
	Name   string            `json:"name"`
	Count  int               `json:"count,omitempty"`
	When   time.Time         `json:"when"`
	Tags   map[string]string `json:"tags,omitempty"`
	Nested *sample           `json:"nested,omitempty"`
	// private is never set: the schema test checks that an unexported
	// field is left out.
	private int //nolint:unused // see above
}

func TestDecodeJSONErrorsNameTheField(t *testing.T) {
	cases := map[string]string{
		``:                          "empty",
		`{"name": 1}`:               "name",
		`{"name": "a", "bogus": 1}`: "bogus",
		`{"name": "a"} {}`:          "after the JSON value",
		`{"name": `:                 "request body",
		`{"count": "many"}`:         "count",
	}
	for body, want := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		var v sample
		err := DecodeJSON(r, &v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeJSON(%q) = %v, want an error mentioning %q", body, err, want)
			continue
		}
		if e := asError(err); e.Status != 400 {
			t.Errorf("DecodeJSON(%q): status %d", body, e.Status)
		}
	}
	big := `{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	if e := asError(DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(big)), &sample{})); e.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: status %d", e.Status)
	}
}

func TestRouterPanicsOnUnguardedRoute(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a route with neither scope nor Public was accepted")
		}
	}()
	NewRouter(Options{}).Handle(Route{Method: "GET", Path: "/x", Handler: func(http.ResponseWriter, *http.Request) error { return nil }})
}

func TestRouterRecoversPanicsAndHidesInternalErrors(t *testing.T) {
	rt := NewRouter(Options{})
	rt.Handle(Route{Method: "GET", Path: "/boom", Public: true, Handler: func(http.ResponseWriter, *http.Request) error { panic("secret detail") }})
	rt.Handle(Route{Method: "GET", Path: "/err", Public: true, Handler: func(http.ResponseWriter, *http.Request) error {
		return errorsNew("database password is hunter2")
	}})
	for _, path := range []string{"/boom", "/err"} {
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 500 || strings.Contains(w.Body.String(), "secret") || strings.Contains(w.Body.String(), "hunter2") {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
		if w.Header().Get(RequestIDHeader) == "" {
			t.Errorf("%s: no request ID", path)
		}
	}
}

type stringError string

func (e stringError) Error() string { return string(e) }

func errorsNew(s string) error { return stringError(s) }

func TestOpenAPISchemas(t *testing.T) {
	rt := NewRouter(Options{})
	rt.Handle(Route{Method: "POST", Path: "/api/v1/things/{id}", Scope: "things:write", Summary: "make",
		Request: sample{}, Response: Page[sample]{}, Query: []Param{{Name: "dry_run"}},
		Handler: func(http.ResponseWriter, *http.Request) error { return nil }})
	doc := rt.OpenAPI("t", "1")
	paths := doc["paths"].(map[string]map[string]any)
	op := paths["/api/v1/things/{id}"]["post"].(map[string]any)
	if op["x-gaffer-scope"] != "things:write" {
		t.Fatalf("scope = %v", op["x-gaffer-scope"])
	}
	params := op["parameters"].([]any)
	if len(params) != 2 {
		t.Fatalf("parameters = %v", params)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	s, ok := schemas["httpapi.sample"].(map[string]any)
	if !ok {
		t.Fatalf("no sample schema in %v", schemas)
	}
	props := s["properties"].(map[string]any)
	if _, ok := props["private"]; ok {
		t.Fatal("unexported field in schema")
	}
	if props["when"].(map[string]any)["format"] != "date-time" {
		t.Fatalf("time field schema = %v", props["when"])
	}
	if req := s["required"].([]string); len(req) != 2 || req[0] != "name" || req[1] != "when" {
		t.Fatalf("required = %v", req)
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor(int64(42)))
	f.Add("!!")
	f.Fuzz(func(t *testing.T, c string) {
		r := httptest.NewRequest("GET", "/?cursor="+url.QueryEscape(c), nil)
		var pos int64
		ok, err := DecodeCursor(r, &pos)
		if err == nil && ok && EncodeCursor(pos) == "" {
			t.Fatal("empty re-encoding")
		}
	})
}
