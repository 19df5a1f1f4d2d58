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
		utils::print(stderr, "holecopy: out of memory\n");
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
	long t = static_cast<long>(s + 0.5);
	if (t >= 3600)
		return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60,
				   t % 60);
	return fmt::format("{}:{:02}", t / 60, t % 60);
}

void Copy::progress(bool force)
{
	if (opt_.progress_fd >= 0) {
		// As nbdcopy --progress=FD: "N/100\n" whenever N changes.
		int pct = src_.size ? static_cast<int>(100.0 * done_ / src_.size)
				    : 100;
		if (pct != last_pct_) {
			std::string line = fmt::format("{}/100\n", pct);
			if (write(opt_.progress_fd, line.data(), line.size()) ==
			    ssize_t(line.size()))
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
	int pct = src_.size ? static_cast<int>(100.0 * done_ / src_.size) : 100;
	std::string data;
	if (!strcmp(phase_, "copy"))
		data = fmt::format(", data {} copied", human_size(copied_));
	// The ETA assumes the rest goes at the pace so far (holes and data
	// mixed as until now).
	std::string eta = "--:--";
	if (done_ > 0 && t > 0.5 && done_ < src_.size)
		eta = clock_time(t * (src_.size - done_) / done_);
	else if (done_ >= src_.size)
		eta = "0:00";
	std::string line = fmt::format(
		"{} {} / {} ({}%){}, {}/s, ETA {}", phase_, human_size(done_),
		human_size(src_.size), pct, data,
		human_size(t > 0 ? static_cast<int64_t>(done_ / t) : 0), eta);
	// Blanks over the rest of a longer line drawn before.
	utils::print(stderr, "\r{}{:{}}", line, "",
		     drawn_ > line.size() ? drawn_ - line.size() : 0);
	drawn_ = line.size();
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
	std::string zeros;
	if (zero_data_)
		zeros = fmt::format(" ({} bytes of it zeros, not copied)",
				    zero_data_);
	std::string calls;
	if (dst_calls_)
		calls = fmt::format(" ({} on {})", dst_calls_, dst_.path);
	utils::print(stderr, "holecopy: {} -> {}: {} bytes data ({}){}, {} "
		     "bytes holes ({}), {} data extents, {} lseek calls{}, "
		     "{:.2f} s\n",
		     src_.path, dst_.path, data_, human_size(data_), zeros,
		     holes_, human_size(holes_), extents_,
		     src_calls_ + dst_calls_, calls, elapsed());
	if (dst_.blk() && dst_.size > src_.size)
		utils::print(stderr, "holecopy: {} is larger than {}: bytes from "
			     "offset {} on were left as they were\n", dst_.path,
			     src_.path, src_.size);
}

void Copy::incomplete()
{
	end_progress();
	if (touched_ && !complete_)
		utils::print(stderr, "holecopy: {} is INCOMPLETE: only its first "
			     "{} of {} bytes ({} of {}) were copied, and nothing "
			     "was synced; do not use it\n", dst_.path, done_,
			     src_.size, human_size(done_), human_size(src_.size));
}
} // namespace holecopy
