# bench/shell.sh: the bash benchmark guest (run by bench/run.sh under
# /bin/bash-static, else busybox sh). Interpreter work only, no external
# commands: arithmetic, string building, parameter expansion, a function
# call per iteration, a case statement and a few command substitutions
# (which fork). POSIX sh apart from $(( )) so busybox sh runs it too.
n=${1:-20000}
acc=0
s=
f() {
	acc=$(( (acc * 31 + $1) % 1000003 ))
}
i=0
while [ $i -lt $n ]; do
	f $i
	case $(( i % 4 )) in
	0) s="$s${i#?}" ;;
	1) s=${s%??} ;;
	2) s="$s-" ;;
	*) [ ${#s} -gt 64 ] && s=${s#????????????????} ;;
	esac
	if [ $(( i % 2000 )) -eq 0 ]; then
		acc=$(( acc + $(echo ${#s}) ))
	fi
	i=$(( i + 1 ))
done
echo "shell n=$n acc=$acc len=${#s}"
