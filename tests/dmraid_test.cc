// SPDX-License-Identifier: GPL-2.0
// device-mapper's redundant targets: "raid" (dm-raid, LVM's raid LVs,
// through the md personalities) and "mirror" (dm-raid1, LVM's legacy
// mirror). The expected maps come from the legs' backing files and the
// table: a raid1 set is the union of its legs, a raid0 set interleaves its
// legs chunk by chunk (as dm-stripe does: dm_expected_map()), the parity
// and raid10 levels are all data; an in-sync mirror reads from its default
// leg, and a mirror still resyncing is all data.
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <sstream>
#include <unistd.h>

#include "common/expected.h"
#include "raid_fixtures.h"

namespace seektest {
namespace {

using namespace raid;

constexpr int64_t kLegSize = 64 * MiB;

std::vector<std::unique_ptr<Member>> legs(int n, int64_t size = kLegSize)
{
	std::vector<std::unique_ptr<Member>> v;
	for (int i = 0; i < n; i++)
		v.push_back(std::make_unique<Member>(size));
	return v;
}

// "#devs - DEV - DEV ...": legs without metadata devices.
std::string raid_devs(const std::vector<std::unique_ptr<Member>> &ls)
{
	std::string s = std::to_string(ls.size());
	for (const auto &l : ls)
		s += " - " + l->loop.path();
	return s;
}

std::string status_of(const DmDevice &dm)
{
	dm::Table st = dm.status();
	return st.empty() ? "" : st[0].type + " " + st[0].params;
}

class DmRaidMap : public RaidTest {};

// A raid1 set (no metadata devices: data from sector 0 of each leg,
// nosync: in sync at once) reads from either leg: the union of theirs.
// Data on the second leg alone is data.
TEST_F(DmRaidMap, Raid1SetIsTheUnionOfItsLegs)
{
	auto ls = legs(2);
	ls[0]->file.write(4 * MiB, 128 * KiB, 1);
	ls[1]->file.write(4 * MiB + 64 * KiB, 256 * KiB, 2);	// overlaps
	ls[1]->file.write(17 * MiB + 4 * KiB, 4 * KiB, 3);	// leg 1 only
	ls[1]->file.write(kLegSize - 4 * KiB, 4 * KiB, 4);	// the end
	ls[0]->file.write(50 * MiB, 1 * MiB, 5);			// leg 0 only
	DmDevice dm("0 " + sectors_of(kLegSize) + " raid raid1 2 0 nosync " +
		    raid_devs(ls));
	SCOPED_TRACE(status_of(dm));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	ASSERT_EQ(size, kLegSize);
	const ExtentMap want =
		union_of({ls[0]->copy_map(0, size), ls[1]->copy_map(0, size)});
	ASSERT_EQ(want.size(), 4u) << seekmap::to_string(want);
	ExpectMap(fd.get(), size, want);
	// Writes through the set reach both legs.
	write_direct(dm.path(), 30 * MiB, 64 * KiB);
	EXPECT_EQ(ls[0]->copy_map(0, size), union_of({ls[0]->copy_map(0, size),
			{{30 * MiB, 30 * MiB + 64 * KiB}}}));
	drop_cache(fd.get());
	ExpectMap(fd.get(), size,
		  union_of({ls[0]->copy_map(0, size), ls[1]->copy_map(0, size)}));
}

// A raid1 set made without its first leg ("- -") answers from the leg it
// has.
TEST_F(DmRaidMap, DegradedRaid1SetAnswersFromTheLegLeft)
{
	auto ls = legs(1);
	ls[0]->file.write(6 * MiB, 192 * KiB, 1);
	ls[0]->file.write(kLegSize - 8 * KiB, 8 * KiB, 2);
	DmDevice dm("0 " + sectors_of(kLegSize) +
		    " raid raid1 2 0 nosync 2 - - - " + ls[0]->loop.path());
	SCOPED_TRACE(status_of(dm));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	ASSERT_EQ(size, kLegSize);
	ExpectMap(fd.get(), size, ls[0]->copy_map(0, size));
}

// A raid0 set interleaves its legs chunk by chunk: chunk c of the set is
// chunk c / n of leg c % n (legs of equal size, one zone).
TEST_F(DmRaidMap, Raid0SetInterleavesItsLegsByChunk)
{
	const int64_t chunk = 64 * KiB;
	auto ls = legs(3);
	ls[0]->file.write(0, 4 * KiB, 1);			// set chunk 0
	ls[1]->file.write(chunk - 4 * KiB, 8 * KiB, 2);	// ends chunk 1, starts 4
	ls[2]->file.write(10 * chunk, 3 * chunk, 3);		// set chunks 32, 35, 38
	ls[0]->file.write(5 * MiB + 12 * KiB, 4 * KiB, 4);
	ls[2]->file.write(kLegSize - chunk, chunk, 5);		// the set's last chunk
	const int64_t size = 3 * kLegSize;
	DmDevice dm("0 " + sectors_of(size) + " raid raid0 1 " +
		    sectors_of(chunk) + " " + raid_devs(ls));
	SCOPED_TRACE(status_of(dm));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	ASSERT_EQ(size_of(fd.get()), size);
	TargetMap t{TargetMap::Striped, size, {}, 0, chunk};
	for (const auto &l : ls)
		t.maps.push_back(l->file.map());
	const ExtentMap want = dm_expected_map({t});
	ExpectMap(fd.get(), size, want);
}

// raid10 and raid5 sets are all data, over legs that are all hole (the
// data a raid10 near layout could answer for is not translated yet;
// parity never lets a leg's hole alone make a stripe read zeros).
class DmRaidAllData : public RaidTest,
		      public ::testing::WithParamInterface<const char *> {};

TEST_P(DmRaidAllData, SetOverEmptyLegsIsAllData)
{
	const std::string level = GetParam();
	const bool raid5 = level.rfind("raid5", 0) == 0;
	auto ls = legs(raid5 ? 3 : 2);
	// raid10 near, 2 copies on 2 legs: one leg's size; raid5 on 3
	// legs: two legs' size.
	const int64_t size = raid5 ? 2 * kLegSize : kLegSize;
	// raid10 takes its layout only for a new set, one with metadata
	// devices (without, dm-raid keeps layout 0, which raid10 refuses).
	auto meta = legs(raid5 ? 0 : 2, 8 * MiB);
	std::string devs = raid_devs(ls);
	if (!raid5) {
		devs = std::to_string(ls.size());
		for (size_t i = 0; i < ls.size(); i++)
			devs += " " + meta[i]->loop.path() + " " + ls[i]->loop.path();
	}
	const std::string params = raid5 ? "2 128 nosync"
				   : "6 128 nosync raid10_copies 2 raid10_format near";
	DmDevice dm("0 " + sectors_of(size) + " raid " + level + " " + params +
		    " " + devs);
	SCOPED_TRACE(status_of(dm));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	ASSERT_EQ(size_of(fd.get()), size);
	EXPECT_TRUE(MapIs(fd.get(), size, {{0, size}}));
	EXPECT_TRUE(SeekAnswers(fd.get(), size, {{0, size}}, size / 2));
}

INSTANTIATE_TEST_SUITE_P(Level, DmRaidAllData,
			 ::testing::Values("raid10", "raid5_ls"));

// The in-sync count of a mirror's status ("2 A B IN/ALL 1 AA 1 core"):
// {in sync, regions}.
std::pair<int64_t, int64_t> mirror_sync(const DmDevice &dm)
{
	dm::Table st = dm.status();
	std::istringstream in(st.at(0).params);
	std::string n, tok;
	in >> n;
	for (int i = 0, k = std::stoi(n); i < k; i++)
		in >> tok;
	in >> tok;
	size_t slash = tok.find('/');
	if (slash == std::string::npos)
		throw std::runtime_error("mirror status " + st[0].params);
	return {std::stoll(tok.substr(0, slash)), std::stoll(tok.substr(slash + 1))};
}

std::string mirror_table(int64_t size, const std::vector<std::unique_ptr<Member>> &ls,
			 bool nosync, int64_t region = 512 * KiB)
{
	std::string t = "0 " + sectors_of(size) + " mirror core " +
			(nosync ? "2 " : "1 ") + sectors_of(region) +
			(nosync ? " nosync " : " ") + std::to_string(ls.size());
	for (const auto &l : ls)
		t += " " + l->loop.path() + " 0";
	return t;
}

// Wait (at most 20 s) for the map of @fd to become @want, as a mirror that
// is in sync by its log answers once its worker has seen so; every walk on
// the way must be sound.
void WaitForMap(int fd, int64_t size, const ExtentMap &want)
{
	WaitFor([&] {
		seekmap::Walk w = seekmap::walk(fd, size);
		EXPECT_TRUE(HolesReadZero(fd, size, w.map));
		return w.map == want;
	}, std::chrono::seconds(20), std::chrono::milliseconds(100));
}

class DmMirrorMap : public RaidTest {};

// An in-sync mirror (nosync: every region in sync at once) of identical
// legs reports their holes.
TEST_F(DmMirrorMap, InSyncMirrorReportsTheHolesOfItsLegs)
{
	auto ls = legs(2);
	for (const auto &l : ls) {
		l->file.write(0, 64 * KiB, 1);
		l->file.write(9 * MiB + 4 * KiB, 8 * KiB, 2);
		l->file.write(kLegSize - 1 * MiB, 1 * MiB, 3);
	}
	ASSERT_EQ(ls[0]->file.map(), ls[1]->file.map());
	DmDevice dm(mirror_table(kLegSize, ls, true));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	auto [in, all] = mirror_sync(dm);
	EXPECT_EQ(in, all) << status_of(dm);
	const ExtentMap want = ls[0]->copy_map(0, size);
	WaitForMap(fd.get(), size, want);
	ExpectMap(fd.get(), size, want);
}

// An in-sync mirror whose legs differ (nosync over legs that were never
// the same): a read goes to the default leg (leg 0, without errors), so
// every hole reported must read as zeros through the mirror, and the map
// is that leg's.
TEST_F(DmMirrorMap, InSyncMirrorOfDifferentLegsAnswersAsItsReadsGo)
{
	auto ls = legs(2);
	ls[0]->file.write(2 * MiB, 128 * KiB, 1);	// leg 0 only
	ls[1]->file.write(12 * MiB, 256 * KiB, 2);	// leg 1 only
	ls[0]->file.write(40 * MiB, 64 * KiB, 3);	// both
	ls[1]->file.write(40 * MiB, 64 * KiB, 3);
	DmDevice dm(mirror_table(kLegSize, ls, true));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	const ExtentMap want = ls[0]->copy_map(0, size);
	WaitForMap(fd.get(), size, want);
	seekmap::Walk w = seekmap::walk(fd.get(), size);
	EXPECT_EQ(w.error, "");
	// Soundness first: what the mirror reads where it says hole.
	EXPECT_TRUE(HolesReadZero(fd.get(), size, w.map))
		<< "map " << seekmap::to_string(w.map);
	ExpectMap(fd.get(), size, want);
}

// With handle_errors, a read error on the default leg makes the other leg
// the default, which reads go to from then on, so the map follows: it is
// the other leg's; with no leg left to read from, reads fail and it is all
// data. (Without handle_errors the failed leg stays the default and the
// mirror answers all data: a region it has not marked in sync would read
// from it and fail.) The legs are dm devices over the loop devices,
// reloaded as "error" to fail.
TEST_F(DmMirrorMap, MapFollowsTheReadsPastAFailedLeg)
{
	auto ls = legs(2);
	ls[0]->file.write(3 * MiB, 64 * KiB, 1);	// leg 0 only
	ls[1]->file.write(21 * MiB, 128 * KiB, 2);	// leg 1 only
	for (const auto &l : ls)
		l->file.write(44 * MiB, 64 * KiB, 3);	// both
	std::vector<std::unique_ptr<DmDevice>> dms;
	for (const auto &l : ls)
		dms.push_back(std::make_unique<DmDevice>(
			"0 " + sectors_of(kLegSize) + " linear " + l->loop.path() + " 0"));
	DmDevice dm("0 " + sectors_of(kLegSize) + " mirror core 2 1024 nosync 2 " +
		    dms[0]->path() + " 0 " + dms[1]->path() + " 0 1 handle_errors");
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	WaitForMap(fd.get(), size, ls[0]->copy_map(0, size));
	ExpectMap(fd.get(), size, ls[0]->copy_map(0, size));

	// A read fails on leg 0 and is retried on leg 1, the default from
	// now on.
	auto read_one = [&](int64_t off) {
		UniqueFd direct = open_or_throw(dm.path(), O_RDONLY | O_DIRECT);
		void *p = nullptr;
		if (posix_memalign(&p, 4096, 4096))
			throw std::bad_alloc();
		std::unique_ptr<void, decltype(&free)> buf(p, free);
		return pread(direct.get(), p, 4096, off);
	};
	dms[0]->reload("0 " + sectors_of(kLegSize) + " error");
	ASSERT_EQ(read_one(21 * MiB), 4096) << "the read was not retried on leg 1";
	drop_cache(fd.get());
	ExpectMap(fd.get(), size, ls[1]->copy_map(0, size));

	// No leg left: reads fail, all data.
	dms[1]->reload("0 " + sectors_of(kLegSize) + " error");
	EXPECT_LT(read_one(44 * MiB), 0);
	drop_cache(fd.get());
	seekmap::Walk w = seekmap::walk(fd.get(), size);
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(w.map, ExtentMap({{0, size}}));
}

// While the mirror resyncs (no nosync; kcopyd throttled so that it lasts),
// some regions are not in sync and their legs may differ: the whole
// device is one data extent.
TEST_F(DmMirrorMap, ResyncingMirrorIsAllData)
{
	const std::string throttle =
		"/sys/module/dm_mirror/parameters/raid1_resync_throttle";
	std::unique_ptr<ScopedSysValue> slow;
	if (access(throttle.c_str(), W_OK) == 0)
		slow = std::make_unique<ScopedSysValue>(throttle, "1");
	const int64_t size = 128 * MiB;
	auto ls = legs(2, size);
	ls[0]->file.write(1 * MiB, 64 * KiB, 1);
	DmDevice dm(mirror_table(size, ls, false, 256 * KiB));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	ASSERT_EQ(size_of(fd.get()), size);
	EXPECT_TRUE(MapIs(fd.get(), size, {{0, size}}));
	EXPECT_TRUE(SeekAnswers(fd.get(), size, {{0, size}}, 8 * MiB));
	auto [in, all] = mirror_sync(dm);
	EXPECT_LT(in, all) << "the resync ended during the test: it proved "
			      "nothing (" << status_of(dm) << ")";
}

} // namespace
} // namespace seektest
