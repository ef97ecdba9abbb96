package machine

import (
	"fmt"
	"testing"
)

func avxSnippets() []snippet {
	var s []snippet
	add := func(undef uint64, f string, args ...any) {
		s = append(s, snippet{asm: fmt.Sprintf(f, args...), undef: undef})
	}
	// Per-lane binary ops: 128 and 256, register and memory, dst = src.
	lane := []string{"vpxor", "vpor", "vpand", "vpandn", "vxorps", "vxorpd", "vandps", "vandpd", "vandnps", "vandnpd", "vorps", "vorpd",
		"vpaddb", "vpaddw", "vpaddd", "vpaddq", "vpsubb", "vpsubw", "vpsubd", "vpsubq", "vpaddsb", "vpaddsw", "vpaddusb", "vpaddusw",
		"vpsubsb", "vpsubsw", "vpsubusb", "vpsubusw", "vpcmpeqb", "vpcmpeqw", "vpcmpeqd", "vpcmpeqq", "vpcmpgtb", "vpcmpgtw", "vpcmpgtd", "vpcmpgtq",
		"vpminub", "vpmaxub", "vpminsb", "vpmaxsb", "vpminuw", "vpmaxuw", "vpminsw", "vpmaxsw", "vpminud", "vpmaxud", "vpminsd", "vpmaxsd",
		"vpavgb", "vpavgw", "vpmullw", "vpmulhw", "vpmulhuw", "vpmulhrsw", "vpmulld", "vpmuludq", "vpmuldq", "vpmaddwd", "vpmaddubsw", "vpsadbw",
		"vpunpcklbw", "vpunpckhbw", "vpunpcklwd", "vpunpckhwd", "vpunpckldq", "vpunpckhdq", "vpunpcklqdq", "vpunpckhqdq",
		"vunpcklps", "vunpckhps", "vunpcklpd", "vunpckhpd", "vpacksswb", "vpackuswb", "vpackssdw", "vpackusdw", "vpshufb",
		"vpsignb", "vpsignw", "vpsignd", "vphaddw", "vphaddd", "vphsubw", "vphsubd", "vphaddsw", "vphsubsw",
		"vaddps", "vaddpd", "vsubps", "vsubpd", "vmulps", "vmulpd", "vdivps", "vdivpd", "vminps", "vminpd", "vmaxps", "vmaxpd",
		"vhaddps", "vhaddpd", "vhsubps", "vhsubpd", "vaddsubps", "vaddsubpd",
		"vpsllvd", "vpsllvq", "vpsrlvd", "vpsrlvq", "vpsravd", "vpermilps", "vpermilpd"}
	for _, op := range lane {
		add(0, "%s xmm0, xmm1, xmm2", op)
		add(0, "%s ymm3, ymm4, ymm5", op)
		add(0, "%s ymm6, ymm6, ymm6", op)
		add(0, "%s xmm9, xmm10, [r15+32]", op)
		add(0, "%s ymm11, ymm12, [r15+33]", op)
	}
	for _, op := range []string{"vpermd", "vpermps"} {
		add(0, "%s ymm3, ymm4, ymm5", op)
		add(0, "%s ymm11, ymm12, [r15+33]", op)
	}
	scalar := []string{"vaddss", "vaddsd", "vsubss", "vsubsd", "vmulss", "vmulsd", "vdivss", "vdivsd", "vminss", "vminsd",
		"vmaxss", "vmaxsd", "vsqrtss", "vsqrtsd", "vcvtss2sd", "vcvtsd2ss"}
	for _, op := range scalar {
		add(0, "%s xmm0, xmm1, xmm2", op)
		add(0, "%s xmm7, xmm7, xmm8", op)
		m := "dword"
		if op[len(op)-1] == 'd' && op != "vcvtsd2ss" || op == "vcvtsd2ss" {
			m = "qword"
		}
		if op == "vcvtss2sd" {
			m = "dword"
		}
		add(0, "%s xmm9, xmm10, %s ptr [r15+36]", op, m)
	}
	unary := []string{"vpabsb", "vpabsw", "vpabsd", "vsqrtps", "vsqrtpd", "vmovddup", "vmovshdup", "vmovsldup",
		"vcvtdq2ps", "vcvtps2dq", "vcvttps2dq", "vmovdqu", "vmovups", "vmovupd"}
	for _, op := range unary {
		add(0, "%s xmm0, xmm1", op)
		add(0, "%s ymm2, ymm3", op)
		add(0, "%s xmm4, [r15+5]", op)
		add(0, "%s ymm5, [r15+7]", op)
	}
	for _, op := range []string{"vmovdqa", "vmovaps", "vmovapd"} {
		add(0, "%s xmm0, xmm1; %s ymm2, ymm3; %s xmm4, [r15+16]; %s ymm5, [r15+32]; %s [r15+64], xmm6; %s [r15+96], ymm7", op, op, op, op, op, op)
	}
	add(0, "vmovdqu [r15+3], xmm1; vmovdqu [r15+40], ymm2; vmovups [r15+77], ymm3; vmovupd [r15+120], xmm4; vlddqu xmm5, [r15+9]; vlddqu ymm6, [r15+11]")
	add(0, "vmovntdq [r15+32], xmm1; vmovntdq [r15+64], ymm2; vmovntps [r15+128], ymm3; vmovntpd [r15+160], xmm4; vmovntdqa xmm5, [r15+16]; vmovntdqa ymm6, [r15+32]")
	// Widening and narrowing.
	for _, op := range []string{"vpmovzxbw", "vpmovzxbd", "vpmovzxbq", "vpmovzxwd", "vpmovzxwq", "vpmovzxdq",
		"vpmovsxbw", "vpmovsxbd", "vpmovsxbq", "vpmovsxwd", "vpmovsxwq", "vpmovsxdq", "vcvtdq2pd", "vcvtps2pd"} {
		add(0, "%s xmm0, xmm1", op)
		add(0, "%s ymm2, xmm3", op)
		add(0, "%s xmm4, [r15+5]", op)
		add(0, "%s ymm5, [r15+7]", op)
	}
	for _, op := range []string{"vcvtpd2ps", "vcvtpd2dq", "vcvttpd2dq"} {
		add(0, "%s xmm0, xmm1", op)
		add(0, "%s xmm2, ymm3", op)
		add(0, "%s xmm4, xmmword ptr [r15+5]", op)
		add(0, "%s xmm5, ymmword ptr [r15+7]", op)
	}
	// Immediate forms.
	for _, op := range []string{"vpshufd", "vpshuflw", "vpshufhw", "vpermilps", "vpermilpd", "vroundps", "vroundpd"} {
		for _, imm := range []int{0, 1, 3, 0x1b, 0x4e, 0xe4, 0xb1} {
			if (op == "vroundps" || op == "vroundpd") && imm > 15 {
				continue
			}
			add(0, "%s xmm0, xmm1, %d", op, imm)
			add(0, "%s ymm2, ymm3, %d", op, imm)
		}
		add(0, "%s ymm4, [r15+16], 9", op)
	}
	for _, op := range []string{"vshufps", "vshufpd", "vpalignr", "vpblendw", "vblendps", "vblendpd", "vdpps", "vmpsadbw", "vpblendd",
		"vcmpps", "vcmppd", "vperm2i128", "vperm2f128"} {
		for _, imm := range []int{0, 1, 2, 3, 5, 7, 8, 0x0f, 0x13, 0x1b, 0x1f, 0x31, 0x4e, 0x88, 0xe4, 0xff} {
			if (op == "vcmpps" || op == "vcmppd") && imm > 31 {
				continue
			}
			if op != "vperm2i128" && op != "vperm2f128" {
				add(0, "%s xmm0, xmm1, xmm2, %d", op, imm)
			}
			add(0, "%s ymm3, ymm4, ymm5, %d", op, imm)
		}
		add(0, "%s ymm6, ymm7, [r15+16], 0x35", op)
	}
	for _, op := range []string{"vcmpss", "vcmpsd", "vroundss", "vroundsd", "vinsertps", "vdppd"} {
		for imm := 0; imm < 32; imm += 3 {
			if (op == "vroundss" || op == "vroundsd") && imm > 15 {
				continue
			}
			add(0, "%s xmm0, xmm1, xmm2, %d", op, imm)
		}
		m := "qword"
		if op == "vcmpss" || op == "vroundss" || op == "vinsertps" {
			m = "dword"
		}
		if op == "vdppd" {
			m = "xmmword"
		}
		add(0, "%s xmm3, xmm4, %s ptr [r15+16], 0x35", op, m)
	}
	for _, op := range []string{"vpermq", "vpermpd"} {
		for _, imm := range []int{0, 0x1b, 0x4e, 0xe4, 0xd8, 0xff} {
			add(0, "%s ymm0, ymm1, %d", op, imm)
		}
		add(0, "%s ymm2, [r15+8], 0x93", op)
	}
	// Shifts.
	for _, op := range []string{"vpsllw", "vpslld", "vpsllq", "vpsrlw", "vpsrld", "vpsrlq", "vpsraw", "vpsrad"} {
		add(0, "%s xmm0, xmm1, 3", op)
		add(0, "%s ymm1, ymm2, 17", op)
		add(0, "%s ymm2, ymm2, 40", op)
		add(0, "%s xmm3, xmm4, xmm5", op)
		add(0, "and ecx, 63; vmovq xmm6, rcx; %s ymm7, ymm8, xmm6; %s ymm9, ymm10, [r15]", op, op)
	}
	add(0, "vpslldq xmm0, xmm1, 3; vpsrldq xmm2, xmm3, 5; vpslldq ymm4, ymm5, 17; vpsrldq ymm6, ymm7, 9")
	add(0, "vpsllvd ymm0, ymm1, [r15]; and dword ptr [r15+4], 63; vpsrlvd ymm2, ymm3, [r15]; vpsravd xmm4, xmm5, [r15]")
	// Moves.
	add(0, "vmovd xmm0, eax; vmovd xmm1, [r15]; vmovd ecx, xmm2; vmovd [r15+4], xmm3")
	add(0, "vmovq xmm0, rax; vmovq xmm1, [r15]; vmovq rcx, xmm2; vmovq [r15+8], xmm3; vmovq xmm4, xmm5")
	add(0, "vmovss xmm0, [r15]; vmovss [r15+4], xmm1; vmovsd xmm2, [r15+8]; vmovsd [r15+16], xmm3; vmovss xmm4, xmm5, xmm6; vmovsd xmm7, xmm8, xmm9")
	add(0, ".byte 0xc5, 0xf2, 0x11, 0xc2; .byte 0xc5, 0xe3, 0x11, 0xe5") // vmovss/vmovsd MVR forms
	add(0, "vmovhps xmm0, xmm1, [r15]; vmovhps [r15+16], xmm2; vmovlps xmm3, xmm4, [r15+8]; vmovlps [r15+24], xmm5")
	add(0, "vmovhpd xmm0, xmm1, [r15]; vmovhpd [r15+16], xmm2; vmovlpd xmm3, xmm4, [r15+8]; vmovlpd [r15+24], xmm5")
	add(0, "vmovhlps xmm0, xmm1, xmm2; vmovlhps xmm3, xmm4, xmm5")
	add(0, "vmovmskps eax, xmm0; vmovmskpd ecx, xmm1; vpmovmskb edx, xmm2; vmovmskps ebx, ymm3; vmovmskpd esi, ymm4; vpmovmskb edi, ymm5")
	add(0, "vpextrw eax, xmm0, 3; vpextrb ecx, xmm1, 9; vpextrd edx, xmm2, 2; vpextrq rbx, xmm3, 1; vextractps esi, xmm4, 3")
	add(0, "vpextrb [r15], xmm1, 9; vpextrw [r15+2], xmm0, 7; vpextrd [r15+4], xmm2, 1; vpextrq [r15+8], xmm3, 0; vextractps [r15+16], xmm4, 2")
	add(0, "vpinsrw xmm0, xmm5, eax, 3; vpinsrb xmm1, xmm6, ecx, 9; vpinsrd xmm2, xmm7, edx, 2; vpinsrq xmm3, xmm8, rbx, 1; vpinsrw xmm4, xmm9, [r15], 5")
	add(0, "vpinsrb xmm1, xmm6, [r15+3], 15; vpinsrd xmm2, xmm7, [r15+4], 0; vpinsrq xmm3, xmm8, [r15+8], 1")
	add(0, "vpblendvb xmm1, xmm2, xmm3, xmm4; vblendvps ymm5, ymm6, ymm7, ymm8; vblendvpd xmm9, xmm10, [r15], xmm11; vpblendvb ymm12, ymm13, [r15+32], ymm14")
	add(0, "vblendvps xmm0, xmm1, xmm2, xmm3; vblendvpd ymm4, ymm5, ymm6, ymm7")
	add(0, "vcvtsi2sd xmm0, xmm1, eax; vcvtsi2sd xmm1, xmm2, rcx; vcvtsi2ss xmm2, xmm3, edx; vcvtsi2ss xmm3, xmm4, rbx; vcvtsi2sd xmm4, xmm5, qword ptr [r15]; vcvtsi2ss xmm6, xmm7, dword ptr [r15+8]")
	add(0, "vcvttsd2si eax, xmm0; vcvttsd2si rcx, xmm1; vcvtsd2si edx, xmm2; vcvtsd2si rbx, xmm3; vcvttsd2si rsi, qword ptr [r15]")
	add(0, "vcvttss2si eax, xmm0; vcvttss2si rcx, xmm1; vcvtss2si edx, xmm2; vcvtss2si rbx, xmm3; vcvtss2si esi, dword ptr [r15]")
	for _, op := range []string{"vcomiss", "vcomisd", "vucomiss", "vucomisd"} {
		add(0, "%s xmm0, xmm1", op)
		add(0, "%s xmm4, xmm4", op)
		add(0, "%s xmm5, [r15+16]", op)
	}
	add(0, "vptest xmm0, xmm1")
	add(0, "vptest ymm2, ymm3")
	add(0, "vptest ymm4, ymm4")
	add(0, "vptest ymm5, [r15]")
	add(0, "vpand ymm0, ymm0, [r15]; vptest ymm0, ymm0")
	// Broadcasts, inserts, extracts.
	add(0, "vpbroadcastb xmm0, xmm1; vpbroadcastb ymm2, [r15+3]; vpbroadcastw ymm3, xmm4; vpbroadcastw xmm5, [r15+6]")
	add(0, "vpbroadcastd xmm0, xmm1; vpbroadcastd ymm2, [r15+3]; vpbroadcastq ymm3, xmm4; vpbroadcastq xmm5, [r15+8]")
	add(0, "vbroadcastss xmm0, [r15+4]; vbroadcastss ymm1, xmm2; vbroadcastsd ymm3, [r15+8]; vbroadcastsd ymm4, xmm5; vbroadcastf128 ymm6, [r15+16]; vbroadcasti128 ymm7, [r15+32]")
	add(0, "vinserti128 ymm0, ymm1, xmm2, 0; vinserti128 ymm3, ymm4, xmm5, 1; vinsertf128 ymm6, ymm7, [r15+16], 1; vinsertf128 ymm8, ymm9, [r15], 0")
	add(0, "vextracti128 xmm0, ymm1, 0; vextracti128 xmm2, ymm3, 1; vextractf128 [r15], ymm4, 1; vextractf128 [r15+32], ymm5, 0")
	add(0, "vzeroupper")
	add(0, "vzeroall")
	// String compares.
	for _, op := range []string{"vpcmpistri", "vpcmpistrm", "vpcmpestri", "vpcmpestrm"} {
		for _, imm := range []int{0x00, 0x01, 0x0c, 0x18, 0x1a, 0x3a, 0x40, 0x44, 0x48, 0x72} {
			add(0, "mov eax, 7; mov edx, 12; %s xmm0, xmm1, %d", op, imm)
			add(0, "and eax, 31; sub eax, 10; and edx, 31; sub edx, 12; %s xmm2, xmmword ptr [r15+3], %d", op, imm)
		}
	}
	// MXCSR rounding modes.
	for _, rc := range []int{0x1f80, 0x3f80, 0x5f80, 0x7f80} {
		for _, op := range []string{"vaddpd ymm0, ymm1, ymm2", "vdivps ymm3, ymm4, ymm5", "vsqrtpd ymm6, ymm7", "vcvtpd2ps xmm8, ymm9",
			"vcvtps2dq ymm10, ymm11", "vsubsd xmm12, xmm13, xmm14", "vcvtsi2sd xmm0, xmm1, rcx"} {
			add(0, "mov dword ptr [r15+200], %d; vldmxcsr [r15+200]; %s; vstmxcsr [r15+204]; mov dword ptr [r15+200], 0x1f80; vldmxcsr [r15+200]", rc, op)
		}
	}
	return s
}

