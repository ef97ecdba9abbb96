package machine

import (
	"encoding/binary"
	"errors"

	"golang.org/x/arch/x86/x86asm"
)

// XSAVE-managed state: x87 (component 0), SSE (1) and AVX's upper YMM
// halves (2), in the standard (non-compacted) XSAVE layout of SDM Vol. 1
// 13.4: the 512-byte legacy region (the FXSAVE64 image), the 64-byte
// XSAVE header (XSTATE_BV, XCOMP_BV, reserved) and YMM_Hi128 at 576.
// XSAVEC, XSAVEOPT and XSAVES are not implemented and not advertised.

// XCR0 is the extended feature mask the machine's OS enables: x87, SSE
// and AVX.
const XCR0 = 0x7

const (
	// XSaveSize is the size of the XSAVE area for XCR0.
	XSaveSize     = 832
	xsaveHdr      = 512
	xsaveYMMHi    = 576
	xsaveYMMHiLen = 256
)

// ErrXRstor is returned by XRstor for an area XRSTOR would reject with #GP.
var ErrXRstor = errors.New("machine: invalid XSAVE area")

// XSave writes the components of rfbm (a subset of XCR0) to the standard
// XSAVE area b (XSaveSize bytes), as XSAVE does: the legacy region's x87
// part for bit 0, its XMM registers for bit 1, MXCSR and MXCSR_MASK for
// bits 1 or 2, YMM_Hi128 for bit 2, and XSTATE_BV's bits of rfbm. The
// rest of b is left as it was. Every saved component is reported in use
// (XSTATE_BV[i] = 1), which the SDM allows for a component in its initial
// configuration.
func (c *CPU) XSave(b []byte, rfbm uint64) {
	rfbm &= XCR0
	if len(b) < XSaveSize {
		return
	}
	var fx [512]byte
	c.FXSave(&fx)
	if rfbm&1 != 0 {
		copy(b[0:24], fx[0:24])
		copy(b[32:160], fx[32:160])
	}
	if rfbm&2 != 0 {
		copy(b[160:416], fx[160:416])
	}
	if rfbm&6 != 0 {
		copy(b[24:32], fx[24:32])
	}
	if rfbm&4 != 0 {
		for i := 0; i < 16; i++ {
			binary.LittleEndian.PutUint64(b[xsaveYMMHi+16*i:], c.avx.ymmh[i][0])
			binary.LittleEndian.PutUint64(b[xsaveYMMHi+16*i+8:], c.avx.ymmh[i][1])
		}
	}
	bv := binary.LittleEndian.Uint64(b[xsaveHdr:])
	binary.LittleEndian.PutUint64(b[xsaveHdr:], bv&^rfbm|rfbm)
}

// XRstor loads the components of rfbm from the standard XSAVE area b, as
// XRSTOR does: a component whose XSTATE_BV bit is clear is put in its
// initial configuration; MXCSR is loaded when rfbm has bit 1 or 2. It
// fails, changing nothing, where XRSTOR raises #GP: XSTATE_BV outside
// XCR0, a nonzero XCOMP_BV (no compacted form) or reserved header bytes,
// reserved MXCSR bits.
func (c *CPU) XRstor(b []byte, rfbm uint64) error {
	rfbm &= XCR0
	if len(b) < XSaveSize {
		return ErrXRstor
	}
	le := binary.LittleEndian
	bv := le.Uint64(b[xsaveHdr:])
	if bv&^XCR0 != 0 || le.Uint64(b[xsaveHdr+8:]) != 0 {
		return ErrXRstor
	}
	for _, x := range b[xsaveHdr+16 : xsaveHdr+64] {
		if x != 0 {
			return ErrXRstor
		}
	}
	var fx [512]byte
	c.FXSave(&fx)
	if rfbm&1 != 0 {
		if bv&1 != 0 {
			copy(fx[0:24], b[0:24])
			copy(fx[32:160], b[32:160])
		} else {
			// FNINIT, and the registers zeroed.
			clear(fx[0:24])
			le.PutUint16(fx[0:], 0x37f)
			clear(fx[32:160])
		}
	}
	if rfbm&2 != 0 {
		if bv&2 != 0 {
			copy(fx[160:416], b[160:416])
		} else {
			clear(fx[160:416])
		}
	}
	if rfbm&6 != 0 {
		copy(fx[24:28], b[24:28])
	}
	if err := c.FXRstor(&fx); err != nil {
		return err
	}
	if rfbm&4 != 0 {
		for i := 0; i < 16; i++ {
			if bv&4 != 0 {
				c.avx.ymmh[i] = vec{le.Uint64(b[xsaveYMMHi+16*i:]), le.Uint64(b[xsaveYMMHi+16*i+8:])}
			} else {
				c.avx.ymmh[i] = vec{}
			}
		}
	}
	return nil
}

// XInit puts the components of mask in their initial configuration, as
// XRSTOR of a component whose XSTATE_BV bit is clear, leaving MXCSR.
func (c *CPU) XInit(mask uint64) {
	if mask&1 != 0 {
		c.fninit()
		c.fpr = [8]f80{}
	}
	if mask&2 != 0 {
		c.xmm = [16]vec{}
	}
	if mask&4 != 0 {
		c.avx.ymmh = [16]vec{}
	}
}

// execXSave executes XGETBV, XSAVE and XRSTOR (and their 64-bit forms,
// which use the same layout in 64-bit mode).
func (c *CPU) execXSave(in *dinst, next uint64) int {
	switch x86asm.Op(in.op) {
	case x86asm.XGETBV:
		if uint32(c.Regs[RCX]) != 0 {
			return c.gp() // XCR1 needs CPUID.(EAX=0DH,ECX=1):EAX[2], not advertised
		}
		c.Regs[RAX] = XCR0 & 0xffffffff
		c.Regs[RDX] = XCR0 >> 32
	case x86asm.XSAVE, x86asm.XSAVE64:
		addr := c.ea(in)
		if addr&63 != 0 {
			return c.gp()
		}
		if !c.probeW(addr, XSaveSize) {
			return stFault
		}
		// XSAVE leaves the bytes of unsaved components as they are.
		var b [XSaveSize]byte
		if !c.rdBytes(addr, b[:]) {
			b = [XSaveSize]byte{} // write-only memory
		}
		c.XSave(b[:], uint64(uint32(c.Regs[RDX]))<<32|uint64(uint32(c.Regs[RAX])))
		if !c.wrBytes(addr, b[:]) {
			return stFault
		}
	case x86asm.XRSTOR, x86asm.XRSTOR64:
		addr := c.ea(in)
		if addr&63 != 0 {
			return c.gp()
		}
		var b [XSaveSize]byte
		if !c.rdBytes(addr, b[:]) {
			return stFault
		}
		if c.XRstor(b[:], uint64(uint32(c.Regs[RDX]))<<32|uint64(uint32(c.Regs[RAX]))) != nil {
			return c.gp()
		}
	default:
		return c.ud()
	}
	c.RIP = next
	return stOK
}
