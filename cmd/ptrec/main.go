// Command ptrec records, replays and diffs executions of Linux x86-64
// programs run on an emulated machine.
package main

import "os"

func main() {
	os.Exit(int(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)))
}
