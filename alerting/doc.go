// Package alerting is Gaffer's alerting system, the "alerting" module:
// alert rules over either an Atlas stack-language expression or PromQL,
// evaluated on a schedule against the metrics store, with the states
// Prometheus users know (inactive, pending, firing, resolved) and their
// history; statistical conditions in the manner of Netflix Atlas's
// alerting (double exponential smoothing bands with Atlas's :des and
// :sdes presets, rolling-count damping, comparison with the same time a
// day or a week earlier, and change-point onset through
// analysis/changepoint); import of Prometheus rule files; and
// notifications as CloudEvents (gaffer.alerting.firing,
// gaffer.alerting.resolved) that the event platform routes, after
// Alertmanager's grouping, silences and inhibition rules.
//
// It implements the statistical alerting of Netflix's CORE team ("Python
// at Netflix") and measures itself against Atlas alert expressions and
// Prometheus with Alertmanager: existing Prometheus rules come over
// unchanged, and 10,000 rules a minute evaluate on one core with a p99
// evaluation lag of at most five seconds (docs/benchmarks.md).
//
// When a rule with an analysis scope fires, the alert starts an
// automated analysis (analysis/correlate) of the related signals and
// links its report. docs/alerting.md describes rules, conditions, the
// API, the pages and the CLI.
package alerting
