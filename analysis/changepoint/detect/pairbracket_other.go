//go:build !amd64 || purego

package detect

// pairBracketVector is false: the pairs are compared in Go.
const pairBracketVector = false

func pairBracketAVX2(soa *float64, n, d int, xi *float64, j0, j1 int, lo, span uint64, perm *[16][8]uint32, out *float64) (below, kept int) {
	panic("detect: pairBracketAVX2 without vector support")
}