func TestDiffAVX(t *testing.T) {
	runAVXDiff(t, avxSnippets(), 12)
}

func bmiSnippets() []snippet {
	var s []snippet
	add := func(undef uint64, f string, args ...any) {
		s = append(s, snippet{asm: fmt.Sprintf(f, args...), undef: undef})
	}
	const af, pf, sf = FlagAF, FlagPF, FlagSF
	for _, r := range [][3]string{{"eax", "ecx", "edx"}, {"rax", "rcx", "rdx"}, {"r8", "r9", "r10"}} {
		add(af|pf, "andn %s, %s, %s", r[0], r[1], r[2])
		add(af|pf|sf, "bextr %s, %s, %s", r[0], r[1], r[2])
		add(af|pf|sf, "mov edx, ecx; and edx, 0x3f3f; bextr %s, %s, %s", r[0], r[1], r[2])
		add(af|pf, "blsi %s, %s", r[0], r[1])
		add(af|pf, "blsmsk %s, %s", r[0], r[1])
		add(af|pf, "blsr %s, %s", r[0], r[1])
		add(af|pf, "bzhi %s, %s, %s", r[0], r[1], r[2])
		add(af|pf, "and edx, 0x4f; bzhi %s, %s, %s", r[0], r[1], r[2])
		add(0, "pdep %s, %s, %s", r[0], r[1], r[2])
		add(0, "pext %s, %s, %s", r[0], r[1], r[2])
		add(0, "rorx %s, %s, 5", r[0], r[1])
		add(0, "rorx %s, %s, 63", r[0], r[1])
		add(0, "sarx %s, %s, %s", r[0], r[1], r[2])
		add(0, "shlx %s, %s, %s", r[0], r[1], r[2])
		add(0, "shrx %s, %s, %s", r[0], r[1], r[2])
		add(0, "mulx %s, %s, %s", r[0], r[1], r[2])
		add(0, "mulx %s, %s, %s", r[0], r[0], r[2])
	}
	add(af|pf, "andn eax, ecx, [r15]; andn rbx, rdx, [r15+8]")
	add(af|pf|sf, "bextr eax, [r15], ecx; bextr rbx, [r15+8], rdx")
	add(af|pf, "blsi eax, [r15]; blsmsk rbx, [r15+8]; blsr rcx, [r15+16]")
	add(0, "pdep rax, rcx, [r15]; pext ebx, edx, [r15+8]; rorx rsi, [r15+16], 13; sarx edi, [r15+24], ecx; shlx r8, [r15+32], rdx; shrx r9d, [r15+40], eax; mulx r10, r11, [r15+48]")
	add(0, "mov dword ptr [r15], 0; blsr eax, [r15]; blsmsk ebx, [r15]; blsi ecx, [r15]")
	return s
}

func TestDiffBMI(t *testing.T) {
	runAVXDiff(t, bmiSnippets(), 24)
}
