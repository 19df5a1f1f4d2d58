// SPDX-License-Identifier: GPL-2.0
// Scenarios: loop devices (backing file growth and truncation, offset and
// sizelimit changes, LOOP_CHANGE_FD, LOOP_CLR_FD/LOOP_CONFIGURE with and
// without a partition scan), the partitions of a loop device, dm tables of
// linear, stripe and zero targets (reload, suspend, resume, remove and
// create again), and a thin pool with a volume, a volume over an external
// origin and their snapshots (writes, discards, snapshot creation and
// deletion, pool suspends); brd, zram (writeback to a slow device,
// recompression) and memory-backed null_blk (power cycles); dm-snapshot
// (origin and snapshot writes, merges); scsi_debug (injected GET LBA
// STATUS errors and timeouts, disk deletion and rescan).
//
// Ground truth never comes from the device under test: it is the layout
// the scenario wrote (checked once against the tmpfs file's own SEEK map
// at setup), translated through the table or partition layout the
// scenario chose; for thin, the blocks the scenario provisioned (checked
// against thin_dump at setup and used for the quiet check at the end).
#include "scenarios.h"

#include "common/expected.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <glob.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <map>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>

namespace stress {

std::atomic<bool> stop_flag{false};
std::string scsi_debug_ko;

void nap(Rng &rng, int lo_ms, int hi_ms)
{
	int ms = lo_ms + static_cast<int>(rng() % (hi_ms - lo_ms + 1));
	for (; ms > 0 && !stop_flag; ms -= 10)
		std::this_thread::sleep_for(
			std::chrono::milliseconds(std::min(ms, 10)));
}

namespace {

// Uniform in [lo, hi].
int64_t urand(Rng &rng, int64_t lo, int64_t hi)
{
	return lo + static_cast<int64_t>(rng() % uint64_t(hi - lo + 1));
}

// About @n extents of 1..@max_units units inside [begin, end), unit-aligned.
ExtentMap random_extents(Rng &rng, int64_t begin, int64_t end, int n,
			 int64_t unit, int64_t max_units)
{
	ExtentMap m;
	const int64_t units = (end - begin) / unit;
	for (int i = 0; i < n; i++) {
		int64_t len = urand(rng, 1, max_units);
		int64_t first = urand(rng, 0, std::max<int64_t>(units - len, 0));
		m.push_back({begin + first * unit,
			     std::min(end, begin + (first + len) * unit)});
	}
	return seekmap::normalize(m);
}

void write_layout(SparseFile &f, const ExtentMap &m, uint64_t seed)
{
	for (const Extent &e : m)
		f.write(e.start, e.length(), seed++);
}

void setup_check(bool ok, const std::string &what)
{
	if (!ok)
		throw std::runtime_error("setup: " + what);
}

// The file's own map must be what the scenario wrote.
void expect_file_map(const SparseFile &f, int64_t begin, int64_t end,
		     const ExtentMap &layout)
{
	ExtentMap got = restrict(f.map(), {{begin, end}});
	ExtentMap want = restrict(layout, {{begin, end}});
	setup_check(got == want, f.path() + ": file map " +
				      seekmap::to_string(got) +
				      " is not the layout written " +
				      seekmap::to_string(want));
}

// The map of a loop device at @offset of @f: the file's own map; past
// the file's end (it shrank after binding) reads fail, which is data.
ExtentMap loop_expected(const SparseFile &f, int64_t offset)
{
	const int64_t eof = (f.size() - offset) / Sector * Sector;
	return unite(seekmap::window(f.map(), offset, INT64_MAX / 2),
		     {{std::max<int64_t>(eof, 0), INT64_MAX / 2}});
}

std::shared_ptr<Target> target(const std::string &label,
			       const std::string &node,
			       std::vector<Region> stable, const ExtentMap &truth)
{
	return std::make_shared<Target>(label, node, std::move(stable), truth);
}

std::string sectors(int64_t bytes)
{
	return std::to_string(bytes / Sector);
}

// O_DIRECT write of the run's pattern; @off and @len sector-aligned.
void direct_write(int fd, int64_t off, int64_t len, uint64_t seed)
{
	void *p = nullptr;
	const size_t chunk = std::min<int64_t>(len, 1 * MiB);
	if (posix_memalign(&p, 4096, chunk))
		throw std::bad_alloc();
	std::unique_ptr<void, decltype(&free)> buf(p, free);
	fill_pattern(static_cast<unsigned char *>(p), chunk, seed);
	for (int64_t done = 0; done < len;) {
		size_t n = std::min<int64_t>(chunk, len - done);
		ssize_t w = pwrite(fd, p, n, off + done);
		if (w <= 0)
			fail_errno("O_DIRECT write at " +
				   std::to_string(off + done));
		done += w;
	}
}

// ---------------------------------------------------------------------
// A loop device whose backing file grows (then LOOP_SET_CAPACITY) and is
// truncated, never below its stable first 16 MiB; the tail is written and
// punched.
class LoopGrow : public Scenario {
	static constexpr int64_t kStable = 16 * MiB, kMax = 40 * MiB;

public:
	explicit LoopGrow(Rng &rng) : file_(20 * MiB, "/tmp", "stress-grow")
	{
		ExtentMap layout = random_extents(rng, 0, kStable, 24, 4 * KiB, 128);
		// Data up to the stable end and from there on.
		layout = unite(layout, {{kStable - 8 * KiB, kStable}});
		write_layout(file_, layout, 1000);
		file_.write(kStable, 64 * KiB, 2000);
		expect_file_map(file_, 0, kStable, layout);
		loop_ = std::make_unique<Loop>(file_.path(), LoopOptions{});
		auto t = target("loop-grow", loop_->path(), {{0, kStable}}, layout);
		t->fixed_size = false;
		targets.push_back(t);
	}
	const char *name() const override { return "loop-grow"; }
	int mutate(int, Rng &rng) override
	{
		const int64_t cur = file_.size();
		switch (rng() % 4) {
		case 0: { // grow, maybe to an unaligned size, maybe with data
			int64_t to = std::min(kMax, cur + urand(rng, 1, 2048) * 4 * KiB);
			if (rng() % 3 == 0)
				to += urand(rng, 1, 7) * Sector;
			file_.truncate(to);
			if (rng() % 2 && to - cur >= 4 * KiB) {
				int64_t at = (cur + 4 * KiB - 1) / (4 * KiB) * 4 * KiB;
				if (at < to)
					file_.write(at, std::min<int64_t>(to - at, 256 * KiB), rng());
			}
			set_capacity();
			return 2;
		}
		case 1: { // truncate, not always followed by LOOP_SET_CAPACITY
			file_.truncate(kStable + urand(rng, 0, (cur - kStable) / Sector) * Sector);
			if (rng() % 4)
				set_capacity();
			return 1;
		}
		case 2:
		case 3: {
			if (cur < kStable + 4 * KiB)
				return 0;
			int64_t pages = (cur - kStable) / (4 * KiB);
			if (pages < 1)
				return 0;
			int64_t first = urand(rng, 0, pages - 1);
			int64_t len = urand(rng, 1, std::min<int64_t>(64, pages - first)) * 4 * KiB;
			int64_t at = kStable + first * 4 * KiB;
			if (rng() % 2)
				file_.write(at, len, rng());
			else
				file_.punch(at, len);
			return 1;
		}
		}
		return 0;
	}
	void quiet_check(Walker &w) override
	{
		w.walk_exact("loop-grow", loop_->path(), loop_expected(file_, 0));
	}

private:
	void set_capacity()
	{
		if (ioctl(loop_->fd(), LOOP_SET_CAPACITY, 0))
			fail_errno("LOOP_SET_CAPACITY " + loop_->path());
	}

