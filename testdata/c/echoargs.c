/*
 * echoargs: the walking-skeleton guest.
 * Exercises: argv, stdin reading to EOF, env lookup (ECHOARGS_OUT),
 * file create/write/close/reopen/read, stdout, and exit status.
 * Output: argc, each argv[i], stdin byte count and FNV-1a 64 hash,
 * the file content read back. Exit status: N if the last argument is
 * "exit=N", else 0. Uses only stdio/unistd (plus stdlib for getenv/atoi).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long long h = 0xcbf29ce484222325ULL;
	unsigned long long n = 0;
	unsigned char buf[4096];
	ssize_t r;
	int i;

	printf("argc=%d\n", argc);
	for (i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);

	while ((r = read(0, buf, sizeof buf)) > 0) {
		for (i = 0; i < r; i++) {
			h ^= buf[i];
			h *= 0x100000001b3ULL;
		}
		n += (unsigned long long)r;
	}
	if (r < 0) {
		perror("read stdin");
		return 111;
	}
	printf("stdin bytes=%llu fnv1a=%016llx\n", n, h);

	const char *path = getenv("ECHOARGS_OUT");
	if (path == NULL || *path == 0)
		path = "echoargs.out";
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror("fopen write");
		return 112;
	}
	fprintf(f, "echoargs wrote this\nargc=%d stdin=%llu\n", argc, n);
	if (fclose(f) != 0) {
		perror("fclose");
		return 113;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		perror("fopen read");
		return 114;
	}
	printf("file:\n");
	while (fgets((char *)buf, sizeof buf, f) != NULL)
		fputs((char *)buf, stdout);
	fclose(f);

	int status = 0;
	if (argc > 1 && strncmp(argv[argc - 1], "exit=", 5) == 0)
		status = atoi(argv[argc - 1] + 5);
	printf("exit=%d\n", status);
	fflush(stdout);
	return status;
}
