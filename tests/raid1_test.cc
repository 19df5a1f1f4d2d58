// SPDX-License-Identifier: GPL-2.0
// md raid1 reads from any one of its copies, so its map is the union of
// the copies' data: a hole only where every copy that a read could use has
// a hole. The copies are loop devices on sparse tmpfs files, and the
// expected map comes from those files' own maps, shifted by each member's
// data offset (sysfs dev-loopN/offset); data written behind md's back to
// one copy makes the copies differ. The parity levels are all data.
#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <future>
#include <iostream>
#include <memory>
#include <random>
#include <thread>
#include <unistd.h>

#include "raid_fixtures.h"

namespace seektest {
namespace {

using namespace raid;

constexpr int64_t kMemberSize = 64 * MiB;

// @n members of kMemberSize.
std::vector<std::unique_ptr<Member>> members(int n)
{
	std::vector<std::unique_ptr<Member>> v;
	for (int i = 0; i < n; i++)
		v.push_back(std::make_unique<Member>(kMemberSize));
	return v;
}

std::vector<std::string> paths(const std::vector<std::unique_ptr<Member>> &ms)
{
	std::vector<std::string> v;
	for (const auto &m : ms)
		v.push_back(m->loop.path());
	return v;
}

// The union of the copies of @ms in @md, for @size bytes.
ExtentMap copies_union(const MdArray &md,
		       const std::vector<const Member *> &ms, int64_t size)
{
	std::vector<ExtentMap> maps;
	for (const Member *m : ms)
		maps.push_back(md.copy_map(*m, size));
	return union_of(maps);
}

std::vector<const Member *> all(const std::vector<std::unique_ptr<Member>> &ms)
{
	std::vector<const Member *> v;
	for (const auto &m : ms)
		v.push_back(m.get());
	return v;
}

// Number of copies.
class Raid1Map : public RaidTest, public ::testing::WithParamInterface<int> {};

// Writes through the array reach every copy: the map is each copy's.
TEST_P(Raid1Map, WritesThroughTheArrayAreData)
{
	auto ms = members(GetParam());
	MdArray md("1", paths(ms));
	write_direct(md.path(), 0, 64 * KiB);
	write_direct(md.path(), 5 * MiB + 4 * KiB, 12 * KiB);
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	write_direct(md.path(), size - 8 * KiB, 8 * KiB);
	drop_cache(fd.get());
	// The members' data starts past their superblock: a map that
	// ignored it would be shifted.
	for (const auto &m : ms)
		EXPECT_GT(md.data_offset(*m), 0);
	ExtentMap want = copies_union(md, all(ms), size);
	SCOPED_TRACE("copy 0 " + seekmap::to_string(md.copy_map(*ms[0], size)));
	EXPECT_EQ(want, ExtentMap({{0, 64 * KiB},
				   {5 * MiB + 4 * KiB, 5 * MiB + 16 * KiB},
				   {size - 8 * KiB, size}}));
	ExpectMap(fd.get(), size, want);
}

// A fresh array over empty copies is one hole, and reads zeros.
TEST_P(Raid1Map, EmptyCopiesAreOneHole)
{
	auto ms = members(GetParam());
	MdArray md("1", paths(ms));
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	ExtentMap want = copies_union(md, all(ms), size);
	EXPECT_EQ(want, ExtentMap{});
	ExpectMap(fd.get(), size, want);
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_DATA), -ENXIO);
}

// Data written behind md's back to one copy only (the copies differ, as
// after a write that reached one of them): a read may go to that copy, so
// the range is data, whichever copy holds it. A raid1 answering from one
// copy alone misses the data of the others.
TEST_P(Raid1Map, DataOnEachCopyAloneIsData)
{
	auto ms = members(GetParam());
	MdArray md("1", paths(ms));
	UniqueFd probe = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(probe.get());
	probe.reset();
	for (size_t i = 0; i < ms.size(); i++) {
		const int64_t off = md.data_offset(*ms[i]);
		// A run of its own, and one that overlaps its neighbour's.
		ms[i]->file.write(off + (8 + 8 * int64_t(i)) * MiB, 256 * KiB, i + 1);
		ms[i]->file.write(off + 40 * MiB + int64_t(i) * 96 * KiB,
				  128 * KiB, i + 11);
	}
	// The last copy alone holds the end of the array.
	Member &last = *ms.back();
	last.file.write(md.data_offset(last) + size - 4 * KiB, 4 * KiB, 99);
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	drop_cache(fd.get());
	ExtentMap want = copies_union(md, all(ms), size);
	std::string copies;
	for (size_t i = 0; i < ms.size(); i++)
		copies += "copy " + std::to_string(i) + " " +
			  seekmap::to_string(md.copy_map(*ms[i], size)) + "\n";
	SCOPED_TRACE(copies);
	ASSERT_EQ(want.size(), ms.size() + 2) << seekmap::to_string(want);
	ExpectMap(fd.get(), size, want);
}

