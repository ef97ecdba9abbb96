package kernel

import (
	"strconv"

	"ptrec/kernel/abi"
)

// Limits bound what a guest may consume (ptrec run/record --max-memory,
// --max-procs). They change what the guest observes (ENOMEM, EAGAIN), so
// they are part of HostFacts: recorded in the trace header and applied
// again by replay.
type Limits struct {
	// MaxMemory bounds the guest memory mapped by all live processes
	// together, in bytes (address spaces shared by threads or vfork are
	// counted once); 0 is no limit. mmap, mremap and brk that would exceed it
	// fail with ENOMEM, and fork with ENOMEM (the child's copy-on-write
	// address space counts in full). The initial executable and its stack
	// are not refused, only counted.
	MaxMemory uint64
	// MaxProcs bounds the guest tasks (threads of all processes) alive at
	// once, like RLIMIT_NPROC; 0 is no limit. fork, vfork and clone beyond
	// it fail with EAGAIN.
	MaxProcs int
}

// limitPairs returns the non-zero limits as header pairs.
func (l Limits) limitPairs() [][2]string {
	var out [][2]string
	if l.MaxMemory != 0 {
		out = append(out, [2]string{"limit.max-memory", strconv.FormatUint(l.MaxMemory, 10)})
	}
	if l.MaxProcs != 0 {
		out = append(out, [2]string{"limit.max-procs", strconv.Itoa(l.MaxProcs)})
	}
	return out
}

// setLimitPair sets the limit named by a header pair and reports whether
// the key was a limit.
func (l *Limits) setLimitPair(key, val string) bool {
	switch key {
	case "limit.max-memory":
		l.MaxMemory, _ = strconv.ParseUint(val, 10, 64)
	case "limit.max-procs":
		n, _ := strconv.ParseInt(val, 10, 32)
		l.MaxProcs = int(max(n, 0))
	default:
		return false
	}
	return true
}

// mappedBytes returns the guest memory mapped by live processes, each
// address space once.
func (k *Kernel) mappedBytes() uint64 {
	var seen []*VMMap
	var total uint64
	for _, p := range k.procs {
		if p.system || p.Exited() || p.vm == nil || p.mem == nil {
			continue
		}
		dup := false
		for _, s := range seen {
			if s == p.vm {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		seen = append(seen, p.vm)
		for _, r := range p.vm.regions {
			total += r.End - r.Start
		}
	}
	return total
}

// chargeMemory reports ENOMEM if mapping grow more bytes would take the
// guest beyond Limits.MaxMemory. Mirrors the overcommit check of Linux's
// __vm_enough_memory / may_expand_vm, with the limit as the commit limit.
func (k *Kernel) chargeMemory(grow uint64) error {
	limit := k.facts.Limits.MaxMemory
	if limit == 0 || grow == 0 {
		return nil
	}
	used := k.mappedBytes()
	if used > limit || grow > limit-used {
		return abi.ENOMEM
	}
	return nil
}

// chargeTask reports EAGAIN if one more task would exceed Limits.MaxProcs
// (Linux's copy_process RLIMIT_NPROC check), and ENOMEM if a new address
// space copying p's would exceed Limits.MaxMemory.
func (k *Kernel) chargeTask(p *Process, newAddressSpace bool) error {
	if n := k.facts.Limits.MaxProcs; n > 0 && len(k.threads) >= n {
		return abi.EAGAIN
	}
	if newAddressSpace && p.vm != nil {
		var size uint64
		for _, r := range p.vm.regions {
			size += r.End - r.Start
		}
		return k.chargeMemory(size)
	}
	return nil
}
