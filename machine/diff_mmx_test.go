package machine

import (
	"fmt"
	"testing"
)

func mmxSnippets() []snippet {
	var s []snippet
	add := func(f string, args ...any) {
		s = append(s, snippet{asm: fmt.Sprintf(f, args...)})
	}
	// Results go to [r15+128..]; every snippet ends with emms so the x87
	// state of the next one is clean.
	binops := []string{"paddb", "paddw", "paddd", "paddq", "psubb", "psubw", "psubd", "psubq",
		"paddsb", "paddsw", "paddusb", "paddusw", "psubsb", "psubsw", "psubusb", "psubusw",
		"pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpgtb", "pcmpgtw", "pcmpgtd", "pand", "pandn", "por", "pxor",
		"pminub", "pmaxub", "pminsw", "pmaxsw", "pavgb", "pavgw", "pmullw", "pmulhw", "pmulhuw", "pmulhrsw",
		"pmuludq", "pmaddwd", "pmaddubsw", "psadbw", "punpcklbw", "punpcklwd", "punpckldq",
		"punpckhbw", "punpckhwd", "punpckhdq", "packsswb", "packuswb", "packssdw", "pshufb",
		"pabsb", "pabsw", "pabsd", "psignb", "psignw", "psignd", "phaddw", "phaddd", "phsubw", "phsubd", "phaddsw", "phsubsw"}
	for _, op := range binops {
		add("movq mm0, [r15]; movq mm1, [r15+8]; %s mm0, mm1; movq [r15+128], mm0; movq mm2, [r15+16]; %s mm2, [r15+24]; movq [r15+136], mm2; %s mm3, mm3; movq [r15+144], mm3; emms", op, op, op)
	}
	for _, op := range []string{"psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad"} {
		add("movq mm0, [r15]; %s mm0, 3; movq [r15+128], mm0; movq mm1, [r15+8]; %s mm1, 17; movq [r15+136], mm1; movq mm2, [r15+16]; %s mm2, 40; movq [r15+144], mm2; emms", op, op, op)
		add("and ecx, 63; movd mm4, ecx; movq mm0, [r15]; %s mm0, mm4; movq [r15+128], mm0; movq mm1, [r15+8]; %s mm1, [r15+24]; movq [r15+136], mm1; emms", op, op)
	}
	for _, imm := range []int{0, 1, 3, 7, 8, 9, 15, 16, 0x1b, 0xe4, 0xff} {
		add("movq mm0, [r15]; movq mm1, [r15+8]; palignr mm0, mm1, %d; movq [r15+128], mm0; pshufw mm2, mm1, %d; movq [r15+136], mm2; pshufw mm3, [r15+16], %d; movq [r15+144], mm3; emms", imm, imm, imm)
	}
	add("movd mm0, eax; movq [r15+128], mm0; movd mm1, [r15]; movq [r15+136], mm1; movq mm2, [r15+8]; movd ecx, mm2; movd [r15+144], mm2; emms")
	add("movq mm0, rax; movq rcx, mm0; movq mm1, [r15]; movq mm2, mm1; movq [r15+128], mm2; movntq [r15+136], mm1; emms")
	add("movq mm0, [r15]; pextrw eax, mm0, 1; pextrw ecx, mm0, 3; pinsrw mm0, edx, 2; pinsrw mm0, [r15+8], 0; movq [r15+128], mm0; pmovmskb ebx, mm0; emms")
	add("movq mm0, [r15]; movq2dq xmm3, mm0; movdq2q mm1, xmm4; movq [r15+128], mm1; emms")
	add("lea rdi, [r15+64]; movq mm0, [r15]; movq mm1, [r15+8]; maskmovq mm0, mm1; emms")
	add("movq mm0, [r15]; cvtpi2ps xmm0, mm0; cvtpi2pd xmm1, mm0; cvtpi2ps xmm2, [r15+8]; cvtpi2pd xmm3, [r15+16]; emms")
	add("cvtps2pi mm0, xmm0; cvttps2pi mm1, xmm1; cvtpd2pi mm2, xmm2; cvttpd2pi mm3, xmm3; cvtps2pi mm4, [r15]; cvttpd2pi mm5, [r15+16]; movq [r15+128], mm0; movq [r15+136], mm1; movq [r15+144], mm2; movq [r15+152], mm3; movq [r15+160], mm4; movq [r15+168], mm5; stmxcsr [r15+176]; emms")
	// The aliasing onto the x87 file: TOP, the tag word and the exponents.
	// The native runner's x87 registers hold what earlier snippets left
	// (fninit does not clear them): zero all eight first.
	const clear = "fninit; fldz; fldz; fldz; fldz; fldz; fldz; fldz; fldz; fninit;"
	const env = "fnstenv [r15+200]; mov dword ptr [r15+212], 0; mov dword ptr [r15+216], 0; mov dword ptr [r15+220], 0; mov dword ptr [r15+224], 0"
	add(clear+"fld1; fldpi; movq mm3, [r15]; %s; fninit", env)
	add(clear+"fld1; fldpi; movq mm3, [r15]; emms; %s; fninit", env)
	add(clear+"fld1; fldz; movq [r15+128], mm0; movq [r15+136], mm1; movq [r15+144], mm7; %s; fninit", env)
	add(clear+"mov rbx, rsp; sub rsp, 1024; and rsp, -16; movq mm2, [r15]; fxsave [rsp]; emms; fld tbyte ptr [rsp+64]; fstp tbyte ptr [r15+128]; fnstsw ax; mov rsp, rbx; %s; fninit", env)
	return s
}

func TestDiffMMX(t *testing.T) {
	runDiff(t, mmxSnippets(), 12)
}
