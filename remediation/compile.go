package remediation

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/remediation/schema"
)

// Defaults and limits of runbooks.
const (
	defaultRunTimeout  = time.Hour
	maxRunTimeout      = 30 * 24 * time.Hour
	defaultStepTimeout = 5 * time.Minute
	defaultExpires     = 24 * time.Hour
	defaultBackoff     = time.Second
	defaultMaxBackoff  = 5 * time.Minute
	defaultConcurrency = 10
)

// Compiled is a checked runbook, its expressions compiled.
type Compiled struct {
	Runbook
	// Source is the document as written.
	Source string
	// Digest is the SHA-256 of the normalised definition.
	Digest string

	params   *schema.Schema
	timeout  time.Duration
	schedule river.PeriodicSchedule
	steps    map[string]*cstep
	start    string
}

// cstep is a step with its settings parsed and expressions compiled.
type cstep struct {
	*Step
	index       int
	timeout     time.Duration
	expires     time.Duration
	duration    time.Duration
	attempts    int
	backoff     time.Duration
	maxBackoff  time.Duration
	idempotent  bool
	concurrency int
	tolerance   string // "", "N" or "N%"
	next        []ctransition
	forEach     *expr
	condition   *expr
	series      *expr
	candidates  *expr
	window      *tmpl
	answer      *schema.Schema
	params      *tmpl
	url         *tmpl
	headers     *tmpl
	body        *tmpl
	output      *tmpl
	event       *tmpl
	publish     *tmpl
	targets     *tmpl
}

type ctransition struct {
	cond    *expr
	targets []string
}

// Step returns the compiled step called name.
func (c *Compiled) step(name string) *cstep { return c.steps[name] }

// nextSequential is the step listed after s, or "" for the last.
func (c *Compiled) nextSequential(s *cstep) string {
	if s.index+1 < len(c.Steps) {
		return c.Steps[s.index+1].Name
	}
	return ""
}

