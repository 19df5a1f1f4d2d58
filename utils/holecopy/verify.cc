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

// Read [a, b) of DST and check it against SRC's bytes, read into @src, or
// against zeros when @src is null: false, after saying where, at the first
// byte that differs.
bool Copy::check_dst(int64_t a, int64_t b, char *src)
{
	for (int64_t p = a; p < b;) {
		int64_t n = std::min(b - p, buf_size - p % buf_size);
		const char *want = zeros_;
		read_full(dst_, buf_, n, p);
		if (src) {
			read_full(src_, src, n, p);
			want = src;
			copied_ += n;
		} else {
			dst_read_ += n;
		}
		if (memcmp(buf_, want, n)) {
			int64_t i = 0;
			while (buf_[i] == want[i])
				i++;
			utils::print(stderr, "holecopy: verify: {} and {} differ "
				     "at byte {}\n", src_.path, dst_.path, p + i);
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
	if (!each_dst_data(a, b, [this](int64_t s, int64_t t) {
		    return check_dst(s, t, nullptr);
	    }))
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
		utils::print(stderr, "holecopy: verify: {} has {} bytes, {} has "
			     "{}\n", dst_.path, dst_.size, src_.path, size);
		same = false;
	} else if (dst_.size < size) {
		utils::print(stderr, "holecopy: verify: {} ({} bytes) is smaller "
			     "than {} ({} bytes)\n", dst_.path, dst_.size,
			     src_.path, size);
		same = false;
	}
	size = std::min(size, dst_.size);
	Extents extents(src_, size, src_seek_, &src_calls_);
	for (int64_t off = 0; off < size;) {
		seekmap::Extent e = extents.next(off);
		if (!dst_zero(off, e.start) ||
		    !check_dst(e.start, e.end, other.get())) {
			same = false;
			break;
		}
		off = std::max(e.end, off + 1);
	}
	end_progress();
	if (same && !opt_.quiet)
		utils::print(stderr, "holecopy: verify: {} matches {} ({} bytes; "
			     "read {} of data from both, {} of {} in the holes "
			     "of {})\n", dst_.path, src_.path, size,
			     human_size(copied_), human_size(dst_read_),
			     dst_.path, src_.path);
	return same;
}

} // namespace holecopy
