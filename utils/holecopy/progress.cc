// SPDX-License-Identifier: GPL-2.0
// holecopy's progress line (or nbdcopy's N/100 lines), its summary and
// what it says of a DST it could not finish.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "holecopy.h"

namespace holecopy {

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
} // namespace holecopy
