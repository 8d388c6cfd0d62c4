//go:build !purego

#include "textflag.h"

// BRACKET counts the lanes of Y0 below the bracket into Y12, packs those
// inside it to out[kept] and advances kept (R11); it clobbers Y2-Y5,
// R12 and R13.
#define BRACKET \
	VPSUBQ    Y15, Y0, Y2         \
	VPSRLQ    $63, Y2, Y3         \
	VPADDQ    Y3, Y12, Y12        \
	VPXOR     Y13, Y2, Y3         \
	VPCMPGTQ  Y14, Y3, Y3         \
	VMOVMSKPD Y3, R13             \
	XORQ      $15, R13            \
	MOVQ      R13, R12            \
	SHLQ      $5, R12             \
	VMOVDQU   (R14)(R12*1), Y4    \
	VPERMD    Y0, Y4, Y5          \
	VMOVUPD   Y5, (R10)(R11*8)    \
	POPCNTQ   R13, R13            \
	ADDQ      R13, R11

// func pairBracketAVX2(soa *float64, n, d int, xi *float64, j0, j1 int, lo, span uint64, perm *[16][8]uint32, out *float64) (below, kept int)
//
// Four squared distances at a time: acc = ((0 + e0*e0) + e1*e1) + ...,
// the same operations in the same order as sqDist (no fused multiply-add;
// for two and three dimensions the leading 0 + is left out, which changes
// nothing as the squares are >= 0).
// w = bits(acc) - lo; below counts w's top bit; the lanes with
// w <= span (unsigned) are packed to the front of the vector with a
// permutation from perm and stored at out[kept], four lanes written
// every time, kept advanced by their number.
TEXT ·pairBracketAVX2(SB), NOSPLIT, $0-96
	MOVQ soa+0(FP), SI
	MOVQ n+8(FP), BX
	SHLQ $3, BX
	MOVQ d+16(FP), CX
	MOVQ xi+24(FP), DI
	MOVQ j0+32(FP), R8
	MOVQ j1+40(FP), R9
	MOVQ perm+64(FP), R14
	MOVQ out+72(FP), R10
	XORQ R11, R11

	VPBROADCASTQ lo+48(FP), Y15
	MOVQ $0x8000000000000000, AX
	MOVQ AX, X13
	VPBROADCASTQ X13, Y13
	MOVQ span+56(FP), DX
	XORQ AX, DX
	MOVQ DX, X14
	VPBROADCASTQ X14, Y14
	VPXOR Y12, Y12, Y12
	CMPQ  CX, $3
	JEQ   three
	CMPQ  CX, $2
	JEQ   two

chunk:
	CMPQ R8, R9
	JGE  done
	VXORPD Y0, Y0, Y0
	LEAQ (SI)(R8*8), AX
	MOVQ DI, DX
	MOVQ CX, R12

dim:
	VBROADCASTSD (DX), Y1
	VSUBPD       (AX), Y1, Y1
	VMULPD       Y1, Y1, Y1
	VADDPD       Y1, Y0, Y0
	ADDQ         $8, DX
	ADDQ         BX, AX
	DECQ         R12
	JNZ          dim

	BRACKET
	ADDQ $4, R8
	JMP  chunk

	// Two and three dimensions: the row's values broadcast once, the
	// columns read directly.
two:
	VBROADCASTSD 0(DI), Y8
	VBROADCASTSD 8(DI), Y9
	LEAQ         (SI)(BX*1), AX

chunk2:
	CMPQ   R8, R9
	JGE    done
	VSUBPD (SI)(R8*8), Y8, Y1
	VSUBPD (AX)(R8*8), Y9, Y2
	VMULPD Y1, Y1, Y1
	VMULPD Y2, Y2, Y2
	VADDPD Y2, Y1, Y0
	BRACKET
	ADDQ   $4, R8
	JMP    chunk2

three:
	VBROADCASTSD 0(DI), Y8
	VBROADCASTSD 8(DI), Y9
	VBROADCASTSD 16(DI), Y10
	LEAQ         (SI)(BX*1), AX
	LEAQ         (AX)(BX*1), DX

chunk3:
	CMPQ   R8, R9
	JGE    done
	VSUBPD (SI)(R8*8), Y8, Y1
	VSUBPD (AX)(R8*8), Y9, Y2
	VSUBPD (DX)(R8*8), Y10, Y3
	VMULPD Y1, Y1, Y1
	VMULPD Y2, Y2, Y2
	VMULPD Y3, Y3, Y3
	VADDPD Y2, Y1, Y0
	VADDPD Y3, Y0, Y0
	BRACKET
	ADDQ   $4, R8
	JMP    chunk3

