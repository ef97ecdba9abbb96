package machine

import (
	"fmt"
	"math/rand"
	"testing"
)

const (
	uAF  = FlagAF
	uOF  = FlagOF
	uSZP = FlagSF | FlagZF | FlagPF | FlagAF
	uAll = arithMask
)

var regNames = map[int][4]string{
	8: {"rax", "rcx", "rdx", "rbx"},
	4: {"eax", "ecx", "edx", "ebx"},
	2: {"ax", "cx", "dx", "bx"},
	1: {"al", "cl", "dl", "bl"},
}

var memNames = map[int]string{8: "qword ptr", 4: "dword ptr", 2: "word ptr", 1: "byte ptr"}

func intSnippets() []snippet {
	var s []snippet
	add := func(undef uint64, f string, args ...any) {
		s = append(s, snippet{asm: fmt.Sprintf(f, args...), undef: undef})
	}
	sizes := []int{1, 2, 4, 8}
	for _, op := range []string{"add", "adc", "sub", "sbb", "and", "or", "xor", "cmp", "test"} {
		u := uint64(0)
		if op == "and" || op == "or" || op == "xor" || op == "test" {
			u = uAF
		}
		for _, sz := range sizes {
			r := regNames[sz]
			add(u, "%s %s, %s", op, r[0], r[1])
			add(u, "%s %s, %s", op, r[3], r[3])
			add(u, "%s %s [r15+8], %s", op, memNames[sz], r[1])
			if op != "test" {
				add(u, "%s %s, %s [r15+16]", op, r[2], memNames[sz])
				add(u, "%s %s, 1", op, r[0])
				add(u, "%s %s, -1", op, r[1])
				add(u, "%s %s [r15+24], -128", op, memNames[sz])
			}
			add(u, "%s %s, 0x7f", op, r[2])
		}
		add(u, "%s ah, ch", op)
		add(u, "%s rax, 0x12345678", op)
		add(u, "%s eax, -0x12345678", op)
	}
	for _, op := range []string{"inc", "dec", "neg", "not"} {
		for _, sz := range sizes {
			add(0, "%s %s", op, regNames[sz][0])
			add(0, "%s %s [r15+32]", op, memNames[sz])
		}
	}
	for _, op := range []string{"shl", "shr", "sar", "rol", "ror", "rcl", "rcr"} {
		u := uint64(uAF | uOF)
		for _, sz := range sizes {
			r := regNames[sz]
			add(uAF, "%s %s, 1", op, r[0])
			add(u, "%s %s, 3", op, r[2])
			add(u, "%s %s [r15+40], 5", op, memNames[sz])
			if sz >= 4 {
				add(u, "%s %s, cl", op, r[0])
				add(u, "%s %s, 31", op, r[3])
			} else {
				add(u|FlagCF, "and cl, %d; %s %s, cl", 8*sz-1, op, r[0])
			}
		}
	}
	for _, op := range []string{"shld", "shrd"} {
		for _, sz := range []int{2, 4, 8} {
			r := regNames[sz]
			add(uAF|uOF, "%s %s, %s, 3", op, r[0], r[3])
			add(uAF|uOF, "%s %s [r15+8], %s, 1", op, memNames[sz], r[1])
			add(uAF|uOF, "and cl, %d; %s %s, %s, cl", 8*sz-1, op, r[2], r[3])
		}
	}
	for _, sz := range sizes {
		r := regNames[sz]
		add(uSZP, "mul %s", r[3])
		add(uSZP, "imul %s [r15+8]", memNames[sz])
		if sz > 1 {
			add(uSZP, "imul %s, %s", r[0], r[3])
			add(uSZP, "imul %s, %s, 7", r[1], r[2])
			add(uSZP, "imul %s, %s [r15], -1000", r[1], memNames[sz])
		}
		// Division by a nonzero divisor with no quotient overflow.
		if sz == 1 {
			add(uAll, "or bl, 1; mov ah, 0; div bl")
			add(uAll, "or bl, 1; movsx ax, al; idiv bl")
		} else {
			add(uAll, "or %s, 1; xor edx, edx; div %s", r[3], r[3])
			add(uAll, "or %s, 1; %s; idiv %s", r[3], map[int]string{2: "cwd", 4: "cdq", 8: "cqo"}[sz], r[3])
		}
	}
	for _, op := range []string{"bt", "bts", "btr", "btc"} {
		for _, sz := range []int{2, 4, 8} {
			r := regNames[sz]
			add(uSZP|uOF, "%s %s, %s", op, r[0], r[1])
			add(uSZP|uOF, "%s %s, 13", op, r[0])
			add(uSZP|uOF, "%s %s [r15+64], 35", op, memNames[sz])
			add(uSZP|uOF, "and %s, 511; sub %s, 256; %s %s [r15+128], %s", r[1], r[1], op, memNames[sz], r[1])
		}
	}
	for _, sz := range []int{2, 4, 8} {
		r := regNames[sz]
		add(uAll&^FlagZF, "or %s, 1; bsf %s, %s", r[1], r[0], r[1])
		add(uAll&^FlagZF, "or %s, 1; bsr %s, %s", r[1], r[0], r[1])
		add(uAll&^FlagZF, "bsf %s, %s [r15]", r[0], memNames[sz])
		add(0, "popcnt %s, %s", r[0], r[1])
		add(uSZP&^FlagZF|uOF, "lzcnt %s, %s", r[0], r[1])
		add(uSZP&^FlagZF|uOF, "tzcnt %s, %s", r[0], r[1])
		add(0, "xadd %s, %s", r[0], r[1])
		add(0, "xadd %s [r15+8], %s", memNames[sz], r[1])
		add(0, "cmpxchg %s, %s", r[2], r[1])
		add(0, "cmpxchg %s [r15+8], %s", memNames[sz], r[1])
		add(0, "mov %s, %s [r15+8]; cmpxchg %s [r15+8], %s", r[0], memNames[sz], memNames[sz], r[1])
		add(0, "xchg %s, %s", r[0], r[1])
		add(0, "xchg %s [r15+8], %s", memNames[sz], r[1])
		add(0, "movbe %s, %s [r15+3]", r[1], memNames[sz])
		add(0, "movbe %s [r15+3], %s", memNames[sz], r[1])
	}
	add(0, "cmpxchg8b qword ptr [r15+8]")
	add(0, "mov eax, [r15+8]; mov edx, [r15+12]; cmpxchg8b qword ptr [r15+8]")
	add(0, "cmpxchg16b xmmword ptr [r15+16]")
	add(0, "mov rax, [r15+16]; mov rdx, [r15+24]; cmpxchg16b xmmword ptr [r15+16]")
	add(0, "bswap eax; bswap rcx")
	for _, cc := range []string{"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"} {
		add(0, "cmp rax, rcx; set%s dl; cmov%s rbx, rcx; cmov%s esi, edi; j%s 1f; inc r8; 1:", cc, cc, cc, cc)
		add(0, "add al, cl; set%s byte ptr [r15]; cmov%s bx, [r15+8]; j%s 1f; inc r8; 1:", cc, cc, cc)
		add(0, "sub edx, ebx; set%s dl; cmov%s rbx, rcx; cmov%s esi, edi", cc, cc, cc)
		add(0, "test rdx, rbx; set%s dl; cmov%s rbx, rcx", cc, cc)
		add(0, "inc r9b; set%s dl; j%s 1f; inc r8; 1:", cc, cc)
		add(0, "dec r9d; set%s dl", cc)
		add(0, "neg r9w; set%s dl", cc)
		add(0, "sbb r9, rbx; set%s dl", cc)
		add(0, "adc r9, rbx; set%s dl", cc)
	}
	add(0, "movzx eax, cl; movzx rbx, dx; movzx si, byte ptr [r15]; movsx rdi, byte ptr [r15+1]")
	add(0, "movsx eax, cl; movsx rbx, dx; movsx si, bl; movsxd r8, r9d; movsxd r10, dword ptr [r15]")
	add(0, "cbw; cwd")
	add(0, "cwde; cdq")
	add(0, "cdqe; cqo")
	add(0, "lea rax, [rbx+rcx*4+100]; lea ecx, [rdx+rsi*8-7]; lea dx, [rdi+r8]; lea r9, [r10+r11*2]")
	add(0, "push rax; push rbx; pop rcx; pop rdx; push 5; pop rsi; push word ptr [r15]; pop di")
	add(0, "push qword ptr [r15+8]; pop qword ptr [r15+16]; push -3; pop rax")
	add(0, "pushfq; pop rax")
	add(0, "and ecx, 0x8d5; push rcx; popfq; pushfq; pop rbx")
	add(0, "enter 16, 0; mov [rbp-8], rax; leave")
	add(0, "mov rbp, rsp; enter 32, 2; mov rax, rsp; leave")
	add(0, "call 1f; 1: pop rax; sub rax, rcx")
	add(0, "lea rax, [rip+1f]; call rax; jmp 2f; 1: ret; 2:")
	add(0, "lea rax, [rip+1f]; push rax; ret; 1:")
	add(0, "lea rax, [rip+1f]; push rax; push rax; ret 8; 1:")
	add(0, "lea rax, [rip+1f]; jmp rax; inc rbx; 1:")
	add(0, "and ecx, 7; inc ecx; 1: inc rax; loop 1b")
	add(0, "and ecx, 7; inc ecx; 1: cmp rax, rbx; loopne 1b")
	add(0, "and ecx, 7; inc ecx; 1: cmp rax, rbx; loope 1b")
	add(0, "jrcxz 1f; inc rax; 1: jecxz 2f; inc rbx; 2:")
	add(0, "clc; setc al; stc; setc bl; cmc; setc cl")
	add(0, "lahf; mov bl, ah; mov ah, cl; sahf")
	add(0, "lea rbx, [r15]; and eax, 255; xlatb")
	for _, sz := range []string{"b", "w", "d", "q"} {
		add(0, "lea rsi, [r15]; lea rdi, [r15+128]; and ecx, 7; rep movs%s", sz)
		add(0, "lea rdi, [r15+8]; and ecx, 7; rep stos%s", sz)
		add(0, "lea rsi, [r15]; lods%s; lods%s", sz, sz)
		add(0, "lea rdi, [r15]; and ecx, 15; repne scas%s", sz)
		add(0, "lea rdi, [r15]; and ecx, 15; repe scas%s", sz)
		add(0, "lea rsi, [r15]; lea rdi, [r15+64]; and ecx, 15; repe cmps%s", sz)
		add(0, "lea rsi, [r15]; lea rdi, [r15+64]; mov rax, [rsi]; mov [rdi], rax; and ecx, 15; repe cmps%s", sz)
		add(0, "lea rsi, [r15+64]; lea rdi, [r15+128]; and ecx, 7; std; rep movs%s; cld", sz)
		add(0, "lea rsi, [r15]; lea rdi, [r15+64]; movs%s; cmps%s", sz, sz)
	}
	add(0, "lea rsi, [r15]; lea rdi, [r15+3]; mov ecx, 100; rep movsb")
	add(0, "lea rsi, [r15+100]; lea rdi, [r15]; mov ecx, 150; rep movsb")
	add(0, "lea rsi, [r15]; lea rdi, [r15+128]; mov ecx, 120; rep movsb")
	add(0, "lea rsi, [r15+8]; lea rdi, [r15+136]; mov ecx, 15; rep movsq")
	add(0, "lea rdi, [r15+1]; mov ecx, 250; rep stosb")
	add(0, "lea rdi, [r15+16]; mov ecx, 28; rep stosq")
	add(0, "lea rdi, [r15+16]; mov ecx, 28; rep stosw")
	add(0, "lea rsi, [r15]; lea rdi, [r15+128]; mov ecx, 30; rep movsd")
	add(0, "nop; nop dword ptr [rax+rax]; pause; lfence; mfence; sfence; prefetcht0 [r15]; endbr64")
	add(0, "mov al, 0x12; mov ah, 0x34; mov bh, al; mov rdi, r15; mov ch, [rdi]; mov [rdi+1], dh; mov dl, ah")
	add(0, "mov eax, 0xffffffff; mov ax, 1; mov al, 2; mov rbx, -1; mov ebx, 3")
	add(0, "mov rax, 0x123456789abcdef0; movabs rbx, 0x8000000000000000; mov [r15], rax; mov ecx, [r15+2]")
	return s
}

func TestDiffInteger(t *testing.T) {
	runDiff(t, intSnippets(), 24)
}

var _ = rand.New
