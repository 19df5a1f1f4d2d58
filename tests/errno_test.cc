// SPDX-License-Identifier: GPL-2.0
// errno and file position at and around the edges of a device, exactly as
// for a regular file.
#include <cerrno>
#include <climits>
#include <unistd.h>

#include "fixtures.h"

namespace seektest {
namespace {

class SeekErrno : public DeviceTest {};

// The same rules hold for the backing file itself (tmpfs), the ground truth
// for the rules, and for the loop device over it.
TEST_F(SeekErrno, OffsetsAroundTheEdgesAnswerLikeARegularFile)
{
	const int64_t size = 1 << 20;
	SparseFile f(size);
	f.write(0, 4096);
	f.write(size - 4096, 4096);
	LoopDevice loop(f.path());
	ASSERT_EQ(loop.size(), size);
	ExtentMap map = f.map();

	for (int64_t off : {int64_t(-1), int64_t(0), size - 1, size, size + 1,
			    int64_t(LLONG_MAX), int64_t(LLONG_MIN)}) {
		SCOPED_TRACE("offset " + std::to_string(off));
		EXPECT_TRUE(SeekAnswers(loop.fd(), size, map, off));
		for (int whence : {SEEK_DATA, SEEK_HOLE})
			EXPECT_EQ(seekmap::seek(loop.fd(), off, whence),
				  seekmap::seek(f.fd(), off, whence))
				<< "device and regular file disagree";
	}
}

// Behaviour the series must leave as it was: these pass on the unpatched
// kernel too (harness/check: an Unchanged* suite is no map test).
class UnchangedWhence : public DeviceTest {};

TEST_F(UnchangedWhence, InvalidWhenceIsEinvalAndKeepsPosition)
{
	SparseFile f(1 << 20);
	LoopDevice loop(f.path());
	ASSERT_EQ(seekmap::seek(loop.fd(), 512, SEEK_SET), 512);
	for (int whence : {SEEK_HOLE + 1, 42, -1})
		EXPECT_EQ(seekmap::seek(loop.fd(), 0, whence), -EINVAL)
			<< "whence " << whence;
	EXPECT_EQ(seekmap::seek(loop.fd(), 0, SEEK_CUR), 512);
}

TEST_F(UnchangedWhence, OtherWhenceValuesStillWork)
{
	const int64_t size = 1 << 20;
	SparseFile f(size);
	LoopDevice loop(f.path());
	EXPECT_EQ(seekmap::seek(loop.fd(), 4096, SEEK_SET), 4096);
	EXPECT_EQ(seekmap::seek(loop.fd(), 512, SEEK_CUR), 4608);
	EXPECT_EQ(seekmap::seek(loop.fd(), -512, SEEK_END), size - 512);
	EXPECT_EQ(seekmap::seek(loop.fd(), 1, SEEK_END), -EINVAL);
}

} // namespace
} // namespace seektest