// A copy set faulty is no longer read: its own data leaves the map; once
// removed from the array too.
TEST_P(Raid1Map, FailedCopyIsNoLongerAsked)
{
	auto ms = members(GetParam());
	MdArray md("1", paths(ms));
	UniqueFd probe = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(probe.get());
	probe.reset();
	write_direct(md.path(), 1 * MiB, 64 * KiB);
	Member &gone = *ms.back();
	gone.file.write(md.data_offset(gone) + 20 * MiB, 512 * KiB, 5);
	const ExtentMap with = copies_union(md, all(ms), size);
	std::vector<const Member *> rest = all(ms);
	rest.pop_back();
	const ExtentMap without = copies_union(md, rest, size);
	ASSERT_NE(with, without);
	{
		UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
		ExpectMap(fd.get(), size, with);
	}
	md.manage("--fail", gone);
	{
		UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
		drop_cache(fd.get());
		ExpectMap(fd.get(), size, without);
	}
	md.manage("--remove", gone);
	{
		UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
		ExpectMap(fd.get(), size, without);
	}
}

// An array created degraded (one copy "missing") answers from the copies
// it has.
TEST_P(Raid1Map, DegradedArrayAnswersFromTheCopiesLeft)
{
	auto ms = members(GetParam() - 1);
	std::vector<std::string> devs = paths(ms);
	devs.insert(devs.begin(), "missing");
	MdArray md("1", devs);
	UniqueFd probe = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(probe.get());
	probe.reset();
	write_direct(md.path(), 3 * MiB, 128 * KiB);
	Member &last = *ms.back();
	last.file.write(md.data_offset(last) + 30 * MiB, 64 * KiB, 3);
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	drop_cache(fd.get());
	ExtentMap want = copies_union(md, all(ms), size);
	ASSERT_EQ(want.size(), 2u) << seekmap::to_string(want);
	ExpectMap(fd.get(), size, want);
}

// A range recorded bad on a copy (its bad block log, sysfs bad_blocks, in
// sectors of the member) is data, though every copy has a hole there
// (Documentation/block/seek-hole-data.rst: a copy's bad blocks are data),
// and nothing else is. A raid1 that ignores the bad block log reports the
// range as a hole.
TEST_P(Raid1Map, BadBlocksOnACopyAreData)
{
	auto ms = members(GetParam());
	MdArray md("1", paths(ms));
	UniqueFd probe = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(probe.get());
	probe.reset();
	write_direct(md.path(), 2 * MiB, 64 * KiB);
	Member &bad = *ms.back();
	const int64_t off = md.data_offset(bad);
	const Extent badr = {24 * MiB, 24 * MiB + 64 * KiB};
	run_or_throw("echo " + sectors_of(off + badr.start) + " " +
		     sectors_of(badr.length()) + " > " +
		     md.sys("dev-" + bad.name() + "/bad_blocks"));
	SCOPED_TRACE("bad_blocks: " + md.attr("dev-" + bad.name() + "/bad_blocks"));
	ASSERT_NE(md.attr("dev-" + bad.name() + "/bad_blocks"), "");
	const ExtentMap copies = copies_union(md, all(ms), size);
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	seekmap::Walk w = seekmap::walk(fd.get(), size);
	EXPECT_EQ(w.error, "");
	// The bad range and every copy's data are data, nothing else: the
	// copy is asked for the ranges between its bad blocks.
	ExtentMap must = copies;
	must.push_back(badr);
	EXPECT_TRUE(WalkIs(w, fd.get(), size, seekmap::normalize(must)));
}

