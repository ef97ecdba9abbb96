package machine

import (
	"fmt"
	"testing"
)

func sseSnippets() []snippet {
	var s []snippet
	add := func(undef uint64, f string, args ...any) {
		s = append(s, snippet{asm: fmt.Sprintf(f, args...), undef: undef})
	}
	binops := []string{"pxor", "por", "pand", "pandn", "xorps", "xorpd", "andps", "andpd", "andnps", "andnpd", "orps", "orpd",
		"paddb", "paddw", "paddd", "paddq", "psubb", "psubw", "psubd", "psubq", "paddsb", "paddsw", "paddusb", "paddusw",
		"psubsb", "psubsw", "psubusb", "psubusw", "pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpeqq", "pcmpgtb", "pcmpgtw", "pcmpgtd", "pcmpgtq",
		"pminub", "pmaxub", "pminsb", "pmaxsb", "pminuw", "pmaxuw", "pminsw", "pmaxsw", "pminud", "pmaxud", "pminsd", "pmaxsd",
		"pavgb", "pavgw", "pmullw", "pmulhw", "pmulhuw", "pmulhrsw", "pmulld", "pmuludq", "pmuldq", "pmaddwd", "pmaddubsw", "psadbw",
		"punpcklbw", "punpckhbw", "punpcklwd", "punpckhwd", "punpckldq", "punpckhdq", "punpcklqdq", "punpckhqdq",
		"unpcklps", "unpckhps", "unpcklpd", "unpckhpd", "packsswb", "packuswb", "packssdw", "packusdw", "pshufb",
		"pabsb", "pabsw", "pabsd", "psignb", "psignw", "psignd", "phaddw", "phaddd", "phsubw", "phsubd", "phaddsw", "phsubsw",
		"pmovzxbw", "pmovzxbd", "pmovzxbq", "pmovzxwd", "pmovzxwq", "pmovzxdq", "pmovsxbw", "pmovsxbd", "pmovsxbq", "pmovsxwd", "pmovsxwq", "pmovsxdq",
		"phminposuw", "movddup", "movshdup", "movsldup",
		"addps", "addpd", "addss", "addsd", "subps", "subpd", "subss", "subsd", "mulps", "mulpd", "mulss", "mulsd",
		"divps", "divpd", "divss", "divsd", "minps", "minpd", "minss", "minsd", "maxps", "maxpd", "maxss", "maxsd",
		"sqrtps", "sqrtpd", "sqrtss", "sqrtsd", "haddps", "haddpd", "hsubps", "hsubpd", "addsubps", "addsubpd",
		"cvtsd2ss", "cvtss2sd", "cvtdq2pd", "cvtpd2dq", "cvttpd2dq", "cvtdq2ps", "cvtps2dq", "cvttps2dq", "cvtps2pd", "cvtpd2ps",
		"movdqa", "movdqu", "movaps", "movups", "movapd", "movupd", "movss", "movsd", "movq"}
	for _, op := range binops {
		add(0, "%s xmm0, xmm1", op)
		add(0, "%s xmm2, xmm2", op)
		add(0, "%s xmm9, [r15+32]", op)
	}
	for _, op := range []string{"pshufd", "pshuflw", "pshufhw", "shufps", "shufpd", "palignr", "pblendw", "blendps", "blendpd",
		"insertps", "cmpps", "cmppd", "cmpss", "cmpsd", "roundps", "roundpd", "roundss", "roundsd", "dpps", "dppd"} {
		for _, imm := range []int{0, 1, 2, 3, 5, 6, 7, 0x1b, 0x4e, 0xe4, 0x31, 0xff, 0x0c, 0x0f} {
			if (op == "roundps" || op == "roundpd" || op == "roundss" || op == "roundsd") && imm > 15 {
				continue
			}
			add(0, "%s xmm0, xmm1, %d", op, imm)
		}
		add(0, "%s xmm3, [r15+16], 9", op)
	}
	for _, op := range []string{"pcmpistri", "pcmpistrm", "pcmpestri", "pcmpestrm"} {
		for _, imm := range []int{0x00, 0x01, 0x02, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1a, 0x30, 0x38, 0x40, 0x44, 0x48, 0x4c, 0x3a, 0x72} {
			add(0, "mov eax, 7; mov edx, 12; %s xmm0, xmm1, %d", op, imm)
			add(0, "and eax, 31; sub eax, 10; and edx, 31; sub edx, 12; %s xmm2, xmmword ptr [r15+3], %d", op, imm)
		}
	}
	for _, op := range []string{"ptest", "comiss", "comisd", "ucomiss", "ucomisd"} {
		add(0, "%s xmm0, xmm1", op)
		add(0, "%s xmm4, xmm4", op)
		add(0, "%s xmm5, [r15+16]", op)
	}
	for _, op := range []string{"psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad"} {
		add(0, "%s xmm0, 3", op)
		add(0, "%s xmm1, 17", op)
		add(0, "%s xmm2, 40", op)
		add(0, "%s xmm3, xmm4", op)
		add(0, "movq xmm5, rcx; and ecx, 63; movq xmm6, rcx; %s xmm7, xmm6; %s xmm8, xmm5", op, op)
	}
	add(0, "pslldq xmm0, 3; psrldq xmm1, 5; pslldq xmm2, 17; psrldq xmm3, 16")
	add(0, "movd xmm0, eax; movd xmm1, [r15]; movd ecx, xmm2; movd [r15+4], xmm3")
	add(0, "movq xmm0, rax; movq xmm1, [r15]; movq rcx, xmm2; movq [r15+8], xmm3; movq xmm4, xmm5")
	add(0, "movss xmm0, [r15]; movss [r15+4], xmm1; movsd xmm2, [r15+8]; movsd [r15+16], xmm3; movss xmm4, xmm5; movsd xmm6, xmm7")
	add(0, "movhps xmm0, [r15]; movhps [r15+16], xmm1; movlps xmm2, [r15+8]; movlps [r15+24], xmm3")
	add(0, "movhpd xmm0, [r15]; movhpd [r15+16], xmm1; movlpd xmm2, [r15+8]; movlpd [r15+24], xmm3")
	add(0, "movhlps xmm0, xmm1; movlhps xmm2, xmm3")
	add(0, "movmskps eax, xmm0; movmskpd ecx, xmm1; pmovmskb edx, xmm2")
	add(0, "movdqa [r15+32], xmm0; movups [r15+7], xmm1; movntdq [r15+64], xmm2; movnti [r15+100], rax; lddqu xmm3, [r15+5]")
	add(0, "pextrw eax, xmm0, 3; pextrb ecx, xmm1, 9; pextrd edx, xmm2, 2; pextrq rbx, xmm3, 1; extractps esi, xmm4, 3")
	add(0, "pextrb [r15], xmm1, 9; pextrw [r15+2], xmm0, 7; pextrd [r15+4], xmm2, 1; pextrq [r15+8], xmm3, 0")
	add(0, "pinsrw xmm0, eax, 3; pinsrb xmm1, ecx, 9; pinsrd xmm2, edx, 2; pinsrq xmm3, rbx, 1; pinsrw xmm4, [r15], 5")
	add(0, "pblendvb xmm1, xmm2; blendvps xmm3, xmm4; blendvpd xmm5, xmm6")
	add(0, "cvtsi2sd xmm0, eax; cvtsi2sd xmm1, rcx; cvtsi2ss xmm2, edx; cvtsi2ss xmm3, rbx; cvtsi2sd xmm4, qword ptr [r15]")
	add(0, "cvttsd2si eax, xmm0; cvttsd2si rcx, xmm1; cvtsd2si edx, xmm2; cvtsd2si rbx, xmm3")
	add(0, "cvttss2si eax, xmm0; cvttss2si rcx, xmm1; cvtss2si edx, xmm2; cvtss2si rbx, xmm3")
	add(0, "stmxcsr [r15]; mov eax, [r15]")
	for _, rc := range []int{0x1f80, 0x3f80, 0x5f80, 0x7f80} {
		for _, op := range []string{"addsd", "subsd", "mulsd", "divsd", "sqrtsd", "addps", "mulps", "divps", "sqrtps", "cvtsd2ss", "cvtpd2ps", "cvtsd2si rax,", "cvtps2dq", "cvtpd2dq", "cvtsi2sd xmm0, rcx; cvtsi2ss xmm1, rdx; addss"} {
			a := op + " xmm0, xmm1"
			if op == "cvtsd2si rax," {
				a = "cvtsd2si rax, xmm1"
			}
			add(0, "mov dword ptr [r15+200], %d; ldmxcsr [r15+200]; %s; stmxcsr [r15+204]; and dword ptr [r15+204], 0xffcd; mov dword ptr [r15+200], 0x1f80; ldmxcsr [r15+200]", rc, a)
		}
		add(0, "mov dword ptr [r15+200], %d; ldmxcsr [r15+200]; roundsd xmm0, xmm1, 4; roundps xmm2, xmm3, 4; mov dword ptr [r15+200], 0x1f80; ldmxcsr [r15+200]", rc)
	}
	add(0, "lea rdi, [r15+40]; maskmovdqu xmm1, xmm2")
	for _, imm := range []int{0, 1, 2, 3, 4, 5, 6, 7} {
		add(0, "mpsadbw xmm0, xmm1, %d", imm)
	}
	add(0, "crc32 eax, cl; crc32 ebx, dx; crc32 ecx, esi; crc32 rdx, rdi; crc32 eax, byte ptr [r15]")
	return s
}

func TestDiffSSE(t *testing.T) {
	runDiff(t, sseSnippets(), 16)
}