	SparseFile file_;
	std::unique_ptr<Loop> loop_;
};

// ---------------------------------------------------------------------
// LOOP_SET_STATUS64 changing lo_offset and lo_sizelimit. The backing file
// repeats one layout every megabyte and the offsets are whole periods, so
// the first 16 MiB of the device look the same under every configuration:
// an answer that mixes the old and the new one must still be exact there.
class LoopStatus : public Scenario {
	static constexpr int64_t kPeriod = 1 * MiB, kStable = 16 * kPeriod;

public:
	explicit LoopStatus(Rng &rng) : file_(24 * kPeriod, "/tmp", "stress-status")
	{
		ExtentMap period = random_extents(rng, 0, kPeriod, 5, 4 * KiB, 32);
		ExtentMap layout;
		for (int64_t k = 0; k < 24; k++)
			for (const Extent &e : period)
				layout.push_back({k * kPeriod + e.start, k * kPeriod + e.end});
		layout = seekmap::normalize(layout);
		write_layout(file_, layout, 3000);
		expect_file_map(file_, 0, 24 * kPeriod, layout);
		loop_ = std::make_unique<Loop>(file_.path(), LoopOptions{});
		auto t = target("loop-status", loop_->path(), {{0, kStable}}, layout);
		t->fixed_size = false;
		targets.push_back(t);
	}
	const char *name() const override { return "loop-status"; }
	int mutate(int, Rng &rng) override
	{
		struct loop_info64 info = {};
		if (ioctl(loop_->fd(), LOOP_GET_STATUS64, &info))
			fail_errno("LOOP_GET_STATUS64");
		info.lo_offset = (rng() % 4) * kPeriod;
		switch (rng() % 3) {
		case 0: info.lo_sizelimit = 0; break;
		case 1: info.lo_sizelimit = kStable + urand(rng, 0, 4096) * Sector; break;
		default: info.lo_sizelimit = 20 * kPeriod; break;
		}
		if (ioctl(loop_->fd(), LOOP_SET_STATUS64, &info)) {
			if (errno == EAGAIN || errno == EBUSY)
				return 0;
			fail_errno("LOOP_SET_STATUS64 " + loop_->path());
		}
		return 1;
	}
	void quiet_check(Walker &w) override
	{
		struct loop_info64 info = {};
		if (ioctl(loop_->fd(), LOOP_GET_STATUS64, &info))
			fail_errno("LOOP_GET_STATUS64");
		int64_t off = static_cast<int64_t>(info.lo_offset);
		w.walk_exact("loop-status", loop_->path(), loop_expected(file_, off));
	}

private:
	SparseFile file_;
	std::unique_ptr<Loop> loop_;
};

// ---------------------------------------------------------------------
// LOOP_CHANGE_FD between two files of one size that agree in their first
// half and differ in the second.
class LoopChangeFd : public Scenario {
	static constexpr int64_t kSize = 16 * MiB, kStable = 8 * MiB;

public:
	explicit LoopChangeFd(Rng &rng) : a_(kSize, "/tmp", "stress-changefd-a"), b_(kSize, "/tmp", "stress-changefd-b")
	{
		ExtentMap common = random_extents(rng, 0, kStable, 16, 4 * KiB, 64);
		common = unite(common, {{kStable - 4 * KiB, kStable}});
		write_layout(a_, common, 4000);
		write_layout(b_, common, 4000);
		write_layout(a_, random_extents(rng, kStable, kSize, 8, 4 * KiB, 64), 5000);
		ExtentMap tail_b = random_extents(rng, kStable, kSize, 8, 4 * KiB, 64);
		tail_b = unite(tail_b, {{kStable, kStable + 4 * KiB}});
		write_layout(b_, tail_b, 6000);
		expect_file_map(a_, 0, kStable, common);
		expect_file_map(b_, 0, kStable, common);
		loop_ = std::make_unique<Loop>(a_.path(), LoopOptions{.read_only = true});
		targets.push_back(target("loop-changefd", loop_->path(), {{0, kStable}}, common));
	}
	const char *name() const override { return "loop-changefd"; }
	int mutate(int, Rng &rng) override
	{
		on_b_ = rng() % 4 ? !on_b_ : on_b_; // sometimes the same file again
		UniqueFd f = open_or_throw(on_b_ ? b_.path() : a_.path(), O_RDONLY);
		if (ioctl(loop_->fd(), LOOP_CHANGE_FD, f.get()))
			fail_errno("LOOP_CHANGE_FD " + loop_->path());
		return 1;
	}
	void quiet_check(Walker &w) override
	{
		w.walk_exact("loop-changefd", loop_->path(), (on_b_ ? b_ : a_).map());
	}

private:
	SparseFile a_, b_;
	std::unique_ptr<Loop> loop_;
	bool on_b_ = false;
};

// ---------------------------------------------------------------------
// One loop device cleared (LOOP_CLR_FD) and configured again
// (LOOP_CONFIGURE) over and over, with or without a partition scan of its
// msdos label and with different size limits. Walks that overlap a change
// are not judged (a generation count says which).
class LoopCycle : public Scenario {
	static constexpr int64_t kSize = 16 * MiB, kStable = 15 * MiB;
	static constexpr int64_t kP1 = 1 * MiB, kP1End = 9 * MiB;

public:
	explicit LoopCycle(Rng &rng) : file_(kSize, "/tmp", "stress-cycle")
	{
		common::write_partition_table(file_.path(), common::Label::dos,
					      {{kP1, kP1End - kP1, "83"},
					       {kP1End, 5 * MiB, "83"}});
		ExtentMap layout = random_extents(rng, kP1, kSize, 20, 4 * KiB, 64);
		layout = unite(layout, {{kP1End - 4 * KiB, kP1End + 4 * KiB}});
		write_layout(file_, layout, 7000);
		expect_file_map(file_, kP1, kSize, layout);
		truth_ = file_.map(); // with the label
		backing_ = open_or_throw(file_.path(), O_RDWR);

		UniqueFd ctl = open_or_throw("/dev/loop-control", O_RDWR);
		number_ = ioctl(ctl.get(), LOOP_CTL_GET_FREE);
		if (number_ < 0)
			fail_errno("LOOP_CTL_GET_FREE");
		path_ = "/dev/loop" + std::to_string(number_);
		setup_check(wait_for_node(path_, 2000), path_ + " did not appear");
		configure(LoopOptions{.partscan = true}, 2000);

		auto whole = target("loop-cycle", path_, {{0, kStable}}, truth_);
		whole->fixed_size = false;
		whole->generation = &generation_;
		auto p1 = target("loop-cycle-p1", path_ + "p1", {{0, kP1End - kP1}},
				 seekmap::window(truth_, kP1, kP1End));
		p1->may_vanish = true; // no partitions without the scan
		p1->generation = &generation_;
		targets = {whole, p1};
	}
	~LoopCycle() override
	{
		generation_++;
		if (dev_.get() >= 0) {
			ioctl(dev_.get(), LOOP_CLR_FD);
			dev_.reset();
		}
		for (int i = 0; i < 2000 && loop_bound(number_); i++)
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		if (loop_bound(number_))
			fprintf(stderr, "stress: %s is still bound\n", path_.c_str());
	}
	const char *name() const override { return "loop-cycle"; }
	int mutate(int, Rng &rng) override
	{
		nap(rng, 1000, 5000); // bound for a while: walkers judge it
		if (stop_flag)
			return 0;
		generation_++; // odd: changing
		if (ioctl(dev_.get(), LOOP_CLR_FD))
			fail_errno("LOOP_CLR_FD " + path_);
		LoopOptions o;
		o.partscan = rng() % 2;
		o.read_only = rng() % 4 == 0;
		switch (rng() % 3) {
		case 0: o.sizelimit = 0; break;
		case 1: o.sizelimit = kStable; break;
		default: o.sizelimit = kStable + urand(rng, 1, 2047) * Sector; break;
		}
		{
			// Binding again before the clear took effect (we still
			// hold the device), with the very file it is bound to,
			// fails with EBUSY and must leave the binding alone.
			int r = loop_configure(dev_.get(), bound_fd(), o);
			if (r != -EBUSY) {
				errno = r ? -r : 0;
				fail_errno("LOOP_CONFIGURE of " + path_ +
					   " while its clear is pending " +
					   (r ? "did not fail with EBUSY" : "succeeded"));
			}
		}
		dev_.reset(); // cleared at the last close (ours or a walker's)
		configure(o, 30000);
		generation_++; // even: bound
		return 3;
	}
	void quiet_check(Walker &w) override
	{
		w.walk_exact("loop-cycle", path_, truth_);
		if (opts_.partscan)
			w.walk_exact("loop-cycle-p1", path_ + "p1",
				     seekmap::window(truth_, kP1, kP1End));
	}

private:
	// The descriptor the device may still be bound to, or a new one as
	// losetup opens, in turn.
	int backing_fd(UniqueFd &fresh, const LoopOptions &o)
	{
		if (fresh_fd_ ^= true) {
			fresh = open_or_throw(file_.path(),
					      o.read_only ? O_RDONLY : O_RDWR);
			return fresh.get();
		}
		return backing_.get();
	}
	// A descriptor of the file the device is bound to.
	int bound_fd() const
	{
		return bound_.get() >= 0 ? bound_.get() : backing_.get();
	}
	// Bind again as soon as the last opener of the old binding is gone.
	void configure(const LoopOptions &o, int timeout_ms)
	{
		auto deadline = std::chrono::steady_clock::now() +
				std::chrono::milliseconds(timeout_ms);
		int r = 0;
		while (std::chrono::steady_clock::now() < deadline) {
			UniqueFd d(open(path_.c_str(), O_RDWR | O_CLOEXEC));
			if (d.get() < 0) {
				r = -errno;
				if (r != -ENXIO) // ENXIO: still running down
					break;
			} else {
				UniqueFd fresh;
				r = loop_configure(d.get(), backing_fd(fresh, o), o);
				if (r == 0) {
					dev_ = std::move(d);
					bound_ = std::move(fresh); // -1: backing_
					opts_ = o;
					if (o.partscan)
						wait_for_node(path_ + "p1", 2000);
					return;
				}
				if (r != -EBUSY) // EBUSY: not cleared yet
					break;
			}
			std::this_thread::sleep_for(std::chrono::milliseconds(2));
		}
		errno = -r;
		fail_errno("LOOP_CONFIGURE " + path_ + " (bound again within " +
			   std::to_string(timeout_ms) + " ms)");
	}

