package certs

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// Job kinds of the certificate manager.
const (
	// JobCheck sends expiry notifications and enqueues due rotations; it
	// runs every --certs-check-interval.
	JobCheck = "certs.check"
	// JobRotate rotates one certificate.
	JobRotate = "certs.rotate"
	// JobBulk reissues or revokes every certificate matching a filter.
	JobBulk = "certs.bulk"
	// JobScan discovers certificates on TLS endpoints.
	JobScan = "certs.scan"
)

type rotateArgs struct {
	ID int64 `json:"id"`
}

// BulkRequest reissues or revokes every certificate matching Filter.
type BulkRequest struct {
	// Action is "reissue" or "revoke".
	Action string `json:"action"`
	// Reason is the revocation reason.
	Reason string     `json:"reason,omitempty"`
	Filter BulkFilter `json:"filter"`
}

// BulkFilter selects the certificates of a bulk job (as the list's query
// parameters do); at least one field must be set.
type BulkFilter struct {
	Expiring  string `json:"expiring,omitempty"`
	Owner     string `json:"owner,omitempty"`
	Team      string `json:"team,omitempty"`
	Authority string `json:"authority,omitempty"`
	Source    string `json:"source,omitempty"`
	Domain    string `json:"domain,omitempty"`
	Status    string `json:"status,omitempty"`
	Query     string `json:"q,omitempty"`
}

// BulkResponse reports an enqueued bulk job.
type BulkResponse struct {
	JobID   int64 `json:"job_id"`
	Matched int   `json:"matched"`
}

func (b BulkRequest) filter() (Filter, error) {
	f := Filter{Owner: b.Filter.Owner, Team: b.Filter.Team, Authority: b.Filter.Authority, Source: b.Filter.Source,
		Domain: b.Filter.Domain, Status: b.Filter.Status, Query: b.Filter.Query}
	if b.Filter.Expiring != "" {
		d, err := ParseDuration(b.Filter.Expiring)
		if err != nil || d <= 0 {
			return f, badInput("filter.expiring %q: want a duration such as 30d", b.Filter.Expiring)
		}
		f.ExpiringWithin = d
	}
	if b.Filter == (BulkFilter{}) {
		return f, badInput("a bulk %s needs a filter (owner, team, authority, domain, expiring, ...)", b.Action)
	}
	switch b.Action {
	case "reissue":
	case "revoke":
		if _, err := ReasonCode(b.Reason); err != nil {
			return f, err
		}
	default:
		return f, badInput("bulk action %q: want reissue or revoke", b.Action)
	}
	return f, nil
}

func (s *Service) registerJobs() error {
	q := s.deps.Jobs
	if q == nil {
		return nil
	}
	q.Handle(JobCheck, func(ctx context.Context, job *jobs.Job) error {
		_, err := s.check(ctx)
		return err
	}, jobs.KindOptions{MaxAttempts: 3})
	jobs.HandleFunc(q, JobRotate, jobs.KindOptions{MaxAttempts: 5},
		func(ctx context.Context, job *jobs.Job, a rotateArgs) error {
			_, err := s.mgr.Rotate(ctx, a.ID)
			return err
		})
	jobs.HandleFunc(q, JobBulk, jobs.KindOptions{MaxAttempts: 3, Timeout: -1},
		func(ctx context.Context, job *jobs.Job, b BulkRequest) error {
			return s.mgr.runBulk(ctx, b, "job "+strconv.FormatInt(job.ID, 10))
		})
	jobs.HandleFunc(q, JobScan, jobs.KindOptions{MaxAttempts: 1, Timeout: -1},
		func(ctx context.Context, job *jobs.Job, r ScanRequest) error {
			res, err := s.mgr.Scan(ctx, r)
			if err == nil {
				s.mgr.record(ctx, "certs.scan.complete", fmt.Sprintf("job:%d", job.ID), audit.OutcomeSuccess,
					fmt.Sprintf("probed %d endpoints, found %d certificates", res.Probed, res.Found))
			}
			return err
		})
	if len(s.settings.ScanTargets) > 0 && s.settings.ScanInterval > 0 {
		req := ScanRequest{Targets: s.settings.ScanTargets, Ports: s.settings.ScanPorts}
		if _, err := s.mgr.planScan(req); err != nil {
			return fmt.Errorf("--certs-scan-targets: %w", err)
		}
		if err := q.Every(JobScan, s.settings.ScanInterval, req, true); err != nil {
			return err
		}
	}
	if s.settings.CheckInterval > 0 {
		return q.Every(JobCheck, s.settings.CheckInterval, struct{}{}, true)
	}
	return nil
}

// CheckResult reports one run of the periodic check.
type CheckResult struct {
	Notified int     `json:"notified"`
	Rotating []int64 `json:"rotating"`
}

// check sends due notifications and enqueues due rotations.
func (s *Service) check(ctx context.Context) (CheckResult, error) {
	var res CheckResult
	n, err := s.mgr.Notify(ctx)
	res.Notified = n
	if err != nil {
		return res, err
	}
	due, err := s.mgr.DueForRotation(ctx)
	if err != nil {
		return res, err
	}
	res.Rotating = []int64{}
	for _, id := range due {
		if _, err := s.deps.Jobs.Enqueue(ctx, JobRotate, rotateArgs{ID: id}, &jobs.EnqueueOptions{UniqueByArgs: true}); err != nil {
			return res, fmt.Errorf("enqueue rotation of %d: %w", id, err)
		}
		res.Rotating = append(res.Rotating, id)
	}
	return res, nil
}

// runBulk applies a bulk action to every matching certificate, auditing
// each; it goes on past failures and reports how many failed.
func (m *Manager) runBulk(ctx context.Context, b BulkRequest, via string) error {
	f, err := b.filter()
	if err != nil {
		return jobs.Cancel(err)
	}
	ids, err := m.IDs(ctx, f)
	if err != nil {
		return err
	}
	failed := 0
	for _, id := range ids {
		switch b.Action {
		case "revoke":
			c, err := m.Get(ctx, id)
			if err != nil || c.RevokedAt != nil {
				continue // already done, perhaps by an earlier attempt
			}
			if m.revokeAudited(ctx, id, b.Reason, "bulk revoke, "+via) != nil {
				failed++
			}
		case "reissue":
			c, err := m.Get(ctx, id)
			if err != nil || c.ReplacedBy != nil || c.RevokedAt != nil {
				continue
			}
			if _, err := m.Rotate(ctx, id); err != nil {
				failed++
			}
		}
	}
	if failed > 0 {
		return jobs.Cancel(fmt.Errorf("bulk %s: %d of %d certificates failed (see the audit log)", b.Action, failed, len(ids)))
	}
	return nil
}
