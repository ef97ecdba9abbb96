package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Style is how a report is printed.
type Style struct {
	Color bool // ANSI colours (only on a terminal)
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer, st Style) {
	col := func(code, s string) string {
		if !st.Color {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	if r.Same {
		fmt.Fprintf(w, "traces are the same (%d and %d events", r.Summary.EventsA, r.Summary.EventsB)
		if r.Ignore != "" {
			fmt.Fprintf(w, ", ignoring %s", r.Ignore)
		}
		fmt.Fprintln(w, ")")
		return
	}
	for _, h := range r.Header {
		if h.Informational {
			continue
		}
		fmt.Fprintf(w, "%s differs: %s vs %s\n", h.Field, h.A, h.B)
	}
	if r.Origin != nil {
		fmt.Fprintln(w, col("1", "origin: "+r.Origin.Message))
	}
	if d := r.First; d != nil {
		fmt.Fprintf(w, "%s at event %s (B: %s), thread %d: %s\n", col("1", "first difference"), EventName(d.SeqA, d.RecordA), EventName(d.SeqB, d.RecordB), d.Thread, d.Detail)
		if d.Location != nil {
			fmt.Fprintf(w, "  at pc %s\n", d.Location)
		}
		if d.Caller != nil {
			fmt.Fprintf(w, "  called from %s\n", d.Caller)
		}
		fmt.Fprintln(w, col("31", "--- "+r.A))
		for _, l := range d.ContextA {
			fmt.Fprintln(w, markLine(l, col, "31"))
		}
		fmt.Fprintln(w, col("32", "+++ "+r.B))
		for _, l := range d.ContextB {
			fmt.Fprintln(w, markLine(l, col, "32"))
		}
	}
	if c := r.Control; c != nil && (r.First == nil || !samePlace(c, r.First)) {
		fmt.Fprintf(w, "control flow first differs at event %s (B: %s): %s\n", EventName(c.SeqA, c.RecordA), EventName(c.SeqB, c.RecordB), c.Detail)
		if c.Location != nil {
			fmt.Fprintf(w, "  at pc %s\n", c.Location)
		}
		if c.Caller != nil {
			fmt.Fprintf(w, "  called from %s\n", c.Caller)
		}
	}
	if d := r.Deep; d != nil {
		fmt.Fprintf(w, "%s %s\n", col("1", "deep:"), d.Message)
		if d.Note != "" {
			fmt.Fprintf(w, "  (%s)\n", d.Note)
		}
	}
	s := r.Summary
	fmt.Fprintf(w, "summary: %d vs %d events; %d aligned, %d changed, %d only in A, %d only in B\n",
		s.EventsA, s.EventsB, s.Aligned, s.Changed, s.OnlyA, s.OnlyB)
	if s.SyscallsDiffer > 0 {
		fmt.Fprintf(w, "  %d syscalls differ in arguments or results:", s.SyscallsDiffer)
		for _, x := range s.Syscalls {
			fmt.Fprintf(w, " %s#%s(%s)", x.Name, EventName(x.SeqA, x.RecordA), x.What)
		}
		fmt.Fprintln(w)
	}
	for _, o := range s.Output {
		fmt.Fprintf(w, "  %s differs: %d vs %d bytes, first difference at byte %d\n", o.Stream, o.BytesA, o.BytesB, o.FirstDiff)
	}
	if s.ExitDiffers {
		fmt.Fprintf(w, "  exit status differs: %s vs %s\n", s.ExitA, s.ExitB)
	} else {
		fmt.Fprintf(w, "  exit status: %s\n", s.ExitA)
	}
}

// samePlace reports whether two divergences are at the same events (and
// syscall records).
func samePlace(x, y *Divergence) bool {
	return EventName(x.SeqA, x.RecordA) == EventName(y.SeqA, y.RecordA) && EventName(x.SeqB, x.RecordB) == EventName(y.SeqB, y.RecordB)
}

func markLine(l string, col func(string, string) string, code string) string {
	if strings.HasPrefix(l, ">") {
		return col(code, l)
	}
	return l
}

// WriteJSON prints the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		A string `json:"a"`
		B string `json:"b"`
		*Report
	}{r.A, r.B, r})
}

// WriteGitHub prints GitHub Actions workflow commands: an error annotation
// at the source line of the divergence when it is known, else one for the
// trace.
func (r *Report) WriteGitHub(w io.Writer) {
	if r.Same {
		fmt.Fprintf(w, "::notice title=ptrec diff::traces are the same\n")
		return
	}
	msg := "traces differ"
	// The most precise location that has a source line.
	var loc *Location
	for _, l := range []*Location{deepLoc(r.Deep), divLoc(r.Control), divLoc(r.First)} {
		if l != nil && (loc == nil || loc.Line == 0 && l.Line != 0) {
			loc = l
		}
	}
	switch {
	case r.Origin != nil:
		msg = r.Origin.Message
	case r.First != nil:
		msg = fmt.Sprintf("first difference at event %s: %s", EventName(r.First.SeqA, r.First.RecordA), r.First.Detail)
	}
	if r.Deep != nil {
		msg += "; " + r.Deep.Message
	}
	file := r.B
	line := 0
	if loc != nil && loc.Line != 0 {
		file, line = loc.File, loc.Line
	}
	props := "file=" + ghEscape(file, true)
	if line != 0 {
		props += fmt.Sprintf(",line=%d", line)
	}
	fmt.Fprintf(w, "::error %s,title=ptrec diff::%s\n", props, ghEscape(msg, false))
}

func deepLoc(d *DeepResult) *Location {
	if d == nil {
		return nil
	}
	return d.Location
}

// divLoc is a divergence's pc, or its caller's when the pc has no line.
func divLoc(d *Divergence) *Location {
	switch {
	case d == nil:
		return nil
	case d.Location != nil && d.Location.Line == 0 && d.Caller != nil:
		return d.Caller
	}
	return d.Location
}

// ghEscape escapes a workflow-command value or property.
func ghEscape(s string, prop bool) string {
	s = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
	if prop {
		s = strings.NewReplacer(":", "%3A", ",", "%2C").Replace(s)
	}
	return s
}
