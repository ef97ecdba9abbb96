package format

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestFormatDoc keeps docs/FORMAT.md and the code in step: every constant
// of the table in the document must have the value the code has, and the
// kind table must match the Kind ids.
func TestFormatDoc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "FORMAT.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	want := map[string]string{
		"FileMagic":            strconv.Quote(FileMagic),
		"ChunkMagic":           strconv.Quote(ChunkMagic),
		"BlobMagic":            strconv.Quote(BlobMagic),
		"IndexMagic":           strconv.Quote(IndexMagic),
		"TrailerMagic":         strconv.Quote(TrailerMagic),
		"MajorVersion":         fmt.Sprint(MajorVersion),
		"MinorVersion":         fmt.Sprint(MinorVersion),
		"FileHeaderSize":       fmt.Sprint(FileHeaderSize),
		"FrameHeaderSize":      fmt.Sprint(FrameHeaderSize),
		"TrailerSize":          fmt.Sprint(TrailerSize),
		"CodecNone":            fmt.Sprint(CodecNone),
		"CodecZstd":            fmt.Sprint(CodecZstd),
		"MaxHeaderSize":        fmt.Sprint(MaxHeaderSize),
		"MaxChunkRaw":          fmt.Sprint(MaxChunkRaw),
		"MaxIndexRaw":          fmt.Sprint(MaxIndexRaw),
		"MaxBlobSize":          fmt.Sprint(MaxBlobSize),
		"DefaultChunkSize":     fmt.Sprint(DefaultChunkSize),
		"DefaultBlobThreshold": fmt.Sprint(DefaultBlobThreshold),
		"MemBlobThreshold":     fmt.Sprint(MemBlobThreshold),
	}
	row := regexp.MustCompile("(?m)^\\| `(\\w+)` \\| `?(.*?)`? \\|$")
	seen := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(doc, -1) {
		name, val := m[1], m[2]
		w, ok := want[name]
		if !ok {
			t.Errorf("FORMAT.md lists unknown constant %s", name)
			continue
		}
		seen[name] = true
		if val != w {
			t.Errorf("FORMAT.md: %s = %s, code has %s", name, val, w)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("FORMAT.md does not list %s", name)
		}
	}
	for k := KindInvalid; k <= KindSyscalls; k++ {
		if r := fmt.Sprintf("| %d | `%s` |", k, k); !strings.Contains(doc, r) {
			t.Errorf("FORMAT.md kind table lacks %q", r)
		}
	}
	if !strings.Contains(doc, fmt.Sprintf("# The ptrec trace format, version %d.%d", MajorVersion, MinorVersion)) {
		t.Error("FORMAT.md title does not name the current version")
	}
	if !strings.Contains(doc, (&VersionError{Major: MajorVersion + 1}).Error()) {
		t.Error("FORMAT.md does not quote the version error")
	}
}
