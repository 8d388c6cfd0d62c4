package chunk

import (
	"math"
	"math/rand/v2"
	"testing"
)

// staleNaN is Prometheus's stale marker.
var staleNaN = math.Float64frombits(0x7ff0000000000002)

type sample struct {
	t int64
	v float64
}

func encode(samples []sample) []byte {
	var e Encoder
	e.Reset(nil)
	for _, s := range samples {
		e.Append(s.t, s.v)
	}
	return e.Bytes()
}

func decodeAll(t testing.TB, b []byte) []sample {
	var it Iterator
	it.Reset(b)
	out := collect(&it)
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// collect reads an iterator's samples.
func collect(it *Iterator) []sample {
	var out []sample
	for it.Next() {
		ts, v := it.At()
		out = append(out, sample{ts, v})
	}
	return out
}

func checkRoundTrip(t *testing.T, name string, in []sample) {
	t.Helper()
	out := decodeAll(t, encode(in))
	if len(out) != len(in) {
		t.Fatalf("%s: got %d samples, want %d", name, len(out), len(in))
	}
	for i := range in {
		if out[i].t != in[i].t || math.Float64bits(out[i].v) != math.Float64bits(in[i].v) {
			t.Fatalf("%s: sample %d = (%d, %v %x), want (%d, %v %x)", name, i,
				out[i].t, out[i].v, math.Float64bits(out[i].v), in[i].t, in[i].v, math.Float64bits(in[i].v))
		}
	}
}

func series(n int, ts func(i int) int64, vs func(i int) float64) []sample {
	out := make([]sample, n)
	for i := range out {
		out[i] = sample{ts(i), vs(i)}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	regular := func(i int) int64 { return 1_700_000_000_000 + int64(i)*10_000 }
	jitter := func(i int) int64 { return 1_700_000_000_000 + int64(i)*10_000 + r.Int64N(50) }
	cases := map[string][]sample{
		"constant": series(500, regular, func(int) float64 { return 42 }),
		"counter":  series(500, regular, func(i int) float64 { return float64(i * 17) }),
		"randint":  series(500, jitter, func(int) float64 { return float64(r.IntN(1000)) }),
		"decimal":  series(500, regular, func(i int) float64 { return float64(i) * 0.01 }),
		"mixscale": series(500, jitter, func(i int) float64 { return []float64{1, 2.5, 3.25, 1e15, -7.125, 0.000001}[i%6] }),
		"random":   series(500, regular, func(int) float64 { return r.NormFloat64() * 1e6 }),
		"special": series(12, regular, func(i int) float64 {
			return []float64{staleNaN, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 5e-324, math.MaxFloat64, -math.MaxFloat64, 9007199254740993, 1e300, staleNaN}[i]
		}),
		"stale": series(300, regular, func(i int) float64 {
			if i%50 == 49 {
				return staleNaN
			}
			return float64(i)
		}),
		"negative":  series(100, func(i int) int64 { return -1_000_000 + int64(i)*7 }, func(i int) float64 { return -float64(i) * 3.5 }),
		"gaps":      series(200, func(i int) int64 { return int64(i*i*i) * 1000 }, func(i int) float64 { return float64(i) }),
		"huge":      series(100, regular, func(i int) float64 { return float64(1<<52) + float64(i)*1e12 }),
		"one":       {{5, 1.5}},
		"upscale":   series(50, regular, func(i int) float64 { return float64(1<<50) + float64(i) + float64(i%3)*0.5 }),
		"oscillate": series(300, regular, func(i int) float64 { return float64(i%2) * 0.1 }),
	}
	for name, in := range cases {
		checkRoundTrip(t, name, in)
	}
}

func TestCompression(t *testing.T) {
	regular := func(i int) int64 { return 1_700_000_000_000 + int64(i)*10_000 }
	for name, c := range map[string]struct {
		vs       func(int) float64
		maxBytes float64
	}{
		"constant": {func(int) float64 { return 3 }, 0.3},
		"counter":  {func(i int) float64 { return float64(i * 100) }, 0.3},
		"cpu":      {func(i int) float64 { return float64(i) * 0.25 }, 0.3},
	} {
		b := encode(series(720, regular, c.vs))
		if got := float64(len(b)) / 720; got > c.maxBytes {
			t.Errorf("%s: %.3f bytes/sample, want ≤ %.2f", name, got, c.maxBytes)
		}
	}
}

func TestCorruptNeverPanics(t *testing.T) {
	b := encode(series(100, func(i int) int64 { return int64(i) * 15 }, func(i int) float64 { return float64(i) * 1.1 }))
	for cut := 0; cut < len(b); cut++ {
		var it Iterator
		it.Reset(b[:cut])
		for it.Next() {
		}
	}
}

func FuzzIterator(f *testing.F) {
	f.Add(encode(series(20, func(i int) int64 { return int64(i) * 10 }, func(i int) float64 { return float64(i) / 3 })))
	f.Add(encode(series(20, func(i int) int64 { return int64(i * i) }, func(i int) float64 { return float64(i) * 0.5 })))
	f.Add([]byte{0, 3, 0xff, 0x12})
	f.Fuzz(func(t *testing.T, b []byte) {
		var it Iterator
		it.Reset(b)
		var got []sample
		for it.Next() {
			ts, v := it.At()
			got = append(got, sample{ts, v})
		}
		if it.Err() != nil {
			return
		}
		// A chunk that decodes must re-encode to samples that decode the same.
		strictly := true
		for i := 1; i < len(got); i++ {
			if got[i].t <= got[i-1].t {
				strictly = false
			}
		}
		if strictly {
			checkRoundTrip(t, "reencode", got)
		}
	})
}

// decodeAllMatches checks that Decoder.DecodeAll agrees with the Iterator.
func decodeAllMatches(t *testing.T, b []byte) {
	t.Helper()
	var it Iterator
	it.Reset(b)
	want := collect(&it)
	var d Decoder
	ts, vs, err := d.DecodeAll(b, nil, nil)
	if (err != nil) != (it.Err() != nil) {
		t.Fatalf("DecodeAll error %v, Iterator error %v", err, it.Err())
	}
	if err != nil {
		return
	}
	if len(ts) != len(want) {
		t.Fatalf("DecodeAll: %d samples, Iterator %d", len(ts), len(want))
	}
	for i := range want {
		if ts[i] != want[i].t || math.Float64bits(vs[i]) != math.Float64bits(want[i].v) {
			t.Fatalf("sample %d: DecodeAll (%d, %v), Iterator (%d, %v)", i, ts[i], vs[i], want[i].t, want[i].v)
		}
	}
}

func TestDecodeAll(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	regular := func(i int) int64 { return 1_700_000_000_000 + int64(i)*10_000 }
	wild := func(i int) int64 { return int64(i)*1000 + r.Int64N(1<<uint(r.IntN(40))) }
	for trial := range 300 {
		n := 1 + r.IntN(800)
		var ts []int64
		var last int64 = r.Int64() >> 2
		for i := range n {
			var d int64
			switch trial % 3 {
			case 0:
				d = regular(i+1) - regular(i)
			case 1:
				d = 1 + wild(i)%100_000
			default:
				d = 1 + r.Int64N(1<<uint(1+r.IntN(62)))>>1
			}
			last += d
			ts = append(ts, last)
		}
		vals := []func(int) float64{
			func(i int) float64 { return float64(i * 3) },
			func(int) float64 { return float64(r.IntN(1000)) / 100 },
			func(int) float64 { return r.NormFloat64() },
			func(int) float64 { return math.Float64frombits(r.Uint64()) },
			func(i int) float64 { return []float64{staleNaN, 1.5, math.Inf(-1), 1e15, 0.000001, 7}[r.IntN(6)] },
		}
		in := make([]sample, n)
		for i := range in {
			in[i] = sample{ts[i], vals[trial%len(vals)](i)}
		}
		b := encode(in)
		decodeAllMatches(t, b)
		for cut := 0; cut < len(b); cut += 1 + len(b)/20 {
			decodeAllMatches(t, b[:cut])
		}
	}
}

func FuzzDecodeAll(f *testing.F) {
	f.Add(encode(series(20, func(i int) int64 { return int64(i) * 10 }, func(i int) float64 { return float64(i) / 3 })))
	f.Add(encode(series(20, func(i int) int64 { return int64(i * i) }, func(i int) float64 { return float64(i) * 0.5 })))
	f.Add([]byte{0, 3, 0xff, 0x12})
	f.Fuzz(func(t *testing.T, b []byte) { decodeAllMatches(t, b) })
}

// TestLastSample: LastT and LastValueBits name the last sample appended,
// whichever way its value was encoded (decimal, rescaled, XOR, NaN).
func TestLastSample(t *testing.T) {
	var e Encoder
	e.Reset(nil)
	if e.LastValueBits() != 0 || e.Len() != 0 {
		t.Fatalf("empty chunk: LastValueBits %x, Len %d", e.LastValueBits(), e.Len())
	}
	for i, v := range []float64{1.5, 2.25, 1e300, math.Pi, math.NaN(), -0.0, 7} {
		ts := int64(1000 + i*15_000)
		e.Append(ts, v)
		if e.LastT() != ts || e.LastValueBits() != math.Float64bits(v) {
			t.Errorf("after %v at %d: LastT %d, LastValueBits %x", v, ts, e.LastT(), e.LastValueBits())
		}
	}
}
