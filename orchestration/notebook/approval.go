package notebook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

// TagApproval marks a cell a run must not execute until a person
// approves: the notebook as a runbook.
const TagApproval = "approval"

// RunWaiting is the status of a run waiting for approval of a cell.
const RunWaiting = "waiting_approval"

// ErrForbidden marks a decision the caller may not make.
var ErrForbidden = errors.New("forbidden")

// Approval is a person's decision on the cell a run waits before.
type Approval struct {
	Comment string `json:"comment,omitempty"`
}

// ApprovalState is what a run records of its approval.
type ApprovalState struct {
	// Cell is the cell the run waits before, or waited before last.
	Cell int `json:"cell"`
	// Decision is "", "approved" or "refused".
	Decision string `json:"decision,omitempty"`
	By       string `json:"by,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

func (s *Service) approval(ctx context.Context, id int64) (*ApprovalState, error) {
	var a ApprovalState
	err := s.db.QueryRowContext(ctx, "SELECT approval_cell, approval, approval_by, approval_comment FROM notebook_runs WHERE id = ?", id).
		Scan(&a.Cell, &a.Decision, &a.By, &a.Comment)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil || a.Cell < 0 {
		return nil, err
	}
	return &a, nil
}

// gate is the run's papermill gate: before a cell tagged approval it
// records that the run waits, and waits for the decision (or the run's
// end); a refusal stops the run there.
func (s *Service) gate(id int64) func(ctx context.Context, nb *nbformat.Notebook, cell int) error {
	return func(ctx context.Context, nb *nbformat.Notebook, cell int) error {
		if !nb.Cells[cell].HasTag(TagApproval) {
			return nil
		}
		if _, err := s.db.ExecContext(ctx, "UPDATE notebook_runs SET status = ?, approval_cell = ?, approval = '', approval_by = '', approval_comment = '' WHERE id = ?",
			RunWaiting, cell, id); err != nil {
			return fmt.Errorf("record the wait for approval: %w", err)
		}
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			a, err := s.approval(ctx, id)
			if err != nil {
				return err
			}
			switch a.Decision {
			case "approved":
				_, err := s.db.ExecContext(ctx, "UPDATE notebook_runs SET status = ? WHERE id = ?", RunRunning, id)
				return err
			case "refused":
				why := "refused by " + a.By
				if a.Comment != "" {
					why += ": " + a.Comment
				}
				return errors.New(why)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("while waiting for approval: %w", ctx.Err())
			case <-t.C:
			}
		}
	}
}

// Decide approves or refuses the cell a run waits before. The person who
// started the run may not decide: a runbook's approval is a second
// person's.
func (s *Service) Decide(ctx context.Context, id int64, approve bool, a Approval, actor string) (*Run, error) {
	r, err := s.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status != RunWaiting {
		return nil, fmt.Errorf("%w: run %d is not waiting for approval (%s)", ErrConflict, id, r.Status)
	}
	if actor == r.CreatedBy {
		return nil, fmt.Errorf("%w: %s started run %d and cannot approve or refuse it; another person must", ErrForbidden, actor, id)
	}
	decision := "refused"
	if approve {
		decision = "approved"
	}
	res, err := s.db.ExecContext(ctx, "UPDATE notebook_runs SET approval = ?, approval_by = ?, approval_comment = ? WHERE id = ? AND status = ? AND approval = ''",
		decision, actor, a.Comment, id, RunWaiting)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("%w: run %d was decided already", ErrConflict, id)
	}
	return s.Run(ctx, id)
}
