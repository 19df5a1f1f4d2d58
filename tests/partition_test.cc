// SPDX-License-Identifier: GPL-2.0
// Partitions answer in their own coordinates and never report the data or
// holes of their neighbours.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <string>

#include "common/units.h"
#include "fixtures.h"

namespace seektest {
namespace {

using namespace units;

struct Part {
	int64_t start; // bytes
	int64_t size;
};

// Two partitions with a gap between them; the second ends 1 MiB before the
// disk's end, leaving room for a GPT backup table.
const Part p1 = {1 * MiB, 4 * MiB};
const Part p2 = {6 * MiB, 8 * MiB};
const int64_t disk_size = 16 * MiB;

void write_table(const SparseFile &f, const std::string &label)
{
	write_partition_table(f, label == "dos" ? Label::dos : Label::gpt,
			      {{p1.start, p1.size}, {p2.start, p2.size}});
}

int64_t sysfs_sectors(const std::string &part, const char *attr)
{
	std::string name = part.substr(part.rfind('/') + 1);
	std::ifstream in("/sys/class/block/" + name + "/" + attr);
	int64_t v = -1;
	in >> v;
	return v;
}

class Partitions : public DeviceTest,
		   public ::testing::WithParamInterface<const char *> {};

TEST_P(Partitions, AnswerInOwnCoordinatesAndClampToOwnLength)
{
	SparseFile f(disk_size);
	write_table(f, GetParam());
	// p1 stays without data; the gap between p1 and p2 has data, p2 has
	// data at its start and a run that crosses its end.
	f.write(p1.start + p1.size, 64 * KiB);
	f.write(p2.start, 4 * KiB);
	f.write(p2.start + 3 * MiB + 512, 4 * KiB);
	f.write(p2.start + p2.size - 8 * KiB, 16 * KiB);
	ExtentMap disk_map = f.map();
	SCOPED_TRACE("disk map " + seekmap::to_string(disk_map));

	LoopDevice loop(f.path(), {.partscan = true});
	EXPECT_TRUE(MapIs(loop.fd(), loop.size(), disk_map));

	for (auto [n, p] : {std::pair{1, p1}, std::pair{2, p2}}) {
		std::string path = loop.partition(n);
		SCOPED_TRACE(path);
		// The kernel parsed the table we wrote.
		ASSERT_EQ(sysfs_sectors(path, "start") * Sector, p.start);
		ASSERT_EQ(sysfs_sectors(path, "size") * Sector, p.size);
		UniqueFd part = open_or_throw(path, O_RDONLY);
		ASSERT_EQ(size_of(part.get()), p.size);
		ExtentMap want = seekmap::window(disk_map, p.start,
						 p.start + p.size);
		EXPECT_TRUE(MapIs(part.get(), p.size, want));
		for (int64_t off : {int64_t(0), p.size - 1, p.size, p.size + 1,
				    int64_t(-1)})
			EXPECT_TRUE(SeekAnswers(part.get(), p.size, want, off));
		for (const Extent &e : want)
			for (int64_t b : {e.start, e.end})
				for (int64_t d : {-Sector, int64_t(-1),
						  int64_t(0), int64_t(1), Sector})
					if (b + d >= 0 && b + d < p.size) {
						EXPECT_TRUE(SeekAnswers(part.get(), p.size,
							     want, b + d));
					}
	}
}

TEST_P(Partitions, PartitionWithoutDataIsOneHoleDespiteNeighbours)
{
	SparseFile f(disk_size);
	write_table(f, GetParam());
	f.write(p1.start - 4 * KiB, 4 * KiB);    // just before p1
	f.write(p1.start + p1.size, 4 * KiB);    // just after p1
	LoopDevice loop(f.path(), {.partscan = true});
	UniqueFd part = open_or_throw(loop.partition(1), O_RDONLY);
	EXPECT_EQ(seekmap::seek(part.get(), 0, SEEK_DATA), -ENXIO);
	EXPECT_EQ(seekmap::seek(part.get(), 0, SEEK_HOLE), 0);
	EXPECT_EQ(seekmap::seek(part.get(), p1.size - 1, SEEK_DATA), -ENXIO);
	EXPECT_EQ(seekmap::seek(part.get(), p1.size - 1, SEEK_HOLE),
		  p1.size - 1);
	EXPECT_TRUE(MapIs(part.get(), p1.size, {}));
}

// A disk that shrank below one of its partitions: the partition keeps its
// size (nothing rescanned the table), but its sectors past the disk's end
// are no longer the disk's, so they are data (what block core answers past
// a device's end), never the holes the disk's driver may still see there.
// Here a loop device's sizelimit is lowered to 10 MiB, inside p2
// ([6, 14) MiB); the backing file still has holes up to 16 MiB, which the
// loop driver would report if it were asked past its end.
TEST_P(Partitions, PartitionPastTheEndOfAShrunkDiskIsData)
{
	SparseFile f(disk_size);
	write_table(f, GetParam());
	f.write(p2.start, 64 * KiB);
	LoopDevice loop(f.path(), {.partscan = true});
	UniqueFd part = open_or_throw(loop.partition(2), O_RDONLY);
	const int64_t shrunk = 10 * MiB, on_disk = shrunk - p2.start;

	struct loop_info64 info = {};
	ASSERT_EQ(ioctl(loop.fd(), LOOP_GET_STATUS64, &info), 0) << strerror(errno);
	info.lo_sizelimit = shrunk;
	ASSERT_EQ(ioctl(loop.fd(), LOOP_SET_STATUS64, &info), 0) << strerror(errno);
	ASSERT_EQ(size_of(loop.fd()), shrunk);
	ASSERT_EQ(size_of(part.get()), p2.size) << "the partition was resized";

	const ExtentMap want = {{0, 64 * KiB}, {on_disk, p2.size}};
	EXPECT_TRUE(MapIs(part.get(), p2.size, want));
	for (int64_t off : {int64_t(64 * KiB), on_disk - 1, on_disk,
			    on_disk + 1, p2.size - 1}) {
		EXPECT_TRUE(SeekAnswers(part.get(), p2.size, want, off));
	}
}

INSTANTIATE_TEST_SUITE_P(Label, Partitions,
			 ::testing::Values("dos", "gpt"),
			 [](const auto &info) {
				 return std::string(info.param) == "dos" ?
					"Msdos" : "Gpt";
			 });

} // namespace
} // namespace seektest
