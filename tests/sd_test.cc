// SPDX-License-Identifier: GPL-2.0
// SCSI disks (sd) answer from GET LBA STATUS when READ CAPACITY(16) reports
// LBPME and LBPRZ: an unmapped block reads zeros and is a hole, a mapped
// block is data. Without LBPRZ or without provisioning the disk is all
// data. The disks are scsi_debug's, loaded for each test with its own
// provisioning parameters (they are load-time only) from the module the
// runner names in SEEK_TEST_SCSI_DEBUG (harness/check: the build tree's
// drivers/scsi/scsi_debug.ko).
//
// Ground truth comes from outside the code under test: what the test wrote
// and unmapped (BLKDISCARD), in logical blocks (scsi_debug's default unmap
// granularity is one block), and, as a second view, sg_get_lba_status from
// sg3-utils, which sends GET LBA STATUS from user space. Every reported
// hole is read back.
//
// scsi_debug answers one descriptor per command, so a walk costs about two
// commands per lseek(); its command counter (statistics=1) bounds that.
// Its error injection (debugfs) makes the command fail: ILLEGAL REQUEST
// (the disk is all data and is not asked again) or MEDIUM ERROR (EIO).
// The race deletes the disk under a walker that holds it open.
//
// SEEK_TEST_SEED=n replays the seeded layouts.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <future>
#include <glob.h>
#include <iostream>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "common/units.h"
#include "fault_fixtures.h"
#include "liveness.h"
#include "ram_fixtures.h"
#include "scsi_debug.h"

namespace seektest {
namespace {

using std::chrono::milliseconds;

using namespace units;

// scsi_debug parameters for a disk that unmaps and reads zeros from
// unmapped blocks (LBPME and LBPRZ), counting its commands.
std::string lbp_params(int64_t lbs, int size_mb = 64)
{
	return "lbpu=1 lbprz=1 delay=0 statistics=1 dev_size_mb=" +
	       std::to_string(size_mb) + " sector_size=" + std::to_string(lbs);
}

// The map write_one_extent() leaves.
const ExtentMap kOneExtent = {{4 * MiB, 4 * MiB + 8 * KiB}};

class Sd : public DeviceTest {
protected:
	// Empty the disk (@size bytes) and write 8 KiB at 4 MiB.
	static void write_one_extent(const ScsiDebug &sd, int64_t size)
	{
		UniqueFd wfd = open_or_throw(sd.path(), O_RDWR | O_DIRECT);
		discard(wfd.get(), 0, size);
		direct_write(wfd.get(), 4 * MiB, 8 * KiB, 1);
	}
};
class SdRace : public DeviceTest {};

// GET LBA STATUS that fails: a query never waits seconds for the device and
// fails only with what a read of the same blocks would get (medium and
// hardware errors); a change the device reports drops the disk's
// qualification until it is revalidated.
class SdErrors : public Sd {
protected:
	// The longest a query may take when GET LBA STATUS times out or the
	// device stays busy: sd's 2 s command timeout (the block layer rounds
	// it up to the next second), scsi_debug's error handling (it cannot
	// abort a dropped command: the host resets the device) and slack for
	// a loaded guest. Before, a query took 30 s (timeout) and 60 s (BUSY).
	static constexpr std::chrono::seconds kShortBound{12};

