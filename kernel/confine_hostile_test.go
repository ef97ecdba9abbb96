package kernel_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ptrec/kernel"
	"ptrec/kernel/abi"
	"ptrec/kernel/hostos"
)

// TestConfinedResolve walks escape attempts through a real directory tree
// and checks where each lands: inside the root, or an error.
func TestConfinedResolve(t *testing.T) {
	work := t.TempDir()
	root := filepath.Join(work, "root")
	for _, d := range []string{"root/etc", "root/a/b", "outside"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("in\n"), 0o644)
	os.WriteFile(filepath.Join(work, "outside/secret"), []byte("out\n"), 0o644)
	for l, target := range map[string]string{
		"root/up":        "../../..",
		"root/abs":       "/etc/passwd",
		"root/a/b/rel":   "../../etc/passwd",
		"root/host":      filepath.Join(work, "outside"),
		"root/self":      "self",
		"root/a/file":    "/etc/passwd",
		"root/a/dotdot":  "b/../../up/outside/secret",
		"root/etc/final": "/../outside/secret",
	} {
		if err := os.Symlink(target, filepath.Join(work, l)); err != nil {
			t.Fatal(err)
		}
	}
	h := kernel.NewConfinedHost(hostos.New(nil, nil, nil), root, false)
	cases := []struct {
		path   string
		follow bool
		want   string // host path relative to root, or an errno name
	}{
		{"/etc/passwd", true, "/etc/passwd"},
		{"/../../../outside/secret", true, "ENOENT"},
		{"/up/outside/secret", true, "ENOENT"},
		{"/up", true, ""},
		{"/abs", true, "/etc/passwd"},
		{"/abs", false, "/abs"},
		{"/a/b/rel", true, "/etc/passwd"},
		{"/host/secret", true, "ENOENT"},
		{"/host", false, "/host"},
		{"/self", true, "ELOOP"},
		{"/a/file/x", true, "ENOTDIR"},
		{"/etc/passwd/x", true, "ENOTDIR"},
		{"/a/dotdot", true, "ENOENT"},
		{"/etc/final", true, "ENOENT"},
		{"/etc/new", true, "/etc/new"},
		{"/missing/new", true, "ENOENT"},
		{"a/b/../../etc/passwd", true, "/etc/passwd"},
		{"/" + strings.Repeat("x", 300), true, "ENAMETOOLONG"},
		{"", true, "ENOENT"},
	}
	for _, tc := range cases {
		got, err := h.Resolve(tc.path, tc.follow)
		var s string
		var e abi.Errno
		switch {
		case errors.As(err, &e):
			s = e.Name()
		case err != nil:
			s = err.Error()
		default:
			if got != root && !strings.HasPrefix(got, root+"/") {
				t.Errorf("Resolve(%q, %v) = %q: outside the root", tc.path, tc.follow, got)
				continue
			}
			s = strings.TrimPrefix(got, root)
		}
		if s != tc.want {
			t.Errorf("Resolve(%q, %v) = %q, want %q", tc.path, tc.follow, s, tc.want)
		}
	}
}

// TestConfinedReadOnly checks that every writing host call is refused and
// the tree is unchanged, while reads still work.
func TestConfinedReadOnly(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "f"), []byte("x"), 0o644)
	h := kernel.NewConfinedHost(hostos.New(nil, nil, nil), root, true)
	writes := []kernel.HostCall{
		{Op: kernel.HostOpen, Path: "/f", Args: []int64{abi.O_WRONLY, 0}},
		{Op: kernel.HostOpen, Path: "/g", Args: []int64{abi.O_RDONLY | abi.O_CREAT, 0o644}},
		{Op: kernel.HostOpen, Path: "/f", Args: []int64{abi.O_RDONLY | abi.O_TRUNC, 0}},
		{Op: kernel.HostMkdir, Path: "/d", Args: []int64{0o755}},
		{Op: kernel.HostUnlink, Path: "/f"},
		{Op: kernel.HostRmdir, Path: "/"},
		{Op: kernel.HostRename, Path: "/f\x00/g"},
		{Op: kernel.HostLink, Path: "/f\x00/g"},
		{Op: kernel.HostSymlink, Path: "/f\x00/g"},
		{Op: kernel.HostChmod, Path: "/f", Args: []int64{0o777}},
		{Op: kernel.HostTruncate, Path: "/f", Args: []int64{0}},
		{Op: kernel.HostChown, Path: "/f", Args: []int64{0, 0, 1}},
		{Op: kernel.HostUtimens, Path: "/f", Args: []int64{0, 0, 0, 0}, In: []byte{1}},
		{Op: kernel.HostAccess, Path: "/f", Args: []int64{2}},
	}
	for _, c := range writes {
		if r := h.Call(&c); r.Errno != abi.EROFS {
			t.Errorf("%s(%q) on a read-only host: errno %v, want EROFS", c.Op, c.Path, r.Errno)
		}
	}
	if r := h.Call(&kernel.HostCall{Op: kernel.HostReadFile, Path: "/f"}); r.Errno != 0 || string(r.Out) != "x" {
		t.Errorf("read on a read-only host: %q %v", r.Out, r.Errno)
	}
	ents, _ := os.ReadDir(root)
	if b, _ := os.ReadFile(filepath.Join(root, "f")); len(ents) != 1 || string(b) != "x" {
		t.Errorf("read-only host changed the tree: %d entries, f=%q", len(ents), b)
	}
}
