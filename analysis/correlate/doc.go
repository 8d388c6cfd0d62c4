// Package correlate answers "which of these thousands of series moved with
// this one?": given a target series, an anomaly window and candidate
// series on the same time grid, it ranks the candidates by how they moved
// with the target, with one combined score and a per-signal explanation.
//
// It is the library behind Gaffer's automated analysis (the CORE team's
// analysis of the ~1,000 signals related to an alert, in "Python at
// Netflix"); the "analysis" system (./service) runs it as sharded jobs
// when an alert fires and over HTTP. Its anchors are luminol's
// correlator, Etsy's Oculus, Netdata's metric correlations and Netflix
// Kayenta's Mann-Whitney judge.
//
// Four features are computed for every candidate over the focus window
// (a baseline before the target's onset and the anomaly after it):
//
//   - lagged cross-correlation: Pearson's r between the k-step differences
//     of target and candidate, the best of every lag in ±MaxLag steps;
//   - rank correlation: Spearman's ρ between the detrended levels;
//   - change-point co-occurrence: the candidate's best single split (the
//     l2 change point) and how close it falls to the target's onset,
//     weighted by the size of the change in noise units;
//   - distribution shift: the Mann-Whitney U test of the detrended levels
//     after the onset against those before, as the rank-biserial effect.
//
// Levels are detrended by a quadratic fitted jointly with a step at the
// onset, so that daily seasonality does not pass for a shift. The score
// is the weighted sum of the four features (each in [0, 1]). Explain adds
// what a person needs to trust a ranking: the lag, the Hodges–Lehmann
// estimate of the shift with its size against the baseline, and the
// change points analysis/changepoint finds in the candidate.
//
// Scenario generates seeded incident scenarios (seasonal signals, a few
// related shifts with lags and different shapes, decoys) on which
// precision@10 is measured; docs/correlate.md has the figures.
package correlate
