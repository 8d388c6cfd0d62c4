package alerting

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Silence mutes the notifications of matching alerts between StartsAt
// and EndsAt, as an Alertmanager silence does.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  []string  `json:"matchers"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// State is pending, active or expired (at the time of the answer).
	State string `json:"state"`
	ms    Matchers
}

// SilenceSpec is what a client sends to create a silence.
type SilenceSpec struct {
	Matchers []string  `json:"matchers"`
	StartsAt time.Time `json:"starts_at,omitempty"`
	EndsAt   time.Time `json:"ends_at,omitempty"`
	// Duration, instead of EndsAt, silences this long from StartsAt.
	Duration string `json:"duration,omitempty"`
	Comment  string `json:"comment"`
}

// Inhibition mutes alerts matching Target while an alert matching Source
// fires with the same values of the Equal labels (Alertmanager's
// inhibition rules).
type Inhibition struct {
	ID        string    `json:"id"`
	Source    []string  `json:"source_matchers"`
	Target    []string  `json:"target_matchers"`
	Equal     []string  `json:"equal,omitempty"`
	Comment   string    `json:"comment,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	src, tgt  Matchers
}

func (s *Silence) state(now time.Time) string {
	switch {
	case now.Before(s.StartsAt):
		return "pending"
	case now.Before(s.EndsAt):
		return "active"
	}
	return "expired"
}

// validate checks a silence spec and fills its times.
func (sp *SilenceSpec) validate(now time.Time) (Matchers, error) {
	ms, err := ParseMatchers(sp.Matchers...)
	if err != nil {
		return nil, invalid("matchers", "%v", err)
	}
	if len(ms) == 0 {
		return nil, invalid("matchers", "required: a silence without matchers would mute everything")
	}
	for _, m := range ms {
		if m.Matches(map[string]string{}) {
			return nil, invalid("matchers", "%s matches alerts without that label; a silence needs one matcher that an empty label set fails", m)
		}
	}
	if sp.StartsAt.IsZero() {
		sp.StartsAt = now
	}
	if sp.Duration != "" {
		d, err := ParseDuration(sp.Duration)
		if err != nil || d <= 0 {
			return nil, invalid("duration", "want a positive duration such as 2h, got %q", sp.Duration)
		}
		sp.EndsAt = sp.StartsAt.Add(d.D())
	}
	if !sp.EndsAt.After(sp.StartsAt) {
		return nil, invalid("ends_at", "must be after starts_at (or give duration)")
	}
	if strings.TrimSpace(sp.Comment) == "" {
		return nil, invalid("comment", "required: say why the alerts are silenced")
	}
	return ms, checkText("comment", strings.ReplaceAll(sp.Comment, "\n", " "), 2000)
}

// CreateSilence records a silence.
func (s *Service) CreateSilence(ctx context.Context, sp SilenceSpec, by string) (*Silence, error) {
	now := s.now()
	ms, err := sp.validate(now)
	if err != nil {
		return nil, err
	}
	id := newID()
	b, _ := json.Marshal(ms.Strings())
	if _, err := s.st.ExecContext(ctx, `INSERT INTO alert_silences (id, matchers, starts_at, ends_at, created_by, comment, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, string(b), sp.StartsAt.UnixMilli(), sp.EndsAt.UnixMilli(), by, sp.Comment,
		now.UnixMilli(), now.UnixMilli()); err != nil {
		return nil, fmt.Errorf("create silence: %w", err)
	}
	s.reloadMutes(ctx)
	return s.Silence(ctx, id)
}

// ExpireSilence ends a silence now.
func (s *Service) ExpireSilence(ctx context.Context, id string) (*Silence, error) {
	now := s.now().UnixMilli()
	res, err := s.st.ExecContext(ctx, "UPDATE alert_silences SET ends_at = ?, updated_at = ? WHERE id = ? AND ends_at > ?", now, now, id, now)
	if err != nil {
		return nil, fmt.Errorf("expire silence: %w", err)
	}
	sil, err := s.Silence(ctx, id)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		s.reloadMutes(ctx)
	}
	return sil, nil
}

const silenceColumns = "id, matchers, starts_at, ends_at, created_by, comment, created_at, updated_at"

func scanSilence(row scanner, now time.Time) (*Silence, error) {
	var sil Silence
	var ms string
	var starts, ends, created, updated int64
	if err := row.Scan(&sil.ID, &ms, &starts, &ends, &sil.CreatedBy, &sil.Comment, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ms), &sil.Matchers); err != nil {
		return nil, err
	}
	var err error
	if sil.ms, err = ParseMatchers(sil.Matchers...); err != nil {
		return nil, fmt.Errorf("silence %s: %w", sil.ID, err)
	}
	sil.StartsAt, sil.EndsAt = time.UnixMilli(starts).UTC(), time.UnixMilli(ends).UTC()
	sil.CreatedAt, sil.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	sil.State = sil.state(now)
	return &sil, nil
}

// Silence reads one silence.
func (s *Service) Silence(ctx context.Context, id string) (*Silence, error) {
	sil, err := scanSilence(s.st.QueryRowContext(ctx, "SELECT "+silenceColumns+" FROM alert_silences WHERE id = ?", id), s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("silence %q: %w", id, ErrNotFound)
	}
	return sil, err
}

