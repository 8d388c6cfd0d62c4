package genie

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/orchestration/genie/jsonpatch"
	"github.com/gaffer-sre/gaffer/orchestration/genie/resolve"
)

// resourceRoutes registers the CRUD and tag routes of one kind.
func (s *Service) resourceRoutes(r *httpapi.Router, kind string) {
	base, noun := apiRoot+"/"+kind, fmtKind(kind)
	var example any
	switch kind {
	case kindApplication:
		example = Application{}
	case kindCommand:
		example = Command{}
	default:
		example = Cluster{}
	}
	r.Handle(httpapi.Route{Method: "POST", Path: base, Scope: ScopeWrite, Action: "genie." + noun + ".create",
		Summary: "Register a " + noun + " (Genie v3); 201 with its Location", Request: example, Handler: s.apiCreate(kind)})
	r.Handle(httpapi.Route{Method: "GET", Path: base, Scope: ScopeRead, Summary: "Find " + kind + " (Genie v3)",
		Query: []httpapi.Param{{Name: "name", Description: "name, with SQL LIKE wildcards"}, {Name: "user", Description: "owner"},
			{Name: "status", Description: "a status; repeatable"}, {Name: "tag", Description: "a tag every result carries; repeatable"},
			{Name: "type", Description: "an application type"}, {Name: "page", Description: "page number from 0"},
			{Name: "size", Description: "page size (default 10, at most 1000)"}},
		Response: List{}, Handler: s.apiList(kind)})
	r.Handle(httpapi.Route{Method: "GET", Path: base + "/{id}", Scope: ScopeRead, Summary: "A " + noun, Response: example,
		Handler: s.apiGet(kind)})
	r.Handle(httpapi.Route{Method: "PUT", Path: base + "/{id}", Scope: ScopeWrite, Action: "genie." + noun + ".update",
		Summary: "Replace a " + noun + " (its status too)", Request: example, Handler: s.apiUpdate(kind)})
	r.Handle(httpapi.Route{Method: "PATCH", Path: base + "/{id}", Scope: ScopeWrite, Action: "genie." + noun + ".patch",
		Summary: "Change a " + noun + " with a JSON Patch (RFC 6902) of its v3 shape", Request: []jsonpatch.Operation{},
		Handler: s.apiPatch(kind)})
	r.Handle(httpapi.Route{Method: "DELETE", Path: base + "/{id}", Scope: ScopeWrite, Action: "genie." + noun + ".delete",
		Summary: "Delete a " + noun, Handler: s.apiDelete(kind)})
	r.Handle(httpapi.Route{Method: "GET", Path: base + "/{id}/tags", Scope: ScopeRead, Summary: "A " + noun + "'s tags",
		Response: []string{}, Handler: s.apiTags(kind)})
	tagRoute := func(method, verb, summary string, fn func(have, body []string, tag string) []string) {
		path := base + "/{id}/tags"
		if method == "DELETE" && verb == "remove" {
			path += "/{tag}"
		}
		r.Handle(httpapi.Route{Method: method, Path: path, Scope: ScopeWrite, Action: "genie." + noun + "_tags." + verb,
			Summary: summary, Handler: s.apiSetTags(kind, method != "DELETE", fn)})
	}
	tagRoute("POST", "add", "Add tags to a "+noun, func(have, body []string, _ string) []string { return append(have, body...) })
	tagRoute("PUT", "set", "Replace a "+noun+"'s tags", func(_, body []string, _ string) []string { return body })
	tagRoute("DELETE", "clear", "Remove all of a "+noun+"'s tags but its genie.id and genie.name", func([]string, []string, string) []string { return nil })
	tagRoute("DELETE", "remove", "Remove one tag from a "+noun, func(have, _ []string, tag string) []string {
		var out []string
		for _, t := range have {
			if t != tag {
				out = append(out, t)
			}
		}
		return out
	})
	if kind != kindCommand {
		r.Handle(httpapi.Route{Method: "GET", Path: base + "/{id}/commands", Scope: ScopeRead,
			Summary: "The commands that use this " + noun, Response: []Command{}, Handler: s.apiCommandsOf(kind)})
	}
}

// decodeDocFrom reads a resource of kind from a request body.
func decodeDocFrom(r *http.Request, kind string) (resourceDoc, error) {
	switch kind {
	case kindCommand:
		var c Command
		if err := httpapi.DecodeJSON(r, &c); err != nil {
			return nil, err
		}
		return &commandRow{Command: c}, nil
	default:
		d := newDoc(kind)
		if err := httpapi.DecodeJSON(r, d); err != nil {
			return nil, err
		}
		return d, nil
	}
}

func (s *Service) apiCreate(kind string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		d, err := decodeDocFrom(r, kind)
		if err != nil {
			return err
		}
		if err := s.createResource(r.Context(), kind, d); err != nil {
			return apiError(err)
		}
		id := d.common().ID
		httpapi.SetAuditTarget(r, auditTarget(kind, id))
		return created(w, apiRoot+"/"+kind+"/"+id)
	}
}

