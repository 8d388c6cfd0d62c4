package workflow

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// Template is a stored step template's newest version.
type Template struct {
	ID          string `json:"id"`
	Version     int    `json:"version"`
	Description string `json:"description,omitempty"`
	// Type is the step's type.
	Type string `json:"type"`
	// Step is the step as a definition writes it: {"step": {...}}.
	Step      json.RawMessage `json:"step"`
	CreatedBy string          `json:"created_by"`
	CreatedAt time.Time       `json:"created_at"`

	step definition.Step
}

// ApplyTemplate stores a step template (JSON or YAML) as a new version,
// unless it is unchanged; workflows applied afterwards use it.
func (s *Service) ApplyTemplate(ctx context.Context, file string, src []byte, by string) (Applied, error) {
	t, err := definition.ParseTemplate(file, src, compileCheck)
	if err != nil {
		return Applied{}, err
	}
	body, err := json.Marshal(t.Step)
	if err != nil {
		return Applied{}, fmt.Errorf("encode the template: %w", err)
	}
	out := Applied{ID: t.ID}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var latest int
		var prev string
		err := tx.QueryRowContext(ctx, `SELECT version, body FROM workflow_templates WHERE name = ? ORDER BY version DESC LIMIT 1`, t.ID).Scan(&latest, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if prev == string(body) {
			out.Version, out.Unchanged = latest, true
			return nil
		}
		out.Version = latest + 1
		_, err = tx.ExecContext(ctx, `INSERT INTO workflow_templates (name, version, description, body, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, out.Version, t.Description, string(body), by, s.nowMS())
		return err
	})
	if err != nil {
		return Applied{}, fmt.Errorf("apply step template %s: %w", t.ID, err)
	}
	return out, nil
}

// Templates lists the step templates, each at its newest version.
func (s *Service) Templates(ctx context.Context) ([]Template, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, version, description, body, created_by, created_at FROM workflow_templates t
		WHERE version = (SELECT MAX(version) FROM workflow_templates WHERE name = t.name) ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []Template{}
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, *t)
	}
	return list, rows.Err()
}

// Template returns a step template's newest version.
func (s *Service) Template(ctx context.Context, name string) (*Template, error) {
	return s.templateIn(ctx, s.db, name)
}

func (s *Service) templateIn(ctx context.Context, q querier, name string) (*Template, error) {
	row := q.QueryRowContext(ctx, `SELECT name, version, description, body, created_by, created_at FROM workflow_templates
		WHERE name = ? ORDER BY version DESC LIMIT 1`, name)
	t, err := scanTemplate(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("step template %q: %w (apply it with `gaffer workflow template apply`)", name, ErrNotFound)
	}
	return t, err
}

func scanTemplate(row interface{ Scan(...any) error }) (*Template, error) {
	var t Template
	var body string
	var created int64
	if err := row.Scan(&t.ID, &t.Version, &t.Description, &body, &t.CreatedBy, &created); err != nil {
		return nil, err
	}
	d, err := definition.Parse("template", []byte(`{"workflow": {"id": "t", "steps": [`+body+`]}}`))
	if err != nil {
		return nil, fmt.Errorf("step template %s version %d: stored step unreadable: %w", t.ID, t.Version, err)
	}
	if len(d.Workflow.Steps) != 1 {
		return nil, fmt.Errorf("step template %s version %d: stored step unreadable: %d steps", t.ID, t.Version, len(d.Workflow.Steps))
	}
	t.step, t.Step, t.CreatedAt = d.Workflow.Steps[0], json.RawMessage(body), time.UnixMilli(created).UTC()
	t.Type = t.step.Type
	return &t, nil
}

// resolveTemplates makes d's template steps plain steps, from the
// newest version of each template in q.
func (s *Service) resolveTemplates(ctx context.Context, q querier, file string, d *definition.Definition) error {
	return definition.ResolveTemplates(d, file, func(name string) (*definition.StepTemplate, int, error) {
		t, err := s.templateIn(ctx, q, name)
		if err != nil {
			return nil, 0, err
		}
		return &definition.StepTemplate{ID: t.ID, Description: t.Description, Step: t.step}, t.Version, nil
	})
}

const templatesAPI = "/api/v1/workflow-templates"

func (s *Service) templateRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "POST", Path: templatesAPI, Scope: ScopeWrite, Action: "workflow.template.apply",
		Summary:  "Apply a step template ({id, description, step}); a new version unless unchanged",
		Query:    []httpapi.Param{{Name: "file", Description: "the file's name, for errors"}},
		Response: Applied{}, Handler: s.apiApplyTemplate})
	r.Handle(httpapi.Route{Method: "GET", Path: templatesAPI, Scope: ScopeRead, Summary: "Step templates, each at its newest version",
		Response: []Template{}, Handler: func(w http.ResponseWriter, r *http.Request) error {
			list, err := s.Templates(r.Context())
			if err != nil {
				return err
			}
			return httpapi.WriteJSON(w, http.StatusOK, list)
		}})
	r.Handle(httpapi.Route{Method: "GET", Path: templatesAPI + "/{name}", Scope: ScopeRead, Summary: "A step template's newest version",
		Response: Template{}, Handler: func(w http.ResponseWriter, r *http.Request) error {
			t, err := s.Template(r.Context(), r.PathValue("name"))
			if err != nil {
				return apiError(err)
			}
			return httpapi.WriteJSON(w, http.StatusOK, t)
		}})
}

func (s *Service) apiApplyTemplate(w http.ResponseWriter, r *http.Request) error {
	return applyFrom(w, r, "template", s.ApplyTemplate)
}

func wfTemplateCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "template", Short: "List step templates (reusable steps that template steps name); apply, list, show"}
	var file string
	apply := &cobra.Command{Use: "apply -f FILE [--output json]", Short: "Apply a step template; prints its id and version", Args: cobra.NoArgs}
	applyOut := cli.AddOutputFlag(apply)
	apply.Flags().StringVarP(&file, "file", "f", "", "the template (- for standard input)")
	apply.MarkFlagRequired("file")
	apply.RunE = func(cmd *cobra.Command, _ []string) error {
		return applyFile(cmd, flags, applyOut, templatesAPI, file, "step template")
	}
	list := &cobra.Command{Use: "list", Short: "List step templates", Args: cobra.NoArgs}
	listOut := cli.AddOutputFlag(list)
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var ts []Template
		if err := c.Do(cmd.Context(), "GET", templatesAPI, nil, &ts); err != nil {
			return err
		}
		return listOut.Print(cmd.OutOrStdout(), ts, func(t *cli.Table) {
			t.Row("TEMPLATE", "VERSION", "TYPE", "DESCRIPTION")
			for _, x := range ts {
				t.Row(x.ID, x.Version, x.Type, x.Description)
			}
		})
	}
	show := &cobra.Command{Use: "show NAME", Short: "Show a step template's newest version", Args: cobra.ExactArgs(1)}
	showOut := cli.AddOutputFlag(show)
	show.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var x Template
		if err := c.Do(cmd.Context(), "GET", templatesAPI+"/"+url.PathEscape(args[0]), nil, &x); err != nil {
			return err
		}
		return showOut.Print(cmd.OutOrStdout(), x, func(t *cli.Table) {
			var body bytes.Buffer
			json.Indent(&body, x.Step, "", "  ")
			t.Row(fmt.Sprintf("step template %s version %d (%s, by %s)\n%s", x.ID, x.Version, x.Type, x.CreatedBy, body.String()))
		})
	}
	cmd.AddCommand(apply, list, show)
	cli.ListByDefault(cmd, list)
	return cmd
}