	// SEEK_DATA and SEEK_HOLE at 0 answer "data" (0 and size), each within
	// kShortBound; the time of the slower.
	static std::chrono::steady_clock::duration
	expect_data_within(int fd, int64_t size)
	{
		using Clock = std::chrono::steady_clock;
		Clock::duration worst{};
		for (int whence : {SEEK_DATA, SEEK_HOLE}) {
			auto t0 = Clock::now();
			auto q = std::async(std::launch::async, [=] {
				return seekmap::seek(fd, 0, whence);
			});
			if (!AnswersWithin(q, "a query of a failing disk",
					   kShortBound))
				continue;
			worst = std::max(worst, Clock::now() - t0);
			EXPECT_EQ(q.get(), whence == SEEK_DATA ? 0 : size)
				<< (whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE");
		}
		return worst;
	}
};
class SdMap : public DeviceTest, public ::testing::WithParamInterface<int64_t> {};

// Written blocks are data, never-written and unmapped blocks holes, on
// 512- and 4096-byte blocks; the kernel's map equals what the test did and
// what sg_get_lba_status reports.
TEST_P(SdMap, WrittenBlocksAreDataUnmappedBlocksHoles)
{
	const int64_t lbs = GetParam();
	const uint64_t seed = seed_from_env();
	SCOPED_TRACE("replay: SEEK_TEST_SEED=" + std::to_string(seed));
	std::mt19937_64 rng(seed);
	ScsiDebug sd(lbp_params(lbs, 32));
	UniqueFd wfd = open_or_throw(sd.path(), O_RDWR | O_DIRECT);
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	ASSERT_EQ(size, 32 * MiB);
	RamModel model(size, lbs);
	discard(wfd.get(), 0, size);
	// A block at each end, then a seeded layout.
	direct_write(wfd.get(), 0, lbs, uint32_t(seed));
	model.write(0, lbs);
	direct_write(wfd.get(), size - lbs, lbs, uint32_t(seed));
	model.write(size - lbs, lbs);
	random_layout(wfd.get(), size, lbs, 512 * KiB, 12, rng, model, uint32_t(seed));
	const ExtentMap want = model.map(size);
	ASSERT_GT(want.size(), 3u);
	ASSERT_EQ(sg_lba_status_map(sd.path(), size, lbs), want)
		<< "the disk's own GET LBA STATUS disagrees with what was written";
	EXPECT_TRUE(MapAndSeeksAre(fd.get(), size, want));
	for (const Extent &e : want)
		ExpectPattern(fd.get(), e.start, std::min<int64_t>(e.length(), lbs),
			      uint32_t(seed));
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, SdMap, ::testing::Values(512, 4096),
			 [](const auto &info) { return std::to_string(info.param); });

// A partition answers its own range, in its own coordinates.
TEST_F(Sd, PartitionsAnswerTheirOwnRange)
{
	const int64_t lbs = 4096;
	ScsiDebug sd(lbp_params(lbs));
	const int64_t size = 64 * MiB;
	RamModel model(size, lbs);
	{
		UniqueFd wfd = open_or_throw(sd.path(), O_RDWR | O_DIRECT);
		discard(wfd.get(), 0, size);
	}
	// The table in block 0 only (dos label); partitions at 1 and 33 MiB.
	common::write_partition_table(sd.path(), Label::dos,
			      {{1 * MiB, 32 * MiB}, {33 * MiB, 30 * MiB}});
	reread_partitions(sd.path());
	model.write(0, lbs);
	UniqueFd wfd = open_or_throw(sd.path(), O_RDWR | O_DIRECT);
	for (int64_t off : {1 * MiB - lbs, 1 * MiB, 20 * MiB + lbs, 33 * MiB - lbs,
			    40 * MiB, 64 * MiB - lbs}) {
		direct_write(wfd.get(), off, lbs, 5);
		model.write(off, lbs);
	}
	const ExtentMap disk = model.map(size);
	ASSERT_EQ(sg_lba_status_map(sd.path(), size, lbs), disk);
	const std::pair<int64_t, int64_t> parts[] = {{1 * MiB, 33 * MiB},
						     {33 * MiB, 63 * MiB}};
	for (int n = 1; n <= 2; n++) {
		auto [begin, end] = parts[n - 1];
		std::string path = sd.path() + std::to_string(n);
		SCOPED_TRACE(path);
		wait_for_node(path);
		UniqueFd part = open_or_throw(path, O_RDONLY);
		ASSERT_EQ(size_of(part.get()), end - begin);
		// In the partition's coordinates.
		const ExtentMap want = seekmap::window(disk, begin, end);
		EXPECT_TRUE(MapAndSeeksAre(part.get(), end - begin, want));
	}
}

struct AllDataCase {
	const char *name;
	const char *params;
	bool unmaps;     // discards unmap blocks (sg_get_lba_status shows it)
	int64_t size;
};

void PrintTo(const AllDataCase &c, std::ostream *os) { *os << c.name; }

class SdAllData : public DeviceTest,
		  public ::testing::WithParamInterface<AllDataCase> {};

// A disk whose unmapped blocks may read anything (LBPRZ clear), a disk
// without provisioning and a disk of 3 TiB without it are all data. The
// first unmaps for real: a kernel that ignored LBPRZ would report the
// unmapped range as a hole (sg_get_lba_status sees it deallocated).
TEST_P(SdAllData, IsAllData)
{
	const AllDataCase &c = GetParam();
	ScsiDebug sd(std::string(c.params) + " delay=0");
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	ASSERT_EQ(size, c.size);
	if (c.unmaps) {
		UniqueFd wfd = open_or_throw(sd.path(), O_RDWR | O_DIRECT);
		discard(wfd.get(), 0, size);
		direct_write(wfd.get(), 1 * MiB, 64 * KiB, 3);
		ASSERT_EQ(sg_lba_status_map(sd.path(), size, 512),
			  (ExtentMap{{1 * MiB, 1 * MiB + 64 * KiB}}));
	}
	const ExtentMap all = {{0, size}};
	EXPECT_TRUE(MapIs(fd.get(), size, all));
	for (int64_t off : {int64_t(0), int64_t(1), size / 2, (int64_t(1) << 41) + 1,
			    size - 1, size, size + 1, int64_t(-1)})
		if (off < size + 2) {
			EXPECT_TRUE(SeekAnswers(fd.get(), size, all, off));
		}
}

INSTANTIATE_TEST_SUITE_P(
	Configs, SdAllData,
	::testing::Values(
		AllDataCase{"UnmapWithoutLbprz", "lbpu=1 lbprz=0 dev_size_mb=16",
			    true, 16 * MiB},
		AllDataCase{"NoProvisioning", "lbpu=0 lbpws=0 lbpws10=0 dev_size_mb=16",
			    false, 16 * MiB},
		// virtual_gb with provisioning reads past scsi_debug's map.
		AllDataCase{"Over2TiBWithoutProvisioning",
			    "lbpu=0 lbpws=0 lbpws10=0 dev_size_mb=8 virtual_gb=3072",
			    false, 3072 * 1024 * MiB}),
	[](const auto &info) { return std::string(info.param.name); });

// A device that rejects GET LBA STATUS (ILLEGAL REQUEST, invalid command
// operation code) is all data from then on, and is not asked again.
TEST_F(Sd, RejectedGetLbaStatusIsAllDataAndNotAskedAgain)
{
	ScsiDebug sd(lbp_params(512));
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	write_one_extent(sd, size);
	// It answers before the rejection.
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_DATA), 4 * MiB);
	sd.fail_get_lba_status(0x5, 0x20);
	const int64_t before = sd.commands();
	seekmap::Walk w = seekmap::walk(fd.get(), size);
	const int64_t asked = sd.commands() - before;
	ASSERT_EQ(w.error, "");
	EXPECT_EQ(w.map, (ExtentMap{{0, size}}));
	EXPECT_EQ(asked, 1) << "the rejection is asked once";
	for (int i = 0; i < 20; i++)
		EXPECT_EQ(seekmap::seek(fd.get(), i * MiB, SEEK_HOLE), size);
	EXPECT_EQ(sd.commands() - before, asked) << "asked again after a rejection";
	// Remembered even when the device would answer again.
	sd.fail_get_lba_status(0, 0);
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_DATA), 0);
}

