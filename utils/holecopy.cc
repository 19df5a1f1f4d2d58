// SPDX-License-Identifier: GPL-2.0
// holecopy: copy a regular file or block device, reading only the data
// extents lseek(SEEK_DATA/SEEK_HOLE) reports and keeping the holes.
//
// Exit status: 0 success, 1 error (including a failed --verify), 2 usage;
// --verify-only exits like cmp: 0 same, 1 different, 2 trouble. A copy
// stopped by SIGINT, SIGTERM or SIGHUP exits with 128 + the signal.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <getopt.h>
#include <blkid/blkid.h>
#include <libmount/libmount.h>
#include <linux/fs.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "seek_map.h"

using seekmap::human_size;

static const char usage[] =
	"usage: holecopy [options] SRC DST\n"
	"\n"
	"Copy the regular file or block device SRC to DST, reading only the\n"
	"data extents that lseek(SEEK_DATA/SEEK_HOLE) reports. A regular-file\n"
	"DST is created if missing and truncated to the size of SRC; its\n"
	"holes stay sparse. A block-device DST must be at least as large as\n"
	"SRC and not in use (it is opened with O_EXCL); the holes of SRC are\n"
	"zeroed in it with BLKZEROOUT, except where DST itself reports a hole.\n"
	"\n"
	"A new DST gets the permission bits of SRC (less the umask), as cp\n"
	"gives them. Data blocks of SRC that read as zeros are not written\n"
	"(they stay holes, as with cp --sparse=always).\n"
	"\n"
	"  --verify          after copying, compare DST with SRC: the data\n"
	"                    extents of SRC are read from both; in the holes\n"
	"                    of SRC only what DST maps as data is read\n"
	"  --verify-only     do not copy; compare SRC with an existing DST\n"
	"                    the same way\n"
	"  --destination-is-zero\n"
	"                    DST is known to read zeros: do not zero the\n"
	"                    holes of SRC in it (the name nbdcopy uses;\n"
	"                    aliases --dst-is-zeroed, --no-zero-holes)\n"
	"  --copy-range      copy data extents with copy_file_range(2) where\n"
	"                    it works (file to file): may share blocks on\n"
	"                    btrfs or XFS, but zeros in data stay allocated\n"
	"  --progress        show progress and an ETA on stderr even when it\n"
	"                    is not a terminal\n"
	"  --progress=FD     write the progress to file descriptor FD as\n"
	"                    \"N/100\" lines instead, as nbdcopy does\n"
	"  -q, --quiet       no progress, no summary, no notices\n"
	"  -h, --help        this text\n"
	"\n"
	"Exit status: 0 on success, 1 on errors or differences found by\n"
	"--verify, 2 on usage errors; with --verify-only as cmp: 0 same,\n"
	"1 different, 2 trouble. Stopped by a signal (SIGINT, SIGTERM,\n"
	"SIGHUP): 128 + its number, after saying that DST is incomplete.\n";

static const char short_usage[] =
	"usage: holecopy [--verify|--verify-only] [--destination-is-zero]\n"
	"                [--copy-range] [--progress[=FD]] [--quiet] SRC DST"
	"   (--help for more)\n";

