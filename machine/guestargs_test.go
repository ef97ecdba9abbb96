package machine

import (
	"debug/elf"
	"encoding/binary"
	"testing"
)

// loadELFArgs is loadELF (guest_test.go) with the given argv: it lays out
// a fresh initial stack (argc, argv, empty envp, auxv) below the one
// loadELF made.
func loadELFArgs(t *testing.T, path string, args []string) (*miniKernel, error) {
	k, err := loadELF(t, path)
	if err != nil {
		return nil, err
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var phdr uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Off == 0 {
			phdr = p.Vaddr + 64
		}
	}
	m := k.c.Mem
	sp := uint64(guestStackTop - 4096)
	random := sp
	m.Write(random, []byte("0123456789abcdef"))
	sp += 16
	var ptrs []uint64
	for _, a := range args {
		ptrs = append(ptrs, sp)
		m.Write(sp, append([]byte(a), 0))
		sp += uint64(len(a)) + 1
	}
	words := []uint64{uint64(len(args))}
	words = append(words, ptrs...)
	words = append(words, 0, 0)
	words = append(words, 3, phdr, 4, 56, 5, uint64(len(f.Progs)), 6, PageSize, 9, f.Entry, 25, random, 0, 0)
	sp = (guestStackTop - 8192) &^ 15
	b := make([]byte, 8*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	m.Write(sp, b)
	k.c.Regs[RSP] = sp
	return k, nil
}
