package changepoint

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// Limits of one series query.
const (
	// maxSeries bounds the series a query may return.
	maxSeries = 100
	// maxPoints bounds the steps of the time range.
	maxPoints = 100_000
	// defaultPoints is how many steps the default step aims at, at least
	// one minute each.
	defaultPoints = 1440
)

var seriesQueryDoc = []httpapi.Param{
	{Name: "q", Required: true, Description: `PromQL expression (rate(http_requests_total[5m])), or a series selector name{label="v"} where the store only consolidates`},
	{Name: "s", Description: "start: RFC 3339, unix seconds, or now/e with an offset; default e-3h"},
	{Name: "e", Description: "end: RFC 3339, unix seconds, or now/s with an offset; default now"},
	{Name: "step", Description: "consolidation step (60s, 5m, or seconds); default 1m, coarser beyond 1,440 points"},
	{Name: "method", Description: "search method; default pelt"},
	{Name: "cost", Description: "cost; default l2"},
	{Name: "pen", Description: "penalty; default (without n_bkps or epsilon, and but for dynp) the BIC penalty of each series"},
	{Name: "n_bkps"}, {Name: "epsilon"}, {Name: "min_size"}, {Name: "jump"}, {Name: "width"}, {Name: "order"}, {Name: "gamma"},
}

