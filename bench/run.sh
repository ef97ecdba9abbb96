#!/usr/bin/env bash
# bench/run.sh: ptrec's benchmark suite (issue 11). On this machine, in one
# run, times every guest natively, under qemu-x86_64, `ptrec run`,
# `ptrec record` and `ptrec replay`, and writes a markdown report.
#
#   bench/run.sh [-n RUNS] [-o FILE] [-g GUEST,...] [-s PCT] [-w]
#
#   -n RUNS   runs per guest and mode; medians are reported (default 3)
#   -o FILE   report path (default bench/RESULTS.md; "-" for stdout only)
#   -g LIST   only these guests, comma-separated, from: hash mem sys fp
#             gcheavy sort gzip bash (sh when /bin/bash-static is missing)
#   -s PCT    scale every guest's work to PCT percent (default 100: each
#             C guest runs about 0.2 s natively on an unloaded EPYC core;
#             gcheavy has no size knob and always runs in full)
#   -w        build ptrec from the working tree (default: from the commit
#             HEAD, exported with git archive, so the report names exactly
#             what it measured)
#
# Needs go, jq, GNU time (/usr/bin/time) and qemu-x86_64; installs `time`
# and `qemu-user` with apt-get when missing. A guest whose ptrec run fails
# (bad exit status or output different from native) is reported as
# "fails: <reason>", never dropped.
set -u -o pipefail

RUNS=3
OUT=
ONLY=
SCALE=100
TREE=
while getopts "n:o:g:s:wh" opt; do
	case $opt in
	n) RUNS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	g) ONLY=$OPTARG ;;
	s) SCALE=$OPTARG ;;
	w) TREE=1 ;;
	*) sed -n '2,23p' "$0"; exit 2 ;;
	esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/RESULTS.md}
WORK=$(mktemp -d /tmp/ptrec-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

need() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
	echo "bench: installing $*" >&2
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@") >&2 ||
		{ echo "bench: cannot install $*" >&2; exit 1; }
}
[ -x /usr/bin/time ] || apt_install time
need qemu-x86_64 || apt_install qemu-user
need jq || apt_install jq

# --- build ------------------------------------------------------------------
echo "bench: building ptrec and the Go guest in $WORK" >&2
SRC=$ROOT
if [ -z "$TREE" ]; then
	SRC=$WORK/src
	mkdir "$SRC" && (cd "$ROOT" && git archive HEAD) | tar -x -C "$SRC" || exit 1
fi
(cd "$SRC" && go build -o "$WORK/ptrec" ./cmd/ptrec) || exit 1
(cd "$SRC" && GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -o "$WORK/gcheavy" ./testdata/go/gcheavy) || exit 1
PTREC=$WORK/ptrec
BIN=$ROOT/testdata/bin
for g in hash mem sys fp; do
	[ -x "$BIN/bench_$g.musl" ] || { echo "bench: missing $BIN/bench_$g.musl (make -C testdata/bench)" >&2; exit 1; }
done

# sc N: N scaled to SCALE percent, at least 1.
sc() { local v=$(($1 * SCALE / 100)); echo $((v > 0 ? v : 1)); }

# A few MB of generated text for sort and gzip: numbers, hex and words, from a
# fixed LCG so every run sorts and compresses the same bytes.
awk -v n=$(sc 60000) 'BEGIN { s = 12345
	for (i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648
		printf "%d line %08x some words to compress %d\n", s % 1000000, s, i % 97 } }' >"$WORK/input.txt"
echo "text input for the guests" >"$WORK/small.txt"

SHELLBIN=/bin/bash-static
[ -x "$SHELLBIN" ] || SHELLBIN=/bin/busybox
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || BUSYBOX=$(command -v busybox || echo /bin/busybox)

# Guests: name | stdin file | command (words; $WORK etc. expanded now).
GUESTS=(
	"hash|small.txt|$BIN/bench_hash.musl $(sc 40)"
	"mem|small.txt|$BIN/bench_mem.musl $(sc 1)"
	"sys|small.txt|$BIN/bench_sys.musl $(sc 400)"
	"fp|small.txt|$BIN/bench_fp.musl $(sc 200)"
	"gcheavy|small.txt|$WORK/gcheavy"
	"sort|input.txt|$BUSYBOX sort -n"
	"gzip|input.txt|$BUSYBOX gzip -c"
)
if [ "$SHELLBIN" = /bin/busybox ]; then
	GUESTS+=("sh|small.txt|$SHELLBIN sh $ROOT/bench/shell.sh $(sc 2000)")
else
	GUESTS+=("bash|small.txt|$SHELLBIN $ROOT/bench/shell.sh $(sc 2000)")
fi

