package changepoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
	"github.com/gaffer-sre/gaffer/analysis/changepoint/signalio"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// maxChartPoints bounds the points drawn per chart; longer signals are
// thinned for display only.
const maxChartPoints = 5000

// pageData is what templates/changepoint.html renders.
type pageData struct {
	// Signal and Series are the two forms, with what was submitted.
	Signal, Series form
	// Source is "signal" or "series": the form that produced Results.
	Source  string
	Error   string
	Results []chartResult
	Elapsed string
	// Example is a series query over `gaffer serve --demo`'s metrics.
	Example string
}

// demoExample is the web error ratio in us-east-1 over three days of the
// demo metrics, which hold a 20-minute incident there.
var demoExample = "/changepoint?" + url.Values{
	"q": {`sum(rate(http_requests_total{job="web",region="us-east-1",code="500"}[5m]))` +
		` / sum(rate(http_requests_total{job="web",region="us-east-1"}[5m]))`},
	"s": {"e-3d"}, "step": {"5m"}}.Encode()

// form is one of the page's forms: an id prefix and its values.
type form struct {
	Prefix  string
	Values  url.Values
	Methods []string
	Costs   []string
}

// chartResult is one segmented signal: its chart and breakpoint table.
type chartResult struct {
	Title string
	Chart string // JSON for assets/changepoint.js
	Pen   string
	Error string
	Rows  []segmentRow
}

type segmentRow struct {
	Index       int
	Start, End  string
	Bkp, Points int
	Mean        string
}

// chartData is the chart's JSON: x values, one y array per dimension, and
// the x of the first point of every segment.
type chartData struct {
	Time   bool        `json:"time"`
	X      []float64   `json:"x"`
	Y      [][]float64 `json:"y"`
	Labels []string    `json:"labels"`
	Starts []float64   `json:"starts"`
}

func newPageData() pageData {
	methods, costs := detect.MethodNames(), detect.CostNames()
	d := pageData{Example: demoExample,
		Signal: form{Prefix: "sig", Values: url.Values{}, Methods: methods, Costs: costs},
		Series: form{Prefix: "ser", Values: url.Values{}, Methods: methods, Costs: costs}}
	for _, f := range []*form{&d.Signal, &d.Series} {
		f.Values.Set("method", "pelt")
		f.Values.Set("cost", "l2")
	}
	d.Signal.Values.Set("pen", "10")
	d.Series.Values.Set("s", defaultStart)
	d.Series.Values.Set("e", defaultEnd)
	return d
}

// pageGet shows the forms and, when q is given, segments the series.
func (s *Service) pageGet(w http.ResponseWriter, r *http.Request) error {
	d := newPageData()
	q := r.URL.Query()
	if q.Get("q") == "" {
		return s.page.Render(w, r, http.StatusOK, "Change points", d)
	}
	d.Source = "series"
	for k, vs := range q {
		if len(vs) > 0 && vs[0] != "" {
			d.Series.Values[k] = vs
		}
	}
	status := http.StatusOK
	sq, err := parseSeriesQuery(q, s.now())
	if err == nil {
		var resp *SeriesResponse
		if resp, err = s.segmentSeries(r.Context(), sq); err == nil {
			d.Elapsed = time.Duration(resp.ElapsedSeconds * float64(time.Second)).String()
			for _, sr := range resp.Series {
				d.Results = append(d.Results, seriesChart(sr, sq.q))
			}
			if len(resp.Series) == 0 {
				d.Error = "No series match " + sq.q + " in this time range."
			}
		}
	}
	if err != nil {
		status, d.Error = pageError(err)
	}
	return s.page.Render(w, r, status, "Change points", d)
}

// pagePost segments a pasted or uploaded signal.
func (s *Service) pagePost(w http.ResponseWriter, r *http.Request) error {
	d := newPageData()
	d.Source = "signal"
	status := http.StatusOK
	text, err := formSignal(w, r)
	if err == nil {
		d.Signal.Values = r.PostForm
		err = s.pageDetect(r, text, &d)
	}
	if err != nil {
		status, d.Error = pageError(err)
	}
	return s.page.Render(w, r, status, "Change points", d)
}

func (s *Service) pageDetect(r *http.Request, text []byte, d *pageData) error {
	p, err := paramsFromValues(r.PostForm)
	if err == nil {
		err = checkParams(p)
	}
	if err != nil {
		return httpapi.BadRequest("%v", err)
	}
	sig, err := signalio.Parse(text)
	if err != nil {
		return httpapi.BadRequest("signal: %v", err)
	}
	if err := checkSize(sig.Len(), sig.Dims()); err != nil {
		return err
	}
	httpapi.SetAuditDetail(r, fmt.Sprintf("%s/%s on %d x %d", p.Method, p.Cost, sig.Len(), sig.Dims()))
	bkps, took, err := s.detect(r.Context(), sig, p)
	if err != nil {
		return err
	}
	d.Elapsed = took.String()
	d.Results = append(d.Results, signalChart(sig, bkps))
	return nil
}

