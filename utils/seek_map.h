// SPDX-License-Identifier: GPL-2.0
// Data/hole maps of files and block devices, as SEEK_DATA/SEEK_HOLE see them.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace seekmap {

// A data extent [start, end) in bytes.
struct Extent {
	int64_t start;
	int64_t end;

	bool operator==(const Extent &o) const
	{
		return start == o.start && end == o.end;
	}
	int64_t length() const { return end - start; }
};

// Sorted, disjoint, non-adjacent data extents; everything else is hole.
using ExtentMap = std::vector<Extent>;

std::string to_string(const ExtentMap &map);
void PrintTo(const Extent &e, std::ostream *os);

// Sort, drop empty extents, merge overlapping or touching ones.
ExtentMap normalize(ExtentMap map);

// The part of @map inside [begin, end), shifted so that @begin becomes 0.
ExtentMap window(const ExtentMap &map, int64_t begin, int64_t end);

// The holes of @map on a device of @size, as extents.
ExtentMap holes(const ExtentMap &map, int64_t size);

// What lseek(@off, @whence) must return for @map on a device of @size:
// an offset, or -errno.
int64_t expected_seek(const ExtentMap &map, int64_t size, int64_t off,
		      int whence);

// lseek() returning the offset or -errno.
int64_t seek(int fd, int64_t off, int whence);

struct Walk {
	ExtentMap map;
	std::string error; // empty when every answer was well-formed
	uint64_t calls = 0;
	int err = 0; // errno of the lseek() that failed, 0 if none failed
	// walk_changing() only: offsets where SEEK_DATA found data and the
	// SEEK_HOLE that followed found a hole (the map changed in between).
	std::vector<int64_t> vanished;
};

// Walk the whole map of @fd (size @size) with SEEK_DATA/SEEK_HOLE,
// checking that every answer lies in [off, size] and that the file
// position follows it.
Walk walk(int fd, int64_t size);

// The same for the range [@begin, @end) of it only: extents are cut at
// @end (offsets stay those of the file), and no query starts past @end.
Walk walk(int fd, int64_t size, int64_t begin, int64_t end);

// walk() for a device whose map something else changes meanwhile: data
// that is a hole by the time of its SEEK_HOLE (SEEK_HOLE(d) == d, what a
// regular file answers too after a concurrent hole punch) is no error: d
// goes into Walk::vanished and the walk goes on from d. The caller judges
// where that may happen. More than 1000 of them end the walk with an error.
Walk walk_changing(int fd, int64_t size, int64_t begin, int64_t end);

// One step of a walk that keeps no map: the first data extent of @fd
// (size @size) at or after @off, found with one SEEK_DATA and one
// SEEK_HOLE. Returns 1 with *@e set, 0 when only hole follows @off, or
// -errno: -EINVAL when @fd does not support SEEK_DATA/SEEK_HOLE (a block
// device on an unpatched kernel), -ERANGE for an answer outside
// [@off, @size]. Data gone by its SEEK_HOLE (the device changed in
// between) is looked for again from there, up to 1000 times, then
// -ERANGE. @calls counts the lseek() calls made.
int next_data(int fd, int64_t size, int64_t off, Extent *e, uint64_t *calls);

// The size in bytes of an open regular file or block device whose
// fstat() is @st (BLKGETSIZE64 for a block device), or -errno; -EINVAL
// for any other type of file.
int64_t fd_size(int fd, const struct stat &st);

// @bytes in binary units for people: "512 B", "1.0 MiB", "3.5 GiB"; a
// value that would print as 1024.0 of a unit rolls over to the next one.
std::string human_size(int64_t bytes);

// A byte count from the command line: digits with an optional binary
// suffix K, M, G, T, P or E (also KiB, MiB, ...); -1 if malformed or too
// large.
int64_t parse_size(const char *s);

// "a FIFO", "a directory", "a character device", ... for @mode.
const char *file_type(mode_t mode);

// Open @path, a regular file or a block device, with @flags; fill @st.
// Anything else gives -EINVAL without being opened for long: a FIFO is
// never opened by a blocking open() (which would wait for a writer).
// Returns the descriptor or -errno.
int open_file_or_blockdev(const char *path, int flags, struct stat *st);

} // namespace seekmap