func (s *Service) apiList(kind string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		docs, err := s.listResources(r.Context(), kind, listFilter{Name: q.Get("name"), User: q.Get("user"), Type: q.Get("type"),
			Statuses: q["status"], Tags: q["tag"]})
		if err != nil {
			return err
		}
		items := make([]any, len(docs))
		for i, d := range docs {
			items[i] = withLinks(kind, d)
		}
		list, err := pageOf(r, fmtKind(kind)+"List", items)
		if err != nil {
			return err
		}
		return httpapi.WriteJSON(w, http.StatusOK, list)
	}
}

func (s *Service) apiGet(kind string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		d, err := s.getResource(r.Context(), kind, r.PathValue("id"))
		if err != nil {
			return apiError(err)
		}
		return httpapi.WriteJSON(w, http.StatusOK, withLinks(kind, d))
	}
}

func (s *Service) apiUpdate(kind string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		httpapi.SetAuditTarget(r, auditTarget(kind, id))
		d, err := decodeDocFrom(r, kind)
		if err != nil {
			return err
		}
		if cr, ok := d.(*commandRow); ok {
			old, err := s.getResource(r.Context(), kind, id)
			if err != nil {
				return apiError(err)
			}
			cr.Apps = old.(*commandRow).Apps
		}
		if err := s.updateResource(r.Context(), kind, id, d); err != nil {
			return apiError(err)
		}
		return noContent(w)
	}
}

// maxPatchBody bounds a JSON Patch request body, in bytes.
const maxPatchBody = 1 << 20

// apiPatch applies a JSON Patch to a resource as the API shows it, then
// stores the result as a PUT would (the id may not change).
func (s *Service) apiPatch(kind string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		httpapi.SetAuditTarget(r, auditTarget(kind, id))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPatchBody))
		if err != nil {
			return httpapi.BadRequest("request body: %v", err)
		}
		ops, err := jsonpatch.Parse(body)
		if err != nil {
			return httpapi.BadRequest("%v", err)
		}
		d, err := s.getResource(r.Context(), kind, id)
		if err != nil {
			return apiError(err)
		}
		var apps []string
		if cr, ok := d.(*commandRow); ok {
			apps = cr.Apps
		}
		raw, _ := json.Marshal(withLinks(kind, d))
		var doc any
		json.Unmarshal(raw, &doc)
		patched, err := jsonpatch.Apply(doc, ops)
		if err != nil {
			return httpapi.Errorf(http.StatusUnprocessableEntity, "patch_failed", "%v", err)
		}
		raw, _ = json.Marshal(patched)
		nd := newDoc(kind)
		target := any(nd)
		if cr, ok := nd.(*commandRow); ok {
			target = &cr.Command
			cr.Apps = apps
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(target); err != nil {
			return httpapi.BadRequest("the patched %s: %v", fmtKind(kind), err)
		}
		if err := s.updateResource(r.Context(), kind, id, nd); err != nil {
			return apiError(err)
		}
		return noContent(w)
	}
}

func (s *Service) apiDelete(kind string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		httpapi.SetAuditTarget(r, auditTarget(kind, id))
		if err := s.deleteResource(r.Context(), kind, id); err != nil {
			return apiError(err)
		}
		return noContent(w)
	}
}

func (s *Service) apiTags(kind string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		d, err := s.getResource(r.Context(), kind, r.PathValue("id"))
		if err != nil {
			return apiError(err)
		}
		return httpapi.WriteJSON(w, http.StatusOK, tagList(d))
	}
}

// apiSetTags changes a resource's tags with fn, given its tags and the
// body's list (when withBody) or the path's tag.
func (s *Service) apiSetTags(kind string, withBody bool, fn func(have, body []string, tag string) []string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		httpapi.SetAuditTarget(r, auditTarget(kind, id))
		var body []string
		if withBody {
			if err := httpapi.DecodeJSON(r, &body); err != nil {
				return err
			}
		}
		err := s.modifyResource(r.Context(), kind, id, func(d resourceDoc) error {
			c := d.common()
			c.Tags = fn(c.Tags, body, r.PathValue("tag"))
			return nil
		})
		if err != nil {
			return apiError(err)
		}
		return noContent(w)
	}
}

// apiCommandsOf lists the commands that use an application, or whose
// cluster criteria select a cluster.
func (s *Service) apiCommandsOf(kind string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		target, err := s.getResource(r.Context(), kind, id)
		if err != nil {
			return apiError(err)
		}
		q := r.URL.Query()
		cmds, err := s.listResources(r.Context(), kindCommand, listFilter{Statuses: q["status"]})
		if err != nil {
			return err
		}
		out := []any{}
		for _, d := range cmds {
			cr := d.(*commandRow)
			if kind == kindApplication && contains(cr.Apps, id) || kind == kindCluster && selects(cr, target.(*Cluster)) {
				out = append(out, withLinks(kindCommand, d))
			}
		}
		return httpapi.WriteJSON(w, http.StatusOK, out)
	}
}

