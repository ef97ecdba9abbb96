package machine

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"testing"
)

func x87Init(s *diffState, r *rand.Rand) {
	for i := 0; i < 128; i += 8 {
		binary.LittleEndian.PutUint64(s.data[i:], randF64(r))
	}
	if r.Intn(4) == 0 {
		// Small integers and exact halves exercise rounding ties.
		for i := 0; i < 64; i += 8 {
			binary.LittleEndian.PutUint64(s.data[i:], randF64Nice(r))
		}
	}
}

func randF64Nice(r *rand.Rand) uint64 {
	v := float64(r.Intn(41)-20) / float64(int(1)<<r.Intn(3))
	return math.Float64bits(v)
}

func x87Snippets() []snippet {
	var s []snippet
	add := func(f string, args ...any) {
		s = append(s, snippet{asm: fmt.Sprintf(f, args...), init: x87Init})
	}
	// Two values with full 64-bit significands on the stack: a = x/y, b = z*w.
	const setup = "fld qword ptr [r15]; fdiv qword ptr [r15+8]; fld qword ptr [r15+16]; fmul qword ptr [r15+24];"
	const out = "fstp tbyte ptr [r15+128]; fstp tbyte ptr [r15+144]; fnstsw ax; fnclex"
	for _, op := range []string{"fadd", "fsub", "fsubr", "fmul", "fdiv", "fdivr"} {
		add("%s %s st, st(1); %s", setup, op, out)
		add("%s %s st(1), st; %s", setup, op, out)
		add("%s %sp st(1), st; fld1; %s", setup, op, out)
		add("%s %s dword ptr [r15+32]; %s", setup, op, out)
		add("%s %s qword ptr [r15+40]; %s", setup, op, out)
		add("%s fi%s word ptr [r15+48]; %s", setup, op[1:], out)
		add("%s fi%s dword ptr [r15+52]; %s", setup, op[1:], out)
		for _, cw := range []int{0x07f, 0x27f, 0x77f, 0xb7f, 0xf7f, 0x37f | 0x400} {
			add("mov word ptr [r15+120], %d; fldcw [r15+120]; %s %s st, st(1); %s", cw, setup, op, out)
		}
	}
	for _, op := range []string{"fsqrt", "frndint", "fabs", "fchs", "fxtract; fstp tbyte ptr [r15+160]", "fxam", "ftst", "f2xm1_", "fld st(0)"} {
		if op == "f2xm1_" {
			continue
		}
		add("%s %s; %s", setup, op, out)
		for _, cw := range []int{0x37f, 0x77f, 0xb7f, 0xf7f, 0x07f, 0x27f} {
			add("mov word ptr [r15+120], %d; fldcw [r15+120]; %s %s; %s", cw, setup, op, out)
		}
	}
	for _, op := range []string{"fscale", "fprem", "fprem1"} {
		add("%s %s; %s", setup, op, out)
		add("fld qword ptr [r15+56]; fld qword ptr [r15]; %s; %s", op, out)
		add("fild word ptr [r15+48]; fld qword ptr [r15]; %s; %s", op, out)
	}
	for _, op := range []string{"fcom st(1)", "fcomp st(1); fld1", "fucom st(1)", "fucomp st(1); fld1", "fcompp; fld1; fld1", "fucompp; fld1; fld1",
		"fcom dword ptr [r15+32]", "fcom qword ptr [r15+40]", "ficom word ptr [r15+48]", "ficom dword ptr [r15+52]"} {
		add("%s %s; %s", setup, op, out)
		add("fld qword ptr [r15]; fld qword ptr [r15]; %s; %s", op, out)
	}
	for _, op := range []string{"fcomi st, st(1)", "fucomi st, st(1)", "fcomip st, st(1); fld1", "fucomip st, st(1); fld1"} {
		add("%s %s; setc bl; setz cl; setp dl; %s", setup, op, out)
		add("fld qword ptr [r15]; fld qword ptr [r15+8]; %s; setc bl; setz cl; setp dl; %s", op, out)
	}
	for _, cw := range []int{0x37f, 0x77f, 0xb7f, 0xf7f} {
		add("mov word ptr [r15+120], %d; fldcw [r15+120]; %s fist word ptr [r15+176]; fist dword ptr [r15+180]; fistp qword ptr [r15+184]; fist dword ptr [r15+192]; %s", cw, setup, out)
		add("mov word ptr [r15+120], %d; fldcw [r15+120]; %s fisttp word ptr [r15+176]; fisttp dword ptr [r15+180]; fld st(0); fisttp qword ptr [r15+184]; %s", cw, setup, out)
		add("mov word ptr [r15+120], %d; fldcw [r15+120]; %s fst dword ptr [r15+176]; fst qword ptr [r15+184]; fxch; fst dword ptr [r15+192]; fst qword ptr [r15+200]; %s", cw, setup, out)
		add("mov word ptr [r15+120], %d; fldcw [r15+120]; fld qword ptr [r15]; fistp qword ptr [r15+184]; fld dword ptr [r15+8]; fistp dword ptr [r15+192]; fld1; fld1; %s", cw, out)
	}
	add("fldz; fld1; fldpi; fldl2e; fldl2t; fldlg2; fldln2; fstp tbyte ptr [r15+128]; fstp tbyte ptr [r15+144]; fstp tbyte ptr [r15+160]; fstp tbyte ptr [r15+176]; fstp tbyte ptr [r15+192]; fstp tbyte ptr [r15+208]; fstp tbyte ptr [r15+224]; fnstsw ax")
	add("mov word ptr [r15+120], 0xb7f; fldcw [r15+120]; fldpi; fldl2e; fldl2t; fldlg2; fldln2; fstp tbyte ptr [r15+128]; fstp tbyte ptr [r15+144]; fstp tbyte ptr [r15+160]; fstp tbyte ptr [r15+176]; fstp tbyte ptr [r15+192]; fnstsw ax")
	add("fild word ptr [r15]; fild dword ptr [r15+8]; fild qword ptr [r15+16]; faddp; fstp tbyte ptr [r15+128]; fstp tbyte ptr [r15+144]; fnstsw ax")
	add("fld qword ptr [r15]; fld dword ptr [r15+8]; fstp tbyte ptr [r15+128]; fstp tbyte ptr [r15+144]; fnstsw ax")
	add("%s fstp tbyte ptr [r15+200]; fld tbyte ptr [r15+200]; fld st(1); %s", setup, out)
	add("%s fxch st(1); fld st(1); fxch st(2); %s; fstp tbyte ptr [r15+160]", setup, out)
	for _, cc := range []string{"b", "e", "be", "u", "nb", "ne", "nbe", "nu"} {
		add("cmp rax, rcx; %s fcmov%s st, st(1); %s", setup, cc, out)
	}
	add("%s fbstp tbyte ptr [r15+200]; fbld tbyte ptr [r15+200]; %s", setup, out)
	add("fild qword ptr [r15]; fbstp tbyte ptr [r15+200]; fild word ptr [r15+8]; fbstp tbyte ptr [r15+210]; fnstsw ax")
	add("fnstcw [r15+200]; fld1; fldz; fdivp; fnstsw [r15+204]; fstp tbyte ptr [r15+128]; fnclex")
	add("fld1; fld1; fld1; fld1; fld1; fld1; fld1; fld1; fld1; fnstsw ax; fninit")
	add("fld1; fstp st(0); fstp st(0); fnstsw ax; fninit")
	add("fld1; fldz; fxch; fincstp; fdecstp; ffree st(1); fnstsw ax; fninit")
	return s
}

func TestDiffX87(t *testing.T) {
	runDiff(t, x87Snippets(), 24)
}
