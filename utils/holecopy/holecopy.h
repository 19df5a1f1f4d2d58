// SPDX-License-Identifier: GPL-2.0
// holecopy: copy a regular file or block device, reading only the data
// extents lseek(SEEK_DATA/SEEK_HOLE) reports and keeping the holes.
// One file per job, as libnbd's nbdcopy: options.cc (the command line),
// files.cc (opening SRC and DST), safety.cc (what must never be
// overwritten), extents.cc (SRC's extents, for copy and verify alike),
// copy.cc, verify.cc, progress.cc (progress, summary) and main.cc.
//
// Exit status: 0 success, 1 error (including a failed --verify), 2 usage;
// --verify-only exits like cmp: 0 same, 1 different, 2 trouble. A copy
// stopped by SIGINT, SIGTERM or SIGHUP exits with 128 + the signal.
#pragma once

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <csignal>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include <fmt/format.h>

#include "utils/print.h"
#include "utils/seek_map.h"

namespace holecopy {

using seekmap::human_size;

constexpr int64_t MiB = 1 << 20;
constexpr int64_t buf_size = 1 * MiB;		// read/write, verify unit
constexpr int exit_trouble = 2;			// --verify-only, as cmp
constexpr int64_t copy_range_max = 64 * MiB;	// one copy_file_range call
constexpr int64_t zeroout_max = 256 * MiB;	// one BLKZEROOUT call

// The signal that stopped the copy, or 0.
extern volatile sig_atomic_t interrupted;
void on_signal(int sig);

struct Error : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// Throw an Error with the message fmt formats.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args &&...args)
{
	throw Error(fmt::format(format, std::forward<Args>(args)...));
}

void check_interrupted();

struct Options {
	bool verify = false;
	bool verify_only = false;
	bool dst_zeroed = false;
	bool copy_range = false;
	bool progress = false;
	int progress_fd = -1;
	bool quiet = false;
	std::string src;
	std::string dst;
};

// The command line into @opt; 0, or the exit status of a usage error
// (2, after saying what is wrong). --help prints the usage and exits 0.
int parse_options(int argc, char **argv, Options *opt);

struct File {
	const char *path = nullptr;
	int fd = -1;
	struct stat st = {};
	int64_t size = 0;

	bool blk() const { return S_ISBLK(st.st_mode); }
	~File()
	{
		if (fd >= 0)
			close(fd);
	}
};

// Open SRC (a regular file or block device, never waiting on a FIFO).
void open_src(File &f);
// Open DST; a new one is created with the permission bits @mode (less the
// umask); a block device exclusively.
void open_dst(File &f, bool verify_only, mode_t mode);

// Refuse to copy anything onto itself: the same file, the same device, two
// overlapping partitions of one disk, or a loop device and its backing file.
void check_distinct(const File &src, const File &dst);
// Refuse to overwrite the backing file of a bound loop device.
void check_not_backing(const File &dst);
// The mount point of block device @rdev or of one of its partitions, or "".
std::string mount_point(dev_t rdev);

// The data extents of SRC, in order, up to @limit bytes, from
// lseek(SEEK_DATA/SEEK_HOLE): the one iterator copy and verify share.
// SRC that does not answer (EINVAL at offset 0: not supported) is one
// data extent; @on_unsupported is told once. Any other failure throws.
class Extents {
public:
	Extents(const File &src, int64_t limit, bool seek, uint64_t *calls)
		: src_(src), limit_(limit), seek_(seek), calls_(calls)
	{
	}
	// The first data extent at or after @off, clamped to the limit;
	// {limit, limit} when there is none: [off, start) is a hole.
	seekmap::Extent next(int64_t off, void (*on_unsupported)(const File &) = nullptr);
	// Whether SRC still answers SEEK_DATA/SEEK_HOLE.
	bool seeking() const { return seek_; }

private:
	const File &src_;
	int64_t limit_;
	bool seek_;
	uint64_t *calls_;
};

// Whether @n bytes at @p are all zero.
bool is_zero(const char *p, int64_t n);
// mm:ss or h:mm:ss
std::string clock_time(double s);

class Copy {
public:
	Copy(const Options &opt, File &src, File &dst)
		: opt_(opt), src_(src), dst_(dst), copy_range_(opt.copy_range)
	{
		show_progress_ = !opt.quiet && opt.progress_fd < 0 &&
				 (opt.progress || isatty(STDERR_FILENO));
		// Zero detection at the destination's block size, as cp
		// --sparse=always does (st_blksize of DST).
		if (dst.st.st_blksize >= 512 && dst.st.st_blksize <= buf_size &&
		    buf_size % dst.st.st_blksize == 0)
			zb_ = dst.st.st_blksize;
		buf_ = alloc(buf_size);
		zeros_ = alloc(buf_size);
		memset(zeros_, 0, buf_size);
		start_ = phase_start_ = std::chrono::steady_clock::now();
	}
	Copy(const Copy &) = delete;
	Copy &operator=(const Copy &) = delete;
	~Copy()
	{
		free(buf_);
		free(zeros_);
		if (direct_fd_ >= 0)
			close(direct_fd_);
	}

