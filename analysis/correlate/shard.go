package correlate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate/query"
	"github.com/gaffer-sre/gaffer/analysis/correlate/rank"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

func (s *Service) handleShard(ctx context.Context, _ *jobs.Job, a shardArgs) error {
	last, err := s.scoreShard(ctx, a.ReportID, a.Shard)
	if errors.Is(err, sql.ErrNoRows) {
		return jobs.Cancel(fmt.Errorf("report %s shard %d: gone", a.ReportID, a.Shard))
	}
	if err == nil && last {
		s.log.Debug("last shard scored", "report", a.ReportID)
	}
	return err
}

func (s *Service) handleFinalize(ctx context.Context, _ *jobs.Job, a shardArgs) error {
	err := s.finalize(ctx, a.ReportID)
	if errors.Is(err, sql.ErrNoRows) {
		return jobs.Cancel(fmt.Errorf("report %s: gone", a.ReportID))
	}
	return err
}

// scoreShard scores one shard's candidates and records them with the
// shard's completion in one transaction, so a shard retried after its
// worker died is either redone in full or, done already, skipped: the
// ranking never has a candidate twice. It reports whether this was the
// last shard (then the finalize job is enqueued in the same transaction,
// in jobs mode).
func (s *Service) scoreShard(ctx context.Context, id string, shard int) (bool, error) {
	// A retry of a shard recorded before its worker died has nothing to
	// do: the report may be complete and its inputs gone already.
	var done bool
	if err := s.st.QueryRowContext(ctx, "SELECT done FROM analysis_shards WHERE report_id = ? AND shard = ?", id, shard).Scan(&done); err != nil {
		return false, err
	}
	if done {
		return false, nil
	}
	req, err := s.loadRequest(ctx, s.st, id)
	if err != nil {
		return false, err
	}
	n := req.grid.N
	tgt, err := readInput(ctx, s.st, id, -1, n)
	if err != nil {
		return false, err
	}
	cands, err := readInput(ctx, s.st, id, shard, n)
	if err != nil {
		return false, err
	}
	t, err := rank.NewTarget(tgt[0].Values, req.window, req.Params)
	if err != nil {
		return false, err
	}
	values := make([][]float64, len(cands))
	for i, c := range cands {
		values[i] = c.Values
	}
	ranked, err := rank.Rank(ctx, t, values, 1)
	if err != nil {
		return false, err
	}
	if d := s.set.ShardDelay; d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	last := false
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE analysis_shards SET done = 1, worker = ?, completed_at = ? WHERE report_id = ? AND shard = ? AND done = 0",
			s.worker, s.now().UnixMilli(), id, shard)
		if err != nil {
			return fmt.Errorf("complete shard: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // done already, by an earlier attempt
		}
		for _, r := range ranked {
			lb, _ := json.Marshal(cands[r.Index].Labels)
			fb, err := json.Marshal(r.Features)
			if err != nil { // a bug, not a passing fault: retrying cannot help
				return jobs.Cancel(fmt.Errorf("encode the features of candidate %d: %w", r.Index, err))
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO analysis_results (report_id, shard, candidate, labels, score, features)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, id, shard, r.Index, string(lb), r.Score, string(fb)); err != nil {
				return fmt.Errorf("record result: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE analysis_reports SET shards_done = shards_done + 1 WHERE id = ?", id); err != nil {
			return fmt.Errorf("count shard: %w", err)
		}
		var done, total int
		if err := tx.QueryRowContext(ctx, "SELECT shards_done, shards FROM analysis_reports WHERE id = ?", id).Scan(&done, &total); err != nil {
			return err
		}
		last = done == total
		if last && req.Mode == ModeJobs {
			_, err = s.jobs.EnqueueTx(ctx, tx, FinalizeJob, shardArgs{ReportID: id}, nil)
		}
		return err
	})
	return last, err
}

// result is one stored candidate score.
type result struct {
	shard, candidate int
	labels           map[string]string
	key              string
	score            float64
	features         rank.Features
}

// results reads every candidate's score, best first, ties by labels.
func (s *Service) results(ctx context.Context, q querier, id string) ([]result, error) {
	rows, err := q.QueryContext(ctx, "SELECT shard, candidate, labels, score, features FROM analysis_results WHERE report_id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	defer rows.Close()
	var out []result
	for rows.Next() {
		var r result
		var lb, fb string
		if err := rows.Scan(&r.shard, &r.candidate, &lb, &r.score, &fb); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(lb), &r.labels); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fb), &r.features); err != nil {
			return nil, err
		}
		r.key = query.LabelString(r.labels)
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b result) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return compareStrings(a.key, b.key)
	})
	return out, rows.Err()
}

