// SPDX-License-Identifier: GPL-2.0
// Bounds of stacked queries and of long walks, on a thin device with one
// very long provisioned run. The pool metadata is written by thin_restore
// from XML, so the run costs no data writes: blocks [0, run) of a 1 TiB
// thin device (64 KiB blocks) are one range_mapping, and the last block of
// the device is mapped too, so the run does not end at the highest mapped
// block. What a query costs is counted in sectors read from the metadata
// loop device (/sys/block/loopN/stat): dm-bufio reads a metadata block
// from it once, on a cache miss, and a pool starts with an empty cache.
//
// SEEK_TEST_BOUND_RUN_GIB sets the run's length in GiB (default 64: its
// metadata, about 1M mappings in 33 MiB of leaves, takes thin_restore about
// 35 s in the TCG guest, and a walk over it about 3 s; 256 GiB takes 4 times
// as long and tells no more).
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <memory>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "liveness.h"
#include "thin_fixtures.h"

namespace seektest {
namespace {

constexpr int64_t kBlock = 64 * KiB, kVirtual = 1 * TiB;
// Mappings per btree leaf of 4 KiB: at most (4096 - 32) / 16 = 254
// (252 used); thin_restore leaves them about half full.
constexpr int64_t kMaxLeafEntries = 252;

int64_t run_blocks()
{
	const char *v = getenv("SEEK_TEST_BOUND_RUN_GIB");
	int64_t gib = v && *v ? strtoll(v, nullptr, 0) : 64;
	return gib * GiB / kBlock;
}

// The least a walk over the whole run reads: every leaf of it, full.
int64_t whole_run_min_bytes()
{
	return run_blocks() / kMaxLeafEntries * 4 * KiB;
}

// Pool metadata restored once for the suite: thin_restore of a long run
// takes minutes under emulation. Each test works on a copy.
std::unique_ptr<SparseFile> image;

const SparseFile &restored_image()
{
	if (image)
		return *image;
	const int64_t run = run_blocks();
	// About 32 bytes per mapping (half-full leaves), plus space maps.
	auto img = std::make_unique<SparseFile>((run * 48 / MiB + 16) * MiB);
	SparseFile xml(0);
	{
		std::ofstream out(xml.path());
		out << "<superblock uuid=\"\" time=\"0\" transaction=\"1\" "
		       "flags=\"0\" version=\"2\" data_block_size=\""
		    << kBlock / Sector << "\" nr_data_blocks=\"" << run + 1
		    << "\">\n"
		    << "  <device dev_id=\"0\" mapped_blocks=\"" << run + 1
		    << "\" transaction=\"0\" creation_time=\"0\" "
		       "snap_time=\"0\">\n"
		    << "    <range_mapping origin_begin=\"0\" data_begin=\"0\" "
		       "length=\"" << run << "\" time=\"0\"/>\n"
		    << "    <single_mapping origin_block=\""
		    << kVirtual / kBlock - 1 << "\" data_block=\"" << run
		    << "\" time=\"0\"/>\n"
		    << "  </device>\n</superblock>\n";
		if (!out.flush())
			throw std::runtime_error("writing " + xml.path());
	}
	auto t0 = std::chrono::steady_clock::now();
	run_or_throw("thin_restore -q -i " + xml.path() + " -o " + img->path());
	std::chrono::duration<double> took =
		std::chrono::steady_clock::now() - t0;
	std::cout << "[   INFO   ] thin_restore of a " << run * kBlock / GiB
		  << " GiB run: " << took.count() << " s" << std::endl;
	image = std::move(img);
	return *image;
}

// Sectors read so far from block device @name, from its stat file.
uint64_t sectors_read(const std::string &name)
{
	std::ifstream in("/sys/block/" + name + "/stat");
	uint64_t ios, merges, sectors;
	if (!(in >> ios >> merges >> sectors))
		throw std::runtime_error("cannot read /sys/block/" + name +
					 "/stat");
	return sectors;
}

const std::string &copy_into(const SparseFile &dst, const SparseFile &src)
{
	run_or_throw("cp --sparse=always " + src.path() + " " + dst.path());
	return dst.path();
}

// The pool over a copy of the restored metadata and a sparse data file,
// and its thin device 0 (1 TiB).
class RestoredThin {
public:
	explicit RestoredThin(const SparseFile &image)
		: meta_file_(image.size()), data_file_((run_blocks() + 1) * kBlock),
		  meta_loop_(copy_into(meta_file_, image)),
		  data_loop_(data_file_.path())
	{
		pool_ = std::make_unique<DmDevice>(
			"0 " + sectors(data_file_.size()) + " thin-pool " +
			meta_loop_.path() + " " + data_loop_.path() + " " +
			sectors(kBlock) + " 0 0");
		thin_ = std::make_unique<DmDevice>(
			"0 " + sectors(kVirtual) + " thin " + pool_->path() +
			" 0");
	}
	~RestoredThin()
	{
		thin_.reset();
		pool_.reset();
	}

