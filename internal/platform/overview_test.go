package platform

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSectionsTravelAsNames(t *testing.T) {
	b, err := json.Marshal(Panel{Section: SectionRates, Title: "Events"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"section":"rates"`) {
		t.Fatalf("a panel's section in JSON: %s", b)
	}
	var p Panel
	if err := json.Unmarshal(b, &p); err != nil || p.Section != SectionRates {
		t.Fatalf("read back: %+v, %v", p, err)
	}
	err = json.Unmarshal([]byte(`{"section":"later"}`), &p)
	if err == nil || !strings.Contains(err.Error(), `"later" is not one of firing, unavailable, changes, security, rates`) {
		t.Fatalf("an unknown section: %v", err)
	}
	if _, err := json.Marshal(Panel{Section: Section(42)}); err == nil {
		t.Fatal("a section without a name marshalled")
	}
}

// FuzzSectionText checks that every name UnmarshalText accepts marshals
// back to itself, and that it refuses the rest with an error.
func FuzzSectionText(f *testing.F) {
	for _, s := range []string{"firing", "rates", "", "Firing", "changes\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		var s Section
		if err := s.UnmarshalText([]byte(name)); err != nil {
			return
		}
		back, err := s.MarshalText()
		if err != nil || string(back) != name {
			t.Fatalf("%q read as %d, written back as %q (%v)", name, s, back, err)
		}
	})
}

func TestFormatRate(t *testing.T) {
	for v, want := range map[float64]string{0: "0.00/s", 0.25: "0.25/s", 3.14159: "3.1/s", 1234.5: "1234/s", 56789: "56.8k/s", 1080794: "1.08M/s"} {
		if got := FormatRate(v); got != want {
			t.Errorf("FormatRate(%v) = %q, want %q", v, got, want)
		}
	}
}
