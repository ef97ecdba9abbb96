package machine

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Differential tests: snippets run natively (testdata/native_runner.c,
// built with gcc) and on the emulator from the same random states; the
// final registers, flags (minus those the manual leaves undefined), vector
// registers and a 256-byte data area must agree. They need an x86-64 Linux
// host with gcc and as, and are skipped elsewhere.

const (
	diffData  = 0x10000000
	diffStack = 0x20000000
	diffCode  = 0x30000000
)

type snippet struct {
	asm   string
	undef uint64 // flags the manual leaves undefined
	init  func(s *diffState, r *rand.Rand)
}

type diffState struct {
	regs  [16]uint64
	flags uint64
	xmm   [16][16]byte
	data  [256]byte
}

func (s *diffState) line(code []byte) string {
	var b strings.Builder
	b.WriteString(hex.EncodeToString(code))
	for _, r := range s.regs {
		fmt.Fprintf(&b, " %x", r)
	}
	fmt.Fprintf(&b, " %x", s.flags)
	for _, x := range s.xmm {
		b.WriteString(" " + hex.EncodeToString(x[:]))
	}
	b.WriteString(" " + hex.EncodeToString(s.data[:]))
	return b.String()
}

func parseState(line string) (s diffState, err error) {
	f := strings.Fields(line)
	if len(f) != 16+1+16+1 {
		return s, fmt.Errorf("bad runner line %q", line)
	}
	for i := 0; i < 16; i++ {
		if s.regs[i], err = strconv.ParseUint(f[i], 16, 64); err != nil {
			return
		}
	}
	if s.flags, err = strconv.ParseUint(f[16], 16, 64); err != nil {
		return
	}
	for i := 0; i < 16; i++ {
		b, e := hex.DecodeString(f[17+i])
		if e != nil {
			return s, e
		}
		copy(s.xmm[i][:], b)
	}
	b, err := hex.DecodeString(f[33])
	copy(s.data[:], b)
	return
}

func toolsOrSkip(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("differential tests need an x86-64 Linux host")
	}
	for _, tool := range []string{"gcc", "as"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("differential tests need %s", tool)
		}
	}
}

