package workflow

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// Maestro's strict_sequential run strategy: instances run one at a time
// in order, and a failed one holds back those after it until it is
// restarted and succeeds, or the workflow is unblocked.

// blocked reports whether a failed or timed-out instance holds back
// workflow's next instances (under strict_sequential).
func (t *txn) blocked(workflow string) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM workflow_instances i JOIN workflow_workflows w ON w.id = i.workflow_id
		WHERE i.workflow_id = ? AND i.instance_no > w.unblocked_through AND i.status IN (?, ?)`,
		workflow, InstanceFailed, InstanceTimedOut).Scan(&n)
	return n > 0, err
}

// Unblock lets a strict_sequential workflow's queued instances run past
// the failed ones, which keep their status (Maestro's unblock); the
// oldest queued instance starts if none runs.
func (s *Service) Unblock(ctx context.Context, workflow string) error {
	return s.inTx(ctx, func(t *txn) error {
		res, err := t.tx.ExecContext(ctx, `UPDATE workflow_workflows SET unblocked_through = (SELECT COALESCE(MAX(instance_no), 0)
			FROM workflow_instances WHERE workflow_id = ? AND instance_no > 0 AND status IN (?, ?)) WHERE id = ?`,
			workflow, InstanceFailed, InstanceTimedOut, workflow)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("workflow %q: %w", workflow, ErrNotFound)
		}
		return t.startQueued(workflow)
	})
}

func (s *Service) unblockRoute(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "POST", Path: api + "/{id}/unblock", Scope: ScopeWrite, Action: "workflow.definition.unblock",
		Summary: "Let a strict_sequential workflow's queued instances run past its failed ones",
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			if err := s.Unblock(r.Context(), r.PathValue("id")); err != nil {
				return apiError(err)
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}})
}

func wfUnblockCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "unblock WORKFLOW_ID", Short: "Let a strict_sequential workflow's queued instances run past its failed ones",
		Args: cobra.ExactArgs(1)}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		if err := c.Do(cmd.Context(), "POST", api+"/"+url.PathEscape(args[0])+"/unblock", nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "unblocked workflow %s\n", args[0])
		return nil
	}
	return cmd
}
