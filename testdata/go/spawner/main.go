// Command spawner runs another program with os/exec (fork/exec or clone
// with CLONE_VFORK, pipes, wait4 from the Go runtime) and prints what it
// printed: the "os/exec of another guest" case of the Linux personality.
// Usage: spawner PROG [ARGS...]
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: spawner PROG [ARGS...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin = strings.NewReader("data for the child\n")
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		fmt.Println("run failed:", err)
		os.Exit(1)
	}
	fmt.Printf("child printed %d bytes, exit %d\n", out.Len(), code)
	fmt.Print(out.String())
}
