#!/usr/bin/env bash
# Recording overhead and trace size, side by side in one run.
#
#   bench/record.sh [REPEAT]
#
# For a CPU-bound and a syscall-heavy workload (testdata/bin/spin.musl) it
# times `ptrec run` (emulation, no trace) and `ptrec record` (default
# --stops=syscall) and prints their ratio, then the trace bytes per syscall
# stop and per MB of guest memory written, from `ptrec info --json`. Each
# time is the best of REPEAT runs (default 3). Writer throughput in
# events/s comes from `go test -bench Writer ./format`.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/ptrec" ./cmd/ptrec
spin=$PWD/testdata/bin/spin.musl

best() { # best wall time in seconds of "$@" over $repeat runs
  local b=""
  for _ in $(seq "$repeat"); do
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    b=$(echo "$s $e ${b:-1e9}" | awk '{d=$2-$1; print (d<$3)?d:$3}')
  done
  echo "$b"
}

printf '%-22s %10s %10s %8s %12s %14s\n' workload run_s record_s ratio trace_bytes bytes/stop
for w in "cpu 30000000" "sys 200000" "mem 64"; do
  # shellcheck disable=SC2086
  run=$(best "$tmp/ptrec" run -- "$spin" $w)
  # shellcheck disable=SC2086
  rec=$(best "$tmp/ptrec" record --seed 1 -o "$tmp/t.ptrec" -- "$spin" $w)
  info=$("$tmp/ptrec" info --json "$tmp/t.ptrec")
  bytes=$(echo "$info" | sed -n 's/^  "bytes": \([0-9]*\),/\1/p')
  sys=$(echo "$info" | sed -n 's/^  "syscalls": \([0-9]*\),/\1/p')
  per=$(awk -v b="$bytes" -v s="$sys" 'BEGIN{ if (s>0) printf "%.1f", b/(2*s); else print "-" }')
  printf '%-22s %10.3f %10.3f %8.3f %12d %14s\n' "spin $w" "$run" "$rec" "$(awk -v r="$run" -v c="$rec" 'BEGIN{print c/r}')" "$bytes" "$per"
done
echo "(bytes/stop: trace bytes / (2 × syscalls), entry and exit stops; for 'mem 64' divide trace_bytes by 64 for bytes per MB written)"
go test -run '^$' -bench 'Writer' -benchtime 2x ./format | grep -E 'Benchmark|ok' || true
