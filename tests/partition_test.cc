// SPDX-License-Identifier: GPL-2.0
// Partitions answer in their own coordinates and never report the data or
// holes of their neighbours.
#include <cerrno>
#include <fcntl.h>
#include <fstream>
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

std::string sfdisk_script(const std::string &label)
{
	auto line = [](const Part &p) {
		return "start=" + std::to_string(p.start / Sector) +
		       ", size=" + std::to_string(p.size / Sector) + "\n";
	};
	return "label: " + label + "\n" + line(p1) + line(p2);
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
	write_partition_table(f, sfdisk_script(GetParam()));
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
	write_partition_table(f, sfdisk_script(GetParam()));
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

INSTANTIATE_TEST_SUITE_P(Label, Partitions,
			 ::testing::Values("dos", "gpt"),
			 [](const auto &info) {
				 return std::string(info.param) == "dos" ?
					"Msdos" : "Gpt";
			 });

} // namespace
} // namespace seektest
