package replay

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"ptrec/kernel"
	"ptrec/machine"
)

// ErrCommand is wrapped by the error of a failed script command.
var ErrCommand = errors.New("replay: command failed")

// Commands is the help text of the script and REPL commands.
const Commands = `step [N]          execute N instructions (default 1)
rstep [N]         go back N instructions
continue          run to the next breakpoint or watchpoint hit, or the end
rcontinue         run back to the previous hit, or the start
break ADDR|SYM    set a breakpoint
watch ADDR [LEN]  set a write watchpoint (LEN 1-32, default 8)
awatch ADDR [LEN] set a read/write watchpoint
delete [ID]       delete a breakpoint or watchpoint (all without ID)
goto @ICOUNT      go to an instruction count
goto #EVENT       go to just before an event
where             instruction count, event, thread, pc with symbol
regs              registers of the current thread
mem ADDR LEN      memory of the current process
events [N]        the next N events of the trace (default 10)
thread [TID]      show or select the current thread
threads           list threads
hash              digest of the current thread's registers and process memory
quit              end
`

// Script runs replay commands read from in, one per line, writing their
// results to out. Blank lines and lines starting with '#' are skipped.
// With interactive set, a failed command is reported on out and the next
// line is read; otherwise Script stops at the first failed command and
// returns an error wrapping ErrCommand. prompt, if not empty, is written
// before each line is read.
func (r *Replayer) Script(in io.Reader, out io.Writer, interactive bool, prompt string) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 4096), 1<<20)
	line := 0
	for {
		if prompt != "" {
			io.WriteString(out, prompt)
		}
		if !sc.Scan() {
			break
		}
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		quit, err := r.Command(text, out)
		if err != nil {
			if !interactive {
				return fmt.Errorf("%w: line %d: %s: %v", ErrCommand, line, text, err)
			}
			fmt.Fprintf(out, "error: %v\n", err)
		}
		if quit {
			return nil
		}
	}
	return sc.Err()
}

// Command runs one command line, writing its result to out. It reports
// whether the command was quit.
func (r *Replayer) Command(line string, out io.Writer) (quit bool, err error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return false, nil
	}
	args := f[1:]
	count := func() (uint64, error) {
		if len(args) == 0 {
			return 1, nil
		}
		if len(args) > 1 {
			return 0, errors.New("too many arguments")
		}
		return strconv.ParseUint(args[0], 0, 64)
	}
	switch f[0] {
	case "step", "s", "stepi", "si":
		n, err := count()
		if err != nil {
			return false, err
		}
		r.SetDirection(Forward)
		if err := r.Step(n); err != nil {
			return false, err
		}
		r.printWhere(out)
	case "rstep", "rs", "reverse-stepi":
		n, err := count()
		if err != nil {
			return false, err
		}
		r.SetDirection(Reverse)
		err = r.Step(n)
		r.SetDirection(Forward)
		if err != nil {
			return false, err
		}
		r.printWhere(out)
	case "continue", "c", "rcontinue", "rc", "reverse-continue":
		if len(args) != 0 {
			return false, errors.New("too many arguments")
		}
		if f[0] == "rcontinue" || f[0] == "rc" || f[0] == "reverse-continue" {
			r.SetDirection(Reverse)
		}
		st, err := r.Continue()
		r.SetDirection(Forward)
		if err != nil {
			return false, err
		}
		r.printStop(out, st)
	case "break", "b":
		if len(args) != 1 {
			return false, errors.New("usage: break ADDR|SYMBOL")
		}
		a, err := r.Resolve(args[0])
		if err != nil {
			return false, err
		}
		id, err := r.AddBreakpoint(a, args[0])
		if err != nil {
			return false, err
		}
		fmt.Fprintf(out, "breakpoint %d at %s\n", id, r.addrSym(a))
	case "watch", "awatch", "rwatch":
		if len(args) < 1 || len(args) > 2 {
			return false, fmt.Errorf("usage: %s ADDR [LEN]", f[0])
		}
		a, err := r.Resolve(args[0])
		if err != nil {
			return false, err
		}
		n := uint64(8)
		if len(args) == 2 {
			if n, err = strconv.ParseUint(args[1], 0, 8); err != nil {
				return false, fmt.Errorf("bad length %q", args[1])
			}
		}
		kind := kernel.SlotWrite
		if f[0] != "watch" {
			kind = kernel.SlotAccess
		}
		id, err := r.AddWatchpoint(a, int(n), kind, args[0])
		if err != nil {
			return false, err
		}
		fmt.Fprintf(out, "watchpoint %d (%s) at %s len %d\n", id, kind, r.addrSym(a), n)
	case "delete", "d":
		id := 0
		if len(args) == 1 {
			v, err := strconv.Atoi(args[0])
			if err != nil {
				return false, fmt.Errorf("bad id %q", args[0])
			}
			id = v
		} else if len(args) > 1 {
			return false, errors.New("usage: delete [ID]")
		}
		if err := r.Delete(id); err != nil {
			return false, err
		}
		fmt.Fprintln(out, "deleted")
	case "goto", "g":
		if len(args) != 1 || len(args[0]) < 2 {
			return false, errors.New("usage: goto @ICOUNT | goto #EVENT")
		}
		v, err := strconv.ParseUint(args[0][1:], 0, 64)
		if err != nil {
			return false, fmt.Errorf("bad position %q", args[0])
		}
		switch args[0][0] {
		case '@':
			err = r.GotoIcount(v)
		case '#':
			err = r.GotoEvent(v)
		default:
			return false, errors.New("usage: goto @ICOUNT | goto #EVENT")
		}
		if err != nil {
			return false, err
		}
		r.printWhere(out)
	case "where", "w":
		r.printWhere(out)
	case "regs", "r":
		t := r.Thread()
		if t == nil {
			return false, errors.New("no thread")
		}
		printRegs(out, t.CPU())
	case "mem", "m", "x":
		if len(args) != 2 {
			return false, errors.New("usage: mem ADDR LEN")
		}
		a, err := r.Resolve(args[0])
		if err != nil {
			return false, err
		}
		n, err := strconv.ParseUint(args[1], 0, 32)
		if err != nil {
			return false, fmt.Errorf("bad length %q", args[1])
		}
		b, err := r.ReadMemory(a, int(n))
		if err != nil {
			return false, err
		}
		dump(out, a, b)
		if uint64(len(b)) < n {
			return false, fmt.Errorf("memory at %#x is not mapped", a+uint64(len(b)))
		}
	case "events", "e":
		n, err := count()
		if err != nil {
			return false, err
		}
		if len(args) == 0 {
			n = 10
		}
		if err := r.printEvents(out, n); err != nil {
			return false, err
		}
	case "thread", "t":
		if len(args) == 1 {
			v, err := strconv.ParseInt(args[0], 0, 32)
			if err != nil {
				return false, fmt.Errorf("bad thread id %q", args[0])
			}
			if err := r.SelectThread(int32(v)); err != nil {
				return false, err
			}
		}
		r.printWhere(out)
	case "threads":
		for _, t := range r.Threads() {
			fmt.Fprintf(out, "thread %d pid %d icount %d pc %s\n", t.Tid, t.Process().Pid, t.CPU().Icount, r.addrSym(t.CPU().RIP))
		}
	case "hash", "h":
		fmt.Fprintf(out, "hash %s\n", r.Hash())
	case "help":
		io.WriteString(out, Commands)
	case "quit", "q", "exit":
		return true, nil
	default:
		return false, fmt.Errorf("unknown command %q (try help)", f[0])
	}
	return false, nil
}

