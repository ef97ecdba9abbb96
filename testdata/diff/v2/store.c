/*
 * store: a guest of ptrec diff's tests. v1/store.c and v2/store.c differ in
 * one line, the constant stored into the global limit: the first state that
 * differs is that global in memory, not a register.
 */
#include <unistd.h>

int limit;

int main(void)
{
	limit = 200;
	int s = 0;
	for (int i = 0; i < 20; i++)
		s += i;
	if (s > limit)
		write(1, "over\n", 5);
	else
		write(1, "under\n", 6);
	return 0;
}
