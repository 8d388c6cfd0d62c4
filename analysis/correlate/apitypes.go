package correlate

import "github.com/gaffer-sre/gaffer/analysis/correlate/correlateapi"

// The types of the system's API live in its leaf package, correlateapi,
// for other systems to use; these names let this package's own code keep
// its short spelling.
type (
	// Query is correlateapi.Query.
	Query = correlateapi.Query
	// Request is correlateapi.Request.
	Request = correlateapi.Request
	// AlertRef is correlateapi.AlertRef.
	AlertRef = correlateapi.AlertRef
	// Report is correlateapi.Report.
	Report = correlateapi.Report
	// Summary is correlateapi.Summary.
	Summary = correlateapi.Summary
	// Target is correlateapi.Target.
	Target = correlateapi.Target
	// Result is correlateapi.Result.
	Result = correlateapi.Result
	// Mover is correlateapi.Mover.
	Mover = correlateapi.Mover
	// Filter is correlateapi.Filter.
	Filter = correlateapi.Filter
	// Ranked is correlateapi.Ranked.
	Ranked = correlateapi.Ranked
)

// Names, scopes, modes and statuses, from correlateapi.
const (
	Name            = correlateapi.Name
	ReadScope       = correlateapi.ReadScope
	WriteScope      = correlateapi.WriteScope
	ModeJobs        = correlateapi.ModeJobs
	ModeLocal       = correlateapi.ModeLocal
	StatusPreparing = correlateapi.StatusPreparing
	StatusRunning   = correlateapi.StatusRunning
	StatusComplete  = correlateapi.StatusComplete
	StatusFailed    = correlateapi.StatusFailed
)

var _ correlateapi.Analyzer = (*Service)(nil)
