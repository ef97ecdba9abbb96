package kernel

import "ptrec/kernel/abi"

// xstatePtrace serves PT_GETXSTATE and PT_SETXSTATE (and PT_GETXSTATE_INFO
// where the request table routes it here): the extended state that XSAVE
// saves. The machine advertises no XSAVE, so, as FreeBSD on such a CPU,
// they fail with EOPNOTSUPP.
func (k *Kernel) xstatePtrace(p *Process, t *Thread, r *PtraceRequest) (PtraceResult, error) {
	_, _, _ = p, t, r
	return PtraceResult{}, abi.EOPNOTSUPP
}
