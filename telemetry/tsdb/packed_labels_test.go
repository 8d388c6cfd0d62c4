package tsdb

import (
	"strings"
	"testing"
)

// noDict packs every name inline, as when the dictionary is full.
func noDict(string) (uint32, bool) { return 0, false }

// packedSeries packs ls with lookup into a series, failing the test on
// an error.
func packedSeries(tb testing.TB, ls Labels, lookup func(string) (uint32, bool)) *memSeries {
	tb.Helper()
	b, err := pack(ls, lookup)
	if err != nil {
		tb.Fatal(err)
	}
	return newMemSeries(1, b)
}

// checkPacked checks that a and b, packed both ways, unpack to
// themselves, equal exactly themselves and order as Compare orders them.
func checkPacked(tb testing.TB, a, b Labels) {
	tb.Helper()
	for _, lookup := range []func(string) (uint32, bool){nameID, noDict} {
		sa, sb := packedSeries(tb, a, lookup), packedSeries(tb, b, lookup)
		if got := sa.labels(); !got.Equal(a) {
			tb.Fatalf("%v unpacked to %v", a, got)
		}
		if !sa.labelsEqual(a) || sa.labelsEqual(b) != a.Equal(b) || sb.labelsEqual(a) != a.Equal(b) {
			tb.Fatalf("labelsEqual of %v and %v disagrees with Equal", a, b)
		}
		if got, want := sign(compareLabels(sa, sb)), sign(Compare(a, b)); got != want {
			tb.Fatalf("compareLabels(%v, %v) = %d, Compare %d", a, b, got, want)
		}
	}
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

func TestPackedLabels(t *testing.T) {
	long := strings.Repeat("x", 300) // a length over one uvarint byte
	sets := []Labels{
		nil,
		FromStrings(MetricName, "up"),
		FromStrings(MetricName, "up", "job", "node"),
		FromStrings(MetricName, "up", "job", "node", "instance", "h:9100"),
		FromStrings(MetricName, "up", "job", ""),
		FromStrings(MetricName, "up", long, long),
		FromStrings("", "", "a", "b"),
	}
	for _, a := range sets {
		for _, b := range sets {
			checkPacked(t, a, b)
		}
	}
}

// FuzzPackedLabels packs label sets built from the input both ways and
// checks unpacking, equality and order against the []Label forms.
func FuzzPackedLabels(f *testing.F) {
	f.Add("__name__\x00up\x00job\x00node", "__name__\x00up\x00job\x00nodf")
	f.Add("a\x00b", "a\x00b\x00c\x00d")
	f.Fuzz(func(t *testing.T, x, y string) {
		toLabels := func(s string) Labels {
			parts := strings.Split(s, "\x00")
			if len(parts)%2 != 0 {
				parts = parts[:len(parts)-1]
			}
			ls := FromStrings(parts...)
			if !ls.sorted() {
				return nil // duplicate names: not a series
			}
			return ls
		}
		checkPacked(t, toLabels(x), toLabels(y))
	})
}
