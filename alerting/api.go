package alerting

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// RuleView is a rule as the API shows it: the stored rule, its state
// (inactive, pending, firing, or error when its last evaluation failed)
// and its evaluations.
type RuleView struct {
	*StoredRule
	Engine string `json:"engine"`
	State  string `json:"state"`
	Health Health `json:"health"`
	// Firing and Pending count its alerts.
	Firing  int `json:"firing"`
	Pending int `json:"pending"`
}

// ImportResult answers a rule-file import.
type ImportResult struct {
	Rules []ImportedRule `json:"rules"`
	Notes []string       `json:"notes,omitempty"`
}

// ImportedRule is one rule an import created or updated.
type ImportedRule struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Group   string `json:"group"`
	Created bool   `json:"created"`
}

// Status is the evaluator's state.
type Status struct {
	Rules int        `json:"rules"`
	Lag   LagSummary `json:"lag"`
}

// maxRuleBody bounds a rule file sent to the API.
const maxRuleBody = maxRuleFile

// Routes registers the API.
func (s *Service) Routes(r *httpapi.Router) {
	const p = "/api/v1/alerting"
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/rules", Scope: ReadScope, Summary: "Alert rules with their state",
		Response: []RuleView{}, Handler: s.apiRules})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/rules", Scope: WriteScope, Action: "alerting.rule.create",
		Summary: "Create an alert rule (its expression is checked by its parser)", Request: Spec{}, Response: RuleView{}, Handler: s.apiCreateRule})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/rules/{id}", Scope: ReadScope, Summary: "An alert rule",
		Response: RuleView{}, Handler: s.apiRule})
	r.Handle(httpapi.Route{Method: "PUT", Path: p + "/rules/{id}", Scope: WriteScope, Action: "alerting.rule.put",
		Summary: "Replace (or create) an alert rule", Request: Spec{}, Response: RuleView{}, Handler: s.apiPutRule})
	r.Handle(httpapi.Route{Method: "DELETE", Path: p + "/rules/{id}", Scope: WriteScope, Action: "alerting.rule.delete",
		Summary: "Delete an alert rule and its alerts", Handler: s.apiDeleteRule})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/rules/apply", Scope: WriteScope, Action: "alerting.rules.apply",
		Summary: "Create or update the rules of a Gaffer rule file (YAML or JSON), by group and name", Response: ImportResult{}, Handler: s.apiApply})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/rules/import", Scope: WriteScope, Action: "alerting.rules.import",
		Summary: "Import the alerting rules of a Prometheus rule file (YAML rule groups)", Response: ImportResult{}, Handler: s.apiImport})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/rules/{id}/chart", Scope: ReadScope,
		Summary: "A rule's values, condition and band over a time range", Response: Chart{}, Handler: s.apiChart,
		Query: []httpapi.Param{{Name: "s", Description: "start: RFC 3339 or a duration before the end (default 6h)"},
			{Name: "e", Description: "end: RFC 3339 (default now)"}}})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/rules/{id}/history", Scope: ReadScope, Summary: "A rule's changes of state",
		Response: []Transition{}, Handler: s.apiHistory,
		Query: []httpapi.Param{{Name: "since", Description: "RFC 3339 or a duration before now (default 24h)"}}})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/alerts", Scope: ReadScope, Summary: "Pending, firing and recently resolved alerts",
		Response: []*Alert{}, Handler: s.apiAlerts,
		Query: []httpapi.Param{{Name: "state", Description: "pending, firing or resolved"}, {Name: "rule_id"}}})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/silences", Scope: ReadScope, Summary: "Silences (expired ones with ?all=true)",
		Response: []*Silence{}, Handler: s.apiSilences, Query: []httpapi.Param{{Name: "all"}}})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/silences", Scope: WriteScope, Action: "alerting.silence.create",
		Summary: "Create a silence", Request: SilenceSpec{}, Response: Silence{}, Handler: s.apiCreateSilence})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/silences/{id}", Scope: ReadScope, Summary: "A silence",
		Response: Silence{}, Handler: s.apiSilence})
	r.Handle(httpapi.Route{Method: "DELETE", Path: p + "/silences/{id}", Scope: WriteScope, Action: "alerting.silence.expire",
		Summary: "Expire a silence", Response: Silence{}, Handler: s.apiExpireSilence})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/inhibitions", Scope: ReadScope, Summary: "Inhibition rules",
		Response: []*Inhibition{}, Handler: s.apiInhibitions})
	r.Handle(httpapi.Route{Method: "POST", Path: p + "/inhibitions", Scope: WriteScope, Action: "alerting.inhibition.create",
		Summary: "Create an inhibition rule", Request: Inhibition{}, Response: Inhibition{}, Handler: s.apiCreateInhibition})
	r.Handle(httpapi.Route{Method: "DELETE", Path: p + "/inhibitions/{id}", Scope: WriteScope, Action: "alerting.inhibition.delete",
		Summary: "Delete an inhibition rule", Handler: s.apiDeleteInhibition})
	r.Handle(httpapi.Route{Method: "GET", Path: p + "/status", Scope: ReadScope, Summary: "The evaluator: rules and evaluation lag",
		Response: Status{}, Handler: s.apiStatus})
}