# --- measuring --------------------------------------------------------------
# measure NAME MODE STDIN CMD...: one timed run in $WORK/run (a fresh
# directory: traces and guest files land there). Sets WALL, RSS (KiB), RC,
# and the files $WORK/last.out (stdout) and $WORK/last.err (stderr).
measure() {
	local stdin=$1
	shift
	rm -rf "$WORK/run" && mkdir "$WORK/run"
	(cd "$WORK/run" && /usr/bin/time -f "%e %M %x %U %S" -o "$WORK/time.txt" "$@" \
		<"$WORK/$stdin" >"$WORK/last.out" 2>"$WORK/last.err")
	# GNU time may print "Command exited with non-zero status N" first.
	read -r WALL RSS RC USR SYS < <(tail -n 1 "$WORK/time.txt")
	[[ ${WALL:-} =~ ^[0-9.]+$ ]] || { WALL=0 RSS=0 RC=255 USR=0 SYS=0; }
	CPU=$(awk -v u="$USR" -v s="$SYS" 'BEGIN { print u + s }')
}

# median of the arguments (numbers).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

sigreason() {
	local rc=$1
	if [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then
		echo "SIG$(kill -l $((rc - 128)) 2>/dev/null) (exit $rc)"
	else
		echo "exit $rc"
	fi
}

# Results per guest, keyed "guest.mode.field".
declare -A R

for spec in "${GUESTS[@]}"; do
	IFS='|' read -r name stdin cmd <<<"$spec"
	if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then continue; fi
	read -r -a argv <<<"$cmd"
	echo "bench: $name: ${argv[*]}" >&2
	R[$name.cmd]="${argv[*]/#$ROOT\//}"
	R[$name.cmd]="${R[$name.cmd]//$WORK\//}"
	fail=
	for mode in native qemu run record replay; do
		walls=() rsss=() cpus=()
		for ((i = 0; i < RUNS; i++)); do
			case $mode in
			native) measure "$stdin" "${argv[@]}" ;;
			qemu) measure "$stdin" qemu-x86_64 "${argv[@]}" ;;
			run) measure "$stdin" "$PTREC" run -- "${argv[@]}" ;;
			record)
				measure "$stdin" "$PTREC" record -o "$WORK/trace.ptrec" -- "${argv[@]}" ;;
			replay)
				[ -n "$fail" ] && break
				measure "$stdin" "$PTREC" replay "$WORK/trace.ptrec" ;;
			esac
			walls+=("$WALL") rsss+=("$RSS") cpus+=("$CPU")
			sum=$(md5sum <"$WORK/last.out" | cut -c1-32)
			if [ "$mode" = native ]; then
				R[$name.rc]=$RC R[$name.sum]=$sum
			elif [ "$RC" != "${R[$name.rc]}" ] && [ -z "$fail" ]; then
				why=$(grep -v 'trace written' "$WORK/last.err" | tail -n 1 | cut -c1-80 | tr '|' '/')
				fail="$mode: $(sigreason "$RC")${why:+, $why}"
				[ "$mode" = qemu ] && { R[$name.qemufail]=$fail; fail=; }
			elif [ "$sum" != "${R[$name.sum]}" ] && [ -z "$fail" ] && [ "$mode" != qemu ]; then
				fail="$mode: output differs from native"
			fi
			[ "$mode" = record ] && [ -f "$WORK/trace.ptrec" ] && cp "$WORK/trace.ptrec" "$WORK/keep.ptrec"
		done
		[ "$mode" = record ] && [ -f "$WORK/keep.ptrec" ] && mv "$WORK/keep.ptrec" "$WORK/trace.ptrec"
		if [ ${#walls[@]} -gt 0 ]; then
			R[$name.$mode.wall]=$(median "${walls[@]}")
			R[$name.$mode.rss]=$(median "${rsss[@]}")
			R[$name.$mode.cpu]=$(median "${cpus[@]}")
		fi
		echo "bench:   $mode ${R[$name.$mode.wall]:-} s ${R[$name.$mode.rss]:-} KiB ${fail:+($fail)}" >&2
	done
	R[$name.fail]=$fail
	if [ -f "$WORK/trace.ptrec" ]; then
		"$PTREC" info --json "$WORK/trace.ptrec" >"$WORK/info.json" 2>/dev/null &&
			R[$name.insns]=$(jq .instructions "$WORK/info.json") &&
			R[$name.bytes]=$(stat -c %s "$WORK/trace.ptrec")
		rm -f "$WORK/trace.ptrec"
	fi
done

# --- report -----------------------------------------------------------------
f2() { awk -v x="$1" 'BEGIN { if (x == "") print "—"; else printf "%.2f", x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2f", a / b }'; }
mips() { awk -v n="$1" -v t="$2" 'BEGIN { if (n == "" || t == "" || t + 0 == 0) print "—"; else printf "%.0f", n / t / 1e6 }'; }
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "—"; else printf "%.1f", k / 1024 }'; }

report() {
	echo "# ptrec benchmark results"
	echo
	echo "Generated by \`bench/run.sh -n $RUNS -s $SCALE${TREE:+ -w}\` (medians of $RUNS runs per guest and mode)."
	echo
	echo "| machine | |"
	echo "|---|---|"
	echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
	echo "| CPU | $(lscpu | sed -n 's/^Model name: *//p' | head -n 1) |"
	echo "| cores | $(nproc) |"
	echo "| Go | $(go version | cut -d' ' -f3-) |"
	echo "| kernel | $(uname -sr) |"
	echo "| qemu | $(qemu-x86_64 --version | head -n 1) |"
	echo "| ptrec built from | $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)${TREE:+ working tree (may have uncommitted changes)} |"
	echo "| load average at end | $(cut -d' ' -f1-3 /proc/loadavg) |"
	echo
	echo "Wall seconds; MIPS = guest instructions (counted by ptrec) / wall; for"
	echo "native and qemu it is the same count over their wall time (effective rate)."
	echo
	echo "| guest | instructions | native s | qemu s | run s | record s | replay s | native MIPS | qemu MIPS | run MIPS | record MIPS | replay MIPS | run/native | run/qemu | record/run | replay/record |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	for spec in "${GUESTS[@]}"; do
		IFS='|' read -r name _ _ <<<"$spec"
		[ -n "${R[$name.native.wall]:-}" ] || continue
		local n=${R[$name.insns]:-} nat=${R[$name.native.wall]} q=${R[$name.qemu.wall]:-}
		local run=${R[$name.run.wall]:-} rec=${R[$name.record.wall]:-} rep=${R[$name.replay.wall]:-}
		if [ -n "${R[$name.fail]}" ]; then
			echo "| $name | ${n:-—} | $nat | $q | fails: ${R[$name.fail]} ||||||||||||"
			continue
		fi
		echo "| $name | $n | $nat | $q | $run | $rec | $rep | $(mips "$n" "$nat") | $(mips "$n" "$q") | $(mips "$n" "$run") | $(mips "$n" "$rec") | $(mips "$n" "$rep") | $(ratio "$run" "$nat") | $(ratio "$run" "$q") | $(ratio "$rec" "$run") | $(ratio "$rep" "$rec") |"
	done
	echo
	echo "CPU seconds (user + sys, GNU time; less sensitive than wall time to"
	echo "other load on the machine) and the MIPS they give:"
	echo
	echo "| guest | native | qemu | run | record | replay | run MIPS | record MIPS | replay MIPS | run/native | run/qemu | record/run | replay/record |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	for spec in "${GUESTS[@]}"; do
		IFS='|' read -r name _ _ <<<"$spec"
		[ -n "${R[$name.native.cpu]:-}" ] || continue
		[ -n "${R[$name.fail]}" ] && { echo "| $name | ${R[$name.native.cpu]} | ${R[$name.qemu.cpu]:-} | fails: ${R[$name.fail]} |||||||||"; continue; }
		local n=${R[$name.insns]:-} nat=${R[$name.native.cpu]} q=${R[$name.qemu.cpu]:-}
		local run=${R[$name.run.cpu]:-} rec=${R[$name.record.cpu]:-} rep=${R[$name.replay.cpu]:-}
		echo "| $name | $nat | $q | $run | $rec | $rep | $(mips "$n" "$run") | $(mips "$n" "$rec") | $(mips "$n" "$rep") | $(ratio "$run" "$nat") | $(ratio "$run" "$q") | $(ratio "$rec" "$run") | $(ratio "$rep" "$rec") |"
	done
	echo
	echo "Peak RSS (MiB, GNU time %M) and trace size:"
	echo
	echo "| guest | native | qemu | run | record | replay | record − native | trace bytes | trace bytes / Minsn |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
	for spec in "${GUESTS[@]}"; do
		IFS='|' read -r name _ _ <<<"$spec"
		[ -n "${R[$name.native.wall]:-}" ] || continue
		local nr=${R[$name.native.rss]} rr=${R[$name.record.rss]:-}
		local d=—
		[ -n "$rr" ] && d=$(mib $((rr - nr)))
		local b=${R[$name.bytes]:-} n=${R[$name.insns]:-}
		local per=—
		[ -n "$b" ] && [ -n "$n" ] && per=$(awk -v b="$b" -v n="$n" 'BEGIN { printf "%.0f", b / (n / 1e6) }')
		echo "| $name | $(mib "$nr") | $(mib "${R[$name.qemu.rss]:-}") | $(mib "${R[$name.run.rss]:-}") | $(mib "$rr") | $(mib "${R[$name.replay.rss]:-}") | $d | ${b:-—} | $per |"
	done
	echo
	echo "Guests (paths relative to the repository; \`input.txt\` is generated, $(stat -c %s "$WORK/input.txt") bytes):"
	echo
	for spec in "${GUESTS[@]}"; do
		IFS='|' read -r name stdin _ <<<"$spec"
		[ -n "${R[$name.cmd]:-}" ] || continue
		echo "- \`$name\`: \`${R[$name.cmd]} < $stdin\`${R[$name.qemufail]:+ (qemu: ${R[$name.qemufail]})}"
	done
}

if [ "$OUT" = - ]; then
	report
else
	report | tee "$OUT"
fi
