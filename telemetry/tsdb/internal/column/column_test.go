package column

import (
	"math"
	"math/rand/v2"
	"testing"
)

// staleNaN is Prometheus's stale marker.
var staleNaN = math.Float64frombits(0x7ff0000000000002)

func roundTripInts(t *testing.T, name string, xs []int64) int {
	t.Helper()
	b := AppendInts([]byte{0xAA}, xs)
	got, rest, err := DecodeInts(b[1:], len(xs), nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(rest) != 0 {
		t.Fatalf("%s: %d bytes left over", name, len(rest))
	}
	for i := range xs {
		if got[i] != xs[i] {
			t.Fatalf("%s: [%d] = %d, want %d", name, i, got[i], xs[i])
		}
	}
	return len(b) - 1
}

func roundTripFloats(t *testing.T, name string, vs []float64) int {
	t.Helper()
	var e Encoder
	b := e.AppendFloats([]byte{0xAA}, vs)
	var scratch []int64
	got, rest, err := DecodeFloats(b[1:], len(vs), nil, &scratch)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(rest) != 0 {
		t.Fatalf("%s: %d bytes left over", name, len(rest))
	}
	for i := range vs {
		if math.Float64bits(got[i]) != math.Float64bits(vs[i]) {
			t.Fatalf("%s: [%d] = %v (%#x), want %v (%#x)", name, i, got[i], math.Float64bits(got[i]), vs[i], math.Float64bits(vs[i]))
		}
	}
	return len(b) - 1
}

func gen[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func TestIntsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := map[string][]int64{
		"one":       {42},
		"two":       {math.MinInt64, math.MaxInt64},
		"extremes":  {math.MaxInt64, math.MinInt64, 0, -1, math.MaxInt64, 1, math.MinInt64},
		"regular":   gen(720, func(i int) int64 { return 1_700_000_000_000 + int64(i)*10_000 }),
		"jitter":    gen(720, func(i int) int64 { return 1_700_000_000_000 + int64(i)*10_000 + r.Int64N(25) }),
		"gaps":      gen(300, func(i int) int64 { return int64(i+i/50*3) * 15_000 }),
		"counter":   gen(1000, func(i int) int64 { return int64(i) * int64(i%60) }),
		"random":    gen(500, func(int) int64 { return int64(r.Uint64()) }),
		"negative":  gen(100, func(i int) int64 { return -int64(i) * 1e15 }),
		"constant":  gen(100, func(int) int64 { return -7 }),
		"smallrand": gen(2000, func(int) int64 { return r.Int64N(300) - 150 }),
		"wide":      gen(64, func(i int) int64 { return int64(1) << uint(i) }),
	}
	for name, xs := range cases {
		roundTripInts(t, name, xs)
	}
	for n := 1; n < 40; n++ {
		for trial := 0; trial < 20; trial++ {
			xs := gen(n, func(int) int64 {
				switch r.IntN(4) {
				case 0:
					return int64(r.Uint64())
				case 1:
					return r.Int64N(10)
				case 2:
					return []int64{math.MinInt64, math.MaxInt64, 0}[r.IntN(3)]
				}
				return r.Int64N(1 << 40)
			})
			roundTripInts(t, "mixed", xs)
		}
	}
}

// specials are values that must survive bit for bit.
var specials = []float64{
	staleNaN, math.NaN(), math.Float64frombits(0xfff8000000000001), math.Float64frombits(0x7ff0000000000001),
	math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 5e-324, -5e-324, math.SmallestNonzeroFloat64,
	math.MaxFloat64, -math.MaxFloat64, 9007199254740992, 9007199254740993, -9007199254740993, 1e300, 1e-300,
	0.1, 0.2, 0.30000000000000004, 1.0 / 3, 2.0 / 60, 1e18, 1e19, 123456789.123456789, 1.7976931348623157e308,
	2.2250738585072014e-308, 4.9406564584124654e-324,
}

func TestFloatsSpecials(t *testing.T) {
	// Every special alone, in pairs, and inside decimal and XOR columns.
	for i, a := range specials {
		roundTripFloats(t, "alone", []float64{a})
		for _, b := range specials {
			roundTripFloats(t, "pair", []float64{a, b})
		}
		dec := gen(100, func(j int) float64 { return float64(j) * 0.25 })
		dec[i%100] = a
		dec[(i*7+3)%100] = a
		roundTripFloats(t, "in decimals", dec)
		xor := gen(100, func(j int) float64 { return math.Sin(float64(j)) })
		xor[i%100] = a
		roundTripFloats(t, "in floats", xor)
	}
}

func TestFloatsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := map[string][]float64{
		"counter":  gen(720, func(i int) float64 { return float64(i * 17) }),
		"cpu":      gen(720, func(i int) float64 { return float64(i) * 0.01 }),
		"temp":     gen(720, func(int) float64 { return math.Round((40+r.NormFloat64())*100) / 100 }),
		"rate60":   gen(720, func(int) float64 { return float64(r.IntN(5000)) / 60 }),
		"rate600":  gen(720, func(int) float64 { return float64(r.IntN(5000)) / 600 }),
		"random":   gen(720, func(int) float64 { return r.Float64() }),
		"normal":   gen(720, func(int) float64 { return r.NormFloat64() * 1e6 }),
		"stale":    gen(720, func(i int) float64 { return []float64{float64(i), staleNaN}[boolInt(i%50 == 49)] }),
		"nanbits":  gen(200, func(int) float64 { return math.Float64frombits(0x7ff0000000000000 | r.Uint64()&0xfffffffffffff | 1) }),
		"bigints":  gen(300, func(i int) float64 { return float64(1<<60) + float64(i)*4096 }),
		"scales":   gen(720, func(i int) float64 { return float64(i) / math.Pow(10, float64(i%19)) }),
		"allscale": gen(190, func(i int) float64 { return float64(r.Int64N(1e9)) / pow10[i%19] }),
		"mixed":    gen(720, func(i int) float64 { return []float64{1, 2.5, 3.25, 1e15, -7.125, 0.000001, r.Float64()}[i%7] }),
		"bits":     gen(720, func(int) float64 { return math.Float64frombits(r.Uint64()) }),
		"negzero":  gen(50, func(i int) float64 { return math.Copysign(0, float64(i%2*2-1)) }),
	}
	for name, vs := range cases {
		roundTripFloats(t, name, vs)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestFloatsExhaustiveDecimals checks every mantissa of a small range at
// every scale and divisor the encoder knows, bit for bit.
func TestFloatsExhaustiveDecimals(t *testing.T) {
	for d := range byte(rate60 + maxRate60 + 1) {
		div, ok := divisor(d)
		if !ok {
			continue
		}
		vs := make([]float64, 0, 4001)
		for m := int64(-2000); m <= 2000; m++ {
			vs = append(vs, float64(m)/div)
		}
		roundTripFloats(t, "decimals", vs)
		for i := range vs { // near the limit of exact mantissas
			vs[i] = float64(maxExact-1-int64(i)) / div
		}
		roundTripFloats(t, "large mantissas", vs)
	}
}

func TestCompression(t *testing.T) {
	var e Encoder
	for name, c := range map[string]struct {
		vs       []float64
		maxBytes int
	}{
		"constant": {gen(720, func(int) float64 { return 3.5 }), 12},
		"counter":  {gen(720, func(i int) float64 { return float64(i * 100) }), 12},
		"cpu":      {gen(720, func(i int) float64 { return float64(i) * 0.25 }), 12},
		"rate60":   {gen(720, func(i int) float64 { return float64(i*7) / 60 }), 12},
	} {
		if n := len(e.AppendFloats(nil, c.vs)); n > c.maxBytes {
			t.Errorf("%s: %d bytes, want ≤ %d", name, n, c.maxBytes)
		}
	}
	regular := AppendInts(nil, gen(720, func(i int) int64 { return 1_700_000_000_000 + int64(i)*10_000 }))
	if len(regular) > 12 {
		t.Errorf("regular timestamps: %d bytes", len(regular))
	}
}

func FuzzDecodeInts(f *testing.F) {
	f.Add(AppendInts(nil, []int64{1, 2, 3, 5, 8}), 5)
	f.Add(AppendInts(nil, gen(50, func(i int) int64 { return int64(i * i * 1000) })), 50)
	f.Add([]byte{0x0b, 0x02, 0x03, 0x01}, 3)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		n %= 5000
		xs, _, err := DecodeInts(b, n, nil)
		if err != nil {
			return
		}
		if len(xs) != n {
			t.Fatalf("decoded %d of %d", len(xs), n)
		}
		roundTripInts(t, "reencode", xs)
	})
}

func FuzzDecodeFloats(f *testing.F) {
	var e Encoder
	f.Add(e.AppendFloats(nil, []float64{1, 2.5, staleNaN, 4}), 4)
	f.Add(e.AppendFloats(nil, gen(30, func(i int) float64 { return math.Sin(float64(i)) })), 30)
	f.Add(e.AppendFloats(nil, gen(30, func(i int) float64 { return float64(i) / 60 })), 30)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		n %= 5000
		var scratch []int64
		vs, _, err := DecodeFloats(b, n, nil, &scratch)
		if err != nil {
			return
		}
		if len(vs) != n {
			t.Fatalf("decoded %d of %d", len(vs), n)
		}
		roundTripFloats(t, "reencode", vs)
	})
}

// AppendInts appends the encoding of xs to dst with a fresh Encoder.
func AppendInts(dst []byte, xs []int64) []byte {
	var e Encoder
	return e.AppendInts(dst, xs)
}
