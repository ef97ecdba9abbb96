package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"

	"ptrec/kernel/abi"
)

// TestPtraceGetStop checks that PT_PTREC_GETSTOP returns, at every stop of
// a traced guest, exactly what PT_LWPINFO (full size), PT_GETREGS and
// PT_PTREC_GETBASES return, whether the target is named by pid or by tid,
// and that it refuses a 32-bit tracer and an unstopped target as the other
// requests do.
func TestPtraceGetStop(t *testing.T) {
	k, tracer, child := spawnTraced(t)
	call := func(c PtraceCaller, op int, pid int32, data int64) (PtraceResult, error) {
		return k.Ptrace(c, &PtraceRequest{Op: op, Pid: pid, Data: data})
	}
	me := PtraceCaller{P: tracer}
	stops := 0
	for ; stops < 200; stops++ {
		w, err := k.Wait4(tracer, child.Pid, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !abi.WaitStatus(w.Status).Stopped() {
			break
		}
		got, err := call(me, PT_PTREC_GETSTOP, child.Pid, 0)
		if err != nil || len(got.Out) != abi.PtrecStopSize {
			t.Fatalf("stop %d: PT_PTREC_GETSTOP = %d bytes, %v; want %d bytes", stops, len(got.Out), err, abi.PtrecStopSize)
		}
		lwp, err := call(me, abi.PT_LWPINFO, child.Pid, abi.PtraceLwpinfoSize)
		if err != nil {
			t.Fatal(err)
		}
		tid := int32(le32(lwp.Out))
		regs, err := call(me, abi.PT_GETREGS, tid, 0)
		if err != nil {
			t.Fatal(err)
		}
		bases, err := call(me, PT_PTREC_GETBASES, tid, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := append(append(append([]byte(nil), lwp.Out...), regs.Out...), bases.Out...)
		if !bytes.Equal(got.Out, want) {
			t.Fatalf("stop %d: PT_PTREC_GETSTOP = %x, want PT_LWPINFO+PT_GETREGS+PT_PTREC_GETBASES %x", stops, got.Out, want)
		}
		byTid, err := call(me, PT_PTREC_GETSTOP, tid, 0)
		if err != nil || !bytes.Equal(byTid.Out, want) {
			t.Fatalf("stop %d: PT_PTREC_GETSTOP by tid = %x, %v; want %x", stops, byTid.Out, err, want)
		}
		if _, err := call(PtraceCaller{P: tracer, ILP32: true}, PT_PTREC_GETSTOP, child.Pid, 0); !errors.Is(err, abi.EINVAL) {
			t.Fatalf("stop %d: PT_PTREC_GETSTOP from a 32-bit tracer = %v, want EINVAL", stops, err)
		}
		if _, err := k.Ptrace(me, &PtraceRequest{Op: abi.PT_TO_SCE, Pid: child.Pid, Addr: 1}); err != nil {
			t.Fatal(err)
		}
		if stops == 0 {
			// Running, not stopped: the seed's EBUSY, as for PT_GETREGS.
			if _, err := call(me, PT_PTREC_GETSTOP, child.Pid, 0); !errors.Is(err, abi.EBUSY) {
				t.Fatalf("PT_PTREC_GETSTOP of a running tracee = %v, want EBUSY", err)
			}
		}
	}
	if stops < 3 {
		t.Fatalf("only %d stops", stops)
	}
	if _, err := call(me, PT_PTREC_GETSTOP, child.Pid, 0); !errors.Is(err, abi.ESRCH) {
		t.Errorf("PT_PTREC_GETSTOP of a reaped process = %v, want ESRCH", err)
	}
}

// appendPatchRef is AppendPatch as first written (a word or a byte at a
// time): the reference the faster one must agree with byte for byte, since
// patches are in traces.
func appendPatchRef(dst, base, full []byte) []byte {
	last := 0
	for i := 0; i < len(full); {
		if i+8 <= len(full) && le64(full[i:]) == le64(base[i:]) {
			i += 8
			continue
		}
		if full[i] == base[i] {
			i++
			continue
		}
		j, same := i+1, 0
		for ; j < len(full) && same < 4; j++ {
			if full[j] == base[j] {
				same++
			} else {
				same = 0
			}
		}
		j -= same
		dst = binary.AppendUvarint(dst, uint64(i-last))
		dst = binary.AppendUvarint(dst, uint64(j-i))
		dst = append(dst, full[i:j]...)
		last, i = j, j
	}
	return dst
}

// TestAppendPatch checks AppendPatch against the reference on random
// outputs (sparse and dense differences, every length up to 400) and that
// ApplyPatch rebuilds the output from the base.
func TestAppendPatch(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for n := 0; n <= 400; n++ {
		for _, density := range []int{0, 1, 3, 20, 100} {
			base := make([]byte, n)
			for i := range base {
				if r.IntN(3) == 0 {
					base[i] = byte(r.Uint32())
				}
			}
			full := bytes.Clone(base)
			for i := range full {
				if r.IntN(100) < density {
					full[i] = byte(r.Uint32())
				}
			}
			got := AppendPatch([]byte{0xee}, base, full)
			want := appendPatchRef([]byte{0xee}, base, full)
			if !bytes.Equal(got, want) {
				t.Fatalf("AppendPatch(len %d, density %d) = %x, want %x", n, density, got, want)
			}
			rebuilt := bytes.Clone(base)
			if !ApplyPatch(rebuilt, got[1:]) || !bytes.Equal(rebuilt, full) {
				t.Fatalf("ApplyPatch(AppendPatch) (len %d, density %d) = %x, want %x", n, density, rebuilt, full)
			}
		}
	}
}
