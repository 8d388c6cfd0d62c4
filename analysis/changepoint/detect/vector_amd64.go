//go:build !purego

package detect

import "golang.org/x/sys/cpu"

// vectorAVX2 says whether the AVX2 loops (pairBracketAVX2,
// rbfSliceAVX2) may run here.
var vectorAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasPOPCNT

// pairBracketAVX2 compares row xi (d values) with rows j0 <= j < j1 of the
// column-major copy soa, n rows a dimension (soa[k*n+j] is value k of row
// j; n may exceed the signal's rows); j1-j0 is a multiple of 4. Of the squared distances v, rounded as sqDist rounds
// them, it counts those below lo (as bits; distances are >= 0) and writes
// those with bits(v)-lo <= span to out[0:kept] (out has room for j1-j0).
//
//go:noescape
func pairBracketAVX2(soa *float64, n, d int, xi *float64, j0, j1 int, lo, span uint64, perm *[16][8]uint32, out *float64) (below, kept int)

// rbfSliceAVX2 is rbfSlice on ks[0:n], n a multiple of 4, four values at
// a time: bit for bit the same results. c is rbfVecConsts, table
// expNegTable.
//
//go:noescape
func rbfSliceAVX2(ks *float64, n int, c *[15][4]uint64, table *[256]float64)

// rbfRowsAVX2 sets out[i] = rbf(gamma * sqDist(row lo+i, xt)) for i < cnt, a
// multiple of 4, bit for bit as CostRBF.column does, the rows read from
// the column-major copy soa, n rows of d values a dimension (soa[k*n+j]
// is value k of row j; rows lo .. lo+cnt-1 must be there). c is
// rbfVecConsts, table expNegTable.
//
//go:noescape
func rbfRowsAVX2(soa *float64, n, d int, xt *float64, lo, cnt int, gamma float64, c *[15][4]uint64, table *[256]float64, out *float64)

// pairRanges3AVX2 is pairBracketAVX2 for three dimensions over rows
// consecutive rows from xi (row-major) and, for each, the columns of the
// nr ranges [ranges[q][0], ranges[q][1]), each a multiple of 4 long: the
// same count below lo and the same kept distances (out has room for every
// pair).
//
//go:noescape
func pairRanges3AVX2(soa *float64, n int, xi *float64, rows int, ranges *[2]int, nr int, lo, span uint64, perm *[16][8]uint32, out *float64) (below, kept int)

// vectorAVX512 says whether the AVX-512 loops (F, VL and DQ) may run here.
var vectorAVX512 = vectorAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512DQ

// rbfRows3AVX512 is rbfRowsAVX2 for three dimensions, cnt a multiple of
// 8: the same values bit for bit.
//
//go:noescape
func rbfRows3AVX512(soa *float64, n int, xt *float64, lo, cnt int, gamma float64, c *[15][4]uint64, table *[256]float64, out *float64)

// bracketValuesAVX2 is pairBracketAVX2's test on given values: of
// vals[0:n] (>= 0; n a multiple of 4) it counts those with bits below lo
// and writes those with bits-lo <= span to out[0:kept] (out has room for
// n).
//
//go:noescape
func bracketValuesAVX2(vals *float64, n int, lo, span uint64, perm *[16][8]uint32, out *float64) (below, kept int)

// pairRanges3AVX512 is pairRanges3AVX2 eight pairs at a time, every range
// a multiple of 8 long: the same count below lo and the same kept
// distances (out has room for every pair).
//
//go:noescape
func pairRanges3AVX512(soa *float64, n int, xi *float64, rows int, ranges *[2]int, nr int, lo, span uint64, out *float64) (below, kept int)

// drawPairs3AVX512 is drawPairs for three dimensions (x: n rows) into
// out[0:cnt], cnt a multiple of 8: the same draws and distances.
//
//go:noescape
func drawPairs3AVX512(x *float64, n int, out *float64, cnt int)
