package replay

import (
	"bytes"
	"debug/elf"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"ptrec/kernel"
)

// symtab is an executable's symbol table, from the copy of the executable
// recorded in the trace (replay never reads the host's files).
type symtab struct {
	syms  []elf.Symbol // functions and objects with an address, by address
	names map[string]uint64
	pie   bool
	auxv  []byte
	elf   []byte
}

func loadSymtab(b []byte) *symtab {
	st := &symtab{names: make(map[string]uint64), elf: b}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return st
	}
	defer f.Close()
	st.pie = f.Type == elf.ET_DYN
	syms, _ := f.Symbols()
	for _, s := range syms {
		t := elf.ST_TYPE(s.Info)
		if s.Value == 0 || s.Name == "" || (t != elf.STT_FUNC && t != elf.STT_OBJECT) {
			continue
		}
		st.syms = append(st.syms, s)
		if _, dup := st.names[s.Name]; !dup {
			st.names[s.Name] = s.Value
		}
	}
	sort.SliceStable(st.syms, func(i, j int) bool { return st.syms[i].Value < st.syms[j].Value })
	return st
}

// symbols returns the symbol table of the current process's executable and
// its load bias.
func (r *Replayer) symbols() (*symtab, uint64) {
	t := r.Thread()
	path := r.hdr.Path
	var p *kernel.Process
	if t != nil {
		p = t.Process()
		if e := p.ExePath(); e != "" {
			path = e
		}
	}
	st := r.dbg.syms[path]
	if st == nil {
		b := r.files[path]
		if b == nil && p != nil {
			b = p.ExeImage() // a demand-paged executable: what exec read of it
		}
		if b == nil {
			b = r.files[r.hdr.Path]
		}
		st = loadSymtab(b)
		r.dbg.syms[path] = st
	}
	var bias uint64
	if st.pie && p != nil {
		for _, reg := range p.VM().Regions() {
			if reg.Path != "" && reg.Offset == 0 && strings.HasSuffix(path, baseName(reg.Path)) {
				bias = reg.Start
				break
			}
		}
	}
	return st, bias
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// Symbolize returns pc as symbol+offset, or "" if no symbol covers it.
func (r *Replayer) Symbolize(pc uint64) string {
	st, bias := r.symbols()
	a := pc - bias
	i := sort.Search(len(st.syms), func(i int) bool { return st.syms[i].Value > a }) - 1
	if i < 0 {
		return ""
	}
	s := st.syms[i]
	if s.Size != 0 && a >= s.Value+s.Size {
		return ""
	}
	if a == s.Value {
		return s.Name
	}
	return fmt.Sprintf("%s+%#x", s.Name, a-s.Value)
}

// Resolve turns an address ("0x401000", "4198400") or a symbol name
// ("main", "main+8") into an address.
func (r *Replayer) Resolve(spec string) (uint64, error) {
	if v, err := strconv.ParseUint(spec, 0, 64); err == nil {
		return v, nil
	}
	name, off := spec, uint64(0)
	if i := strings.LastIndexByte(spec, '+'); i > 0 {
		v, err := strconv.ParseUint(spec[i+1:], 0, 64)
		if err != nil {
			return 0, fmt.Errorf("replay: bad offset in %q", spec)
		}
		name, off = spec[:i], v
	}
	st, bias := r.symbols()
	v, ok := st.names[name]
	if !ok {
		return 0, fmt.Errorf("replay: no symbol %q", name)
	}
	return v + bias + off, nil
}

// Executable returns the recorded copy of the current process's executable.
func (r *Replayer) Executable() (path string, elf []byte) {
	st, _ := r.symbols()
	path = r.hdr.Path
	if t := r.Thread(); t != nil && t.Process().ExePath() != "" {
		path = t.Process().ExePath()
	}
	return path, st.elf
}
