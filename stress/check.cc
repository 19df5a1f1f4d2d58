// SPDX-License-Identifier: GPL-2.0
#include "check.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <map>
#include <sstream>
#include <sys/ioctl.h>
#include <thread>
#include <unistd.h>

namespace stress {

Counts counts;

static std::mutex print_mu;
static constexpr uint64_t kPrintedWrong = 20;

void wrong_answer(const std::string &what)
{
	uint64_t n = ++counts.wrong;
	std::lock_guard<std::mutex> l(print_mu);
	if (n <= kPrintedWrong)
		fprintf(stderr, "stress: WRONG ANSWER: %s\n", what.c_str());
	else if (n == kPrintedWrong + 1)
		fprintf(stderr, "stress: (further wrong answers only counted)\n");
}

void run_error(const std::string &what)
{
	++counts.errors;
	std::lock_guard<std::mutex> l(print_mu);
	fprintf(stderr, "stress: ERROR: %s\n", what.c_str());
}

std::string Target::node() const
{
	std::lock_guard<std::mutex> l(mu_);
	return path_;
}

void Target::set_node(const std::string &p)
{
	std::lock_guard<std::mutex> l(mu_);
	path_ = p;
}

void Registry::add(std::shared_ptr<Target> t)
{
	std::lock_guard<std::mutex> l(mu_);
	targets_.push_back(std::move(t));
}

void Registry::remove(const Target *t)
{
	std::lock_guard<std::mutex> l(mu_);
	for (auto it = targets_.begin(); it != targets_.end(); ++it)
		if (it->get() == t) {
			retired_.push_back(*it);
			targets_.erase(it);
			return;
		}
}

std::shared_ptr<Target> Registry::pick(Rng &rng)
{
	std::lock_guard<std::mutex> l(mu_);
	if (targets_.empty())
		return nullptr;
	return targets_[rng() % targets_.size()];
}

std::vector<std::shared_ptr<Target>> Registry::all()
{
	std::lock_guard<std::mutex> l(mu_);
	return targets_;
}

void print_targets(Registry &r)
{
	std::lock_guard<std::mutex> l(r.mu_);
	struct Sum {
		uint64_t walks = 0, judged = 0, ms = 0, devices = 0;
	};
	std::map<std::string, Sum> by_label;
	std::vector<std::string> order;
	for (auto *v : {&r.targets_, &r.retired_})
		for (auto &t : *v) {
			if (!by_label.count(t->label))
				order.push_back(t->label);
			Sum &s = by_label[t->label];
			s.walks += t->walks;
			s.judged += t->judged;
			s.ms += t->walk_ms;
			s.devices++;
		}
	for (const std::string &label : order) {
		const Sum &s = by_label[label];
		printf("stress:   %-16s %3llu device%s, walks %5llu, judged %5llu, "
		       "%6.2f s per walk\n", label.c_str(),
		       (unsigned long long)s.devices, s.devices == 1 ? " " : "s",
		       (unsigned long long)s.walks, (unsigned long long)s.judged,
		       s.walks ? s.ms / 1000.0 / s.walks : 0.0);
	}
}

// Self-checks: the first judged walk of each target labelled as armed
// gets a corrupted check, once.
static std::mutex self_check_mu;
static std::map<std::string, SelfCheck> self_checks;

void arm_self_check(SelfCheck kind, const std::string &label)
{
	std::lock_guard<std::mutex> l(self_check_mu);
	self_checks[label] = kind;
}

static bool take_self_check(SelfCheck kind, const std::string &label)
{
	std::lock_guard<std::mutex> l(self_check_mu);
	auto it = self_checks.find(label);
	if (it == self_checks.end() || it->second != kind)
		return false;
	self_checks.erase(it);
	return true;
}

ExtentMap restrict(const ExtentMap &map, const std::vector<Region> &regions)
{
	ExtentMap out;
	for (const Region &r : regions)
		for (const Extent &e : map) {
			int64_t s = std::max(e.start, r.start);
			int64_t t = std::min(e.end, r.end);
			if (s < t)
				out.push_back({s, t});
		}
	return seekmap::normalize(out);
}

ExtentMap shift(const ExtentMap &map, int64_t delta)
{
	ExtentMap out;
	for (const Extent &e : map)
		out.push_back({e.start + delta, e.end + delta});
	return out;
}

ExtentMap unite(ExtentMap a, const ExtentMap &b)
{
	a.insert(a.end(), b.begin(), b.end());
	return seekmap::normalize(a);
}

ExtentMap subtract(const ExtentMap &a, const ExtentMap &b)
{
	ExtentMap out;
	const ExtentMap nb = seekmap::normalize(b);
	for (const Extent &e : seekmap::normalize(a)) {
		int64_t pos = e.start;
		for (const Extent &x : nb) {
			if (x.end <= pos || x.start >= e.end)
				continue;
			if (x.start > pos)
				out.push_back({pos, x.start});
			pos = std::max(pos, x.end);
		}
		if (pos < e.end)
			out.push_back({pos, e.end});
	}
	return seekmap::normalize(out);
}

static std::string errno_name(int64_t r)
{
	return "errno " + std::to_string(-r) + " (" +
	       strerror(static_cast<int>(-r)) + ")";
}

static std::string region_str(const Region &r)
{
	return "[" + std::to_string(r.start) + "," + std::to_string(r.end) +
	       ")";
}

static constexpr size_t kBuf = 1 << 20;

Walker::Walker(uint64_t seed) : rng_(seed)
{
	if (posix_memalign(reinterpret_cast<void **>(&buf_), 4096, kBuf))
		throw std::bad_alloc();
}

Walker::~Walker()
{
	free(buf_);
}

struct Walker::Result {
	ExtentMap map;
	int64_t known_to = 0; // the map is complete in [0, known_to)
	std::string bad;      // a malformed answer: wrong whatever happened
	bool bad_always = false; // ... even on a device being torn down
	std::string error;    // what stopped the walk before the end
	// SEEK_DATA(first) = second, then SEEK_HOLE(second) = second.
	std::vector<std::pair<int64_t, int64_t>> flips;
	uint64_t calls = 0;
};

void Walker::walk_fd(int fd, int64_t size, bool fixed_size, Result &r)
{
	auto follows = [&](int64_t v) {
		int64_t pos = seekmap::seek(fd, 0, SEEK_CUR);
		if (pos == v)
			return true;
		r.bad = "file position " + std::to_string(pos) +
			" after an answer of " + std::to_string(v);
		r.bad_always = true;
		return false;
	};
	int64_t off = 0;
	while (off < size) {
		int64_t d = seekmap::seek(fd, off, SEEK_DATA);
		r.calls++;
		if (d == -ENXIO) {
			r.known_to = size;
			return;
		}
		if (d < 0) {
			r.error = "SEEK_DATA(" + std::to_string(off) +
				  ") gave " + errno_name(d);
			r.known_to = off;
			return;
		}
		if (d < off || (fixed_size && d >= size)) {
			r.bad = "SEEK_DATA(" + std::to_string(off) + ") = " +
				std::to_string(d) + " on size " +
				std::to_string(size);
			r.bad_always = d < off;
			r.known_to = off;
			return;
		}
		if (!follows(d)) {
			r.known_to = off;
			return;
		}
		if (d >= size) { // the device grew: nothing more of ours
			r.known_to = size;
			return;
		}
		int64_t h = seekmap::seek(fd, d, SEEK_HOLE);
		r.calls++;
		if (h < 0) {
			r.error = "SEEK_HOLE(" + std::to_string(d) + ") gave " +
				  errno_name(h) + " after SEEK_DATA(" +
				  std::to_string(off) + ") = " +
				  std::to_string(d);
			r.known_to = d;
			return;
		}
		if (h < d || (fixed_size && h > size)) {
			r.bad = "SEEK_HOLE(" + std::to_string(d) + ") = " +
				std::to_string(h) + " on size " +
				std::to_string(size);
			r.bad_always = h < d;
			r.known_to = d;
			return;
		}
		if (!follows(h)) {
			r.known_to = d;
			return;
		}
		if (h == d) {
			// Data at d, then a hole at d: the map changed in
			// between. Fine where a worker changes it; go on.
			r.flips.push_back({off, d});
			if (r.flips.size() > 1000) {
				r.error = "the map at " + std::to_string(d) +
					  " changed 1000 times in one walk";
				r.known_to = d;
				return;
			}
			off = d;
			continue;
		}
		r.map.push_back({d, std::min(h, size)});
		off = h;
	}
	r.known_to = size;
}

// Read [start, end) of @fd and note the first non-zero byte in @bad. Of a
// hole longer than 16 KiB, 4 KiB at each end and two random 4 KiB samples
// are read: the ends are where an off-by-one shows, and a whole extent
// missing from the map is the map comparison's to see. (Under TCG with
// KASAN reading costs far more than walking.)
void Walker::read_back(int fd, const Target *, const std::string &label,
		       int64_t start, int64_t end, std::vector<std::string> &bad)
{
	// O_DIRECT: whole logical blocks only (every hole here is aligned
	// so; zram's blocks are pages).
	int lbs = Sector;
	if (ioctl(fd, BLKSSZGET, &lbs) || lbs < Sector)
		lbs = Sector;
	const int64_t bs = lbs;
	start = (start + bs - 1) / bs * bs;
	end = end / bs * bs;
	if (start >= end)
		return;
	std::vector<std::pair<int64_t, int64_t>> pieces;
	const int64_t whole = 16 * KiB, edge = 4 * KiB, sample = 4 * KiB;
	if (end - start <= whole) {
		pieces.push_back({start, end});
	} else {
		pieces.push_back({start, start + edge});
		pieces.push_back({end - edge, end});
		for (int i = 0; i < 2; i++) {
			int64_t room = (end - start - sample) / bs;
			int64_t s = start + int64_t(rng_() % (room + 1)) * bs;
			pieces.push_back({s, s + sample});
		}
	}
	counts.holes_read++;
	for (auto [pos, stop] : pieces) {
		while (pos < stop) {
			size_t n = std::min<int64_t>(stop - pos, kBuf);
			ssize_t r = pread(fd, buf_, n, pos);
			if (r <= 0) {
				bad.push_back(label + ": reading back the hole at " +
					      std::to_string(pos) + " gave " +
					      (r < 0 ? errno_name(-errno)
						     : std::string("end of file")));
				return;
			}
			counts.bytes_read += r;
			const unsigned char *nz = std::find_if(
				buf_, buf_ + r, [](unsigned char c) { return c; });
			if (nz != buf_ + r) {
				bad.push_back(label + ": reported hole [" +
					      std::to_string(start) + "," +
					      std::to_string(end) +
					      ") holds data at byte " +
					      std::to_string(pos + (nz - buf_)));
				return;
			}
			pos += r;
		}
	}
}

void Walker::walk(Target &t)
{
	if (t.dying)
		return;
	uint64_t g1 = t.generation ? t.generation->load() : 0;
	if (g1 & 1) {
		counts.skipped++;
		// Not a busy loop where this is the only device.
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
		return;
	}
	const uint64_t b1 = t.busy ? t.busy->load() : 0;
	std::string node = t.node();
	const auto began = std::chrono::steady_clock::now();
	UniqueFd fd(open(node.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
	if (fd.get() < 0) {
		int e = errno;
		if (t.may_vanish || t.dying ||
		    (t.generation && t.generation->load() != g1)) {
			counts.skipped++;
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
			return;
		}
		run_error(t.label + ": cannot open " + node + ": " +
			  strerror(e));
		return;
	}
	if (!t.dm_name.empty() && dm_name_of(fd.get()) != t.dm_name) {
		counts.skipped++; // the node is stale: another device now
		return;
	}
	int64_t size = size_or_errno(fd.get());
	if (size < 0) {
		run_error(t.label + ": size of " + node + ": " +
			  errno_name(size));
		return;
	}
	Result r;
	walk_fd(fd.get(), size, t.fixed_size, r);

	// Read back the holes reported in the stable regions.
	const bool corrupt_readback =
		take_self_check(SelfCheck::readback, t.label);
	bool corrupted = false;
	std::vector<std::string> unreadable;
	for (const Region &reg : t.stable) {
		int64_t end = std::min({reg.end, r.known_to, size});
		ExtentMap data = restrict(r.map, {{reg.start, end}});
		if (corrupt_readback && !corrupted && !data.empty()) {
			// Self-check: read a data extent as if it were a hole.
			read_back(fd.get(), &t, t.label + " (self-check)",
				  data[0].start, data[0].end, unreadable);
			corrupted = true;
		}
		for (const Extent &h : seekmap::holes(data, end))
			if (h.end > reg.start)
				read_back(fd.get(), &t, t.label,
					  std::max(h.start, reg.start), h.end,
					  unreadable);
	}
	if (corrupt_readback && !corrupted)
		arm_self_check(SelfCheck::readback, t.label); // next walk

	const bool judged = !t.generation || t.generation->load() == g1;
	// Data over holes of any length is allowed on a walk that overlapped
	// a long holder of a lock the provider only tries.
	const bool busy = t.busy && ((b1 & 1) || t.busy->load() != b1);
	fd.reset();
	counts.walks++;
	t.walks++;
	t.walk_ms += std::chrono::duration_cast<std::chrono::milliseconds>(
			     std::chrono::steady_clock::now() - began).count();
	if (!r.bad.empty() && (judged || r.bad_always))
		wrong_answer(t.label + " (" + node + "): malformed answer: " +
			     r.bad);
	if (!judged) {
		counts.torn++;
		return;
	}
	counts.checked++;
	t.judged++;
	for (const std::string &u : unreadable)
		wrong_answer(u);
	if (!r.error.empty()) {
		// An errno (or a contradiction) before the end: never right on
		// a device of fixed size; on one that shrinks, fine only past
		// its stable regions, which it never shrinks below.
		bool before_stable = false;
		for (const Region &reg : t.stable)
			before_stable |= r.known_to < reg.end;
		const bool eio_ok = t.eio_when_busy && busy &&
				    r.error.find("(" + std::string(strerror(EIO)) + ")") !=
					    std::string::npos;
		if ((t.fixed_size || before_stable) && !eio_ok)
			wrong_answer(t.label + " (" + node + "): " + r.error);
	}
	for (auto [off, d] : r.flips)
		for (const Region &reg : t.stable)
			if (d >= reg.start && d < reg.end &&
			    // Where data may be reported over a hole, a
			    // flip is wrong only over data of the truth.
			    (!(t.spare_data || busy) ||
			     !restrict(t.truth, {{d, d + 1}}).empty()))
				wrong_answer(t.label + " (" + node + "): SEEK_DATA(" +
					     std::to_string(off) + ") = " + std::to_string(d) +
					     " but SEEK_HOLE(" + std::to_string(d) + ") = " +
					     std::to_string(d) + " in stable region " +
					     region_str(reg));
	// Not on a walk where data over holes is allowed: the corruption
	// could be right there.
	const bool corrupt_map = !busy && take_self_check(SelfCheck::map, t.label);
	bool conservative = false;
	for (const Region &reg : t.stable) {
		if (size < reg.end) {
			wrong_answer(t.label + ": size " + std::to_string(size) +
				     " ends inside stable region " +
				     region_str(reg));
			continue;
		}
		if (r.known_to < reg.end)
			continue; // the errno above
		ExtentMap got = restrict(r.map, {reg});
		ExtentMap want = restrict(t.truth, {reg});
		if (corrupt_map && &reg == &t.stable.front()) {
			// Self-check: pretend the truth has 4 KiB of data in
			// the region's first hole.
			ExtentMap hs = restrict(seekmap::holes(want, reg.end),
						{reg});
			if (!hs.empty())
				want = unite(want, {{hs[0].start,
						     std::min(hs[0].end,
							      hs[0].start + 4 * KiB)}});
		}
		if (got != want && (t.spare_data || busy)) {
			// A hole over data is wrong; data over a hole only
			// in pieces longer than the provider may report.
			ExtentMap missing = subtract(want, got);
			ExtentMap extra = subtract(got, want);
			bool ok = missing.empty();
			for (const Extent &e : extra)
				ok &= busy || e.length() <= t.spare_data;
			if (ok) {
				conservative = true;
				continue;
			}
		}
		if (got != want)
			wrong_answer(t.label + " (" + node + "): map of stable region " +
				     region_str(reg) + "\n  got      " +
				     seekmap::to_string(got) + "\n  expected " +
				     seekmap::to_string(want));
	}
	if (conservative)
		counts.conservative++;
}

void Walker::walk_exact(const std::string &label, const std::string &node,
			const ExtentMap &expected)
{
	UniqueFd fd(open(node.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
	if (fd.get() < 0) {
		run_error(label + ": cannot open " + node + ": " +
			  strerror(errno));
		return;
	}
	int64_t size = size_or_errno(fd.get());
	if (size < 0) {
		run_error(label + ": size of " + node);
		return;
	}
	Result r;
	walk_fd(fd.get(), size, true, r);
	std::vector<std::string> unreadable;
	for (const Extent &h : seekmap::holes(r.map, r.known_to))
		read_back(fd.get(), nullptr, label, h.start, h.end, unreadable);
	counts.walks++;
	counts.checked++;
	for (const std::string &u : unreadable)
		wrong_answer(u + " (quiet)");
	if (!r.bad.empty())
		wrong_answer(label + " (quiet): malformed answer: " + r.bad);
	if (!r.error.empty())
		wrong_answer(label + " (quiet): " + r.error);
	if (!r.flips.empty())
		wrong_answer(label + " (quiet): SEEK_HOLE(" +
			     std::to_string(r.flips[0].second) +
			     ") contradicts SEEK_DATA(" +
			     std::to_string(r.flips[0].first) + ")");
	ExtentMap want = seekmap::window(expected, 0, size);
	if (r.map != want)
		wrong_answer(label + " (" + node + ", quiet): whole map\n  got      " +
			     seekmap::to_string(r.map) + "\n  expected " +
			     seekmap::to_string(want));
}

} // namespace stress
