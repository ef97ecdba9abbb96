package kernel

import (
	"ptrec/kernel/abi"
	"ptrec/machine"
)

// futexKey identifies a futex word: the address space and the address. The
// Memory pointer is only a map key; it never reaches guest-visible state.
type futexKey struct {
	mem  *machine.Memory
	addr uint64
}

// futexWaiter is a thread sleeping on a futex, with its wake bitset.
type futexQueue struct {
	q    waitQueue
	bits map[*Thread]uint32
}

func (k *Kernel) futexQ(p *Process, addr uint64) *futexQueue {
	if k.futexes == nil {
		k.futexes = make(map[futexKey]*futexQueue)
	}
	key := futexKey{p.mem, addr}
	fq := k.futexes[key]
	if fq == nil {
		fq = &futexQueue{bits: make(map[*Thread]uint32)}
		k.futexes[key] = fq
	}
	return fq
}

// futexWake wakes up to n waiters on addr whose bitset matches.
func (k *Kernel) futexWake(p *Process, addr uint64, n int, bits uint32) int {
	if k.futexes == nil || p.mem == nil {
		return 0
	}
	fq := k.futexes[futexKey{p.mem, addr}]
	if fq == nil {
		return 0
	}
	return k.wakeN(&fq.q, n, func(t *Thread) bool {
		if fq.bits[t]&bits == 0 {
			return false
		}
		t.futexWoken = true
		delete(fq.bits, t)
		return true
	})
}

func sysFutex(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	addr, op, val, timeout, addr2, val3 := a[0], int(a[1]), uint32(a[2]), a[3], a[4], uint32(a[5])
	cmd := op &^ (abi.FUTEX_PRIVATE_FLAG | abi.FUTEX_CLOCK_REALTIME)
	p := t.p
	switch cmd {
	case abi.FUTEX_WAIT, abi.FUTEX_WAIT_BITSET:
		bits := ^uint32(0)
		if cmd == abi.FUTEX_WAIT_BITSET {
			bits = val3
			if bits == 0 {
				return 0, abi.EINVAL
			}
		}
		if t.futexWaiting {
			// Re-run after a wake-up.
			t.futexWaiting = false
			fq := k.futexQ(p, addr)
			delete(fq.bits, t)
			switch {
			case t.futexWoken:
				t.futexWoken = false
				return 0, nil
			case t.timedOut:
				return 0, abi.ETIMEDOUT
			case t.interrupted:
				return 0, abi.EINTR
			}
			return 0, nil
		}
		if addr%4 != 0 {
			return 0, abi.EINVAL
		}
		cur, err := t.readU32(addr)
		if err != nil {
			return 0, err
		}
		if cur != val {
			return 0, abi.EAGAIN
		}
		deadline := int64(0)
		if timeout != 0 {
			ns, err := t.readTimespec(timeout)
			if err != nil {
				return 0, err
			}
			if cmd == abi.FUTEX_WAIT {
				deadline = k.clock(abi.CLOCK_MONOTONIC) + ns
			} else {
				clk := abi.CLOCK_MONOTONIC
				if op&abi.FUTEX_CLOCK_REALTIME != 0 {
					clk = abi.CLOCK_REALTIME
				}
				deadline = k.clock(abi.CLOCK_MONOTONIC) + (ns - k.clock(clk))
			}
			if deadline <= 0 {
				deadline = 1
			}
		}
		fq := k.futexQ(p, addr)
		fq.bits[t] = bits
		t.futexWaiting = true
		t.futexWoken = false
		k.sleepOn(t, &fq.q, deadline)
		return 0, errBlock
	case abi.FUTEX_WAKE:
		return uint64(k.futexWake(p, addr, int(int32(val)), ^uint32(0))), nil
	case abi.FUTEX_WAKE_BITSET:
		if val3 == 0 {
			return 0, abi.EINVAL
		}
		return uint64(k.futexWake(p, addr, int(int32(val)), val3)), nil
	case abi.FUTEX_REQUEUE, abi.FUTEX_CMP_REQUEUE:
		if cmd == abi.FUTEX_CMP_REQUEUE {
			cur, err := t.readU32(addr)
			if err != nil {
				return 0, err
			}
			if cur != val3 {
				return 0, abi.EAGAIN
			}
		}
		woken := k.futexWake(p, addr, int(int32(val)), ^uint32(0))
		// Move up to val2 (the timeout slot) remaining waiters to addr2.
		n2 := int(uint32(timeout))
		src := k.futexQ(p, addr)
		dst := k.futexQ(p, addr2)
		moved := 0
		var keep []*Thread
		for _, w := range src.q.waiters {
			if moved < n2 {
				dst.q.add(w)
				dst.bits[w] = src.bits[w]
				delete(src.bits, w)
				w.blocked = &dst.q
				moved++
				continue
			}
			keep = append(keep, w)
		}
		src.q.waiters = keep
		return uint64(woken + moved), nil
	case abi.FUTEX_WAKE_OP:
		old, err := t.readU32(addr2)
		if err != nil {
			return 0, err
		}
		opc, cmp := (val3>>28)&0xf, (val3>>24)&0xf
		oparg, cmparg := (val3>>12)&0xfff, val3&0xfff
		if opc&8 != 0 {
			oparg = 1 << (oparg & 31)
			opc &= 7
		}
		var nv uint32
		switch opc {
		case 0:
			nv = oparg
		case 1:
			nv = old + oparg
		case 2:
			nv = old | oparg
		case 3:
			nv = old &^ oparg
		case 4:
			nv = old ^ oparg
		default:
			return 0, abi.ENOSYS
		}
		if err := t.writeU32(addr2, nv); err != nil {
			return 0, err
		}
		n := k.futexWake(p, addr, int(int32(val)), ^uint32(0))
		var ok bool
		o, c := int32(old), int32(cmparg)
		switch cmp {
		case 0:
			ok = o == c
		case 1:
			ok = o != c
		case 2:
			ok = o < c
		case 3:
			ok = o <= c
		case 4:
			ok = o > c
		case 5:
			ok = o >= c
		default:
			return 0, abi.ENOSYS
		}
		if ok {
			n += k.futexWake(p, addr2, int(uint32(timeout)), ^uint32(0))
		}
		return uint64(n), nil
	}
	return 0, abi.ENOSYS
}
