package hostos

import (
	"math/rand/v2"

	"ptrec/kernel"
)

// Fixed wraps a host so that randomness and time are reproducible: random
// bytes come from a PCG stream seeded with seed, clocks start at a fixed
// epoch and advance 1µs per reading (and by the full duration of a sleep,
// without sleeping). Files and the terminal are still the real host's. It
// is what golden traces are recorded with (`ptrec record --seed N`).
type Fixed struct {
	kernel.Host
	rng *rand.Rand
	now int64
}

// fixedEpoch is 2023-11-14T22:13:20Z in nanoseconds.
const fixedEpoch = 1_700_000_000 * int64(1e9)

// NewFixed returns h with reproducible randomness and time.
func NewFixed(h kernel.Host, seed uint64) *Fixed {
	return &Fixed{Host: h, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Call implements kernel.Host.
func (f *Fixed) Call(c *kernel.HostCall) kernel.HostReply {
	switch c.Op {
	case kernel.HostRandom:
		n := min(max(arg(c, 0), 0), maxRead)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(f.rng.Uint32())
		}
		return kernel.HostReply{Ret: n, Out: b}
	case kernel.HostClock:
		f.now += 1000
		if arg(c, 0) == 0 || arg(c, 0) == 5 || arg(c, 0) == 8 { // CLOCK_REALTIME, _COARSE, TAI-like
			return kernel.HostReply{Ret: fixedEpoch + f.now}
		}
		return kernel.HostReply{Ret: f.now}
	case kernel.HostSleep:
		f.now += max(arg(c, 0), 0)
		return kernel.HostReply{}
	}
	return f.Host.Call(c)
}