// formSignal returns the uploaded file, or else the pasted text.
func formSignal(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.MultipartForm == nil && r.PostForm == nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, httpapi.BadRequest("form: %v", err)
	}
	if f, hdr, err := r.FormFile("file"); err == nil {
		defer f.Close()
		if hdr.Size > maxBodyBytes {
			return nil, httpapi.BadRequest("file: %s is %d bytes, more than %d", hdr.Filename, hdr.Size, maxBodyBytes)
		}
		b, err := io.ReadAll(f)
		if err != nil {
			return nil, httpapi.BadRequest("file: %v", err)
		}
		if len(strings.TrimSpace(string(b))) > 0 {
			return b, nil
		}
	}
	text := r.PostFormValue("signal")
	if strings.TrimSpace(text) == "" {
		return nil, httpapi.BadRequest("signal: paste a signal or choose a file")
	}
	return []byte(text), nil
}

// pageError turns an error into a status and a message for the page.
func pageError(err error) (int, string) {
	var he *httpapi.Error
	if errors.As(err, &he) {
		return he.Status, he.Message
	}
	return http.StatusBadRequest, err.Error()
}

func signalChart(sig *detect.Signal, bkps []int) chartResult {
	n, dims := sig.Len(), sig.Dims()
	stride := (n + maxChartPoints - 1) / maxChartPoints
	c := chartData{Y: make([][]float64, dims)}
	for i := 0; i < n; i += stride {
		c.X = append(c.X, float64(i))
		for j := range dims {
			c.Y[j] = append(c.Y[j], sig.At(i, j))
		}
	}
	for j := range dims {
		c.Labels = append(c.Labels, fmt.Sprintf("dimension %d", j))
	}
	res := chartResult{Title: fmt.Sprintf("%d samples", n)}
	if dims > 1 {
		res.Title += fmt.Sprintf(" × %d dimensions", dims)
	}
	start := 0
	for k, b := range bkps {
		c.Starts = append(c.Starts, float64(start))
		means := make([]string, dims)
		for j := range dims {
			sum := 0.0
			for i := start; i < b; i++ {
				sum += sig.At(i, j)
			}
			means[j] = fmt.Sprintf("%.6g", sum/float64(b-start))
		}
		res.Rows = append(res.Rows, segmentRow{Index: k + 1, Start: fmt.Sprint(start), End: fmt.Sprint(b - 1),
			Bkp: b, Points: b - start, Mean: strings.Join(means, ", ")})
		start = b
	}
	res.Chart = chartJSON(c)
	return res
}

// seriesChart draws one series of query q (its title when it has no
// labels, as the result of sum() has none).
func seriesChart(sr SeriesResult, q string) chartResult {
	res := chartResult{Title: labelsString(sr.Labels), Error: sr.Error}
	if len(sr.Labels) == 0 {
		res.Title = q
	}
	if sr.Pen != nil {
		res.Pen = fmt.Sprintf("%.6g", *sr.Pen)
	}
	stride := (len(sr.Times) + maxChartPoints - 1) / maxChartPoints
	c := chartData{Time: true, Y: [][]float64{nil}, Labels: []string{res.Title}}
	for i := 0; i < len(sr.Times); i += max(stride, 1) {
		c.X = append(c.X, sr.Times[i])
		c.Y[0] = append(c.Y[0], sr.Values[i])
	}
	for k, seg := range sr.Segments {
		c.Starts = append(c.Starts, float64(seg.Start.UnixMilli())/1000)
		res.Rows = append(res.Rows, segmentRow{Index: k + 1, Start: seg.Start.Format(time.RFC3339), End: seg.End.Format(time.RFC3339),
			Bkp: sr.Bkps[k], Points: seg.Points, Mean: fmt.Sprintf("%.6g", seg.Mean)})
	}
	res.Chart = chartJSON(c)
	return res
}

func chartJSON(c chartData) string {
	b, err := json.Marshal(c)
	if err != nil {
		return "{}" // the values are finite: cannot happen
	}
	return string(b)
}

// labelsString renders labels as PromQL does: name{k="v", ...}.
func labelsString(ls map[string]string) string {
	var parts []string
	for k, v := range ls {
		if k != "__name__" {
			parts = append(parts, fmt.Sprintf("%s=%q", k, v))
		}
	}
	slices.Sort(parts)
	return ls["__name__"] + "{" + strings.Join(parts, ", ") + "}"
}