// A CHECK CONDITION for GET LBA STATUS: sense key, ASC and ASCQ.
struct SenseCase {
	const char *name;
	int key, asc, ascq;
};

void PrintTo(const SenseCase &c, std::ostream *os) { *os << c.name; }

class SdOtherError : public Sd,
		     public ::testing::WithParamInterface<SenseCase> {};

// An error that says nothing of the data (not ready, an LBA out of range,
// an invalid field with a qualifier) is data for that query only: the disk
// answers again once the command succeeds.
TEST_P(SdOtherError, IsDataAndNotRemembered)
{
	const SenseCase e = GetParam();
	ScsiDebug sd(lbp_params(512));
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	write_one_extent(sd, size);
	sd.fail_get_lba_status(e.key, e.asc, e.ascq);
	for (int64_t off : {int64_t(0), 4 * MiB, 8 * MiB}) {
		EXPECT_EQ(seekmap::seek(fd.get(), off, SEEK_DATA), off);
		EXPECT_EQ(seekmap::seek(fd.get(), off, SEEK_HOLE), size);
	}
	sd.fail_get_lba_status(0, 0);
	EXPECT_TRUE(MapIs(fd.get(), size, kOneExtent));
}

INSTANTIATE_TEST_SUITE_P(
	Sense, SdOtherError,
	::testing::Values(SenseCase{"NotReadyFormatInProgress", 0x2, 0x04, 0x0a},
			  SenseCase{"LbaOutOfRange", 0x5, 0x21, 0},
			  SenseCase{"InvalidFieldWithQualifier", 0x5, 0x24, 0x01}),
	[](const auto &info) { return std::string(info.param.name); });