// assemble assembles the snippets (Intel syntax) and returns their bytes.
func assemble(t *testing.T, dir string, snips []snippet) [][]byte {
	t.Helper()
	var src strings.Builder
	src.WriteString(".intel_syntax noprefix\n.text\n")
	for i, s := range snips {
		fmt.Fprintf(&src, "s%d:\n%s\ne%d:\n", i, strings.ReplaceAll(s.asm, ";", "\n"), i)
	}
	sfile := filepath.Join(dir, "snips.s")
	ofile := filepath.Join(dir, "snips.o")
	if err := os.WriteFile(sfile, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("as", "--64", "-o", ofile, sfile).CombinedOutput(); err != nil {
		t.Fatalf("as: %v\n%s", err, out)
	}
	f, err := elf.Open(ofile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text, err := f.Section(".text").Data()
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	addr := map[string]uint64{}
	for _, s := range syms {
		addr[s.Name] = s.Value
	}
	out := make([][]byte, len(snips))
	for i := range snips {
		s, e := addr[fmt.Sprintf("s%d", i)], addr[fmt.Sprintf("e%d", i)]
		out[i] = text[s:e]
	}
	return out
}

func buildRunner(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "native_runner")
	if out, err := exec.Command("gcc", "-O1", "-static", "-o", bin, "testdata/native_runner.c").CombinedOutput(); err != nil {
		t.Skipf("cannot build native runner: %v\n%s", err, out)
	}
	return bin
}

var niceU64 = []uint64{0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
	0x100000000, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, 63, 64, 31, 32, 33, 7, 8, 9, 15, 16, 17}

func randU64(r *rand.Rand) uint64 {
	switch r.Intn(4) {
	case 0:
		return niceU64[r.Intn(len(niceU64))]
	case 1:
		return uint64(r.Intn(200)) - 100
	}
	return r.Uint64()
}

var niceF64 = []float64{0, 1, -1, 0.5, 1.5, 2.5, -2.5, 3, 1e300, -1e300, 1e-310, math.Inf(1), math.Inf(-1), math.NaN(),
	1.0 / 3, 2.0 / 3, 123456789.125, -0.0, 4294967296.5, 9.3e18, -9.3e18, 2147483647.5, -2147483648.5, math.MaxFloat64, 5e-324}

func randF64(r *rand.Rand) uint64 {
	switch r.Intn(3) {
	case 0:
		return math.Float64bits(niceF64[r.Intn(len(niceF64))])
	case 1:
		return math.Float64bits((r.Float64() - 0.5) * math.Pow(2, float64(r.Intn(80)-40)))
	}
	return r.Uint64()
}

func randF32(r *rand.Rand) uint32 {
	switch r.Intn(3) {
	case 0:
		return math.Float32bits(float32(niceF64[r.Intn(len(niceF64))]))
	case 1:
		return math.Float32bits(float32((r.Float64() - 0.5) * math.Pow(2, float64(r.Intn(60)-30))))
	}
	return r.Uint32()
}

func randomState(r *rand.Rand, sn snippet) diffState {
	var s diffState
	for i := range s.regs {
		s.regs[i] = randU64(r)
	}
	s.regs[RSP] = diffStack - 256
	s.regs[R15] = diffData
	s.flags = 0x202 | r.Uint64()&arithMask
	for i := range s.xmm {
		switch r.Intn(3) {
		case 0:
			binary.LittleEndian.PutUint64(s.xmm[i][0:], randF64(r))
			binary.LittleEndian.PutUint64(s.xmm[i][8:], randF64(r))
		case 1:
			for j := 0; j < 4; j++ {
				binary.LittleEndian.PutUint32(s.xmm[i][4*j:], randF32(r))
			}
		default:
			r.Read(s.xmm[i][:])
			if r.Intn(3) == 0 {
				s.xmm[i][r.Intn(16)] = 0
			}
		}
	}
	r.Read(s.data[:])
	for i := 0; i < 256; i += 8 {
		if r.Intn(3) == 0 {
			binary.LittleEndian.PutUint64(s.data[i:], randF64(r))
		}
	}
	if sn.init != nil {
		sn.init(&s, r)
	}
	return s
}

func emulate(t *testing.T, code []byte, in diffState) (diffState, Exit) {
	m := NewMemory()
	m.Map(diffCode, 0x10000, ProtRead|ProtWrite|ProtExec)
	m.Write(diffCode, append(append([]byte{}, code...), 0xcc))
	m.Map(diffData, 0x1000, ProtRead|ProtWrite)
	m.Write(diffData, in.data[:])
	m.Map(diffStack-0x10000, 0x10000, ProtRead|ProtWrite)
	c := NewCPU(m)
	c.RIP = diffCode
	c.Regs = in.regs
	c.SetFlags(in.flags)
	for i := range in.xmm {
		c.SetXMM(i, in.xmm[i])
	}
	ex := c.Run(100000)
	var out diffState
	out.regs = c.Regs
	out.flags = c.Flags()
	for i := range out.xmm {
		out.xmm[i] = c.XMM(i)
	}
	m.Read(diffData, out.data[:])
	return out, ex
}

func runDiff(t *testing.T, snips []snippet, perSnippet int) {
	toolsOrSkip(t)
	dir := t.TempDir()
	codes := assemble(t, dir, snips)
	runner := buildRunner(t, dir)
	r := rand.New(rand.NewSource(1))
	var input bytes.Buffer
	var states []diffState
	var which []int
	for i, sn := range snips {
		for k := 0; k < perSnippet; k++ {
			s := randomState(r, sn)
			states = append(states, s)
			which = append(which, i)
			input.WriteString(s.line(codes[i]) + "\n")
		}
	}
	out := runNative(t, runner, input.String(), snips, which)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	fails := 0
	for n := 0; sc.Scan(); n++ {
		want, err := parseState(sc.Text())
		if err != nil {
			t.Fatal(err)
		}
		sn := snips[which[n]]
		got, ex := emulate(t, codes[which[n]], states[n])
		var diffs []string
		if ex.Reason != ExitBreakpoint {
			diffs = append(diffs, fmt.Sprintf("exit %+v", ex))
		}
		for i := range got.regs {
			if got.regs[i] != want.regs[i] {
				diffs = append(diffs, fmt.Sprintf("r%d=%#x want %#x", i, got.regs[i], want.regs[i]))
			}
		}
		mask := ^sn.undef &^ FlagRF
		if got.flags&mask != want.flags&mask {
			diffs = append(diffs, fmt.Sprintf("flags=%#x want %#x", got.flags&mask, want.flags&mask))
		}
		for i := range got.xmm {
			if got.xmm[i] != want.xmm[i] {
				diffs = append(diffs, fmt.Sprintf("xmm%d=%x want %x", i, got.xmm[i], want.xmm[i]))
			}
		}
		if got.data != want.data {
			for i := range got.data {
				if got.data[i] != want.data[i] {
					j := i &^ 3
					diffs = append(diffs, fmt.Sprintf("data[%d]=%x want %x", j, got.data[j:j+4], want.data[j:j+4]))
					break
				}
			}
		}
		if len(diffs) > 0 {
			fails++
			if fails <= 40 {
				in := states[n]
				t.Errorf("%q (rax=%#x rcx=%#x rdx=%#x flags=%#x xmm0=%x xmm1=%x): %s", sn.asm, in.regs[RAX], in.regs[RCX], in.regs[RDX], in.flags,
					in.xmm[0], in.xmm[1], strings.Join(diffs, ", "))
			}
		}
	}
	if fails > 40 {
		t.Errorf("%d failures in all", fails)
	}
}

// runNative feeds the input lines (one per case) to the native runner and
// returns its output; if the runner fails, it finds and names the snippet
// that crashed it.
func runNative(t *testing.T, runner, input string, snips []snippet, which []int) []byte {
	t.Helper()
	cmd := exec.Command(runner)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.Output()
	if err == nil {
		return out
	}
	for n, line := range strings.Split(input, "\n") {
		c := exec.Command(runner)
		c.Stdin = strings.NewReader(line + "\n")
		if _, e := c.Output(); e != nil {
			t.Fatalf("native runner: %v on %q", e, snips[which[n]].asm)
		}
	}
	t.Fatalf("native runner: %v", err)
	return nil
}
