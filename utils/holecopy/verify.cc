// SPDX-License-Identifier: GPL-2.0
// holecopy's verify: DST compared with SRC, reading SRC's data extents
// from both and, in SRC's holes, only what DST maps as data.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>

#include "holecopy.h"

namespace holecopy {

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
	Extents extents(src_, size, src_seek_, &src_calls_);
	for (int64_t off = 0; off < size;) {
		seekmap::Extent e = extents.next(off);
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

} // namespace holecopy
