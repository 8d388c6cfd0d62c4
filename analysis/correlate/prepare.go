package correlate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/gaffer-sre/gaffer/analysis/correlate/query"
	"github.com/gaffer-sre/gaffer/analysis/correlate/rank"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// BadRequestError is a request that cannot be analysed.
type BadRequestError struct{ Err error }

func (e *BadRequestError) Error() string { return e.Err.Error() }
func (e *BadRequestError) Unwrap() error { return e.Err }

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Analyze checks req, records its report and reads its series in the
// background (in this process, which must hold the metrics store); it
// returns the report's ID at once. by names who asked.
func (s *Service) Analyze(ctx context.Context, req Request, by string) (string, error) {
	res, err := resolveRequest(req, s.set.ShardSize, s.deps.Clock()())
	if err != nil {
		return "", &BadRequestError{err}
	}
	if _, err := s.source(); err != nil {
		return "", fmt.Errorf("analysis: %w", err)
	}
	b, err := json.Marshal(res.Request)
	if err != nil {
		return "", err
	}
	id := newID()
	var ruleID, fp string
	if req.Alert != nil {
		ruleID, fp = req.Alert.RuleID, req.Alert.Fingerprint
	}
	_, err = s.st.ExecContext(ctx, `INSERT INTO analysis_reports (id, status, request, error, rule_id, alert_fingerprint, title,
		shards, shards_done, candidates, summary, created_by, created_at) VALUES (?, ?, ?, '', ?, ?, ?, 0, 0, 0, '', ?, ?)`,
		id, StatusPreparing, string(b), ruleID, fp, res.Title, by, s.now().UnixMilli())
	if err != nil {
		return "", fmt.Errorf("record analysis: %w", err)
	}
	s.goPrepare(id)
	return id, nil
}

// goPrepare reads a report's series in the background.
func (s *Service) goPrepare(id string) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := s.prepare(s.ctx, id)
		if err != nil && s.ctx.Err() == nil {
			s.fail(context.Background(), id, err)
		}
	}()
}

// loadRequest reads a report's request and resolves it again.
func (s *Service) loadRequest(ctx context.Context, q querier, id string) (resolved, error) {
	var b string
	if err := q.QueryRowContext(ctx, "SELECT request FROM analysis_reports WHERE id = ?", id).Scan(&b); err != nil {
		return resolved{}, fmt.Errorf("report %s: %w", id, err)
	}
	var req Request
	if err := json.Unmarshal([]byte(b), &req); err != nil {
		return resolved{}, fmt.Errorf("report %s: decode request: %w", id, err)
	}
	return resolveRequest(req, s.set.ShardSize, s.deps.Clock()())
}

