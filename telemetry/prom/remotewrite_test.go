package prom

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

func TestWriteRequestRoundTrip(t *testing.T) {
	in := []TimeSeries{
		{Labels: tsdb.FromStrings("__name__", "up", "job", "a"), Samples: []Sample{{1, 1000}, {0, 2000}, {math.Float64frombits(0x7ff0000000000002), 3000}}},
		{Labels: tsdb.FromStrings("__name__", "x", "empty", ""), Samples: []Sample{{-2.5, -5}}},
		{Labels: tsdb.FromStrings("__name__", "no_samples")},
		// Over 127 bytes: the general path, not the short one.
		{Labels: tsdb.FromStrings("__name__", "long", "v", strings.Repeat("x", 200)), Samples: []Sample{{7, 1 << 62}}},
	}
	var req WriteRequest
	if err := DecodeWriteRequest(AppendWriteRequest(nil, in), &req); err != nil {
		t.Fatal(err)
	}
	if len(req.Series) != len(in) {
		t.Fatalf("%d series, want %d", len(req.Series), len(in))
	}
	for i := range in {
		if !req.Series[i].Labels.Equal(in[i].Labels) {
			t.Errorf("series %d labels %v, want %v", i, req.Series[i].Labels, in[i].Labels)
		}
		for j, s := range in[i].Samples {
			got := req.Series[i].Samples[j]
			if math.Float64bits(got.Value) != math.Float64bits(s.Value) || got.Timestamp != s.Timestamp {
				t.Errorf("series %d sample %d = %v, want %v", i, j, got, s)
			}
		}
	}
}

func TestDecodeSkipsUnknownFieldsAndCountsHistograms(t *testing.T) {
	b := AppendWriteRequest(nil, []TimeSeries{{Labels: tsdb.FromStrings("__name__", "h"), Samples: []Sample{{1, 1}}}})
	// WriteRequest.metadata (field 3), then a histogram (field 4) and an
	// exemplar (field 3) inside a second series.
	b = append(b, 0x1a, 0x02, 0x08, 0x01)
	ts := []byte{0x22, 0x02, 0x08, 0x01, 0x1a, 0x00}
	b = append(b, 0x0a, byte(len(ts)))
	b = append(b, ts...)
	var req WriteRequest
	if err := DecodeWriteRequest(b, &req); err != nil {
		t.Fatal(err)
	}
	if len(req.Series) != 2 || req.Series[1].Histograms != 1 {
		t.Fatalf("decoded %+v", req.Series)
	}
}

func TestDecodeErrorsSayWhere(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{[]byte{0x0a, 0x05, 0x0a}, "timeseries[0]"},
		{[]byte{0x0a, 0x04, 0x12, 0x02, 0x09, 0x00}, "samples[0]"},
		{[]byte{0x0a, 0x03, 0x0a, 0x01, 0x0a}, "labels[0]"},
		{[]byte{0x10}, "bad varint"},
		{[]byte{0x00}, "bad field number"},
		{[]byte{0x17}, "unsupported wire type"},
	} {
		var req WriteRequest
		err := DecodeWriteRequest(c.in, &req)
		if !errors.Is(err, ErrMalformed) || !contains(err.Error(), c.want) {
			t.Errorf("decode %x: %v, want an error about %s", c.in, err, c.want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func FuzzDecodeWriteRequest(f *testing.F) {
	f.Add(AppendWriteRequest(nil, []TimeSeries{{Labels: tsdb.FromStrings("__name__", "up", "job", "a"), Samples: []Sample{{1, 1000}}}}))
	one := AppendWriteRequest(nil, []TimeSeries{{Labels: tsdb.FromStrings("job", "a"), Samples: []Sample{{2, 1000}}}})
	f.Add(one[2:])    // a TimeSeries: its label and sample fields
	f.Add(one[2+10:]) // its sample field
	f.Add([]byte{0x0a, 0x05, 0x0a})
	f.Add([]byte{0x1a, 0x02, 0x08, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		// The short paths agree with the general decoders.
		if l, n := shortLabel(b); n > 0 {
			want, err := decodeLabel(b[2:n])
			if err != nil || want != l {
				t.Fatalf("shortLabel: %+v, decodeLabel: %+v, %v", l, want, err)
			}
		}
		if s, n := shortSample(b); n > 0 {
			want, err := decodeSample(b[2:n])
			if err != nil || math.Float64bits(want.Value) != math.Float64bits(s.Value) || want.Timestamp != s.Timestamp {
				t.Fatalf("shortSample: %+v, decodeSample: %+v, %v", s, want, err)
			}
		}
		var req WriteRequest
		if err := DecodeWriteRequest(b, &req); err != nil {
			return
		}
		// What decodes re-encodes to something that decodes the same.
		again := AppendWriteRequest(nil, req.Series)
		var req2 WriteRequest
		if err := DecodeWriteRequest(again, &req2); err != nil {
			t.Fatalf("re-encoded request does not decode: %v", err)
		}
		if len(req2.Series) != len(req.Series) {
			t.Fatalf("%d series after a round trip, want %d", len(req2.Series), len(req.Series))
		}
		for i := range req.Series {
			if len(req2.Series[i].Samples) != len(req.Series[i].Samples) || len(req2.Series[i].Labels) != len(req.Series[i].Labels) {
				t.Fatalf("series %d changed in a round trip", i)
			}
		}
	})
}

func BenchmarkDecodeWriteRequest(b *testing.B) {
	var series []TimeSeries
	for i := 0; i < 2000; i++ {
		series = append(series, TimeSeries{Labels: tsdb.FromStrings("__name__", "http_requests_total", "job", "api",
			"instance", "host-"+string(rune('a'+i%26)), "code", "200", "i", string(rune('A'+i%50))),
			Samples: []Sample{{float64(i), 1700000000000}}})
	}
	buf := AppendWriteRequest(nil, series)
	var req WriteRequest
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if err := DecodeWriteRequest(buf, &req); err != nil {
			b.Fatal(err)
		}
	}
}