	SparseFile file_;
	ExtentMap truth_;
	UniqueFd backing_, bound_, dev_;
	int number_ = -1;
	std::string path_;
	LoopOptions opts_;
	bool fresh_fd_ = false;
	std::atomic<uint64_t> generation_{0};
};

// ---------------------------------------------------------------------
// A partitioned loop device (GPT, the third partition starting off any
// page boundary): the second partition's bytes in the backing file are
// written and punched, up to both of its edges; the disk elsewhere and the
// other partitions are stable, and must never show their neighbour's data.
class Partitions : public Scenario {
	static constexpr int64_t kSize = 32 * MiB;
	static constexpr int64_t kP1 = 2048 * Sector, kP2 = 18432 * Sector,
				 kP3 = 34823 * Sector, kP3End = kP3 + 15000 * Sector;

public:
	explicit Partitions(Rng &rng) : file_(kSize, "/tmp", "stress-part")
	{
		common::write_partition_table(file_.path(), common::Label::gpt,
					      {{kP1, kP2 - kP1},
					       {kP2, kP2 - kP1},
					       {kP3, kP3End - kP3}});
		ExtentMap layout = random_extents(rng, kP1, kP3End, 30, 4 * KiB, 64);
		// Data at the partitions' edges, on both sides (kP3 is not
		// page-aligned: the pages around it).
		const int64_t p3_page = kP3 / (4 * KiB) * (4 * KiB);
		layout = unite(layout, {{kP2 - 4 * KiB, kP2 + 4 * KiB},
					{p3_page - 4 * KiB, p3_page + 8 * KiB}});
		write_layout(file_, layout, 8000);
		expect_file_map(file_, kP1, kP3End, layout);
		truth_ = file_.map(); // with the GPT
		loop_ = std::make_unique<Loop>(file_.path(), LoopOptions{.partscan = true});
		for (int i = 1; i <= 3; i++)
			setup_check(wait_for_node(loop_->path() + "p" + std::to_string(i), 5000),
				    loop_->path() + "p" + std::to_string(i) + " did not appear");
		targets.push_back(target("part-disk", loop_->path(),
					 {{0, kP2}, {kP2 + 8 * MiB, kSize}}, truth_));
		targets.push_back(target("part-p1", loop_->path() + "p1",
					 {{0, kP2 - kP1}}, seekmap::window(truth_, kP1, kP2)));
		targets.push_back(target("part-p2", loop_->path() + "p2", {}, {}));
		targets.push_back(target("part-p3", loop_->path() + "p3",
					 {{0, kP3End - kP3}},
					 seekmap::window(truth_, kP3, kP3End)));
	}
	const char *name() const override { return "partitions"; }
	int mutate(int, Rng &rng) override
	{
		const int64_t pages = 8 * MiB / (4 * KiB);
		int64_t len = urand(rng, 1, 256);
		int64_t first = urand(rng, 0, pages - len);
		if (rng() % 4 == 0)
			first = 0;
		else if (rng() % 3 == 0)
			first = pages - len;
		if (rng() % 2)
			file_.write(kP2 + first * 4 * KiB, len * 4 * KiB, rng());
		else
			file_.punch(kP2 + first * 4 * KiB, len * 4 * KiB);
		return 1;
	}
	void quiet_check(Walker &w) override
	{
		ExtentMap m = file_.map();
		w.walk_exact("part-disk", loop_->path(), m);
		w.walk_exact("part-p1", loop_->path() + "p1", seekmap::window(m, kP1, kP2));
		w.walk_exact("part-p2", loop_->path() + "p2", seekmap::window(m, kP2, kP2 + 8 * MiB));
		w.walk_exact("part-p3", loop_->path() + "p3", seekmap::window(m, kP3, kP3End));
	}

private:
	SparseFile file_;
	ExtentMap truth_;
	std::unique_ptr<Loop> loop_;
};

// ---------------------------------------------------------------------
// Lower devices for the dm tables: loop devices over files with random
// layouts, and the expected maps of linear, stripe and zero targets.
struct Lower {
	SparseFile file;
	ExtentMap layout;
	std::unique_ptr<Loop> loop;
	Lower(Rng &rng, const std::string &tag, int64_t size, uint64_t seed)
		: file(size, "/tmp", "stress-" + tag)
	{
		layout = random_extents(rng, 0, size, 12, 4 * KiB, 96);
		write_layout(file, layout, seed);
		expect_file_map(file, 0, size, layout);
		loop = std::make_unique<Loop>(file.path(), LoopOptions{});
	}
	// The lower map of [off, off + len), starting at 0.
	ExtentMap map(int64_t off, int64_t len) const
	{
		return seekmap::window(layout, off, off + len);
	}
};

// A table and its expected map.
struct Table {
	DmTable lines;
	ExtentMap map;
	void linear(int64_t at, int64_t len, const Lower &l, int64_t off)
	{
		lines.push_back({at, len, "linear", l.loop->path() + " " + sectors(off)});
		map = unite(map, shift(l.map(off, len), at));
	}
	void zero(int64_t at, int64_t len)
	{
		lines.push_back({at, len, "zero", ""});
	}
	void error(int64_t at, int64_t len)
	{
		lines.push_back({at, len, "error", ""});
		map = unite(map, {{at, at + len}}); // reads fail: all data
	}
	void striped(int64_t at, int64_t len, int64_t chunk,
		     std::vector<std::pair<const Lower *, int64_t>> stripes)
	{
		std::string p = std::to_string(stripes.size()) + " " + sectors(chunk);
		std::vector<ExtentMap> maps;
		const int64_t width = len / int64_t(stripes.size());
		for (auto [l, off] : stripes) {
			p += " " + l->loop->path() + " " + sectors(off);
			maps.push_back(l->map(off, width));
		}
		lines.push_back({at, len, "striped", p});
		common::TargetMap t{common::TargetMap::Striped, len, maps};
		t.chunk = chunk;
		map = unite(map, shift(common::dm_expected_map({t}), at));
	}
	// A linear range split into two targets at a random sector.
	void linear_maybe_split(Rng &rng, int64_t at, int64_t len, const Lower &l,
				int64_t off)
	{
		if (rng() % 2) {
			linear(at, len, l, off);
			return;
		}
		int64_t s = urand(rng, 1, len / Sector - 1) * Sector;
		linear(at, s, l, off);
		linear(at + s, len - s, l, off + s);
	}
	void zero_maybe_split(Rng &rng, int64_t at, int64_t len)
	{
		if (rng() % 2) {
			zero(at, len);
			return;
		}
		int64_t s = urand(rng, 1, len / Sector - 1) * Sector;
		zero(at, s);
		zero(at + s, len - s);
	}
};

// ---------------------------------------------------------------------
// A dm device reloaded, suspended and resumed: linear (sometimes split at
// a random sector), zero and striped ranges that every table maps alike,
// and one range that each reload maps differently (zero, linear, error,
// striped with another chunk size).
class DmReload : public Scenario {
	static constexpr int64_t kVar = 26 * MiB, kVarEnd = 34 * MiB,
				 kSize = 38 * MiB;

public:
	explicit DmReload(Rng &rng)
		: a_(rng, "dm-a", 16 * MiB, 9000), b_(rng, "dm-b", 8 * MiB, 9100),
		  c_(rng, "dm-c", 8 * MiB, 9200), d_(rng, "dm-d", 8 * MiB, 9300)
	{
		live_ = table(rng);
		dev_ = std::make_unique<DmDevice>(dm_unique_name("reload"), live_.lines);
		auto t = target("dm-reload", dev_->path(), {{0, kVar}, {kVarEnd, kSize}},
				live_.map);
		t->dm_name = dev_->name();
		targets.push_back(t);
	}
	const char *name() const override { return "dm-reload"; }
	int mutate(int, Rng &rng) override
	{
		int ops = 0;
		switch (rng() % 4) {
		case 0: { // reload and resume
			Table t = table(rng);
			dev_->reload(t.lines);
			live_ = t;
			ops = 2;
			break;
		}
		case 1: // suspend a while
			dev_->suspend(rng() % 2 ? dm::NoFlush : 0);
			nap(rng, 0, 150);
			dev_->resume();
			ops = 2;
			break;
		case 2: { // load while suspended, swap at resume
			dev_->suspend(rng() % 2 ? dm::NoFlush : 0);
			Table t = table(rng);
			try {
				dev_->load(t.lines);
			} catch (...) {
				dev_->resume();
				throw;
			}
			nap(rng, 0, 100);
			dev_->resume();
			live_ = t;
			ops = 3;
			break;
		}
		default: { // an inactive table waits while walkers walk the live one
			Table t = table(rng);
			dev_->load(t.lines);
			nap(rng, 0, 100);
			dev_->resume();
			live_ = t;
			ops = 2;
			break;
		}
		}
		nap(rng, 200, 1000); // reads wait while it is suspended
		return ops;
	}
	void quiet_check(Walker &w) override
	{
		w.walk_exact("dm-reload", dev_->path(), live_.map);
	}

private:
	Table table(Rng &rng)
	{
		Table t;
		t.linear_maybe_split(rng, 0, 8 * MiB, a_, 0);
		t.zero_maybe_split(rng, 8 * MiB, 2 * MiB);
		t.striped(10 * MiB, 16 * MiB, 64 * KiB, {{&b_, 0}, {&c_, 0}});
		switch (rng() % 4) {
		case 0: t.zero(kVar, kVarEnd - kVar); break;
		case 1: t.linear(kVar, kVarEnd - kVar, d_, 0); break;
		case 2: t.error(kVar, kVarEnd - kVar); break;
		default: {
			static const int64_t chunks[] = {32 * KiB, 256 * KiB, 1 * MiB};
			t.striped(kVar, kVarEnd - kVar, chunks[rng() % 3],
				  {{&d_, 0}, {&a_, 8 * MiB}});
		}
		}
		t.linear(kVarEnd, kSize - kVarEnd, a_, 12 * MiB);
		return t;
	}

