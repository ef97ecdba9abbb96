/*
 * pick: the guest of ptrec diff's tests. v1/pick.c and v2/pick.c differ in
 * one line (the constant in weight), which changes the sum, the branch
 * taken, the output and the exit status, but not the code's layout.
 */
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) static int weight(int x)
{
	return x * 3 + 2;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	int s = 0;
	for (int i = 0; i < n; i++)
		s += weight(i);
	if (s > 150)
		write(1, "big\n", 4);
	else
		write(1, "small\n", 6);
	return s & 0x7f;
}