// SeriesResponse is the answer of GET /api/v1/changepoint/series.
type SeriesResponse struct {
	Query       string    `json:"query"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	StepSeconds float64   `json:"step_seconds"`
	// Series holds one result per matching series, sorted by labels.
	Series []SeriesResult `json:"series"`
	// ElapsedSeconds is the time spent in the searches.
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// SeriesResult is the segmentation of one series, consolidated to the
// step's average. Steps without samples are left out of the signal.
type SeriesResult struct {
	Labels map[string]string `json:"labels"`
	// Pen is the penalty used when the request gave no stopping rule.
	Pen *float64 `json:"pen,omitempty"`
	// Bkps are ruptures-style breakpoints: indices into Times.
	Bkps []int `json:"bkps"`
	// ChangePoints are the times of the first point of every segment but
	// the first: when the series changed.
	ChangePoints []time.Time `json:"change_points"`
	Segments     []Segment   `json:"segments"`
	// Times (unix seconds) and Values are the points segmented.
	Times  []float64 `json:"times"`
	Values []float64 `json:"values"`
	// Skipped counts steps without samples.
	Skipped int `json:"skipped"`
	// Error says why this series could not be segmented (too few
	// points for the parameters, say); the others still are.
	Error string `json:"error,omitempty"`
}

// Segment is one regime of a series.
type Segment struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Mean   float64   `json:"mean"`
	Points int       `json:"points"`
}

// seriesQuery is a parsed series request.
type seriesQuery struct {
	q          string
	start, end time.Time
	step       time.Duration
	params     detect.Params
	autoPen    bool
}

func parseSeriesQuery(v url.Values, now time.Time) (seriesQuery, error) {
	sq := seriesQuery{q: strings.TrimSpace(v.Get("q"))}
	if sq.q == "" {
		return sq, errors.New(`q: required: a PromQL expression such as rate(http_requests_total{job="api"}[5m])`)
	}
	var err error
	if sq.start, sq.end, err = parseRange(v.Get("s"), v.Get("e"), now); err != nil {
		return sq, err
	}
	span := sq.end.Sub(sq.start)
	if st := strings.TrimSpace(v.Get("step")); st != "" {
		if sq.step, err = parseDuration(st); err != nil {
			return sq, fmt.Errorf("step: %w", err)
		}
		if sq.step < time.Millisecond {
			return sq, fmt.Errorf("step: must be at least 1ms, got %q", st)
		}
	} else {
		sq.step = max(time.Minute, (span/defaultPoints+time.Minute-1)/time.Minute*time.Minute)
	}
	if pts := span / sq.step; pts > maxPoints {
		return sq, fmt.Errorf("step: %s over %s gives %d points, more than %d; use a larger step or a shorter range", sq.step, span, pts, maxPoints)
	}
	// Align to the step, so that the points do not move as time passes.
	sq.start, sq.end = alignDown(sq.start, sq.step), alignDown(sq.end, sq.step)
	if sq.params, err = paramsFromValues(v); err != nil {
		return sq, err
	}
	if sq.params.Method == "" {
		sq.params.Method = "pelt"
	}
	if sq.params.Cost == "" {
		sq.params.Cost = "l2"
	}
	noStop := sq.params.Pen == nil && sq.params.NBkps == nil && sq.params.Epsilon == nil
	if noStop && !strings.EqualFold(sq.params.Method, "dynp") {
		sq.autoPen = true
		one := 1.0
		sq.params.Pen = &one // replaced per series
	}
	return sq, checkParams(sq.params)
}

func (s *Service) handleSeries(w http.ResponseWriter, r *http.Request) error {
	sq, err := parseSeriesQuery(r.URL.Query(), s.now())
	if err != nil {
		return httpapi.BadRequest("%v", err)
	}
	resp, err := s.segmentSeries(r.Context(), sq)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, resp)
}

// segmentSeries reads the series sq selects and segments each, all
// within one time budget.
func (s *Service) segmentSeries(ctx context.Context, sq seriesQuery) (*SeriesResponse, error) {
	src, err := s.source()
	if err != nil {
		return nil, httpapi.Unavailable("series: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.budget)
	defer cancel()
	series, err := src.read(ctx, sq)
	if err != nil {
		return nil, err
	}
	resp := &SeriesResponse{Query: sq.q, Start: sq.start.UTC(), End: sq.end.UTC(), StepSeconds: sq.step.Seconds(),
		Series: series}
	if resp.Series == nil {
		resp.Series = []SeriesResult{}
	}
	var elapsed time.Duration
	for i := range resp.Series {
		took, err := s.segmentOne(ctx, &resp.Series[i], sq)
		elapsed += took
		if err != nil {
			return nil, err
		}
	}
	resp.ElapsedSeconds = elapsed.Seconds()
	return resp, nil
}

// segmentOne segments one series in place. Input errors are recorded in
// the result; only a stopped search fails the request.
func (s *Service) segmentOne(ctx context.Context, res *SeriesResult, sq seriesQuery) (time.Duration, error) {
	res.Bkps, res.ChangePoints, res.Segments = []int{}, []time.Time{}, []Segment{}
	if len(res.Values) == 0 {
		res.Error = "no samples in the time range"
		return 0, nil
	}
	sig, err := detect.NewSeries(res.Values)
	if err != nil {
		res.Error = err.Error()
		return 0, nil
	}
	p := sq.params
	if sq.autoPen {
		pen := detect.PenaltyBIC(sig)
		p.Pen, res.Pen = &pen, &pen
	}
	bkps, took, err := s.run(ctx, sig, p)
	var he *httpapi.Error
	switch {
	case errors.As(err, &he) && he.Status == http.StatusBadRequest:
		res.Error = he.Message
		return took, nil
	case err != nil:
		return took, err
	}
	res.Bkps = bkps
	res.Segments = segments(res.Times, res.Values, bkps)
	for _, seg := range res.Segments[1:] {
		res.ChangePoints = append(res.ChangePoints, seg.Start)
	}
	return took, nil
}

// segments describes the segments bkps cut the points into.
func segments(times, values []float64, bkps []int) []Segment {
	out := make([]Segment, 0, len(bkps))
	start := 0
	for _, b := range bkps {
		sum := 0.0
		for _, v := range values[start:b] {
			sum += v
		}
		out = append(out, Segment{Start: unixTime(times[start]), End: unixTime(times[b-1]),
			Mean: sum / float64(b-start), Points: b - start})
		start = b
	}
	return out
}

// alignDown rounds t down to a multiple of step since the Unix epoch.
func alignDown(t time.Time, step time.Duration) time.Time {
	ms, st := t.UnixMilli(), step.Milliseconds()
	return time.UnixMilli(ms - ((ms%st)+st)%st)
}

func unixTime(sec float64) time.Time {
	return time.UnixMilli(int64(math.Round(sec * 1000))).UTC()
}