	Lower a_, b_, c_, d_;
	Table live_;
	std::unique_ptr<DmDevice> dev_;
};

// ---------------------------------------------------------------------
// A dm device removed (at once, or deferred while walkers hold it) and
// created again under the same name with an equivalent table.
class DmRecreate : public Scenario {
	static constexpr int64_t kSize = 16 * MiB;

public:
	explicit DmRecreate(Rng &rng)
		: a_(rng, "re-a", 8 * MiB, 9400), b_(rng, "re-b", 8 * MiB, 9500),
		  c_(rng, "re-c", 8 * MiB, 9600), name_(dm_unique_name("recreate"))
	{
		Table t = table(rng);
		dev_ = std::make_unique<DmDevice>(name_, t.lines);
		auto tg = target("dm-recreate", dev_->path(), {{0, kSize}}, t.map);
		tg->dm_name = name_;
		tg->may_vanish = true;
		tg->generation = &generation_;
		targets.push_back(tg);
	}
	const char *name() const override { return "dm-recreate"; }
	int mutate(int, Rng &rng) override
	{
		nap(rng, 1000, 5000); // present for a while: walkers judge it
		if (stop_flag)
			return 0;
		Target &t = *targets[0];
		if (rng() % 3 == 0) {
			// Deferred: walkers still holding it finish their walks
			// on the live table; new opens fail.
			dev_->remove_deferred();
		} else {
			t.dying = true;
			dev_->remove(30000);
		}
		dev_.reset();
		for (int i = 0; dm::exists(name_); i++) {
			if (i == 3000)
				throw std::runtime_error(name_ + ": deferred removal did not happen in 30 s");
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		}
		// The old device is gone, and with it every walk that held it
		// (a walk is judged before it closes the device). The new one
		// has the same name and often the same node, and its size is
		// 0 from DM_DEV_CREATE until its table is resumed: a walk that
		// opens it meanwhile is not judged.
		generation_++; // odd: changing
		Table tb = table(rng);
		dev_ = std::make_unique<DmDevice>(name_, tb.lines);
		t.set_node(dev_->path());
		t.dying = false;
		generation_++; // even: live
		return 2;
	}
	void quiet_check(Walker &w) override
	{
		w.walk_exact("dm-recreate", dev_->path(), targets[0]->truth);
	}

private:
	Table table(Rng &rng)
	{
		Table t;
		t.linear_maybe_split(rng, 0, 4 * MiB, a_, 4 * MiB);
		t.zero_maybe_split(rng, 4 * MiB, 2 * MiB);
		t.striped(6 * MiB, 8 * MiB, 128 * KiB, {{&b_, 1 * MiB}, {&c_, 1 * MiB}});
		t.linear(14 * MiB, 2 * MiB, c_, 6 * MiB);
		return t;
	}

	Lower a_, b_, c_;
	std::string name_;
	std::unique_ptr<DmDevice> dev_; // null between a remove and the create
	std::atomic<uint64_t> generation_{0};
};

// ---------------------------------------------------------------------
// A thin pool with a volume (id 1), a volume over an external origin
// (id 2) and snapshots of both, created and deleted; writes and discards
// in each volume's unstable range; pool suspends.
class Thin : public Scenario {
	static constexpr int64_t kVolume = 48 * MiB;
	// Volume 1: stable [0, 30M); volume 2: stable [0, 12M) and
	// [24M, 48M), across the end of the origin (30 MiB + 12 KiB).
	static constexpr int64_t kOrigin = 30 * MiB + 12 * KiB;

	struct Volume {
		int id;
		std::unique_ptr<DmDevice> dm;
		UniqueFd direct;
		std::vector<Region> stable, unstable;
		ExtentMap provisioned, truth;
		bool external;
	};
	struct Snap {
		int id;
		const Volume *origin;
		std::unique_ptr<DmDevice> dm;
		std::shared_ptr<Target> target;
	};

public:
	Thin(Registry &reg, Rng &rng)
		: reg_(reg), block_(rng() % 2 ? 64 * KiB : 192 * KiB),
		  meta_file_(32 * MiB, "/tmp", "stress-thin-meta"), data_file_(256 * MiB, "/tmp", "stress-thin-data"),
		  origin_file_(kOrigin, "/tmp", "stress-thin-origin")
	{
		meta_ = std::make_unique<Loop>(meta_file_.path(), LoopOptions{});
		data_ = std::make_unique<Loop>(data_file_.path(), LoopOptions{});
		ExtentMap ol = random_extents(rng, 0, kOrigin, 24, 4 * KiB, 64);
		ol = unite(ol, {{kOrigin - 8 * KiB, kOrigin}}); // up to its end
		write_layout(origin_file_, ol, 9700);
		expect_file_map(origin_file_, 0, kOrigin, ol);
		origin_layout_ = ol;
		origin_ = std::make_unique<Loop>(origin_file_.path(),
						 LoopOptions{.read_only = true});
		pool_ = std::make_unique<DmDevice>(
			dm_unique_name("pool"),
			DmTable{{0, 256 * MiB, "thin-pool",
				 meta_->path() + " " + data_->path() + " " +
					 sectors(block_) + " 0 1 error_if_no_space"}});

		v_[0].id = 1;
		v_[0].external = false;
		v_[0].stable = {{0, 30 * MiB}};
		v_[0].unstable = {{30 * MiB, kVolume}};
		v_[1].id = 2;
		v_[1].external = true;
		v_[1].stable = {{0, 12 * MiB}, {24 * MiB, kVolume}};
		v_[1].unstable = {{12 * MiB, 24 * MiB}};
		for (Volume &v : v_) {
			pool_->message("create_thin " + std::to_string(v.id));
			v.dm = std::make_unique<DmDevice>(
				dm_unique_name("thin" + std::to_string(v.id)),
				thin_table(v.id, v.external));
			v.direct = open_or_throw(v.dm->path(), O_RDWR | O_DIRECT);
			// Whole blocks in the stable ranges, some up to their edges.
			ExtentMap prov;
			for (const Region &r : v.stable) {
				prov = unite(prov, random_extents(rng, r.start, r.end, 6,
								  block_, 16));
				prov = unite(prov, {{r.end - block_, r.end}});
			}
			uint64_t seed = 10000 + 1000 * v.id;
			for (const Extent &e : prov)
				direct_write(v.direct.get(), e.start, e.length(), seed++);
			v.provisioned = prov;
			v.truth = expected(v, prov);
			auto t = target(v.id == 1 ? "thin-v1" : "thin-v2-origin",
					v.dm->path(), v.stable, v.truth);
			t->dm_name = v.dm->name();
			targets.push_back(t);
		}
		// The ground truth agrees with the pool's metadata.
		auto dump = provisioned_now();
		for (const Volume &v : v_)
			setup_check(dump[v.id] == v.provisioned,
				    "thin_dump says volume " + std::to_string(v.id) +
					    " has " + seekmap::to_string(dump[v.id]) +
					    ", written " + seekmap::to_string(v.provisioned));
	}
	~Thin() override
	{
		while (!snaps_.empty()) {
			reg_.remove(snaps_.back().target.get());
			snaps_.pop_back();
		}
		for (int i = 1; i >= 0; i--) {
			v_[i].direct.reset();
			v_[i].dm.reset();
		}
		pool_.reset();
	}
	const char *name() const override { return "thin"; }
	int mutators() const override { return 4; }
	int mutate(int which, Rng &rng) override
	{
		switch (which) {
		case 0: return write(rng);
		case 1: return discard(rng);
		case 2: return snapshot(rng);
		default: return pool_suspend(rng);
		}
	}
	void quiet_check(Walker &w) override
	{
		auto dump = provisioned_now();
		for (const Volume &v : v_)
			w.walk_exact(v.id == 1 ? "thin-v1" : "thin-v2-origin",
				     v.dm->path(), expected(v, dump[v.id]));
		std::lock_guard<std::mutex> l(snaps_mu_);
		for (const Snap &s : snaps_)
			w.walk_exact(s.target->label, s.dm->path(),
				     expected(*s.origin, dump[s.id]));
	}

private:
	DmTable thin_table(int id, bool external) const
	{
		return {{0, kVolume, "thin",
			 pool_->path() + " " + std::to_string(id) +
				 (external ? " " + origin_->path() : "")}};
	}
	// Provisioned blocks are data; elsewhere a volume with an external
	// origin reads the origin, which is a hole past its end.
	ExtentMap expected(const Volume &v, const ExtentMap &prov) const
	{
		return v.external ? unite(prov, origin_layout_) : prov;
	}
	// A random range inside one of @v's unstable regions.
	Extent unstable_range(Rng &rng, const Volume &v, int64_t unit, int64_t max)
	{
		const Region &r = v.unstable[rng() % v.unstable.size()];
		int64_t units = (r.end - r.start) / unit;
		int64_t len = urand(rng, 1, std::min(units, max / unit));
		int64_t first = urand(rng, 0, units - len);
		return {r.start + first * unit, r.start + (first + len) * unit};
	}
	int write(Rng &rng)
	{
		Volume &v = v_[rng() % 2];
		// Partial blocks (4 KiB), whole blocks, and runs across blocks.
		Extent e = rng() % 2 ? unstable_range(rng, v, 4 * KiB, 256 * KiB)
				     : unstable_range(rng, v, block_, 4 * block_);
		direct_write(v.direct.get(), e.start, e.length(), rng());
		return 1;
	}
	int discard(Rng &rng)
	{
		Volume &v = v_[rng() % 2];
		Extent e = rng() % 2 ? unstable_range(rng, v, Sector, 1 * MiB)
				     : unstable_range(rng, v, block_, 8 * block_);
		uint64_t range[2] = {uint64_t(e.start), uint64_t(e.length())};
		if (ioctl(v.direct.get(), BLKDISCARD, range))
			fail_errno("BLKDISCARD " + v.dm->path());
		return 1;
	}
	int snapshot(Rng &rng)
	{
		nap(rng, 2000, 8000); // snapshots live long enough to be walked
		if (stop_flag)
			return 0;
		if (snaps_.size() < 3 && (snaps_.empty() || rng() % 2)) {
			const Volume &o = v_[rng() % 2];
			Snap s;
			s.id = next_snap_++;
			s.origin = &o;
			o.dm->suspend();
			try {
				pool_->message("create_snap " + std::to_string(s.id) +
					       " " + std::to_string(o.id));
			} catch (...) {
				o.dm->resume();
				throw;
			}
			o.dm->resume();
			{
				// dm-thin refuses to activate a thin device
				// while its pool is suspended.
				std::lock_guard<std::mutex> l(pool_mu_);
				s.dm = std::make_unique<DmDevice>(
					dm_unique_name("snap" + std::to_string(s.id)),
					thin_table(s.id, o.external));
			}
			s.target = target(o.external ? "thin-snap-v2" : "thin-snap-v1",
					  s.dm->path(), o.stable, o.truth);
			s.target->dm_name = s.dm->name();
			reg_.add(s.target);
			std::lock_guard<std::mutex> l(snaps_mu_);
			snaps_.push_back(std::move(s));
			return 3;
		}
		Snap s;
		{
			std::lock_guard<std::mutex> l(snaps_mu_);
			size_t i = rng() % snaps_.size();
			s = std::move(snaps_[i]);
			snaps_.erase(snaps_.begin() + i);
		}
		reg_.remove(s.target.get());
		s.target->dying = true;
		s.dm.reset(); // removed once walkers let go
		pool_->message("delete " + std::to_string(s.id));
		return 2;
	}
	int pool_suspend(Rng &rng)
	{
		nap(rng, 500, 3000);
		if (stop_flag)
			return 0;
		std::lock_guard<std::mutex> l(pool_mu_);
		pool_->suspend(rng() % 2 ? dm::NoFlush : 0);
		nap(rng, 10, 200);
		pool_->resume();
		return 2;
	}
	// Provisioned blocks of every volume, from thin_dump of a metadata
	// snapshot.
	std::map<int, ExtentMap> provisioned_now()
	{
		pool_->message("reserve_metadata_snap");
		std::string xml;
		try {
			xml = run_output("thin_dump --metadata-snap " + meta_->path());
		} catch (...) {
			pool_->message("release_metadata_snap");
			throw;
		}
		pool_->message("release_metadata_snap");
		return common::thin_dump_maps(xml, block_);
	}

