package events

import (
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
)

// ActionRunbook starts a runbook of the remediation system.
const ActionRunbook = "runbook"

// RunbookJobKind is the job a runbook action enqueues; the remediation
// system registers it. Its arguments are {"runbook", "env", "params",
// "event": {id, source, type, subject, time, data}}.
const RunbookJobKind = "remediation.start"

// compileRunbook turns a runbook action into a job action of
// RunbookJobKind whose arguments carry the runbook, its parameters (the
// action's Params expression, a map) and the event. The rule keeps showing
// the action as written.
func (ca *compiledAction) compileRunbook(field string, kinds KindChecker) error {
	name := strings.TrimSpace(ca.Runbook)
	if name == "" {
		return invalid(field+".runbook", "required: the name of the runbook to start")
	}
	if strings.ContainsAny(name, " \t\r\n\"\\") {
		return invalid(field+".runbook", "not a runbook name: %q", name)
	}
	if ca.Env != "" && ca.Env != "dev" && ca.Env != "test" && ca.Env != "prod" {
		return invalid(field+".env", "want dev, test or prod, got %q", ca.Env)
	}
	if kinds != nil {
		if err := kinds(RunbookJobKind); err != nil {
			return invalid(field+".type", "runbook actions need the remediation system: %v", err)
		}
	}
	params := "{}"
	if strings.TrimSpace(ca.Params) != "" {
		p, err := compileExpression(field+".params", ca.Params, nil)
		if err != nil {
			return err
		}
		out := p.ast.OutputType()
		if !out.IsExactType(cel.DynType) && out.Kind() != cel.MapKind {
			return invalid(field+".params", "must evaluate to a map, but evaluates to %s", out)
		}
		params = "(" + ca.Params + ")"
	}
	args := `{"runbook": ` + strconv.Quote(name) + `, "env": ` + strconv.Quote(ca.Env) + `, "params": ` + params +
		`, "event": {"id": id, "source": source, "type": type, "subject": subject, "time": string(time), "data": data}}`
	e, err := compileExpression(field+".params", args, nil)
	if err != nil {
		return err
	}
	ca.Type, ca.Kind, ca.args = ActionJob, RunbookJobKind, e
	ca.Args = ca.Params
	return nil
}