	const std::string &path() const { return thin_->path(); }
	// Sectors read from the metadata device so far.
	uint64_t metadata_read() const
	{
		return sectors_read("loop" + std::to_string(meta_loop_.number()));
	}
	// The map thin_restore was given.
	static ExtentMap map()
	{
		return {{0, run_blocks() * kBlock}, {kVirtual - kBlock, kVirtual}};
	}

private:
	SparseFile meta_file_, data_file_;
	LoopDevice meta_loop_, data_loop_;
	std::unique_ptr<DmDevice> pool_, thin_;
};

class ThinBound : public DeviceTest {
protected:
	static void TearDownTestSuite() { image.reset(); }
};

// A linear target over the first GiB of the thin device: SEEK_HOLE at 0
// must stop at the slice's end, reading the leaves of 1 GiB (16384
// mappings, about 65 full or 130 half-full leaves, well under 1 MiB with
// the nodes above them), not the whole run's (at least 16 MiB for 64 GiB,
// about twice that as thin_restore fills the leaves).
TEST_F(ThinBound, LinearSliceWalksOnlyTheRangeItMaps)
{
	const int64_t slice_size = 1 * GiB, bound = 4 * MiB;
	ASSERT_GT(whole_run_min_bytes(), 2 * bound)
		<< "SEEK_TEST_BOUND_RUN_GIB too small to tell the bound";
	RestoredThin thin(restored_image());
	DmDevice slice("0 " + sectors(slice_size) + " linear " + thin.path() +
		       " 0");
	UniqueFd fd = open_or_throw(slice.path(), O_RDONLY);
	const uint64_t before = thin.metadata_read();
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_HOLE), slice_size);
	const int64_t read = (thin.metadata_read() - before) * Sector;
	EXPECT_LT(read, bound)
		<< "SEEK_HOLE(0) on a 1 GiB slice read " << read / KiB
		<< " KiB of metadata: it walked past the slice (the whole run "
		<< "is at least " << whole_run_min_bytes() / MiB << " MiB)";
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_DATA), 0);
	EXPECT_TRUE(MapIs(fd.get(), slice_size, {{0, slice_size}}));
}

// SEEK_HOLE at 0 of the thin device walks the whole run. Killed once the
// walk has read 1 MiB of metadata, it must end within a batch of the walk
// (4096 mappings, a few dozen leaves) instead of reading the rest first.
// Not killed, the same walk finds the end of the run.
TEST_F(ThinBound, LongWalkStopsOnSigkill)
{
	const int64_t trigger = 1 * MiB, bound = whole_run_min_bytes() / 2;
	ASSERT_GT(bound, 4 * trigger)
		<< "SEEK_TEST_BOUND_RUN_GIB too small to tell the bound";
	RestoredThin thin(restored_image());
	const uint64_t start = thin.metadata_read();
	const std::string path = thin.path();
	pid_t child = fork();
	ASSERT_GE(child, 0) << strerror(errno);
	if (child == 0) {
		int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(2);
		lseek(fd, 0, SEEK_HOLE);
		_exit(0);
	}
	int status = -1;
	bool reaped = false;
	// The thin device must not be removed under the child.
	ScopeExit reap([&] {
		if (!reaped)
			status = reap_child(child, std::chrono::seconds(0));
	});

	auto t0 = std::chrono::steady_clock::now();
	bool ended = false;
	int64_t read = 0;
	while ((read = (thin.metadata_read() - start) * Sector) < trigger) {
		if (waitpid(child, &status, WNOHANG) == child) {
			ended = reaped = true;
			break;
		}
		ASSERT_TRUE(std::chrono::steady_clock::now() - t0 <
			    std::chrono::seconds(120))
			<< "the walk read only " << read << " bytes in 120 s";
		std::this_thread::sleep_for(std::chrono::microseconds(200));
	}
	ASSERT_FALSE(ended) << "the walk ended (status " << status
			    << ") before it read " << trigger / KiB
			    << " KiB; read " << read / KiB << " KiB";
	auto killed = std::chrono::steady_clock::now();
	ASSERT_EQ(kill(child, SIGKILL), 0) << strerror(errno);
	status = reap_child(child, std::chrono::seconds(60));
	reaped = true;
	std::chrono::duration<double> dying =
		std::chrono::steady_clock::now() - killed;
	read = (thin.metadata_read() - start) * Sector;
	std::cout << "[   INFO   ] the killed walk read " << read / KiB
		  << " KiB of metadata and ended " << dying.count()
		  << " s after SIGKILL" << std::endl;
	EXPECT_NE(status, -1) << "the killed walk did not end within 60 s";
	EXPECT_TRUE(status != -1 && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL) << "status " << status;
	EXPECT_LT(read, bound)
		<< "the killed walk read " << read / KiB
		<< " KiB of metadata before it ended, " << dying.count()
		<< " s after SIGKILL (the whole run is at least "
		<< whole_run_min_bytes() / KiB << " KiB)";

	UniqueFd fd = open_or_throw(path, O_RDONLY);
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_HOLE), run_blocks() * kBlock);
	EXPECT_TRUE(MapIs(fd.get(), kVirtual, RestoredThin::map()));
}

} // namespace
} // namespace seektest
