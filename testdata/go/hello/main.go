// Command hello is the Go walking-skeleton guest, like testdata/c/echoargs:
// it prints its arguments, reads stdin to EOF and prints its byte count and
// FNV-1a 64 hash, writes a file ($HELLO_OUT, default "hello.out"), reads it
// back and prints it, and exits with N if the last argument is "exit=N".
// It exercises the Go runtime's startup (threads, signals, mmap) and os I/O.
package main

import (
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() {
	fmt.Printf("argc=%d\n", len(os.Args))
	for i, a := range os.Args {
		fmt.Printf("argv[%d]=%s\n", i, a)
	}
	h := fnv.New64a()
	n, err := io.Copy(h, os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "read stdin:", err)
		os.Exit(111)
	}
	fmt.Printf("stdin bytes=%d fnv1a=%016x\n", n, h.Sum64())

	path := os.Getenv("HELLO_OUT")
	if path == "" {
		path = "hello.out"
	}
	content := fmt.Sprintf("hello wrote this\nargc=%d stdin=%d\n", len(os.Args), n)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "write:", err)
		os.Exit(112)
	}
	back, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "read back:", err)
		os.Exit(114)
	}
	fmt.Printf("file:\n%s", back)

	status := 0
	if len(os.Args) > 1 {
		if s, ok := strings.CutPrefix(os.Args[len(os.Args)-1], "exit="); ok {
			status, _ = strconv.Atoi(s)
		}
	}
	fmt.Printf("exit=%d\n", status)
	os.Exit(status)
}
