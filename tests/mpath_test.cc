// SPDX-License-Identifier: GPL-2.0
// dm-multipath answers from a path that I/O could use now: its map is the
// map of the LUN its paths reach. With no usable path (all failed, with or
// without queue_if_no_path) the device is one data extent at once: the
// query neither queues nor waits for a path; reinstating a path brings the
// map back. A path failed in the middle of a walk leaves the walk sound.
//
// The paths are two scsi_debug hosts reaching one store (add_host=2, the
// default per_host_store=0; vpd_use_hostno=0 gives both the same LUN
// identity) that unmaps (lbpu=1) and reads zeros from unmapped blocks
// (lbprz=1), so that sd answers from GET LBA STATUS on each path. Ground
// truth: the blocks the test wrote and discarded, which sg_get_lba_status
// (sg3-utils) confirms on each path. Without lbprz, sd (and so the
// multipath device) is all data. Every reported hole is read back.
//
// SEEK_TEST_SEED=n replays the seeded layouts.
#include <chrono>
#include <fcntl.h>
#include <future>
#include <iostream>
#include <random>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/units.h"
#include "liveness.h"
#include "ram_fixtures.h"
#include "scsi_debug.h"

namespace seektest {
namespace {

using namespace units;

constexpr int64_t kLbs = 512;
constexpr int kSizeMb = 16;
constexpr int64_t kSize = kSizeMb * MiB;

// How long a query may take when it must not wait: far below "forever"
// (queue_if_no_path with no path), far above a query under TCG.
constexpr std::chrono::seconds kShortBound{10};

std::string params(bool lbprz)
{
	return std::string("add_host=2 vpd_use_hostno=0 lbpu=1 lbprz=") +
	       (lbprz ? "1" : "0") + " delay=0 dev_size_mb=" +
	       std::to_string(kSizeMb) + " sector_size=" + std::to_string(kLbs);
}

// MAJ:MIN of the block device @path.
std::string devno(const std::string &path)
{
	struct stat st;
	if (stat(path.c_str(), &st))
		fail_errno("stat " + path);
	return std::to_string(major(st.st_rdev)) + ":" +
	       std::to_string(minor(st.st_rdev));
}

// A multipath table over @a and @b, one round-robin group, with the
// feature arguments @features ("0", "1 queue_if_no_path").
std::string mpath_table(const std::string &a, const std::string &b,
			const std::string &features)
{
	return "0 " + std::to_string(kSize / Sector) + " multipath " + features +
	       " 0 1 1 round-robin 0 2 1 " + devno(a) + " 1000 " + devno(b) +
	       " 1000\n";
}

// Two scsi_debug paths to one LUN and a multipath device over them.
class Paths {
public:
	explicit Paths(bool lbprz, const std::string &features = "0")
		: sd_(params(lbprz), 2),
		  dm_(mpath_table(sd_.path(0), sd_.path(1), features)) {}