namespace {

constexpr int64_t MiB = 1 << 20;
constexpr int64_t buf_size = 1 * MiB;		// read/write, verify unit
constexpr int exit_trouble = 2;			// --verify-only, as cmp
constexpr int64_t copy_range_max = 64 * MiB;	// one copy_file_range call
constexpr int64_t zeroout_max = 256 * MiB;	// one BLKZEROOUT call

volatile sig_atomic_t interrupted;

void on_signal(int sig)
{
	interrupted = sig;
}

struct Error : std::runtime_error {
	using std::runtime_error::runtime_error;
};

[[noreturn]] __attribute__((format(printf, 1, 2)))
void fail(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	throw Error(buf);
}

void check_interrupted()
{
	if (interrupted)
		fail("interrupted by signal %d (%s)", (int)interrupted,
		     strsignal(interrupted));
}

struct Options {
	bool verify = false;
	bool verify_only = false;
	bool dst_zeroed = false;
	bool copy_range = false;
	bool progress = false;
	int progress_fd = -1;
	bool quiet = false;
	const char *src = nullptr;
	const char *dst = nullptr;
};

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

// A sysfs attribute without its final newline ("" if missing). Read
// whole: a loop device's backing_file may hold any byte but NUL.
std::string read_attr(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	std::string s((std::istreambuf_iterator<char>(in)),
		      std::istreambuf_iterator<char>());
	if (!s.empty() && s.back() == '\n')
		s.pop_back();
	return s;
}

// Where a block device lies: the whole disk it belongs to, its byte
// range on that disk, and for a loop device the file behind it.
struct Placement {
	dev_t disk;
	int64_t start = 0;
	int64_t end = INT64_MAX;
	bool backed = false;
	dev_t backing_dev = 0;
	ino_t backing_ino = 0;
};

std::string sysfs_dir(dev_t dev)
{
	return "/sys/dev/block/" + std::to_string(major(dev)) + ":" +
	       std::to_string(minor(dev)) + "/";
}

// The whole disk of @rdev (itself when it is one), from libblkid.
dev_t whole_disk(dev_t rdev)
{
	dev_t disk;
	if (blkid_devno_to_wholedisk(rdev, nullptr, 0, &disk) < 0)
		return rdev;
	return disk;
}

// The file a loop device @disk is bound to, by its sysfs attribute.
bool loop_backing(dev_t disk, struct stat *st)
{
	std::string backing = read_attr(sysfs_dir(disk) + "loop/backing_file");
	return !backing.empty() && stat(backing.c_str(), st) == 0;
}

Placement placement(dev_t rdev)
{
	Placement p;
	std::string dir = sysfs_dir(rdev);

	p.disk = whole_disk(rdev);
	if (p.disk != rdev) {
		std::string start = read_attr(dir + "start");
		if (!start.empty())
			p.start = strtoll(start.c_str(), nullptr, 10) * 512;
	}
	std::string size = read_attr(dir + "size");
	if (!size.empty())
		p.end = p.start + strtoll(size.c_str(), nullptr, 10) * 512;

	struct stat st;
	if (loop_backing(p.disk, &st)) {
		p.backed = true;
		p.backing_dev = st.st_dev;
		p.backing_ino = st.st_ino;
	}
	return p;
}

// Refuse to copy anything onto itself: the same file, the same device, two
// overlapping partitions of one disk, or a loop device and its backing file.
void check_distinct(const File &src, const File &dst)
{
	auto backs = [](const File &f, const File &loop) {
		Placement p = placement(loop.st.st_rdev);
		return p.backed && p.backing_dev == f.st.st_dev &&
		       p.backing_ino == f.st.st_ino;
	};

	if (!src.blk() && !dst.blk()) {
		if (src.st.st_dev == dst.st.st_dev &&
		    src.st.st_ino == dst.st.st_ino)
			fail("%s and %s are the same file", src.path, dst.path);
	} else if (src.blk() && dst.blk()) {
		if (src.st.st_rdev == dst.st.st_rdev)
			fail("%s and %s are the same device", src.path,
			     dst.path);
		Placement s = placement(src.st.st_rdev);
		Placement d = placement(dst.st.st_rdev);
		if (s.disk == d.disk && s.start < d.end && d.start < s.end)
			fail("%s and %s overlap on the same disk", src.path,
			     dst.path);
		if (s.disk != d.disk && s.backed && d.backed &&
		    s.backing_dev == d.backing_dev &&
		    s.backing_ino == d.backing_ino)
			fail("%s and %s are loop devices of the same file",
			     src.path, dst.path);
	} else if (dst.blk()) {
		if (backs(src, dst))
			fail("%s is a loop device backed by %s", dst.path,
			     src.path);
	} else if (backs(dst, src)) {
		fail("%s is a loop device backed by %s", src.path, dst.path);
	}
}

// Refuse to overwrite the backing file of a bound loop device: whatever
// uses the device (a mounted file system, say) would see it change.
void check_not_backing(const File &dst)
{
	DIR *dir = opendir("/sys/block");
	if (!dir)
		return;
	std::string bound;
	while (struct dirent *d = readdir(dir)) {
		if (strncmp(d->d_name, "loop", 4))
			continue;
		struct stat st;
		std::string backing = read_attr(std::string("/sys/block/") +
						d->d_name +
						"/loop/backing_file");
		if (!backing.empty() && stat(backing.c_str(), &st) == 0 &&
		    st.st_dev == dst.st.st_dev && st.st_ino == dst.st.st_ino) {
			bound = d->d_name;
			break;
		}
	}
	closedir(dir);
	if (!bound.empty())
		fail("%s is the backing file of /dev/%s; refusing to "
		     "overwrite it (detach the loop device first)", dst.path,
		     bound.c_str());
}

// The mount point of block device @rdev or of one of its partitions, or "",
// from this process's mount table as libmount reads it (it undoes the
// octal escapes of mountinfo).
std::string mount_point(dev_t rdev)
{
	std::unique_ptr<libmnt_table, decltype(&mnt_unref_table)> tb(
		mnt_new_table_from_file("/proc/self/mountinfo"),
		mnt_unref_table);
	if (!tb)
		return "";
	std::unique_ptr<libmnt_iter, decltype(&mnt_free_iter)> it(
		mnt_new_iter(MNT_ITER_FORWARD), mnt_free_iter);
	libmnt_fs *fs;
	while (it && mnt_table_next_fs(tb.get(), it.get(), &fs) == 0) {
		dev_t dev = mnt_fs_get_devno(fs);
		if (major(dev) && (dev == rdev || whole_disk(dev) == rdev)) {
			const char *target = mnt_fs_get_target(fs);
			return target ? target : "?";
		}
	}
	return "";
}

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
	~Copy()
	{
		free(buf_);
		free(zeros_);
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
	bool compare(int64_t a, int64_t b, char *other);
	bool dst_zero(int64_t a, int64_t b);
	bool dst_zero_read(int64_t a, int64_t b);
	void write_full(const char *buf, int64_t n, int64_t off);
};

char *Copy::alloc(size_t n)
{
	void *p;
	if (posix_memalign(&p, 4096, n)) {
		fprintf(stderr, "holecopy: out of memory\n");
		exit(1);
	}
	return static_cast<char *>(p);
}

double Copy::elapsed() const
{
	std::chrono::duration<double> d =
		std::chrono::steady_clock::now() - start_;
	return d.count();
}

// mm:ss or h:mm:ss
std::string clock_time(double s)
{
	long t = (long)(s + 0.5);
	char buf[32];
	if (t >= 3600)
		snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", t / 3600,
			 t / 60 % 60, t % 60);
	else
		snprintf(buf, sizeof(buf), "%ld:%02ld", t / 60, t % 60);
	return buf;
}

