// SPDX-License-Identifier: GPL-2.0
// md arrays answer SEEK_DATA/SEEK_HOLE through their personality: md-linear
// and raid0 ask their members (loop devices over sparse files here) for the
// translated range, so a member's hole is the array's hole where it maps;
// a member whose disk is gone is data; a suspended array is data at once.
// raid10 and raid4/5/6 have no answer yet and are all data (raid1:
// raid1_test.cc).
//
// Ground truth comes from outside the code under test: the test writes
// extents through the array (O_DIRECT, whole pages) into members that were
// all hole, so the array's data is exactly what was written, whatever the
// layout; the members' own files (their SEEK_DATA maps past the data
// offset md reports in sysfs) must hold as many bytes as were written. The
// layout (raid0 zones, md-linear member ends, from the members' sizes in
// sysfs) only places writes across boundaries, and says which chunks a
// member holds in the one single-zone case that needs it. Every reported
// hole is read back.
//
// The arrays are made with mdadm (the host's, over 9p), --assume-clean so
// that nothing but the test writes to the members' data areas, and stopped
// on destruction. SEEK_TEST_SEED=n replays the seeded layouts.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <future>
#include <iostream>
#include <memory>
#include <random>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "common/units.h"
#include "liveness.h"
#include "ram_fixtures.h"
#include "scsi_debug.h"

namespace seektest {
namespace {

using namespace units;
using std::chrono::milliseconds;

constexpr int64_t kPage = 4096;

// A loop device over a sparse file of @size bytes: an md member whose map
// is the file's.
struct Member {
	SparseFile file;
	LoopDevice loop;

	explicit Member(int64_t size) : file(size), loop(file.path()) {}
	const std::string &path() const { return loop.path(); }
};

std::string md_name()
{
	static std::atomic<int> seq{0};
	return "st" + std::to_string(getpid()) + "_" + std::to_string(seq++);
}

// An md array made by mdadm --create over @members (in slot order), level
// @level and more mdadm @options; stopped, and its nodes removed, on
// destruction. Its node is /dev/mdN (mdadm makes it: the guest has no
// udev), its sysfs directory /sys/block/mdN/md.
class MdArray {
public:
	MdArray(const std::string &level, const std::vector<std::string> &members,
		const std::string &options = "")
		: name_(md_name())
	{
		std::string cmd = "mdadm --create /dev/md/" + name_ +
				  " --run --assume-clean --metadata=1.2 --level=" +
				  level + " --raid-devices=" +
				  std::to_string(members.size()) + " " + options;
		for (const std::string &m : members)
			cmd += " " + m;
		try {
			run_or_throw(cmd + " 2>&1");
		} catch (...) {
			stop(); // whatever mdadm left behind
			throw;
		}
		char real[PATH_MAX];
		if (!realpath(("/dev/md/" + name_).c_str(), real)) {
			stop();
			fail_errno("realpath /dev/md/" + name_);
		}
		path_ = real;
		kname_ = path_.substr(path_.rfind('/') + 1);
	}
	~MdArray() { stop(); }
	MdArray(const MdArray &) = delete;
	MdArray &operator=(const MdArray &) = delete;

	const std::string &path() const { return path_; }
	// An attribute of /sys/block/mdN/md, without its newline.
	std::string attr(const std::string &name) const
	{
		std::string v = read_small_file(sysfs() + name);
		while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
			v.pop_back();
		if (v.empty())
			throw std::runtime_error("no md attribute " + name);
		return v;
	}
	// Where member @dev (its node) keeps the array's data: its data
	// offset and the length md uses, in bytes.
	int64_t data_offset(const std::string &dev) const
	{
		return std::stoll(attr(member_dir(dev) + "/offset")) * Sector;
	}
	int64_t member_size(const std::string &dev) const
	{
		return std::stoll(attr(member_dir(dev) + "/size")) * KiB;
	}
	std::string sysfs() const { return "/sys/block/" + kname_ + "/md/"; }

private:
	static std::string member_dir(const std::string &dev)
	{
		return "dev-" + dev.substr(dev.rfind('/') + 1);
	}
	void stop()
	{
		if (stopped_)
			return;
		stopped_ = true;
		const std::string link = "/dev/md/" + name_;
		std::string node = path_, kname = kname_;
		char real[PATH_MAX];
		if (node.empty() && realpath(link.c_str(), real)) {
			node = real;
			kname = node.substr(node.rfind('/') + 1);
		}
		// Stop the array if there is one (a failed create may have
		// left one, or only nodes, or nothing).
		if (!kname.empty() &&
		    access(("/sys/block/" + kname + "/md").c_str(), F_OK) == 0) {
			bool ok = false;
			for (int i = 0; i < 20 && !ok; i++) {
				ok = system(("mdadm --stop " + node +
					     " >/dev/null 2>&1").c_str()) == 0;
				if (!ok)
					std::this_thread::sleep_for(milliseconds(100));
			}
			if (!ok)
				ADD_FAILURE() << "mdadm --stop " << node << " failed";
			// md deletes the gendisk after the stop: wait for it,
			// so that the members are let go before they are torn
			// down.
			WaitFor([&] {
				return access(("/sys/block/" + kname).c_str(), F_OK) != 0;
			}, std::chrono::seconds(10));
		}
		unlink(link.c_str());
		if (!node.empty())
			unlink(node.c_str());
	}