	Registry &reg_;
	const int64_t block_;
	SparseFile meta_file_, data_file_, origin_file_;
	ExtentMap origin_layout_;
	std::unique_ptr<Loop> meta_, data_, origin_;
	std::unique_ptr<DmDevice> pool_;
	Volume v_[2];
	std::mutex pool_mu_;  // held while the pool is suspended
	std::mutex snaps_mu_; // the snapshot worker changes, the quiet check reads
	std::deque<Snap> snaps_;
	int next_snap_ = 100;
};

// ---------------------------------------------------------------------
// RAM disks (brd, zram, memory-backed null_blk): what each unit (a brd or
// zram page, a null_blk block) holds, from what the run wrote and
// discarded. A unit never written or discarded reads zeros and is a hole;
// on zram a unit written full of zeros too (a same-filled page of zeros),
// elsewhere it is data.
class RamModel {
public:
	enum Kind : uint8_t {
		kNone,         // never written, or discarded: zeros, a hole
		kPattern,      // the run's pattern: incompressible (zram: huge)
		kCompressible, // 256 bytes of pattern, then zeros
		kSame,         // every byte 0xab (zram: a same-filled page)
		kZeros,        // written full of zeros
		kMixed,        // partly written: data, contents not kept
	};

	RamModel(int64_t size, int64_t unit, bool zeros_are_holes)
		: unit_(unit), zeros_are_holes_(zeros_are_holes),
		  units_(size / unit) {}

	int64_t unit() const { return unit_; }
	int64_t size() const { return int64_t(units_.size()) * unit_; }

	// [@off, @off + @len), whole units, written with @kind.
	void set(int64_t off, int64_t len, Kind kind, uint32_t seed)
	{
		for (int64_t u = off / unit_; u < (off + len) / unit_; u++)
			units_[u] = {kind, seed};
	}
	// A write of sectors of the run's pattern (direct_write()): the
	// units it touches are data, of contents not kept.
	void write_partial(int64_t off, int64_t len)
	{
		for (int64_t u = off / unit_; u * unit_ < off + len; u++)
			units_[u] = {kMixed, 0};
	}
	ExtentMap map() const
	{
		ExtentMap m;
		for (size_t u = 0; u < units_.size(); u++)
			if (is_data(units_[u].kind))
				m.push_back({int64_t(u) * unit_, int64_t(u + 1) * unit_});
		return seekmap::normalize(m);
	}
	// The bytes unit @u must read back; false if not kept (kMixed).
	bool expected(int64_t u, unsigned char *buf) const
	{
		return fill(units_[u].kind, units_[u].seed, u, buf);
	}
	bool fill(Kind kind, uint32_t seed, int64_t u, unsigned char *buf) const
	{
		switch (kind) {
		case kNone:
		case kZeros:
			memset(buf, 0, unit_);
			return true;
		case kSame:
			memset(buf, 0xab, unit_);
			return true;
		case kPattern:
		case kCompressible:
			// A different pattern for each unit and seed.
			fill_pattern(buf, unit_, (uint64_t(seed) << 32) ^ uint64_t(u));
			if (kind == kCompressible)
				memset(buf + 256, 0, unit_ - 256);
			return true;
		case kMixed:
			break;
		}
		return false;
	}

private:
	bool is_data(Kind k) const
	{
		return k != kNone && !(k == kZeros && zeros_are_holes_);
	}

