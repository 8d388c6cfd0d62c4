//go:build !purego

#include "textflag.h"

// func rbfSliceAVX2(ks *float64, n int, c *[15][4]uint64, table *[256]float64)
//
// rbfSlice four values at a time, n a multiple of 4: the same operations
// in the same order (no fused multiply-add), the table read with gathers
// and the two clipped ends blended in. c holds every constant four times
// over (see rbfVecConsts): 0 128/ln2, 1 0.5, 2 ln2Hi128, 3 ln2Lo128,
// 4 1/120, 5 1/24, 6 -1/6, 7 1/2, 8 -1, 9 100, 10 0.01, 11 rbfFar,
// 12 rbfNear, 13 int32 127, 14 int32 1023, 32 bytes apart.
TEXT ·rbfSliceAVX2(SB), NOSPLIT, $0-32
	MOVQ ks+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ c+16(FP), DX
	MOVQ table+24(FP), R8
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPD (SI)(AX*8), Y0

	// m = int(k*(128/ln2) + 0.5); md = float64(m)
	VMULPD      0(DX), Y0, Y1
	VADDPD      32(DX), Y1, Y1
	VCVTTPD2DQY Y1, X2
	VCVTDQ2PD   X2, Y1

	// r = k - md*ln2Hi128 - md*ln2Lo128
	VMULPD 64(DX), Y1, Y3
	VSUBPD Y3, Y0, Y3
	VMULPD 96(DX), Y1, Y1
	VSUBPD Y1, Y3, Y3

	// q = r*(-1 + r*(1/2 + r*(-1/6 + r*(1/24 - r*(1/120)))))
	VMULPD  128(DX), Y3, Y1
	VMOVUPD 160(DX), Y4
	VSUBPD  Y1, Y4, Y1
	VMULPD  Y3, Y1, Y1
	VADDPD  192(DX), Y1, Y1
	VMULPD  Y3, Y1, Y1
	VADDPD  224(DX), Y1, Y1
	VMULPD  Y3, Y1, Y1
	VADDPD  256(DX), Y1, Y1
	VMULPD  Y3, Y1, Y1

	// hi, lo = table[2(m&127)], table[2(m&127)+1]
	VPAND      416(DX), X2, X3
	VPADDD     X3, X3, X3
	VPCMPEQD   Y4, Y4, Y4
	VGATHERDPD Y4, (R8)(X3*8), Y5
	VPCMPEQD   Y4, Y4, Y4
	VGATHERDPD Y4, 8(R8)(X3*8), Y6

	// (hi + (lo + hi*q)) * 2^-(m>>7)
	VMULPD    Y1, Y5, Y1
	VADDPD    Y1, Y6, Y1
	VADDPD    Y1, Y5, Y1
	VPSRAD    $7, X2, X2
	VMOVDQU   448(DX), X3
	VPSUBD    X2, X3, X2
	VPMOVZXDQ X2, Y2
	VPSLLQ    $52, Y2, Y2
	VMULPD    Y2, Y1, Y1

	// k >= 100: rbfFar; k <= 0.01: rbfNear
	VCMPPD    $0x1d, 288(DX), Y0, Y2
	VBLENDVPD Y2, 352(DX), Y1, Y1
	VCMPPD    $0x12, 320(DX), Y0, Y2
	VBLENDVPD Y2, 384(DX), Y1, Y1

	VMOVUPD Y1, (SI)(AX*8)
	ADDQ    $4, AX
	JMP     loop

done:
	VZEROUPPER
	RET
