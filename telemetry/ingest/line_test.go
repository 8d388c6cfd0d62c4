package ingest

import (
	"errors"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		in, id, opt string
		typ         MeterType
		v           float64
	}{
		{"c:server.numRequests,id=failed:1", "server.numRequests,id=failed", "", Counter, 1},
		{"t:server.requestLatency:0.042", "server.requestLatency", "", Timer, 0.042},
		{"g,5:gauge:42.0", "gauge", "5", Gauge, 42},
		{"X,1543160297100:monotonic.Source:42", "monotonic.Source", "1543160297100", MonotonicSampled, 42},
		{"A:age.gauge:0\r", "age.gauge", "", AgeGauge, 0},
		{"c:bad name,k=v w:2", "bad_name,k=v_w", "", Counter, 2},
		{"T:lat,a=b,c=d:1e-3", "lat,a=b,c=d", "", PercentileTimer, 0.001},
	} {
		l, err := ParseLine([]byte(c.in))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if l.Type != c.typ || string(l.ID) != c.id || string(l.Option) != c.opt || l.Value != c.v {
			t.Errorf("%q = %c %q %q %v", c.in, l.Type, l.ID, l.Option, l.Value)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", "empty line"},
		{"c:name", "want <type>"},
		{"z:name:1", "unknown meter type"},
		{"c,5:name:1", "only g"},
		{"g,x:name:1", "integer"},
		{"X:name:1", "sample time"},
		{"c:name:abc", "not a number"},
		{"c::1", "no name"},
		{"c:name,novalue:1", "key=value"},
		{"c:name,=v:1", "key=value"},
		{"c:" + strings.Repeat("n", 256) + ":1", "longer than 255"},
	} {
		_, err := ParseLine([]byte(c.in))
		if !errors.Is(err, ErrLine) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error about %s", c.in, err, c.want)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"c:server.numRequests,id=failed:1", "g,5:gauge:42.0", "X,1543160297100:m:42", "T:lat,a=b:1e-3", "c:a,b=:1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLine(append([]byte(nil), b...))
		if err != nil {
			return
		}
		for _, c := range l.ID {
			if !validAtlasChar(c) && c != ',' && c != '=' {
				t.Fatalf("id %q keeps invalid character %q", l.ID, c)
			}
		}
		var r Registry
		r.HandleDatagram(append([]byte(nil), b...), timeZero)
	})
}
