// SPDX-License-Identifier: GPL-2.0
// holecopy's main: options, signals, opening and checking the files, then
// copy and verify, and the exit status.
#include <csignal>
#include <cstdio>
#include <cstring>

#include "holecopy.h"

namespace holecopy {

volatile sig_atomic_t interrupted;

void on_signal(int sig)
{
	interrupted = sig;
}

void check_interrupted()
{
	if (interrupted)
		fail("interrupted by signal {} ({})", interrupted,
		     strsignal(interrupted));
}

} // namespace holecopy

using namespace holecopy;

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
	src.path = opt.src.c_str();
	dst.path = opt.dst.c_str();
	try {
		open_src(src);
		open_dst(dst, opt.verify_only, src.st.st_mode);
		check_distinct(src, dst);
		if (!opt.verify_only && !dst.blk())
			check_not_backing(dst);
	} catch (const Error &e) {
		utils::print(stderr, "holecopy: {}\n", e.what());
		return trouble;
	}

	Copy copy(opt, src, dst);
	try {
		if (!opt.verify_only) {
			copy.run();
			copy.summary();
		}
		if ((opt.verify || opt.verify_only) && !copy.verify()) {
			utils::print(stderr, "holecopy: {} does not match {}\n",
				     dst.path, src.path);
			return 1;
		}
	} catch (const Error &e) {
		copy.end_progress();
		utils::print(stderr, "holecopy: {}\n", e.what());
		if (!opt.verify_only)
			copy.incomplete();
		// Stopped by a signal: say so in the status, as a shell does.
		return interrupted ? 128 + interrupted : trouble;
	}
	return 0;
}