// finalize merges the shards' scores into the report: the best
// candidates explained, with their series, and the first that moved.
func (s *Service) finalize(ctx context.Context, id string) error {
	req, err := s.loadRequest(ctx, s.st, id)
	if err != nil {
		return err
	}
	var status, prior string
	if err := s.st.QueryRowContext(ctx, "SELECT status, summary FROM analysis_reports WHERE id = ?", id).Scan(&status, &prior); err != nil {
		return err
	}
	if status != StatusRunning {
		return nil // finalized already
	}
	n := req.grid.N
	tgt, err := readInput(ctx, s.st, id, -1, n)
	if err != nil {
		return err
	}
	t, err := rank.NewTarget(tgt[0].Values, req.window, req.Params)
	if err != nil {
		return err
	}
	all, err := s.results(ctx, s.st, id)
	if err != nil {
		return err
	}
	var sum Summary
	json.Unmarshal([]byte(prior), &sum)
	g := req.grid
	at := func(i int) time.Time { return g.Start.Add(time.Duration(i) * g.Step).UTC() }
	sum.Times, sum.StepSeconds = g.Times(), g.Step.Seconds()
	sum.Target = Target{Labels: tgt[0].Labels, Values: tgt[0].Values, Onset: at(t.Onset), From: at(t.From), Change: t.Change, ChangeZ: t.ChangeZ}
	shards := map[int][]query.Series{}
	sum.Results = []Result{}
	top := all[:min(req.Top, len(all))]
	ranked := make([]rank.Result, len(top))
	for i, r := range top {
		ranked[i] = rank.Result{Index: i, Features: r.features}
	}
	first := rank.FirstMover(ranked, len(ranked))
	for i, r := range top {
		if shards[r.shard] == nil {
			if shards[r.shard], err = readInput(ctx, s.st, id, r.shard, n); err != nil {
				return err
			}
		}
		vals := shards[r.shard][r.candidate].Values
		ex, err := t.Explain(ctx, vals, r.features, g.Step)
		if err != nil {
			return err
		}
		res := Result{Rank: i + 1, Labels: r.labels, Score: r.score, Features: r.features, Explanation: ex, Values: vals}
		if r.features.ChangePoint > 0 {
			m := at(r.features.Change)
			res.MovedAt = &m
		}
		if i == first {
			m := at(r.features.Change)
			sum.FirstMover = &Mover{Labels: r.labels, At: m, Lead: sum.Target.Onset.Sub(m).String()}
		}
		sum.Results = append(sum.Results, res)
	}
	workers, err := s.shardWorkers(ctx, id)
	if err != nil {
		return err
	}
	sum.Workers = workers
	b, err := json.Marshal(sum)
	if err != nil {
		return jobs.Cancel(fmt.Errorf("encode summary: %w", err)) // retrying cannot help
	}
	completed := false
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE analysis_reports SET status = ?, summary = ?, completed_at = ? WHERE id = ? AND status = ?",
			StatusComplete, string(b), s.now().UnixMilli(), id, StatusRunning)
		if err != nil {
			return fmt.Errorf("complete report: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		completed = true
		_, err = tx.ExecContext(ctx, "DELETE FROM analysis_inputs WHERE report_id = ?", id)
		return err
	})
	if err != nil || !completed {
		return err
	}
	s.publishCompleted(ctx, id, req, sum)
	return nil
}

func (s *Service) shardWorkers(ctx context.Context, id string) ([]string, error) {
	rows, err := s.st.QueryContext(ctx, "SELECT DISTINCT worker FROM analysis_shards WHERE report_id = ? ORDER BY worker", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// publishCompleted tells the event platform a report is ready (events
// rules may route it); a failure is logged, the report stands.
func (s *Service) publishCompleted(ctx context.Context, id string, req resolved, sum Summary) {
	if s.bus == nil {
		return
	}
	top := []map[string]any{}
	for _, r := range sum.Results[:min(5, len(sum.Results))] {
		top = append(top, map[string]any{"labels": r.Labels, "score": r.Score})
	}
	data, _ := json.Marshal(map[string]any{"report_id": id, "title": req.Title, "alert": req.Alert, "top": top,
		"first_mover": sum.FirstMover, "url": "/analysis/reports/" + id})
	ev := &bus.Event{ID: "report-" + id, Type: CompletedEvent, Source: "/gaffer/analysis", Subject: id, Data: data}
	if _, err := s.bus.Publish(ctx, ev); err != nil {
		s.log.Warn("publish the report's completion", "report", id, "error", err)
	}
}
