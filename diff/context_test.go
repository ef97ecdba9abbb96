package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ptrec/format"
	"ptrec/kernel/abi"
)

// TestContextOfRecord: the context of a syscall record is the records and
// events around it, one line per record, the record marked; of a large
// syscalls event before it only the last records show.
func TestContextOfRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.ptrec")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := format.NewWriter(f, format.Header{Program: "synthetic", Stops: stopsSyscallLog})
	if err != nil {
		t.Fatal(err)
	}
	ic := uint64(0)
	for ev := 0; ev < 2; ev++ {
		recs := make([]format.Syscall, 1000)
		for i := range recs {
			ic += 10
			recs[i] = format.Syscall{Tid: 100000, Code: abi.SYS_GETPID, Icount: ic, RIP: 0x401000, Ret: int64(i)}
		}
		ic += 10
		stop := &format.Event{Kind: format.KindStop, Icount: ic, Pid: 3, Tid: 100000,
			Stop: &format.Stop{Status: 0x57f, Flags: abi.PL_FLAG_SCE, SyscallCode: abi.SYS_GETPID, Regs: format.Regs{format.RegRIP: 0x401000}}}
		if err := w.Write(stop); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(&format.Event{Kind: format.KindSyscalls, Icount: ic, Pid: 3, Syscalls: &format.Syscalls{Records: recs}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Events: #0 stop, #1 1000 records, #2 stop, #3 1000 records.
	for _, c := range []struct {
		sub  int64
		want []string
	}{
		{0, []string{"  #1[999] ", "  #2 ", "> #3[0] ", "  #3[1] ", "  #3[2] "}},
		{1, []string{"  #2 ", "  #3[0] ", "> #3[1] ", "  #3[2] ", "  #3[3] "}},
	} {
		lines, err := context(path, 3, c.sub, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != len(c.want) {
			t.Fatalf("context(sub %d) = %q, want lines %q…", c.sub, lines, c.want)
		}
		for i, l := range lines {
			if !strings.HasPrefix(l, c.want[i]) {
				t.Errorf("context(sub %d) line %d = %q, want %q…", c.sub, i, l, c.want[i])
			}
		}
		if m := lines[2]; !strings.Contains(m, fmt.Sprintf(" getpid() = %d ", c.sub)) {
			t.Errorf("marked line %q, want getpid's record %d", m, c.sub)
		}
	}
	// A record beyond the event's marks the event; so does sub -1.
	for _, sub := range []int64{1000, -1} {
		lines, err := context(path, 3, sub, 1)
		if err != nil {
			t.Fatal(err)
		}
		marked := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "> #3 ") && strings.HasSuffix(l, " 1000 records") {
				marked++
			}
		}
		if marked != 1 {
			t.Errorf("context(sub %d) = %q, want event 3 marked once", sub, lines)
		}
	}
	if r, err := readRecord(path, 3, 999); err != nil || r.Ret != 999 {
		t.Errorf("readRecord(3, 999) = %+v, %v", r, err)
	}
	if _, err := readRecord(path, 3, 1000); err == nil {
		t.Errorf("readRecord(3, 1000) succeeded")
	}
	if _, err := readRecord(path, 2, 0); err == nil {
		t.Errorf("readRecord of a stop succeeded")
	}
}
