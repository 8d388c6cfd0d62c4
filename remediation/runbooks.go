package remediation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Environments a version can be promoted through, in order.
var Envs = []string{"dev", "test", "prod"}

// ErrNotFound is returned for an unknown runbook, version or execution.
var ErrNotFound = errors.New("not found")

// ErrInvalid is returned for a request the runbook's state cannot serve
// (an unknown environment, nothing to promote or roll back to).
var ErrInvalid = errors.New("invalid request")

// RunbookInfo describes a runbook.
type RunbookInfo struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Latest      int            `json:"latest"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
	Envs        map[string]int `json:"envs"`
	Schedule    string         `json:"schedule,omitempty"`
}

// Version is one stored version of a runbook.
type Version struct {
	Runbook   string    `json:"runbook"`
	Version   int       `json:"version"`
	Digest    string    `json:"digest"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	Message   string    `json:"message,omitempty"`
	Source    string    `json:"source,omitempty"`
}

// Deployment is one change of the version an environment runs.
type Deployment struct {
	Env     string    `json:"env"`
	Version int       `json:"version"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Note    string    `json:"note"`
}

// ApplyResult says what Apply did.
type ApplyResult struct {
	Runbook string `json:"runbook"`
	Version int    `json:"version"`
	// Unchanged is true when the definition equals the latest version's.
	Unchanged bool `json:"unchanged"`
}

// runbooks stores runbook versions and deployments, and caches compiled
// versions.
type runbooks struct {
	db *store.Store
	// now is the service's clock, for deployment times.
	now func() time.Time

	mu    sync.Mutex
	cache map[string]*Compiled // name@version
}

// nowMS is the service's clock in Unix milliseconds, the unit of every
// stored timestamp.
func (s *Service) nowMS() int64 { return s.now().UnixMilli() }

// wallNow is the wall clock, for the few reads that must not follow the
// service's clock: a River job's At (River compares it with its own wall
// clock, so a job scheduled from a fixed test clock would fire at once or
// never) and step leases (renewed by a real ticker and taken over by
// another process after real time passes). Everything an operator sees
// or the database keeps as "when" uses Service.now.
func wallNow() time.Time { return time.Now() }

func fromMS(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// apply stores src as a new version (unless it equals the latest) and
// deploys it to dev.
func (r *runbooks) apply(ctx context.Context, src []byte, actor, message string) (ApplyResult, *Compiled, error) {
	c, err := Parse(src)
	if err != nil {
		return ApplyResult{}, nil, err
	}
	res := ApplyResult{Runbook: c.Name}
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		var latest int
		var digest string
		err := tx.QueryRowContext(ctx, `SELECT r.latest, v.digest FROM remediation_runbooks r
			JOIN remediation_versions v ON v.runbook = r.name AND v.version = r.latest WHERE r.name = ?`, c.Name).Scan(&latest, &digest)
		now := r.now().UnixMilli()
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO remediation_runbooks (name, description, latest, created_at, updated_at)
				VALUES (?, ?, 1, ?, ?)`, c.Name, c.Description, now, now); err != nil {
				return err
			}
			res.Version = 1
		case err != nil:
			return err
		case digest == c.Digest:
			res.Version, res.Unchanged = latest, true
			return nil
		default:
			res.Version = latest + 1
			if _, err := tx.ExecContext(ctx, `UPDATE remediation_runbooks SET latest = ?, description = ?, updated_at = ? WHERE name = ?`,
				res.Version, c.Description, now, c.Name); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO remediation_versions (runbook, version, source, digest, created_at, created_by, message)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, c.Name, res.Version, c.Source, c.Digest, now, actor, message); err != nil {
			return err
		}
		return r.deploy(ctx, tx, c.Name, "dev", res.Version, actor, "applied")
	})
	if err != nil {
		return ApplyResult{}, nil, fmt.Errorf("apply runbook %s: %w", c.Name, err)
	}
	return res, c, nil
}