// An offline device is data at once (its queue would fail the command),
// and answers again when it runs.
TEST_F(Sd, OfflineDeviceIsDataUntilItRunsAgain)
{
	ScsiDebug sd(lbp_params(512));
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	write_one_extent(sd, size);
	sd.set_state("offline");
	ScopeExit online([&] { sd.set_state("running"); });
	auto walk = std::async(std::launch::async, [&] {
		return seekmap::walk(fd.get(), size);
	});
	ASSERT_TRUE(AnswersWithin(walk, "a walk of an offline disk"));
	seekmap::Walk w = walk.get();
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(w.map, (ExtentMap{{0, size}}));
	online.run();
	EXPECT_TRUE(MapIs(fd.get(), size, kOneExtent));
}

// A medium error on GET LBA STATUS fails the query with EIO, never a hole;
// the disk answers again once the command succeeds.
TEST_F(Sd, MediumErrorFailsWithEio)
{
	ScsiDebug sd(lbp_params(512));
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	write_one_extent(sd, size);
	sd.fail_get_lba_status(0x3, 0x11);
	for (int64_t off : {int64_t(0), 4 * MiB, 8 * MiB}) {
		EXPECT_EQ(seekmap::seek(fd.get(), off, SEEK_DATA), -EIO) << off;
		EXPECT_EQ(seekmap::seek(fd.get(), off, SEEK_HOLE), -EIO) << off;
	}
	sd.fail_get_lba_status(0, 0);
	EXPECT_TRUE(MapIs(fd.get(), size, kOneExtent));
}

// scsi_debug returns one descriptor per command: a walk costs at most
// two commands per lseek() (the extent at the offset, then the next one),
// not one per block.
TEST_F(Sd, WalkCostsAtMostTwoCommandsPerQuery)
{
	const int64_t lbs = 512;
	ScsiDebug sd(lbp_params(lbs));
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	RamModel model(size, lbs);
	{
		UniqueFd wfd = open_or_throw(sd.path(), O_RDWR | O_DIRECT);
		discard(wfd.get(), 0, size);
		for (int64_t off = 1 * MiB; off < size; off += 3 * MiB) {
			direct_write(wfd.get(), off, 1 * MiB, 7);
			model.write(off, 1 * MiB);
		}
	}
	const int64_t before = sd.commands();
	seekmap::Walk w = seekmap::walk(fd.get(), size);
	const int64_t cmds = sd.commands() - before;
	ASSERT_EQ(w.error, "");
	EXPECT_EQ(w.map, model.map(size));
	std::cout << "[   COST   ] " << w.map.size() << " extents, " << w.calls
		  << " lseek calls, " << cmds << " GET LBA STATUS" << std::endl;
	EXPECT_LE(cmds, int64_t(2 * w.calls));
	EXPECT_GE(cmds, int64_t(w.map.size()));
}

