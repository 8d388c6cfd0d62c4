//go:build !amd64 || purego

package detect

// vectorAVX2 is false: the loops run in Go.
const vectorAVX2 = false

func pairBracketAVX2(soa *float64, n, d int, xi *float64, j0, j1 int, lo, span uint64, perm *[16][8]uint32, out *float64) (below, kept int) {
	panic("detect: pairBracketAVX2 without vector support")
}

func rbfSliceAVX2(ks *float64, n int, c *[15][4]uint64, table *[256]float64) {
	panic("detect: rbfSliceAVX2 without vector support")
}

func rbfRowsAVX2(soa *float64, n, d int, xt *float64, lo, cnt int, gamma float64, c *[15][4]uint64, table *[256]float64, out *float64) {
	panic("detect: rbfRowsAVX2 without vector support")
}

func pairRanges3AVX2(soa *float64, n int, xi *float64, rows int, ranges *[2]int, nr int, lo, span uint64, perm *[16][8]uint32, out *float64) (below, kept int) {
	panic("detect: pairRanges3AVX2 without vector support")
}

// vectorAVX512 is false: the loops run in Go.
const vectorAVX512 = false

func rbfRows3AVX512(soa *float64, n int, xt *float64, lo, cnt int, gamma float64, c *[15][4]uint64, table *[256]float64, out *float64) {
	panic("detect: rbfRows3AVX512 without vector support")
}

func bracketValuesAVX2(vals *float64, n int, lo, span uint64, perm *[16][8]uint32, out *float64) (below, kept int) {
	panic("detect: bracketValuesAVX2 without vector support")
}

func pairRanges3AVX512(soa *float64, n int, xi *float64, rows int, ranges *[2]int, nr int, lo, span uint64, out *float64) (below, kept int) {
	panic("detect: pairRanges3AVX512 without vector support")
}

func drawPairs3AVX512(x *float64, n int, out *float64, cnt int) {
	panic("detect: drawPairs3AVX512 without vector support")
}
