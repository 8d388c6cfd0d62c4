package notebook

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

// Errors the API maps to statuses.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// MaxNotebookSize bounds an uploaded notebook.
const MaxNotebookSize = 32 << 20

// Notebook is a stored notebook.
type Notebook struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Latest     int       `json:"latest"`
	Published  int       `json:"published,omitempty"`
	Archived   bool      `json:"archived"`
	ClonedFrom string    `json:"cloned_from,omitempty"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Version is one uploaded version of a notebook, without its content.
type Version struct {
	Version   int       `json:"version"`
	Size      int       `json:"size"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$`)

func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: name %q: use 1 to 100 letters, digits, '.', '_' and '-', starting with a letter or digit", ErrInvalid, name)
	}
	return nil
}

func newID(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

const notebookCols = "id, name, latest, published, archived, cloned_from, created_by, created_at, updated_at"

func scanNotebook(row interface{ Scan(...any) error }) (*Notebook, error) {
	var n Notebook
	var archived int
	var created, updated int64
	if err := row.Scan(&n.ID, &n.Name, &n.Latest, &n.Published, &archived, &n.ClonedFrom, &n.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	n.Archived = archived != 0
	n.CreatedAt, n.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &n, nil
}

// Upload stores content as a new version of the notebook name, creating
// it if needed; content must be a valid nbformat 4 notebook. An upload
// equal to the latest version makes no new version.
func (s *Service) Upload(ctx context.Context, name string, content []byte, actor string) (*Notebook, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if len(content) > MaxNotebookSize {
		return nil, fmt.Errorf("%w: the notebook is %d bytes, over the limit of %d", ErrInvalid, len(content), MaxNotebookSize)
	}
	if _, err := nbformat.Parse(content); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var id string
	now := s.now().UnixMilli()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var latest int
		err := tx.QueryRowContext(ctx, "SELECT id, latest FROM notebook_notebooks WHERE name = ?", name).Scan(&id, &latest)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			id = newID("nb_")
			if _, err := tx.ExecContext(ctx, "INSERT INTO notebook_notebooks (id, name, latest, created_by, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?)",
				id, name, actor, now, now); err != nil {
				return err
			}
			latest = 0
		case err != nil:
			return err
		default:
			var prev string
			if err := tx.QueryRowContext(ctx, "SELECT content FROM notebook_versions WHERE notebook_id = ? AND version = ?", id, latest).Scan(&prev); err != nil {
				return err
			}
			if prev == string(content) {
				return nil
			}
			if _, err := tx.ExecContext(ctx, "UPDATE notebook_notebooks SET latest = ?, updated_at = ? WHERE id = ?", latest+1, now, id); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO notebook_versions (notebook_id, version, content, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
			id, latest+1, string(content), actor, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("upload notebook %s: %w", name, err)
	}
	return s.Notebook(ctx, id)
}

// Notebook returns a notebook by ID or name.
func (s *Service) Notebook(ctx context.Context, ref string) (*Notebook, error) {
	n, err := scanNotebook(s.db.QueryRowContext(ctx, "SELECT "+notebookCols+" FROM notebook_notebooks WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1", ref, ref, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("notebook %q: %w", ref, ErrNotFound)
	}
	return n, err
}

// Content returns a version's notebook file; version 0 is the latest.
func (s *Service) Content(ctx context.Context, ref string, version int) (*Notebook, int, []byte, error) {
	n, err := s.Notebook(ctx, ref)
	if err != nil {
		return nil, 0, nil, err
	}
	if version == 0 {
		version = n.Latest
	}
	var content string
	err = s.db.QueryRowContext(ctx, "SELECT content FROM notebook_versions WHERE notebook_id = ? AND version = ?", n.ID, version).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil, fmt.Errorf("notebook %s version %d: %w", n.Name, version, ErrNotFound)
	}
	return n, version, []byte(content), err
}

// Versions lists a notebook's versions, newest first.
func (s *Service) Versions(ctx context.Context, ref string) ([]Version, error) {
	n, err := s.Notebook(ctx, ref)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT version, LENGTH(content), created_by, created_at FROM notebook_versions WHERE notebook_id = ? ORDER BY version DESC", n.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		var at int64
		if err := rows.Scan(&v.Version, &v.Size, &v.CreatedBy, &at); err != nil {
			return nil, err
		}
		v.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}

// Search lists notebooks whose name or latest content holds q (all when q
// is empty), archived ones only when asked, by name.
func (s *Service) Search(ctx context.Context, q string, archived bool) ([]Notebook, error) {
	like := "%" + strings.ToLower(strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q)) + "%"
	rows, err := s.db.QueryContext(ctx, `SELECT n.id, n.name, n.latest, n.published, n.archived, n.cloned_from, n.created_by, n.created_at, n.updated_at
		FROM notebook_notebooks n JOIN notebook_versions v ON v.notebook_id = n.id AND v.version = n.latest
		WHERE (n.archived = 0 OR ? = 1) AND (LOWER(n.name) LIKE ? ESCAPE '\' OR LOWER(v.content) LIKE ? ESCAPE '\')
		ORDER BY n.name`, boolInt(archived), like, like)
	if err != nil {
		return nil, fmt.Errorf("search notebooks: %w", err)
	}
	defer rows.Close()
	out := []Notebook{}
	for rows.Next() {
		n, err := scanNotebook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *n)
	}
	return out, rows.Err()
}

// Clone copies a notebook's latest version to a new notebook named as.
func (s *Service) Clone(ctx context.Context, ref, as, actor string) (*Notebook, error) {
	src, _, content, err := s.Content(ctx, ref, 0)
	if err != nil {
		return nil, err
	}
	if _, err := s.Notebook(ctx, as); err == nil {
		return nil, fmt.Errorf("%w: a notebook named %q exists", ErrConflict, as)
	}
	n, err := s.Upload(ctx, as, content, actor)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE notebook_notebooks SET cloned_from = ? WHERE id = ?", src.ID, n.ID); err != nil {
		return nil, err
	}
	n.ClonedFrom = src.ID
	return n, nil
}

// SetArchived archives a notebook (hidden from lists and refused as a
// run's notebook) or brings it back.
func (s *Service) SetArchived(ctx context.Context, ref string, archived bool) (*Notebook, error) {
	n, err := s.Notebook(ctx, ref)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE notebook_notebooks SET archived = ?, updated_at = ? WHERE id = ?", boolInt(archived), s.now().UnixMilli(), n.ID); err != nil {
		return nil, err
	}
	return s.Notebook(ctx, n.ID)
}

// Publish makes a version (0: the latest) the notebook's published,
// read-only rendering.
func (s *Service) Publish(ctx context.Context, ref string, version int) (*Notebook, error) {
	n, version, _, err := s.Content(ctx, ref, version)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE notebook_notebooks SET published = ?, updated_at = ? WHERE id = ?", version, s.now().UnixMilli(), n.ID); err != nil {
		return nil, err
	}
	return s.Notebook(ctx, n.ID)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