	struct Unit {
		Kind kind = kNone;
		uint32_t seed = 0;
	};
	const int64_t unit_;
	const bool zeros_are_holes_;
	std::vector<Unit> units_;
};

// An O_DIRECT write of [@off, @off + @len) (whole units) with the contents
// @m expects of @kind, and the model updated.
void ram_write(int fd, RamModel &m, int64_t off, int64_t len,
	       RamModel::Kind kind, uint32_t seed)
{
	const int64_t unit = m.unit();
	const size_t chunk = std::min<int64_t>(len, 1 * MiB);
	void *p = nullptr;
	if (posix_memalign(&p, 4096, chunk))
		throw std::bad_alloc();
	std::unique_ptr<void, decltype(&free)> buf(p, free);
	auto *b = static_cast<unsigned char *>(p);
	for (int64_t done = 0; done < len;) {
		size_t n = std::min<int64_t>(chunk, len - done);
		for (size_t i = 0; i < n; i += unit)
			m.fill(kind, seed, (off + done + int64_t(i)) / unit, b + i);
		if (pwrite(fd, b, n, off + done) != ssize_t(n))
			fail_errno("O_DIRECT write at " + std::to_string(off + done));
		done += n;
	}
	m.set(off, len, kind, seed);
}

void ram_discard(int fd, RamModel &m, int64_t off, int64_t len)
{
	uint64_t range[2] = {uint64_t(off), uint64_t(len)};
	if (ioctl(fd, BLKDISCARD, range))
		fail_errno("BLKDISCARD " + std::to_string(off) + "+" +
			   std::to_string(len));
	m.set(off, len, RamModel::kNone, 0);
}

// Read [@begin, @end) of @fd (O_DIRECT) and compare it with what @m says
// each unit holds: a page written back or recompressed still reads what
// was written. A difference is a wrong answer of the device, counted.
void ram_verify(int fd, const RamModel &m, int64_t begin, int64_t end,
		const std::string &label)
{
	const int64_t unit = m.unit();
	const size_t chunk = 256 * KiB;
	void *p = nullptr;
	if (posix_memalign(&p, 4096, chunk + unit))
		throw std::bad_alloc();
	std::unique_ptr<void, decltype(&free)> buf(p, free);
	auto *b = static_cast<unsigned char *>(p);
	std::vector<unsigned char> want(unit);
	for (int64_t pos = begin; pos < end;) {
		size_t n = std::min<int64_t>(chunk, end - pos);
		ssize_t r = pread(fd, b, n, pos);
		if (r != ssize_t(n)) {
			wrong_answer(label + ": reading back data at " +
				     std::to_string(pos) + ": " +
				     (r < 0 ? strerror(errno) : "short read"));
			return;
		}
		counts.bytes_read += n;
		for (size_t i = 0; i < n; i += unit) {
			int64_t u = (pos + int64_t(i)) / unit;
			if (m.expected(u, want.data()) &&
			    memcmp(want.data(), b + i, unit)) {
				wrong_answer(label + ": the " + std::to_string(unit) +
					     " bytes at " + std::to_string(u * unit) +
					     " do not read back what was written");
				return;
			}
		}
		pos += n;
	}
}

// A random whole-unit range of up to @max bytes inside @r.
Extent range_in(Rng &rng, const Region &r, int64_t unit, int64_t max)
{
	int64_t units = (r.end - r.start) / unit;
	int64_t len = urand(rng, 1, std::min(units, max / unit));
	int64_t first = urand(rng, 0, units - len);
	// Often against an edge of the region: the stable side's neighbour.
	if (rng() % 4 == 0)
		first = rng() % 2 ? 0 : units - len;
	return {r.start + first * unit, r.start + (first + len) * unit};
}

// The stable layout of a RAM disk: about @n runs of up to @max_units
// units in each stable region, some against a region's edge, of every
// kind @kinds holds.
void ram_layout(Rng &rng, int fd, RamModel &m, const std::vector<Region> &stable,
		int n, int64_t max_units, const std::vector<RamModel::Kind> &kinds)
{
	uint32_t seed = 20000;
	// The first run starts with the pattern: never zeros, whatever the
	// kinds (--self-check=readback reads the first data extent).
	bool first = true;
	for (const Region &r : stable) {
		ExtentMap runs = random_extents(rng, r.start, r.end, n, m.unit(), max_units);
		runs = unite(runs, {{r.end - m.unit(), r.end}});
		if (r.start > 0)
			runs = unite(runs, {{r.start, r.start + m.unit()}});
		for (const Extent &e : runs) {
			// Runs of mixed kinds: split at a random unit.
			int64_t at = e.start;
			while (at < e.end) {
				int64_t len = urand(rng, 1, (e.end - at) / m.unit()) * m.unit();
				RamModel::Kind k = kinds[rng() % kinds.size()];
				ram_write(fd, m, at, len, first ? RamModel::kPattern : k,
					  seed++);
				first = false;
				at += len;
			}
		}
	}
}

// The whole disk at the end: the exact map (all holes read back), then
// every byte read back as the model says.
void ram_quiet_check(Walker &w, const std::string &label, const std::string &node,
		     const RamModel &m)
{
	w.walk_exact(label, node, m.map());
	UniqueFd fd = open_or_throw(node, O_RDONLY | O_DIRECT);
	ram_verify(fd.get(), m, 0, m.size(), label + " (quiet)");
}

// ---------------------------------------------------------------------
// A brd RAM disk (/dev/ram1, 64 MiB, built in): written (whole pages and
// single sectors) and discarded in its middle; its two ends keep the
// layout written at setup. brd's map is its page index: a page written
// in part is data, a discard frees only the pages it covers whole.
class Brd : public Scenario {
	static constexpr const char *kNode = "/dev/ram1";
	static constexpr int64_t kPage = 4 * KiB;

public:
	explicit Brd(Rng &rng)
	{
		if (access(kNode, F_OK))
			throw std::runtime_error(std::string(kNode) +
						 " missing: the guest kernel needs "
						 "CONFIG_BLK_DEV_RAM=y (2 disks)");
		fd_ = open_or_throw(kNode, O_RDWR | O_DIRECT);
		const int64_t size = size_or_errno(fd_.get());
		setup_check(size >= 32 * MiB, std::string(kNode) + " is too small");
		// Empty first (a run before may have left pages).
		uint64_t all[2] = {0, uint64_t(size)};
		if (ioctl(fd_.get(), BLKDISCARD, all))
			fail_errno("BLKDISCARD the whole of " + std::string(kNode));
		model_ = std::make_unique<RamModel>(size, kPage, false);
		const int64_t q = size / 8 / kPage * kPage;
		stable_ = {{0, 3 * q}, {5 * q, size}};
		changing_ = {3 * q, 5 * q};
		ram_layout(rng, fd_.get(), *model_, stable_, 20, 48,
			   {RamModel::kPattern, RamModel::kZeros, RamModel::kSame});
		truth_ = model_->map();
		targets.push_back(target("brd", kNode, stable_, truth_));
	}
	~Brd() override
	{
		if (fd_.get() < 0)
			return;
		uint64_t all[2] = {0, uint64_t(model_->size())};
		ioctl(fd_.get(), BLKDISCARD, all); // give the memory back
	}
	const char *name() const override { return "brd"; }
	int mutate(int, Rng &rng) override
	{
		Extent e = range_in(rng, changing_, kPage, 512 * KiB);
		switch (rng() % 5) {
		case 0: { // single sectors: a page written in part is data
			int64_t off = e.start + urand(rng, 0, kPage / Sector - 1) * Sector;
			int64_t len = urand(rng, 1, 16) * Sector;
			len = std::min(len, changing_.end - off);
			direct_write(fd_.get(), off, len, rng());
			model_->write_partial(off, len);
			return 1;
		}
		case 1:
		case 2:
			ram_write(fd_.get(), *model_, e.start, e.length(),
				  rng() % 3 ? RamModel::kPattern : RamModel::kZeros,
				  uint32_t(rng()));
			return 1;
		default:
			ram_discard(fd_.get(), *model_, e.start, e.length());
			return 1;
		}
	}
	void quiet_check(Walker &w) override
	{
		ram_quiet_check(w, "brd", kNode, *model_);
	}

private:
	UniqueFd fd_;
	std::unique_ptr<RamModel> model_;
	std::vector<Region> stable_;
	Region changing_;
	ExtentMap truth_;
};

// ---------------------------------------------------------------------
// A zram device with a slow backing device (memory-backed null_blk that
// completes each I/O after 10 ms) and deflate as its recompression
// algorithm. Mutators: writes (incompressible, compressible, same-filled
// 0xab and zeros) and discards in its middle; all pages marked idle, then
// a writeback (idle, huge, huge_idle or one page) or a recompression,
// which hold zram's dev_lock for writing for seconds. Written-back and
// recompressed pages of the stable ends are still data and read back what
// was written; zero pages (same-filled, element 0) are holes.
//
// zram only tries its locks: a slot a reader holds locked (a walker
// reading a hole back, the idle marking) is data for a moment, and so is
// everything while a writeback or recompression holds dev_lock. Stable
// regions are judged so (Target::spare_data, Target::busy); the quiet
// check at the end is exact.
class ZramScenario : public Scenario {
	static constexpr int64_t kSize = 32 * MiB, kPage = 4 * KiB;

public:
	explicit ZramScenario(Rng &rng)
	{
		// The backing device holds every page zram can write back.
		slow_ = std::make_unique<NullBlk>(
			"zwb", std::vector<std::string>{
				       "memory_backed=1",
				       "size=" + std::to_string(kSize / MiB),
				       "irqmode=2", "completion_nsec=10000000"});
		zram_ = std::make_unique<Zram>(
			kSize, std::vector<std::string>{
				       "backing_dev=" + slow_->path(),
				       "recomp_algorithm=algo=deflate"});
		// One page per backing write: a writeback takes seconds.
		set_attr(zram_->attr("writeback_batch_size"), "1");
		fd_ = open_or_throw(zram_->path(), O_RDWR | O_DIRECT);
		setup_check(size_or_errno(fd_.get()) == kSize, zram_->path() + ": size");
		model_ = std::make_unique<RamModel>(kSize, kPage, true);
		stable_ = {{0, 12 * MiB}, {20 * MiB, kSize}};
		changing_ = {12 * MiB, 20 * MiB};
		ram_layout(rng, fd_.get(), *model_, stable_, 12, 24,
			   {RamModel::kPattern, RamModel::kCompressible,
			    RamModel::kSame, RamModel::kZeros});
		truth_ = model_->map();
		auto t = target("zram", zram_->path(), stable_, truth_);
		t->spare_data = 4 * kPage;
		t->busy = &busy_;
		targets.push_back(t);
	}
	~ZramScenario() override
	{
		fd_.reset();
		zram_.reset();
		slow_.reset();
	}
	const char *name() const override { return "zram"; }
	int mutators() const override { return 2; }
	int mutate(int which, Rng &rng) override
	{
		if (which == 0) {
			std::lock_guard<std::mutex> l(mu_);
			Extent e = range_in(rng, changing_, kPage, 256 * KiB);
			static const RamModel::Kind kinds[] = {
				RamModel::kPattern, RamModel::kCompressible,
				RamModel::kSame, RamModel::kZeros};
			if (rng() % 3)
				ram_write(fd_.get(), *model_, e.start, e.length(),
					  kinds[rng() % 4], uint32_t(rng()));
			else
				ram_discard(fd_.get(), *model_, e.start, e.length());
			return 1;
		}
		nap(rng, 1000, 4000);
		if (stop_flag)
			return 0;
		int ops = 2;
		busy_++; // odd: dev_lock may be busy
		set_attr(zram_->attr("idle"), "all");
		if (rng() % 3) {
			static const char *types[] = {"idle", "huge", "huge_idle"};
			// Or one page, whatever its state.
			std::string how = rng() % 4 ? std::string("type=") + types[rng() % 3]
						    : "page_index=" +
							      std::to_string(urand(rng, 0, kSize / kPage - 1));
			zram_op("writeback", how);
		} else {
			static const char *types[] = {"idle", "huge", "huge_idle"};
			zram_op("recompress", std::string("type=") + types[rng() % 3]);
		}
		busy_++;
		// The stable pages read back what was written, wherever they
		// are now (a sample: a written-back page costs a slow read).
		const Region &r = stable_[rng() % stable_.size()];
		Extent e = range_in(rng, r, kPage, 512 * KiB);
		ram_verify(fd_.get(), *model_, e.start, e.end, "zram");
		return ops;
	}
	void quiet_check(Walker &w) override
	{
		ram_quiet_check(w, "zram", zram_->path(), *model_);
		printf("stress: zram mm_stat %s; bd_stat %s\n",
		       read_attr(zram_->attr("mm_stat")).c_str(),
		       read_attr(zram_->attr("bd_stat")).c_str());
	}

private:
	// A writeback or recompression; it may find nothing to do.
	void zram_op(const char *attr, const std::string &how)
	{
		int r = write_attr(zram_->attr(attr), how);
		if (r && r != -ENOENT && r != -EAGAIN) {
			errno = -r;
			fail_errno(std::string("zram ") + attr + " '" + how + "'");
		}
	}