// compile checks what the schema cannot and compiles expressions. It
// returns problems with JSON pointers (positions are filled in by Parse).
func compile(rb *Runbook) (*Compiled, []Problem) {
	c := &Compiled{Runbook: *rb, steps: map[string]*cstep{}}
	var probs []Problem
	add := func(path, format string, args ...any) {
		probs = append(probs, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	var err error
	if c.timeout, err = duration(rb.Timeout, defaultRunTimeout); err != nil || c.timeout > maxRunTimeout {
		add("/timeout", "want a duration up to %s", maxRunTimeout)
	}
	if len(rb.Params) > 0 {
		if c.params, err = schema.Compile(rb.Name+"-params", rb.Params); err != nil {
			add("/params", "%v", err)
		}
	}
	if rb.Schedule != nil {
		if c.schedule, err = jobs.ParseCron(rb.Schedule.Cron); err != nil {
			add("/schedule/cron", "%v", err)
		}
	}
	for i := range rb.Steps {
		s := &c.Runbook.Steps[i]
		if s.Name == GotoEnd || s.Name == GotoFail {
			add(fmt.Sprintf("/steps/%d/name", i), "%q is reserved for transitions", s.Name)
		}
		if _, dup := c.steps[s.Name]; dup {
			add(fmt.Sprintf("/steps/%d/name", i), "step %q is defined twice", s.Name)
			continue
		}
		cs, p := compileStep(s, i)
		probs = append(probs, p...)
		c.steps[s.Name] = cs
	}
	exists := func(path, name string) {
		if name == GotoEnd || name == GotoFail {
			return
		}
		if _, ok := c.steps[name]; !ok {
			add(path, "no step is called %q", name)
		}
	}
	c.start = rb.Start
	if c.start == "" && len(rb.Steps) > 0 {
		c.start = rb.Steps[0].Name
	}
	if rb.Start != "" {
		exists("/start", rb.Start)
	}
	if rb.OnFailure != "" {
		exists("/on_failure", rb.OnFailure)
	}
	if rb.Approval != nil && !hasApprovalStep(rb) {
		add("/approval", "the runbook has no approval step for this to apply to")
	}
	for i, s := range rb.Steps {
		cs := c.steps[s.Name]
		if cs == nil {
			continue
		}
		for j, t := range cs.next {
			for _, name := range t.targets {
				exists(fmt.Sprintf("/steps/%d/next/%d/goto", i, j), name)
			}
		}
		for j, name := range s.Join {
			exists(fmt.Sprintf("/steps/%d/join/%d", i, j), name)
		}
		if s.OnFailure != "" {
			exists(fmt.Sprintf("/steps/%d/on_failure", i), s.OnFailure)
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	norm, _ := json.Marshal(c.Runbook)
	sum := sha256.Sum256(norm)
	c.Digest = hex.EncodeToString(sum[:])
	return c, nil
}

// hasApprovalStep reports whether any step of rb is an approval.
func hasApprovalStep(rb *Runbook) bool {
	for _, s := range rb.Steps {
		if s.Type == TypeApproval {
			return true
		}
	}
	return false
}

// selfApprove reports whether a run's starter may approve its approval
// steps.
func (c *Compiled) selfApprove() bool {
	return c.Approval != nil && c.Approval.SelfApprove
}

func compileStep(s *Step, i int) (*cstep, []Problem) {
	at := func(field string) string { return fmt.Sprintf("/steps/%d/%s", i, field) }
	var probs []Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{Path: at(field), Message: fmt.Sprintf(format, args...)})
	}
	cs := &cstep{Step: s, index: i}
	var err error
	if cs.timeout, err = duration(s.Timeout, defaultStepTimeout); err != nil {
		add("timeout", "%v", err)
	}
	if cs.expires, err = duration(s.Expires, defaultExpires); err != nil {
		add("expires", "%v", err)
	}
	if cs.duration, err = duration(s.Duration, 0); err != nil {
		add("duration", "%v", err)
	}
	cs.attempts, cs.backoff, cs.maxBackoff = 1, defaultBackoff, defaultMaxBackoff
	if r := s.Retry; r != nil {
		cs.attempts = r.Attempts
		if cs.backoff, err = duration(r.Backoff, defaultBackoff); err != nil {
			add("retry/backoff", "%v", err)
		}
		if cs.maxBackoff, err = duration(r.MaxBackoff, defaultMaxBackoff); err != nil {
			add("retry/max_backoff", "%v", err)
		}
	}
	cs.idempotent = s.Type != TypeAgent && s.Type != TypeHTTP
	if s.Idempotent != nil {
		cs.idempotent = *s.Idempotent
	}
	cs.concurrency = s.Concurrency
	tol := s.Tolerance
	if s.Targets != nil {
		if s.ForEach != "" {
			add("for_each", "an agent step fans out over its targets; for_each does not apply")
		}
		if s.Targets.Agent == "" && len(s.Targets.Tags) == 0 {
			add("targets", "give an agent name or tags")
		}
		if s.Targets.Concurrency > 0 {
			cs.concurrency = s.Targets.Concurrency
		}
		if s.Targets.Tolerance != nil {
			tol = s.Targets.Tolerance
		}
	}
	if cs.concurrency == 0 {
		cs.concurrency = defaultConcurrency
	}
	switch t := tol.(type) {
	case nil:
	case string:
		cs.tolerance = t
	default:
		cs.tolerance = fmt.Sprint(t)
	}
	if s.Type != TypeAgent && (s.Action != "" || s.Targets != nil || s.Params != nil) {
		add("type", "action, targets and params apply to agent steps only")
	}
	for j, t := range s.Next {
		ct := ctransition{}
		if t.If != "" {
			if ct.cond, err = compileExpr(t.If); err != nil {
				add(fmt.Sprintf("next/%d/if", j), "%v", err)
			}
		}
		switch g := t.Goto.(type) {
		case string:
			ct.targets = []string{g}
		case []any:
			for _, n := range g {
				if s, ok := n.(string); ok {
					ct.targets = append(ct.targets, s)
				}
			}
		}
		cs.next = append(cs.next, ct)
	}
	compileE := func(field, src string) *expr {
		if src == "" {
			return nil
		}
		e, err := compileExpr(src)
		if err != nil {
			add(field, "%v", err)
		}
		return e
	}
	cs.forEach = compileE("for_each", s.ForEach)
	cs.condition = compileE("condition", s.Condition)
	cs.series = compileE("series", s.Series)
	cs.candidates = compileE("candidates", s.Candidates)
	tm := func(field string, v any) *tmpl {
		if v == nil {
			return nil
		}
		t, p := compileTmpl(v, at(field))
		probs = append(probs, p...)
		return t
	}
	if s.Params != nil {
		cs.params = tm("params", map[string]any(s.Params))
	}
	if s.URL != "" {
		cs.url = tm("url", s.URL)
	}
	if s.Headers != nil {
		h := map[string]any{}
		for k, v := range s.Headers {
			h[k] = v
		}
		cs.headers = tm("headers", h)
	}
	cs.body = tm("body", s.Body)
	if s.Window != nil {
		cs.window = tm("window", map[string]any(s.Window))
	}
	cs.output = tm("output", s.Output)
	if s.Event != nil {
		cs.event = tm("event", map[string]any{"type": s.Event.Type, "source": s.Event.Source, "subject": s.Event.Subject, "data": s.Event.Data})
	}
	if s.Publish != nil {
		cs.publish = tm("publish", map[string]any(s.Publish))
	}
	if t := s.Targets; t != nil {
		tags := map[string]any{}
		for k, v := range t.Tags {
			tags[k] = v
		}
		cs.targets = tm("targets", map[string]any{"agent": t.Agent, "tags": tags})
	}
	if len(s.Answer) > 0 {
		if cs.answer, err = schema.Compile(s.Name+"-answer", s.Answer); err != nil {
			add("answer", "%v", err)
		}
	}
	if s.Type == TypeSleep && cs.duration <= 0 {
		add("duration", "must be positive")
	}
	return cs, probs
}

func duration(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want a duration such as \"30s\" or \"5m\", got %q", s)
	}
	return d, nil
}

// allowedFailures returns how many of total items may fail.
func (s *cstep) allowedFailures(total int) int {
	t := s.tolerance
	if t == "" {
		return 0
	}
	if p, ok := strings.CutSuffix(t, "%"); ok {
		f, _ := strconv.ParseFloat(p, 64)
		return int(f / 100 * float64(total))
	}
	n, _ := strconv.Atoi(t)
	return n
}

// backoffFor returns the delay before attempt (2 for the first retry).
func (s *cstep) backoffFor(attempt int) time.Duration {
	d := s.backoff
	for i := 2; i < attempt && d < s.maxBackoff; i++ {
		d *= 2
	}
	return min(d, s.maxBackoff)
}

// needsVars reports whether following the step's transitions evaluates
// expressions (so the execution's variables must be loaded).
func (s *cstep) needsVars() bool {
	if s.publish != nil {
		return true
	}
	for _, t := range s.next {
		if t.cond != nil {
			return true
		}
	}
	return false
}
