package events

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// ValidateRequest asks whether a condition (and optionally actions) would
// be accepted, without saving anything.
type ValidateRequest struct {
	Condition string   `json:"condition"`
	Actions   []Action `json:"actions,omitempty"`
}

// ValidateResult answers a ValidateRequest.
type ValidateResult struct {
	Valid bool `json:"valid"`
	// Field and Message describe the first problem.
	Field   string `json:"field,omitempty"`
	Message string `json:"message,omitempty"`
	// Index tells how the rule index would file the condition.
	Index string `json:"index,omitempty"`
}

func (s *Service) ruleRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/events/rules", Scope: WriteScope, Action: "events.rules.create",
		Summary: "Create a rule", Request: RuleSpec{}, Response: Rule{}, Handler: s.handleCreateRule})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/events/rules", Scope: ReadScope,
		Summary: "Every rule, by name, with how it is indexed and its statistics", Response: httpapi.Page[Rule]{},
		Handler: s.handleListRules})
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/events/rules/{id}", Scope: ReadScope,
		Summary: "One rule (by ID or name)", Response: Rule{}, Handler: s.handleGetRule})
	r.Handle(httpapi.Route{Method: "PUT", Path: "/api/v1/events/rules/{id}", Scope: WriteScope, Action: "events.rules.update",
		Summary: "Replace a rule", Request: RuleSpec{}, Response: Rule{}, Handler: s.handleUpdateRule})
	r.Handle(httpapi.Route{Method: "DELETE", Path: "/api/v1/events/rules/{id}", Scope: WriteScope, Action: "events.rules.delete",
		Summary: "Delete a rule", Handler: s.handleDeleteRule})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/events/rules/{id}/enable", Scope: WriteScope, Action: "events.rules.enable",
		Summary: "Enable a rule", Response: Rule{}, Handler: s.enableHandler(true)})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/events/rules/{id}/disable", Scope: WriteScope, Action: "events.rules.disable",
		Summary: "Disable a rule", Response: Rule{}, Handler: s.enableHandler(false)})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/events/rules/validate", Scope: ReadScope, Unaudited: true, Action: "events.rules.validate",
		Summary: "Check a condition (and actions) without saving; CEL's message on error", Request: ValidateRequest{},
		Response: ValidateResult{}, Handler: s.handleValidate})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/events/rules/{id}/replay", Scope: ReadScope, Action: "events.rules.replay",
		Summary: "Dry run: what the rule would have matched and done over a past time range (nothing is acted on)",
		Request: ReplayRequest{}, Response: ReplayResult{}, Handler: s.handleReplayRule})
	r.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/events/replay", Scope: ReadScope, Action: "events.event.replay",
		Summary: "Dry run of an unsaved rule (the rule field) over a past time range", Request: ReplayRequest{},
		Response: ReplayResult{}, Handler: s.handleReplaySpec})
}

// ruleFromSpec validates a spec into a rule.
func (s *Service) ruleFromSpec(spec RuleSpec, enabledDefault bool) (*Rule, error) {
	r := &Rule{Name: strings.TrimSpace(spec.Name), Description: spec.Description, Condition: spec.Condition,
		Actions: spec.Actions, Enabled: enabledDefault}
	if spec.Enabled != nil {
		r.Enabled = *spec.Enabled
	}
	if r.Actions == nil {
		r.Actions = []Action{}
	}
	if _, err := compileRule(r, s.checkKind); err != nil {
		return nil, apiError(err)
	}
	return r, nil
}

// CreateRule validates and stores a rule, and applies it at once. It is
// the Go API other systems use to install their routing.
func (s *Service) CreateRule(ctx context.Context, spec RuleSpec, by string) (*Rule, error) {
	r, err := s.ruleFromSpec(spec, true)
	if err != nil {
		return nil, err
	}
	r.CreatedBy = by
	if err := s.rules.create(ctx, r); err != nil {
		return nil, apiError(err)
	}
	s.rulesChanged(ctx)
	s.set.decorate(r)
	return r, nil
}

func (s *Service) handleCreateRule(w http.ResponseWriter, r *http.Request) error {
	var spec RuleSpec
	if err := httpapi.DecodeJSON(r, &spec); err != nil {
		return err
	}
	rule, err := s.CreateRule(r.Context(), spec, auth.FromContext(r.Context()).Actor())
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "rule:"+rule.ID)
	httpapi.SetAuditDetail(r, rule.Name)
	return httpapi.WriteJSON(w, http.StatusCreated, rule)
}

