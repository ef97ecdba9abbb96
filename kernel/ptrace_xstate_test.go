package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"ptrec/kernel/abi"
	"ptrec/machine"
)

// withXSAVE runs f as on a CPU that advertises XSAVE.
func withXSAVE(t *testing.T, f func()) {
	t.Helper()
	defer setXSAVE(true)()
	f()
}

// setXSAVE makes the kernel act as on a CPU that does (or does not)
// advertise XSAVE, and returns the function that undoes it.
func setXSAVE(on bool) func() {
	old := xsaveOn
	xsaveOn = on
	return func() { xsaveOn = old }
}

func TestPtraceXstate(t *testing.T) {
	k, tracer, child := spawnTraced(t)
	if _, err := k.Wait4(tracer, child.Pid, 0); err != nil {
		t.Fatal(err)
	}
	c := child.Threads()[0].CPU()
	for i := 0; i < 16; i++ {
		var v [16]byte
		for j := range v {
			v[j] = byte(16*i + j)
		}
		c.SetYMMHigh(i, v)
	}
	req := func(op int, data int64, in []byte) (PtraceResult, error) {
		return k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: op, Pid: child.Pid, Addr: 0x1000, Data: data, In: in})
	}
	withXSAVE(t, func() {
		for _, op := range []int{abi.PT_GETXSTATE, abi.PT_FIRSTMACH} {
			res, err := req(op, 0, nil)
			if err != nil || len(res.Out) != machine.XSaveSize-512 {
				t.Fatalf("%s = %d bytes, %v; want %d", abi.PtraceRequestName(op), len(res.Out), err, machine.XSaveSize-512)
			}
			if bv := binary.LittleEndian.Uint64(res.Out); bv != machine.XCR0 {
				t.Errorf("XSTATE_BV %#x, want %#x", bv, machine.XCR0)
			}
			for i := 0; i < 16; i++ {
				want := c.YMMHigh(i)
				if !bytes.Equal(res.Out[64+16*i:80+16*i], want[:]) {
					t.Errorf("YMM%d_H = %x, want %x", i, res.Out[64+16*i:80+16*i], want)
				}
			}
		}
		// Set: header with XSTATE_BV 7 and new upper halves.
		in := make([]byte, machine.XSaveSize-512)
		binary.LittleEndian.PutUint64(in, 7)
		for i := 64; i < len(in); i++ {
			in[i] = byte(255 - i)
		}
		xmm0 := c.XMM(0)
		if _, err := req(abi.PT_SETXSTATE, int64(len(in)), in); err != nil {
			t.Fatalf("PT_SETXSTATE: %v", err)
		}
		for i := 0; i < 16; i++ {
			got := c.YMMHigh(i)
			if !bytes.Equal(got[:], in[64+16*i:80+16*i]) {
				t.Errorf("after PT_SETXSTATE YMM%d_H = %x, want %x", i, got, in[64+16*i:80+16*i])
			}
		}
		if c.XMM(0) != xmm0 {
			t.Errorf("PT_SETXSTATE with XSTATE_BV 7 changed XMM0")
		}
		// XSTATE_BV without AVX: the upper halves are initialised.
		binary.LittleEndian.PutUint64(in, 3)
		if _, err := req(abi.PT_SETXSTATE, 64, in); err != nil {
			t.Fatalf("PT_SETXSTATE header only: %v", err)
		}
		if c.YMMHigh(5) != [16]byte{} {
			t.Errorf("XSTATE_BV 3 left YMM5_H %x", c.YMMHigh(5))
		}
		for _, tc := range []struct {
			name string
			data int64
			in   []byte
			want abi.Errno
		}{
			{"too long", machine.XSaveSize - 512 + 1, make([]byte, 400), abi.EINVAL},
			{"shorter than the header", 32, make([]byte, 32), abi.EINVAL},
			{"negative", -1, nil, abi.EINVAL},
			{"XSTATE_BV beyond XCR0", 64, append([]byte{0xff}, make([]byte, 63)...), abi.EINVAL},
			{"input shorter than data", 128, make([]byte, 64), abi.EFAULT},
		} {
			if _, err := req(abi.PT_SETXSTATE, tc.data, tc.in); !errors.Is(err, tc.want) {
				t.Errorf("PT_SETXSTATE %s = %v, want %s", tc.name, err, tc.want.Name())
			}
		}
	})
	defer setXSAVE(false)()
	if _, err := req(abi.PT_SETXSTATE, 64, make([]byte, 64)); !errors.Is(err, abi.EOPNOTSUPP) {
		t.Errorf("PT_SETXSTATE without XSAVE = %v, want EOPNOTSUPP", err)
	}
}