void Copy::progress(bool force)
{
	if (opt_.progress_fd >= 0) {
		// As nbdcopy --progress=FD: "N/100\n" whenever N changes.
		int pct = src_.size ? (int)(100 * (double)done_ / src_.size)
				    : 100;
		if (pct != last_pct_) {
			char line[16];
			int n = snprintf(line, sizeof(line), "%d/100\n", pct);
			if (write(opt_.progress_fd, line, n) == n)
				last_pct_ = pct;
		}
		return;
	}
	if (!show_progress_)
		return;
	auto now = std::chrono::steady_clock::now();
	if (!force && drawn_ &&
	    now - last_draw_ < std::chrono::milliseconds(200))
		return;
	last_draw_ = now;
	std::chrono::duration<double> d = now - phase_start_;
	double t = d.count();
	int pct = src_.size ? (int)(100.0 * done_ / src_.size) : 100;
	char data[64] = "";
	if (!strcmp(phase_, "copy"))
		snprintf(data, sizeof(data), ", data %s copied",
			 human_size(copied_).c_str());
	// The ETA assumes the rest goes at the pace so far (holes and data
	// mixed as until now).
	std::string eta = "--:--";
	if (done_ > 0 && t > 0.5 && done_ < src_.size)
		eta = clock_time(t * (src_.size - done_) / done_);
	else if (done_ >= src_.size)
		eta = "0:00";
	char line[256];
	int n = snprintf(line, sizeof(line),
			 "%s %s / %s (%d%%)%s, %s/s, ETA %s", phase_,
			 human_size(done_).c_str(),
			 human_size(src_.size).c_str(), pct, data,
			 human_size(t > 0 ? (int64_t)(done_ / t) : 0).c_str(),
			 eta.c_str());
	n = std::min(n, (int)sizeof(line) - 1);
	fprintf(stderr, "\r%s%*s", line,
		drawn_ > (size_t)n ? (int)(drawn_ - n) : 0, "");
	drawn_ = n;
}

void Copy::end_progress()
{
	if (drawn_) {
		progress(true);
		fputc('\n', stderr);
		drawn_ = 0;
	}
}

bool Copy::dst_reads_zero() const
{
	// A regular file was truncated to 0 and extended: all hole.
	return !dst_.blk() || opt_.dst_zeroed;
}

