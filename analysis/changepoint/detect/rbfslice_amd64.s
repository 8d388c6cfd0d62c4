//go:build !purego

#include "textflag.h"

// RBF replaces the four values k of Y0 by rbf(k) in Y1, the steps of
// rbfSliceGo in the same order (no fused multiply-add): m = int(k*(128/ln2)
// + 0.5) and md = float64(m); r = k - md*ln2Hi128 - md*ln2Lo128; q =
// r*(-1 + r*(1/2 + r*(-1/6 + r*(1/24 - r/120)))); hi, lo =
// table[2(m&127)], table[2(m&127)+1] by scalar-indexed loads of the four
// (hi, lo) pairs (faster than two gathers on AMD's processors, through a
// 16-byte stack slot at 0(SP) and R14); (hi + (lo + hi*q)) *
// 2^-(m>>7); then rbfFar where k >= 100 and rbfNear where k <= 0.01,
// blended in. DX holds the constants (see rbfSliceAVX2), R10 the table;
// it clobbers Y2-Y6, R14 and 0(SP)-15(SP) (its users have a 16-byte
// frame).
#define RBF \
	VMULPD      0(DX), Y0, Y1 \
	VADDPD      32(DX), Y1, Y1 \
	VCVTTPD2DQY Y1, X2 \
	VCVTDQ2PD   X2, Y1 \
	VMULPD 64(DX), Y1, Y3 \
	VSUBPD Y3, Y0, Y3 \
	VMULPD 96(DX), Y1, Y1 \
	VSUBPD Y1, Y3, Y3 \
	VMULPD  128(DX), Y3, Y1 \
	VMOVUPD 160(DX), Y4 \
	VSUBPD  Y1, Y4, Y1 \
	VMULPD  Y3, Y1, Y1 \
	VADDPD  192(DX), Y1, Y1 \
	VMULPD  Y3, Y1, Y1 \
	VADDPD  224(DX), Y1, Y1 \
	VMULPD  Y3, Y1, Y1 \
	VADDPD  256(DX), Y1, Y1 \
	VMULPD  Y3, Y1, Y1 \
	VPAND      416(DX), X2, X3 \
	VPADDD     X3, X3, X3 \
	VMOVDQU    X3, 0(SP) \
	MOVL       0(SP), R14 \
	VMOVUPD    (R10)(R14*8), X5 \
	MOVL       4(SP), R14 \
	VINSERTF128 $1, (R10)(R14*8), Y5, Y5 \
	MOVL       8(SP), R14 \
	VMOVUPD    (R10)(R14*8), X6 \
	MOVL       12(SP), R14 \
	VINSERTF128 $1, (R10)(R14*8), Y6, Y6 \
	VUNPCKHPD  Y6, Y5, Y4 \
	VUNPCKLPD  Y6, Y5, Y5 \
	VPERMPD    $0xD8, Y5, Y5 \
	VPERMPD    $0xD8, Y4, Y6 \
	VMULPD    Y1, Y5, Y1 \
	VADDPD    Y1, Y6, Y1 \
	VADDPD    Y1, Y5, Y1 \
	VPSRAD    $7, X2, X2 \
	VMOVDQU   448(DX), X3 \
	VPSUBD    X2, X3, X2 \
	VPMOVZXDQ X2, Y2 \
	VPSLLQ    $52, Y2, Y2 \
	VMULPD    Y2, Y1, Y1 \
	VCMPPD    $0x1d, 288(DX), Y0, Y2 \
	VBLENDVPD Y2, 352(DX), Y1, Y1 \
	VCMPPD    $0x12, 320(DX), Y0, Y2 \
	VBLENDVPD Y2, 384(DX), Y1, Y1

