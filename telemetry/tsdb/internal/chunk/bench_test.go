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

func BenchmarkDecode(b *testing.B) {
	var e Encoder
	e.Reset(nil)
	for i := range 720 {
		e.Append(int64(i)*10_000, float64(i*3+i%7))
	}
	data := e.Bytes()
	var it Iterator
	b.ReportAllocs()
	b.SetBytes(720)
	for b.Loop() {
		it.Reset(data)
		for it.Next() {
		}
	}
}