void Copy::read_full(File &f, char *buf, int64_t n, int64_t off)
{
	while (n > 0) {
		ssize_t r = pread(f.fd, buf, n, off);
		if (r < 0) {
			if (errno == EINTR) {
				check_interrupted();
				continue;
			}
			fail("%s: read at offset %lld: %s", f.path,
			     (long long)off, strerror(errno));
		}
		if (r == 0)
			fail("%s: end of file at offset %lld, before its size "
			     "%lld (did it shrink?)", f.path, (long long)off,
			     (long long)f.size);
		buf += r;
		off += r;
		n -= r;
	}
}

void Copy::write_full(const char *buf, int64_t n, int64_t off)
{
	touched_ = true;
	while (n > 0) {
		ssize_t r = pwrite(dst_.fd, buf, n, off);
		if (r < 0) {
			if (errno == EINTR) {
				check_interrupted();
				continue;
			}
			fail("%s: write at offset %lld: %s", dst_.path,
			     (long long)off, strerror(errno));
		}
		buf += r;
		off += r;
		n -= r;
	}
}

void Copy::write_zeros(int64_t a, int64_t b)
{
	while (a < b) {
		int64_t n = std::min(b - a, buf_size - a % buf_size);
		write_full(zeros_, n, a);
		a += n;
	}
}

// Make [a, b) of the block device DST read zeros. BLKZEROOUT lets the
// kernel use WRITE ZEROES (or unmap, where the device guarantees zeroes)
// and falls back to writing zero pages itself. BLKDISCARD is not used:
// whether a discarded range reads zeros is something no sysfs attribute
// promises any more.
void Copy::zero_range(int64_t a, int64_t b)
{
	int64_t s = (a + lbs_ - 1) / lbs_ * lbs_, t = b / lbs_ * lbs_;

	touched_ = true;
	if (s >= t) {
		write_zeros(a, b);
		return;
	}
	write_zeros(a, s);
	for (int64_t p = s; p < t;) {
		int64_t n = std::min(t - p, zeroout_max);
		uint64_t range[2] = {(uint64_t)p, (uint64_t)n};
		if (!zeroout_ || ioctl(dst_.fd, BLKZEROOUT, range) < 0) {
			if (zeroout_ && errno != EOPNOTSUPP &&
			    errno != ENOTTY && errno != EINVAL)
				fail("%s: BLKZEROOUT of %lld bytes at offset "
				     "%lld: %s", dst_.path, (long long)n,
				     (long long)p, strerror(errno));
			zeroout_ = false;
			write_zeros(p, p + n);
		}
		p += n;
		done_ = p;
		progress();
		check_interrupted();
	}
	write_zeros(t, b);
}

// Make [a, b) of DST read zeros where it does not already, skipping the
// ranges that DST itself reports as holes (a hole reads zeros).
void Copy::zero_dst(int64_t a, int64_t b)
{
	while (dst_seek_ && a < b) {
		seekmap::Extent e;
		int r = seekmap::next_data(dst_.fd, dst_.size, a, &e,
					   &dst_calls_);
		if (r < 0) {
			// Not supported, or an answer we cannot trust.
			dst_seek_ = false;
			break;
		}
		if (r == 0 || e.start >= b)
			return;
		zero_range(e.start, std::min(e.end, b));
		a = e.end;
	}
	if (a < b)
		zero_range(a, b);
}

void Copy::hole(int64_t a, int64_t b)
{
	if (a >= b)
		return;
	holes_ += b - a;
	if (!dst_reads_zero())
		zero_dst(a, b);
	done_ = b;
	progress();
}

bool is_zero(const char *p, int64_t n)
{
	return !p[0] && !memcmp(p, p + 1, n - 1);
}

// Copy [a, b) with read and write. Blocks of zb_ bytes (aligned in the
// file) that read as zeros are not written: a file DST keeps a hole there,
// a block device DST gets them zeroed where it does not read zeros.
void Copy::rw_copy(int64_t a, int64_t b)
{
	int64_t zero_from = -1;		// start of a run of zero blocks

	for (int64_t p = a; p < b;) {
		// Buffers aligned to buf_size in the file.
		int64_t n = std::min(b - p, buf_size - p % buf_size);
		read_full(src_, buf_, n, p);
		copied_ += n;
		int64_t data_from = -1;	// start of a run of data blocks
		for (int64_t q = p; q < p + n;) {
			int64_t m = std::min(p + n - q, zb_ - q % zb_);
			if (is_zero(buf_ + (q - p), m)) {
				if (data_from >= 0)
					write_full(buf_ + (data_from - p),
						   q - data_from, data_from);
				data_from = -1;
				zero_data_ += m;
				if (zero_from < 0)
					zero_from = q;
			} else {
				if (zero_from >= 0 && !dst_reads_zero())
					zero_dst(zero_from, q);
				zero_from = -1;
				if (data_from < 0)
					data_from = q;
			}
			q += m;
		}
		if (data_from >= 0)
			write_full(buf_ + (data_from - p), p + n - data_from,
				   data_from);
		p += n;
		if (zero_from < 0 || dst_reads_zero())
			done_ = p;
		progress();
		check_interrupted();
	}
	if (zero_from >= 0 && !dst_reads_zero())
		zero_dst(zero_from, b);
	done_ = b;
}