// func rbfSliceAVX2(ks *float64, n int, c *[15][4]uint64, table *[256]float64)
//
// rbfSlice four values at a time, n a multiple of 4: the same operations
// in the same order (no fused multiply-add), the table read with gathers
// and the two clipped ends blended in. c holds every constant four times
// over (see rbfVecConsts): 0 128/ln2, 1 0.5, 2 ln2Hi128, 3 ln2Lo128,
// 4 1/120, 5 1/24, 6 -1/6, 7 1/2, 8 -1, 9 100, 10 0.01, 11 rbfFar,
// 12 rbfNear, 13 int32 127, 14 int32 1023, 32 bytes apart.
TEXT ·rbfSliceAVX2(SB), NOSPLIT, $16-32
	MOVQ ks+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ c+16(FP), DX
	MOVQ table+24(FP), R10
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPD (SI)(AX*8), Y0

	RBF
	VMOVUPD Y1, (SI)(AX*8)
	ADDQ    $4, AX
	JMP     loop

done:
	VZEROUPPER
	RET

// func rbfRowsAVX2(soa *float64, n, d int, xt *float64, lo, cnt int, gamma float64, c *[15][4]uint64, table *[256]float64, out *float64)
//
// out[i] = rbf(gamma * sqDist(row lo+i, xt)) for i < cnt (a multiple of 4),
// the rows read from the column-major copy soa (soa[k*n+j] is value k of
// row j): the squares summed in dimension order as sqDist sums them (the
// leading 0 + left out for three dimensions, which changes nothing as the
// squares are >= 0), then RBF.
TEXT ·rbfRowsAVX2(SB), NOSPLIT, $16-80
	MOVQ soa+0(FP), SI
	MOVQ n+8(FP), BX
	SHLQ $3, BX
	MOVQ d+16(FP), CX
	MOVQ xt+24(FP), DI
	MOVQ lo+32(FP), R8
	MOVQ cnt+40(FP), R9
	ADDQ R8, R9
	VBROADCASTSD gamma+48(FP), Y15
	MOVQ c+56(FP), DX
	MOVQ table+64(FP), R10
	MOVQ out+72(FP), R11
	CMPQ CX, $3
	JEQ  three

rows:
	CMPQ R8, R9
	JGE  rowsdone
	VXORPD Y0, Y0, Y0
	LEAQ (SI)(R8*8), AX
	MOVQ DI, R12
	MOVQ CX, R13

rowsdim:
	VBROADCASTSD (R12), Y1
	VMOVUPD      (AX), Y2
	VSUBPD       Y1, Y2, Y2
	VMULPD       Y2, Y2, Y2
	VADDPD       Y2, Y0, Y0
	ADDQ         $8, R12
	ADDQ         BX, AX
	DECQ         R13
	JNZ          rowsdim

	VMULPD  Y15, Y0, Y0
	RBF
	VMOVUPD Y1, (R11)
	ADDQ    $32, R11
	ADDQ    $4, R8
	JMP     rows

three:
	VBROADCASTSD 0(DI), Y8
	VBROADCASTSD 8(DI), Y9
	VBROADCASTSD 16(DI), Y10
	LEAQ         (SI)(BX*1), AX
	LEAQ         (AX)(BX*1), R12

rows3:
	CMPQ    R8, R9
	JGE     rowsdone
	VMOVUPD (SI)(R8*8), Y1
	VSUBPD  Y8, Y1, Y1
	VMULPD  Y1, Y1, Y1
	VMOVUPD (AX)(R8*8), Y2
	VSUBPD  Y9, Y2, Y2
	VMULPD  Y2, Y2, Y2
	VADDPD  Y2, Y1, Y0
	VMOVUPD (R12)(R8*8), Y3
	VSUBPD  Y10, Y3, Y3
	VMULPD  Y3, Y3, Y3
	VADDPD  Y3, Y0, Y0
	VMULPD  Y15, Y0, Y0
	RBF
	VMOVUPD Y1, (R11)
	ADDQ    $32, R11
	ADDQ    $4, R8
	JMP     rows3

rowsdone:
	VZEROUPPER
	RET
