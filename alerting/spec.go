package alerting

// Spec is an alert rule as a person writes it, in JSON or YAML (the
// same field names). Exactly one of PromQL and Atlas is given.
type Spec struct {
	// Name is the alert's name, its alertname label.
	Name string `json:"name" yaml:"name"`
	// Group gathers rules, as Prometheus rule groups do (imported rules
	// keep their group's name); "default" when empty.
	Group string `json:"group,omitempty" yaml:"group,omitempty"`
	// Description is free text for people.
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// PromQL is a PromQL expression: without a condition every series it
	// returns is an active alert, as in Prometheus.
	PromQL string `json:"promql,omitempty" yaml:"promql,omitempty"`
	// Atlas is an Atlas stack-language expression: without a condition a
	// line whose last value is neither 0 nor NaN is an active alert, as
	// in Atlas's alerting.
	Atlas string `json:"atlas,omitempty" yaml:"atlas,omitempty"`
	// Interval is how often the rule is evaluated (default 1m), and the
	// step of the series conditions look at.
	Interval Duration `json:"interval,omitempty" yaml:"interval,omitempty"`
	// For is how long an alert stays active before it fires (pending
	// until then).
	For Duration `json:"for,omitempty" yaml:"for,omitempty"`
	// KeepFiringFor keeps an alert firing this long after its condition
	// stopped holding.
	KeepFiringFor Duration `json:"keep_firing_for,omitempty" yaml:"keep_firing_for,omitempty"`
	// Labels are added to every alert (templates allowed, as
	// Prometheus's).
	Labels map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	// Annotations are Go templates with Prometheus's data ($labels,
	// $value, $externalURL) and functions (humanize, query, …).
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
	// Condition turns the expression's values into alerts statistically;
	// nil for Prometheus's and Atlas's plain semantics.
	Condition *Condition `json:"condition,omitempty" yaml:"condition,omitempty"`
	// Notification groups this rule's alerts (as an Alertmanager route).
	Notification *Notification `json:"notification,omitempty" yaml:"notification,omitempty"`
	// Analysis, when set, starts an automated analysis of related
	// signals each time an alert fires.
	Analysis *AnalysisScope `json:"analysis,omitempty" yaml:"analysis,omitempty"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty" yaml:"enabled,omitempty"`
}

