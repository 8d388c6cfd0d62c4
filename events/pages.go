package events

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the event platform's UI: the event browser with live tail,
// the rules list and editor, and the dead letters.
type pages struct {
	svc                              *Service
	browser, rules, editor, deadList *ui.Page
}

func newPages(s *Service, shell *ui.Shell) *pages {
	p := &pages{svc: s,
		browser:  shell.Parse(templateFS, "templates/events.html", "templates/event_rows.html"),
		rules:    shell.Parse(templateFS, "templates/rules.html"),
		editor:   shell.Parse(templateFS, "templates/rule.html", "templates/event_rows.html"),
		deadList: shell.Parse(templateFS, "templates/deadletters.html"),
	}
	shell.Nav(ui.NavItem{Title: "Events", Path: "/events", Scope: ReadScope, Order: 400})
	shell.Nav(ui.NavItem{Title: "Event rules", Path: "/events/rules", Scope: ReadScope, Order: 401})
	shell.Nav(ui.NavItem{Title: "Dead letters", Path: "/events/deadletters", Scope: ReadScope, Order: 402})

	static, _ := fs.Sub(staticFS, "static")
	shell.Handle(httpapi.Route{Method: "GET", Path: "/static/events/", Public: true, Summary: "Event pages' script",
		Handler: ui.Assets("/static/events/", static)})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/events", Scope: ReadScope, Summary: "Event browser", Handler: p.browse})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/events/rules", Scope: ReadScope, Summary: "Rules page", Handler: p.listRules})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/events/rules/new", Scope: ReadScope, Summary: "New rule form", Handler: p.newRule})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/events/rules/{id}", Scope: ReadScope, Summary: "Rule editor", Handler: p.editRule})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/events/rules/save", Scope: WriteScope, Action: "events.rules.save",
		Summary: "Save a rule from the editor", Handler: p.saveRule})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/events/rules/{id}/delete", Scope: WriteScope, Action: "events.rules.delete",
		Summary: "Delete a rule from the UI", Handler: s.handleDeleteRule})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/events/rules/check", Scope: ReadScope, Unaudited: true, Action: "events.rules.validate",
		Summary: "Check the editor's condition and actions (htmx fragment)", Handler: p.check})
	shell.Handle(httpapi.Route{Method: "POST", Path: "/events/rules/dryrun", Scope: ReadScope, Unaudited: true, Action: "events.event.replay",
		Summary: "Dry-run the editor's rule (htmx fragment)", Handler: p.dryRun})
	shell.Handle(httpapi.Route{Method: "GET", Path: "/events/deadletters", Scope: ReadScope, Summary: "Dead letters page",
		Handler: p.deadLetters})
	return p
}

// browserData is what the event browser renders.
type browserData struct {
	List  *EventList
	Rows  []eventRow
	Error string
}

// eventRow is one event as the tables show it.
type eventRow struct {
	Seq      uint64
	Received string
	ID       string
	Type     string
	Source   string
	Subject  string
	Time     string
	JSON     string
}

// tableTime is how the event tables show times.
const tableTime = "2006-01-02 15:04:05.000Z"

func rowOf(se StoredEvent) eventRow {
	row := eventRow{Seq: se.Seq, Received: se.Received.Format(tableTime)}
	var ev struct {
		ID, Type, Source, Subject, Time string
	}
	json.Unmarshal(se.Event, &ev)
	row.ID, row.Type, row.Source, row.Subject, row.Time = ev.ID, ev.Type, ev.Source, ev.Subject, ev.Time
	if t, err := time.Parse(time.RFC3339Nano, ev.Time); err == nil {
		row.Time = t.UTC().Format(tableTime)
	}
	row.JSON = indentJSON(se.Event)
	return row
}

func indentJSON(b []byte) string {
	var out strings.Builder
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	enc.Encode(v)
	return out.String()
}

func (p *pages) browse(w http.ResponseWriter, r *http.Request) error {
	list, err := p.svc.listRequest(r)
	if err != nil {
		var he *httpapi.Error
		if errors.As(err, &he) && he.Status == http.StatusBadRequest {
			return p.browser.Render(w, r, http.StatusBadRequest, "Events", browserData{Error: he.Message})
		}
		return err
	}
	d := browserData{List: list}
	for _, se := range list.Items {
		d.Rows = append(d.Rows, rowOf(se))
	}
	return p.browser.Render(w, r, http.StatusOK, "Events", d)
}

// rulesData is what the rules page renders.
type rulesData struct {
	Rules    []*Rule
	CanWrite bool
	Index    IndexStats
}

func (p *pages) listRules(w http.ResponseWriter, r *http.Request) error {
	rules, err := p.svc.rules.list(r.Context())
	if err != nil {
		return err
	}
	for _, rule := range rules {
		p.svc.set.decorate(rule)
	}
	return p.rules.Render(w, r, http.StatusOK, "Event rules", rulesData{Rules: rules,
		CanWrite: auth.FromContext(r.Context()).Has(WriteScope), Index: p.svc.set.current().Stats()})
}

// editorData is what the rule editor renders.
type editorData struct {
	Rule     *Rule
	Actions  string
	Check    *ValidateResult
	Error    string
	CanWrite bool
	Kinds    []string
}

const exampleActions = `[
  {"type": "webhook", "url": "https://hooks.example.com/pager"}
]`