func (r *Replayer) addrSym(a uint64) string {
	if s := r.Symbolize(a); s != "" {
		return fmt.Sprintf("%#x <%s>", a, s)
	}
	return fmt.Sprintf("%#x", a)
}

func (r *Replayer) printWhere(out io.Writer) {
	p := r.Where()
	end := ""
	if p.End {
		end = " (end)"
	}
	fmt.Fprintf(out, "@%d #%d thread %d pc %s%s\n", p.Icount, p.Event, p.Tid, r.addrSym(p.PC), end)
}

func (r *Replayer) printStop(out io.Writer, st Stop) {
	switch st.Reason {
	case StopBreakpoint:
		fmt.Fprintf(out, "breakpoint %d, ", st.Break)
	case StopWatchpoint:
		fmt.Fprintf(out, "watchpoint %d (%#x), ", st.Break, st.Addr)
	case StopEnd:
		status, _ := r.Status()
		fmt.Fprintf(out, "end of trace, status %#x, ", status)
	case StopStart:
		io.WriteString(out, "start of trace, ")
	}
	r.printWhere(out)
}

var regNames = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

func printRegs(out io.Writer, c *machine.CPU) {
	order := []int{machine.RAX, machine.RBX, machine.RCX, machine.RDX, machine.RSI, machine.RDI, machine.RBP, machine.RSP,
		machine.R8, machine.R9, machine.R10, machine.R11, machine.R12, machine.R13, machine.R14, machine.R15}
	for _, i := range order {
		fmt.Fprintf(out, "%-7s 0x%016x\n", regNames[i], c.Regs[i])
	}
	fmt.Fprintf(out, "%-7s 0x%016x\n", "rip", c.RIP)
	fmt.Fprintf(out, "%-7s 0x%016x\n", "eflags", c.Flags())
	fmt.Fprintf(out, "%-7s 0x%016x\n", "fs_base", c.FSBase)
	fmt.Fprintf(out, "%-7s 0x%016x\n", "gs_base", c.GSBase)
}

func dump(out io.Writer, addr uint64, b []byte) {
	for i := 0; i < len(b); i += 16 {
		end := min(i+16, len(b))
		var sb strings.Builder
		for j := i; j < end; j++ {
			fmt.Fprintf(&sb, " %02x", b[j])
		}
		fmt.Fprintf(out, "%#x:%s\n", addr+uint64(i), sb.String())
	}
}

func (r *Replayer) printEvents(out io.Writer, n uint64) error {
	pos := r.s.taken
	defer r.s.seek(pos)
	if err := r.s.r.SeekEvent(pos); err != nil {
		return err
	}
	for i := uint64(0); i < n; i++ {
		ev, err := r.s.r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "#%d @%d %s pid %d tid %d\n", ev.Seq, ev.Icount, ev.Kind, ev.Pid, ev.Tid)
	}
	return nil
}
