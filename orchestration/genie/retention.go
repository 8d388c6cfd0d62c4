package genie

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// cleanupKind is the periodic job that removes the directories and
// archives of jobs that ended longer ago than --genie-retention.
const cleanupKind = "genie.cleanup"

// cleanupBatch bounds the jobs one cleanup handles; the next run takes
// the rest.
const cleanupBatch = 1000

func (s *Service) registerCleanup() {
	jobs.HandleFunc(s.jobs, cleanupKind, jobs.KindOptions{MaxAttempts: 1, Timeout: 5 * time.Minute},
		func(ctx context.Context, _ *jobs.Job, _ struct{}) error { return s.cleanup(ctx) })
	if s.set.Retention > 0 {
		if err := s.jobs.Every(cleanupKind, 10*time.Minute, struct{}{}, true); err != nil {
			s.log.Error("schedule the removal of old job directories", "error", err)
		}
	}
}

// cleanup removes the working directories and archives of jobs that
// ended before the retention period; the jobs' records stay.
func (s *Service) cleanup(ctx context.Context) error {
	if s.set.Retention <= 0 {
		return nil
	}
	cutoff := s.now().Add(-s.set.Retention).UnixMilli()
	rows, err := s.db.QueryContext(ctx, `SELECT id, dir, archive FROM genie_jobs WHERE finished_at < ? AND (dir <> '' OR archive <> '')
		LIMIT ?`, cutoff, cleanupBatch)
	if err != nil {
		return err
	}
	type old struct{ id, dir, archive string }
	var list []old
	for rows.Next() {
		var o old
		if err := rows.Scan(&o.id, &o.dir, &o.archive); err != nil {
			rows.Close()
			return err
		}
		list = append(list, o)
	}
	rows.Close()
	for _, o := range list {
		// Only what Gaffer made for this job: a directory named by its
		// id, an archive named by its id.
		if o.dir != "" && filepath.Base(o.dir) == o.id {
			if err := os.RemoveAll(o.dir); err != nil {
				s.log.Warn("remove an old job's directory", "job", o.id, "error", err)
				continue
			}
		}
		if o.archive != "" && filepath.Base(o.archive) == o.id+".tar.gz" {
			if err := os.Remove(o.archive); err != nil && !os.IsNotExist(err) {
				s.log.Warn("remove an old job's archive", "job", o.id, "error", err)
				continue
			}
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE genie_jobs SET dir = '', archive = '' WHERE id = ?`, o.id); err != nil {
			return err
		}
	}
	if len(list) > 0 {
		s.log.Info("removed the directories of old jobs", "jobs", len(list), "retention", s.set.Retention)
	}
	return nil
}
