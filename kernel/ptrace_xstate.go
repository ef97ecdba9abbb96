package kernel

import (
	"encoding/binary"

	"ptrec/kernel/abi"
	"ptrec/machine"
)

// xstatePtrace serves PT_GETXSTATE and PT_SETXSTATE as the seed's era
// cpu_ptrace: the extended state XSAVE saves beyond the 512-byte legacy
// region (the XSAVE header and YMM_Hi128, cpu_max_ext_state_size - 512
// bytes). Without XSAVE advertised, as FreeBSD on such a CPU, both fail
// with EOPNOTSUPP.
func (k *Kernel) xstatePtrace(p *Process, t *Thread, r *PtraceRequest) (PtraceResult, error) {
	_ = p
	if !xsaveOn {
		return PtraceResult{}, abi.EOPNOTSUPP
	}
	const ext = machine.XSaveSize - 512
	var area [machine.XSaveSize]byte
	t.cpu.XSave(area[:], machine.XCR0)
	switch r.Op {
	case abi.PT_GETXSTATE, abi.PT_FIRSTMACH:
		// fpugetregs, then the area after the legacy region; data is
		// ignored.
		out := r.outBuf(ext)
		copy(out, area[512:])
		return PtraceResult{Out: out}, nil
	default: // PT_SETXSTATE
		if r.Data < 0 || r.Data > ext {
			return PtraceResult{}, abi.EINVAL
		}
		n := int(r.Data)
		if len(r.In) < n {
			return PtraceResult{}, abi.EFAULT
		}
		// fpusetxstate: at least the header, XSTATE_BV within the
		// XSAVE mask; it replaces XSTATE_BV and what follows the header,
		// and the thread's state is then restored from the area.
		if n < 64 {
			return PtraceResult{}, abi.EINVAL
		}
		bv := binary.LittleEndian.Uint64(r.In)
		if bv&^machine.XCR0 != 0 {
			return PtraceResult{}, abi.EINVAL
		}
		binary.LittleEndian.PutUint64(area[512:], bv)
		copy(area[576:], r.In[64:n])
		if err := t.cpu.XRstor(area[:], machine.XCR0); err != nil {
			return PtraceResult{}, abi.EINVAL
		}
		return PtraceResult{}, nil
	}
}