// Deleting the disk (hot-unplug) while a walker holds it open: every
// answer is right, all data, or an error (EIO, ENXIO), never a wrong hole,
// and nothing waits: the queue is frozen and then dying, and the query
// does not wait for it.
TEST_F(SdRace, DeleteWhileAWalkerHoldsItOpen)
{
	const int64_t lbs = 512;
	ScsiDebug sd(lbp_params(lbs));
	const int64_t size = 64 * MiB;
	RamModel model(size, lbs);
	{
		UniqueFd wfd = open_or_throw(sd.path(), O_RDWR | O_DIRECT);
		discard(wfd.get(), 0, size);
		for (int64_t off = 0; off < size; off += 1 * MiB + 512) {
			direct_write(wfd.get(), off, 1536, 2);
			model.write(off, 1536);
		}
	}
	const ExtentMap want = model.map(size);
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	GoneTally t;
	std::atomic<bool> stop{false};
	std::future<void> walker = std::async(std::launch::async, [&] {
		query_until(fd.get(), size, want, stop, t, {EIO, ENXIO});
	});
	ScopeExit stop_walker([&] { stop = true; });
	ASSERT_TRUE(WaitFor([&] { return t.right > 0; },
			    std::chrono::seconds(30)))
		<< "the walker gave no right answer in 30 s";
	std::this_thread::sleep_for(milliseconds(500));
	sd.remove_disk();
	for (int i = 0; i < 100 && t.failed < 20; i++)
		std::this_thread::sleep_for(milliseconds(50));
	stop_walker.run();
	ASSERT_TRUE(AnswersWithin(walker, "queries during the delete"));
	std::cout << "[   RACE   ] delete: " << t.right << " right, " << t.all_data
		  << " all data, " << t.failed << " EIO/ENXIO, " << t.wrong
		  << " wrong" << std::endl;
	EXPECT_EQ(t.wrong, 0);
	EXPECT_GT(t.right, 0) << "the delete came before any query";
	EXPECT_GT(t.failed + t.all_data, 0) << "no query saw the disk go";
}

// A GET LBA STATUS that times out is data, within seconds (old: EIO,
// or data, after 30 s). The error handling of that timeout resets the
// device (scsi_debug cannot abort a dropped command), whose power on/reset
// unit attention may then reach GET LBA STATUS and drop the
// qualification: the disk answers again after a rescan.
TEST_F(SdErrors, TimeoutIsDataWithinSeconds)
{
	ScsiDebug sd(lbp_params(512));
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	write_one_extent(sd, size);
	sd.drop_gls();
	ScopeExit clear([&] { sd.clear_gls(); });
	auto took = expect_data_within(fd.get(), size);
	std::cout << "[ TIMEOUT  ] slowest query "
		  << std::chrono::duration_cast<milliseconds>(took).count()
		  << " ms" << std::endl;
	EXPECT_LT(took, kShortBound);
	sd.rescan();
	EXPECT_TRUE(MapIs(fd.get(), size, kOneExtent));
}

// BUSY and TASK SET FULL are requeued by the midlayer for as long as the
// command's timeout allows: a few seconds, then data (old: 60 s).
TEST_F(SdErrors, BusyIsDataWithinSeconds)
{
	ScsiDebug sd(lbp_params(512));
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	write_one_extent(sd, size);
	for (int status : {0x08 /* BUSY */, 0x28 /* TASK SET FULL */}) {
		SCOPED_TRACE("status " + std::to_string(status));
		sd.fail_gls(0, status);
		EXPECT_LT(expect_data_within(fd.get(), size),
			  kShortBound);
		sd.clear_gls();
		EXPECT_TRUE(MapIs(fd.get(), size, kOneExtent));
	}
}

// A GET LBA STATUS that fails in transport (a host byte) or with a
// CHECK CONDITION (status 2 and sense).
struct TransportCase {
	const char *name;
	int host, status, key, asc, ascq;
};

void PrintTo(const TransportCase &c, std::ostream *os) { *os << c.name; }

class SdTransientError : public SdErrors,
			 public ::testing::WithParamInterface<TransportCase> {};

