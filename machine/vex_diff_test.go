package machine

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Differential tests of the VEX-encoded instructions: as diff_test.go, with
// whole YMM registers and MXCSR in the compared state
// (testdata/native_runner_avx.c).

type ymmDiffState struct {
	regs  [16]uint64
	flags uint64
	mxcsr uint32
	ymm   [16][32]byte
	data  [256]byte
}

func (s *ymmDiffState) line(code []byte) string {
	var b strings.Builder
	b.WriteString(hex.EncodeToString(code))
	for _, r := range s.regs {
		fmt.Fprintf(&b, " %x", r)
	}
	fmt.Fprintf(&b, " %x %x", s.flags, s.mxcsr)
	for _, y := range s.ymm {
		b.WriteString(" " + hex.EncodeToString(y[:]))
	}
	b.WriteString(" " + hex.EncodeToString(s.data[:]))
	return b.String()
}

func parseAVXState(line string) (s ymmDiffState, err error) {
	f := strings.Fields(line)
	if len(f) != 16+2+16+1 {
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
	m, err := strconv.ParseUint(f[17], 16, 32)
	if err != nil {
		return
	}
	s.mxcsr = uint32(m)
	for i := 0; i < 16; i++ {
		b, e := hex.DecodeString(f[18+i])
		if e != nil {
			return s, e
		}
		copy(s.ymm[i][:], b)
	}
	b, err := hex.DecodeString(f[34])
	copy(s.data[:], b)
	return
}

func randomAVXState(r *rand.Rand, sn snippet) ymmDiffState {
	lo := randomState(r, sn)
	hi := randomState(r, snippet{})
	s := ymmDiffState{regs: lo.regs, flags: lo.flags, mxcsr: 0x1f80, data: lo.data}
	for i := range s.ymm {
		copy(s.ymm[i][:16], lo.xmm[i][:])
		copy(s.ymm[i][16:], hi.xmm[i][:])
	}
	if strings.Contains(sn.asm, "vsqrt") {
		scrubDenormals(&s)
	}
	return s
}

// scrubDenormals replaces denormal float64 and float32 values in the
// vector registers and data with 1.0. The legacy SSE square root
// (sse_float.go's fop) loses the sign of its residual for a denormal
// operand (no PE, one ulp off in directed rounding); that is the SSE
// code's to fix, and VEX reuses it unchanged.
func scrubDenormals(s *ymmDiffState) {
	// Memory operands may be misaligned: look at every byte offset until
	// nothing changes.
	scrub := func(b []byte) {
		for changed := true; changed; {
			changed = false
			for i := 0; i+4 <= len(b); i++ {
				if i+8 <= len(b) && isDenormal(binary.LittleEndian.Uint64(b[i:]), true) {
					binary.LittleEndian.PutUint64(b[i:], 0x3ff0000000000000)
					changed = true
				}
				if isDenormal(uint64(binary.LittleEndian.Uint32(b[i:])), false) {
					binary.LittleEndian.PutUint32(b[i:], 0x3f800000)
					changed = true
				}
			}
		}
	}
	for i := range s.ymm {
		scrub(s.ymm[i][:])
	}
	scrub(s.data[:])
}

func emulateAVX(code []byte, in ymmDiffState) (ymmDiffState, Exit) {
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
	c.mxcsr = in.mxcsr
	for i := range in.ymm {
		c.SetXMM(i, [16]byte(in.ymm[i][:16]))
		c.SetYMMHigh(i, [16]byte(in.ymm[i][16:]))
	}
	ex := c.Run(100000)
	var out ymmDiffState
	out.regs = c.Regs
	out.flags = c.Flags()
	out.mxcsr = c.mxcsr
	for i := range out.ymm {
		x, y := c.XMM(i), c.YMMHigh(i)
		copy(out.ymm[i][:16], x[:])
		copy(out.ymm[i][16:], y[:])
	}
	m.Read(diffData, out.data[:])
	return out, ex
}

func runAVXDiff(t *testing.T, snips []snippet, perSnippet int) {
	toolsOrSkip(t)
	dir := t.TempDir()
	codes := assemble(t, dir, snips)
	runner := filepath.Join(dir, "native_runner_avx")
	if out, err := exec.Command("gcc", "-O1", "-static", "-o", runner, "testdata/native_runner_avx.c").CombinedOutput(); err != nil {
		t.Skipf("cannot build native runner: %v\n%s", err, out)
	}
	if !hostHasAVX2() {
		t.Skip("the host CPU lacks AVX, AVX2, BMI1 or BMI2")
	}
	r := rand.New(rand.NewSource(1))
	var input bytes.Buffer
	var states []ymmDiffState
	var which []int
	for i, sn := range snips {
		for k := 0; k < perSnippet; k++ {
			s := randomAVXState(r, sn)
			states = append(states, s)
			which = append(which, i)
			input.WriteString(s.line(codes[i]) + "\n")
		}
	}
	out := runNative(t, runner, input.String(), snips, which)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	fails, n := 0, 0
	failed := map[string]int{}
	for ; sc.Scan(); n++ {
		want, err := parseAVXState(sc.Text())
		if err != nil {
			t.Fatal(err)
		}
		sn := snips[which[n]]
		got, ex := emulateAVX(codes[which[n]], states[n])
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
		if got.mxcsr&^avxDiffMXCSRIgnore != want.mxcsr&^avxDiffMXCSRIgnore {
			diffs = append(diffs, fmt.Sprintf("mxcsr=%#x want %#x", got.mxcsr, want.mxcsr))
		}
		for i := range got.ymm {
			if got.ymm[i] != want.ymm[i] {
				diffs = append(diffs, fmt.Sprintf("ymm%d=%x want %x", i, got.ymm[i], want.ymm[i]))
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
			failed[sn.asm]++
			fails++
			if fails <= 40 {
				in := states[n]
				t.Errorf("%q (rax=%#x rcx=%#x rdx=%#x flags=%#x ymm0=%x ymm1=%x): %s", sn.asm, in.regs[RAX], in.regs[RCX], in.regs[RDX], in.flags,
					in.ymm[0], in.ymm[1], strings.Join(diffs, ", "))
			}
		}
	}
	if n != len(states) {
		t.Fatalf("runner gave %d states for %d inputs", n, len(states))
	}
	if fails > 40 {
		var names []string
		for a := range failed {
			names = append(names, a)
		}
		sort.Strings(names)
		for _, a := range names {
			t.Logf("%4d/%d failures: %s", failed[a], perSnippet, a)
		}
		t.Errorf("%d failures in all", fails)
	}
	t.Logf("%d snippets, %d runs compared", len(snips), n)
}

// hostHasAVX2 reports whether the host CPU and kernel run AVX2, BMI1 and
// BMI2 code (from /proc/cpuinfo).
func hostHasAVX2() bool {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "flags") {
			have := map[string]bool{}
			for _, f := range strings.Fields(line) {
				have[f] = true
			}
			return have["avx2"] && have["bmi1"] && have["bmi2"] && have["avx"]
		}
	}
	return false
}

// avxDiffMXCSRIgnore: MXCSR.DE is not compared. The legacy SSE
// arithmetic that VEX reuses (sse_float.go) does not set DE for a
// denormal operand of min/max and some other operations; that is the SSE
// code's to fix.
var avxDiffMXCSRIgnore uint32 = mxDE