// Condition is a statistical condition on the values of the rule's
// expression, one step per evaluation interval. Give at most one of
// Threshold, DES, Compare and ChangePoint; RollingCount damps any of them
// (or, alone, the plain semantics).
type Condition struct {
	Threshold    *Threshold    `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	DES          *DESBand      `json:"des,omitempty" yaml:"des,omitempty"`
	Compare      *Compare      `json:"compare,omitempty" yaml:"compare,omitempty"`
	ChangePoint  *ChangeOnset  `json:"changepoint,omitempty" yaml:"changepoint,omitempty"`
	RollingCount *RollingCount `json:"rolling_count,omitempty" yaml:"rolling_count,omitempty"`
}

// Threshold compares each value with a constant.
type Threshold struct {
	// Op is one of > >= < <= == !=.
	Op    string  `json:"op" yaml:"op"`
	Value float64 `json:"value" yaml:"value"`
}

// DESBand is Atlas's double-exponential-smoothing alert (the band of
// :des-epic-signal): the value breaches when it leaves the band around
// the prediction, whose half-width is the larger of Noise and the
// prediction times MaxPercent above (MinPercent below).
type DESBand struct {
	// Preset is one of Atlas's des-simple, des-fast, des-slower,
	// des-slow and their sdes- (sliding) forms; or give Training, Alpha
	// and Beta (and Sliding).
	Preset   string  `json:"preset,omitempty" yaml:"preset,omitempty"`
	Training int     `json:"training,omitempty" yaml:"training,omitempty"`
	Alpha    float64 `json:"alpha,omitempty" yaml:"alpha,omitempty"`
	Beta     float64 `json:"beta,omitempty" yaml:"beta,omitempty"`
	Sliding  bool    `json:"sliding,omitempty" yaml:"sliding,omitempty"`
	// MaxPercent and MinPercent are fractions of the prediction (0.2 is
	// 20%); Noise is an absolute floor of the band's half-width.
	MaxPercent float64 `json:"max_percent,omitempty" yaml:"max_percent,omitempty"`
	MinPercent float64 `json:"min_percent,omitempty" yaml:"min_percent,omitempty"`
	Noise      float64 `json:"noise,omitempty" yaml:"noise,omitempty"`
	// Direction is both (default), above or below.
	Direction string `json:"direction,omitempty" yaml:"direction,omitempty"`
	// Lookback is how much history the smoothing is trained on (default
	// 50 training sizes, at least 3h).
	Lookback Duration `json:"lookback,omitempty" yaml:"lookback,omitempty"`
}

// Compare compares each value with the same series Offset earlier (1d:
// the same time yesterday; 1w: last week).
type Compare struct {
	Offset Duration `json:"offset" yaml:"offset"`
	// Ratio (> 1) is how many times the earlier value the value must
	// exceed (above) or fall under (below: less than earlier/Ratio).
	Ratio float64 `json:"ratio" yaml:"ratio"`
	// Direction is above (default), below or both.
	Direction string `json:"direction,omitempty" yaml:"direction,omitempty"`
	// MinDelta is an absolute difference the values must differ by too,
	// so that tiny values do not alert on large ratios.
	MinDelta float64 `json:"min_delta,omitempty" yaml:"min_delta,omitempty"`
}

// ChangeOnset breaches from a change point (Pelt, l2 cost, BIC penalty,
// analysis/changepoint) whose shift is at least MinSigma times the
// noise, for Hold after it.
type ChangeOnset struct {
	// Window is the history segmented at each evaluation (default 2h).
	Window Duration `json:"window,omitempty" yaml:"window,omitempty"`
	// Hold is how long after a change the condition holds (default 15m).
	Hold Duration `json:"hold,omitempty" yaml:"hold,omitempty"`
	// MinSigma is the smallest shift, in noise standard deviations
	// (default 4).
	MinSigma float64 `json:"min_sigma,omitempty" yaml:"min_sigma,omitempty"`
	// Direction is both (default), up or down.
	Direction string `json:"direction,omitempty" yaml:"direction,omitempty"`
}

// RollingCount holds when at least N of the last M steps breached
// (Atlas's :rolling-count damping).
type RollingCount struct {
	N int `json:"n" yaml:"n"`
	M int `json:"m" yaml:"m"`
}

// Notification is how alerts become notifications, as an Alertmanager
// route: alerts with the same values of GroupBy go out together, first
// GroupWait after the group appears, then at most every GroupInterval
// when the group changed, and again every RepeatInterval while it fires.
type Notification struct {
	// GroupBy lists labels; default [alertname]; ["..."] groups by every
	// label (one notification per alert).
	GroupBy        []string `json:"group_by,omitempty" yaml:"group_by,omitempty"`
	GroupWait      Duration `json:"group_wait,omitempty" yaml:"group_wait,omitempty"`
	GroupInterval  Duration `json:"group_interval,omitempty" yaml:"group_interval,omitempty"`
	RepeatInterval Duration `json:"repeat_interval,omitempty" yaml:"repeat_interval,omitempty"`
}

// AnalysisScope is what an automated analysis compares a firing alert's
// series with.
type AnalysisScope struct {
	// Candidates is a PromQL (or, with Engine atlas, Atlas) query of the
	// candidate series, a template over the alert's labels:
	// {region="{{ $labels.region }}"}.
	Candidates string `json:"candidates" yaml:"candidates"`
	// Engine is promql (default) or atlas.
	Engine string `json:"engine,omitempty" yaml:"engine,omitempty"`
	// Lookback is the history before the alert the analysis reads
	// (default 6h).
	Lookback Duration `json:"lookback,omitempty" yaml:"lookback,omitempty"`
	// MaxLag is the lag search in steps (default 10).
	MaxLag int `json:"max_lag,omitempty" yaml:"max_lag,omitempty"`
	// Delay waits this long after the alert fires before analysing, so
	// that the anomaly has data (default 5m).
	Delay Duration `json:"delay,omitempty" yaml:"delay,omitempty"`
}
