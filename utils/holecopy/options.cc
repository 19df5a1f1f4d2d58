// SPDX-License-Identifier: GPL-2.0
// holecopy's command line.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <vector>

#include "holecopy.h"
#include "utils/cli.h"

namespace holecopy {

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

// A bad --progress=FD, said without the short usage.
struct BadFd : cli::Usage {
	using cli::Usage::Usage;
};

// The FD of --progress=FD: a number, and open.
static int progress_fd(const std::string &arg)
{
	try {
		int fd = int(cli::number("--progress", arg, 0, INT_MAX));
		if (fcntl(fd, F_GETFL) >= 0)
			return fd;
	} catch (const cli::Usage &) {
	}
	throw BadFd(fmt::format("--progress={}: not an open file descriptor",
				arg));
}

static const char short_usage[] =
	"usage: holecopy [--verify|--verify-only] [--destination-is-zero]\n"
	"                [--copy-range] [--progress[=FD]] [--quiet] SRC DST"
	"   (--help for more)\n";

int parse_options(int argc, char **argv, Options *opt)
{
	std::vector<std::string> files;
	try {
		cli::Parser("holecopy")
			.flag("verify", [&] { opt->verify = true; })
			.flag("verify-only", [&] { opt->verify_only = true; })
			// The name nbdcopy uses, and those of earlier versions.
			.flag("destination-is-zero,dst-is-zeroed,no-zero-holes",
			      [&] { opt->dst_zeroed = true; })
			.flag("copy-range", [&] { opt->copy_range = true; })
			.flag("no-copy-range", [&] { opt->copy_range = false; })
			// --progress=FD only: "--progress SRC DST" keeps SRC.
			.optional("progress", [&](const std::string *fd) {
				opt->progress = true;
				if (fd)
					opt->progress_fd = progress_fd(*fd);
			})
			.flag("q,quiet", [&] { opt->quiet = true; })
			.flag("h,help", [] { throw cli::Help(); })
			.parse(argc, argv).swap(files);
	} catch (const cli::Help &) {
		fputs(usage, stdout);
		exit(0);
	} catch (const BadFd &e) {
		utils::print(stderr, "holecopy: {}\n", e.what());
		return 2;
	} catch (const cli::Usage &e) {
		utils::print(stderr, "holecopy: {}\n{}", e.what(), short_usage);
		return 2;
	}
	if (files.size() != 2) {
		utils::print(stderr, "holecopy: expected SRC and DST\n{}",
			     short_usage);
		return 2;
	}
	opt->src = files[0];
	opt->dst = files[1];
	return 0;
}

} // namespace holecopy