done:
	VEXTRACTI128 $1, Y12, X1
	VPADDQ       X1, X12, X1
	VPSHUFD      $0x4e, X1, X2
	VPADDQ       X2, X1, X1
	VMOVQ        X1, AX
	VZEROUPPER
	MOVQ         AX, below+80(FP)
	MOVQ         R11, kept+88(FP)
	RET

// func pairRanges3AVX2(soa *float64, n int, xi *float64, rows int, ranges *[2]int, nr int, lo, span uint64, perm *[16][8]uint32, out *float64) (below, kept int)
//
// pairBracketAVX2's three-dimensional loop for rows consecutive rows
// from xi (row-major) against the columns of nr ranges [ranges[q][0],
// ranges[q][1]) of the column-major copy soa, every range a multiple of 4
// long: the same distances, counts and kept values, in one call.
TEXT ·pairRanges3AVX2(SB), NOSPLIT, $0-96
	MOVQ soa+0(FP), SI
	MOVQ n+8(FP), BX
	SHLQ $3, BX
	LEAQ (SI)(BX*1), AX
	LEAQ (AX)(BX*1), DX
	MOVQ xi+16(FP), DI
	MOVQ nr+40(FP), CX
	SHLQ $4, CX
	ADDQ ranges+32(FP), CX
	MOVQ perm+64(FP), R14
	MOVQ out+72(FP), R10
	XORQ R11, R11

	VPBROADCASTQ lo+48(FP), Y15
	MOVQ         $0x8000000000000000, R12
	MOVQ         R12, X13
	VPBROADCASTQ X13, Y13
	MOVQ         span+56(FP), R13
	XORQ         R12, R13
	MOVQ         R13, X14
	VPBROADCASTQ X14, Y14
	VPXOR        Y12, Y12, Y12

row:
	CMPQ         rows+24(FP), $0
	JLE          rangesdone
	VBROADCASTSD 0(DI), Y8
	VBROADCASTSD 8(DI), Y9
	VBROADCASTSD 16(DI), Y10
	MOVQ         ranges+32(FP), R15

nextrange:
	CMPQ R15, CX
	JGE  nextrow
	MOVQ 0(R15), R8
	MOVQ 8(R15), R9
	ADDQ $16, R15

chunkr:
	CMPQ   R8, R9
	JGE    nextrange
	VSUBPD (SI)(R8*8), Y8, Y1
	VSUBPD (AX)(R8*8), Y9, Y2
	VSUBPD (DX)(R8*8), Y10, Y3
	VMULPD Y1, Y1, Y1
	VMULPD Y2, Y2, Y2
	VMULPD Y3, Y3, Y3
	VADDPD Y2, Y1, Y0
	VADDPD Y3, Y0, Y0
	BRACKET
	ADDQ   $4, R8
	JMP    chunkr

nextrow:
	ADDQ $24, DI
	DECQ rows+24(FP)
	JMP  row

rangesdone:
	VEXTRACTI128 $1, Y12, X1
	VPADDQ       X1, X12, X1
	VPSHUFD      $0x4e, X1, X2
	VPADDQ       X2, X1, X1
	VMOVQ        X1, AX
	VZEROUPPER
	MOVQ         AX, below+80(FP)
	MOVQ         R11, kept+88(FP)
	RET

// func bracketValuesAVX2(vals *float64, n int, lo, span uint64, perm *[16][8]uint32, out *float64) (below, kept int)
//
// BRACKET over vals[0:n], n a multiple of 4: the values (>= 0) with bits
// below lo counted, those with bits-lo <= span written to out.
TEXT ·bracketValuesAVX2(SB), NOSPLIT, $0-64
	MOVQ vals+0(FP), SI
	MOVQ n+8(FP), R9
	MOVQ perm+32(FP), R14
	MOVQ out+40(FP), R10
	XORQ R11, R11
	XORQ R8, R8

	VPBROADCASTQ lo+16(FP), Y15
	MOVQ         $0x8000000000000000, AX
	MOVQ         AX, X13
	VPBROADCASTQ X13, Y13
	MOVQ         span+24(FP), DX
	XORQ         AX, DX
	MOVQ         DX, X14
	VPBROADCASTQ X14, Y14
	VPXOR        Y12, Y12, Y12

values:
	CMPQ    R8, R9
	JGE     valuesdone
	VMOVUPD (SI)(R8*8), Y0
	BRACKET
	ADDQ    $4, R8
	JMP     values

valuesdone:
	VEXTRACTI128 $1, Y12, X1
	VPADDQ       X1, X12, X1
	VPSHUFD      $0x4e, X1, X2
	VPADDQ       X2, X1, X1
	VMOVQ        X1, AX
	VZEROUPPER
	MOVQ         AX, below+48(FP)
	MOVQ         R11, kept+56(FP)
	RET
