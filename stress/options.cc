// SPDX-License-Identifier: GPL-2.0
// stress's command line: every value checked (a number, in range, with
// nothing after it; a scenario that exists; a self-check kind), a usage
// error said in one line, then the usage, exit status 2.
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <unistd.h>

#include "options.h"
#include "scenarios.h"
#include "utils/print.h"
#include "utils/cli.h"

namespace stress {

namespace {

std::string usage()
{
	std::string u =
		"usage: stress [--seconds=S] [--walkers=N] [--seed=N]\n"
		"              [--only=SCENARIO,...] [--summary=FILE]\n"
		"              [--self-check=map|readback[:LABEL,...]] [--reboot-on-hang]\n"
		"              [--scsi-debug-ko=PATH] [--help]\n"
		"scenarios:";
	for (const std::string &n : scenario_names())
		u += " " + n;
	return u + "\n";
}

// @list split at commas; an empty element is an error of @what.
std::vector<std::string> split(const std::string &what, const std::string &list)
{
	std::vector<std::string> v;
	for (size_t i = 0; i <= list.size();) {
		size_t j = std::min(list.find(',', i), list.size());
		if (j == i)
			throw cli::Usage(what + ": an empty name in the list");
		v.push_back(list.substr(i, j - i));
		i = j + 1;
	}
	return v;
}

// --only=SCENARIO,...: names of scenarios; empty for all of them.
std::vector<std::string> scenarios(const std::string &arg)
{
	if (arg.empty())
		return scenario_names();
	std::vector<std::string> names = split("--only=" + arg, arg);
	const std::vector<std::string> all = scenario_names();
	for (const std::string &n : names)
		if (std::find(all.begin(), all.end(), n) == all.end())
			throw cli::Usage(fmt::format("--only: no scenario '{}'", n));
	return names;
}

// --self-check=map|readback[:LABEL,...]
void self_check(const std::string &arg, Options *opt)
{
	size_t colon = arg.find(':');
	std::string kind = arg.substr(0, colon);
	if (kind == "map")
		opt->self_check = SelfCheck::map;
	else if (kind == "readback")
		opt->self_check = SelfCheck::readback;
	else
		throw cli::Usage(fmt::format("--self-check={}: not map or readback",
					     arg));
	opt->self_check_labels.clear();
	// "map:" is "map": the default device.
	if (colon != std::string::npos && colon + 1 < arg.size())
		opt->self_check_labels = split("--self-check=" + arg,
					       arg.substr(colon + 1));
}

} // namespace

int parse_options(int argc, char **argv, Options *opt)
{
	auto number = [](const char *name, int min, int max, int *to) {
		return [=](const std::string &arg) {
			*to = int(cli::number(fmt::format("--{}={}", name, arg),
					      arg, min, max));
		};
	};
	opt->seed = static_cast<uint64_t>(time(nullptr)) ^ getpid();
	opt->scenarios = scenario_names();
	try {
		std::vector<std::string> rest =
			cli::Parser("stress")
				.value("seconds", number("seconds", 1, INT_MAX,
							 &opt->seconds))
				.value("walkers", number("walkers", 1, max_walkers,
							 &opt->walkers))
				// strtoull's base 0, as before: 0x... too.
				.value("seed", [&](const std::string &arg) {
					opt->seed = cli::number("--seed=" + arg, arg, 0,
								UINT64_MAX, 0);
				})
				.value("only", [&](const std::string &arg) {
					opt->scenarios = scenarios(arg);
				})
				.value("summary", [&](const std::string &arg) {
					opt->summary_file = arg;
				})
				.value("self-check", [&](const std::string &arg) {
					self_check(arg, opt);
				})
				.flag("reboot-on-hang",
				      [&] { opt->reboot_on_hang = true; })
				.value("scsi-debug-ko", [&](const std::string &arg) {
					opt->scsi_debug_ko = arg;
				})
				.flag("h,help", [] { throw cli::Help(); })
				.parse(argc, argv);
		if (!rest.empty())
			throw cli::Usage(fmt::format("unexpected argument '{}'",
						     rest[0]));
	} catch (const cli::Help &) {
		utils::print(stdout, "{}", usage());
		exit(0);
	} catch (const cli::Usage &e) {
		utils::print(stderr, "stress: {}\n{}", e.what(), usage());
		return 2;
	}
	return 0;
}

} // namespace stress
