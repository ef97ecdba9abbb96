#!/bin/bash
# Regenerates expected/*.out by running each case of cases.txt natively,
# twice, failing if the runs differ or the exit status is not the listed one.
# Args are split on spaces; "\ " escapes a space within one argument.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../bin
mkdir -p "$here/expected"
grep -v '^#' "$here/cases.txt" | grep -v '^[[:space:]]*$' | while IFS="$(printf '\t')" read -r name in want args; do
	for libc in musl glibc; do
		[ -x "$bin/$name.$libc" ] || continue
		for run in 1 2; do
			tmp=$(mktemp -d)
			stdin=/dev/null
			[ "$in" = - ] || stdin=$here/stdin/$in
			(cd "$tmp" && eval "set -- $args" && exec -a "$name" "$bin/$name.$libc" "$@") <"$stdin" >"$tmp.out" 2>/dev/null && rc=0 || rc=$?
			rm -rf "$tmp"
			if [ "$rc" != "$want" ]; then echo "$name.$libc: exit $rc, want $want" >&2; exit 1; fi
			mv "$tmp.out" "$here/expected/.$name.$libc.$run"
		done
		cmp -s "$here/expected/.$name.$libc.1" "$here/expected/.$name.$libc.2" || { echo "$name.$libc: nondeterministic" >&2; exit 1; }
		mv "$here/expected/.$name.$libc.1" "$here/expected/$name.$libc.out"
		rm -f "$here/expected/.$name.$libc.2"
	done
	# keep one file when musl and glibc agree
	if cmp -s "$here/expected/$name.musl.out" "$here/expected/$name.glibc.out" 2>/dev/null; then
		rm "$here/expected/$name.glibc.out"
	fi
	mv "$here/expected/$name.musl.out" "$here/expected/$name.out"
	echo "$name ok"
done