// Transport trouble (host bytes) and ABORTED COMMAND say nothing of the
// data: the query is data, not EIO, one command per query (no retry), and
// the disk answers again once the command succeeds.
TEST_P(SdTransientError, IsDataNotEio)
{
	const TransportCase e = GetParam();
	ScsiDebug sd(lbp_params(512));
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	write_one_extent(sd, size);
	sd.fail_gls(e.host, e.status, e.key, e.asc, e.ascq);
	for (int64_t off : {int64_t(0), 4 * MiB, 8 * MiB}) {
		const int64_t before = sd.commands();
		EXPECT_EQ(seekmap::seek(fd.get(), off, SEEK_DATA), off);
		EXPECT_EQ(sd.commands() - before, 1) << "retried";
		EXPECT_EQ(seekmap::seek(fd.get(), off, SEEK_HOLE), size);
	}
	sd.clear_gls();
	EXPECT_TRUE(MapIs(fd.get(), size, kOneExtent));
}

INSTANTIATE_TEST_SUITE_P(
	Transport, SdTransientError,
	::testing::Values(
		TransportCase{"DidNoConnect", 0x01, 0, 0, 0, 0},
		TransportCase{"DidBusBusy", 0x02, 0, 0, 0, 0},
		TransportCase{"DidError", 0x07, 0, 0, 0, 0},
		TransportCase{"DidTransportDisrupted", 0x0e, 0, 0, 0, 0},
		TransportCase{"DidTransportFailfast", 0x0f, 0, 0, 0, 0},
		TransportCase{"AbortedDataPhaseError", 0, 0x2, 0xb, 0x4b, 0},
		TransportCase{"AbortedIuCrcError", 0, 0x2, 0xb, 0x47, 0x03}),
	[](const auto &info) { return std::string(info.param.name); });

class SdReadError : public SdErrors,
		    public ::testing::WithParamInterface<SenseCase> {};

// What a read of the same blocks would get too still fails the query.
TEST_P(SdReadError, StillFailsWithEio)
{
	const SenseCase e = GetParam();
	ScsiDebug sd(lbp_params(512));
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	write_one_extent(sd, size);
	sd.fail_gls(0, 0x2, e.key, e.asc);
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_DATA), -EIO);
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_HOLE), -EIO);
	sd.clear_gls();
	EXPECT_TRUE(MapIs(fd.get(), size, kOneExtent));
}

INSTANTIATE_TEST_SUITE_P(
	Sense, SdReadError,
	::testing::Values(SenseCase{"MediumErrorUnrecoveredRead", 0x3, 0x11, 0},
			  SenseCase{"HardwareErrorInternalTarget", 0x4, 0x44, 0}),
	[](const auto &info) { return std::string(info.param.name); });

// A device flagged no_report_opcodes (here BLIST_NO_RSOC, 0x20000000,
// through /proc/scsi/device_info for a product name no other device has)
// is never sent GET LBA STATUS: all data, no command (old: asked, holes).
TEST_F(SdErrors, NoReportOpcodesDeviceIsNeverAsked)
{
	write_value("/proc/scsi/device_info", "Linux:SeekNoRsoc:0x20000000");
	ScsiDebug sd(lbp_params(512) + " inq_product=SeekNoRsoc");
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	{
		UniqueFd wfd = open_or_throw(sd.path(), O_RDWR | O_DIRECT);
		discard(wfd.get(), 0, size);
		direct_write(wfd.get(), 4 * MiB, 8 * KiB, 1);
	}
	const int64_t before = sd.commands();
	seekmap::Walk w = seekmap::walk(fd.get(), size);
	ASSERT_EQ(w.error, "");
	EXPECT_EQ(w.map, (ExtentMap{{0, size}}));
	EXPECT_EQ(sd.commands() - before, 0) << "the device was asked";
	// Still so after a revalidation.
	sd.rescan();
	const int64_t again = sd.commands();
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_DATA), 0);
	EXPECT_EQ(sd.commands() - again, 0);
}

