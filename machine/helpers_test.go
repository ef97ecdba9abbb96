package machine

import (
	"encoding/hex"
	"strings"
	"testing"
)

func init() { panicOnBug = true }

const (
	testCode  = 0x400000
	testData  = 0x600000
	testStack = 0x7fff0000
)

// newTestCPU maps code at testCode (r-x), 64 KiB of data at testData (rw-) and
// a 64 KiB stack below testStack, with RSP at its top.
func newTestCPU(t testing.TB, code []byte) *CPU {
	t.Helper()
	m := NewMemory()
	m.Map(testCode, 0x10000, ProtRead|ProtWrite)
	if err := m.Write(testCode, code); err != nil {
		t.Fatal(err)
	}
	m.Protect(testCode, 0x10000, ProtRead|ProtExec)
	m.Map(testData, 0x10000, ProtRead|ProtWrite)
	m.Map(testStack-0x10000, 0x10000, ProtRead|ProtWrite)
	c := NewCPU(m)
	c.RIP = testCode
	c.Regs[RSP] = testStack
	return c
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
