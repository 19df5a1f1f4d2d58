// SPDX-License-Identifier: GPL-2.0
// What a map walker checks. A target is a device node that walkers walk
// as a whole; its stable regions are byte ranges that no worker changes,
// with their ground truth (from how the run built them, never from the
// kernel's answers). On every walk, in every stable region, the map must
// equal the truth, and every hole reported there must read back as zeros
// (O_DIRECT pread of the device). Everywhere, every answer must be
// well-formed: an offset in [off, size] with the file position following
// it, or ENXIO where the semantics allow it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "sys.h"

namespace stress {

using Rng = std::mt19937_64;

// Run-wide counters.
struct Counts {
	std::atomic<uint64_t> walks{0};      // complete walks
	std::atomic<uint64_t> checked{0};    // walks whose stable regions were checked
	std::atomic<uint64_t> torn{0};       // walks overlapping a teardown: not judged
	std::atomic<uint64_t> skipped{0};    // device absent when a walker came
	std::atomic<uint64_t> operations{0}; // reconfigurations, writes, ...
	std::atomic<uint64_t> holes_read{0}; // hole ranges read back
	std::atomic<uint64_t> bytes_read{0};
	std::atomic<uint64_t> wrong{0};      // wrong answers
	std::atomic<uint64_t> conservative{0}; // judged walks with data over a hole of the truth (allowed)
	std::atomic<uint64_t> errors{0};     // failures of the run itself
};
extern Counts counts;

// Print a wrong answer (the first few in full) and count it.
void wrong_answer(const std::string &what);
// Print a failure of the run itself (not of the kernel's answers).
void run_error(const std::string &what);

struct Region {
	int64_t start, end;
};

struct Target {
	Target(std::string label_, std::string node_, std::vector<Region> stable_,
	       ExtentMap truth_)
		: label(std::move(label_)), stable(std::move(stable_)),
		  truth(seekmap::normalize(truth_)), path_(std::move(node_)) {}

	std::string label;
	std::vector<Region> stable; // sorted, disjoint
	ExtentMap truth;            // authoritative inside @stable only
	// The device's size never changes while it is bound.
	bool fixed_size = true;
	// The node may be absent or a different device for a moment (it is
	// removed and created again, or its partitions come and go).
	bool may_vanish = false;
	// If set, the dm name the node must have (checked after the open).
	std::string dm_name;
	// Seqlock of a device that is torn down and bound again: odd while
	// it changes. A walk that saw it change is not judged.
	std::atomic<uint64_t> *generation = nullptr;
	// A provider that only tries its locks may report data where it
	// could not look (zram: a slot a reader holds locked). In stable
	// regions, data over a hole of the truth is then allowed in pieces of
	// up to @spare_data bytes each (a hole over data never is), and of any
	// length on a walk that overlapped an operation holding such a lock
	// for long (@busy, a seqlock as @generation: zram writeback and
	// recompression hold dev_lock for writing).
	int64_t spare_data = 0;
	std::atomic<uint64_t> *busy = nullptr;
	// During @busy, a query may fail with EIO (an injected medium error).
	bool eio_when_busy = false;
	// Set while the device is going away: walkers stay off it.
	std::atomic<bool> dying{false};
	// The walkers of this target (for the summary).
	std::atomic<uint64_t> walks{0}, judged{0}, walk_ms{0};

	std::string node() const;
	void set_node(const std::string &p);

private:
	mutable std::mutex mu_;
	std::string path_;
};

// The targets walkers pick from; scenarios add and remove theirs.
class Registry {
public:
	void add(std::shared_ptr<Target> t);
	void remove(const Target *t);
	std::shared_ptr<Target> pick(Rng &rng);
	std::vector<std::shared_ptr<Target>> all();

private:
	std::mutex mu_;
	std::vector<std::shared_ptr<Target>> targets_;
	std::vector<std::shared_ptr<Target>> retired_; // for the summary
	friend void print_targets(Registry &);
};
void print_targets(Registry &r);

// Self-checks: make one walk's check fail on purpose, to show that it can.
enum class SelfCheck { none, map, readback };
void arm_self_check(SelfCheck kind, const std::string &label);

// A per-thread walker with its own aligned read-back buffer.
class Walker {
public:
	explicit Walker(uint64_t seed);
	~Walker();
	// Open @t's node, walk the whole device, check, close.
	void walk(Target &t);
	// A walk in a quiet moment: the whole map must equal @expected
	// (which covers the whole device) and all its holes read back zero.
	void walk_exact(const std::string &label, const std::string &node,
			const ExtentMap &expected);

private:
	struct Result;
	void walk_fd(int fd, int64_t size, bool fixed_size, Result &res);
	void read_back(int fd, const Target *t, const std::string &label,
		       int64_t start, int64_t end, std::vector<std::string> &bad);

	Rng rng_;
	unsigned char *buf_ = nullptr;
};


// @map restricted to @regions (offsets unchanged).
ExtentMap restrict(const ExtentMap &map, const std::vector<Region> &regions);
// @map shifted by @delta.
ExtentMap shift(const ExtentMap &map, int64_t delta);
// Union of two maps.
ExtentMap unite(ExtentMap a, const ExtentMap &b);
// What of @a is not in @b.
ExtentMap subtract(const ExtentMap &a, const ExtentMap &b);

} // namespace stress