// A unit attention that reports a change (parameters or capacity changed,
// microcode or inquiry data changed, medium may have changed) is data
// at once, without a retry, and the disk stays all data, without being
// asked, until it is revalidated; then it answers again.
TEST_F(SdErrors, ChangeUnitAttentionIsDataUntilRevalidated)
{
	ScsiDebug sd(lbp_params(512));
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	write_one_extent(sd, size);
	struct {
		int asc, ascq;
	} uas[] = {{0x2a, 0x01}, {0x2a, 0x09}, {0x28, 0x00}, {0x3f, 0x01},
		   {0x3f, 0x03}};	// the midlayer's own re-reads last
	for (auto ua : uas) {
		SCOPED_TRACE("unit attention " + std::to_string(ua.asc) + "/" +
			     std::to_string(ua.ascq));
		sd.fail_gls(0, 0x2, 0x6, ua.asc, ua.ascq);
		int64_t before = sd.commands();
		EXPECT_EQ(seekmap::seek(fd.get(), 4 * MiB + 8 * KiB, SEEK_HOLE),
			  size);
		// On "inquiry data has changed" the midlayer reads the
		// inquiry data again itself, at a time of its own: the
		// command count says nothing of ours then.
		const bool counted = ua.asc != 0x3f;
		if (counted) {
			EXPECT_EQ(sd.commands() - before, 1)
				<< "the unit attention was retried";
		}
		// The condition is gone, but the qualification is not trusted.
		sd.clear_gls();
		before = sd.commands();
		EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_DATA), 0);
		EXPECT_TRUE(MapIs(fd.get(), size, (ExtentMap{{0, size}})));
		if (counted) {
			EXPECT_EQ(sd.commands() - before, 0)
				<< "asked before revalidation";
		}
		sd.rescan();
		// On 3F/03 the midlayer rescans the device too, at a time of
		// its own, and its READ CAPACITY(16) (the opcode of GET LBA
		// STATUS) can meet the injected unit attention and leave the
		// disk unqualified: revalidate until a revalidation saw it.
		if (!counted)
			WaitFor([&] {
				sd.rescan();
				return seekmap::walk(fd.get(), size).map ==
				       kOneExtent;
			}, std::chrono::seconds(10), std::chrono::milliseconds(200));
		EXPECT_TRUE(MapIs(fd.get(), size, kOneExtent));
	}
}

// Another unit attention (commands cleared by another initiator, a reset)
// is data for that query only, and not retried.
TEST_F(SdErrors, OtherUnitAttentionIsDataForThatQueryOnly)
{
	ScsiDebug sd(lbp_params(512));
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	write_one_extent(sd, size);
	// Commands cleared by another initiator; a power on or reset, which
	// changes nothing the disk reports (a SAN event would otherwise
	// leave every LUN all data until a rescan).
	for (int asc : {0x2f, 0x29}) {
		SCOPED_TRACE("unit attention " + std::to_string(asc) + "/0");
		sd.fail_gls(0, 0x2, 0x6, asc, 0x00);
		const int64_t before = sd.commands();
		EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_DATA), 0);
		EXPECT_EQ(sd.commands() - before, 1)
			<< "the unit attention was retried";
		sd.clear_gls();
		EXPECT_TRUE(MapIs(fd.get(), size, kOneExtent));
	}
}

// On a removable disk any unit attention may be a medium change: data,
// and the next open revalidates the disk (sdev->changed, the media change
// event), after which it answers again.
TEST_F(SdErrors, RemovableDiskUnitAttentionRevalidatesOnOpen)
{
	ScsiDebug sd(lbp_params(512) + " removable=1");
	int64_t size;
	{
		UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
		size = size_of(fd.get());
		write_one_extent(sd, size);
		sd.fail_gls(0, 0x2, 0x6, 0x2f, 0x00);
		EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_DATA), 0);
		sd.clear_gls();
		EXPECT_TRUE(MapIs(fd.get(), size, (ExtentMap{{0, size}})));
	}
	UniqueFd fd = open_or_throw(sd.path(), O_RDONLY);
	EXPECT_TRUE(MapIs(fd.get(), size, kOneExtent));
}

} // namespace
} // namespace seektest
