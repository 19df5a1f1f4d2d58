// SPDX-License-Identifier: GPL-2.0
// Faults under the map: failing thin metadata and data devices, loop over a
// failing block device and over a file on a failing file system, and
// devices removed while a walker holds them open. Every answer must be the
// healthy device's answer or an errno (EIO where the metadata the answer
// comes from cannot be read), never a hole over data; a failed pool stays
// EIO; nothing hangs (each walk under a fault runs on a worker thread with
// a bound, tests/liveness.h); the guest runner fails the run on any kernel
// report.
//
// Each test also checks that its fault was really hit: fail_make_request
// counts the bios it failed, the faulty disk's read counter shows that a
// query read it, the pool's status shows Fail, reads of data fail. A fault
// that is never hit would prove nothing.
//
// SEEK_TEST_SEED=n replays the seeded layouts and probe offsets.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <iostream>
#include <linux/fs.h>
#include <linux/loop.h>
#include <memory>
#include <random>
#include <sys/ioctl.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

#include "fault_fixtures.h"
#include "liveness.h"
#include "thin_fixtures.h"

namespace seektest {
namespace {

using std::chrono::seconds;

// include/uapi/linux/ext4.h, which the host's headers may lack: drop the
// inode's cached extents.
#ifndef EXT4_IOC_CLEAR_ES_CACHE
#define EXT4_IOC_CLEAR_ES_CACHE _IO('f', 40)
#endif

// At most @n of @offs, picked by @rng.
template <typename Rng>
std::vector<int64_t> sample(std::vector<int64_t> offs, size_t n, Rng &rng)
{
	std::shuffle(offs.begin(), offs.end(), rng);
	if (offs.size() > n)
		offs.resize(n);
	return offs;
}

ExtentMap with_extent(ExtentMap map, int64_t start, int64_t len)
{
	map.push_back({start, start + len});
	return seekmap::normalize(map);
}

// Read @len bytes at @off of @path with O_DIRECT (past every page cache
// above the device); the errno, or 0.
int direct_read_errno(const std::string &path, int64_t off, size_t len = 4096)
{
	UniqueFd fd = open_or_throw(path, O_RDONLY | O_DIRECT);
	void *p = nullptr;
	if (posix_memalign(&p, 4096, len))
		throw std::bad_alloc();
	std::unique_ptr<void, decltype(&free)> buf(p, free);
	return pread(fd.get(), p, len, off) < 0 ? errno : 0;
}

// Drop the page cache of the block device @path (BLKFLSBUF: write back,
// then invalidate the clean pages).
void flush_bdev_cache(const std::string &path)
{
	UniqueFd fd = open_or_throw(path, O_RDONLY);
	if (ioctl(fd.get(), BLKFLSBUF, 0))
		fail_errno("BLKFLSBUF " + path);
}

// DmDevice::reload() without freezing the file system on the device
// (a plain suspend freezes it, which needs a superblock write).
void reload_without_freeze(DmDevice &dev, const std::string &table)
{
	dev.suspend(dm::NoLockfs);
	ScopeExit resume([&] { dev.resume(); });
	dev.load(table);
}

// Walk @fd (size @size) on a worker thread (tests/liveness.h): a failed
// expectation naming @what if it gives no answer within the bound.
seekmap::Walk walk_within(int fd, int64_t size, const std::string &what)
{
	std::future<seekmap::Walk> f = async_walk(fd, size);
	if (!AnswersWithin(f, what))
		return {{}, "no answer", 0, 0, {}};
	return f.get();
}

// MapIs() with the walk bounded as walk_within()'s.
[[nodiscard]] ::testing::AssertionResult MapIsWithin(int fd, int64_t size,
				       const ExtentMap &want,
				       const std::string &what)
{
	::testing::AssertionResult r =
		WalkIs(walk_within(fd, size, what), fd, size, want);
	if (!r)
		r << "(" << what << ")";
	return r;
}

void drop_caches()
{
	write_value("/proc/sys/vm/drop_caches", "3");
}

// The common verdict on a probe with faults on: no wrong answer, and the
// faults really reached the queries (some failed, some answered, at least
// a third read the faulty disk).
void ExpectFaultyProbe(const Tally &t, const std::string &what)
{
	std::cout << "[  FAULTS  ] " << what << ": " << t.summary() << std::endl;
	SCOPED_TRACE(what + ": " + t.summary());
	EXPECT_EQ(t.wrong, 0) << "wrong answers:\n" << t.wrongs;
	EXPECT_GT(t.eio, 0) << "no query failed: the fault never reached one";
	EXPECT_GT(t.right, 0) << "no query answered";
	// bufio evicts in a work item: under TCG some queries find buffers
	// it has not evicted yet, so a third, not a half.
	EXPECT_GE(3 * t.cold, t.total())
		<< "a third of the queries must read the faulty disk, else the "
		   "faults prove nothing";
}

class FaultThinMap : public DeviceTest {};

// Reads of the pool's metadata fail at random, for the querying thread
// only (the pool's own workers read fine, so the pool stays healthy). The
// metadata cache is kept empty so that each query reads btree nodes. Every
// answer is the provisioned map's or EIO.
TEST_F(FaultThinMap, MetadataReadErrorsGiveEioOrTheProvisionedAnswer)
{
	const int64_t bs = 64 * KiB, size = 512 * MiB;
	const uint64_t seed = seed_from_env();
	SCOPED_TRACE("replay: SEEK_TEST_SEED=" + std::to_string(seed));
	std::mt19937_64 rng(seed);
	ThinPool pool(bs, size, {},
		      ThinPool::MetadataOnDm | ThinPool::DataOnZero);
	ThinDevice thin(pool, 0, size);
	// Runs of 1-64 blocks between gaps of 1-32 (thousands of mappings
	// over dozens of btree leaves), then a run of 5000 blocks, which a
	// SEEK_HOLE crosses leaf by leaf, in more than one batch.
	const int64_t long_run = 2600, long_len = 5000;
	for (int64_t b = rng() % 4; b < long_run - 100;) {
		int64_t run = std::min<int64_t>(1 + rng() % 64, long_run - 100 - b);
		thin.write(b * bs, run * bs);
		b += run + 1 + rng() % 32;
	}
	thin.write(long_run * bs, long_len * bs);
	ASSERT_EQ(fsync(thin.fd()), 0);
	const ExtentMap want = thin.provisioned();
	ASSERT_GE(want.size(), 40u) << seekmap::to_string(want);
	ASSERT_EQ(want.back(), (Extent{long_run * bs, (long_run + long_len) * bs}));
	EXPECT_TRUE(MapIs(thin.fd(), size, want));
	const std::vector<int64_t> offs =
		sample(probe_offsets(want, size, rng, 20), 100, rng);
	const std::string meta = pool.metadata_path();

	Tally t;
	int64_t injected = 0;
	{
		ColdBufio cold;
		FailMakeRequest fmr(meta, 30, true);
		const std::string sys = sysfs_dir(meta);
		// A query that found all it needed cached allocated no buffer,
		// so bufio evicted nothing: then evict before the next one.
		uint64_t last = 0;
		auto evict_if_warm = [&] {
			uint64_t now = reads_completed(sys) + fmr.injected();
			if (now == last)
				ColdBufio::evict();
			last = reads_completed(sys) + fmr.injected();
		};
		std::future<Tally> f = std::async(std::launch::async, [&] {
			ColdBufio::evict();
			return probe(thin.fd(), size, want, offs, sys, &fmr,
				     true, evict_if_warm);
		});
		ScopeExit stop_faults([&] { fmr.stop(); });
		if (AnswersWithin(f, "queries while metadata reads fail",
				  seconds(600)))
			t = f.get();
		injected = fmr.injected();
	}
	ExpectFaultyProbe(t, "metadata reads failing for the querying thread");
	std::cout << "[  FAULTS  ] " << injected << " metadata reads failed" << std::endl;
	EXPECT_GT(injected, 0) << "fail_make_request failed no metadata read";
	// A failed lookup is the caller's error, not the pool's.
	std::string status = dm::to_string(pool.dm().status(true));
	EXPECT_EQ(status.find("Fail"), std::string::npos) << status;
	EXPECT_TRUE(MapIs(thin.fd(), size, want));
	EXPECT_EQ(thin.provisioned(), want);
}

// The metadata device fails every read and write (dm-flakey, always down)
// under a walker that keeps querying. Before the pool notices, answers are
// right or EIO; a write that needs metadata then fails the pool, and from
// then on every query is EIO, also once the metadata device works again.
TEST_F(FaultThinMap, FailedMetadataFailsThePoolAndQueriesStayEio)
{
	const int64_t bs = 64 * KiB, size = 64 * MiB;
	const uint64_t seed = seed_from_env();
	SCOPED_TRACE("replay: SEEK_TEST_SEED=" + std::to_string(seed));
	std::mt19937_64 rng(seed);
	ThinPool pool(bs, 256 * MiB, {}, ThinPool::MetadataOnDm);
	ThinDevice thin(pool, 0, size);
	const int64_t trigger = size - bs; // the write that fails the pool
	for (int64_t b = rng() % 4; b < trigger / bs - 1;) {
		int64_t run = std::min<int64_t>(1 + rng() % 16, trigger / bs - 1 - b);
		thin.write(b * bs, run * bs, seed + b);
		b += run + 1 + rng() % 24;
	}
	ASSERT_EQ(fsync(thin.fd()), 0);
	const ExtentMap want = thin.provisioned();
	EXPECT_TRUE(MapIs(thin.fd(), size, want));
	// Before the pool fails, the trigger block may be mapped already.
	const ExtentMap want_trigger = with_extent(want, trigger, bs);
	const std::vector<int64_t> offs = probe_offsets(want, size, rng, 40);

	const std::string meta_name = pool.metadata_dm().name();
	const std::string meta_lower = dm_table_arg(meta_name, 0);
	const std::string healthy = "0 " + sectors(32 * MiB) + " linear " +
				    meta_lower + " 0";
	// Up 0 s, down 1 s, no features: every read and write fails.
	const std::string failing = "0 " + sectors(32 * MiB) + " flakey " +
				    meta_lower + " 0 0 1";

	struct Seen {
		int right = 0, eio = 0, wrong = 0;
		int after_fail = 0, after_fail_eio = 0;
		std::string wrongs;
	};
	ColdBufio cold;
	std::atomic<bool> stop{false}, pool_failed{false};
	std::atomic<int> sweeps{0}, eio_before_fail{0}, queries_after_fail{0};
	std::future<Seen> walker = std::async(std::launch::async, [&] {
		Seen s;
		while (!stop) {
			for (int64_t off : offs) {
				for (int whence : {SEEK_DATA, SEEK_HOLE}) {
					bool failed = pool_failed;
					int64_t got = seekmap::seek(thin.fd(), off, whence);
					if (failed) {
						s.after_fail++;
						queries_after_fail++;
						if (got == -EIO)
							s.after_fail_eio++;
						else if (s.after_fail - s.after_fail_eio <= 8)
							s.wrongs += "after Fail: " +
								explain(want, size, off, whence, got) + "\n";
					} else if (got == seekmap::expected_seek(want, size, off, whence) ||
						   got == seekmap::expected_seek(want_trigger, size, off, whence)) {
						s.right++;
					} else if (got == -EIO) {
						s.eio++;
						eio_before_fail++;
					} else if (s.wrong++ < 8) {
						s.wrongs += explain(want, size, off, whence, got) + "\n";
					}
				}
			}
			sweeps++;
		}
		return s;
	});
	// Before the walker is waited for, whatever failed: stop it.
	ScopeExit stop_walker([&] { stop = true; });
	ASSERT_TRUE(WaitFor([&] { return sweeps >= 1; }, seconds(60)))
		<< "the walker made no sweep in 60 s";

	// Reads of metadata the cache does not hold fail, and the walker
	// sees it (the pool does not yet).
	pool.metadata_dm().reload(failing);
	WaitFor([&] {
		if (eio_before_fail)
			return true;
		ColdBufio::evict();
		return false;
	}, seconds(60));
	ASSERT_GT(eio_before_fail, 0)
		<< "no query failed with the metadata device failing";
	std::future<bool> write = std::async(std::launch::async, [&] {
		try {
			thin.write(trigger, bs);
		} catch (const std::system_error &) {
			return false;
		}
		return fsync(thin.fd()) == 0;
	});
	ASSERT_TRUE(AnswersWithin(write, "a write with failing metadata"));
	EXPECT_FALSE(write.get()) << "the write and its fsync succeeded with "
				     "the metadata device failing";
	std::string status;
	WaitFor([&] {
		status = pool.status(); // a status without --noflush commits
		return status.find("Fail") != std::string::npos;
	}, seconds(30), std::chrono::milliseconds(100));
	ASSERT_NE(status.find("Fail"), std::string::npos)
		<< "the pool did not fail: " << status;
	pool_failed = true;
	WaitFor([&] { return queries_after_fail >= 200; }, seconds(60));
	stop_walker.run();
	if (AnswersWithin(walker, "queries while the pool fails")) {
		Seen s = walker.get();
		const std::string seen =
			std::to_string(s.right) + " right, " +
			std::to_string(s.eio) + " EIO before the pool "
			"failed; " + std::to_string(s.after_fail_eio) + " of " +
			std::to_string(s.after_fail) + " EIO after";
		std::cout << "[  FAULTS  ] " << seen << std::endl;
		SCOPED_TRACE(seen);
		EXPECT_EQ(s.wrong, 0) << s.wrongs;
		EXPECT_GT(s.right, 0);
		EXPECT_GT(s.after_fail, 0) << "no query after the pool failed";
		EXPECT_EQ(s.after_fail_eio, s.after_fail) << s.wrongs;
	}

	// The metadata device works again; the pool stays failed, and so
	// does every query, on a new descriptor too, with caches dropped.
	pool.metadata_dm().reload(healthy);
	drop_caches();
	UniqueFd fresh = open_or_throw(thin.dm().path(), O_RDONLY);
	for (int fd : {thin.fd(), fresh.get()})
		for (int64_t off : offs)
			for (int whence : {SEEK_DATA, SEEK_HOLE})
				EXPECT_EQ(seekmap::seek(fd, off, whence), -EIO)
					<< explain(want, size, off, whence,
						   seekmap::seek(fd, off, whence));
	status = pool.status();
	EXPECT_NE(status.find("Fail"), std::string::npos) << status;
}

// The pool's data device fails every I/O (fail_make_request on it): the
// map still comes from the metadata, exact, and its holes read zeros
// (unprovisioned blocks are never read from the data device). A direct
// write that needs a new block fails without provisioning it. A commit
// (which flushes the data device first) fails: the pool rolls back to its
// last commit and turns read-only, and still answers the same. A buffered
// write whose write-back fails stays cached, and reads return it, so it
// is data until the cache lets go of it.
TEST_F(FaultThinMap, FailingDataDeviceIsAnsweredFromMetadata)
{
	const int64_t bs = 64 * KiB, size = 32 * MiB;
	const uint64_t seed = seed_from_env();
	SCOPED_TRACE("replay: SEEK_TEST_SEED=" + std::to_string(seed));
	std::mt19937_64 rng(seed);
	ThinPool pool(bs, 64 * MiB);
	ThinDevice thin(pool, 0, size);
	for (int64_t b = rng() % 4; b < size / bs - 8;) {
		int64_t run = 1 + rng() % 8;
		thin.write(b * bs, std::min(run, size / bs - 8 - b) * bs, seed + b);
		b += run + 2 + rng() % 16;
	}
	thin.write(size - 4 * bs, bs); // blocks size/bs - 3 and - 1 stay holes
	ASSERT_EQ(fsync(thin.fd()), 0);
	// Committed: what the pool rolls back to when a commit fails.
	const ExtentMap want = thin.provisioned();
	EXPECT_TRUE(MapIs(thin.fd(), size, want));
	const int64_t direct_block = size - 3 * bs, page = size - bs + 8 * KiB;
	const std::string data = dm_table_arg(pool.dm().name(), 1);
	const ExtentMap with_page = with_extent(want, page, 4 * KiB);
	{
		FailMakeRequest fmr(data, 100, false);
		EXPECT_TRUE(MapIsWithin(thin.fd(), size, want, "data device failing"));
		EXPECT_EQ(direct_read_errno(thin.dm().path(), want[0].start), EIO)
			<< "a read of provisioned data did not fail";
		EXPECT_GT(fmr.injected(), 0);

		EXPECT_THROW(thin.write(direct_block + 4 * KiB, 4 * KiB),
			     std::system_error);
		EXPECT_TRUE(MapIsWithin(thin.fd(), size, want, "after a failed write"));
		// A status without --noflush commits.
		std::string status = pool.status();
		EXPECT_NE(status.find(" ro "), std::string::npos)
			<< "the commit with a failing data device did not fail: "
			<< status;
		EXPECT_TRUE(MapIsWithin(thin.fd(), size, want, "read-only pool"));

		flush_bdev_cache(thin.dm().path());
		write_page(thin.fd(), page, 'w');
		EXPECT_NE(fsync(thin.fd()), 0) << "the write-back did not fail";
		seekmap::Walk w = walk_within(thin.fd(), size, "lost write");
		EXPECT_EQ(w.error, "");
		EXPECT_EQ(w.map, with_page)
			<< "after a failed write-back of a cached page: map "
			<< seekmap::to_string(w.map) << "\nexpected "
			<< seekmap::to_string(with_page);
		std::vector<char> buf(4096);
		ASSERT_EQ(pread(thin.fd(), buf.data(), buf.size(), page), 4096);
		EXPECT_EQ(buf, std::vector<char>(4096, 'w'))
			<< "the cached page of the failed write is not what reads return";
		EXPECT_TRUE(HolesReadZero(thin.fd(), size, w.map));
	}
	// The failed commit left the pool read-only, not failed.
	std::string status = dm::to_string(pool.dm().status(true));
	std::cout << "[  FAULTS  ] pool after its data device failed: " << status;
	EXPECT_EQ(status.find("Fail"), std::string::npos) << status;
	EXPECT_NE(status.find(" ro "), std::string::npos) << status;
	// Out of the cache, the page is what the device holds: a hole.
	flush_bdev_cache(thin.dm().path());
	EXPECT_TRUE(MapIs(thin.fd(), size, want));
}

class FaultLoopMap : public DeviceTest {};

// Loop over a block device (dm-linear over a sparse loop device) that
// fails every I/O below it. The query reads nothing, so the map is exact
// while reads fail. A buffered write into a hole, whose write-back into
// the failing device is lost, stays cached, and reads return it: data.
// Over a target without an answer (dm-flakey), everything is data.
TEST_F(FaultLoopMap, LoopOverFailingDeviceAnswersItsMapOrAllData)
{
	const int64_t size = 64 * MiB, page = 10 * MiB;
	SparseFile file(size);
	for (auto [off, len] : {std::pair<int64_t, int64_t>{0, 64 * KiB},
				{1 * MiB + 4 * KiB, 8 * KiB},
				{5 * MiB, 1 * MiB},
				{20 * MiB - 4 * KiB, 12 * KiB},
				{size - 1 * MiB, 1 * MiB}})
		file.write(off, len);
	const ExtentMap want = file.map();
	LoopDevice lower(file.path());
	const std::string linear_table = "0 " + sectors(size) + " linear " +
					 lower.path() + " 0";
	DmDevice dev(linear_table);
	LoopDevice loop(dev.path());
	const ExtentMap with_page = with_extent(want, page, 4 * KiB);
	{
		FailMakeRequest fmr(lower.path(), 100, false);
		seekmap::Walk w = walk_within(loop.fd(), size, "lower device failing");
		EXPECT_EQ(w.error, "");
		EXPECT_EQ(w.map, want) << seekmap::to_string(w.map);

		write_page(loop.fd(), page, 'w');
		EXPECT_NE(fsync(loop.fd()), 0)
			<< "the write-back into the failing device did not fail";
		EXPECT_GT(fmr.injected(), 0);
		// Reads of the loop device now come from dm-linear's cache.
		flush_bdev_cache(loop.path());
		w = walk_within(loop.fd(), size, "lost write");
		EXPECT_EQ(w.error, "");
		EXPECT_EQ(w.map, with_page)
			<< "after a lost write-back of a cached page: map "
			<< seekmap::to_string(w.map) << "\nexpected "
			<< seekmap::to_string(with_page);
		std::vector<char> buf(4096);
		ASSERT_EQ(pread(loop.fd(), buf.data(), buf.size(), page), 4096)
			<< strerror(errno);
		EXPECT_EQ(buf, std::vector<char>(4096, 'w'));
		// Last, as failed reads leave folios in dm-linear's cache,
		// which count as data now.
		EXPECT_EQ(direct_read_errno(loop.path(), want[0].start), EIO)
			<< "a read of data did not fail";
	}
	// Out of both caches, the page is what the file holds: a hole.
	flush_bdev_cache(loop.path());
	flush_bdev_cache(dev.path());
	EXPECT_TRUE(MapIs(loop.fd(), size, want));

	// dm-flakey has no answer of its own: all data, and reads fail.
	dev.reload("0 " + sectors(size) + " flakey " + lower.path() + " 0 0 1");
	flush_bdev_cache(loop.path());
	flush_bdev_cache(dev.path());
	seekmap::Walk w = walk_within(loop.fd(), size, "over dm-flakey");
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(w.map, (ExtentMap{{0, size}}));
	EXPECT_EQ(direct_read_errno(loop.path(), 2 * MiB), EIO);
	dev.reload(linear_table);
	flush_bdev_cache(loop.path());
	flush_bdev_cache(dev.path());
	EXPECT_TRUE(MapIs(loop.fd(), size, want));
}

// Loop over a file on ext4 whose device fails: first reads of the query
// thread at random (fail_make_request), with caches dropped before each
// query so that ext4 reads its extent tree; then every I/O (dm-flakey).
// The answer is the file's own map or EIO.
TEST_F(FaultLoopMap, BackingFileOnFailingExt4GivesEioOrItsMap)
{
	const int64_t image_size = 256 * MiB, size = 32 * MiB;
	const uint64_t seed = seed_from_env();
	SCOPED_TRACE("replay: SEEK_TEST_SEED=" + std::to_string(seed));
	std::mt19937_64 rng(seed);
	SparseFile image(image_size);
	LoopDevice disk(image.path());
	const std::string linear_table = "0 " + sectors(image_size) +
					 " linear " + disk.path() + " 0";
	DmDevice fsdev(linear_table);
	run_or_throw("mkfs.ext4 -q -F -b 4096 -E nodiscard -O ^has_journal "
		     "-e continue " + fsdev.path());
	TempMount mnt(fsdev.path(), "ext4");
	SparseFile backing(size, mnt.dir());
	// Over a thousand extents: the extent tree has leaves on disk.
	for (int64_t off = 4 * KiB * (rng() % 4); off < size;) {
		int64_t len = std::min<int64_t>(4 * KiB * (1 + rng() % 4), size - off);
		backing.write(off, len, seed + off);
		off += len + 4 * KiB * (1 + rng() % 8);
	}
	ASSERT_EQ(fsync(backing.fd()), 0);
	const ExtentMap want = backing.map();
	ASSERT_GE(want.size(), 500u);
	LoopDevice loop(backing.path());
	EXPECT_TRUE(MapIs(loop.fd(), size, want));
	const std::vector<int64_t> offs =
		sample(probe_offsets(want, size, rng, 20), 80, rng);
	const std::string fs_sysdir = sysfs_dir(fsdev.path());
	// Before each query: forget the file's cached extents, and the
	// extent tree blocks cached for the file system's device.
	UniqueFd fsdev_fd = open_or_throw(fsdev.path(), O_RDONLY);
	auto evict = [&] {
		if (ioctl(backing.fd(), EXT4_IOC_CLEAR_ES_CACHE))
			fail_errno("EXT4_IOC_CLEAR_ES_CACHE");
		if (ioctl(fsdev_fd.get(), BLKFLSBUF, 0))
			fail_errno("BLKFLSBUF " + fsdev.path());
	};

	Tally t;
	int64_t injected = 0;
	{
		FailMakeRequest fmr(fsdev.path(), 25, true);
		std::future<Tally> f = std::async(std::launch::async, [&] {
			return probe(loop.fd(), size, want, offs, fs_sysdir,
				     &fmr, true, evict);
		});
		ScopeExit stop_faults([&] { fmr.stop(); });
		if (AnswersWithin(f, "queries while ext4's reads fail",
				  seconds(600)))
			t = f.get();
		injected = fmr.injected();
	}
	ExpectFaultyProbe(t, "ext4 reads failing for the querying thread");
	std::cout << "[  FAULTS  ] " << injected << " ext4 reads failed" << std::endl;
	EXPECT_GT(injected, 0) << "fail_make_request failed no ext4 read";
	EXPECT_TRUE(MapIs(loop.fd(), size, want));

	// Every I/O of the file system's device fails. (No freeze around
	// the table swaps: ext4 cannot write its superblock to freeze.)
	reload_without_freeze(fsdev, "0 " + sectors(image_size) + " flakey " +
			      disk.path() + " 0 0 1");
	{
		std::future<Tally> f = std::async(std::launch::async, [&] {
			drop_caches();
			int err = direct_read_errno(loop.path(), want[0].start);
			EXPECT_EQ(err, EIO) << "a read of data did not fail";
			return probe(loop.fd(), size, want, offs, fs_sysdir,
				     nullptr, false, evict);
		});
		ScopeExit heal([&] { reload_without_freeze(fsdev, linear_table); });
		if (AnswersWithin(f, "queries while ext4's device fails",
				  seconds(600))) {
			t = f.get();
			std::cout << "[  FAULTS  ] ext4's device failing: "
				  << t.summary() << std::endl;
			SCOPED_TRACE("ext4's device failing: " + t.summary());
			EXPECT_EQ(t.wrong, 0) << "wrong answers:\n" << t.wrongs;
			EXPECT_GT(t.eio, 0) << "no query failed";
		}
	}
	drop_caches();
	EXPECT_TRUE(MapIs(loop.fd(), size, want));
}

class FaultRemovalMap : public DeviceTest {};

// What a walker saw: walks before and after the device was removed under
// it (the removal waits for its close).
struct WalkLog {
	int right_before = 0, right_after = 0, errno_after = 0, wrong = 0;
	double seconds_per_walk = 0;
	std::string wrongs;
};

// Walk @path (size @size, map @want) on a worker thread, until three
// walks have started after @removed was set. Walks before the removal
// must be right; after it, right or ending in an errno.
std::future<WalkLog> walk_until_removed(const std::string &path,
					int64_t size, const ExtentMap &want,
					std::atomic<bool> &removed,
					std::atomic<int> &walks)
{
	return std::async(std::launch::async, [&, path, size, want] {
		WalkLog log;
		UniqueFd fd = open_or_throw(path, O_RDONLY);
		auto t0 = std::chrono::steady_clock::now();
		int n = 0;
		for (int after = 0; after < 3 && n < 10000; n++) {
			bool rem = removed;
			seekmap::Walk w = seekmap::walk(fd.get(), size);
			if (w.error.empty() && w.map == want) {
				(rem ? log.right_after : log.right_before)++;
			} else if (rem && w.err) {
				log.errno_after++;
			} else if (log.wrong++ < 4) {
				log.wrongs += (rem ? "after: " : "before: ") +
					      (w.error.empty() ? seekmap::to_string(w.map)
							       : w.error) + "\n";
			}
			after += rem;
			walks++;
		}
		log.seconds_per_walk = std::chrono::duration<double>(
			std::chrono::steady_clock::now() - t0).count() / n;
		return log;
	});
}

void ExpectWalkLog(const WalkLog &log)
{
	const std::string seen =
		std::to_string(log.right_before) + " right walks before, " +
		std::to_string(log.right_after) + " right and " +
		std::to_string(log.errno_after) +
		" ended by an errno after the removal, " +
		std::to_string(log.seconds_per_walk) + " s per walk";
	std::cout << "[  FAULTS  ] " << seen << std::endl;
	SCOPED_TRACE(seen);
	EXPECT_EQ(log.wrong, 0) << log.wrongs;
	EXPECT_GT(log.right_before, 0);
	EXPECT_GT(log.right_after, 0)
		<< "the device still open must still answer";
}

// A deferred remove (dmsetup remove --deferred) while a walker holds a
// thin device with thousands of extents open: the device stays until the
// walker's last close, answers right meanwhile, and then goes.
TEST_F(FaultRemovalMap, DmDeferredRemoveWaitsForTheWalkersClose)
{
	const int64_t bs = 64 * KiB, size = 256 * MiB, nr = 4096;
	ThinPool pool(bs, size, {}, ThinPool::DataOnZero);
	auto thin = std::make_unique<ThinDevice>(pool, 0, size);
	ExtentMap want;
	for (int64_t b = 0; b < nr; b += 2) {
		thin->write(b * bs, bs);
		want.push_back({b * bs, (b + 1) * bs});
	}
	ASSERT_EQ(thin->provisioned(), want);
	const std::string name = thin->dm().name(), path = thin->dm().path();
	const std::string sysdir = sysfs_dir(path);

	std::atomic<bool> removed{false};
	std::atomic<int> walks{0};
	std::future<WalkLog> walker =
		walk_until_removed(path, size, want, removed, walks);
	// Whatever fails, let the walker finish.
	ScopeExit release([&] { removed = true; });
	ASSERT_TRUE(WaitFor([&] { return walks >= 1; }, seconds(60)))
		<< "the walker made no walk in 60 s";

	thin->dm().remove_deferred();
	EXPECT_TRUE(dm::info(name).deferred_remove);
	thin.reset(); // the test's own descriptors: the walker's is the last
	EXPECT_EQ(access(sysdir.c_str(), F_OK), 0)
		<< "the device went away while the walker holds it open";
	release.run();
	if (AnswersWithin(walker, "walks of a device removed under them",
			  seconds(300)))
		ExpectWalkLog(walker.get());
	EXPECT_TRUE(WaitFor([&] { return access(sysdir.c_str(), F_OK) != 0; },
			    seconds(30)))
		<< name << " is still there after the walker's close";
}

// A loop device bound with LO_FLAGS_AUTOCLEAR whose binder closes it while
// a walker holds it open, its backing file unlinked: it stays bound and
// answers right until the walker's last close, and is cleared then.
TEST_F(FaultRemovalMap, LoopAutoclearWaitsForTheWalkersClose)
{
	const int64_t size = 32 * MiB;
	auto file = std::make_unique<SparseFile>(size);
	for (int64_t off = 0; off < size; off += 16 * KiB)
		file->write(off, 4 * KiB, off);
	const ExtentMap want = file->map();
	ASSERT_EQ(want.size(), size_t(size / (16 * KiB)));

	UniqueFd ctl = open_or_throw("/dev/loop-control", O_RDWR);
	UniqueFd dev;
	std::string path;
	for (int attempt = 0; attempt < 10 && dev.get() < 0; attempt++) {
		int n = ioctl(ctl.get(), LOOP_CTL_GET_FREE);
		ASSERT_GE(n, 0) << strerror(errno);
		path = "/dev/loop" + std::to_string(n);
		UniqueFd fd = open_or_throw(path, O_RDWR);
		struct loop_config cfg = {};
		cfg.fd = file->fd();
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(fd.get(), LOOP_CONFIGURE, &cfg) == 0)
			dev = std::move(fd);
		else
			ASSERT_EQ(errno, EBUSY) << strerror(errno);
	}
	ASSERT_GE(dev.get(), 0) << "no free loop device";
	const std::string name = path.substr(strlen("/dev/"));

	std::atomic<bool> removed{false};
	std::atomic<int> walks{0};
	std::future<WalkLog> walker =
		walk_until_removed(path, size, want, removed, walks);
	ScopeExit release([&] { removed = true; });
	ASSERT_TRUE(WaitFor([&] { return walks >= 1; }, seconds(60)))
		<< "the walker made no walk in 60 s";

	dev.reset(); // the binder's last descriptor
	file.reset(); // unlinked; the loop device holds it
	EXPECT_EQ(bound_loop_devices().count(name), 1u)
		<< name << " was cleared while the walker holds it open";
	release.run();
	if (AnswersWithin(walker, "walks of a loop device cleared under them",
			  seconds(300)))
		ExpectWalkLog(walker.get());
	EXPECT_TRUE(WaitFor([&] { return bound_loop_devices().count(name) == 0; },
			    seconds(30)))
		<< name << " is still bound after the walker's close";
}

} // namespace
} // namespace seektest
