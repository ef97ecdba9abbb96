package machine

import "testing"

func TestSmoke(t *testing.T) {
	c := newTestCPU(t, unhex(t, "48c7c0050000004801c8cc"))
	c.Regs[RCX] = 7
	ex := c.Run(100)
	if ex.Reason != ExitBreakpoint || c.Regs[RAX] != 12 || c.Icount != 3 {
		t.Fatalf("ex=%+v rax=%d icount=%d", ex, c.Regs[RAX], c.Icount)
	}
}
