// Package bench holds ptrec's benchmark suite (issue 11): run.sh times the
// guests under native, qemu-x86_64 and ptrec run/record/replay and writes
// RESULTS.md; bench_test.go runs the same guests in process through the
// recorder, so a profile can be taken:
//
//	go test ./bench -run '^$' -bench 'Guest/hash/record' -benchtime 1x -cpuprofile cpu.out
//	go tool pprof -top bench.test cpu.out
package bench