func (r *runbooks) deploy(ctx context.Context, tx *store.Tx, name, env string, version int, actor, note string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO remediation_deployments (runbook, env, version, at, by_actor, note)
		VALUES (?, ?, ?, ?, ?, ?)`, name, env, version, r.now().UnixMilli(), actor, note)
	return err
}

func envVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name, env string) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, `SELECT version FROM remediation_deployments WHERE runbook = ? AND env = ?
		ORDER BY id DESC LIMIT 1`, name, env).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// promote sets env to version, or (version 0) to the version of the
// environment before it.
func (r *runbooks) promote(ctx context.Context, name, env string, version int, actor string) (Deployment, error) {
	idx := indexOf(Envs, env)
	if idx < 0 {
		return Deployment{}, fmt.Errorf("env %q: want one of dev, test, prod: %w", env, ErrInvalid)
	}
	var d Deployment
	err := r.db.InTx(ctx, func(tx *store.Tx) error {
		var latest int
		if err := tx.QueryRowContext(ctx, `SELECT latest FROM remediation_runbooks WHERE name = ?`, name).Scan(&latest); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("runbook %q: %w", name, ErrNotFound)
			}
			return err
		}
		note := "deployed"
		if version == 0 {
			if idx == 0 {
				version, note = latest, "promoted from latest"
			} else {
				from := Envs[idx-1]
				v, err := envVersion(ctx, tx, name, from)
				if err != nil {
					return err
				}
				if v == 0 {
					return fmt.Errorf("runbook %s: %s has no version to promote: %w", name, from, ErrInvalid)
				}
				version, note = v, "promoted from "+from
			}
		}
		if version < 1 || version > latest {
			return fmt.Errorf("runbook %s: version %d: %w", name, version, ErrNotFound)
		}
		d = Deployment{Env: env, Version: version, At: r.now().UTC(), By: actor, Note: note}
		return r.deploy(ctx, tx, name, env, version, actor, note)
	})
	return d, err
}

// rollback sets env back to the version it ran before its current one.
func (r *runbooks) rollback(ctx context.Context, name, env, actor string) (Deployment, error) {
	var d Deployment
	err := r.db.InTx(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT version FROM remediation_deployments WHERE runbook = ? AND env = ? ORDER BY id DESC`, name, env)
		if err != nil {
			return err
		}
		var versions []int
		for rows.Next() {
			var v int
			rows.Scan(&v)
			versions = append(versions, v)
		}
		rows.Close()
		if len(versions) == 0 {
			return fmt.Errorf("runbook %s has never been deployed to %s: %w", name, env, ErrNotFound)
		}
		for _, v := range versions[1:] {
			if v != versions[0] {
				d = Deployment{Env: env, Version: v, At: r.now().UTC(), By: actor, Note: fmt.Sprintf("rolled back from %d", versions[0])}
				return r.deploy(ctx, tx, name, env, v, actor, d.Note)
			}
		}
		return fmt.Errorf("runbook %s: %s has no earlier version to roll back to: %w", name, env, ErrInvalid)
	})
	return d, err
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// resolve picks the version a run uses: version when set, else env's,
// else prod's when prod has one, else the latest.
func (r *runbooks) resolve(ctx context.Context, name, env string, version int) (*Compiled, int, string, error) {
	if version == 0 {
		var err error
		switch {
		case env != "":
			if indexOf(Envs, env) < 0 {
				return nil, 0, "", fmt.Errorf("env %q: want one of dev, test, prod: %w", env, ErrInvalid)
			}
			version, err = envVersion(ctx, r.db, name, env)
			if err == nil && version == 0 {
				return nil, 0, "", fmt.Errorf("runbook %s has no version in %s: %w", name, env, ErrNotFound)
			}
		default:
			if version, err = envVersion(ctx, r.db, name, "prod"); err == nil && version > 0 {
				env = "prod"
			} else if err == nil {
				err = r.db.QueryRowContext(ctx, `SELECT latest FROM remediation_runbooks WHERE name = ?`, name).Scan(&version)
				if errors.Is(err, sql.ErrNoRows) {
					return nil, 0, "", fmt.Errorf("runbook %q: %w", name, ErrNotFound)
				}
			}
		}
		if err != nil {
			return nil, 0, "", err
		}
	}
	c, err := r.compiled(ctx, name, version)
	return c, version, env, err
}

// compiled returns a version, parsed once.
func (r *runbooks) compiled(ctx context.Context, name string, version int) (*Compiled, error) {
	return r.compiledTx(ctx, r.db, name, version)
}

