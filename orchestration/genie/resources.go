package genie

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/genie/resolve"
)

// Errors the API maps to statuses.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// resourceDoc is what every stored resource kind implements.
type resourceDoc interface {
	common() *Common
	validate() error
}

func (a *Application) common() *Common { return &a.Common }
func (c *commandRow) common() *Common  { return &c.Common }
func (c *Cluster) common() *Common     { return &c.Common }

func (c *commandRow) validate() error { return c.Command.validate() }

// newDoc returns an empty document of kind.
func newDoc(kind string) resourceDoc {
	switch kind {
	case kindApplication:
		return &Application{}
	case kindCommand:
		return &commandRow{}
	}
	return &Cluster{}
}

// kindName is a kind in the singular, for messages.
func kindName(kind string) string { return strings.TrimSuffix(kind, "s") }

// bumpRevision marks the resources changed, in tx.
func bumpRevision(ctx context.Context, tx *store.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE genie_revision SET rev = rev + 1 WHERE id = 1`)
	return err
}

// createResource stores a new resource of kind; an id already taken is
// ErrConflict. The document gets an id when it has none.
func (s *Service) createResource(ctx context.Context, kind string, d resourceDoc) error {
	c := d.common()
	if c.ID == "" {
		c.ID = newID()
	}
	if err := d.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := s.checkApplications(ctx, d); err != nil {
		return err
	}
	doc, _ := json.Marshal(d)
	now := s.now().UnixMilli()
	defer s.changed()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO genie_resources (kind, id, name, status, doc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			kind, c.ID, c.Name, c.Status, string(doc), now, now)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("%w: %s %q already exists", ErrConflict, kindName(kind), c.ID)
		}
		if err != nil {
			return err
		}
		return bumpRevision(ctx, tx)
	})
}

// checkApplications refuses a command naming an unknown application.
func (s *Service) checkApplications(ctx context.Context, d resourceDoc) error {
	cr, ok := d.(*commandRow)
	if !ok {
		return nil
	}
	for _, id := range cr.Apps {
		if _, err := s.getResource(ctx, kindApplication, id); err != nil {
			return fmt.Errorf("%w: command %s: application %q: %w", ErrInvalid, cr.ID, id, err)
		}
	}
	return nil
}

// updateResource replaces the stored resource of kind with id by d; d's
// id, when set, must be id.
func (s *Service) updateResource(ctx context.Context, kind, id string, d resourceDoc) error {
	c := d.common()
	if c.ID != "" && c.ID != id {
		return fmt.Errorf("%w: id: %q in the body is not %q of the path", ErrInvalid, c.ID, id)
	}
	c.ID = id
	if err := d.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := s.checkApplications(ctx, d); err != nil {
		return err
	}
	doc, _ := json.Marshal(d)
	defer s.changed()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE genie_resources SET name = ?, status = ?, doc = ?, updated_at = ? WHERE kind = ? AND id = ?`,
			c.Name, c.Status, string(doc), s.now().UnixMilli(), kind, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s %q", ErrNotFound, kindName(kind), id)
		}
		return bumpRevision(ctx, tx)
	})
}

// modifyResource loads, changes with fn, and stores a resource.
func (s *Service) modifyResource(ctx context.Context, kind, id string, fn func(d resourceDoc) error) error {
	d, err := s.getResource(ctx, kind, id)
	if err != nil {
		return err
	}
	if err := fn(d); err != nil {
		return err
	}
	return s.updateResource(ctx, kind, id, d)
}

