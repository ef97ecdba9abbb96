package kernel

import (
	"strconv"
	"strings"
)

// schedulerFact is the value of the "scheduler" fact of traces recorded
// with the current scheduling rules (kernel.go resumeProcess, sched_yield).
const schedulerFact = "fair"

// Pairs returns the facts as ordered key/value pairs: the form a trace
// header stores them in. HostFactsFromPairs is its inverse.
func (f HostFacts) Pairs() [][2]string {
	u := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	pairs := append([][2]string{
		{"sysname", f.Sysname}, {"nodename", f.Nodename}, {"release", f.Release},
		{"version", f.Version}, {"machine", f.Machine}, {"domainname", f.Domainname},
		{"uid", u(f.Uid)}, {"gid", u(f.Gid)}, {"euid", u(f.Euid)}, {"egid", u(f.Egid)},
		{"pid", strconv.FormatInt(int64(f.HostPid), 10)}, {"groups", joinIDs(f.Groups)},
	}, f.Limits.limitPairs()...)
	if !f.LegacyScheduler {
		pairs = append(pairs, [2]string{"scheduler", schedulerFact})
	}
	return pairs
}

// HostFactsFromPairs rebuilds facts from Pairs output (unknown keys and
// malformed numbers are ignored). Facts without the "scheduler" pair are
// of a trace recorded before it: LegacyScheduler.
func HostFactsFromPairs(cwd string, pairs [][2]string) HostFacts {
	f := HostFacts{Cwd: cwd, LegacyScheduler: true}
	u := func(s string) uint32 { n, _ := strconv.ParseUint(s, 10, 32); return uint32(n) }
	for _, kv := range pairs {
		switch v := kv[1]; kv[0] {
		case "sysname":
			f.Sysname = v
		case "nodename":
			f.Nodename = v
		case "release":
			f.Release = v
		case "version":
			f.Version = v
		case "machine":
			f.Machine = v
		case "domainname":
			f.Domainname = v
		case "uid":
			f.Uid = u(v)
		case "gid":
			f.Gid = u(v)
		case "euid":
			f.Euid = u(v)
		case "egid":
			f.Egid = u(v)
		case "pid":
			n, _ := strconv.ParseInt(v, 10, 32)
			f.HostPid = int32(n)
		case "scheduler":
			f.LegacyScheduler = v != schedulerFact
		case "groups":
			f.Groups = nil
			for _, g := range strings.Split(v, ",") {
				if g != "" {
					f.Groups = append(f.Groups, u(g))
				}
			}
		default:
			f.Limits.setLimitPair(kv[0], v)
		}
	}
	return f
}

func joinIDs(ids []uint32) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(id), 10))
	}
	return b.String()
}