// apiError maps errors to API answers.
func apiError(err error) error {
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		return &httpapi.Error{Status: http.StatusBadRequest, Code: "invalid_rule", Message: err.Error()}
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("%v", err)
	}
	return err
}

func actor(r *http.Request) string { return auth.FromContext(r.Context()).Actor() }

// view builds a rule's view from the scheduler's state.
func (s *Service) view(sr *StoredRule) RuleView {
	v := RuleView{StoredRule: sr, Engine: sr.Engine(), State: string(StateInactive)}
	e, ok := s.sched.get(sr.ID)
	if !ok {
		return v
	}
	alerts, h, _ := e.snapshot()
	v.Health = h
	for _, a := range alerts {
		switch a.State {
		case StateFiring:
			v.Firing++
		case StatePending:
			v.Pending++
		}
	}
	switch {
	case h.Error != "":
		v.State = "error"
	case v.Firing > 0:
		v.State = string(StateFiring)
	case v.Pending > 0:
		v.State = string(StatePending)
	}
	return v
}

// Rules lists the rules with their state.
func (s *Service) Rules(ctx context.Context) ([]RuleView, error) {
	rules, err := s.loadRules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RuleView, 0, len(rules))
	for _, r := range rules {
		out = append(out, s.view(r))
	}
	return out, nil
}