// compiledTx is compiled inside a transaction (q is the transaction).
func (r *runbooks) compiledTx(ctx context.Context, q querier, name string, version int) (*Compiled, error) {
	key := fmt.Sprintf("%s@%d", name, version)
	r.mu.Lock()
	c := r.cache[key]
	r.mu.Unlock()
	if c != nil {
		return c, nil
	}
	var src string
	err := q.QueryRowContext(ctx, `SELECT source FROM remediation_versions WHERE runbook = ? AND version = ?`, name, version).Scan(&src)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("runbook %s version %d: %w", name, version, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if c, err = Parse([]byte(src)); err != nil {
		return nil, fmt.Errorf("runbook %s version %d: %w", name, version, err)
	}
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[string]*Compiled{}
	}
	r.cache[key] = c
	r.mu.Unlock()
	return c, nil
}

func (r *runbooks) list(ctx context.Context) ([]RunbookInfo, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT name, description, latest, created_at, updated_at FROM remediation_runbooks ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var out []RunbookInfo
	for rows.Next() {
		var ri RunbookInfo
		var c, u int64
		if err := rows.Scan(&ri.Name, &ri.Description, &ri.Latest, &c, &u); err != nil {
			rows.Close()
			return nil, err
		}
		ri.CreatedAt, ri.UpdatedAt = fromMS(c), fromMS(u)
		out = append(out, ri)
	}
	rows.Close()
	for i := range out {
		if err := r.decorate(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

func (r *runbooks) decorate(ctx context.Context, ri *RunbookInfo) error {
	ri.Envs = map[string]int{}
	for _, env := range Envs {
		v, err := envVersion(ctx, r.db, ri.Name, env)
		if err != nil {
			return err
		}
		if v > 0 {
			ri.Envs[env] = v
		}
	}
	if c, err := r.compiled(ctx, ri.Name, ri.Latest); err == nil && c.Schedule != nil {
		ri.Schedule = c.Schedule.Cron
	}
	return nil
}

func (r *runbooks) get(ctx context.Context, name string) (RunbookInfo, error) {
	var ri RunbookInfo
	var c, u int64
	err := r.db.QueryRowContext(ctx, `SELECT name, description, latest, created_at, updated_at FROM remediation_runbooks WHERE name = ?`,
		name).Scan(&ri.Name, &ri.Description, &ri.Latest, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return ri, fmt.Errorf("runbook %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return ri, err
	}
	ri.CreatedAt, ri.UpdatedAt = fromMS(c), fromMS(u)
	return ri, r.decorate(ctx, &ri)
}

func (r *runbooks) versions(ctx context.Context, name string) ([]Version, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT version, digest, created_at, created_by, message FROM remediation_versions
		WHERE runbook = ? ORDER BY version DESC`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		v := Version{Runbook: name}
		var c int64
		if err := rows.Scan(&v.Version, &v.Digest, &c, &v.CreatedBy, &v.Message); err != nil {
			return nil, err
		}
		v.CreatedAt = fromMS(c)
		out = append(out, v)
	}
	return out, rows.Err()
}

func (r *runbooks) version(ctx context.Context, name string, version int) (Version, error) {
	v := Version{Runbook: name, Version: version}
	var c int64
	err := r.db.QueryRowContext(ctx, `SELECT digest, created_at, created_by, message, source FROM remediation_versions
		WHERE runbook = ? AND version = ?`, name, version).Scan(&v.Digest, &c, &v.CreatedBy, &v.Message, &v.Source)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("runbook %s version %d: %w", name, version, ErrNotFound)
	}
	v.CreatedAt = fromMS(c)
	return v, err
}

func (r *runbooks) deployments(ctx context.Context, name string) ([]Deployment, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT env, version, at, by_actor, note FROM remediation_deployments
		WHERE runbook = ? ORDER BY id DESC LIMIT 100`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Deployment
	for rows.Next() {
		var d Deployment
		var at int64
		if err := rows.Scan(&d.Env, &d.Version, &at, &d.By, &d.Note); err != nil {
			return nil, err
		}
		d.At = fromMS(at)
		out = append(out, d)
	}
	return out, rows.Err()
}