void Copy::copy_data(int64_t a, int64_t b)
{
	data_ += b - a;
	extents_++;
	// copy_file_range only when asked: it writes zeros as data.
	while (copy_range_ && !dst_.blk() && a < b) {
		loff_t in = a, out = a;
		ssize_t r = copy_file_range(src_.fd, &in, dst_.fd, &out,
					    std::min(b - a, copy_range_max), 0);
		if (r < 0) {
			if (errno == EINTR) {
				check_interrupted();
				continue;
			}
			if (errno == EXDEV || errno == EINVAL ||
			    errno == EOPNOTSUPP || errno == ENOSYS) {
				copy_range_ = false;
				break;
			}
			fail("copy_file_range from %s to %s at offset %lld: %s",
			     src_.path, dst_.path, (long long)a,
			     strerror(errno));
		}
		if (r == 0)
			fail("%s: end of file at offset %lld, before its size "
			     "%lld (did it shrink?)", src_.path, (long long)a,
			     (long long)src_.size);
		touched_ = true;
		a += r;
		copied_ += r;
		done_ = a;
		progress();
		check_interrupted();
	}
	if (a < b)
		rw_copy(a, b);
}

void Copy::prepare_dst()
{
	if (dst_.blk()) {
		if (dst_.size < src_.size)
			fail("%s (%lld bytes, %s) is smaller than %s (%lld "
			     "bytes, %s); refusing to copy", dst_.path,
			     (long long)dst_.size,
			     human_size(dst_.size).c_str(), src_.path,
			     (long long)src_.size,
			     human_size(src_.size).c_str());
		int lbs;
		if (ioctl(dst_.fd, BLKSSZGET, &lbs) == 0 && lbs > 0)
			lbs_ = lbs;
		return;
	}
	// Drop the old contents so that the whole file is one hole.
	touched_ = true;
	if (ftruncate(dst_.fd, 0) < 0 || ftruncate(dst_.fd, src_.size) < 0)
		fail("%s: truncate to %lld bytes: %s", dst_.path,
		     (long long)src_.size, strerror(errno));
}

