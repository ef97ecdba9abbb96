package diff

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
)

// Symbols maps pcs of an executable to function names and source lines,
// from its ELF symbol table and DWARF line table (when it has them).
type Symbols struct {
	funcs []funcSym
	objs  []funcSym // data symbols (STT_OBJECT)
	lines []lineRow
}

type funcSym struct {
	addr, size uint64
	name       string
}

type lineRow struct {
	addr uint64
	file string
	line int
	end  bool // end of a sequence: no line from here
}

// maxExecutable bounds the executables parsed for symbols.
const maxExecutable = 512 << 20

// NewSymbols parses an executable's bytes. A stripped executable gives an
// empty table, not an error; malformed ELF gives an error, never a panic.
func NewSymbols(exe []byte) (s *Symbols, err error) {
	if len(exe) > maxExecutable {
		return nil, fmt.Errorf("diff: executable of %d bytes is too large to symbolize", len(exe))
	}
	// debug/elf and debug/dwarf are meant to reject bad input with errors;
	// the recover is a last line of defence for the trace's untrusted
	// bytes, so a hostile executable cannot crash ptrec diff.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("diff: malformed executable: %v", r)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(exe))
	if err != nil {
		return nil, fmt.Errorf("diff: executable: %w", err)
	}
	defer f.Close()
	s = &Symbols{}
	syms, err := f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("diff: executable symbols: %w", err)
	}
	for _, sym := range syms {
		switch {
		case sym.Value == 0:
		case elf.ST_TYPE(sym.Info) == elf.STT_FUNC:
			s.funcs = append(s.funcs, funcSym{sym.Value, sym.Size, sym.Name})
		case elf.ST_TYPE(sym.Info) == elf.STT_OBJECT && sym.Section != elf.SHN_UNDEF && sym.Section < elf.SHN_LORESERVE:
			// Not STT_TLS: those values are offsets in the TLS block.
			s.objs = append(s.objs, funcSym{sym.Value, sym.Size, sym.Name})
		}
	}
	sort.SliceStable(s.funcs, func(i, j int) bool { return s.funcs[i].addr < s.funcs[j].addr })
	sort.SliceStable(s.objs, func(i, j int) bool { return s.objs[i].addr < s.objs[j].addr })
	if d, err := f.DWARF(); err == nil {
		s.readLines(d)
	}
	return s, nil
}

func (s *Symbols) readLines(d *dwarf.Data) {
	r := d.Reader()
	for {
		cu, err := r.Next()
		if err != nil || cu == nil {
			break
		}
		if cu.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
			continue
		}
		lr, err := d.LineReader(cu)
		if err == nil && lr != nil {
			var e dwarf.LineEntry
			for lr.Next(&e) == nil {
				name := ""
				if e.File != nil {
					name = filepath.Base(e.File.Name)
				}
				s.lines = append(s.lines, lineRow{addr: e.Address, file: name, line: e.Line, end: e.EndSequence})
			}
		}
		r.SkipChildren()
	}
	sort.SliceStable(s.lines, func(i, j int) bool { return s.lines[i].addr < s.lines[j].addr })
}

// Func returns the function containing pc and pc's offset in it.
func (s *Symbols) Func(pc uint64) (string, uint64) {
	if s == nil {
		return "", 0
	}
	i := sort.Search(len(s.funcs), func(i int) bool { return s.funcs[i].addr > pc }) - 1
	if i < 0 {
		return "", 0
	}
	f := s.funcs[i]
	if f.size != 0 && pc >= f.addr+f.size {
		return "", 0
	}
	return f.name, pc - f.addr
}

// Data returns the data symbol (a global or static variable) containing
// addr and addr's offset in it.
func (s *Symbols) Data(addr uint64) (string, uint64) {
	if s == nil {
		return "", 0
	}
	i := sort.Search(len(s.objs), func(i int) bool { return s.objs[i].addr > addr }) - 1
	// Sizes may overlap (aliases): look back over a few candidates.
	for j := i; j >= 0 && j > i-4; j-- {
		o := s.objs[j]
		if addr < o.addr+max(o.size, 1) {
			return o.name, addr - o.addr
		}
	}
	return "", 0
}

// HasLines reports whether the executable has any DWARF line information.
func (s *Symbols) HasLines() bool { return s != nil && len(s.lines) > 0 }

// Line returns the source file and line of pc (line 0 when unknown).
func (s *Symbols) Line(pc uint64) (string, int) {
	if s == nil {
		return "", 0
	}
	i := sort.Search(len(s.lines), func(i int) bool { return s.lines[i].addr > pc }) - 1
	if i < 0 || s.lines[i].end || s.lines[i].line == 0 {
		return "", 0
	}
	return s.lines[i].file, s.lines[i].line
}

// Location is a pc with what the symbols say about it.
type Location struct {
	PC     uint64 `json:"pc"`
	Func   string `json:"func,omitempty"`
	Offset uint64 `json:"offset,omitempty"`
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	// Unwound says how a caller was found: "frame chain", "stack scan".
	Unwound string `json:"unwound,omitempty"`
}

// Locate symbolizes pc.
func (s *Symbols) Locate(pc uint64) Location {
	l := Location{PC: pc}
	l.Func, l.Offset = s.Func(pc)
	l.File, l.Line = s.Line(pc)
	return l
}

// String formats a location as "0x401000 in main+0x10 (prog.c:12)".
func (l Location) String() string {
	s := fmt.Sprintf("%#x", l.PC)
	if l.Func != "" {
		s += " in " + l.Func
		if l.Offset != 0 {
			s += fmt.Sprintf("+%#x", l.Offset)
		}
	}
	if l.Line != 0 {
		s += fmt.Sprintf(" (%s:%d)", l.File, l.Line)
	}
	if l.Unwound != "" {
		s += " [" + l.Unwound + "]"
	}
	return s
}