func (s *Service) handleListRules(w http.ResponseWriter, r *http.Request) error {
	rules, err := s.rules.list(r.Context())
	if err != nil {
		return err
	}
	items := make([]Rule, 0, len(rules))
	for _, rule := range rules {
		s.set.decorate(rule)
		items = append(items, *rule)
	}
	return httpapi.WriteJSON(w, http.StatusOK, httpapi.Page[Rule]{Items: items})
}

// lookupRule finds a rule by ID, or else by name.
func (s *Service) lookupRule(ctx context.Context, idOrName string) (*Rule, error) {
	rule, err := s.rules.get(ctx, idOrName)
	if errors.Is(err, ErrRuleNotFound) {
		rule, err = s.rules.byName(ctx, idOrName)
	}
	if err != nil {
		return nil, apiError(err)
	}
	return rule, nil
}

func (s *Service) handleGetRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := s.lookupRule(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.set.decorate(rule)
	return httpapi.WriteJSON(w, http.StatusOK, rule)
}

// UpdateRule replaces the rule with an ID (or name) by spec, keeping it
// enabled or disabled unless spec says, and applies it at once.
func (s *Service) UpdateRule(ctx context.Context, idOrName string, spec RuleSpec, by string) (*Rule, error) {
	old, err := s.lookupRule(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	rule, err := s.ruleFromSpec(spec, old.Enabled)
	if err != nil {
		return nil, err
	}
	rule.ID, rule.UpdatedBy = old.ID, by
	stored, err := s.rules.update(ctx, rule)
	if err != nil {
		return nil, apiError(err)
	}
	s.rulesChanged(ctx)
	s.set.decorate(stored)
	return stored, nil
}

func (s *Service) handleUpdateRule(w http.ResponseWriter, r *http.Request) error {
	var spec RuleSpec
	if err := httpapi.DecodeJSON(r, &spec); err != nil {
		return err
	}
	stored, err := s.UpdateRule(r.Context(), r.PathValue("id"), spec, auth.FromContext(r.Context()).Actor())
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "rule:"+stored.ID)
	return httpapi.WriteJSON(w, http.StatusOK, stored)
}

func (s *Service) handleDeleteRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := s.lookupRule(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpapi.SetAuditTarget(r, "rule:"+rule.ID)
	httpapi.SetAuditDetail(r, rule.Name)
	if err := s.rules.delete(r.Context(), rule.ID); err != nil {
		return apiError(err)
	}
	s.rulesChanged(r.Context())
	if !wantsJSON(r) {
		http.Redirect(w, r, "/events/rules", http.StatusSeeOther)
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) enableHandler(enabled bool) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rule, err := s.lookupRule(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		httpapi.SetAuditTarget(r, "rule:"+rule.ID)
		stored, err := s.rules.setEnabled(r.Context(), rule.ID, enabled, auth.FromContext(r.Context()).Actor())
		if err != nil {
			return apiError(err)
		}
		s.rulesChanged(r.Context())
		if !wantsJSON(r) {
			http.Redirect(w, r, "/events/rules", http.StatusSeeOther)
			return nil
		}
		s.set.decorate(stored)
		return httpapi.WriteJSON(w, http.StatusOK, stored)
	}
}

// validate checks a condition and actions as a rule would be checked;
// without actions only the condition is checked.
func (s *Service) validate(req ValidateRequest) ValidateResult {
	rule := &Rule{Name: "validate", Condition: req.Condition, Actions: req.Actions}
	var cr *compiledRule
	var err error
	if len(req.Actions) == 0 {
		cr, err = compileCondition(rule)
	} else {
		cr, err = compileRule(rule, s.checkKind)
	}
	if err != nil {
		field, msg, ok := fieldError(err)
		if !ok {
			field, msg = "rule", err.Error()
		}
		return ValidateResult{Field: field, Message: msg}
	}
	newMatcher([]*compiledRule{cr}) // files the rule: sets cr.indexedBy
	return ValidateResult{Valid: true, Index: describeIndex(cr.indexedBy)}
}

func (s *Service) handleValidate(w http.ResponseWriter, r *http.Request) error {
	var req ValidateRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, s.validate(req))
}
