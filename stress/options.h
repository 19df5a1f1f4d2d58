// SPDX-License-Identifier: GPL-2.0
// stress's command line (see stress.cc for what the run does).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "check.h"

namespace stress {

struct Options {
	int seconds = 600;		// --seconds, 1 or more
	int walkers = 3;		// --walkers, 1 to max_walkers
	uint64_t seed = 0;		// --seed, else from the time and PID
	std::vector<std::string> scenarios;	// --only, else all
	std::string summary_file;	// --summary: the counts line, errors
	SelfCheck self_check = SelfCheck::none;
	std::vector<std::string> self_check_labels;	// --self-check=KIND:L,...
	bool reboot_on_hang = false;
	std::string scsi_debug_ko;	// --scsi-debug-ko
};

constexpr int max_walkers = 1024;

// The command line into @opt: 0, or 2 after saying what is wrong and the
// usage on stderr. --help prints the usage and exits 0.
int parse_options(int argc, char **argv, Options *opt);

} // namespace stress
