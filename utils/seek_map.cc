// SPDX-License-Identifier: GPL-2.0
#include "seek_map.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <sstream>
#include <sys/ioctl.h>
#include <unistd.h>

namespace seekmap {

std::string to_string(const ExtentMap &map)
{
	std::ostringstream os;
	os << "{";
	for (size_t i = 0; i < map.size(); i++)
		os << (i ? " " : "") << "[" << map[i].start << ","
		   << map[i].end << ")";
	os << "}";
	return os.str();
}

void PrintTo(const Extent &e, std::ostream *os)
{
	*os << "[" << e.start << "," << e.end << ")";
}

ExtentMap normalize(ExtentMap map)
{
	std::sort(map.begin(), map.end(), [](const Extent &a, const Extent &b) {
		return a.start < b.start;
	});
	ExtentMap out;
	for (const Extent &e : map) {
		if (e.end <= e.start)
			continue;
		if (!out.empty() && e.start <= out.back().end)
			out.back().end = std::max(out.back().end, e.end);
		else
			out.push_back(e);
	}
	return out;
}

ExtentMap window(const ExtentMap &map, int64_t begin, int64_t end)
{
	ExtentMap out;
	for (const Extent &e : map) {
		int64_t s = std::max(e.start, begin), t = std::min(e.end, end);
		if (s < t)
			out.push_back({s - begin, t - begin});
	}
	return out;
}

ExtentMap holes(const ExtentMap &map, int64_t size)
{
	ExtentMap out;
	int64_t pos = 0;
	for (const Extent &e : map) {
		if (e.start > pos)
			out.push_back({pos, e.start});
		pos = e.end;
	}
	if (pos < size)
		out.push_back({pos, size});
	return out;
}

int64_t expected_seek(const ExtentMap &map, int64_t size, int64_t off,
		      int whence)
{
	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	if (off < 0 || off >= size)
		return -ENXIO;
	for (const Extent &e : map) {
		if (e.end <= off)
			continue;
		if (whence == SEEK_DATA)
			return std::max(e.start, off);
		return e.start > off ? off : std::min(e.end, size);
	}
	return whence == SEEK_DATA ? -ENXIO : off;
}

int64_t seek(int fd, int64_t off, int whence)
{
	off_t r = lseek(fd, off, whence);
	return r < 0 ? -errno : r;
}

Walk walk(int fd, int64_t size)
{
	return walk(fd, size, 0, size);
}

namespace {

Walk walk_range(int fd, int64_t size, int64_t begin, int64_t end,
		bool changing)
{
	Walk w;
	end = std::min(end, size);
	auto bad = [&](int64_t off, const char *what, int64_t r) {
		std::ostringstream os;
		os << what << "(" << off << ") on size " << size << " gave ";
		if (r < 0) {
			os << "errno " << -r << " (" << strerror(-r) << ")";
			w.err = -r;
		} else {
			os << r;
		}
		w.error = os.str();
	};
	auto position_follows = [&](int64_t r) {
		int64_t pos = seek(fd, 0, SEEK_CUR);
		if (pos == r)
			return true;
		std::ostringstream os;
		os << "file position " << pos << " after a result of " << r;
		w.error = os.str();
		return false;
	};

	int64_t off = begin;
	while (off < end) {
		int64_t d = seek(fd, off, SEEK_DATA);
		w.calls++;
		if (d == -ENXIO)
			break;
		if (d < off || d >= size) {
			bad(off, "SEEK_DATA", d);
			break;
		}
		if (!position_follows(d))
			break;
		if (d >= end)
			break;
		int64_t h = seek(fd, d, SEEK_HOLE);
		w.calls++;
		if (changing && h == d) {
			if (!position_follows(h))
				break;
			w.vanished.push_back(d);
			if (w.vanished.size() > 1000) {
				bad(d, "SEEK_HOLE", h);
				w.error += ", the 1001st extent gone by its SEEK_HOLE";
				break;
			}
			off = d;
			continue;
		}
		if (h <= d || h > size) {
			bad(d, "SEEK_HOLE", h);
			break;
		}
		if (!position_follows(h))
			break;
		h = std::min(h, end);
		w.map.push_back({d, h});
		off = h;
	}
	return w;
}

} // namespace

Walk walk(int fd, int64_t size, int64_t begin, int64_t end)
{
	return walk_range(fd, size, begin, end, false);
}

Walk walk_changing(int fd, int64_t size, int64_t begin, int64_t end)
{
	return walk_range(fd, size, begin, end, true);
}

int next_data(int fd, int64_t size, int64_t off, Extent *e, uint64_t *calls)
{
	// Data found at d and a hole at d by the SEEK_HOLE after it: the map
	// changed in between (something writes the device); look again from
	// d, a bounded number of times.
	for (int vanished = 0; vanished <= 1000; vanished++) {
		if (off >= size)
			return 0;
		int64_t d = seek(fd, off, SEEK_DATA);
		(*calls)++;
		if (d == -ENXIO)
			return 0;
		if (d < 0)
			return d;
		if (d < off || d >= size)
			return -ERANGE;
		int64_t h = seek(fd, d, SEEK_HOLE);
		(*calls)++;
		if (h < 0)
			return h;
		if (h == d) {
			off = d;
			continue;
		}
		if (h < d || h > size)
			return -ERANGE;
		*e = {d, h};
		return 1;
	}
	return -ERANGE;
}

int64_t fd_size(int fd, const struct stat &st)
{
	if (S_ISREG(st.st_mode))
		return st.st_size;
	if (!S_ISBLK(st.st_mode))
		return -EINVAL;
	uint64_t size;
	if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		return -errno;
	return size;
}

std::string human_size(int64_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB",
					    "PiB", "EiB"};
	double v = bytes;
	int u = 0;
	// 1023.95 and more would print as "1024.0": roll over first.
	while (u < 6 && (v >= 1024 || (u && v >= 1023.95))) {
		v /= 1024;
		u++;
	}
	char buf[32];
	snprintf(buf, sizeof(buf), u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

int64_t parse_size(const char *s)
{
	static const char suffixes[] = "KMGTPE";
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	int shift = 0;
	if (*end) {
		const char *p = strchr(suffixes, toupper((unsigned char)*end));
		if (!p)
			return -1;
		shift = 10 * (p - suffixes + 1);
		end++;
		if (!strcmp(end, "iB"))
			end += 2;
		if (*end)
			return -1;
	}
	if (v > (unsigned long long)INT64_MAX >> shift)
		return -1;
	return (int64_t)(v << shift);
}

const char *file_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFBLK:
		return "a block device";
	case S_IFDIR:
		return "a directory";
	case S_IFCHR:
		return "a character device";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symbolic link";
	}
	return "of an unknown type";
}

int open_file_or_blockdev(const char *path, int flags, struct stat *st)
{
	auto ok = [](const struct stat &s) {
		return S_ISREG(s.st_mode) || S_ISBLK(s.st_mode);
	};
	if (stat(path, st) < 0)
		return -errno;
	if (!ok(*st))
		return -EINVAL;
	// O_NONBLOCK: should @path be replaced by a FIFO after the stat(),
	// open() still returns at once, and fstat() below refuses it.
	int fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || !ok(*st) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		int err = ok(*st) ? errno : EINVAL;
		close(fd);
		return -err;
	}
	return fd;
}

} // namespace seekmap