	std::string name_, path_, kname_;
	bool stopped_ = false;
};

// Members of @sizes bytes, all hole.
std::vector<std::unique_ptr<Member>> make_members(const std::vector<int64_t> &sizes)
{
	std::vector<std::unique_ptr<Member>> out;
	for (int64_t s : sizes)
		out.push_back(std::make_unique<Member>(s));
	return out;
}

std::vector<std::string> paths_of(const std::vector<std::unique_ptr<Member>> &m)
{
	std::vector<std::string> out;
	for (const auto &x : m)
		out.push_back(x->path());
	return out;
}

// The bytes of data the members' files hold in the data areas md uses:
// what was written through the array, counted by another provider (the
// members' backing files) than the one under test.
int64_t member_data_bytes(const MdArray &md,
			  const std::vector<std::unique_ptr<Member>> &members)
{
	int64_t total = 0;
	for (const auto &m : members) {
		const int64_t begin = md.data_offset(m->path());
		const int64_t end = begin + md.member_size(m->path());
		for (const Extent &e : seekmap::window(m->file.map(), begin, end))
			total += e.length();
	}
	return total;
}

// Write @n seeded extents of whole pages (up to @max_len) through @fd, the
// first and last page, and 16 KiB across each of @boundaries, into @model.
void write_layout(int fd, int64_t size, const std::vector<int64_t> &boundaries,
		  int64_t max_len, int n, std::mt19937_64 &rng, RamModel &model,
		  uint32_t seed)
{
	auto write = [&](int64_t off, int64_t len) {
		off = std::max<int64_t>(0, off);
		len = std::min(len, size - off);
		if (len <= 0)
			return;
		direct_write(fd, off, len, seed);
		model.write(off, len);
	};
	write(0, kPage);
	write(size - kPage, kPage);
	for (int64_t b : boundaries)
		write(b - 8 * KiB, 16 * KiB);
	for (int i = 0; i < n; i++) {
		int64_t off = int64_t(rng() % uint64_t(size / kPage)) * kPage;
		int64_t len = kPage + int64_t(rng() % uint64_t(max_len / kPage)) * kPage;
		write(off, len);
	}
}

// The array's map is what was written: the members hold it (counted in
// their files), and the walk, the seeks around every boundary and the
// holes read back say the same.
void ExpectWrittenMap(const MdArray &md,
		      const std::vector<std::unique_ptr<Member>> &members,
		      const std::vector<int64_t> &boundaries, int64_t max_len)
{
	const uint64_t seed = seed_from_env();
	SCOPED_TRACE("replay: SEEK_TEST_SEED=" + std::to_string(seed));
	std::mt19937_64 rng(seed);
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	ASSERT_EQ(size % kPage, 0);
	RamModel model(size, kPage);
	{
		UniqueFd wfd = open_or_throw(md.path(), O_RDWR | O_DIRECT);
		write_layout(wfd.get(), size, boundaries, max_len, 24, rng,
			     model, uint32_t(seed));
	}
	const ExtentMap want = model.map(size);
	ASSERT_EQ(member_data_bytes(md, members), model.units() * kPage)
		<< "the members' files do not hold what was written";
	EXPECT_TRUE(MapAndSeeksAre(fd.get(), size, want));
	for (const Extent &e : want)
		ExpectPattern(fd.get(), e.start, std::min<int64_t>(e.length(), kPage),
			      uint32_t(seed));
}

struct Raid0Case {
	const char *name;
	std::vector<int64_t> sizes; // members' file sizes
	int chunk_kib;
	const char *layout;	    // mdadm --layout, "" for none
	int want_layout;	    // md's layout attribute then, 0: one zone
	int default_layout = 0;	    // raid0.default_layout, 0: left alone
};

void PrintTo(const Raid0Case &c, std::ostream *os) { *os << c.name; }

// The ends of the zones of a raid0 array (array offsets) and whether the
// original and the alternate layouts place some zone's chunks on different
// members (a zone that starts at a chunk number its member count does not
// divide), from the members' sizes md reports.
std::vector<int64_t> raid0_zone_ends(const std::vector<int64_t> &member_sizes,
				     int64_t chunk, bool *layouts_differ)
{
	std::vector<int64_t> chunks;
	for (int64_t s : member_sizes)
		chunks.push_back(s / chunk);
	std::sort(chunks.begin(), chunks.end());
	std::vector<int64_t> ends;
	int64_t prev = 0, start = 0; // in chunks
	*layouts_differ = false;
	for (size_t i = 0; i < chunks.size(); i++) {
		if (chunks[i] == prev)
			continue;
		const int64_t n = int64_t(chunks.size() - i);
		if (start % n)
			*layouts_differ = true;
		start += (chunks[i] - prev) * n;
		prev = chunks[i];
		ends.push_back(start * chunk);
	}
	return ends;
}

class Raid0Map : public DeviceTest,
		 public ::testing::WithParamInterface<Raid0Case> {};

// What was written through the array is its data and the rest its holes:
// one zone or several (members of different sizes), each layout,
// power-of-two and other chunk sizes; writes run across chunk, member and
// zone boundaries. A personality that asked one member, ignored a zone's
// start or took one layout for the other would report written chunks as
// holes (and read them back as non-zero).
TEST_P(Raid0Map, WrittenExtentsAreDataTheRestHoles)
{
	const Raid0Case &c = GetParam();
	auto members = make_members(c.sizes);
	std::string opts = "--chunk=" + std::to_string(c.chunk_kib);
	if (*c.layout)
		opts += std::string(" --layout=") + c.layout;
	std::unique_ptr<ScopedSysValue> dflt;
	if (c.default_layout)
		dflt = std::make_unique<ScopedSysValue>(
			"/sys/module/raid0/parameters/default_layout",
			std::to_string(c.default_layout));
	MdArray md("0", paths_of(members), opts);
	const int64_t chunk = c.chunk_kib * KiB;
	ASSERT_EQ(std::stoll(md.attr("chunk_size")), chunk);
	std::vector<int64_t> sizes;
	for (const auto &m : members)
		sizes.push_back(md.member_size(m->path()));
	bool differ = false;
	std::vector<int64_t> zones = raid0_zone_ends(sizes, chunk, &differ);
	std::cout << "[  RAID0   ] " << zones.size() << " zones, layout "
		  << md.attr("layout") << std::endl;
	if (c.want_layout) {
		// The superblock's layout; raid0 takes the module's
		// default_layout for one it does not know.
		if (!c.default_layout) {
			EXPECT_EQ(std::stoi(md.attr("layout")), c.want_layout);
		}
		ASSERT_GT(zones.size(), 1u);
		EXPECT_TRUE(differ) << "the case does not tell the layouts apart";
	} else {
		ASSERT_EQ(zones.size(), 1u);
	}
	std::vector<int64_t> boundaries = zones;
	// Chunk boundaries in the first rows, and around each zone's start.
	for (int64_t k = 1; k <= 2 * int64_t(c.sizes.size()); k++)
		boundaries.push_back(k * chunk);
	for (int64_t z : zones)
		boundaries.push_back(z + chunk);
	ExpectWrittenMap(md, members, boundaries, 3 * chunk);
}

INSTANTIATE_TEST_SUITE_P(
	Geometry, Raid0Map,
	::testing::Values(
		Raid0Case{"TwoMembers64KiB", {64 * MiB, 64 * MiB}, 64, "", 0},
		Raid0Case{"ThreeMembers12KiB", {24 * MiB, 24 * MiB, 24 * MiB}, 12,
			  "", 0},
		Raid0Case{"FourMembers96KiB",
			  {32 * MiB, 32 * MiB, 32 * MiB, 32 * MiB}, 96, "", 0},
		// Chunks per member 1008, 625, 369: zones of 3, 2 and 1
		// members; the second starts at chunk 1107, odd.
		Raid0Case{"ThreeZonesOriginal64KiB",
			  {64 * MiB, 40 * MiB + 64 * KiB, 24 * MiB + 64 * KiB},
			  64, "original", 1},
		Raid0Case{"ThreeZonesAlternate64KiB",
			  {64 * MiB, 40 * MiB + 64 * KiB, 24 * MiB + 64 * KiB},
			  64, "alternate", 2},
		// No layout in the superblock: raid0.default_layout decides.
		Raid0Case{"ThreeZonesDefaultOriginal64KiB",
			  {64 * MiB, 40 * MiB + 64 * KiB, 24 * MiB + 64 * KiB},
			  64, "dangerous", 1, 1},
		Raid0Case{"ThreeZonesDefaultAlternate64KiB",
			  {64 * MiB, 40 * MiB + 64 * KiB, 24 * MiB + 64 * KiB},
			  64, "dangerous", 2, 2},
		// 12 KiB chunks: 1962, 1962, 939 a member; the second zone
		// starts at chunk 2817, odd.
		Raid0Case{"TwoZonesOriginal12KiB",
			  {24 * MiB, 24 * MiB, 12 * MiB + 12 * KiB}, 12,
			  "original", 1},
		Raid0Case{"TwoZonesAlternate12KiB",
			  {24 * MiB, 24 * MiB, 12 * MiB + 12 * KiB}, 12,
			  "alternate", 2}),
	[](const auto &info) { return std::string(info.param.name); });

class MdLinearMap : public DeviceTest {};

// md-linear: members follow each other; what was written is data, across
// member ends too, and each member's holes are the array's.
TEST_F(MdLinearMap, WrittenExtentsAreDataTheRestHoles)
{
	auto members = make_members({24 * MiB, 8 * MiB + 4 * KiB, 40 * MiB});
	MdArray md("linear", paths_of(members));
	std::vector<int64_t> ends;
	int64_t end = 0;
	for (const auto &m : members)
		ends.push_back(end += md.member_size(m->path()));
	ends.pop_back();
	ExpectWrittenMap(md, members, ends, 1 * MiB);
}

// An empty member in the middle: a hole that spans it and both
// neighbours' ends is one hole; SEEK_DATA crosses it.
TEST_F(MdLinearMap, HoleSpansAWholeEmptyMember)
{
	auto members = make_members({16 * MiB, 16 * MiB, 16 * MiB});
	MdArray md("linear", paths_of(members));
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	const int64_t m0 = md.member_size(members[0]->path());
	const int64_t m1 = md.member_size(members[1]->path());
	{
		UniqueFd wfd = open_or_throw(md.path(), O_RDWR | O_DIRECT);
		direct_write(wfd.get(), m0 - 2 * kPage, kPage, 3);
		direct_write(wfd.get(), m0 + m1 + kPage, kPage, 3);
	}
	const ExtentMap want = {{m0 - 2 * kPage, m0 - kPage},
				{m0 + m1 + kPage, m0 + m1 + 2 * kPage}};
	EXPECT_TRUE(MapAndSeeksAre(fd.get(), size, want));
	EXPECT_EQ(seekmap::seek(fd.get(), m0 - kPage, SEEK_DATA), m0 + m1 + kPage);
}

class MdLongHole : public DeviceTest,
		   public ::testing::WithParamInterface<const char *> {};

// md answers in steps of at most 1 GiB: SEEK_DATA across a hole of more
// than a step goes on with the next step instead of stopping at the first
// one's end, and the hole around the step's end is one hole.
TEST_P(MdLongHole, SeekDataCrossesAHoleLongerThanAStep)
{
	auto members = make_members({1 * GiB, 1 * GiB});
	const std::string level = GetParam();
	MdArray md(level, paths_of(members), level == "0" ? "--chunk=64" : "");
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	ASSERT_GT(size, int64_t(3) * GiB / 2);
	const ExtentMap want = {{0, kPage},
				{size - GiB / 4, size - GiB / 4 + 8 * KiB},
				{size - kPage, size}};
	{
		UniqueFd wfd = open_or_throw(md.path(), O_RDWR | O_DIRECT);
		for (const Extent &e : want)
			direct_write(wfd.get(), e.start, e.length(), 5);
	}
	EXPECT_TRUE(MapIs(fd.get(), size, want));
	EXPECT_EQ(seekmap::seek(fd.get(), kPage, SEEK_DATA), size - GiB / 4);
	EXPECT_EQ(seekmap::seek(fd.get(), kPage, SEEK_HOLE), kPage);
}

INSTANTIATE_TEST_SUITE_P(Levels, MdLongHole, ::testing::Values("0", "linear"),
			 [](const auto &info) {
				 return std::string(info.index ? "Linear" : "Raid0");
			 });

struct LevelCase {
	const char *name;
	const char *level;
	int members;
};

void PrintTo(const LevelCase &c, std::ostream *os) { *os << c.name; }

class MdAllData : public DeviceTest,
		  public ::testing::WithParamInterface<LevelCase> {};

// raid10 and raid4/5/6 have no answer of their own: an array over members
// that are all hole is one data extent (a personality that passed its
// members' holes through without knowing its layout or parity would report
// holes here). raid1 answers: raid1_test.cc.
TEST_P(MdAllData, ArrayOfAllHoleMembersIsOneDataExtent)
{
	const LevelCase &c = GetParam();
	auto members = make_members(std::vector<int64_t>(c.members, 32 * MiB));
	MdArray md(c.level, paths_of(members));
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	ASSERT_GT(size, 0);
	EXPECT_EQ(member_data_bytes(md, members), 0) << "a member holds data";
	EXPECT_TRUE(MapAndSeeksAre(fd.get(), size, ExtentMap{{0, size}}));
}

INSTANTIATE_TEST_SUITE_P(
	Levels, MdAllData,
	::testing::Values(LevelCase{"Raid10", "10", 4},
			  LevelCase{"Raid4", "4", 3}, LevelCase{"Raid5", "5", 3},
			  LevelCase{"Raid6", "6", 4}),
	[](const auto &info) { return std::string(info.param.name); });

class MdLiveness : public DeviceTest {};

// While md suspends the array (here: for a change of a member's state,
// which waits for a read held up by a suspended dm member), a query
// answers "data" at once instead of waiting for the resume; afterwards the
// map is back.
TEST_F(MdLiveness, SuspendedArrayAnswersDataAtOnce)
{
	Member f0(32 * MiB), f1(32 * MiB);
	DmDevice d0("0 " + std::to_string(32 * MiB / Sector) + " linear " +
		    f0.path() + " 0");
	DmDevice d1("0 " + std::to_string(32 * MiB / Sector) + " linear " +
		    f1.path() + " 0");
	MdArray md("0", {d0.path(), d1.path()}, "--chunk=64");
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	// Data in chunk 0 (member 0) and chunk 3 (member 1).
	const ExtentMap want = {{8 * KiB, 12 * KiB}, {200 * KiB, 208 * KiB}};
	{
		UniqueFd wfd = open_or_throw(md.path(), O_RDWR | O_DIRECT);
		for (const Extent &e : want)
			direct_write(wfd.get(), e.start, e.length(), 9);
	}
	ASSERT_TRUE(MapIs(fd.get(), size, want));

	d1.suspend();
	// A read of chunks 0 and 1 waits in member 1 (a suspended dm
	// device holds it), holding the array's active I/O.
	auto reader = std::async(std::launch::async, [&] {
		UniqueFd rfd = open_or_throw(md.path(), O_RDONLY | O_DIRECT);
		void *buf = nullptr;
		if (posix_memalign(&buf, kPage, 128 * KiB))
			throw std::bad_alloc();
		ssize_t n = pread(rfd.get(), buf, 128 * KiB, 0);
		free(buf);
		return n;
	});
	std::future<void> suspender;
	std::future<bool> went_data;
	std::future<seekmap::Walk> walk;
	ScopeExit resume([&] { d1.resume(); });
	ASSERT_TRUE(WaitFor([&] {
		return std::stoll(read_small_file("/sys/block/" +
						  md.path().substr(5) + "/inflight")) > 0;
	}, std::chrono::seconds(20))) << "the read did not reach the array";
	ASSERT_EQ(reader.wait_for(milliseconds(200)), std::future_status::timeout)
		<< "the read through the suspended member completed";
	// md suspends the array to change a member's state (as for every
	// member change): it stops new I/O and waits for the read.
	const std::string state =
		md.sysfs() + "dev-" + d0.dm_path().substr(5) + "/state";
	suspender = std::async(std::launch::async,
			       [&] { write_value(state, "writemostly"); });
	went_data = std::async(std::launch::async, [&] {
		return WaitFor([&] {
			return seekmap::seek(fd.get(), 0, SEEK_DATA) == 0;
		}, std::chrono::seconds(20));
	});
	ASSERT_TRUE(AnswersWithin(went_data, "queries of a suspending array"));
	ASSERT_TRUE(went_data.get())
		<< "the array never answered all data; the suspend "
		<< (suspender.wait_for(milliseconds(0)) == std::future_status::ready
			    ? "ended" : "waits")
		<< ", SEEK_DATA(0) " << seekmap::seek(fd.get(), 0, SEEK_DATA)
		<< ", the read "
		<< (reader.wait_for(milliseconds(0)) == std::future_status::ready
			    ? "ended" : "waits")
		<< ", the suspend said: " << [&] {
			   try {
				   if (suspender.wait_for(milliseconds(0)) ==
				       std::future_status::ready)
					   suspender.get();
				   return std::string("nothing");
			   } catch (const std::exception &e) {
				   return std::string(e.what());
			   }
		   }()
		<< ", inflight " << read_small_file("/sys/block/" + md.path().substr(5) + "/inflight");
	walk = async_walk(fd.get(), size);
	ASSERT_TRUE(AnswersWithin(walk, "a walk of a suspended array",
				  std::chrono::seconds(10)));
	seekmap::Walk w = walk.get();
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(w.map, (ExtentMap{{0, size}}));
	EXPECT_EQ(suspender.wait_for(milliseconds(0)), std::future_status::timeout)
		<< "the array was not suspended during the walk";
	resume.run();
	ASSERT_TRUE(AnswersWithin(reader, "the held read"));
	EXPECT_EQ(reader.get(), 128 * KiB);
	ASSERT_TRUE(AnswersWithin(suspender, "the suspend"));
	suspender.get();
	EXPECT_TRUE(MapIs(fd.get(), size, want));
}

class MdMemberGone : public DeviceTest {};

// A member whose disk is gone (a SCSI disk deleted under the array) fails
// reads: its chunks are data, while the other member still answers. The
// SCSI member (scsi_debug with LBPRZ) reports its own holes until then.
TEST_F(MdMemberGone, ItsChunksAreData)
{
	const int64_t chunk = 512 * KiB;
	ScsiDebug sd("lbpu=1 lbprz=1 delay=0 dev_size_mb=64 sector_size=512");
	Member m0(64 * MiB);
	MdArray md("0", {m0.path(), sd.path()}, "--chunk=512");
	ASSERT_EQ(md.member_size(m0.path()), md.member_size(sd.path()))
		<< "not one zone";
	UniqueFd fd = open_or_throw(md.path(), O_RDONLY);
	const int64_t size = size_of(fd.get());
	RamModel model(size, kPage);
	{
		UniqueFd wfd = open_or_throw(md.path(), O_RDWR | O_DIRECT);
		// Chunks 0, 1 (member 0, 1) and across chunks 4 to 5.
		for (Extent e : {Extent{8 * KiB, 16 * KiB},
				 Extent{chunk + 64 * KiB, chunk + 128 * KiB},
				 Extent{5 * chunk - 8 * KiB, 5 * chunk + 8 * KiB}}) {
			direct_write(wfd.get(), e.start, e.length(), 4);
			model.write(e.start, e.length());
		}
	}
	const ExtentMap want = model.map(size);
	ASSERT_TRUE(MapIs(fd.get(), size, want));
	sd.remove_disk();
	// Member 1 holds the odd chunks of the one zone.
	ExtentMap gone = want;
	for (int64_t c = 1; c * chunk < size; c += 2)
		gone.push_back({c * chunk, std::min(size, (c + 1) * chunk)});
	EXPECT_TRUE(MapIs(fd.get(), size, seekmap::normalize(gone)));
}

} // namespace
} // namespace seektest
