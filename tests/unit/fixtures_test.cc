// SPDX-License-Identifier: GPL-2.0
// The checks of tests/fixtures.cc that every map test ends in: they pass on
// a device that answers right, and they fail, with a message that says
// why, on one that answers wrong, including one that reports a hole over
// data with the very map the test expected (only reading the hole back
// finds that). SparseFile's map, the ground truth of the loop tests, is the
// layout written to it.
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "common/units.h"
#include "../fixtures.h"
#include "fake_device.h"

namespace unittest {
namespace {

using namespace units;

// The failures @f records, as messages, without failing this test.
std::vector<std::string> failures_of(const std::function<void()> &f)
{
	::testing::TestPartResultArray results;
	{
		::testing::ScopedFakeTestPartResultReporter reporter(
			::testing::ScopedFakeTestPartResultReporter::
				INTERCEPT_ONLY_CURRENT_THREAD,
			&results);
		f();
	}
	std::vector<std::string> out;
	for (int i = 0; i < results.size(); i++)
		if (results.GetTestPartResult(i).failed())
			out.push_back(results.GetTestPartResult(i).message());
	return out;
}

// Whether one of @failures contains @what.
bool says(const std::vector<std::string> &failures, const std::string &what)
{
	for (const std::string &f : failures)
		if (f.find(what) != std::string::npos)
			return true;
	return false;
}

std::string all(const std::vector<std::string> &failures)
{
	std::string s;
	for (const std::string &f : failures)
		s += f + "\n---\n";
	return s;
}

const ExtentMap kData = {{0, 64 * KiB}, {1 * MiB, 1 * MiB + 4 * KiB},
			 {3 * MiB, 4 * MiB}};

TEST(MapIs, PassesOnADeviceThatAnswersRight)
{
	FakeDevice dev(4 * MiB, kData);
	auto f = failures_of([&] { EXPECT_TRUE(seektest::MapIs(dev.fd(), dev.size(),
							kData)); });
	EXPECT_TRUE(f.empty()) << all(f);
}

TEST(MapIs, FailsOnAnotherMap)
{
	FakeDevice dev(4 * MiB, kData);
	ExtentMap other = {{0, 64 * KiB}, {3 * MiB, 4 * MiB}};
	auto f = failures_of([&] { EXPECT_TRUE(seektest::MapIs(dev.fd(), dev.size(),
							other)); });
	EXPECT_TRUE(says(f, "device map")) << all(f);
}

TEST(MapIs, FailsOnAHoleOverDataThoughTheMapIsTheExpectedOne)
{
	// The device holds kData but reports its middle extent as hole, and
	// the test expected just that map.
	const ExtentMap claimed = {{0, 64 * KiB}, {3 * MiB, 4 * MiB}};
	FakeDevice dev(4 * MiB, kData, {claimed});
	auto f = failures_of([&] { EXPECT_TRUE(seektest::MapIs(dev.fd(), dev.size(),
							claimed)); });
	EXPECT_FALSE(says(f, "device map")) << all(f);
	EXPECT_TRUE(says(f, "reported hole holds data at byte 1048576"))
		<< all(f);
}

TEST(MapIs, FailsOnAMalformedAnswer)
{
	FakeAnswers a{kData};
	a.bad_at = 64 * KiB;
	FakeDevice dev(4 * MiB, kData, a);
	auto f = failures_of([&] { EXPECT_TRUE(seektest::MapIs(dev.fd(), dev.size(),
							kData)); });
	EXPECT_TRUE(says(f, "malformed answer")) << all(f);
}

TEST(HolesReadZero, LargeHolesAreReadAtBothEdgesAndSamples)
{
	// Holes over 4 MiB are read in part: the first and last MiB and 32
	// samples of 64 KiB in between. Data hidden at either edge, or in
	// a sample (the 16th), is found.
	const int64_t sample16 = (32 * MiB - 64 * KiB) / 33 * 16 + 1000;
	for (int64_t at : {int64_t(0), 1 * MiB - 1, 32 * MiB - 4 * KiB,
			   sample16}) {
		FakeDevice dev(32 * MiB, {{at, at + 4 * KiB}}, {{}});
		auto f = failures_of([&] {
			EXPECT_TRUE(seektest::HolesReadZero(dev.fd(), dev.size(), {}));
		});
		EXPECT_TRUE(says(f, "reported hole holds data at byte " +
					   std::to_string(at)))
			<< "data at " << at << "\n" << all(f);
	}
	FakeDevice clean(32 * MiB, {});
	auto f = failures_of([&] {
		EXPECT_TRUE(seektest::HolesReadZero(clean.fd(), clean.size(), {}));
	});
	EXPECT_TRUE(f.empty()) << all(f);
}

TEST(SeekAnswers, PassesOnRightAnswersFailsOnWrongOnes)
{
	FakeDevice dev(4 * MiB, kData);
	auto ok = failures_of([&] {
		for (int64_t off : {int64_t(-1), int64_t(0), 64 * KiB - 1,
				    64 * KiB, 2 * MiB, 4 * MiB - 1, 4 * MiB})
			EXPECT_TRUE(seektest::SeekAnswers(dev.fd(), dev.size(), kData, off));
	});
	EXPECT_TRUE(ok.empty()) << all(ok);

	// Expecting another map: SEEK_DATA(64 KiB) is 1 MiB, not 3 MiB.
	auto wrong = failures_of([&] {
		EXPECT_TRUE(seektest::SeekAnswers(dev.fd(), dev.size(),
				       {{0, 64 * KiB}, {3 * MiB, 4 * MiB}},
				       64 * KiB));
	});
	EXPECT_TRUE(says(wrong, "SEEK_DATA(65536)")) << all(wrong);

	FakeAnswers a{kData};
	a.keep_position = true;
	FakeDevice still(4 * MiB, kData, a);
	auto pos = failures_of([&] {
		EXPECT_TRUE(seektest::SeekAnswers(still.fd(), still.size(), kData, 2 * MiB));
	});
	EXPECT_TRUE(says(pos, "file position after SEEK_DATA(2097152)"))
		<< all(pos);
}

TEST(SparseFile, MapIsTheLayoutWrittenToIt)
{
	seektest::SparseFile f(8 * MiB, "/dev/shm");
	EXPECT_EQ(f.map(), ExtentMap{});
	f.write(4 * KiB, 8 * KiB);
	f.write(1 * MiB, 1 * MiB);
	f.write(8 * MiB - 4 * KiB, 4 * KiB);
	EXPECT_EQ(f.map(), (ExtentMap{{4 * KiB, 12 * KiB},
				      {1 * MiB, 2 * MiB},
				      {8 * MiB - 4 * KiB, 8 * MiB}}));
	f.truncate(1 * MiB + 512);
	EXPECT_EQ(f.map(), (ExtentMap{{4 * KiB, 12 * KiB},
				      {1 * MiB, 1 * MiB + 512}}));
}

} // namespace
} // namespace unittest
