package platform

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// OverviewProvider is a Service that contributes panels to the overview
// page (GET /) and to GET /api/v1/overview: what an on-call engineer
// needs to see first. Overview must honour ctx's deadline (the console
// gives each provider a few seconds and shows an error in its panels when
// it does not answer in time) and must only read, never change, state.
// The console shows a system's panels only to callers holding that
// system's read scope.
type OverviewProvider interface {
	Overview(ctx context.Context) ([]Panel, error)
}

// Section places a panel on the overview page; sections appear in the
// order of their values, so what fires now comes first.
type Section int

// The overview's sections, in page order.
const (
	// SectionFiring is what is wrong now: firing alerts.
	SectionFiring Section = iota
	// SectionUnavailable holds the panels the console makes for providers
	// that failed or did not answer in time, right after what fires: not
	// knowing is the next thing on-call must see. Providers do not use it.
	SectionUnavailable
	// SectionChanges is what changed recently: runbook runs, failovers,
	// deploy events.
	SectionChanges
	// SectionSecurity is credentials: certificates expiring, SSH CA
	// activity.
	SectionSecurity
	// SectionRates is throughput: events published, samples ingested.
	SectionRates
)

// sectionNames are the sections' names in JSON, and their titles.
var sectionNames = []struct{ name, title string }{
	SectionFiring:      {"firing", "Firing now"},
	SectionUnavailable: {"unavailable", "Unavailable"},
	SectionChanges:     {"changes", "Recent changes"},
	SectionSecurity:    {"security", "Credentials"},
	SectionRates:       {"rates", "Rates"},
}

// String names the section as the overview page titles it.
func (s Section) String() string {
	if s < 0 || int(s) >= len(sectionNames) {
		return fmt.Sprintf("Section(%d)", int(s))
	}
	return sectionNames[s].title
}

// MarshalText gives the section's name in JSON: firing, unavailable,
// changes, security or rates.
func (s Section) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(sectionNames) {
		return nil, fmt.Errorf("overview section %d has no name", int(s))
	}
	return []byte(sectionNames[s].name), nil
}

// UnmarshalText reads a section's name as MarshalText writes it.
func (s *Section) UnmarshalText(b []byte) error {
	for i, n := range sectionNames {
		if n.name == string(b) {
			*s = Section(i)
			return nil
		}
	}
	names := make([]string, len(sectionNames))
	for i, n := range sectionNames {
		names[i] = n.name
	}
	return fmt.Errorf("section: %q is not one of %s", b, strings.Join(names, ", "))
}

// Tone says how a status reads at a glance; the page colours it.
type Tone string

// The tones a row or figure may have; the empty Tone is neutral.
const (
	ToneOK   Tone = "ok"
	ToneWarn Tone = "warn"
	ToneBad  Tone = "bad"
)

// Panel is one box on the overview page: a title linking to the system's
// own page, optional headline figures and a short list of rows, newest or
// most urgent first.
type Panel struct {
	Section Section `json:"section"`
	// System is the module name of the system that provided the panel;
	// the console sets it.
	System string `json:"system"`
	Title  string `json:"title"`
	// Scope is what a caller needs to see the panel; empty means the
	// system's "<system>:read".
	Scope string `json:"-"`
	// Link is the UI page with the whole list.
	Link    string   `json:"link,omitempty"`
	Figures []Figure `json:"figures,omitempty"`
	Rows    []Row    `json:"rows"`
	// More is how many rows were left out (the Link lists them all).
	More int `json:"more,omitempty"`
	// Empty is what the page says when there are no rows ("nothing
	// firing").
	Empty string `json:"empty,omitempty"`
	// Error is set by the console when the provider failed or did not
	// answer in time; the panel then has no rows.
	Error string `json:"error,omitempty"`
}

// Row is one line of a panel.
type Row struct {
	// Time is when it happened or since when it holds (zero: none).
	Time time.Time `json:"time,omitzero"`
	Text string    `json:"text"`
	// Who did it, when that is known (a user, a token, a rule).
	Who string `json:"who,omitempty"`
	// Status is a short word: a severity, an outcome, a state.
	Status string `json:"status,omitempty"`
	Tone   Tone   `json:"tone,omitempty"`
	// Link is the UI page of this one item.
	Link string `json:"link,omitempty"`
}

// Figure is a headline number of a panel, already formatted ("12.5/s").
type Figure struct {
	Label string `json:"label"`
	Value string `json:"value"`
	Tone  Tone   `json:"tone,omitempty"`
}

// OverviewRows is how many rows a panel of recent items shows.
const OverviewRows = 8

// FormatRate prints a rate per second with the precision its size needs
// (three or four significant digits), in k/s or M/s when large, for the
// figures of an overview panel.
func FormatRate(perSecond float64) string {
	switch {
	case perSecond >= 1e6:
		return fmt.Sprintf("%.2fM/s", perSecond/1e6)
	case perSecond >= 1e4:
		return fmt.Sprintf("%.1fk/s", perSecond/1e3)
	case perSecond >= 100:
		return fmt.Sprintf("%.0f/s", perSecond)
	case perSecond >= 1:
		return fmt.Sprintf("%.1f/s", perSecond)
	}
	return fmt.Sprintf("%.2f/s", perSecond)
}