func (s *Service) apiRules(w http.ResponseWriter, r *http.Request) error {
	out, err := s.Rules(r.Context())
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

// SaveRule creates (id "") or replaces a rule and schedules it.
func (s *Service) SaveRule(ctx context.Context, id string, spec Spec, source, by string) (*StoredRule, bool, error) {
	sr, created, err := s.putRule(ctx, id, spec, source, by)
	if err != nil {
		return nil, false, err
	}
	s.sched.put(sr, nil, "")
	return sr, created, nil
}

func (s *Service) apiCreateRule(w http.ResponseWriter, r *http.Request) error {
	var spec Spec
	if err := httpapi.DecodeJSON(r, &spec); err != nil {
		return err
	}
	sr, _, err := s.SaveRule(r.Context(), "", spec, "api", actor(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "rule:"+sr.ID)
	return httpapi.WriteJSON(w, http.StatusCreated, s.view(sr))
}

func (s *Service) apiRule(w http.ResponseWriter, r *http.Request) error {
	sr, err := s.getRule(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, s.view(sr))
}

func (s *Service) apiPutRule(w http.ResponseWriter, r *http.Request) error {
	var spec Spec
	if err := httpapi.DecodeJSON(r, &spec); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := checkText("id", id, 100); err != nil || strings.ContainsAny(id, "/ ") {
		return httpapi.BadRequest("id: %q is not a rule ID", id)
	}
	sr, created, err := s.SaveRule(r.Context(), id, spec, "api", actor(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "rule:"+sr.ID)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return httpapi.WriteJSON(w, status, s.view(sr))
}

func (s *Service) apiDeleteRule(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.deleteRule(r.Context(), id); err != nil {
		return apiError(err)
	}
	s.sched.remove(id)
	httpapi.SetAuditTarget(r, "rule:"+id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxRuleBody))
	if err != nil {
		return nil, httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large", "rule file: larger than %d bytes", maxRuleBody)
	}
	return b, nil
}

// Apply creates or updates rules by group and name.
func (s *Service) Apply(ctx context.Context, specs []Spec, by string) (ImportResult, error) {
	existing, err := s.loadRules(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	ids := map[[2]string]string{}
	for _, r := range existing {
		ids[[2]string{r.Spec.Group, r.Spec.Name}] = r.ID
	}
	var errs []error
	for _, sp := range specs {
		if _, err := Compile(sp); err != nil {
			errs = append(errs, errors.Join(invalid("rule "+sp.Name, "does not compile"), err))
		}
	}
	if len(errs) > 0 {
		return ImportResult{}, errors.Join(errs...)
	}
	res := ImportResult{Rules: []ImportedRule{}}
	for _, sp := range specs {
		grp := sp.Group
		if grp == "" {
			grp = defaultGroup
		}
		sr, created, err := s.SaveRule(ctx, ids[[2]string{grp, sp.Name}], sp, "file", by)
		if err != nil {
			return res, err
		}
		res.Rules = append(res.Rules, ImportedRule{ID: sr.ID, Name: sr.Spec.Name, Group: sr.Spec.Group, Created: created})
	}
	return res, nil
}

func (s *Service) apiApply(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	specs, err := ParseRuleFile(b)
	if err != nil {
		return httpapi.BadRequest("%v", err)
	}
	res, err := s.Apply(r.Context(), specs, actor(r))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, res)
}

// Import creates or updates the alerting rules of a Prometheus rule file.
func (s *Service) Import(ctx context.Context, b []byte, by string) (ImportResult, error) {
	rules, notes, err := ImportPrometheus(b)
	if err != nil {
		return ImportResult{}, &ValidationError{Field: "file", Message: err.Error()}
	}
	res := ImportResult{Rules: []ImportedRule{}, Notes: notes}
	for _, ir := range rules {
		if _, err := Compile(ir.Spec); err != nil {
			return res, err
		}
	}
	for _, ir := range rules {
		sr, created, err := s.SaveRule(ctx, ir.ID, ir.Spec, "prometheus", by)
		if err != nil {
			return res, err
		}
		res.Rules = append(res.Rules, ImportedRule{ID: sr.ID, Name: sr.Spec.Name, Group: sr.Spec.Group, Created: created})
	}
	return res, nil
}

func (s *Service) apiImport(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	res, err := s.Import(r.Context(), b, actor(r))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, res)
}

// parseTime reads RFC 3339, or a duration before ref.
func parseTime(v string, ref time.Time, def time.Duration) (time.Time, error) {
	if v == "" {
		return ref.Add(-def), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := ParseDuration(v)
	if err != nil {
		return time.Time{}, err
	}
	return ref.Add(-d.D()), nil
}

// RuleChart evaluates a rule over a time range.
func (s *Service) RuleChart(ctx context.Context, id string, start, end time.Time) (*Chart, error) {
	sr, err := s.getRule(ctx, id)
	if err != nil {
		return nil, err
	}
	d, err := s.data()
	if err != nil {
		return nil, err
	}
	return sr.Chart(ctx, d, start, end)
}

func (s *Service) apiChart(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	end, err := parseTime(q.Get("e"), s.now(), 0)
	if err != nil {
		return httpapi.BadRequest("e: %v", err)
	}
	start, err := parseTime(q.Get("s"), end, 6*time.Hour)
	if err != nil || !start.Before(end) {
		return httpapi.BadRequest("s: want a time before e, or a duration such as 6h")
	}
	c, err := s.RuleChart(r.Context(), r.PathValue("id"), start, end)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return apiError(err)
		}
		return httpapi.BadRequest("%v", err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, c)
}

func (s *Service) apiHistory(w http.ResponseWriter, r *http.Request) error {
	since, err := parseTime(r.URL.Query().Get("since"), s.now(), 24*time.Hour)
	if err != nil {
		return httpapi.BadRequest("since: %v", err)
	}
	if _, err := s.getRule(r.Context(), r.PathValue("id")); err != nil {
		return apiError(err)
	}
	h, err := s.History(r.Context(), r.PathValue("id"), since, 10_000)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, h)
}