	const std::string &path(int i) const { return sd_.path(i); }
	DmDevice &dm() { return dm_; }
	void fail(int i) { dm_.message("fail_path " + devno(path(i))); }
	void reinstate(int i) { dm_.message("reinstate_path " + devno(path(i))); }

private:
	ScsiDebug sd_;
	DmDevice dm_;
};

class MpathMap : public DeviceTest {
protected:
	// Discard the LUN and write a seeded layout through the multipath
	// device; the map written, as each path's GET LBA STATUS confirms.
	static ExtentMap write_seeded(Paths &p)
	{
		const uint64_t seed = seed_from_env();
		std::cout << "replay: SEEK_TEST_SEED=" << seed << std::endl;
		std::mt19937_64 rng(seed);
		RamModel model(kSize, kLbs);
		UniqueFd wfd = open_or_throw(p.dm().path(), O_RDWR | O_DIRECT);
		discard(wfd.get(), 0, kSize);
		random_layout(wfd.get(), kSize, kLbs, 256 * KiB, 8, rng, model,
			      uint32_t(seed));
		return checked(p, model.map(kSize), 2);
	}
	// Discard the LUN and write 4 KiB every MiB through the multipath
	// device.
	static ExtentMap write_regular(Paths &p)
	{
		ExtentMap want;
		UniqueFd wfd = open_or_throw(p.dm().path(), O_RDWR | O_DIRECT);
		discard(wfd.get(), 0, kSize);
		for (int64_t off = 512 * KiB; off < kSize; off += 1 * MiB) {
			direct_write(wfd.get(), off, 4 * KiB, 6);
			want.push_back({off, off + 4 * KiB});
		}
		return checked(p, want, 1);
	}

private:
	// @want, once GET LBA STATUS on the last @paths paths says so.
	static ExtentMap checked(Paths &p, const ExtentMap &want, int paths)
	{
		for (int i = 2 - paths; i < 2; i++)
			EXPECT_EQ(sg_lba_status_map(p.path(i), kSize, kLbs), want)
				<< "GET LBA STATUS on " << p.path(i)
				<< " disagrees with what was written";
		return want;
	}
};

// The multipath device's map is what was written, and a walk of it equals
// the walk of a path (sd's own answer).
TEST_F(MpathMap, MapIsWhatWasWrittenAndEqualsAPathsMap)
{
	Paths p(true);
	const ExtentMap want = write_seeded(p);
	ASSERT_GT(want.size(), 3u);
	UniqueFd fd = open_or_throw(p.dm().path(), O_RDONLY);
	ASSERT_EQ(size_of(fd.get()), kSize);
	EXPECT_TRUE(MapAndSeeksAre(fd.get(), kSize, want));
	UniqueFd path_fd = open_or_throw(p.path(0), O_RDONLY);
	seekmap::Walk via_dm = seekmap::walk(fd.get(), kSize);
	seekmap::Walk via_path = seekmap::walk(path_fd.get(), kSize);
	EXPECT_EQ(via_dm.error, "");
	EXPECT_EQ(via_path.error, "");
	EXPECT_EQ(via_dm.map, via_path.map);
}

// With one path failed, the other answers: the map stays, whichever path
// failed.
TEST_F(MpathMap, OnePathFailedTheOtherAnswers)
{
	Paths p(true);
	const ExtentMap want = write_regular(p);
	UniqueFd fd = open_or_throw(p.dm().path(), O_RDONLY);
	for (int i = 0; i < 2; i++) {
		SCOPED_TRACE("failed " + p.path(i));
		p.fail(i);
		ScopeExit back([&] { p.reinstate(i); });
		EXPECT_TRUE(MapIs(fd.get(), kSize, want));
	}
	EXPECT_TRUE(MapIs(fd.get(), kSize, want));
}

// Each path in turn fails in the middle of a walk (the first one is the
// path a query uses first): each step still answers from a usable path,
// so the walk finds the map written, and its holes read zeros.
TEST_F(MpathMap, PathFailingMidWalkLeavesTheWalkSound)
{
	Paths p(true);
	const ExtentMap want = write_regular(p);
	ASSERT_GE(want.size(), 10u);
	UniqueFd fd = open_or_throw(p.dm().path(), O_RDONLY);
	ScopeExit back([&] {
		p.reinstate(0);
		p.reinstate(1);
	});
	ExtentMap got;
	uint64_t calls = 0;
	int64_t off = 0;
	for (int step = 0;; step++) {
		if (step == 2)
			p.fail(0);
		if (step == 5) {
			p.reinstate(0);
			p.fail(1);
		}
		if (step == 8)
			p.reinstate(1);
		Extent e{};
		int r = seekmap::next_data(fd.get(), kSize, off, &e, &calls);
		ASSERT_GE(r, 0) << "step " << step << " at " << off;
		if (r == 0)
			break;
		got.push_back(e);
		off = e.end;
		if (off >= kSize)
			break;
	}
	EXPECT_TRUE(HolesReadZero(fd.get(), kSize, got));
	EXPECT_EQ(got, want);
}

class MpathNoPath : public MpathMap,
		    public ::testing::WithParamInterface<const char *> {};

// With every path failed the device is one data extent, answered at once
// also when I/O would queue for a path (queue_if_no_path): nothing a path
// answered before stays a hole. Reinstating a path restores the map.
TEST_P(MpathNoPath, IsOneDataExtentAtOnceUntilAPathIsBack)
{
	Paths p(true, GetParam());
	const ExtentMap want = write_regular(p);
	UniqueFd fd = open_or_throw(p.dm().path(), O_RDONLY);
	ASSERT_TRUE(MapIs(fd.get(), kSize, want));
	p.fail(0);
	p.fail(1);
	std::future<seekmap::Walk> walk;
	std::future<int64_t> hole;
	// I/O queued meanwhile (none should be) fails rather than waits.
	ScopeExit back([&] {
		p.dm().message("fail_if_no_path");
		p.reinstate(0);
		p.reinstate(1);
	});
	walk = async_walk(fd.get(), kSize);
	ASSERT_TRUE(AnswersWithin(walk, "a walk with no usable path", kShortBound));
	seekmap::Walk w = walk.get();
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(w.map, (ExtentMap{{0, kSize}}));
	hole = std::async(std::launch::async, [&] {
		return seekmap::seek(fd.get(), 512 * KiB + 4 * KiB, SEEK_HOLE);
	});
	ASSERT_TRUE(AnswersWithin(hole, "SEEK_HOLE with no usable path", kShortBound));
	EXPECT_EQ(hole.get(), kSize);
	p.reinstate(1);
	EXPECT_TRUE(MapIs(fd.get(), kSize, want));
	p.reinstate(0);
	EXPECT_TRUE(MapIs(fd.get(), kSize, want));
}

INSTANTIATE_TEST_SUITE_P(Features, MpathNoPath,
			 ::testing::Values("0", "1 queue_if_no_path"),
			 [](const auto &info) {
				 return std::string(info.index ? "QueueIfNoPath"
								: "FailIfNoPath");
			 });

class MpathAllData : public DeviceTest {};

// Paths to a LUN whose unmapped blocks may read anything (LBPRZ clear) are
// all data, and so is the multipath device, although the LUN unmaps for
// real (sg_get_lba_status sees the blocks deallocated).
TEST_F(MpathAllData, LunWithoutLbprzIsAllData)
{
	Paths p(false);
	{
		UniqueFd wfd = open_or_throw(p.dm().path(), O_RDWR | O_DIRECT);
		discard(wfd.get(), 0, kSize);
		direct_write(wfd.get(), 1 * MiB, 64 * KiB, 3);
	}
	ASSERT_EQ(sg_lba_status_map(p.path(1), kSize, kLbs),
		  (ExtentMap{{1 * MiB, 1 * MiB + 64 * KiB}}));
	const ExtentMap all = {{0, kSize}};
	UniqueFd fd = open_or_throw(p.dm().path(), O_RDONLY);
	EXPECT_TRUE(MapAndSeeksAre(fd.get(), kSize, all));
	UniqueFd path_fd = open_or_throw(p.path(0), O_RDONLY);
	EXPECT_TRUE(MapIs(path_fd.get(), kSize, all));
}

} // namespace
} // namespace seektest