// Silences lists silences, those that have not ended first; expired
// ones only when all is true (the last 200).
func (s *Service) Silences(ctx context.Context, all bool) ([]*Silence, error) {
	now := s.now()
	q := "SELECT " + silenceColumns + " FROM alert_silences WHERE ends_at > ? ORDER BY starts_at, id"
	if all {
		q = "SELECT " + silenceColumns + " FROM alert_silences WHERE ends_at > ? OR 1 = 1 ORDER BY ends_at DESC, id LIMIT 200"
	}
	rows, err := s.st.QueryContext(ctx, q, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	defer rows.Close()
	out := []*Silence{}
	for rows.Next() {
		sil, err := scanSilence(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, sil)
	}
	return out, rows.Err()
}

// CreateInhibition records an inhibition rule.
func (s *Service) CreateInhibition(ctx context.Context, in Inhibition, by string) (*Inhibition, error) {
	src, err := ParseMatchers(in.Source...)
	if err != nil || len(src) == 0 {
		return nil, invalid("source_matchers", "want matchers of the alerts that inhibit: %v", err)
	}
	tgt, err := ParseMatchers(in.Target...)
	if err != nil || len(tgt) == 0 {
		return nil, invalid("target_matchers", "want matchers of the alerts inhibited: %v", err)
	}
	if err := checkLabelNames("equal", in.Equal); err != nil {
		return nil, err
	}
	in.ID, in.CreatedBy, in.CreatedAt = newID(), by, s.now().UTC().Truncate(time.Millisecond)
	in.Source, in.Target = src.Strings(), tgt.Strings()
	sb, _ := json.Marshal(in.Source)
	tb, _ := json.Marshal(in.Target)
	eb, _ := json.Marshal(in.Equal)
	if _, err := s.st.ExecContext(ctx, `INSERT INTO alert_inhibitions (id, source_matchers, target_matchers, equal_labels, comment, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, in.ID, string(sb), string(tb), string(eb), in.Comment, by, in.CreatedAt.UnixMilli()); err != nil {
		return nil, fmt.Errorf("create inhibition: %w", err)
	}
	s.reloadMutes(ctx)
	return &in, nil
}

func checkLabelNames(field string, names []string) error {
	for _, n := range names {
		if _, err := ParseMatchers(n + `=""`); err != nil {
			return invalid(field, "%q is not a label name", n)
		}
	}
	return nil
}

// DeleteInhibition removes an inhibition rule.
func (s *Service) DeleteInhibition(ctx context.Context, id string) error {
	res, err := s.st.ExecContext(ctx, "DELETE FROM alert_inhibitions WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete inhibition: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("inhibition %q: %w", id, ErrNotFound)
	}
	s.reloadMutes(ctx)
	return nil
}

// Inhibitions lists the inhibition rules.
func (s *Service) Inhibitions(ctx context.Context) ([]*Inhibition, error) {
	rows, err := s.st.QueryContext(ctx, "SELECT id, source_matchers, target_matchers, equal_labels, comment, created_by, created_at FROM alert_inhibitions ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("list inhibitions: %w", err)
	}
	defer rows.Close()
	out := []*Inhibition{}
	for rows.Next() {
		in := &Inhibition{}
		var sb, tb, eb string
		var created int64
		if err := rows.Scan(&in.ID, &sb, &tb, &eb, &in.Comment, &in.CreatedBy, &created); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(sb), &in.Source)
		json.Unmarshal([]byte(tb), &in.Target)
		json.Unmarshal([]byte(eb), &in.Equal)
		in.CreatedAt = time.UnixMilli(created).UTC()
		if in.src, err = ParseMatchers(in.Source...); err != nil {
			return nil, err
		}
		if in.tgt, err = ParseMatchers(in.Target...); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// mutes are the silences and inhibition rules in force, cached.
type mutes struct {
	silences    []*Silence
	inhibitions []*Inhibition
}

// silencedBy lists the active silences matching ls at now.
func (m *mutes) silencedBy(ls map[string]string, now time.Time) []string {
	var out []string
	for _, s := range m.silences {
		if s.state(now) == "active" && s.ms.Matches(ls) {
			out = append(out, s.ID)
		}
	}
	return out
}

// inhibitedBy lists the fingerprints of firing alerts inhibiting a.
func (m *mutes) inhibitedBy(a *Alert, firing []*Alert) []string {
	var out []string
	for _, in := range m.inhibitions {
		if !in.tgt.Matches(a.Labels) {
			continue
		}
		both := in.src.Matches(a.Labels)
		for _, src := range firing {
			if src.Fingerprint == a.Fingerprint || !in.src.Matches(src.Labels) {
				continue
			}
			if both && in.tgt.Matches(src.Labels) {
				continue // an alert on both sides cannot inhibit another one
			}
			same := true
			for _, l := range in.Equal {
				if src.Labels[l] != a.Labels[l] {
					same = false
					break
				}
			}
			if same {
				out = append(out, src.Fingerprint)
			}
		}
	}
	return out
}
