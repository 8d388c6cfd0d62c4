//go:build !purego

#include "textflag.h"

// The AVX-512 loops (F, VL and DQ): Pelt's rbf kernel rows, the median
// heuristic's pass over undecided pairs and its sample draws, each the
// same operations in the same order as its Go or AVX2 twin.

// tablePairs picks, from two vectors of four (hi, lo) pairs each, the
// eight hi (first row) and the eight lo (second row).
DATA tablePairs<>+0(SB)/8, $0
DATA tablePairs<>+8(SB)/8, $2
DATA tablePairs<>+16(SB)/8, $4
DATA tablePairs<>+24(SB)/8, $6
DATA tablePairs<>+32(SB)/8, $8
DATA tablePairs<>+40(SB)/8, $10
DATA tablePairs<>+48(SB)/8, $12
DATA tablePairs<>+56(SB)/8, $14
DATA tablePairs<>+64(SB)/8, $1
DATA tablePairs<>+72(SB)/8, $3
DATA tablePairs<>+80(SB)/8, $5
DATA tablePairs<>+88(SB)/8, $7
DATA tablePairs<>+96(SB)/8, $9
DATA tablePairs<>+104(SB)/8, $11
DATA tablePairs<>+112(SB)/8, $13
DATA tablePairs<>+120(SB)/8, $15
GLOBL tablePairs<>(SB), RODATA|NOPTR, $128

// func rbfRows3AVX512(soa *float64, n int, xt *float64, lo, cnt int, gamma float64, c *[15][4]uint64, table *[256]float64, out *float64)
//
// rbfRowsAVX2 for three dimensions, eight rows at a time (cnt a multiple
// of 8), bit for bit: the same operations in the same order, except that
// the exponent is clamped to [0.01, 100] before the exp instead of the
// clipped ends blended in after it (rbfNear and rbfFar are the exp of the
// two ends, computed by the same steps), and the power of two applied with
// VSCALEFPD (exact here: every result is a normal number).
TEXT ·rbfRows3AVX512(SB), NOSPLIT, $32-72
	MOVQ soa+0(FP), SI
	MOVQ n+8(FP), BX
	SHLQ $3, BX
	LEAQ (SI)(BX*1), AX
	LEAQ (AX)(BX*1), R12
	MOVQ xt+16(FP), DI
	MOVQ lo+24(FP), R8
	MOVQ cnt+32(FP), R9
	ADDQ R8, R9
	VBROADCASTSD gamma+40(FP), Z15
	MOVQ c+48(FP), DX
	MOVQ table+56(FP), R10
	MOVQ out+64(FP), R11
	VBROADCASTSD 0(DI), Z8
	VBROADCASTSD 8(DI), Z9
	VBROADCASTSD 16(DI), Z10
	VBROADCASTSD 320(DX), Z13
	VBROADCASTSD 288(DX), Z14
	VBROADCASTSD 160(DX), Z12
	VPXOR        Y11, Y11, Y11
	VMOVDQU64    tablePairs<>+0(SB), Z16
	VMOVDQU64    tablePairs<>+64(SB), Z17

