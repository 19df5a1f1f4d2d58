// SPDX-License-Identifier: GPL-2.0
// seekmap: print the data/hole map of a file or block device, as
// lseek(SEEK_DATA/SEEK_HOLE) reports it.
//
// Usage: seekmap PATH...
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seek_map.h"

static std::string human(int64_t n)
{
	const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = n;
	int u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	char buf[32];
	snprintf(buf, sizeof(buf), u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

static int print_map(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "seekmap: %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct stat st;
	int64_t size = 0;
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		uint64_t s;
		if (ioctl(fd, BLKGETSIZE64, &s) == 0)
			size = s;
	} else {
		size = st.st_size;
	}
	seekmap::Walk w = seekmap::walk(fd, size);
	close(fd);
	if (!w.error.empty()) {
		bool einval = w.error.find("errno 22") != std::string::npos;
		fprintf(stderr, "seekmap: %s: %s\n", path, w.error.c_str());
		if (einval && S_ISBLK(st.st_mode))
			fprintf(stderr, "seekmap: %s: this kernel does not "
				"support SEEK_DATA/SEEK_HOLE on block "
				"devices\n", path);
		return 1;
	}
	printf("%s: %s\n", path, human(size).c_str());
	printf("%16s %16s  %s\n", "offset", "length", "type");
	int64_t data = 0;
	// Data and holes in order.
	int64_t pos = 0;
	auto row = [](int64_t off, int64_t len, const char *type) {
		printf("%16lld %16lld  %-4s (%s)\n", (long long)off,
		       (long long)len, type, human(len).c_str());
	};
	for (const seekmap::Extent &e : w.map) {
		if (e.start > pos)
			row(pos, e.start - pos, "hole");
		row(e.start, e.length(), "data");
		data += e.length();
		pos = e.end;
	}
	if (pos < size)
		row(pos, size - pos, "hole");
	printf("data %s, holes %s, %zu data extents, %llu lseek calls\n",
	       human(data).c_str(), human(size - data).c_str(), w.map.size(),
	       (unsigned long long)w.calls);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: seekmap PATH...\n");
		return 2;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= print_map(argv[i]);
	return rc;
}
