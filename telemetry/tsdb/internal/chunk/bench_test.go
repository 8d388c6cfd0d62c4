package chunk

import "testing"

func BenchmarkEncode(b *testing.B) {
	var e Encoder
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%720 == 0 {
			e.Reset(buf)
		}
		e.Append(int64(i)*10_000, float64(i*3+i%7))
	}
}

// benchChunk is 720 samples of a counter with a varying increment.
func benchChunk() []byte {
	var e Encoder
	e.Reset(nil)
	for i := range 720 {
		e.Append(int64(i)*10_000, float64(i*3+i%7))
	}
	return e.Bytes()
}

func BenchmarkDecode(b *testing.B) {
	data := benchChunk()
	var it Iterator
	b.ReportAllocs()
	b.SetBytes(720)
	for b.Loop() {
		it.Reset(data)
		for it.Next() {
		}
	}
}

func BenchmarkDecodeAll(b *testing.B) {
	data := benchChunk()
	var d Decoder
	var ts []int64
	var vs []float64
	b.ReportAllocs()
	b.SetBytes(720)
	for b.Loop() {
		ts, vs, _ = d.DecodeAll(data, ts[:0], vs[:0])
	}
}
