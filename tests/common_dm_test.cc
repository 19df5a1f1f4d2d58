// SPDX-License-Identifier: GPL-2.0
// common/dm.h, the suite's and the stress tool's device-mapper API over
// libdevmapper: create, load, suspend, resume, message, status, info and
// remove round trips on real devices, the /dev/mapper node libdevmapper
// makes without udev, and the errors (errno and libdevmapper's message).
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <future>
#include <memory>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <system_error>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <vector>

#include "common/dm.h"
#include "common/units.h"
#include "fixtures.h"

namespace seektest {
namespace {

using namespace units;

std::string api_name(const std::string &tag)
{
	return "seektest-api-" + std::to_string(getpid()) + "-" + tag;
}

// The errno of the std::system_error @f throws (0 if none), and its text.
template <class F> std::pair<int, std::string> error_of(F f)
{
	try {
		f();
	} catch (const std::system_error &e) {
		return {e.code().value(), e.what()};
	}
	return {0, ""};
}

TEST(UnchangedDmTable, TextRoundTrip)
{
	const std::string text = "0 2048 linear /dev/loop0 8\n"
				 "2048 1024 zero\n"
				 "3072 8 striped 2 8 /dev/loop1 0 /dev/loop2 0\n";
	const dm::Table t = dm::parse_table("\n" + text + "  \n");
	ASSERT_EQ(t.size(), 3u);
	EXPECT_EQ(t[0], (dm::Target{0, 1 * MiB, "linear", "/dev/loop0 8"}));
	EXPECT_EQ(t[1], (dm::Target{1 * MiB, 512 * KiB, "zero", ""}));
	EXPECT_EQ(t[2].params, "2 8 /dev/loop1 0 /dev/loop2 0");
	EXPECT_EQ(dm::to_string(t), text);
	EXPECT_THROW(dm::parse_table("0 8\n"), std::invalid_argument);
	EXPECT_THROW(dm::parse_table("zero 0 8\n"), std::invalid_argument);
}

// "MAJ:MIN" of the block device @path, as tables read back name it.
std::string dev_number(const std::string &path)
{
	struct stat st;
	if (stat(path.c_str(), &st))
		fail_errno("stat " + path);
	return std::to_string(major(st.st_rdev)) + ":" +
	       std::to_string(minor(st.st_rdev));
}

class DmApi : public DeviceTest {};
// The cases that ask the kernel nothing the series changes: they pass on
// both kernels (harness/check's kind unchanged: named Unchanged*).
class UnchangedDmApi : public DeviceTest {};

TEST_F(DmApi, CreateLoadSuspendResumeRemoveRoundTrip)
{
	SparseFile f(4 * MiB);
	f.write(1 * MiB, 4 * KiB);
	LoopDevice loop(f.path());
	const std::string name = api_name("round");
	auto dev = std::make_unique<dm::Device>(
		name, dm::Table{{0, 8 * MiB, "zero", ""}});

	// The node libdevmapper made, and the kernel's device behind it.
	EXPECT_EQ(dev->path(), "/dev/mapper/" + name);
	struct stat st;
	ASSERT_EQ(stat(dev->path().c_str(), &st), 0) << strerror(errno);
	EXPECT_TRUE(S_ISBLK(st.st_mode));
	EXPECT_EQ(st.st_rdev, dev->dev());
	EXPECT_EQ(dev->dm_path(), "/dev/dm-" + std::to_string(minor(dev->dev())));
	dm::Info i = dev->info();
	EXPECT_TRUE(i.exists && i.live_table);
	EXPECT_FALSE(i.suspended || i.inactive_table || i.deferred_remove);
	EXPECT_EQ(i.minor, minor(dev->dev()));
	EXPECT_EQ(dm::to_string(dev->table()), "0 16384 zero\n");
	{
		UniqueFd fd = open_or_throw(dev->path(), O_RDONLY);
		EXPECT_EQ(size_of(fd.get()), 8 * MiB);
		EXPECT_EQ(dm::name_of(fd.get()), name);
		EXPECT_EQ(dev->info().open_count, 1);
		EXPECT_TRUE(MapIs(fd.get(), 8 * MiB, {}));
	}
	EXPECT_EQ(dm::name_of(loop.fd()), "");

	// Load: inactive until the resume swaps it in.
	const dm::Table linear = {{0, 4 * MiB, "linear", loop.path() + " 0"}};
	dev->load(linear);
	EXPECT_TRUE(dev->info().inactive_table);
	EXPECT_EQ(dev->table()[0].type, "zero");
	dev->resume();
	EXPECT_FALSE(dev->info().inactive_table);
	EXPECT_EQ(dm::to_string(dev->table()),
		  "0 8192 linear " + dev_number(loop.path()) + " 0\n");
	{
		UniqueFd fd = open_or_throw(dev->path(), O_RDONLY);
		EXPECT_TRUE(MapIs(fd.get(), 4 * MiB, f.map()));
	}

	// Suspend, with and without flushing, and resume.
	for (unsigned flags : {0u, dm::NoFlush, dm::NoLockfs}) {
		dev->suspend(flags);
		EXPECT_TRUE(dev->info().suspended) << flags;
		dev->resume();
		EXPECT_FALSE(dev->info().suspended) << flags;
	}
	// Reload while suspended: the resume swaps the table in.
	dev->suspend();
	dev->load({{0, 2 * MiB, "error", ""}});
	dev->resume();
	EXPECT_EQ(dm::to_string(dev->table()), "0 4096 error\n");
	dev->reload(linear);
	EXPECT_EQ(dev->table(), dm::table(name));
	EXPECT_EQ(dev->status(), (dm::Table{{0, 4 * MiB, "linear", ""}}));

	// Remove: the device and its node go.
	dev->remove();
	EXPECT_FALSE(dm::exists(name));
	EXPECT_NE(access(("/dev/mapper/" + name).c_str(), F_OK), 0)
		<< "the /dev/mapper node stayed";
	dev.reset(); // removed: the destructor leaves it alone
}

// A thin pool answers messages and reports its status: the transaction id
// a message sets is the first field of the status, a thin device the
// pool created can be activated, and a message the pool does not know
// fails with EINVAL and libdevmapper's message.
TEST_F(DmApi, MessageAndStatusRoundTripOnAThinPool)
{
	SparseFile meta(8 * MiB), data(64 * MiB);
	LoopDevice meta_loop(meta.path()), data_loop(data.path());
	dm::Device pool(api_name("pool"),
			{{0, 64 * MiB, "thin-pool",
			  meta_loop.path() + " " + data_loop.path() + " 128 0"}});
	auto transaction = [&](bool noflush) {
		dm::Table st = pool.status(noflush);
		EXPECT_EQ(st.size(), 1u);
		EXPECT_EQ(st.at(0).type, "thin-pool");
		return std::stoll(st.at(0).params);
	};
	EXPECT_EQ(transaction(false), 0);
	EXPECT_EQ(pool.message("set_transaction_id 0 7"), "");
	EXPECT_EQ(transaction(true), 7);
	pool.message("create_thin 3");
	{
		dm::Device thin(api_name("thin"),
				{{0, 16 * MiB, "thin", pool.path() + " 3"}});
		UniqueFd fd = open_or_throw(thin.path(), O_RDONLY);
		EXPECT_TRUE(MapIs(fd.get(), 16 * MiB, {}));
	}
	pool.message("delete 3");
	auto [err, what] = error_of([&] { pool.message("no_such_message 1"); });
	EXPECT_EQ(err, EINVAL) << what;
	EXPECT_NE(what.find("no_such_message"), std::string::npos) << what;
	EXPECT_NE(what.find(pool.name()), std::string::npos) << what;
}

// Errors carry the ioctl's errno and say what failed: a device that does
// not exist is ENXIO; a table the kernel refuses fails the create, which
// leaves no device behind, or the load, which leaves the live table.
TEST_F(UnchangedDmApi, ErrorsCarryErrnoAndMessage)
{
	const std::string missing = api_name("missing");
	for (auto op : std::vector<std::function<void()>>{
		     [&] { dm::remove(missing); },
		     [&] { dm::resume(missing); },
		     [&] { dm::suspend(missing); },
		     [&] { dm::status(missing); },
		     [&] { dm::table(missing); },
		     [&] { dm::message(missing, "x"); },
		     [&] { dm::load(missing, {{0, 8 * KiB, "zero", ""}}); }}) {
		auto [err, what] = error_of(op);
		EXPECT_EQ(err, ENXIO) << what;
		EXPECT_NE(what.find(missing), std::string::npos) << what;
	}
	EXPECT_FALSE(dm::info(missing).exists);
	EXPECT_FALSE(dm::exists(missing));

	const std::string bad = api_name("bad");
	auto [err, what] = error_of([&] {
		dm::Device d(bad, {{0, 8 * KiB, "no-such-target", "x"}});
	});
	EXPECT_NE(err, 0);
	EXPECT_NE(what.find("load"), std::string::npos) << what;
	EXPECT_NE(what.find("no-such-target"), std::string::npos) << what;
	EXPECT_FALSE(dm::exists(bad)) << "a failed create left " << bad;
	EXPECT_NE(access(dm::node(bad).c_str(), F_OK), 0) << dm::node(bad);

	dm::Device dev(bad, {{0, 8 * KiB, "zero", ""}});
	std::tie(err, what) = error_of([&] {
		dev.load({{0, 8 * KiB, "linear", "/dev/no-such-disk 0"}});
	});
	EXPECT_NE(err, 0) << what;
	EXPECT_NE(what.find("/dev/no-such-disk"), std::string::npos) << what;
	EXPECT_FALSE(dev.info().inactive_table);
	EXPECT_EQ(dm::to_string(dev.table()), "0 16 zero\n");

	std::tie(err, what) = error_of(
		[&] { dm::Device twin(bad, {{0, 8 * KiB, "zero", ""}}); });
	EXPECT_EQ(err, EBUSY) << "a second device of the same name: " << what;
	EXPECT_TRUE(dm::exists(bad));
}

// An open device: remove fails with EBUSY at once, succeeds once the
// opener closes within the time given; a deferred remove waits for the
// last close.
TEST_F(UnchangedDmApi, RemoveOfAnOpenDevice)
{
	const std::string name = api_name("busy");
	dm::Device dev(name, {{0, 1 * MiB, "zero", ""}});
	UniqueFd fd = open_or_throw(dev.path(), O_RDONLY);
	auto [err, what] = error_of([&] { dm::remove(name); });
	EXPECT_EQ(err, EBUSY) << what;
	auto closer = std::async(std::launch::async, [&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(300));
		fd.reset();
	});
	dev.remove(20000);
	closer.get();
	EXPECT_FALSE(dm::exists(name));

