package format

import (
	"errors"
	"fmt"
)

// Sentinel errors. Corruption found at a known place is reported as a
// *FormatError that wraps one of these (or io.ErrUnexpectedEOF), so
// errors.Is works on it.
var (
	ErrMagic    = errors.New("format: bad magic")
	ErrVersion  = errors.New("format: unsupported trace version")
	ErrChecksum = errors.New("format: checksum mismatch")
	ErrCorrupt  = errors.New("format: corrupt trace")
	ErrClosed   = errors.New("format: writer closed")
)

// FormatError reports corruption at a place in a trace file.
type FormatError struct {
	Offset int64  // file offset of the frame or field that is bad
	Chunk  int    // chunk number, or -1 when the error is not in a chunk
	Msg    string // what is wrong
	Err    error  // the sentinel it wraps (ErrChecksum, ErrMagic, ErrCorrupt, io.ErrUnexpectedEOF)
}

func (e *FormatError) Error() string {
	if e.Chunk >= 0 {
		return fmt.Sprintf("format: chunk %d at offset %d: %s", e.Chunk, e.Offset, e.Msg)
	}
	return fmt.Sprintf("format: at offset %d: %s", e.Offset, e.Msg)
}

func (e *FormatError) Unwrap() error { return e.Err }

// VersionError is returned (wrapped as ErrVersion) for a trace whose major
// version this package does not read.
type VersionError struct {
	Major, Minor uint16
}

func (e *VersionError) Error() string {
	if e.Major > MajorVersion {
		return fmt.Sprintf("format: trace version %d.%d is newer than this ptrec supports (%d.x)", e.Major, e.Minor, MajorVersion)
	}
	return fmt.Sprintf("format: trace version %d.%d is not supported (this ptrec reads %d.x to %d.x)", e.Major, e.Minor, OldestMajorVersion, MajorVersion)
}

// Is reports whether target is ErrVersion.
func (e *VersionError) Is(target error) bool { return target == ErrVersion }

func corruptf(off int64, chunk int, format string, args ...any) *FormatError {
	return &FormatError{Offset: off, Chunk: chunk, Msg: fmt.Sprintf(format, args...), Err: ErrCorrupt}
}
