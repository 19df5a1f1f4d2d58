// SPDX-License-Identifier: GPL-2.0
// holecopy's command line.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <getopt.h>

#include "holecopy.h"

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

static const char short_usage[] =
	"usage: holecopy [--verify|--verify-only] [--destination-is-zero]\n"
	"                [--copy-range] [--progress[=FD]] [--quiet] SRC DST"
	"   (--help for more)\n";

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

} // namespace holecopy
