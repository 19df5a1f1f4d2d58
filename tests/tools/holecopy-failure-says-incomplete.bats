#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-failure-says-incomplete" {
	# RLIMIT_FSIZE makes extending DST fail with EFBIG (SIGXFSZ ignored).
	mkimg src 4M 1M:1M
	expect_rc 1 bash -c "trap '' XFSZ; ulimit -f 1024; exec \"\$0\" src dst" \
		"$HOLECOPY"
	err_has "dst is INCOMPLETE"
}
