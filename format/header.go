package format

// Version of the trace format written by this package. A reader refuses a
// trace whose major version is newer than MajorVersion (ErrVersion); it
// reads every major version from OldestMajorVersion on (1.x traces encode
// requests and stops without templates, docs/FORMAT.md).
const (
	MajorVersion       = 2
	MinorVersion       = 1
	OldestMajorVersion = 1
)

// Fact is one key/value fact about the recording host or the recording.
type Fact struct {
	Key, Value string
}

// Header is the first record of a trace: what was run and how.
type Header struct {
	Major, Minor uint16   // format version (set by the Writer)
	Program      string   // the program as given on the command line
	Path         string   // the resolved path of the executable
	Argv         []string // argv of the initial process
	Envp         []string // environment of the initial process
	Cwd          string   // working directory at start
	Stops        string   // stop policy: "syscall-log", "syscall", "syscall-entry-exit", "signal" or "step"
	Facts        []Fact   // host facts (uname, uid, ...), in a fixed order
}
