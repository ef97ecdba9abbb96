package kernel

import (
	"os"
	"testing"
)

// FuzzLoadELF feeds arbitrary bytes to the ELF loader: every input is either
// loaded or refused with an *ExecError, never a panic.
func FuzzLoadELF(f *testing.F) {
	for _, p := range []string{"../testdata/bin/echoargs.musl", "../testdata/bin/smc.musl"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
			if len(b) > 512 {
				f.Add(b[:512])
			}
		}
	}
	f.Add([]byte("\x7fELF"))
	f.Add([]byte("#!/bin/sh\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k := New(Config{Host: noFilesHost{}})
		img, err := k.loadImage("/fuzz", data)
		if err != nil {
			if _, ok := err.(*ExecError); !ok {
				t.Fatalf("loadImage error %T %v, want *ExecError", err, err)
			}
			return
		}
		// What loads must have mapped its program headers' segments.
		if len(img.vm.Regions()) == 0 {
			t.Fatalf("loaded a %d-byte file without mapping anything", len(data))
		}
	})
}

// noFilesHost has no files at all (an interpreter named by a fuzzed
// PT_INTERP must not reach the real filesystem).
type noFilesHost struct{}

func (noFilesHost) Call(c *HostCall) HostReply {
	if c.Op == HostRandom {
		return HostReply{Ret: c.Args[0], Out: make([]byte, c.Args[0])}
	}
	return HostReply{Errno: 2}
}