// deleteResource removes a resource; an application a command uses is
// ErrConflict.
func (s *Service) deleteResource(ctx context.Context, kind, id string) error {
	if kind == kindApplication {
		cmds, err := s.listResources(ctx, kindCommand, listFilter{})
		if err != nil {
			return err
		}
		for _, d := range cmds {
			for _, a := range d.(*commandRow).Apps {
				if a == id {
					return fmt.Errorf("%w: application %q is used by command %q", ErrConflict, id, d.common().ID)
				}
			}
		}
	}
	defer s.changed()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM genie_resources WHERE kind = ? AND id = ?`, kind, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s %q", ErrNotFound, kindName(kind), id)
		}
		return bumpRevision(ctx, tx)
	})
}

// getResource loads one resource.
func (s *Service) getResource(ctx context.Context, kind, id string) (resourceDoc, error) {
	var doc string
	var created, updated int64
	err := s.db.QueryRowContext(ctx, `SELECT doc, created_at, updated_at FROM genie_resources WHERE kind = ? AND id = ?`, kind, id).
		Scan(&doc, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s %q", ErrNotFound, kindName(kind), id)
	}
	if err != nil {
		return nil, err
	}
	return decodeDoc(kind, doc, created, updated)
}

func decodeDoc(kind, doc string, created, updated int64) (resourceDoc, error) {
	d := newDoc(kind)
	if err := json.Unmarshal([]byte(doc), d); err != nil {
		return nil, fmt.Errorf("genie: stored %s: %w", kindName(kind), err)
	}
	c := d.common()
	ct, ut := time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	c.Created, c.Updated = &ct, &ut
	if cr, ok := d.(*commandRow); ok {
		cr.Applications = cr.Apps
	}
	return d, nil
}

// listFilter narrows a list as Genie's find endpoints do.
type listFilter struct {
	Name     string
	Statuses []string
	Tags     []string
	User     string
	Type     string
}

func (f listFilter) keep(d resourceDoc) bool {
	c := d.common()
	if f.User != "" && c.User != f.User {
		return false
	}
	if f.Type != "" {
		if a, ok := d.(*Application); !ok || a.Type != f.Type {
			return false
		}
	}
	for _, t := range f.Tags {
		if !contains(c.Tags, t) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// listResources returns the resources of kind the filter keeps, most
// recently updated first. A name filter matches as SQL LIKE, as Genie's.
func (s *Service) listResources(ctx context.Context, kind string, f listFilter) ([]resourceDoc, error) {
	q := `SELECT doc, created_at, updated_at FROM genie_resources WHERE kind = ?`
	args := []any{kind}
	if f.Name != "" {
		q += ` AND name LIKE ?`
		args = append(args, f.Name)
	}
	if len(f.Statuses) > 0 {
		q += ` AND status IN (?` + strings.Repeat(", ?", len(f.Statuses)-1) + `)`
		for _, st := range f.Statuses {
			args = append(args, strings.ToUpper(st))
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY updated_at DESC, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []resourceDoc
	for rows.Next() {
		var doc string
		var created, updated int64
		if err := rows.Scan(&doc, &created, &updated); err != nil {
			return nil, err
		}
		d, err := decodeDoc(kind, doc, created, updated)
		if err != nil {
			return nil, err
		}
		if f.keep(d) {
			out = append(out, d)
		}
	}
	return out, rows.Err()
}

// revisionCheckEvery is how long the index is used without asking the
// database whether the resources changed: a change made through this
// process applies at once (it drops the index), one made through another
// process within this time. Measured on the monotonic clock: a rate
// limit, not a time of day.
const revisionCheckEvery = 500 * time.Millisecond

// changed drops the index after this process changed the resources.
func (s *Service) changed() {
	s.idxMu.Lock()
	s.idx = nil
	s.idxMu.Unlock()
}

// index returns the resolution index of the current resources,
// rebuilding it when another transaction changed them.
func (s *Service) index(ctx context.Context) (*resolve.Index, error) {
	s.idxMu.Lock()
	if s.idx != nil && time.Since(s.idxChecked) < revisionCheckEvery {
		idx := s.idx
		s.idxMu.Unlock()
		return idx, nil
	}
	s.idxMu.Unlock()
	var rev int64
	if err := s.db.QueryRowContext(ctx, `SELECT rev FROM genie_revision WHERE id = 1`).Scan(&rev); err != nil {
		return nil, fmt.Errorf("genie: resources revision: %w", err)
	}
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	if s.idx != nil && s.idxRev == rev {
		s.idxChecked = time.Now()
		return s.idx, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT kind, doc FROM genie_resources`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	docs := snapshotDocs{}
	var apps []*resolve.Application
	var cmds []*resolve.Command
	var clusters []*resolve.Cluster
	for rows.Next() {
		var kind, doc string
		if err := rows.Scan(&kind, &doc); err != nil {
			return nil, err
		}
		d, err := decodeDoc(kind, doc, 0, 0)
		if err != nil {
			return nil, err
		}
		docs[kind+"/"+d.common().ID] = d
		switch v := d.(type) {
		case *Application:
			apps = append(apps, &resolve.Application{Resource: v.resource(), Type: v.Type})
		case *commandRow:
			cmds = append(cmds, v.model())
		case *Cluster:
			clusters = append(clusters, &resolve.Cluster{Resource: v.resource()})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	idx, err := resolve.NewIndex(apps, cmds, clusters)
	if err != nil {
		return nil, err
	}
	s.idx, s.idxRev, s.docs, s.idxChecked = idx, rev, docs, time.Now()
	return idx, nil
}

// snapshotDocs are the decoded resources of one index, by kind/id, for
// reading only: callers must not change them.
type snapshotDocs map[string]resourceDoc

// get returns one resource of the snapshot.
func (d snapshotDocs) get(kind, id string) (resourceDoc, error) {
	doc, ok := d[kind+"/"+id]
	if !ok {
		return nil, fmt.Errorf("%w: %s %q", ErrNotFound, kindName(kind), id)
	}
	return doc, nil
}

// snapshot returns the decoded resources of the current index.
func (s *Service) snapshot(ctx context.Context) (snapshotDocs, error) {
	if _, err := s.index(ctx); err != nil {
		return nil, err
	}
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	return s.docs, nil
}