// Alerts lists the current alerts of every rule (or one), with what mutes
// them.
func (s *Service) Alerts(ruleID, state string) []*Alert {
	var out []*Alert
	for _, id := range s.sched.ids() {
		if ruleID != "" && id != ruleID {
			continue
		}
		e, _ := s.sched.get(id)
		if e == nil {
			continue
		}
		alerts, _, _ := e.snapshot()
		for _, a := range alerts {
			if state == "" || string(a.State) == state {
				out = append(out, a)
			}
		}
	}
	now := s.now()
	m := s.currentMutes()
	s.disp.mu.Lock()
	firing := s.disp.firing()
	s.disp.mu.Unlock()
	for _, a := range out {
		a.Silenced, a.InhibitedBy = s.disp.muted(a, m, firing, now)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ActiveAt != out[j].ActiveAt {
			return out[i].ActiveAt.After(out[j].ActiveAt)
		}
		return out[i].Fingerprint < out[j].Fingerprint
	})
	return out
}

func (s *Service) apiAlerts(w http.ResponseWriter, r *http.Request) error {
	st := r.URL.Query().Get("state")
	if st != "" && st != string(StatePending) && st != string(StateFiring) && st != string(StateResolved) {
		return httpapi.BadRequest("state: %q is not pending, firing or resolved", st)
	}
	out := s.Alerts(r.URL.Query().Get("rule_id"), st)
	if out == nil {
		out = []*Alert{}
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) apiSilences(w http.ResponseWriter, r *http.Request) error {
	out, err := s.Silences(r.Context(), r.URL.Query().Get("all") == "true")
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) apiCreateSilence(w http.ResponseWriter, r *http.Request) error {
	var sp SilenceSpec
	if err := httpapi.DecodeJSON(r, &sp); err != nil {
		return err
	}
	sil, err := s.CreateSilence(r.Context(), sp, actor(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "silence:"+sil.ID)
	return httpapi.WriteJSON(w, http.StatusCreated, sil)
}

func (s *Service) apiSilence(w http.ResponseWriter, r *http.Request) error {
	sil, err := s.Silence(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, sil)
}

func (s *Service) apiExpireSilence(w http.ResponseWriter, r *http.Request) error {
	sil, err := s.ExpireSilence(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "silence:"+sil.ID)
	return httpapi.WriteJSON(w, http.StatusOK, sil)
}

func (s *Service) apiInhibitions(w http.ResponseWriter, r *http.Request) error {
	out, err := s.Inhibitions(r.Context())
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) apiCreateInhibition(w http.ResponseWriter, r *http.Request) error {
	var in Inhibition
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.CreateInhibition(r.Context(), in, actor(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "inhibition:"+out.ID)
	return httpapi.WriteJSON(w, http.StatusCreated, out)
}

func (s *Service) apiDeleteInhibition(w http.ResponseWriter, r *http.Request) error {
	if err := s.DeleteInhibition(r.Context(), r.PathValue("id")); err != nil {
		return apiError(err)
	}
	httpapi.SetAuditTarget(r, "inhibition:"+r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) apiStatus(w http.ResponseWriter, r *http.Request) error {
	return httpapi.WriteJSON(w, http.StatusOK, s.Status())
}

// Status reports the evaluator: how many rules, and the lag of recent
// evaluations behind their due time.
func (s *Service) Status() Status {
	return Status{Rules: len(s.sched.ids()), Lag: s.sched.lags.summary()}
}
