// SPDX-License-Identifier: GPL-2.0
/*
 * bench-walk: time whole SEEK_DATA/SEEK_HOLE map walks, for harness/bench,
 * which compiles it in the guest (a Python loop would add its own cost per
 * call to both sides of a ratio and flatten it).
 *
 * Usage: bench-walk ROUNDS PATH...
 *
 * Opens every PATH read-only, then walks each in turn ROUNDS times
 * (interleaved: PATH1 PATH2 ... PATH1 PATH2 ...), alternating SEEK_DATA and
 * SEEK_HOLE from 0 until SEEK_DATA fails with ENXIO or SEEK_HOLE reaches the
 * end. Prints one line per PATH:
 *
 *   PATH BEST_SECONDS LSEEK_CALLS DATA_EXTENTS
 *
 * and fails if a walk fails or two walks of one PATH differ.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct walk {
	const char *path;
	int fd;
	off_t size;
	double best;
	long calls, extents;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int walk_once(struct walk *w, long *calls, long *extents)
{
	off_t off = 0, d;

	*calls = 0;
	*extents = 0;
	while (off < w->size) {
		d = lseek(w->fd, off, SEEK_DATA);
		++*calls;
		if (d < 0) {
			if (errno == ENXIO)
				break;
			fprintf(stderr, "bench-walk: %s: SEEK_DATA at %lld: %s\n",
				w->path, (long long)off, strerror(errno));
			return -1;
		}
		off = lseek(w->fd, d, SEEK_HOLE);
		++*calls;
		if (off < 0) {
			fprintf(stderr, "bench-walk: %s: SEEK_HOLE at %lld: %s\n",
				w->path, (long long)d, strerror(errno));
			return -1;
		}
		++*extents;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct walk *w;
	int rounds, n, i, r;

	if (argc < 3 || (rounds = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: bench-walk ROUNDS PATH...\n");
		return 2;
	}
	n = argc - 2;
	w = calloc(n, sizeof(*w));
	if (!w)
		return 1;
	for (i = 0; i < n; i++) {
		w[i].path = argv[i + 2];
		w[i].fd = open(w[i].path, O_RDONLY);
		if (w[i].fd < 0 ||
		    (w[i].size = lseek(w[i].fd, 0, SEEK_END)) < 0) {
			fprintf(stderr, "bench-walk: %s: %s\n", w[i].path,
				strerror(errno));
			return 1;
		}
		w[i].calls = -1;
	}
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++) {
			long calls, extents;
			double t0 = now(), t;

			if (walk_once(&w[i], &calls, &extents))
				return 1;
			t = now() - t0;
			if (w[i].calls >= 0 && (calls != w[i].calls ||
						extents != w[i].extents)) {
				fprintf(stderr, "bench-walk: %s: walks differ\n",
					w[i].path);
				return 1;
			}
			w[i].calls = calls;
			w[i].extents = extents;
			if (r == 0 || t < w[i].best)
				w[i].best = t;
		}
	}
	for (i = 0; i < n; i++)
		printf("%s %.6f %ld %ld\n", w[i].path, w[i].best, w[i].calls,
		       w[i].extents);
	return 0;
}