func (p *pages) renderEditor(w http.ResponseWriter, r *http.Request, status int, d editorData) error {
	d.CanWrite = auth.FromContext(r.Context()).Has(WriteScope)
	for _, k := range p.svc.jobs.Kinds() {
		if !strings.HasPrefix(k, "events.") {
			d.Kinds = append(d.Kinds, k)
		}
	}
	title := "New rule"
	if d.Rule.ID != "" {
		title = "Rule " + d.Rule.Name
	}
	return p.editor.Render(w, r, status, title, d)
}

func (p *pages) newRule(w http.ResponseWriter, r *http.Request) error {
	rule := &Rule{Enabled: true, Condition: r.URL.Query().Get("condition")}
	return p.renderEditor(w, r, http.StatusOK, editorData{Rule: rule, Actions: exampleActions})
}

func (p *pages) editRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := p.svc.lookupRule(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	p.svc.set.decorate(rule)
	actions, _ := json.MarshalIndent(rule.Actions, "", "  ")
	return p.renderEditor(w, r, http.StatusOK, editorData{Rule: rule, Actions: string(actions)})
}

// specFromForm reads the editor's fields.
func specFromForm(r *http.Request) (RuleSpec, string, error) {
	enabled := r.FormValue("enabled") == "on"
	spec := RuleSpec{Name: r.FormValue("name"), Description: r.FormValue("description"),
		Condition: r.FormValue("condition"), Enabled: &enabled}
	actions := r.FormValue("actions")
	dec := json.NewDecoder(strings.NewReader(actions))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec.Actions); err != nil {
		return spec, actions, &ValidationError{Field: "actions", Message: "not a JSON list of actions: " + err.Error()}
	}
	return spec, actions, nil
}

func (p *pages) saveRule(w http.ResponseWriter, r *http.Request) error {
	spec, actions, err := specFromForm(r)
	rule := &Rule{ID: r.FormValue("id"), Name: spec.Name, Description: spec.Description, Condition: spec.Condition,
		Enabled: *spec.Enabled}
	fail := func(err error) error {
		msg := err.Error()
		var he *httpapi.Error
		if errors.As(err, &he) {
			msg = he.Message
		}
		httpapi.SetAuditDetail(r, msg)
		return p.renderEditor(w, r, http.StatusBadRequest, editorData{Rule: rule, Actions: actions, Error: msg})
	}
	if err != nil {
		return fail(err)
	}
	actor := auth.FromContext(r.Context()).Actor()
	var saved *Rule
	if rule.ID == "" {
		saved, err = p.svc.CreateRule(r.Context(), spec, actor)
	} else {
		saved, err = p.svc.UpdateRule(r.Context(), rule.ID, spec, actor)
	}
	if err != nil {
		return fail(err)
	}
	httpapi.SetAuditTarget(r, "rule:"+saved.ID)
	http.Redirect(w, r, "/events/rules/"+saved.ID, http.StatusSeeOther)
	return nil
}

func (p *pages) check(w http.ResponseWriter, r *http.Request) error {
	req := ValidateRequest{Condition: r.FormValue("condition")}
	if strings.TrimSpace(req.Condition) == "" {
		return p.editor.RenderFragment(w, r, "check", ValidateResult{Field: "condition", Message: "empty"})
	}
	res := ValidateResult{}
	if spec, _, err := specFromForm(r); err != nil {
		res.Field, res.Message = "actions", err.Error()
		if ve, ok := errors.AsType[*ValidationError](err); ok {
			res.Message = ve.Message
		}
	} else {
		req.Actions = spec.Actions
		res = p.svc.validate(req)
	}
	return p.editor.RenderFragment(w, r, "check", res)
}

func (p *pages) dryRun(w http.ResponseWriter, r *http.Request) error {
	spec, _, err := specFromForm(r)
	var res *ReplayResult
	if err == nil {
		if spec.Name == "" {
			spec.Name = "unsaved"
		}
		var rule *Rule
		if rule, err = p.svc.ruleFromSpec(spec, true); err == nil {
			rule.ID = "unsaved"
			var cr *compiledRule
			if cr, err = compileRule(rule, nil); err == nil {
				res, err = p.svc.replay(r.Context(), cr, ReplayRequest{Since: r.FormValue("since")})
			}
		}
	}
	d := struct {
		Result *ReplayResult
		Rows   []eventRow
		Error  string
	}{Result: res}
	if err != nil {
		var he *httpapi.Error
		if errors.As(err, &he) {
			d.Error = he.Message
		} else {
			d.Error = err.Error()
		}
	} else {
		for i, m := range res.Matches {
			if i == 20 {
				break
			}
			d.Rows = append(d.Rows, rowOf(StoredEvent{Seq: m.Seq, Received: m.Received, Event: m.Event}))
		}
	}
	return p.editor.RenderFragment(w, r, "dryrun", d)
}

// deadData is what the dead letters page renders.
type deadData struct {
	Page     httpapi.Page[DeadLetter]
	Status   string
	Counts   map[string]int
	CanWrite bool
}

func (p *pages) deadLetters(w http.ResponseWriter, r *http.Request) error {
	page, err := p.svc.listDeadLetters(r)
	if err != nil {
		return err
	}
	d := deadData{Page: page, Status: r.URL.Query().Get("status"), Counts: map[string]int{},
		CanWrite: auth.FromContext(r.Context()).Has(WriteScope)}
	for _, st := range []string{DeadLetterDead, DeadLetterRedriving, DeadLetterDelivered} {
		if d.Counts[st], err = p.svc.deadletter.count(r.Context(), st); err != nil {
			return err
		}
	}
	return p.deadList.Render(w, r, http.StatusOK, "Dead letters", d)
}
