package notebook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// WorkflowKernel is the kernel a workflow's notebook steps use when a
// step names none (before the notebook's own kernelspec).
type WorkflowKernel struct {
	Workflow string    `json:"workflow"`
	Kernel   string    `json:"kernel"`
	SetBy    string    `json:"set_by"`
	SetAt    time.Time `json:"set_at"`
}

// SetWorkflowKernel makes kernel the default of workflow's notebook
// steps; "" removes the default. The kernel must be one runs may use.
func (s *Service) SetWorkflowKernel(ctx context.Context, workflow, kernel, by string) error {
	if workflow == "" {
		return fmt.Errorf("%w: workflow: missing", ErrInvalid)
	}
	if kernel == "" {
		_, err := s.db.ExecContext(ctx, `DELETE FROM notebook_workflow_kernels WHERE workflow_id = ?`, workflow)
		return err
	}
	specs, err := s.KernelSpecs()
	if err != nil {
		return err
	}
	found := false
	for _, k := range specs {
		found = found || k.Name == kernel
	}
	if !found {
		return fmt.Errorf("%w: kernel %q: no such kernel spec (gaffer's API lists them at %s)", ErrInvalid, kernel, kernelsAPI)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO notebook_workflow_kernels (workflow_id, kernel, set_by, set_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (workflow_id) DO UPDATE SET kernel = excluded.kernel, set_by = excluded.set_by, set_at = excluded.set_at`,
		workflow, kernel, by, s.now().UnixMilli())
	return err
}

// WorkflowKernels lists the workflows' default kernels.
func (s *Service) WorkflowKernels(ctx context.Context) ([]WorkflowKernel, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT workflow_id, kernel, set_by, set_at FROM notebook_workflow_kernels ORDER BY workflow_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []WorkflowKernel{}
	for rows.Next() {
		var k WorkflowKernel
		var at int64
		if err := rows.Scan(&k.Workflow, &k.Kernel, &k.SetBy, &at); err != nil {
			return nil, err
		}
		k.SetAt = time.UnixMilli(at).UTC()
		out = append(out, k)
	}
	return out, rows.Err()
}

// workflowKernel is workflow's default kernel, or "".
func (s *Service) workflowKernel(ctx context.Context, workflow string) (string, error) {
	var k string
	err := s.db.QueryRowContext(ctx, `SELECT kernel FROM notebook_workflow_kernels WHERE workflow_id = ?`, workflow).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return k, err
}

func (s *Service) workflowKernelRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "GET", Path: kernelsAPI + "/workflow-defaults", Scope: ScopeRead,
		Summary: "The kernels workflows' notebook steps use when they name none", Response: []WorkflowKernel{},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			list, err := s.WorkflowKernels(r.Context())
			if err != nil {
				return err
			}
			return httpapi.WriteJSON(w, http.StatusOK, list)
		}})
	r.Handle(httpapi.Route{Method: "PUT", Path: kernelsAPI + "/workflow-defaults/{workflow}", Scope: ScopeWrite,
		Action: "notebook.kernel.default", Summary: "Set (or, with an empty kernel, remove) a workflow's default kernel",
		Request: WorkflowKernel{}, Response: WorkflowKernel{}, Handler: func(w http.ResponseWriter, r *http.Request) error {
			var in WorkflowKernel
			if err := httpapi.DecodeJSON(r, &in); err != nil {
				return err
			}
			wf := r.PathValue("workflow")
			if err := s.SetWorkflowKernel(r.Context(), wf, in.Kernel, actor(r)); err != nil {
				return apiError(err)
			}
			return httpapi.WriteJSON(w, http.StatusOK, WorkflowKernel{Workflow: wf, Kernel: in.Kernel, SetBy: actor(r), SetAt: s.now().UTC()})
		}})
}

// setDefaultCommand is `gaffer notebook set-default WORKFLOW KERNEL`.
func setDefaultCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "set-default WORKFLOW [KERNEL]",
		Short: "Set the kernel a workflow's notebook steps use when they name none (no KERNEL removes it)", Args: cobra.RangeArgs(1, 2)}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		kernel := ""
		if len(args) == 2 {
			kernel = args[1]
		}
		if err := c.Do(cmd.Context(), "PUT", kernelsAPI+"/workflow-defaults/"+url.PathEscape(args[0]), WorkflowKernel{Kernel: kernel}, nil); err != nil {
			return err
		}
		if kernel == "" {
			fmt.Fprintf(cmd.OutOrStdout(), "removed workflow %s's default kernel\n", args[0])
		} else {
			fmt.Fprintf(cmd.OutOrStdout(), "changed workflow %s's default kernel to %s\n", args[0], kernel)
		}
		return nil
	}
	return cmd
}
