// SPDX-License-Identifier: GPL-2.0
// common/partitions.h, partition tables written with libfdisk: the kernel
// reads back the partitions written (sysfs start and size, the msdos
// type byte), from the structured form and from an sfdisk script, on a
// file and on a disk whose table is then re-read (BLKRRPART); bad
// partitions fail with EINVAL.
#include <cerrno>
#include <fcntl.h>
#include <glob.h>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

#include "common/partitions.h"
#include "common/units.h"
#include "fixtures.h"

namespace seektest {
namespace {

using namespace units;

// Start and size in bytes of partition @n of the loop device @loop, from
// sysfs (-1 if it has no such partition).
std::pair<int64_t, int64_t> sysfs_partition(const LoopDevice &loop, int n)
{
	const std::string dir = "/sys/class/block/loop" +
				std::to_string(loop.number()) + "p" +
				std::to_string(n) + "/";
	const std::string start = read_small_file(dir + "start"),
			  size = read_small_file(dir + "size");
	if (start.empty() || size.empty())
		return {-1, -1};
	return {std::stoll(start) * Sector, std::stoll(size) * Sector};
}

// How many partitions of @loop sysfs lists.
int partition_count(const LoopDevice &loop)
{
	glob_t g;
	const std::string pat = "/sys/class/block/loop" +
				std::to_string(loop.number()) + "p*";
	int n = 0;
	if (glob(pat.c_str(), 0, nullptr, &g) == 0)
		n = int(g.gl_pathc);
	globfree(&g);
	return n;
}

class UnchangedPartitionTable : public DeviceTest,
		       public ::testing::WithParamInterface<Label> {};

TEST_P(UnchangedPartitionTable, KernelReadsBackThePartitionsWritten)
{
	SparseFile f(32 * MiB);
	// The third one off any 4 KiB boundary, as a table may put it.
	const std::vector<Partition> parts = {
		{1 * MiB, 4 * MiB},
		{5 * MiB, 8 * MiB},
		{13 * MiB + 7 * Sector, 3 * MiB}};
	common::write_partition_table(f.path(), GetParam(), parts);
	LoopDevice loop(f.path(), {.partscan = true});
	for (int n = 1; n <= 3; n++) {
		loop.partition(n); // waits for its node
		const Partition &p = parts[n - 1];
		EXPECT_EQ(sysfs_partition(loop, n), std::make_pair(p.start, p.size))
			<< "partition " << n;
	}
	EXPECT_EQ(partition_count(loop), 3);
	// The table is all that was written: data only at its sectors.
	for (const Extent &e : f.map())
		EXPECT_TRUE(e.end <= 1 * MiB || e.start >= 31 * MiB)
			<< "data at " << e.start << " outside the label";
}

TEST_P(UnchangedPartitionTable, ScriptAsSfdiskReadsIt)
{
	SparseFile f(16 * MiB);
	const std::string label = GetParam() == Label::dos ? "dos" : "gpt";
	common::write_partition_table(f.path(),
				      "label: " + label + "\n"
				      "start=2048, size=8192\n"
				      "start=12288, size=4096\n");
	LoopDevice loop(f.path(), {.partscan = true});
	loop.partition(2);
	EXPECT_EQ(sysfs_partition(loop, 1), std::make_pair(1 * MiB, 4 * MiB));
	EXPECT_EQ(sysfs_partition(loop, 2), std::make_pair(6 * MiB, 2 * MiB));
	EXPECT_EQ(partition_count(loop), 2);
}

// A new table written on the disk itself, then re-read: the kernel's
// partitions become the new ones.
TEST_P(UnchangedPartitionTable, RereadAfterWritingTheDisk)
{
	SparseFile f(16 * MiB);
	common::write_partition_table(f.path(), GetParam(), {{1 * MiB, 2 * MiB}});
	LoopDevice loop(f.path(), {.partscan = true});
	loop.partition(1);
	ASSERT_EQ(sysfs_partition(loop, 1), std::make_pair(1 * MiB, 2 * MiB));
	common::write_partition_table(loop.path(), GetParam(),
				      {{2 * MiB, 4 * MiB}, {8 * MiB, 1 * MiB}});
	EXPECT_EQ(sysfs_partition(loop, 1), std::make_pair(1 * MiB, 2 * MiB))
		<< "the kernel was told before the re-read";
	reread_partitions(loop.path());
	loop.partition(2);
	EXPECT_EQ(sysfs_partition(loop, 1), std::make_pair(2 * MiB, 4 * MiB));
	EXPECT_EQ(sysfs_partition(loop, 2), std::make_pair(8 * MiB, 1 * MiB));
}

TEST_P(UnchangedPartitionTable, BadPartitionsFailWithEinval)
{
	SparseFile f(16 * MiB);
	for (const Partition &p : {Partition{1 * MiB + 100, 1 * MiB},
				   Partition{1 * MiB, 0},
				   Partition{1 * MiB, 1 * MiB, "no-such-type"}}) {
		try {
			common::write_partition_table(f.path(), GetParam(), {p});
			ADD_FAILURE() << "no error for start " << p.start
				      << " size " << p.size << " type " << p.type;
		} catch (const std::system_error &e) {
			EXPECT_EQ(e.code().value(), EINVAL) << e.what();
		}
	}
	EXPECT_THROW(common::write_partition_table(
			     f.path(), GetParam(),
			     {{1 * MiB, 8 * MiB}, {4 * MiB, 8 * MiB}}),
		     std::system_error)
		<< "overlapping partitions";
}

INSTANTIATE_TEST_SUITE_P(Label, UnchangedPartitionTable,
			 ::testing::Values(Label::dos, Label::gpt),
			 [](const auto &info) {
				 return std::string(info.param == Label::dos ?
							    "Msdos" : "Gpt");
			 });

// The msdos type given is the one the table holds (byte 4 of the entry).
TEST(UnchangedPartitionTypes, MsdosTypeIsTheOneGiven)
{
	SparseFile f(16 * MiB);
	common::write_partition_table(f.path(), Label::dos,
				      {{1 * MiB, 1 * MiB, "c"}, {2 * MiB, 1 * MiB}});
	unsigned char mbr[512];
	ASSERT_EQ(pread(f.fd(), mbr, sizeof(mbr), 0), 512);
	EXPECT_EQ(mbr[510], 0x55);
	EXPECT_EQ(mbr[511], 0xaa);
	EXPECT_EQ(mbr[446 + 4], 0x0c);
	EXPECT_EQ(mbr[446 + 16 + 4], 0x83) << "the default is Linux";
}

} // namespace
} // namespace seektest
