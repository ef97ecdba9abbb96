package machine

import (
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// TestLockstepTouchesFP checks that lsTouchesFP is conservative: every
// instruction x86asm decodes with an x87, MMX or XMM operand, or whose
// mnemonic is an x87 or FP-state one (F..., EMMS, LDMXCSR, STMXCSR,
// FXSAVE, XSAVE, XRSTOR, ...), is classified as touching FP state, for
// every opcode of the one-byte, 0F, 0F38 and 0F3A maps under each
// mandatory prefix and ModRM form. The lockstep test fetches the host's FP
// state only after such instructions.
func TestLockstepTouchesFP(t *testing.T) {
	fpOp := func(op x86asm.Op) bool {
		s := op.String()
		switch {
		case strings.HasPrefix(s, "F"), strings.HasPrefix(s, "XSAVE"), strings.HasPrefix(s, "XRSTOR"),
			s == "EMMS", s == "LDMXCSR", s == "STMXCSR", s == "XGETBV":
			return true
		}
		return false
	}
	fpArg := func(a x86asm.Arg) bool {
		r, ok := a.(x86asm.Reg)
		return ok && (r >= x86asm.X0 && r <= x86asm.X15 || r >= x86asm.M0 && r <= x86asm.M7 || r >= x86asm.F0 && r <= x86asm.F7)
	}
	checked := 0
	try := func(prefix, code []byte) {
		b := append(append([]byte(nil), prefix...), code...)
		b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // displacement and immediate bytes
		inst, err := x86asm.Decode(b, 64)
		if err != nil {
			return
		}
		fp := fpOp(inst.Op)
		for _, a := range inst.Args {
			fp = fp || fpArg(a)
		}
		checked++
		op, _ := lsOpcode(b[:inst.Len])
		if fp && !lsTouchesFP(op) {
			t.Errorf("% x (%v): touches FP state, lsTouchesFP says no", b[:inst.Len], inst)
		}
	}
	prefixes := [][]byte{nil, {0x66}, {0xf2}, {0xf3}, {0x48}}
	for _, p := range prefixes {
		for op := 0; op < 256; op++ {
			for modrm := 0; modrm < 256; modrm += 7 { // every reg field, both mod=3 and memory forms
				try(p, []byte{byte(op), byte(modrm)})
				try(p, []byte{0x0f, byte(op), byte(modrm)})
				try(p, []byte{0x0f, 0x38, byte(op), byte(modrm)})
				try(p, []byte{0x0f, 0x3a, byte(op), byte(modrm)})
			}
		}
	}
	if checked < 10000 {
		t.Fatalf("only %d encodings decoded", checked)
	}
}