// prepare reads the target and the candidates, stores them in shards and
// starts the shards (as jobs, or here in local mode).
func (s *Service) prepare(ctx context.Context, id string) error {
	req, err := s.loadRequest(ctx, s.st, id)
	if err != nil {
		return err
	}
	src, err := s.source()
	if err != nil {
		return err
	}
	target, err := s.readTarget(ctx, src, req)
	if err != nil {
		return err
	}
	if _, err := rank.NewTarget(target.Values, req.window, req.Params); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	cands, err := src.Fetch(ctx, req.Candidates.Engine, req.Candidates.Query, req.grid, false)
	if err != nil {
		return fmt.Errorf("candidates: %w", err)
	}
	kept := cands[:0]
	for _, c := range cands {
		if !slices.Equal(c.Values, target.Values) && !allNaN(c.Values) {
			kept = append(kept, c)
		}
	}
	excluded := len(cands) - len(kept)
	if len(kept) > s.set.MaxCandidates {
		return fmt.Errorf("candidates: %d series, more than --analysis-max-candidates (%d); narrow the query", len(kept), s.set.MaxCandidates)
	}
	// The same series in the same order, whatever the store returns.
	keys := make([]string, len(kept))
	for i, c := range kept {
		keys[i] = query.LabelString(c.Labels)
	}
	order := make([]int, len(kept))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return compareStrings(keys[a], keys[b]) })
	sorted := make([]query.Series, len(kept))
	for i, o := range order {
		sorted[i] = kept[o]
	}
	return s.store(ctx, id, req, target, sorted, excluded)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func allNaN(v []float64) bool {
	for _, x := range v {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}

// readTarget finds the one series of the target query.
func (s *Service) readTarget(ctx context.Context, src query.Source, req resolved) (query.Series, error) {
	ss, err := src.Fetch(ctx, req.Target.Engine, req.Target.Query, req.grid, false)
	if err != nil {
		return query.Series{}, fmt.Errorf("target: %w", err)
	}
	var match []query.Series
	for _, x := range ss {
		if includes(x.Labels, req.Target.Labels) {
			match = append(match, x)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return query.Series{}, errors.New("target: the query returns no series (with the labels given)")
	}
	return query.Series{}, fmt.Errorf("target: the query returns %d series; narrow it, or give the labels of one", len(match))
}

// includes reports whether ls has every label of want (ignoring the
// metric name, which PromQL drops from computed series).
func includes(ls, want map[string]string) bool {
	for k, v := range want {
		if k == "__name__" {
			continue
		}
		if ls[k] != v {
			return false
		}
	}
	return true
}

type shardArgs struct {
	ReportID string `json:"report_id"`
	Shard    int    `json:"shard"`
}

// store writes the series in shards and starts them, in one transaction.
func (s *Service) store(ctx context.Context, id string, req resolved, target query.Series, cands []query.Series, excluded int) error {
	nShards := (len(cands) + req.ShardSize - 1) / req.ShardSize
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := insertInput(ctx, tx, id, -1, []query.Series{target}); err != nil {
			return err
		}
		for k := range nShards {
			part := cands[k*req.ShardSize : min((k+1)*req.ShardSize, len(cands))]
			if err := insertInput(ctx, tx, id, k, part); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO analysis_shards (report_id, shard, done, worker) VALUES (?, ?, 0, '')", id, k); err != nil {
				return fmt.Errorf("record shard: %w", err)
			}
			if req.Mode == ModeJobs {
				if _, err := s.jobs.EnqueueTx(ctx, tx, ShardJob, shardArgs{id, k}, nil); err != nil {
					return err
				}
			}
		}
		summary, _ := json.Marshal(Summary{Excluded: excluded})
		res, err := tx.ExecContext(ctx, "UPDATE analysis_reports SET status = ?, shards = ?, candidates = ?, summary = ? WHERE id = ? AND status = ?",
			StatusRunning, nShards, len(cands), string(summary), id, StatusPreparing)
		if err != nil {
			return fmt.Errorf("start analysis: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("analysis %s is no longer being prepared", id)
		}
		if nShards == 0 && req.Mode == ModeJobs {
			_, err = s.jobs.EnqueueTx(ctx, tx, FinalizeJob, shardArgs{ReportID: id}, nil)
		}
		return err
	})
	if err != nil || req.Mode != ModeLocal {
		return err
	}
	for k := range nShards {
		if _, err := s.scoreShard(ctx, id, k); err != nil {
			return err
		}
	}
	return s.finalize(ctx, id)
}

// insertInput stores one shard's series.
func insertInput(ctx context.Context, tx *store.Tx, id string, shard int, ss []query.Series) error {
	labels := make([]map[string]string, len(ss))
	rows := make([][]float64, len(ss))
	for i, x := range ss {
		labels[i], rows[i] = maps.Clone(x.Labels), x.Values
	}
	lb, err := json.Marshal(labels)
	if err != nil {
		return err
	}
	data, err := encodeSeries(rows)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO analysis_inputs (report_id, shard, labels, data) VALUES (?, ?, ?, ?)",
		id, shard, string(lb), data); err != nil {
		return fmt.Errorf("store shard %d: %w", shard, err)
	}
	return nil
}

// readInput loads one shard's series.
func readInput(ctx context.Context, q querier, id string, shard, n int) ([]query.Series, error) {
	var lb string
	var data []byte
	err := q.QueryRowContext(ctx, "SELECT labels, data FROM analysis_inputs WHERE report_id = ? AND shard = ?", id, shard).Scan(&lb, &data)
	if err != nil {
		return nil, fmt.Errorf("report %s shard %d: %w", id, shard, err)
	}
	var labels []map[string]string
	if err := json.Unmarshal([]byte(lb), &labels); err != nil {
		return nil, fmt.Errorf("report %s shard %d: %w", id, shard, err)
	}
	rows, err := decodeSeries(data, len(labels), n)
	if err != nil {
		return nil, err
	}
	out := make([]query.Series, len(labels))
	for i := range out {
		out[i] = query.Series{Labels: labels[i], Values: rows[i]}
	}
	return out, nil
}
