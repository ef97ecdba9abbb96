package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPackageDAG enforces the package boundaries of DESIGN.md: each package
// may depend only on the ptrec packages listed for it.
func TestPackageDAG(t *testing.T) {
	allowed := map[string][]string{
		"machine":          {},
		"format":           {},
		"kernel/abi":       {},
		"kernel":           {"machine", "kernel/abi"},
		"kernel/hostos":    {"kernel", "kernel/abi", "machine"},
		"record":           {"kernel", "kernel/abi", "machine", "format"},
		"replay":           {"kernel", "kernel/abi", "machine", "format"},
		"replay/gdbremote": {"replay", "kernel", "kernel/abi", "machine", "format"},
		"diff":             {"replay", "kernel", "kernel/abi", "machine", "format"},
	}
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", "ptrec/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		okSet := map[string]bool{"ptrec/" + pkg: true}
		for _, o := range ok {
			okSet["ptrec/"+o] = true
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "ptrec/") && !okSet[dep] {
				t.Errorf("%s imports %s, which DESIGN.md does not allow", pkg, dep)
			}
		}
	}
}
