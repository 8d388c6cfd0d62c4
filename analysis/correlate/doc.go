// Package correlate is Gaffer's "correlate" system (called "analysis"
// before; --roles still accepts that name): an analysis reads a target
// series and its candidates once, in the process that holds the metrics
// store, then scores the candidates in shards on the job queue — any
// number of `gaffer worker` processes share them — and a last job merges
// the ranking into an incident report with explanations, change points
// and the first signal that moved. Alerting starts one when a rule with
// an analysis scope fires; the API and `gaffer analyze correlate` start
// them on demand.
//
// It implements the CORE team's analysis of the signals related to an
// alert ("Python at Netflix") and measures itself against luminol,
// Etsy's Oculus, Netdata's metric correlations and Kayenta's judge.
//
// Libraries: rank (scoring and ranking of candidates), query (choosing
// the candidate series). User guide: docs/correlate.md; figures:
// docs/benchmarks.md.
package correlate
