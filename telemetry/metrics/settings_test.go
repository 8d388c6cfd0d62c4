package metrics

import (
	"os"
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]os.FileMode{"0660": 0o660, "660": 0o660, "0o600": 0o600, "0": 0, "0777": 0o777} {
		if got, err := parseMode(in); err != nil || got != want {
			t.Errorf("parseMode(%q) = %#o, %v; want %#o", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0o", "rw-rw----", "0668", "1777", "4755", "-660", "+660", "0x1b4"} {
		if m, err := parseMode(in); err == nil {
			t.Errorf("parseMode(%q) = %#o, want an error", in, m)
		} else if !strings.Contains(err.Error(), "0") {
			t.Errorf("parseMode(%q): error %q does not say what is wanted", in, err)
		}
	}
	if DefaultSettings().SpectatordUnixMode != 0o660 {
		t.Fatalf("default spectatord-unix-mode %#o, want 0660", DefaultSettings().SpectatordUnixMode)
	}
}

// FuzzParseMode checks that whatever parses is permission bits only, and
// prints back to the same bits.
func FuzzParseMode(f *testing.F) {
	for _, s := range []string{"0660", "660", "0o600", "0777", "1777", "", "-1", "0o"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMode(s)
		if err != nil {
			return
		}
		if m&^os.ModePerm != 0 {
			t.Fatalf("parseMode(%q) = %#o: beyond the permission bits", s, m)
		}
		back, err := parseMode(modeValue{&m}.String())
		if err != nil || back != m {
			t.Fatalf("parseMode(%q) = %#o, which prints as %q and reads back as %#o, %v", s, m, modeValue{&m}.String(), back, err)
		}
	})
}