// selects reports whether one of a command's cluster criteria selects
// cluster (whatever its status, as Genie's cluster-to-commands lookup).
func selects(cr *commandRow, cl *Cluster) bool {
	for _, cc := range cr.ClusterCriteria {
		if cc.Status == "" {
			cc.Status = cl.Status
		}
		x, err := resolve.NewIndex(nil, nil, []*resolve.Cluster{{Resource: cl.resource()}})
		if err == nil && len(x.ClustersFor(&resolve.Command{ClusterCriteria: []resolve.Criterion{cc}})) > 0 {
			return true
		}
	}
	return false
}

// commandRoutes registers the command sub-resources: applications,
// cluster criteria and the clusters they resolve to.
func (s *Service) commandRoutes(r *httpapi.Router) {
	base := apiRoot + "/" + kindCommand + "/{id}"
	r.Handle(httpapi.Route{Method: "GET", Path: base + "/applications", Scope: ScopeRead,
		Summary: "A command's applications, in staging order", Response: []Application{}, Handler: s.apiCommandApps})
	appRoute := func(method, path, verb, summary string, fn func(have, body []string, app string) []string) {
		r.Handle(httpapi.Route{Method: method, Path: base + path, Scope: ScopeWrite, Action: "genie.command_applications." + verb,
			Summary: summary, Handler: s.apiSetCommandApps(method != "DELETE", fn)})
	}
	appRoute("POST", "/applications", "add", "Append applications to a command", func(have, body []string, _ string) []string { return append(have, body...) })
	appRoute("PUT", "/applications", "set", "Replace a command's applications", func(_, body []string, _ string) []string { return body })
	appRoute("DELETE", "/applications", "clear", "Remove all of a command's applications", func([]string, []string, string) []string { return nil })
	appRoute("DELETE", "/applications/{app}", "remove", "Remove one application from a command", func(have, _ []string, app string) []string {
		var out []string
		for _, a := range have {
			if a != app {
				out = append(out, a)
			}
		}
		return out
	})
	r.Handle(httpapi.Route{Method: "GET", Path: base + "/clusterCriteria", Scope: ScopeRead,
		Summary: "A command's cluster criteria, in priority order", Response: []resolve.Criterion{}, Handler: s.apiClusterCriteria})
	r.Handle(httpapi.Route{Method: "PUT", Path: base + "/clusterCriteria", Scope: ScopeWrite, Action: "genie.command_criteria.set",
		Summary: "Replace a command's cluster criteria", Request: []resolve.Criterion{}, Handler: s.apiSetClusterCriteria})
	r.Handle(httpapi.Route{Method: "GET", Path: base + "/clusters", Scope: ScopeRead,
		Summary: "The UP clusters a command's cluster criteria select now", Response: []Cluster{}, Handler: s.apiCommandClusters})
}

func (s *Service) apiCommandApps(w http.ResponseWriter, r *http.Request) error {
	d, err := s.getResource(r.Context(), kindCommand, r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	out := []any{}
	for _, id := range d.(*commandRow).Apps {
		a, err := s.getResource(r.Context(), kindApplication, id)
		if err != nil {
			continue // deleted since; the command no longer stages it
		}
		out = append(out, withLinks(kindApplication, a))
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) apiSetCommandApps(withBody bool, fn func(have, body []string, app string) []string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		httpapi.SetAuditTarget(r, auditTarget(kindCommand, id))
		var body []string
		if withBody {
			if err := httpapi.DecodeJSON(r, &body); err != nil {
				return err
			}
		}
		err := s.modifyResource(r.Context(), kindCommand, id, func(d resourceDoc) error {
			cr := d.(*commandRow)
			apps := fn(cr.Apps, body, r.PathValue("app"))
			seen := map[string]bool{}
			cr.Apps = []string{}
			for _, a := range apps {
				if !seen[a] {
					seen[a] = true
					cr.Apps = append(cr.Apps, a)
				}
			}
			return nil
		})
		if err != nil {
			return apiError(err)
		}
		return noContent(w)
	}
}

func (s *Service) apiClusterCriteria(w http.ResponseWriter, r *http.Request) error {
	d, err := s.getResource(r.Context(), kindCommand, r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, d.(*commandRow).ClusterCriteria)
}

func (s *Service) apiSetClusterCriteria(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	httpapi.SetAuditTarget(r, auditTarget(kindCommand, id))
	var body []resolve.Criterion
	if err := httpapi.DecodeJSON(r, &body); err != nil {
		return err
	}
	err := s.modifyResource(r.Context(), kindCommand, id, func(d resourceDoc) error {
		d.(*commandRow).ClusterCriteria = body
		return nil
	})
	if err != nil {
		return apiError(err)
	}
	return noContent(w)
}

func (s *Service) apiCommandClusters(w http.ResponseWriter, r *http.Request) error {
	idx, err := s.index(r.Context())
	if err != nil {
		return err
	}
	cmd := idx.Command(r.PathValue("id"))
	if cmd == nil {
		return httpapi.NotFound("command %q: not found", r.PathValue("id"))
	}
	out := []any{}
	for _, cl := range idx.ClustersFor(cmd) {
		d, err := s.getResource(r.Context(), kindCluster, cl.ID)
		if err == nil {
			out = append(out, withLinks(kindCluster, d))
		}
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}