loop:
	CMPQ R8, R9
	JGE  done

	// k = ((e0*e0 + e1*e1) + e2*e2) * gamma, clamped to [0.01, 100]
	VMOVUPD (SI)(R8*8), Z1
	VSUBPD  Z8, Z1, Z1
	VMULPD  Z1, Z1, Z1
	VMOVUPD (AX)(R8*8), Z2
	VSUBPD  Z9, Z2, Z2
	VMULPD  Z2, Z2, Z2
	VADDPD  Z2, Z1, Z0
	VMOVUPD (R12)(R8*8), Z3
	VSUBPD  Z10, Z3, Z3
	VMULPD  Z3, Z3, Z3
	VADDPD  Z3, Z0, Z0
	VMULPD  Z15, Z0, Z0
	VMAXPD  Z13, Z0, Z0
	VMINPD  Z14, Z0, Z0

	// m = int(k*(128/ln2) + 0.5); md = float64(m)
	VMULPD.BCST 0(DX), Z0, Z1
	VADDPD.BCST 32(DX), Z1, Z1
	VCVTTPD2DQ  Z1, Y2
	VCVTDQ2PD   Y2, Z1

	// r = k - md*ln2Hi128 - md*ln2Lo128
	VMULPD.BCST 64(DX), Z1, Z3
	VSUBPD      Z3, Z0, Z3
	VMULPD.BCST 96(DX), Z1, Z1
	VSUBPD      Z1, Z3, Z3

	// q = r*(-1 + r*(1/2 + r*(-1/6 + r*(1/24 - r*(1/120)))))
	VMULPD.BCST 128(DX), Z3, Z1
	VSUBPD      Z1, Z12, Z1
	VMULPD      Z3, Z1, Z1
	VADDPD.BCST 192(DX), Z1, Z1
	VMULPD      Z3, Z1, Z1
	VADDPD.BCST 224(DX), Z1, Z1
	VMULPD      Z3, Z1, Z1
	VADDPD.BCST 256(DX), Z1, Z1
	VMULPD      Z3, Z1, Z1

	// hi, lo = table[2(m&127)], table[2(m&127)+1] in Z5, Z7
	// (scalar loads of the eight (hi, lo) pairs, 16 bytes each, then
	// two permutations: faster than two gathers on this processor)
	VPANDD.BCST  416(DX), Y2, Y3
	VPADDD       Y3, Y3, Y3
	VMOVDQU      Y3, 0(SP)
	MOVL         0(SP), R13
	VMOVUPD      (R10)(R13*8), X5
	MOVL         4(SP), R13
	VINSERTF128  $1, (R10)(R13*8), Y5, Y5
	MOVL         8(SP), R13
	VMOVUPD      (R10)(R13*8), X6
	MOVL         12(SP), R13
	VINSERTF128  $1, (R10)(R13*8), Y6, Y6
	VINSERTF64X4 $1, Y6, Z5, Z5
	MOVL         16(SP), R13
	VMOVUPD      (R10)(R13*8), X6
	MOVL         20(SP), R13
	VINSERTF128  $1, (R10)(R13*8), Y6, Y6
	MOVL         24(SP), R13
	VMOVUPD      (R10)(R13*8), X7
	MOVL         28(SP), R13
	VINSERTF128  $1, (R10)(R13*8), Y7, Y7
	VINSERTF64X4 $1, Y7, Z6, Z6
	VMOVAPD      Z5, Z7
	VPERMT2PD    Z6, Z17, Z7
	VPERMT2PD    Z6, Z16, Z5

	// (hi + (lo + hi*q)) * 2^-(m>>7)
	VMULPD    Z1, Z5, Z1
	VADDPD    Z1, Z7, Z1
	VADDPD    Z1, Z5, Z1
	VPSRAD    $7, Y2, Y2
	VPSUBD    Y2, Y11, Y2
	VCVTDQ2PD Y2, Z2
	VSCALEFPD Z2, Z1, Z1

	VMOVUPD Z1, (R11)
	ADDQ    $64, R11
	ADDQ    $8, R8
	JMP     loop

done:
	VZEROUPPER
	RET

// func pairRanges3AVX512(soa *float64, n int, xi *float64, rows int, ranges *[2]int, nr int, lo, span uint64, out *float64) (below, kept int)
//
// pairRanges3AVX2 eight pairs at a time (every range a multiple of 8
// long): the same distances, count and kept values, the kept ones packed
// with VCOMPRESSPD and stored eight lanes at a time.
TEXT ·pairRanges3AVX512(SB), NOSPLIT, $0-88
	MOVQ soa+0(FP), SI
	MOVQ n+8(FP), BX
	SHLQ $3, BX
	LEAQ (SI)(BX*1), AX
	LEAQ (AX)(BX*1), DX
	MOVQ xi+16(FP), DI
	MOVQ nr+40(FP), CX
	SHLQ $4, CX
	ADDQ ranges+32(FP), CX
	MOVQ out+64(FP), R10
	XORQ R11, R11

	VPBROADCASTQ lo+48(FP), Z15
	VPBROADCASTQ span+56(FP), Z14
	VPXORQ       Z12, Z12, Z12

row512:
	CMPQ         rows+24(FP), $0
	JLE          done512
	VBROADCASTSD 0(DI), Z8
	VBROADCASTSD 8(DI), Z9
	VBROADCASTSD 16(DI), Z10
	MOVQ         ranges+32(FP), R15

range512:
	CMPQ R15, CX
	JGE  nextrow512
	MOVQ 0(R15), R8
	MOVQ 8(R15), R9
	ADDQ $16, R15

chunk512:
	CMPQ        R8, R9
	JGE         range512
	VSUBPD      (SI)(R8*8), Z8, Z1
	VSUBPD      (AX)(R8*8), Z9, Z2
	VSUBPD      (DX)(R8*8), Z10, Z3
	VMULPD      Z1, Z1, Z1
	VMULPD      Z2, Z2, Z2
	VMULPD      Z3, Z3, Z3
	VADDPD      Z2, Z1, Z0
	VADDPD      Z3, Z0, Z0
	VPSUBQ      Z15, Z0, Z2
	VPSRLQ      $63, Z2, Z3
	VPADDQ      Z3, Z12, Z12
	VPCMPUQ     $2, Z14, Z2, K1
	VCOMPRESSPD Z0, K1, Z4
	VMOVUPD     Z4, (R10)(R11*8)
	KMOVB       K1, R13
	POPCNTL     R13, R13
	ADDQ        R13, R11
	ADDQ        $8, R8
	JMP         chunk512

nextrow512:
	ADDQ $24, DI
	DECQ rows+24(FP)
	JMP  row512

done512:
	VEXTRACTI64X4 $1, Z12, Y1
	VPADDQ        Y1, Y12, Y1
	VEXTRACTI128  $1, Y1, X2
	VPADDQ        X2, X1, X1
	VPSHUFD       $0x4e, X1, X2
	VPADDQ        X2, X1, X1
	VMOVQ         X1, AX
	VZEROUPPER
	MOVQ          AX, below+72(FP)
	MOVQ          R11, kept+80(FP)
	RET

