package diff

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Ignore is a set of input classes whose differences a comparison
// tolerates (`--ignore`).
type Ignore uint8

// Ignore classes.
const (
	IgnoreTime        Ignore = 1 << iota // clocks, sleeps, rdtsc
	IgnorePid                            // host pid and the ids derived from it
	IgnoreRandom                         // getrandom, /dev/urandom, rdrand
	IgnoreAddresses                      // register values and memory addresses (ASLR)
	IgnoreEnvironment                    // environment variables and working directory
)

var ignoreNames = []struct {
	c    Ignore
	name string
}{{IgnoreTime, "time"}, {IgnorePid, "pid"}, {IgnoreRandom, "random"}, {IgnoreAddresses, "addresses"}, {IgnoreEnvironment, "environment"}}

// String lists the classes, comma-separated.
func (ig Ignore) String() string {
	var s []string
	for _, n := range ignoreNames {
		if ig&n.c != 0 {
			s = append(s, n.name)
		}
	}
	return strings.Join(s, ",")
}

// ParseIgnore parses a comma-separated list of classes (time, pid, random,
// addresses or aslr, environment or env).
func ParseIgnore(s string) (Ignore, error) {
	var ig Ignore
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch f {
		case "":
		case "aslr":
			ig |= IgnoreAddresses
		case "env":
			ig |= IgnoreEnvironment
		default:
			ok := false
			for _, n := range ignoreNames {
				if n.name == f {
					ig |= n.c
					ok = true
				}
			}
			if !ok {
				return 0, fmt.Errorf("unknown ignore class %q (want time, pid, random, addresses, environment)", f)
			}
		}
	}
	return ig, nil
}

// ConfigFile is the name of the per-repository configuration file that
// `ptrec diff` reads from the current directory.
const ConfigFile = ".ptrecdiff"

// Config is what a ConfigFile may set. Lines are `key = value`; `#` starts
// a comment. Keys: ignore (a class list), context (events of context).
type Config struct {
	Ignore  Ignore
	Context int // -1: not set
}

// ParseConfig reads a ConfigFile.
func ParseConfig(r io.Reader) (Config, error) {
	c := Config{Context: -1}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return c, fmt.Errorf("line %d: want key = value", n)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "ignore":
			ig, err := ParseIgnore(v)
			if err != nil {
				return c, fmt.Errorf("line %d: %w", n, err)
			}
			c.Ignore |= ig
		case "context":
			x, err := strconv.Atoi(v)
			if err != nil || x < 0 || x > 1000 {
				return c, fmt.Errorf("line %d: context must be a number from 0 to 1000", n)
			}
			c.Context = x
		default:
			return c, fmt.Errorf("line %d: unknown key %q (want ignore, context)", n, k)
		}
	}
	return c, sc.Err()
}