	const std::string later = api_name("deferred");
	dm::Device d2(later, {{0, 1 * MiB, "zero", ""}});
	fd = open_or_throw(d2.path(), O_RDONLY);
	d2.remove_deferred();
	dm::Info i = dm::info(later);
	EXPECT_TRUE(i.exists && i.deferred_remove);
	EXPECT_EQ(size_of(fd.get()), 1 * MiB) << "the opener still reads it";
	// The last close queues the removal: its name goes first, then its
	// disk.
	const std::string sysdir = "/sys/block/" + d2.dm_path().substr(5);
	fd.reset();
	for (int n = 0; n < 1000 && access(sysdir.c_str(), F_OK) == 0; n++)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	EXPECT_FALSE(dm::exists(later)) << "still there after the last close";
	EXPECT_NE(access(sysdir.c_str(), F_OK), 0) << sysdir;
}

// The destructor resumes a device left suspended before removing it: a
// reader blocked in I/O on it (as a test's walker or reader may be when
// the test fails) then completes and closes, and the remove succeeds.
// (A suspended device that nobody has open is removed without a resume.)
TEST_F(UnchangedDmApi, DestructorRemovesASuspendedDevice)
{
	const std::string name = api_name("suspended");
	std::future<ssize_t> reader;
	auto dev = std::make_unique<dm::Device>(
		name, dm::Table{{0, 1 * MiB, "zero", ""}});
	const int fd = open(dev->path().c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
	ASSERT_GE(fd, 0) << strerror(errno);
	dev->suspend();
	reader = std::async(std::launch::async, [fd] {
		void *buf = nullptr;
		ssize_t r = -1;
		if (posix_memalign(&buf, 4096, 4096) == 0)
			r = pread(fd, buf, 4096, 0);
		free(buf);
		close(fd);
		return r;
	});
	EXPECT_EQ(reader.wait_for(std::chrono::milliseconds(500)),
		  std::future_status::timeout)
		<< "a read of the suspended device did not wait";
	const auto t0 = std::chrono::steady_clock::now();
	dev.reset();
	const auto took = std::chrono::steady_clock::now() - t0;
	EXPECT_LT(took, std::chrono::seconds(10))
		<< "the destructor waited for the reader's close";
	if (reader.wait_for(std::chrono::seconds(10)) !=
	    std::future_status::ready) {
		ADD_FAILURE() << "the reader still waits: the destructor did "
				 "not resume the device";
		// Let it end (the future's destructor waits for it), and go.
		dm::resume(name);
		reader.wait();
		dm::remove(name, false, 30000);
		return;
	}
	EXPECT_EQ(reader.get(), 4096);
	EXPECT_FALSE(dm::exists(name));
}

// Operations from many threads at once (as the stress tool makes them):
// each device is created, reloaded, suspended, resumed and removed, and
// every node comes and goes with its device.
TEST_F(UnchangedDmApi, ConcurrentDevicesFromManyThreads)
{
	std::vector<std::future<void>> jobs;
	for (int t = 0; t < 4; t++)
		jobs.push_back(std::async(std::launch::async, [t] {
			for (int round = 0; round < 10; round++) {
				const std::string name = api_name(
					"mt" + std::to_string(t) + "-" +
					std::to_string(round));
				dm::Device dev(name, {{0, 1 * MiB, "zero", ""}});
				if (access(dev.path().c_str(), F_OK))
					fail_errno("node " + dev.path());
				dev.reload({{0, 2 * MiB, "error", ""}});
				dev.suspend(round % 2 ? dm::NoFlush : 0);
				dev.resume();
				dev.remove();
				if (access(dev.path().c_str(), F_OK) == 0)
					throw std::runtime_error(dev.path() + " stayed");
			}
		}));
	for (auto &j : jobs)
		EXPECT_NO_THROW(j.get());
}

} // namespace
} // namespace seektest
