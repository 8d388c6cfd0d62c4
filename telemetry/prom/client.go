package prom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Client calls a Prometheus-compatible HTTP API: Gaffer's own, Prometheus,
// or a distributed store (Mimir, VictoriaMetrics, Thanos).
type Client struct {
	// URL is the base URL, e.g. http://127.0.0.1:9090.
	URL string
	// Token, when set, is sent as a bearer token.
	Token string
	// HTTP is the client to use; http.DefaultClient if nil.
	HTTP *http.Client
}

// APIError is an error answer of a Prometheus API.
type APIError struct {
	Status    int
	ErrorType string
	Message   string
}

// Error is the server's message and the HTTP status; never a raw body.
func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
}

// bodyError is the APIError of an answer that is not Prometheus's
// envelope: Gaffer's error envelope ({"error": {"code", "message"}}, its
// code becoming ErrorType), another JSON error body, or short plain text.
func bodyError(status int, body []byte) *APIError {
	code, msg := cli.ErrorMessage(body)
	return &APIError{Status: status, ErrorType: code, Message: msg}
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Write sends series with remote write 1.0.
func (c *Client) Write(ctx context.Context, series []TimeSeries) error {
	return c.WriteRaw(ctx, snappy.Encode(nil, AppendWriteRequest(nil, series)))
}

// WriteRaw sends an already snappy-compressed WriteRequest.
func (c *Client) WriteRaw(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.URL, "/")+"/api/v1/write", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build remote-write request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	c.auth(req)
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("remote write to %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return bodyError(resp.StatusCode, b)
	}
	return nil
}

func (c *Client) auth(req *http.Request) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
}

// FormatTime formats t as the API's unix seconds with milliseconds.
func FormatTime(t time.Time) string {
	return string(appendTimestamp(nil, t.UnixMilli()))
}

// Query evaluates expr at t.
func (c *Client) Query(ctx context.Context, expr string, t time.Time) (Result, error) {
	return c.get(ctx, "/api/v1/query", url.Values{"query": {expr}, "time": {FormatTime(t)}})
}

// QueryRange evaluates expr from start to end every step.
func (c *Client) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (Result, error) {
	return c.get(ctx, "/api/v1/query_range", url.Values{"query": {expr}, "start": {FormatTime(start)},
		"end": {FormatTime(end)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}})
}

func (c *Client) get(ctx context.Context, path string, q url.Values) (Result, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	env, err := c.callEnv(ctx, path, q, &data)
	if err != nil {
		return Result{}, err
	}
	res := Result{Type: data.ResultType, Warnings: env.Warnings, Infos: env.Infos}
	if err := decodeResult(&res, data.Result); err != nil {
		return Result{}, fmt.Errorf("decode %s answer: %w", path, err)
	}
	return res, nil
}

type envelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Infos     []string        `json:"infos"`
}

func (c *Client) callEnv(ctx context.Context, path string, q url.Values, out any) (envelope, error) {
	var env envelope
	// GET, not POST: servers audit POSTs (Gaffer does), and queries change
	// nothing.
	u := strings.TrimRight(c.URL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return env, fmt.Errorf("build request: %w", err)
	}
	c.auth(req)
	resp, err := c.http().Do(req)
	if err != nil {
		return env, fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return env, fmt.Errorf("%s: read answer: %w", path, err)
	}
	if err := json.Unmarshal(b, &env); err != nil || env.Status == "" {
		return env, bodyError(resp.StatusCode, b)
	}
	if env.Status != "success" {
		return env, &APIError{Status: resp.StatusCode, ErrorType: env.ErrorType, Message: env.Error}
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return env, fmt.Errorf("decode %s answer: %w", path, err)
		}
	}
	return env, nil
}

func decodeResult(res *Result, raw json.RawMessage) error {
	type jsonSeries struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
		Value  [2]any            `json:"value"`
	}
	switch res.Type {
	case "matrix", "vector":
		var ss []jsonSeries
		if err := json.Unmarshal(raw, &ss); err != nil {
			return err
		}
		for _, s := range ss {
			vals := s.Values
			if res.Type == "vector" {
				vals = [][2]any{s.Value}
			}
			pts := make([]Point, 0, len(vals))
			for _, v := range vals {
				p, err := decodePoint(v)
				if err != nil {
					return err
				}
				pts = append(pts, p)
			}
			res.Series = append(res.Series, Series{Labels: tsdb.FromMap(s.Metric), Points: pts})
		}
	case "scalar", "string":
		var v [2]any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if res.Type == "string" {
			res.String, _ = v[1].(string)
			return nil
		}
		p, err := decodePoint(v)
		if err != nil {
			return err
		}
		res.Series = []Series{{Labels: tsdb.Labels{}, Points: []Point{p}}}
	default:
		return fmt.Errorf("unknown resultType %q", res.Type)
	}
	sort.Slice(res.Series, func(i, j int) bool { return tsdb.Compare(res.Series[i].Labels, res.Series[j].Labels) < 0 })
	return nil
}

func decodePoint(v [2]any) (Point, error) {
	ts, ok := v[0].(float64)
	if !ok {
		return Point{}, fmt.Errorf("timestamp %v is not a number", v[0])
	}
	s, ok := v[1].(string)
	if !ok {
		return Point{}, fmt.Errorf("value %v is not a string", v[1])
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Point{}, fmt.Errorf("value %q: %w", s, err)
	}
	return Point{T: int64(mathRound(ts * 1000)), V: f}, nil
}

func mathRound(f float64) float64 {
	if f < 0 {
		return -mathRound(-f)
	}
	return float64(int64(f + 0.5))
}