	void run();
	bool verify();
	int64_t done() const { return done_; }
	void end_progress();
	void summary();
	void incomplete();

private:
	const Options &opt_;
	File &src_;
	File &dst_;
	char *buf_ = nullptr;
	char *zeros_ = nullptr;

	bool show_progress_;
	bool copy_range_;		// copy_file_range() may work
	bool src_seek_ = true;		// SRC answers SEEK_DATA/SEEK_HOLE
	bool dst_seek_ = true;		// DST answers SEEK_DATA/SEEK_HOLE
	bool zeroout_ = true;		// BLKZEROOUT may work
	int64_t lbs_ = 512;		// DST logical block size
	int direct_fd_ = -1;		// SRC opened with O_DIRECT, or -1
	int64_t src_lbs_ = 512;		// SRC logical block size
	int64_t zb_ = 4096;		// zero detection unit

	bool touched_ = false;		// DST was modified
	bool complete_ = false;		// ... and is complete and synced
	int64_t done_ = 0;		// DST is complete up to here
	int64_t data_ = 0;		// bytes of data extents of SRC
	int64_t copied_ = 0;		// ... of them read so far
	int64_t dst_read_ = 0;		// DST bytes read in SRC holes
	int64_t holes_ = 0;		// bytes of holes of SRC
	int64_t zero_data_ = 0;		// data bytes found zero, not written
	int64_t extents_ = 0;
	uint64_t src_calls_ = 0;
	uint64_t dst_calls_ = 0;

	const char *phase_ = "copy";
	std::chrono::steady_clock::time_point start_, phase_start_, last_draw_;
	size_t drawn_ = 0;		// length of the progress line shown
	int last_pct_ = -1;		// last N/100 written to progress_fd

	static char *alloc(size_t n);
	double elapsed() const;
	void progress(bool force = false);
	bool dst_reads_zero() const;
	void prepare_dst();
	void hole(int64_t a, int64_t b);
	void zero_dst(int64_t a, int64_t b);
	void zero_range(int64_t a, int64_t b);
	void write_zeros(int64_t a, int64_t b);
	void copy_data(int64_t a, int64_t b);
	void rw_copy(int64_t a, int64_t b);
	void read_full(File &f, char *buf, int64_t n, int64_t off);
	void open_direct_src();
	void read_src(char *buf, int64_t n, int64_t off);
	bool check_dst(int64_t a, int64_t b, char *src);
	bool dst_zero(int64_t a, int64_t b);
	// Call @fn on each range of [a, b) that DST maps as data (all of it
	// once DST does not answer SEEK_DATA/SEEK_HOLE) until it returns
	// false; whether it never did.
	bool each_dst_data(int64_t a, int64_t b,
			   const std::function<bool(int64_t, int64_t)> &fn);
	void write_full(const char *buf, int64_t n, int64_t off);
};

} // namespace holecopy