	std::unique_ptr<NullBlk> slow_;
	std::unique_ptr<Zram> zram_;
	UniqueFd fd_;
	std::mutex mu_; // the model's changing region
	std::unique_ptr<RamModel> model_;
	std::vector<Region> stable_;
	Region changing_;
	ExtentMap truth_;
	std::atomic<uint64_t> busy_{0};
};

// ---------------------------------------------------------------------
// A memory-backed null_blk device (configfs, discard on, 512- or 4096-byte
// blocks) powered off and on again while walkers hold it: the disk is
// deleted and a new one of the same name made, over the same data. While
// powered, its middle is written and discarded. Walks that overlap a
// power cycle are not judged (a generation count says which).
class NullBlkScenario : public Scenario {
	static constexpr int64_t kSize = 64 * MiB;

public:
	explicit NullBlkScenario(Rng &rng) : bs_(rng() % 2 ? 4096 : 512)
	{
		nb_ = std::make_unique<NullBlk>(
			"nb", std::vector<std::string>{
				      "size=" + std::to_string(kSize / MiB),
				      "blocksize=" + std::to_string(bs_),
				      "memory_backed=1", "discard=1"});
		model_ = std::make_unique<RamModel>(kSize, bs_, false);
		stable_ = {{0, 24 * MiB}, {40 * MiB, kSize}};
		changing_ = {24 * MiB, 40 * MiB};
		{
			UniqueFd fd = open_or_throw(nb_->path(), O_RDWR | O_DIRECT);
			setup_check(size_or_errno(fd.get()) == kSize, nb_->path() + ": size");
			ram_layout(rng, fd.get(), *model_, stable_, 20, 48 * 1024 / (bs_ / 4),
				   {RamModel::kPattern, RamModel::kZeros, RamModel::kSame});
		}
		truth_ = model_->map();
		auto t = target("null_blk", nb_->path(), stable_, truth_);
		t->may_vanish = true;
		t->generation = &generation_;
		targets.push_back(t);
	}
	const char *name() const override { return "null_blk"; }
	int mutators() const override { return 2; }
	int mutate(int which, Rng &rng) override
	{
		if (which == 1) {
			nap(rng, 1000, 5000); // powered a while: walkers judge it
			if (stop_flag)
				return 0;
			std::lock_guard<std::mutex> l(mu_);
			generation_++; // odd: going away
			nb_->power(false);
			nap(rng, 0, 300);
			nb_->power(true);
			generation_++;
			return 2;
		}
		std::lock_guard<std::mutex> l(mu_);
		// A descriptor of the disk powered now (the old one's is dead).
		UniqueFd fd = open_or_throw(nb_->path(), O_RDWR | O_DIRECT);
		int ops = 0;
		for (int i = urand(rng, 1, 8); i > 0; i--, ops++) {
			Extent e = range_in(rng, changing_, bs_, 256 * KiB);
			if (rng() % 2)
				ram_write(fd.get(), *model_, e.start, e.length(),
					  rng() % 4 ? RamModel::kPattern : RamModel::kZeros,
					  uint32_t(rng()));
			else
				ram_discard(fd.get(), *model_, e.start, e.length());
		}
		return ops;
	}
	void quiet_check(Walker &w) override
	{
		ram_quiet_check(w, "null_blk", nb_->path(), *model_);
	}

private:
	const int64_t bs_;
	std::unique_ptr<NullBlk> nb_;
	std::mutex mu_; // powered while held
	std::unique_ptr<RamModel> model_;
	std::vector<Region> stable_;
	Region changing_;
	ExtentMap truth_;
	std::atomic<uint64_t> generation_{0};
};

// ---------------------------------------------------------------------
// dm-snapshot: an origin (a loop device over a sparse file) behind a
// snapshot-origin device, and a snapshot of it whose exception store
// (persistent or transient, by the seed) lives on a loop device. The
// origin's upper part is written through the origin device (each chunk
// touched is copied out to the snapshot first: an exception, data in the
// snapshot), the snapshot's middle is written through the snapshot, and
// now and then the snapshot goes away and a new one is taken: merged into
// the origin (persistent: the origin's table becomes snapshot-merge, which
// takes the exceptions over, until the merge is done, then snapshot-origin
// again) or dropped (transient). The first 12 MiB are written by no one:
// there both devices must report the origin's layout. Walks that overlap
// a cycle are not judged (a generation count says which).
class DmSnapshot : public Scenario {
	static constexpr int64_t kSize = 32 * MiB, kStable = 12 * MiB,
				 kSnapWrites = 20 * MiB;

public:
	explicit DmSnapshot(Rng &rng)
		: persistent_(rng() % 3 != 0),
		  chunk_(std::vector<int64_t>{4 * KiB, 8 * KiB, 64 * KiB}[rng() % 3]),
		  origin_file_(kSize, "/tmp", "stress-snap-origin"),
		  snap_name_(dm_unique_name("snap"))
	{
		ExtentMap layout = random_extents(rng, 0, kSize, 40, 4 * KiB, 64);
		layout = unite(layout, {{kStable - 4 * KiB, kStable + 4 * KiB}});
		write_layout(origin_file_, layout, 30000);
		expect_file_map(origin_file_, 0, kSize, layout);
		layout_ = layout;
		origin_loop_ = std::make_unique<Loop>(origin_file_.path(), LoopOptions{});
		// The snapshot first, as LVM does: snapshot-origin splits
		// writes at the chunk size of the snapshots there are when it
		// resumes.
		new_cow();
		create_snapshot();
		origin_ = std::make_unique<DmDevice>(dm_unique_name("snap-origin"),
						     origin_table("snapshot-origin"));
		origin_fd_ = open_or_throw(origin_->path(), O_RDWR | O_DIRECT);
		printf("stress: dm-snapshot: %s store, chunk %lld KiB\n",
		       persistent_ ? "persistent" : "transient",
		       (long long)(chunk_ / KiB));

		auto o = target("snap-origin", origin_->path(), {{0, kStable}}, layout_);
		o->dm_name = origin_->name();
		o->generation = &generation_;
		auto s = target("snapshot", snap_path_, {{0, kStable}}, layout_);
		s->dm_name = snap_name_;
		s->may_vanish = true;
		s->generation = &generation_;
		targets = {o, s};
	}
	~DmSnapshot() override
	{
		snap_fd_.reset();
		origin_fd_.reset();
		snap_.reset();
		origin_.reset();
		cow_loop_.reset();
		cow_file_.reset();
	}
	const char *name() const override { return "dm-snapshot"; }
	int mutators() const override { return 2; }
	int mutate(int which, Rng &rng) override
	{
		if (which == 0) {
			std::lock_guard<std::mutex> l(mu_);
			// Through the origin (its upper part) or the snapshot
			// (its middle): partial chunks and runs of chunks.
			bool to_origin = rng() % 2;
			Region r = to_origin ? Region{kSnapWrites, kSize}
					     : Region{kStable, kSnapWrites};
			int64_t unit = rng() % 2 ? 4 * KiB : chunk_;
			int64_t units = (r.end - r.start) / unit;
			int64_t len = urand(rng, 1, std::min<int64_t>(units, 256 * KiB / unit));
			int64_t at = r.start + urand(rng, 0, units - len) * unit;
			direct_write(to_origin ? origin_fd_.get() : snap_fd_.get(),
				     at, len * unit, rng());
			// The chunks touched have an exception now.
			exceptions_ = unite(exceptions_,
					    {{at / chunk_ * chunk_,
					      (at + len * unit + chunk_ - 1) / chunk_ * chunk_}});
			return 1;
		}
		nap(rng, 10000, 20000); // a snapshot lives a while: walkers judge it
		if (stop_flag)
			return 0;
		std::lock_guard<std::mutex> l(mu_);
		generation_++; // odd: changing
		Target &st = *targets[1];
		int ops;
		if (persistent_)
			ops = merge();
		else
			ops = drop();
		st.dying = true;
		snap_fd_.reset();
		remove_snapshot();
		// A new snapshot of the origin as it is now; writes to the
		// origin wait meanwhile (we hold it suspended).
		origin_->suspend();
		new_cow();
		create_snapshot();
		origin_->resume();
		st.set_node(snap_path_);
		st.dying = false;
		generation_++; // even
		return ops + 4;
	}
	void quiet_check(Walker &w) override
	{
		ExtentMap origin = origin_file_.map();
		w.walk_exact("snap-origin", origin_->path(), origin);
		// The snapshot reads the origin where it has no exception; the
		// origin changed since only where writes gave it exceptions.
		w.walk_exact("snapshot", snap_path_, unite(snap_origin_, exceptions_));
	}

private:
	DmTable origin_table(const std::string &type) const
	{
		if (type == "snapshot-origin")
			return {{0, kSize, type, origin_loop_->path()}};
		return {{0, kSize, type, origin_loop_->path() + " " + cow_loop_->path() +
						 (persistent_ ? " P " : " N ") + sectors(chunk_)}};
	}
	// A fresh exception store: a persistent one starts from zeros.
	void new_cow()
	{
		cow_loop_.reset();
		cow_file_ = std::make_unique<SparseFile>(kSize + 8 * MiB, "/tmp", "stress-snap-cow");
		cow_loop_ = std::make_unique<Loop>(cow_file_->path(), LoopOptions{});
	}
	void create_snapshot()
	{
		snap_ = std::make_unique<DmDevice>(snap_name_, origin_table("snapshot"));
		snap_path_ = snap_->path();
		snap_fd_ = open_or_throw(snap_path_, O_RDWR | O_DIRECT);
		snap_origin_ = origin_file_.map();
		exceptions_.clear();
	}
	void remove_snapshot()
	{
		if (!snap_)
			return;
		try {
			snap_->resume(); // after a merge it is suspended
		} catch (...) {
		}
		snap_->remove(30000);
		snap_.reset();
	}
	// Merge the snapshot into the origin, as lvconvert --merge does, and
	// wait until it is done.
	int merge()
	{
		snap_->suspend();
		origin_->suspend();
		origin_->load(origin_table("snapshot-merge"));
		origin_->resume();
		// snapshot-merge status: <allocated>/<total> <metadata>; done
		// when only metadata is allocated.
		for (int i = 0;; i++) {
			const DmTable st = origin_->status();
			unsigned long long alloc = 0, total = 0, meta = 0;
			if (st.size() == 1 && st[0].type == "snapshot-merge" &&
			    sscanf(st[0].params.c_str(), "%llu/%llu %llu", &alloc,
				   &total, &meta) == 3 && alloc == meta)
				break;
			if (i == 600)
				throw std::runtime_error(origin_->name() +
							 ": merge not done in 60 s: " +
							 to_string(st));
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		}
		origin_->reload(origin_table("snapshot-origin"));
		return 4;
	}
	// Drop the snapshot (a transient store cannot be merged).
	int drop()
	{
		return 1;
	}

