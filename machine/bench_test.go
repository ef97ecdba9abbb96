package machine

import (
	"os"
	"path/filepath"
	"testing"
)

// loopCode is an integer loop of 10 instructions per iteration:
//
//	mov ecx, 1000000; xor eax, eax
//	1: add rax, rcx; xor rax, 0x55; lea rdx, [rax+rcx*2]; sub rdx, 7
//	   mov [rsp-8], rdx; mov rbx, [rsp-8]; cmp rbx, rax; jne 2f
//	2: dec rcx; jnz 1b
//	int3
const loopCode = "b940420f0031c04801c84883f055488d14484883ea0748895424f8488b5c24f84839c3750048ffc975ddcc"

func TestRunNoAllocs(t *testing.T) {
	c := newTestCPU(t, unhex(t, loopCode))
	c.Run(100) // warm the decode cache
	allocs := testing.AllocsPerRun(100, func() {
		c.RIP = testCode + 7 // the loop
		c.Regs[RCX] = 1 << 40
		c.Run(10000)
	})
	if allocs != 0 {
		t.Errorf("Run allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkRun(b *testing.B) {
	c := newTestCPU(b, unhex(b, loopCode))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	var n uint64
	for i := 0; i < b.N; i++ {
		c.RIP = testCode
		start := c.Icount
		if ex := c.Run(1 << 30); ex.Reason != ExitBreakpoint {
			b.Fatalf("exit %+v", ex)
		}
		n += c.Icount - start
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds()/1e6, "MIPS")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds()/1e6, "MIPS(cpu)")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/insn")
}

// BenchmarkGuestBin runs the static benchmark guests of testdata/bin under
// the mini kernel of guest_test.go and reports MIPS of CPU time: hash
// (integer), fp (SSE2 doubles) and mem (32 MiB array walks).
func BenchmarkGuestBin(b *testing.B) {
	for _, g := range []struct{ name, arg string }{
		{"hash", "2"}, {"fp", "20"}, {"mem", "1"},
	} {
		b.Run(g.name, func(b *testing.B) {
			path := filepath.Join("..", "testdata", "bin", "bench_"+g.name+".musl")
			if _, err := os.Stat(path); err != nil {
				b.Skip(err)
			}
			t := &testing.T{}
			cpu0 := cpuTime()
			var n uint64
			for i := 0; i < b.N; i++ {
				k, err := loadELFArgs(t, path, []string{"bench", g.arg})
				if err != nil {
					b.Fatal(err)
				}
				k.run(t)
				if !k.exited || k.status != 0 {
					b.Fatalf("guest did not exit cleanly: %q", k.out.String())
				}
				n += k.c.Icount
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds()/1e6, "MIPS")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(n)/cpu.Seconds()/1e6, "MIPS(cpu)")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/insn")
		})
	}
}
