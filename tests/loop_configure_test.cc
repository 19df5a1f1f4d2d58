// SPDX-License-Identifier: GPL-2.0
// A refused LOOP_CONFIGURE must leave the device's binding alone.
//
// The loop patch once cleared the backing file of a bound device when a
// second LOOP_CONFIGURE with the same descriptor failed with EBUSY (its
// error path took "the file is ours" for "we bound it"): the next read
// dereferenced NULL in the loop worker, clearing the device did the same,
// and the seek file leaked. Found by 'make stress'; the base kernel passes.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/loop.h>
#include <memory>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/units.h"
#include "fixtures.h"

namespace seektest {
namespace {

using namespace units;

class LoopConfigureBusy : public DeviceTest {};

TEST_F(LoopConfigureBusy, RefusedConfigureKeepsTheBinding)
{
	SparseFile backing(8 * MiB);
	backing.write(0, 64 * KiB);
	backing.write(4 * MiB, 64 * KiB, 2);
	ExtentMap want = backing.map();
	{
		LoopDevice loop(backing.fd());
		for (int i = 0; i < 2; i++) {
			struct loop_config cfg;
			memset(&cfg, 0, sizeof(cfg));
			cfg.fd = backing.fd();
			errno = 0;
			EXPECT_EQ(ioctl(loop.fd(), LOOP_CONFIGURE, &cfg), -1);
			EXPECT_EQ(errno, EBUSY);
		}
		// Read through the binding with O_DIRECT (no page cache: the
		// loop worker must reach the backing file).
		UniqueFd direct(open(loop.path().c_str(), O_RDONLY | O_DIRECT));
		ASSERT_GE(direct.get(), 0) << strerror(errno);
		void *buf = nullptr;
		ASSERT_EQ(posix_memalign(&buf, 4096, 4096), 0);
		std::unique_ptr<void, decltype(&free)> hold(buf, free);
		ASSERT_EQ(pread(direct.get(), buf, 4096, 4 * MiB), 4096)
			<< strerror(errno);
		std::string got(static_cast<char *>(buf), 4096), expect(4096, '\0');
		ASSERT_EQ(pread(backing.fd(), expect.data(), 4096, 4 * MiB), 4096);
		EXPECT_EQ(got, expect);
		// The map is still the backing file's.
		EXPECT_TRUE(MapIs(loop.fd(), loop.size(), want));
	} // LOOP_CLR_FD of the binding: must not oops either.
}

} // namespace
} // namespace seektest