	const bool persistent_;
	const int64_t chunk_;
	SparseFile origin_file_;
	ExtentMap layout_;
	std::unique_ptr<Loop> origin_loop_;
	std::unique_ptr<SparseFile> cow_file_;
	std::unique_ptr<Loop> cow_loop_;
	std::unique_ptr<DmDevice> origin_;
	std::string snap_name_, snap_path_;
	std::unique_ptr<DmDevice> snap_; // the snapshot (null between cycles)
	UniqueFd origin_fd_, snap_fd_;
	std::mutex mu_; // writes wait while a cycle runs
	ExtentMap snap_origin_; // the origin's map when the snapshot was taken
	ExtentMap exceptions_;  // chunks written since, through either device
	std::atomic<uint64_t> generation_{0};
};

// ---------------------------------------------------------------------
// scsi_debug disks with logical block provisioning (LBPME, LBPRZ): sd
// answers from GET LBA STATUS. Mutators: writes and unmaps (BLKDISCARD)
// in the disk's middle; GET LBA STATUS failed on purpose (debugfs error
// injection: transport errors, ABORTED COMMAND, BUSY, which must give
// data, never a hole; MEDIUM ERROR, which may give EIO) and dropped (a
// timeout: data within the command's short timeout, and the error
// handling's reset may leave the disk all data until it is rescanned);
// the disk deleted (/sys/class/scsi_device/.../delete) and found again by
// a scan of its host while walkers hold it. scsi_debug's store outlives
// the disk, so the map does too. Walks overlapping a deletion are not
// judged (generation); walks overlapping an injection may report data
// over holes and fail with EIO (busy), never a hole over data.
class ScsiDebugScenario : public Scenario {
	static constexpr int64_t kSize = 32 * MiB;

public:
	explicit ScsiDebugScenario(Rng &rng)
	{
		unload();
		run_output("insmod " + scsi_debug_ko +
			   " lbpu=1 lbpws=1 lbprz=1 delay=0 sector_size=512"
			   " dev_size_mb=" + std::to_string(kSize / MiB));
		loaded_ = true;
		find_disk(10000);
		open_disk();
		uint64_t all[2] = {0, uint64_t(kSize)};
		if (ioctl(fd_.get(), BLKDISCARD, all))
			fail_errno("BLKDISCARD " + path_);
		stable_ = {{0, 12 * MiB}, {20 * MiB, kSize}};
		changing_ = {12 * MiB, 20 * MiB};
		model_ = std::make_unique<RamModel>(kSize, Sector, false);
		ram_layout(rng, fd_.get(), *model_, stable_, 16, 256,
			   {RamModel::kPattern, RamModel::kZeros});
		auto t = target("scsi-debug", path_, stable_, model_->map());
		t->may_vanish = true;
		t->generation = &generation_;
		t->busy = &busy_;
		t->eio_when_busy = true;
		targets.push_back(t);
	}
	~ScsiDebugScenario() override
	{
		fd_.reset();
		if (loaded_) {
			clear_rules();
			unload();
		}
	}
	const char *name() const override { return "scsi-debug"; }
	int mutators() const override { return 3; }
	int mutate(int which, Rng &rng) override
	{
		switch (which) {
		case 0: {
			std::lock_guard<std::mutex> l(mu_);
			Extent e = range_in(rng, changing_, 4 * KiB, 256 * KiB);
			if (rng() % 2)
				ram_write(fd_.get(), *model_, e.start, e.length(),
					  RamModel::kPattern, uint32_t(rng()));
			else
				ram_discard(fd_.get(), *model_, e.start, e.length());
			return 1;
		}
		case 1:
			return inject(rng);
		default:
			return cycle(rng);
		}
	}
	void quiet_check(Walker &w) override
	{
		ram_quiet_check(w, "scsi-debug", path_, *model_);
	}

private:
	// GET LBA STATUS fails (or times out) a while, then the disk is
	// revalidated: its map is exact again.
	int inject(Rng &rng)
	{
		nap(rng, 2000, 6000);
		if (stop_flag)
			return 0;
		std::lock_guard<std::mutex> l(mu_);
		static const char *rules[] = {
			"2 1 0x9e 0x2 0 0 0 0 0",      // DID_BUS_BUSY
			"2 1 0x9e 0x7 0 0 0 0 0",      // DID_ERROR
			"2 1 0x9e 0 0 0x2 0xb 0x4b 0", // ABORTED COMMAND
			"2 1 0x9e 0 0 0x8 0 0 0",      // BUSY
			"2 1 0x9e 0 0 0x2 0x3 0x11 0", // MEDIUM ERROR: EIO
			"0 1 0x9e",                    // dropped: a timeout
		};
		const char *rule = rules[rng() % 6];
		busy_++; // odd: answers may be data, or EIO
		int r = write_attr(error_file(), rule);
		if (r) {
			busy_++;
			errno = -r;
			fail_errno(std::string("scsi_debug error rule '") + rule + "'");
		}
		nap(rng, 500, 3000);
		clear_rules();
		// A reset or a unit attention may have left the disk all data
		// until sd revalidates it.
		write_attr("/sys/class/scsi_device/" + hctl_ + "/device/rescan", "1");
		busy_++;
		return 3;
	}
	// Delete the disk while walkers hold it, and find it again.
	int cycle(Rng &rng)
	{
		nap(rng, 3000, 8000);
		if (stop_flag)
			return 0;
		std::lock_guard<std::mutex> l(mu_);
		Target &t = *targets[0];
		generation_++; // odd: going away
		fd_.reset();
		set_attr("/sys/class/scsi_device/" + hctl_ + "/device/delete", "1");
		for (int i = 0; i < 500 && access(path_.c_str(), F_OK) == 0; i++)
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		set_attr("/sys/class/scsi_host/host" + host_ + "/scan", "- - -");
		find_disk(30000);
		open_disk();
		t.set_node(path_);
		generation_++;
		return 2;
	}
	// The node appears before sd's probe (asynchronous) made the disk
	// live: opens fail with ENXIO (or see size 0) a moment.
	void open_disk()
	{
		for (int i = 0; i < 1500; i++) {
			int fd = open(path_.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
			if (fd >= 0 && size_or_errno(fd) == kSize) {
				fd_.reset(fd);
				return;
			}
			if (fd >= 0)
				close(fd);
			else if (errno != ENXIO && errno != ENODEV && errno != ENOENT)
				fail_errno("open " + path_);
			std::this_thread::sleep_for(std::chrono::milliseconds(20));
		}
		throw std::runtime_error(path_ + ": no disk of " +
					 std::to_string(kSize) + " bytes");
	}
	void find_disk(int ms)
	{
		path_.clear();
		for (int i = 0; i < ms / 20; i++) {
			glob_t g = {};
			if (glob("/sys/bus/pseudo/devices/adapter*/host*/target*/*:*:*:*/block/sd*",
				 0, nullptr, &g) == 0 && g.gl_pathc == 1) {
				std::string d = g.gl_pathv[0];
				std::string name = d.substr(d.rfind('/') + 1);
				std::string dev = d.substr(0, d.rfind("/block/"));
				hctl_ = dev.substr(dev.rfind('/') + 1);
				host_ = hctl_.substr(0, hctl_.find(':'));
				if (access(("/dev/" + name).c_str(), F_OK) == 0)
					path_ = "/dev/" + name;
			}
			globfree(&g);
			if (!path_.empty())
				return;
			std::this_thread::sleep_for(std::chrono::milliseconds(20));
		}
		throw std::runtime_error("scsi_debug: no disk appeared");
	}
	std::string error_file() const
	{
		return "/sys/kernel/debug/scsi_debug/" + hctl_ + "/error";
	}
	// Either rule may be absent: that write fails, which is fine.
	void clear_rules()
	{
		write_attr(error_file(), "- 2 0x9e");
		write_attr(error_file(), "- 0 0x9e");
	}
	static void unload()
	{
		for (int i = 0; i < 600 && access("/sys/module/scsi_debug", F_OK) == 0; i++) {
			try {
				run_output("rmmod scsi_debug");
				return;
			} catch (...) {
				std::this_thread::sleep_for(std::chrono::milliseconds(50));
			}
		}
	}

	bool loaded_ = false;
	std::string path_, hctl_, host_;
	UniqueFd fd_;
	std::mutex mu_; // one change at a time: the writer needs the disk
	std::unique_ptr<RamModel> model_;
	std::vector<Region> stable_;
	Region changing_;
	std::atomic<uint64_t> generation_{0}, busy_{0};
};

} // namespace

std::vector<std::string> scenario_names()
{
	return {"loop-grow", "loop-status", "loop-changefd", "loop-cycle",
		"partitions", "dm-reload", "dm-recreate", "thin", "brd", "zram",
		"null_blk", "dm-snapshot", "scsi-debug"};
}

std::unique_ptr<Scenario> make_scenario(const std::string &name, Registry &reg,
					Rng &rng)
{
	if (name == "loop-grow")
		return std::make_unique<LoopGrow>(rng);
	if (name == "loop-status")
		return std::make_unique<LoopStatus>(rng);
	if (name == "loop-changefd")
		return std::make_unique<LoopChangeFd>(rng);
	if (name == "loop-cycle")
		return std::make_unique<LoopCycle>(rng);
	if (name == "partitions")
		return std::make_unique<Partitions>(rng);
	if (name == "dm-reload")
		return std::make_unique<DmReload>(rng);
	if (name == "dm-recreate")
		return std::make_unique<DmRecreate>(rng);
	if (name == "thin")
		return std::make_unique<Thin>(reg, rng);
	if (name == "brd")
		return std::make_unique<Brd>(rng);
	if (name == "zram")
		return std::make_unique<ZramScenario>(rng);
	if (name == "null_blk")
		return std::make_unique<NullBlkScenario>(rng);
	if (name == "dm-snapshot")
		return std::make_unique<DmSnapshot>(rng);
	if (name == "scsi-debug") {
		if (scsi_debug_ko.empty()) {
			fprintf(stderr, "stress: SKIPPING scsi-debug: no --scsi-debug-ko=PATH "
					"(make stress passes $(KOBJ)/drivers/scsi/scsi_debug.ko)\n");
			return nullptr;
		}
		return std::make_unique<ScsiDebugScenario>(rng);
	}
	throw std::invalid_argument("no scenario " + name);
}

} // namespace stress
