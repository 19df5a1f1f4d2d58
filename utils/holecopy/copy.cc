// SPDX-License-Identifier: GPL-2.0
// holecopy's copy: the data extents of SRC to DST, the holes of SRC
// zeroed in a block-device DST where it does not read zeros already.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "holecopy.h"

namespace holecopy {

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
			fail("{}: read at offset {}: {}", f.path,
			     off, strerror(errno));
		}
		if (r == 0)
			fail("{}: end of file at offset {}, before its size "
			     "{} (did it shrink?)", f.path, off,
			     f.size);
		buf += r;
		off += r;
		n -= r;
	}
}

// A block device SRC is also opened with O_DIRECT, through /proc/self/fd
// (the same device, whatever its path names now): its data extents are
// read into the aligned buffer without passing through the page cache,
// which the copy would only fill with pages nobody reads again. The
// kernel writes back any dirty cached pages of a range before it reads
// it directly, so the copy still sees every write made before it.
void Copy::open_direct_src()
{
	int lbs;

	// buf_ is aligned to 4096 bytes (alloc()).
	if (!src_.blk() || ioctl(src_.fd, BLKSSZGET, &lbs) < 0 || lbs <= 0 ||
	    lbs > 4096 || buf_size % lbs)
		return;
	std::string self = fmt::format("/proc/self/fd/{}", src_.fd);
	int fd = open(self.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || st.st_rdev != src_.st.st_rdev) {
		close(fd);
		return;
	}
	direct_fd_ = fd;
	src_lbs_ = lbs;
}

// Read [off, off + n) of SRC: directly where the range is aligned to its
// logical blocks, through the page cache otherwise or once a direct read
// is refused.
void Copy::read_src(char *buf, int64_t n, int64_t off)
{
	while (direct_fd_ >= 0 && n > 0 && off % src_lbs_ == 0 &&
	       n % src_lbs_ == 0) {
		ssize_t r = pread(direct_fd_, buf, n, off);
		if (r < 0 && errno == EINTR) {
			check_interrupted();
			continue;
		}
		if (r < 0 && errno == EINVAL) {
			close(direct_fd_);
			direct_fd_ = -1;
			break;
		}
		if (r < 0)
			fail("{}: read at offset {}: {}", src_.path, off,
			     strerror(errno));
		if (r == 0 || r % src_lbs_)
			break;	// the end, or a short read: buffered below
		buf += r;
		off += r;
		n -= r;
	}
	if (n > 0)
		read_full(src_, buf, n, off);
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
			fail("{}: write at offset {}: {}", dst_.path,
			     off, strerror(errno));
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
				fail("{}: BLKZEROOUT of {} bytes at offset "
				     "{}: {}", dst_.path, n,
				     p, strerror(errno));
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

bool Copy::each_dst_data(int64_t a, int64_t b,
			 const std::function<bool(int64_t, int64_t)> &fn)
{
	while (dst_seek_ && a < b) {
		seekmap::Extent e;
		int r = seekmap::next_data(dst_.fd, dst_.size, a, &e,
					   &dst_calls_);
		if (r < 0) {
			// Not supported, or an answer we cannot trust: from
			// here on, all of DST is data.
			dst_seek_ = false;
			break;
		}
		if (r == 0 || e.start >= b)
			return true;
		if (!fn(e.start, std::min(e.end, b)))
			return false;
		a = e.end;
	}
	return a >= b || fn(a, b);
}

// Make [a, b) of DST read zeros where it does not already, skipping the
// ranges that DST itself reports as holes (a hole reads zeros).
void Copy::zero_dst(int64_t a, int64_t b)
{
	each_dst_data(a, b, [this](int64_t s, int64_t t) {
		zero_range(s, t);
		return true;
	});
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
		read_src(buf_, n, p);
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
			fail("copy_file_range from {} to {} at offset {}: {}",
			     src_.path, dst_.path, a,
			     strerror(errno));
		}
		if (r == 0)
			fail("{}: end of file at offset {}, before its size "
			     "{} (did it shrink?)", src_.path, a,
			     src_.size);
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
			fail("{} ({} bytes, {}) is smaller than {} ({} "
			     "bytes, {}); refusing to copy", dst_.path,
			     dst_.size,
			     human_size(dst_.size).c_str(), src_.path,
			     src_.size,
			     human_size(src_.size).c_str());
		int lbs;
		if (ioctl(dst_.fd, BLKSSZGET, &lbs) == 0 && lbs > 0)
			lbs_ = lbs;
		return;
	}
	// Drop the old contents so that the whole file is one hole.
	touched_ = true;
	if (ftruncate(dst_.fd, 0) < 0 || ftruncate(dst_.fd, src_.size) < 0)
		fail("{}: truncate to {} bytes: {}", dst_.path,
		     src_.size, strerror(errno));
}

// Say once that SRC is read whole.
static void reading_all(const File &src)
{
	utils::print(stderr, "holecopy: {}: {}; reading every byte\n", src.path,
		     src.blk() ? "this kernel does not support SEEK_DATA/SEEK_HOLE "
			         "on block devices"
			       : "SEEK_DATA/SEEK_HOLE not supported");
}

void Copy::run()
{
	prepare_dst();
	posix_fadvise(src_.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	open_direct_src();

	Extents extents(src_, src_.size, src_seek_, &src_calls_);
	for (int64_t off = 0; off < src_.size;) {
		seekmap::Extent e =
			extents.next(off, opt_.quiet ? nullptr : reading_all);
		hole(off, e.start);
		if (e.start < e.end)
			copy_data(e.start, e.end);
		off = e.end;
	}
	src_seek_ = extents.seeking();
	if (fsync(dst_.fd) < 0)
		fail("{}: fsync: {}", dst_.path, strerror(errno));
	complete_ = true;
	end_progress();
}

} // namespace holecopy
