#!/usr/bin/env bash
# Recording overhead and trace size, side by side in one run.
#
#   bench/record.sh [REPEAT]
#
# For a CPU-bound, a syscall-heavy and a memory-writing workload
# (testdata/bin/spin.musl) it measures `ptrec run` (emulation, no trace) and
# `ptrec record` (the default --stops=syscall-log: the kernel logs each
# syscall, the recorder stops at signals, exec, fork, exit and every 4096
# syscalls) and `ptrec record --stops=syscall` (one stop per syscall) in CPU
# seconds (GNU time user+sys, the best of REPEAT runs, default 3) and peak
# RSS, prints the ratios to run, then the default trace's bytes per syscall
# and per MB of guest memory written, from `ptrec info --json`. Writer throughput in
# events/s comes from `go test -bench Writer ./format`.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/ptrec" ./cmd/ptrec
spin=$PWD/testdata/bin/spin.musl

# best "user+sys CPU seconds, peak RSS KiB" of "$@" over $repeat runs (GNU
# time; CPU time is less sensitive than wall time to other load).
best() {
  local b="" rss=0
  for _ in $(seq "$repeat"); do
    /usr/bin/time -f '%U %S %M' -o "$tmp/time" "$@" >/dev/null 2>&1 || true
    read -r u s m <"$tmp/time"
    b=$(awk -v u="$u" -v s="$s" -v b="${b:-1e9}" 'BEGIN{d=u+s; print (d<b)?d:b}')
    rss=$(( m > rss ? m : rss ))
  done
  echo "$b $rss"
}

printf '%-22s %8s %8s %8s %8s %8s %10s %10s %12s %12s\n' workload run_s rec_s ratio sce_s sce/run run_MiB rec_MiB trace_bytes bytes/sysc
for w in "cpu 30000000" "sys 200000" "mem 64"; do
  # shellcheck disable=SC2086
  read -r run runrss < <(best "$tmp/ptrec" run -- "$spin" $w)
  # shellcheck disable=SC2086
  read -r sce _ < <(best "$tmp/ptrec" record --stops syscall --seed 1 -o "$tmp/t.ptrec" -- "$spin" $w)
  # shellcheck disable=SC2086
  read -r rec recrss < <(best "$tmp/ptrec" record --seed 1 -o "$tmp/t.ptrec" -- "$spin" $w)
  info=$("$tmp/ptrec" info --json "$tmp/t.ptrec")
  bytes=$(echo "$info" | sed -n 's/^  "bytes": \([0-9]*\),/\1/p')
  sys=$(echo "$info" | sed -n 's/^  "syscalls": \([0-9]*\),/\1/p')
  per=$(awk -v b="$bytes" -v s="$sys" 'BEGIN{ if (s>0) printf "%.1f", b/s; else print "-" }')
  printf '%-22s %8.3f %8.3f %8.3f %8.3f %8.3f %10.1f %10.1f %12d %12s\n' "spin $w" "$run" "$rec" \
    "$(awk -v r="$run" -v c="$rec" 'BEGIN{print (r>0)?c/r:0}')" "$sce" "$(awk -v r="$run" -v c="$sce" 'BEGIN{print (r>0)?c/r:0}')" \
    "$(awk -v k="$runrss" 'BEGIN{print k/1024}')" \
    "$(awk -v k="$recrss" 'BEGIN{print k/1024}')" "$bytes" "$per"
done
echo "(CPU seconds, best of $repeat; rec: default --stops=syscall-log, sce: --stops=syscall; bytes/sysc: default trace bytes / syscalls; for 'mem 64' divide trace_bytes by 64 for bytes per MB written)"
go test -run '^$' -bench 'Writer' -benchtime 2x ./format | grep -E 'Benchmark|ok' || true