// TestSignalFpstateXSAVE checks the XSAVE signal-frame fpstate: Linux's
// _fpx_sw_bytes and magic2, the round trip through rt_sigreturn's
// restore, and the fallbacks (no magic: FXSAVE image, AVX initialised).
func TestSignalFpstateXSAVE(t *testing.T) {
	k, tracer, child := spawnTraced(t)
	if _, err := k.Wait4(tracer, child.Pid, 0); err != nil {
		t.Fatal(err)
	}
	th := child.Threads()[0]
	c := th.CPU()
	state := func() []byte {
		var fx [512]byte
		c.FXSave(&fx)
		b := append([]byte{}, fx[:416]...)
		for i := 0; i < 16; i++ {
			y := c.YMMHigh(i)
			b = append(b, y[:]...)
		}
		return b
	}
	set := func(seed byte) {
		for i := 0; i < 16; i++ {
			var v [16]byte
			for j := range v {
				v[j] = seed + byte(16*i+j)
			}
			c.SetXMM(i, v)
			v[0] ^= 0xff
			c.SetYMMHigh(i, v)
		}
	}
	set(1)
	want := state()
	img := fpstateImage(c, true)
	if len(img) != machine.XSaveSize+4 {
		t.Fatalf("fpstate %d bytes, want %d", len(img), machine.XSaveSize+4)
	}
	le := binary.LittleEndian
	if le.Uint32(img[464:]) != fpXstateMagic1 || le.Uint32(img[468:]) != machine.XSaveSize+4 ||
		le.Uint64(img[472:]) != machine.XCR0 || le.Uint32(img[480:]) != machine.XSaveSize ||
		le.Uint32(img[machine.XSaveSize:]) != fpXstateMagic2 || le.Uint64(img[512:]) != machine.XCR0 {
		t.Errorf("sw_reserved %x, magic2 %x, XSTATE_BV %x", img[464:488], img[machine.XSaveSize:], img[512:520])
	}
	addr := (c.Regs[machine.RSP] - 4096) &^ 63
	if err := th.writeMem(addr, img); err != nil {
		t.Fatal(err)
	}
	set(77)
	if err := restoreFpstate(th, addr, true); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(state(), want) {
		t.Errorf("rt_sigreturn did not restore the XSAVE fpstate")
	}
	// xfeatures without AVX: the upper halves are initialised.
	le.PutUint64(img[472:], 3)
	th.writeMem(addr, img)
	set(5)
	if err := restoreFpstate(th, addr, true); err != nil {
		t.Fatal(err)
	}
	if c.YMMHigh(3) != [16]byte{} || c.XMM(3) != [16]byte(want[160+48:160+64]) {
		t.Errorf("xfeatures 3: YMM3_H %x XMM3 %x", c.YMMHigh(3), c.XMM(3))
	}
	// No magic2: the legacy image only, AVX initialised.
	le.PutUint64(img[472:], machine.XCR0)
	le.PutUint32(img[machine.XSaveSize:], 0)
	th.writeMem(addr, img)
	set(9)
	if err := restoreFpstate(th, addr, true); err != nil {
		t.Fatal(err)
	}
	if c.YMMHigh(0) != [16]byte{} || c.XMM(0) != [16]byte(want[160:176]) {
		t.Errorf("no magic2: YMM0_H %x XMM0 %x", c.YMMHigh(0), c.XMM(0))
	}
	// A header XRSTOR rejects is a bad frame (SIGSEGV).
	le.PutUint32(img[machine.XSaveSize:], fpXstateMagic2)
	img[512] = 0xff
	th.writeMem(addr, img)
	if err := restoreFpstate(th, addr, true); !errors.Is(err, abi.EFAULT) {
		t.Errorf("bad XSTATE_BV: %v, want EFAULT", err)
	}
	// Without XSAVE the frame is the plain FXSAVE image.
	if img := fpstateImage(c, false); len(img) != 512 {
		t.Errorf("legacy fpstate %d bytes", len(img))
	}
}
