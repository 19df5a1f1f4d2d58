// SPDX-License-Identifier: GPL-2.0
// dm-delay answers from its read device, at the read offset of its table:
// reads go there, delayed but unchanged, while writes (and flushes) may go
// to other devices. The query does no I/O through the target, so a read
// delay of seconds does not delay it.
//
// Ground truth: the read device's backing file's own map, through the
// window the table maps. The write and flush devices hold other layouts,
// so that a target answering from them (or ignoring the offset) reports
// another map. Every reported hole is read back.
#include <chrono>
#include <fcntl.h>
#include <future>
#include <iostream>
#include <string>

#include "common/units.h"
#include "liveness.h"

namespace seektest {
namespace {

using namespace units;

// A loop device over a sparse file with data at @data ({offset, length}).
struct Disk {
	SparseFile file;
	LoopDevice loop;

	Disk(int64_t size, std::initializer_list<std::pair<int64_t, int64_t>> data)
		: file(size), loop(write_all(file, data)) {}
	const std::string &path() const { return loop.path(); }

private:
	static const std::string &
	write_all(SparseFile &f, std::initializer_list<std::pair<int64_t, int64_t>> data)
	{
		for (auto [off, len] : data)
			f.write(off, len);
		return f.path();
	}
};

std::string sectors(int64_t bytes) { return std::to_string(bytes / Sector); }

// The three devices a delay target may use: reads (with data where the
// others have holes and the other way round), writes, flushes.
class DelayTest : public DeviceTest {
protected:
	static constexpr int64_t kLen = 8 * MiB;   // the target's length
	static constexpr int64_t kReadOff = 1 * MiB + 4 * KiB;
	static constexpr int64_t kWriteOff = 2 * MiB;

	Disk read_{16 * MiB, {{kReadOff, 64 * KiB},		// at the start
			     {kReadOff + 3 * MiB, 4 * KiB},
			     {kReadOff + kLen - 8 * KiB, 64 * KiB}, // across the end
			     {0, 4 * KiB}}};			// before it
	Disk write_{16 * MiB, {{kWriteOff + 1 * MiB, 2 * MiB},
			      {kWriteOff + 5 * MiB, 1 * MiB}}};
	Disk flush_{16 * MiB, {{0, 16 * MiB}}};

	// The read device's map through the window [kReadOff, kReadOff + kLen),
	// in the target's coordinates.
	ExtentMap want() const
	{
		return seekmap::window(read_.file.map(), kReadOff, kReadOff + kLen);
	}
	// A delay table line: reads from read_ after @read_ms; with @nargs
	// 6 or 9, writes (and flushes) to the other devices after 100 ms.
	std::string table(int nargs, int read_ms) const
	{
		std::string t = "0 " + sectors(kLen) + " delay " + read_.path() +
				" " + sectors(kReadOff) + " " + std::to_string(read_ms);
		if (nargs >= 6)
			t += " " + write_.path() + " " + sectors(kWriteOff) + " 100";
		if (nargs == 9)
			t += " " + flush_.path() + " 0 100";
		return t + "\n";
	}
};

class DelayMap : public DelayTest, public ::testing::WithParamInterface<int> {};

// The map is the read device's through the target's window, whatever the
// write and flush devices hold; the answer lies inside the target.
TEST_P(DelayMap, AnswersFromTheReadDeviceAtItsOffset)
{
	const ExtentMap w = want();
	ASSERT_EQ(w.size(), 3u);
	DmDevice dm(table(GetParam(), 0));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	ASSERT_EQ(size_of(fd.get()), kLen);
	EXPECT_TRUE(MapIs(fd.get(), kLen, w));
	for (const Extent &e : w)
		for (int64_t off : {e.start - 1, e.start, e.end - 1, e.end})
			if (off >= 0 && off < kLen) {
				EXPECT_TRUE(SeekAnswers(fd.get(), kLen, w, off));
			}
}

INSTANTIATE_TEST_SUITE_P(Args, DelayMap, ::testing::Values(3, 6, 9),
			 [](const auto &info) {
				 return std::to_string(info.param) + "Args";
			 });

class DelayLiveness : public DelayTest {};

// With reads delayed by 5 s, a whole walk answers well within that: the
// query sends nothing through the target. The same table without the
// delay then reads the holes back.
TEST_F(DelayLiveness, WalkIsNotDelayed)
{
	DmDevice dm(table(6, 5000));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	auto t0 = std::chrono::steady_clock::now();
	auto walk = async_walk(fd.get(), kLen);
	ASSERT_TRUE(AnswersWithin(walk, "a walk of a delayed device",
				  std::chrono::seconds(4)));
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
			  std::chrono::steady_clock::now() - t0).count();
	seekmap::Walk w = walk.get();
	std::cout << "[  DELAY   ] walk of " << w.calls << " calls: " << ms
		  << " ms with reads delayed 5000 ms" << std::endl;
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(w.map, want());
	dm.reload(table(6, 0));
	EXPECT_TRUE(MapIs(fd.get(), kLen, want()));
}

} // namespace
} // namespace seektest