DATA drawConsts<>+0(SB)/8, $0x9e3779b97f4a7c15
DATA drawConsts<>+8(SB)/8, $0xbf58476d1ce4e5b9
DATA drawConsts<>+16(SB)/8, $0x94d049bb133111eb
GLOBL drawConsts<>(SB), RODATA|NOPTR, $24

DATA drawCounters<>+0(SB)/8, $1
DATA drawCounters<>+8(SB)/8, $2
DATA drawCounters<>+16(SB)/8, $3
DATA drawCounters<>+24(SB)/8, $4
DATA drawCounters<>+32(SB)/8, $5
DATA drawCounters<>+40(SB)/8, $6
DATA drawCounters<>+48(SB)/8, $7
DATA drawCounters<>+56(SB)/8, $8
GLOBL drawCounters<>(SB), RODATA|NOPTR, $64

// DRAWLANE writes to off(R11) the squared distance ((e0*e0 + e1*e1) +
// e2*e2), e = row i - row j, for the lane at off: 3i at off(SP), 3j at
// off+64(SP). It clobbers R12, R13, X0 and X1.
#define DRAWLANE(off) \
	MOVQ   off(SP), R12            \
	MOVQ   off+64(SP), R13         \
	VMOVSD (SI)(R12*8), X0         \
	VSUBSD (SI)(R13*8), X0, X0     \
	VMULSD X0, X0, X0              \
	VMOVSD 8(SI)(R12*8), X1        \
	VSUBSD 8(SI)(R13*8), X1, X1    \
	VMULSD X1, X1, X1              \
	VADDSD X1, X0, X0              \
	VMOVSD 16(SI)(R12*8), X1       \
	VSUBSD 16(SI)(R13*8), X1, X1   \
	VMULSD X1, X1, X1              \
	VADDSD X1, X0, X0              \
	VMOVSD X0, off(R11)

// func drawPairs3AVX512(x *float64, n int, out *float64, cnt int)
//
// drawPairs for three dimensions, eight draws at a time (cnt a multiple
// of 8): the same splitmix64 draws of the counter k+1, the same rows i
// and j, and the squared distance ((e0*e0 + e1*e1) + e2*e2), e = row i -
// row j, the rows read lane by lane.
TEXT ·drawPairs3AVX512(SB), NOSPLIT, $128-32
	MOVQ x+0(FP), SI
	MOVQ out+16(FP), DI
	MOVQ cnt+24(FP), CX
	XORQ R8, R8

	VPBROADCASTQ drawConsts<>+0(SB), Z24
	VPBROADCASTQ drawConsts<>+8(SB), Z25
	VPBROADCASTQ drawConsts<>+16(SB), Z26
	MOVQ         n+8(FP), AX
	VPBROADCASTQ AX, Z27
	DECQ         AX
	VPBROADCASTQ AX, Z28
	MOVQ         $1, AX
	VPBROADCASTQ AX, Z29
	MOVQ         $8, AX
	VPBROADCASTQ AX, Z30

	// Z20: the counters k+1 of the eight lanes.
	VMOVDQU64 drawCounters<>(SB), Z20

draw:
	CMPQ R8, CX
	JGE  drawdone

	// r: splitmix64 of the counter
	VPMULLQ Z24, Z20, Z0
	VPSRLQ  $30, Z0, Z1
	VPXORQ  Z1, Z0, Z0
	VPMULLQ Z25, Z0, Z0
	VPSRLQ  $27, Z0, Z1
	VPXORQ  Z1, Z0, Z0
	VPMULLQ Z26, Z0, Z0
	VPSRLQ  $31, Z0, Z1
	VPXORQ  Z1, Z0, Z0

	// i = lo32(r)*n >> 32; j = hi32(r)*(n-1) >> 32, plus 1 where j >= i
	VPMULUDQ Z27, Z0, Z2
	VPSRLQ   $32, Z2, Z2
	VPSRLQ   $32, Z0, Z3
	VPMULUDQ Z28, Z3, Z3
	VPSRLQ   $32, Z3, Z3
	VPCMPUQ  $5, Z2, Z3, K1
	VPADDQ   Z29, Z3, K1, Z3

	// 3i, 3j
	VPADDQ Z2, Z2, Z4
	VPADDQ Z4, Z2, Z2
	VPADDQ Z3, Z3, Z4
	VPADDQ Z4, Z3, Z3

	// The distances lane by lane, the rows read with scalar loads
	// (faster than six gathers on this processor).
	VMOVDQU64 Z2, 0(SP)
	VMOVDQU64 Z3, 64(SP)
	LEAQ      (DI)(R8*8), R11
	DRAWLANE(0)
	DRAWLANE(8)
	DRAWLANE(16)
	DRAWLANE(24)
	DRAWLANE(32)
	DRAWLANE(40)
	DRAWLANE(48)
	DRAWLANE(56)

	VPADDQ Z30, Z20, Z20
	ADDQ   $8, R8
	JMP    draw

drawdone:
	VZEROUPPER
	RET