void Copy::run()
{
	prepare_dst();
	posix_fadvise(src_.fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	int64_t off = 0, size = src_.size;
	while (off < size) {
		seekmap::Extent e = {off, size};
		int r = 1;
		if (src_seek_)
			r = seekmap::next_data(src_.fd, size, off, &e,
					       &src_calls_);
		if (r == -EINVAL && off == 0) {
			src_seek_ = false;
			if (!opt_.quiet)
				fprintf(stderr, "holecopy: %s: %s; reading "
					"every byte\n", src_.path, src_.blk() ?
					"this kernel does not support "
					"SEEK_DATA/SEEK_HOLE on block devices" :
					"SEEK_DATA/SEEK_HOLE not supported");
			continue;
		}
		if (r == -ERANGE)
			fail("%s: lseek(SEEK_DATA/SEEK_HOLE) from offset %lld "
			     "answered outside [%lld, %lld]", src_.path,
			     (long long)off, (long long)off, (long long)size);
		if (r < 0)
			fail("%s: lseek(SEEK_DATA/SEEK_HOLE) from offset %lld: "
			     "%s", src_.path, (long long)off, strerror(-r));
		if (r == 0)
			e = {size, size};
		hole(off, e.start);
		if (e.start < e.end)
			copy_data(e.start, e.end);
		off = e.end;
	}
	if (fsync(dst_.fd) < 0)
		fail("%s: fsync: %s", dst_.path, strerror(errno));
	complete_ = true;
	end_progress();
}

// Compare [a, b) of SRC and DST by reading both.
bool Copy::compare(int64_t a, int64_t b, char *other)
{
	for (int64_t p = a; p < b;) {
		int64_t n = std::min(b - p, buf_size - p % buf_size);
		read_full(src_, buf_, n, p);
		read_full(dst_, other, n, p);
		copied_ += n;
		if (memcmp(buf_, other, n)) {
			int64_t i = 0;
			while (buf_[i] == other[i])
				i++;
			fprintf(stderr, "holecopy: verify: %s and %s differ "
				"at byte %lld\n", src_.path, dst_.path,
				(long long)(p + i));
			return false;
		}
		p += n;
		done_ = p;
		progress();
		check_interrupted();
	}
	return true;
}

// [a, b) of DST reads zeros, read to check.
bool Copy::dst_zero_read(int64_t a, int64_t b)
{
	for (int64_t p = a; p < b;) {
		int64_t n = std::min(b - p, buf_size - p % buf_size);
		read_full(dst_, buf_, n, p);
		dst_read_ += n;
		if (!is_zero(buf_, n)) {
			int64_t i = 0;
			while (!buf_[i])
				i++;
			fprintf(stderr, "holecopy: verify: %s and %s differ "
				"at byte %lld\n", src_.path, dst_.path,
				(long long)(p + i));
			return false;
		}
		p += n;
		done_ = p;
		progress();
		check_interrupted();
	}
	return true;
}

// [a, b) is a hole of SRC, so it reads zeros: DST must read zeros there.
// Where DST reports a hole, it does; only DST's data there is read.
bool Copy::dst_zero(int64_t a, int64_t b)
{
	while (dst_seek_ && a < b) {
		seekmap::Extent e;
		int r = seekmap::next_data(dst_.fd, dst_.size, a, &e,
					   &dst_calls_);
		if (r < 0) {
			dst_seek_ = false;	// read it all instead
			break;
		}
		if (r == 0 || e.start >= b) {
			a = b;
			break;
		}
		if (!dst_zero_read(e.start, std::min(e.end, b)))
			return false;
		a = e.end;
	}
	if (a < b && !dst_zero_read(a, b))
		return false;
	done_ = std::max(done_, b);
	progress();
	return true;
}

// Compare DST with SRC. The data extents of SRC are read from both; a hole
// of SRC reads zeros (what a hole promises), so there only DST is read,
// and only where DST itself maps data. Without SEEK_DATA on SRC, all of it
// is data.
bool Copy::verify()
{
	std::unique_ptr<char, decltype(&free)> other(alloc(buf_size), free);
	bool same = true;
	int64_t size = src_.size;

	// Read DST back from the device, not from the page cache.
	if (!opt_.verify_only)
		posix_fadvise(dst_.fd, 0, 0, POSIX_FADV_DONTNEED);
	struct stat st;
	if (!dst_.blk() && fstat(dst_.fd, &st) == 0)
		dst_.size = st.st_size;
	done_ = 0;
	copied_ = 0;
	dst_read_ = 0;
	last_pct_ = -1;
	phase_ = "verify";
	phase_start_ = std::chrono::steady_clock::now();
	if (!dst_.blk() && dst_.size != size) {
		fprintf(stderr, "holecopy: verify: %s has %lld bytes, %s has "
			"%lld\n", dst_.path, (long long)dst_.size, src_.path,
			(long long)size);
		same = false;
	} else if (dst_.size < size) {
		fprintf(stderr, "holecopy: verify: %s (%lld bytes) is smaller "
			"than %s (%lld bytes)\n", dst_.path,
			(long long)dst_.size, src_.path, (long long)size);
		same = false;
	}
	size = std::min(size, dst_.size);
	bool src_seek = src_seek_;
	for (int64_t off = 0; off < size;) {
		seekmap::Extent e = {off, size};
		int r = 1;
		if (src_seek)
			r = seekmap::next_data(src_.fd, src_.size, off, &e,
					       &src_calls_);
		if (r == -EINVAL && off == 0) {
			src_seek = false;
			continue;
		}
		if (r == -ERANGE)
			fail("%s: lseek(SEEK_DATA/SEEK_HOLE) from offset %lld "
			     "answered outside [%lld, %lld]", src_.path,
			     (long long)off, (long long)off,
			     (long long)src_.size);
		if (r < 0)
			fail("%s: lseek(SEEK_DATA/SEEK_HOLE) from offset %lld: "
			     "%s", src_.path, (long long)off, strerror(-r));
		if (r == 0)
			e = {size, size};
		e = {std::min(e.start, size), std::min(e.end, size)};
		if (!dst_zero(off, e.start) ||
		    !compare(e.start, e.end, other.get())) {
			same = false;
			break;
		}
		off = std::max(e.end, off + 1);
	}
	end_progress();
	if (same && !opt_.quiet)
		fprintf(stderr, "holecopy: verify: %s matches %s (%lld "
			"bytes; read %s of data from both, %s of %s in the "
			"holes of %s)\n", dst_.path, src_.path,
			(long long)size, human_size(copied_).c_str(),
			human_size(dst_read_).c_str(), dst_.path, src_.path);
	return same;
}

void Copy::summary()
{
	if (opt_.quiet)
		return;
	char zeros[96] = "";
	if (zero_data_)
		snprintf(zeros, sizeof(zeros), " (%lld bytes of it zeros, "
			 "not copied)", (long long)zero_data_);
	fprintf(stderr, "holecopy: %s -> %s: %lld bytes data (%s)%s, %lld "
		"bytes holes (%s), %lld data extents, %llu lseek calls",
		src_.path, dst_.path, (long long)data_,
		human_size(data_).c_str(), zeros, (long long)holes_,
		human_size(holes_).c_str(), (long long)extents_,
		(unsigned long long)(src_calls_ + dst_calls_));
	if (dst_calls_)
		fprintf(stderr, " (%llu on %s)", (unsigned long long)dst_calls_,
			dst_.path);
	fprintf(stderr, ", %.2f s\n", elapsed());
	if (dst_.blk() && dst_.size > src_.size)
		fprintf(stderr, "holecopy: %s is larger than %s: bytes from "
			"offset %lld on were left as they were\n", dst_.path,
			src_.path, (long long)src_.size);
}

void Copy::incomplete()
{
	end_progress();
	if (touched_ && !complete_)
		fprintf(stderr, "holecopy: %s is INCOMPLETE: only its first "
			"%lld of %lld bytes (%s of %s) were copied, and "
			"nothing was synced; do not use it\n", dst_.path,
			(long long)done_, (long long)src_.size,
			human_size(done_).c_str(),
			human_size(src_.size).c_str());
}

void open_src(File &f)
{
	// Checked before it is opened: opening a FIFO would wait for a
	// writer.
	f.fd = seekmap::open_file_or_blockdev(f.path, O_RDONLY, &f.st);
	if (f.fd == -EINVAL)
		fail("%s: not a regular file or block device (%s)", f.path,
		     seekmap::file_type(f.st.st_mode));
	if (f.fd < 0)
		fail("%s: %s", f.path, strerror(-f.fd));
	f.size = seekmap::fd_size(f.fd, f.st);
	if (f.size < 0)
		fail("%s: cannot read the size: %s", f.path,
		     strerror(-f.size));
}

// Open DST; a new one is created with the permission bits @mode (less the
// umask).
void open_dst(File &f, bool verify_only, mode_t mode)
{
	struct stat st;
	bool exists = stat(f.path, &st) == 0;

	if (!exists && (errno != ENOENT || verify_only))
		fail("%s: %s", f.path, strerror(errno));
	if (exists && S_ISDIR(st.st_mode))
		fail("%s: is a directory", f.path);
	if (exists && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		fail("%s: not a regular file or block device (%s)", f.path,
		     seekmap::file_type(st.st_mode));

	// O_NONBLOCK: a FIFO put in its place after the stat() above must
	// not block the open (the type is checked again below).
	const int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	if (verify_only)
		f.fd = open(f.path, O_RDONLY | flags);
	else if (!exists)
		f.fd = open(f.path, O_RDWR | O_CREAT | O_EXCL | flags,
			    mode & 0777);
	else if (S_ISBLK(st.st_mode))
		// The kernel's own guard: EBUSY when the device is mounted
		// or held by device-mapper, md, or any exclusive opener.
		f.fd = open(f.path, O_RDWR | O_EXCL | flags);
	else
		f.fd = open(f.path, O_RDWR | flags);
	if (f.fd < 0 && errno == EBUSY && exists && S_ISBLK(st.st_mode)) {
		std::string mnt = mount_point(st.st_rdev);
		if (!mnt.empty())
			fail("%s is mounted (on %s); refusing to write to it",
			     f.path, mnt.c_str());
		fail("%s is busy: mounted, or held by device-mapper, md or "
		     "another exclusive opener; refusing to write to it",
		     f.path);
	}
	if (f.fd < 0)
		fail("%s: cannot %s: %s", f.path,
		     exists || verify_only ? "open" : "create",
		     strerror(errno));
	if (fstat(f.fd, &f.st) < 0)
		fail("%s: %s", f.path, strerror(errno));
	if (exists && (f.st.st_mode & S_IFMT) != (st.st_mode & S_IFMT))
		fail("%s: changed while it was being opened", f.path);
	if (fcntl(f.fd, F_SETFL, fcntl(f.fd, F_GETFL) & ~O_NONBLOCK) < 0)
		fail("%s: %s", f.path, strerror(errno));
	f.size = seekmap::fd_size(f.fd, f.st);
	if (f.size < 0)
		fail("%s: cannot read the size: %s", f.path,
		     strerror(-f.size));
}

int parse_options(int argc, char **argv, Options *opt)
{
	enum { VERIFY_ONLY = 256, DST_ZEROED, COPY_RANGE, NO_COPY_RANGE,
	       PROGRESS };
	static const struct option longopts[] = {
		{"verify", no_argument, nullptr, 'v'},
		{"verify-only", no_argument, nullptr, VERIFY_ONLY},
		{"destination-is-zero", no_argument, nullptr, DST_ZEROED},
		// The names of earlier versions.
		{"dst-is-zeroed", no_argument, nullptr, DST_ZEROED},
		{"no-zero-holes", no_argument, nullptr, DST_ZEROED},
		{"copy-range", no_argument, nullptr, COPY_RANGE},
		{"no-copy-range", no_argument, nullptr, NO_COPY_RANGE},
		{"progress", optional_argument, nullptr, PROGRESS},
		{"quiet", no_argument, nullptr, 'q'},
		{"help", no_argument, nullptr, 'h'},
		{},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", longopts, nullptr)) != -1) {
		switch (c) {
		case 'v':
			opt->verify = true;
			break;
		case VERIFY_ONLY:
			opt->verify_only = true;
			break;
		case DST_ZEROED:
			opt->dst_zeroed = true;
			break;
		case COPY_RANGE:
			opt->copy_range = true;
			break;
		case NO_COPY_RANGE:
			opt->copy_range = false;
			break;
		case PROGRESS:
			opt->progress = true;
			if (optarg) {
				char *end;
				long fd = strtol(optarg, &end, 10);
				if (!*optarg || *end || fd < 0 || fd > INT_MAX ||
				    fcntl((int)fd, F_GETFL) < 0) {
					fprintf(stderr, "holecopy: --progress="
						"%s: not an open file "
						"descriptor\n", optarg);
					return 2;
				}
				opt->progress_fd = (int)fd;
			}
			break;
		case 'q':
			opt->quiet = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fprintf(stderr, "holecopy: unknown option %s\n%s",
				argv[optind - 1], short_usage);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "holecopy: expected SRC and DST\n%s",
			short_usage);
		return 2;
	}
	opt->src = argv[optind];
	opt->dst = argv[optind + 1];
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	Options opt;
	int rc = parse_options(argc, argv, &opt);
	if (rc)
		return rc;

	struct sigaction sa = {};
	sa.sa_handler = on_signal;	// no SA_RESTART: stop at once
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGHUP, &sa, nullptr);
	// A progress reader that goes away is no reason to stop copying.
	if (opt.progress_fd >= 0)
		signal(SIGPIPE, SIG_IGN);
	// Trouble (not a difference) exits 2 with --verify-only, as cmp.
	const int trouble = opt.verify_only ? exit_trouble : 1;

	File src, dst;
	src.path = opt.src;
	dst.path = opt.dst;
	try {
		open_src(src);
		open_dst(dst, opt.verify_only, src.st.st_mode);
		check_distinct(src, dst);
		if (!opt.verify_only && !dst.blk())
			check_not_backing(dst);
	} catch (const Error &e) {
		fprintf(stderr, "holecopy: %s\n", e.what());
		return trouble;
	}

	Copy copy(opt, src, dst);
	try {
		if (!opt.verify_only) {
			copy.run();
			copy.summary();
		}
		if ((opt.verify || opt.verify_only) && !copy.verify()) {
			fprintf(stderr, "holecopy: %s does not match %s\n",
				dst.path, src.path);
			return 1;
		}
	} catch (const Error &e) {
		copy.end_progress();
		fprintf(stderr, "holecopy: %s\n", e.what());
		if (!opt.verify_only)
			copy.incomplete();
		// Stopped by a signal: say so in the status, as a shell does.
		return interrupted ? 128 + interrupted : trouble;
	}
	return 0;
}
