// SPDX-License-Identifier: GPL-2.0
// Seeded random layouts: the loop device's map equals its backing file's
// map translated by lo_offset and cut at the device size, every hole reads
// zeros, and single calls agree with the map at random offsets.
//
// SEEK_TEST_SEED=n replays from seed n; SEEK_TEST_LAYOUTS=k sets the count.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>

#include "common/units.h"
#include "fixtures.h"

namespace seektest {
namespace {

using namespace units;

uint64_t env_or(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, nullptr, 0) : def;
}

// Pick from a distribution that favours the edges where bugs live.
int64_t pick_offset(std::mt19937_64 &rng, int64_t file_size)
{
	switch (rng() % 5) {
	case 0:
		return 0;
	case 1:
		return (rng() % (file_size / 512 + 1)) * 512;
	case 2:
		return (rng() % (file_size / 4096 + 1)) * 4096;
	case 3:
		return rng() % (file_size + 1);
	default:
		return (rng() % 4) * 4096 + 512 * (rng() % 8) + rng() % 2;
	}
}

void run_layout(uint64_t seed)
{
	std::mt19937_64 rng(seed);
	int64_t file_size = 4096 + rng() % (4 * MiB);
	if (rng() % 2)
		file_size &= ~int64_t(4095);
	SparseFile f(file_size);
	int nr = rng() % 12;
	for (int i = 0; i < nr; i++) {
		int64_t off = rng() % file_size;
		int64_t len = 1 + rng() % (rng() % 4 ? 64 * KiB : 1 * MiB);
		len = std::min(len, file_size - off);
		f.write(off, len, seed + i);
	}
	LoopOptions opts;
	if (rng() % 2)
		opts.offset = std::min(pick_offset(rng, file_size), file_size);
	if (rng() % 2)
		opts.sizelimit = 1 + rng() % file_size;

	LoopDevice loop(f.path(), opts);
	int64_t size = loop.size();
	ExtentMap want = seekmap::window(f.map(), opts.offset,
					 opts.offset + size);
	SCOPED_TRACE("file size " + std::to_string(file_size) + " offset " +
		     std::to_string(opts.offset) + " sizelimit " +
		     std::to_string(opts.sizelimit) + " file map " +
		     seekmap::to_string(f.map()));
	EXPECT_TRUE(MapIs(loop.fd(), size, want));
	for (int i = 0; i < 8 && size > 0; i++)
		EXPECT_TRUE(SeekAnswers(loop.fd(), size, want, rng() % size));
}

class Property : public DeviceTest {};

TEST_F(Property, LoopMapEqualsBackingFileMapTranslated)
{
	uint64_t seed = env_or("SEEK_TEST_SEED",
			       std::chrono::system_clock::now()
				       .time_since_epoch().count());
	uint64_t layouts = env_or("SEEK_TEST_LAYOUTS", 2000);
	std::cout << "[   SEED   ] SEEK_TEST_SEED=" << seed
		  << " SEEK_TEST_LAYOUTS=" << layouts << std::endl;
	RecordProperty("seed", std::to_string(seed));
	for (uint64_t i = 0; i < layouts; i++) {
		uint64_t s = seed + i;
		SCOPED_TRACE("replay: SEEK_TEST_SEED=" + std::to_string(s) +
			     " SEEK_TEST_LAYOUTS=1");
		run_layout(s);
		if (HasFailure())
			break; // the first failure, with its seed, is enough
	}
}

} // namespace
} // namespace seektest
