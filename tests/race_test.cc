// SPDX-License-Identifier: GPL-2.0
// Map walks racing with loop reconfiguration. The answers are advisory, so
// the walks only have to stay well-formed; the guest runner fails the run on
// any lockdep, use-after-free, WARN or BUG report the races provoke.
#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <thread>
#include <unistd.h>

#include "common/units.h"
#include "fixtures.h"

namespace seektest {
namespace {

using namespace units;
constexpr int kRounds = 300;

// Walk @path's map until @stop. While the device changes under us, a
// result may be stale, but every answer is either ENXIO (no data, or the
// device went away) or an offset at or after the one asked.
void walk_until(const std::string &path, std::atomic<bool> &stop,
		std::atomic<int> &walks)
{
	while (!stop) {
		int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; // being torn down
		for (int64_t off = 0;;) {
			int64_t d = seekmap::seek(fd, off, SEEK_DATA);
			if (d == -ENXIO)
				break;
			if (d < off) {
				ADD_FAILURE() << "SEEK_DATA(" << off << ") = " << d;
				break;
			}
			int64_t h = seekmap::seek(fd, d, SEEK_HOLE);
			if (h == -ENXIO)
				break;
			if (h < d) {
				ADD_FAILURE() << "SEEK_HOLE(" << d << ") = " << h;
				break;
			}
			if (h == d)
				break; // a hole at d now: the device changed
			off = h;
		}
		close(fd);
		walks++;
	}
}

struct Layout {
	SparseFile file{4 * MiB};
	Layout(int64_t a, int64_t b)
	{
		file.write(a, 8 * KiB);
		file.write(b, 4 * KiB);
	}
};

class LoopRace : public DeviceTest {};

TEST_F(LoopRace, WalkWhileSetStatusChangesOffsetAndSizelimit)
{
	Layout l(0, 2 * MiB);
	LoopDevice loop(l.file.path());
	std::atomic<bool> stop{false};
	std::atomic<int> walks{0};
	std::thread t(walk_until, loop.path(), std::ref(stop), std::ref(walks));
	for (int i = 0; i < kRounds; i++) {
		struct loop_info64 info = {};
		ASSERT_EQ(ioctl(loop.fd(), LOOP_GET_STATUS64, &info), 0);
		info.lo_offset = (i % 3) * 4096 + (i % 2) * 512;
		info.lo_sizelimit = (i % 4) ? (i % 4) * MiB : 0;
		EXPECT_EQ(ioctl(loop.fd(), LOOP_SET_STATUS64, &info), 0)
			<< strerror(errno);
	}
	stop = true;
	t.join();
	EXPECT_GT(walks, 0);
	// Quiet again: the answer is exact.
	struct loop_info64 info = {};
	ASSERT_EQ(ioctl(loop.fd(), LOOP_GET_STATUS64, &info), 0);
	EXPECT_TRUE(MapIs(loop.fd(), loop.size(),
		  seekmap::window(l.file.map(), info.lo_offset,
				  info.lo_offset + loop.size())));
}

TEST_F(LoopRace, WalkWhileChangeFdSwapsBackingFile)
{
	Layout a(0, 1 * MiB), b(3 * MiB, 3 * MiB + 64 * KiB);
	LoopDevice loop(a.file.path(), {.read_only = true});
	std::atomic<bool> stop{false};
	std::atomic<int> walks{0};
	std::thread t(walk_until, loop.path(), std::ref(stop), std::ref(walks));
	const SparseFile *cur = &a.file;
	for (int i = 0; i < kRounds; i++) {
		cur = cur == &a.file ? &b.file : &a.file;
		UniqueFd fd = open_or_throw(cur->path(), O_RDONLY);
		EXPECT_EQ(ioctl(loop.fd(), LOOP_CHANGE_FD, fd.get()), 0)
			<< strerror(errno);
	}
	stop = true;
	t.join();
	EXPECT_GT(walks, 0);
	EXPECT_TRUE(MapIs(loop.fd(), loop.size(), cur->map()));
}

TEST_F(LoopRace, WalkWhileDeviceIsClearedAndConfiguredAgain)
{
	Layout a(0, 1 * MiB);
	UniqueFd ctl = open_or_throw("/dev/loop-control", O_RDWR);
	int n = ioctl(ctl.get(), LOOP_CTL_GET_FREE);
	ASSERT_GE(n, 0);
	std::string path = "/dev/loop" + std::to_string(n);
	std::atomic<bool> stop{false};
	std::atomic<int> walks{0};
	std::thread t(walk_until, path, std::ref(stop), std::ref(walks));
	int configured = 0;
	for (int i = 0; i < kRounds; i++) {
		UniqueFd backing = open_or_throw(a.file.path(), O_RDWR);
		UniqueFd dev = open_or_throw(path, O_RDWR);
		struct loop_config cfg = {};
		cfg.fd = backing.get();
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		cfg.info.lo_offset = (i % 2) * 4096;
		if (ioctl(dev.get(), LOOP_CONFIGURE, &cfg) == 0) {
			configured++;
			ioctl(dev.get(), LOOP_CLR_FD);
		} else {
			EXPECT_EQ(errno, EBUSY) << strerror(errno);
		}
	}
	stop = true;
	t.join();
	EXPECT_GT(configured, 0);
	EXPECT_GT(walks, 0);
}

} // namespace
} // namespace seektest
