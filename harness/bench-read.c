// SPDX-License-Identifier: GPL-2.0
// The copy benchmark's readers (harness/bench-copy, compiled in the guest).
//
// bench-read limit DEV EXTENTS
//	Read the byte ranges EXTENTS lists ("offset length" per line, in
//	order) from DEV as the hardware allows it at best: adjacent ranges
//	joined, each run read with direct I/O in reads of up to 8 MiB. The
//	physical limit every copy tool is compared with. Says on stderr how
//	many bytes it read in how many reads.
// bench-read same A B
//	Exit 0 when A and B have the same size and bytes (8 MiB reads), 1
//	when they differ (saying where, on stderr), 2 on trouble.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (8 << 20)

static void die(const char *what, const char *path)
{
	fprintf(stderr, "bench-read: %s: %s: %s\n", path, what,
		strerror(errno));
	exit(2);
}

static void *alloc(void)
{
	void *p;

	errno = posix_memalign(&p, 4096, CHUNK);
	if (errno)
		die("posix_memalign", "buffer");
	return p;
}

/* Read [off, off + n) of @fd into @buf (n <= CHUNK) in full. */
static void read_full(int fd, const char *path, char *buf, int64_t off,
		      int64_t n)
{
	while (n > 0) {
		ssize_t r = pread(fd, buf, n, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("pread", path);
		if (r == 0) {
			fprintf(stderr, "bench-read: %s: end of file at %" PRId64 "\n",
				path, off);
			exit(2);
		}
		buf += r;
		off += r;
		n -= r;
	}
}

static int limit(const char *dev, const char *list)
{
	FILE *f = fopen(list, "r");
	char *buf = alloc();
	int64_t off, len, run_off = -1, run_end = -1, bytes = 0, reads = 0;
	int fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	int more = 1;

	if (fd < 0)
		die("open O_DIRECT", dev);
	if (!f)
		die("open", list);
	while (more) {
		more = fscanf(f, "%" SCNd64 " %" SCNd64, &off, &len) == 2;
		if (more && off == run_end) {
			run_end += len;
			continue;
		}
		/* Read the run that ended. */
		for (int64_t p = run_off; p >= 0 && p < run_end; p += CHUNK) {
			int64_t n = run_end - p < CHUNK ? run_end - p : CHUNK;

			read_full(fd, dev, buf, p, n);
			bytes += n;
			reads++;
		}
		if (more) {
			if (off < run_end || (off | len) % 4096) {
				fprintf(stderr, "bench-read: %s: %" PRId64 " %" PRId64
					": not in order or not 4 KiB aligned\n",
					list, off, len);
				return 2;
			}
			run_off = off;
			run_end = off + len;
		}
	}
	fprintf(stderr, "bench-read: %s: %" PRId64 " bytes in %" PRId64
		" direct reads\n", dev, bytes, reads);
	return 0;
}

static int same(const char *a, const char *b)
{
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
	char *ba = alloc(), *bb = alloc();
	int64_t size, n;

	if (fa < 0)
		die("open", a);
	if (fb < 0)
		die("open", b);
	size = lseek(fa, 0, SEEK_END);
	if (size < 0)
		die("size", a);
	if (lseek(fb, 0, SEEK_END) != size) {
		fprintf(stderr, "bench-read: %s and %s differ in size\n", a, b);
		return 1;
	}
	for (int64_t p = 0; p < size; p += n) {
		n = size - p < CHUNK ? size - p : CHUNK;
		read_full(fa, a, ba, p, n);
		read_full(fb, b, bb, p, n);
		if (memcmp(ba, bb, n)) {
			fprintf(stderr, "bench-read: %s and %s differ in the "
				"8 MiB at %" PRId64 "\n", a, b, p);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "limit"))
		return limit(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "same"))
		return same(argv[2], argv[3]);
	fprintf(stderr, "usage: bench-read limit DEV EXTENTS | same A B\n");
	return 2;
}