// Seeded random layouts: runs written to and punched from each copy
// behind md's back, round after round on one array; after each round the
// map is the union of the copies. SEEK_TEST_SEED replays a run.
TEST_P(Raid1Map, RandomCopiesMapAsTheirUnion)
{
	const uint64_t seed = seed_from_env();
	RecordProperty("seed", std::to_string(seed));
	std::mt19937_64 rng(seed);
	auto ms = members(GetParam());
	MdArray md("1", paths(ms));
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	for (int round = 0; round < 2; round++) {
		for (auto &m : ms) {
			const int64_t base = md.data_offset(*m);
			for (int i = 0, n = rng() % 6; i < n; i++) {
				// Sector-aligned runs from a sector to 1 MiB,
				// a third of them ending the array.
				int64_t len = (1 + rng() % 2048) * Sector;
				int64_t off = rng() % 3 ? (rng() % ((size - len) / Sector)) * Sector
							: size - len;
				if (rng() % 4)
					m->file.write(base + off, len, rng());
				else
					m->file.punch(base + off, len);
			}
		}
		drop_cache(fd.get());
		const ExtentMap want = copies_union(md, all(ms), size);
		SCOPED_TRACE("replay: SEEK_TEST_SEED=" + std::to_string(seed) +
			     ", round " + std::to_string(round));
		EXPECT_TRUE(MapIs(fd.get(), size, want));
		for (int i = 0; i < 8; i++)
			EXPECT_TRUE(SeekAnswers(fd.get(), size, want, rng() % size));
		if (HasFailure())
			break;
	}
}

INSTANTIATE_TEST_SUITE_P(Copies, Raid1Map, ::testing::Values(2, 3),
			 [](const ::testing::TestParamInfo<int> &i) {
				 return std::to_string(i.param);
			 });

class Raid1Recovery : public RaidTest {};

// While a spare is added and recovered (throttled so that it runs for the
// whole test), and while a copy is failed and removed, walks answer at
// once and soundly: every hole reads zeros, and every data range of the
// copy that stays is data. The walk does not wait for the recovery.
TEST_F(Raid1Recovery, WalksDuringRecoveryAreSoundAndDoNotWait)
{
	ScopedSysValue min("/proc/sys/dev/raid/speed_limit_min", "1");
	ScopedSysValue max("/proc/sys/dev/raid/speed_limit_max", "50");
	Member a(kMemberSize), spare(kMemberSize), third(kMemberSize);
	MdArray md("1", {a.loop.path(), "missing"});
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	for (int64_t off : {int64_t(0), 7 * MiB, 33 * MiB, size - 64 * KiB})
		write_direct(md.path(), off, 64 * KiB);
	const ExtentMap kept = md.copy_map(a, size);
	auto check = [&](const char *when) {
		SCOPED_TRACE(when);
		auto f = std::async(std::launch::async, [&] {
			return seekmap::walk_changing(fd.get(), size, 0, size);
		});
		if (!AnswersWithin(f, std::string("walk ") + when))
			return;
		seekmap::Walk w = f.get();
		EXPECT_EQ(w.error, "");
		for (const Extent &e : kept)
			EXPECT_EQ(seekmap::window(w.map, e.start, e.end),
				  ExtentMap({{0, e.length()}}))
				<< "data [" << e.start << "," << e.end
				<< ") missing from " << seekmap::to_string(w.map);
		EXPECT_TRUE(HolesReadZero(fd.get(), size, w.map));
	};
	check("degraded");
	md.manage("--add", spare);
	ASSERT_TRUE(WaitFor([&] { return md.attr("sync_action") == "recover"; },
			    std::chrono::seconds(10)))
		<< "sync_action " << md.attr("sync_action");
	for (int i = 0; i < 3; i++)
		check("recovering");
	// A member added and failed while a walk runs.
	auto churn = std::async(std::launch::async, [&] {
		md.manage("--add", third);
		md.manage("--fail", third);
		md.manage("--remove", third);
	});
	check("while a member is added and removed");
	churn.get();
	EXPECT_EQ(md.attr("sync_action"), "recover")
		<< "the recovery ended during the test: it proved nothing";
	check("recovering, after the churn");
}

// The parity levels are all data, whatever the members hold: a stripe
// reads as zeros only where data and parity agree, which a member's hole
// does not tell.
class RaidParityMap : public RaidTest {};

TEST_F(RaidParityMap, Raid5OverEmptyMembersIsAllData)
{
	auto ms = members(3);
	MdArray md("5", paths(ms), "--assume-clean --chunk=64");
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	EXPECT_TRUE(MapIs(fd.get(), size, {{0, size}}));
	EXPECT_TRUE(SeekAnswers(fd.get(), size, {{0, size}}, size / 2));
}

} // namespace
} // namespace seektest
