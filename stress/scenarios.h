// SPDX-License-Identifier: GPL-2.0
// The devices of the stress run, each with the workers that change it.
// A scenario builds its devices in its constructor (single-threaded),
// hands its targets to the walkers, and tears everything down in its
// destructor, in reverse order, whatever happened.
#pragma once

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "check.h"

namespace stress {

// Set when the run ends (time is up, a signal, or a failure).
extern std::atomic<bool> stop_flag;
// scsi_debug.ko for the scsi-debug scenario (--scsi-debug-ko); without
// it the scenario is skipped.
extern std::string scsi_debug_ko;

// Sleep a random time in [@lo_ms, @hi_ms], waking early when the run ends.
void nap(Rng &rng, int lo_ms, int hi_ms);

class Scenario {
public:
	virtual ~Scenario() = default;
	virtual const char *name() const = 0;
	// How many mutator threads this scenario wants.
	virtual int mutators() const { return 1; }
	// One operation (or a few) of mutator @which; returns how many were
	// done. It must leave the devices usable (nothing left suspended)
	// and throw only on a failure of the run itself.
	virtual int mutate(int which, Rng &rng) = 0;
	// After every worker stopped: the whole maps must be exact now.
	virtual void quiet_check(Walker &w) = 0;

	std::vector<std::shared_ptr<Target>> targets;
};

// All scenarios, or those named in @only (comma-separated).
std::vector<std::string> scenario_names();
// nullptr for a scenario skipped (it says why).
std::unique_ptr<Scenario> make_scenario(const std::string &name,
					Registry &reg, Rng &rng);

} // namespace stress
