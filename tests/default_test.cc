// SPDX-License-Identifier: GPL-2.0
// A disk whose driver has no seek_hole_data operation reports all data
// instead of failing with EINVAL. virtio-blk is such a driver: harness/vm
// attaches a small read-only virtio disk, /dev/vda, that reads zeros.
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "fixtures.h"

namespace seektest {
namespace {

const char *const kDisk = "/dev/vda";

TEST(DefaultAnswer, DiskWithoutOperationIsAllData)
{
	if (access(kDisk, F_OK))
		GTEST_SKIP() << "SKIP: " << kDisk
			     << " missing (CONFIG_VIRTIO_BLK=y, harness/vm)";
	UniqueFd dev = open_or_throw(kDisk, O_RDONLY);
	const int64_t size = size_of(dev.get());
	ASSERT_GT(size, 0);
	const ExtentMap all = {{0, size}};
	seekmap::Walk w = seekmap::walk(dev.get(), size);
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(w.map, all);
	for (int64_t off : {int64_t(-1), int64_t(0), int64_t(4095), size / 2,
			    size - 1, size, size + 1})
		EXPECT_TRUE(SeekAnswers(dev.get(), size, all, off));
}

} // namespace
} // namespace seektest
