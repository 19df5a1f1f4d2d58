// SPDX-License-Identifier: GPL-2.0
// The expected maps of tests/expected.cc, against layouts worked out by
// hand: what the guest suite compares the kernel's answers with must be
// right before a failure there means anything.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "common/units.h"
#include "common/expected.h"

namespace seektest {
namespace {

using namespace units;
using namespace common;

TEST(Blocks, RunsOfWholeBlocksNormalized)
{
	EXPECT_EQ(blocks(64 * KiB, {{3, 1}}),
		  (ExtentMap{{192 * KiB, 256 * KiB}}));
	EXPECT_EQ(blocks(4 * KiB, {{4, 2}, {0, 1}, {6, 1}}),
		  (ExtentMap{{0, 4 * KiB}, {16 * KiB, 28 * KiB}}));
	EXPECT_EQ(blocks(4 * KiB, {}), ExtentMap{});
}

TEST(DmExpectedMap, LinearIsItsDevicesWindowAtItsOffset)
{
	const ExtentMap dev = {{0, 4 * KiB}, {6 * KiB, 10 * KiB},
			       {20 * KiB, 30 * KiB}};
	// Device bytes [4K, 24K) at table offset 8K, after 8K of zero.
	EXPECT_EQ(dm_expected_map({{TargetMap::Zero, 8 * KiB},
				   {TargetMap::Linear, 20 * KiB, {dev},
				    4 * KiB}}),
		  (ExtentMap{{10 * KiB, 14 * KiB}, {24 * KiB, 28 * KiB}}));
}

TEST(DmExpectedMap, ZeroIsHoleErrorAndCryptAreAllDataAndRunsMerge)
{
	const ExtentMap dev = {{0, 1 * MiB}};
	EXPECT_EQ(dm_expected_map({{TargetMap::Zero, 1 * MiB}}), ExtentMap{});
	EXPECT_EQ(dm_expected_map({{TargetMap::Zero, 1 * MiB},
				   {TargetMap::Error, 1 * MiB},
				   {TargetMap::Crypt, 1 * MiB, {{}}, 0},
				   {TargetMap::Zero, 1 * MiB},
				   {TargetMap::Linear, 1 * MiB, {dev}, 0}}),
		  (ExtentMap{{1 * MiB, 3 * MiB}, {4 * MiB, 5 * MiB}}));
}

TEST(DmExpectedMap, StripesInterleaveChunkByChunk)
{
	const int64_t c = 4 * KiB;
	// Table chunk k is chunk k / 2 of stripe k % 2.
	const ExtentMap s0 = {{0, c}};		// its chunk 0: table chunk 0
	const ExtentMap s1 = {{c, 2 * c}};	// its chunk 1: table chunk 3
	EXPECT_EQ(dm_expected_map({{TargetMap::Striped, 8 * c, {s0, s1}, 0, c}}),
		  (ExtentMap{{0, c}, {3 * c, 4 * c}}));
	// Three stripes; a run across a chunk boundary of stripe 0 lands in
	// table chunks 0 and 3, a partial chunk of stripe 2 in chunk 5.
	const ExtentMap t0 = {{c / 2, c + c / 2}};
	const ExtentMap t2 = {{c + 512, c + 1024}};
	EXPECT_EQ(dm_expected_map({{TargetMap::Zero, 2 * c},
				   {TargetMap::Striped, 6 * c, {t0, {}, t2}, 0,
				    c}}),
		  (ExtentMap{{2 * c + c / 2, 3 * c},
			     {5 * c, 5 * c + c / 2},
			     {7 * c + 512, 7 * c + 1024}}));
	// Stripes full of data: the whole target, one extent.
	const ExtentMap full = {{0, 4 * c}};
	EXPECT_EQ(dm_expected_map({{TargetMap::Striped, 8 * c, {full, full}, 0,
				    c}}),
		  (ExtentMap{{0, 8 * c}}));
}

const char *const kDump = R"(<superblock uuid="" time="1" transaction="2"
    flags="0" version="2" data_block_size="128" nr_data_blocks="4096">
  <device dev_id="0" mapped_blocks="6" transaction="0" creation_time="0"
      snap_time="1">
    <range_mapping origin_begin="10" data_begin="0" length="3" time="0"/>
    <single_mapping origin_block="2" data_block="7" time="0"/>
    <single_mapping origin_block="13" data_block="9" time="1"/>
    <single_mapping origin_block="100" data_block="3" time="0"/>
  </device>
  <device dev_id="1" mapped_blocks="1" transaction="0" creation_time="1"
      snap_time="1">
    <single_mapping origin_block="5" data_block="7" time="0"/>
  </device>
</superblock>
)";

TEST(ThinDumpMap, MappingsOfTheDeviceInBytesMerged)
{
	const int64_t bs = 64 * KiB; // 128 sectors
	EXPECT_EQ(thin_dump_map(kDump, 0, bs),
		  blocks(bs, {{2, 1}, {10, 4}, {100, 1}}));
	EXPECT_EQ(thin_dump_map(kDump, 1, bs), blocks(bs, {{5, 1}}));
}

TEST(ThinDumpMap, RefusesWhatItCannotRead)
{
	const int64_t bs = 64 * KiB;
	EXPECT_THROW(thin_dump_map(kDump, 2, bs), std::runtime_error);
	EXPECT_THROW(thin_dump_map(kDump, 0, 1 * MiB), std::runtime_error);
	EXPECT_THROW(thin_dump_map("<superblock", 0, bs), std::runtime_error);
	EXPECT_THROW(thin_dump_map("<other/>", 0, bs), std::runtime_error);
	EXPECT_THROW(thin_dump_map(R"(<superblock data_block_size="128">
		<device dev_id="0"><mapping origin_block="1"/></device>
		</superblock>)", 0, bs), std::runtime_error);
	EXPECT_THROW(thin_dump_map(R"(<superblock data_block_size="128">
		<device dev_id="0"><single_mapping data_block="1"/></device>
		</superblock>)", 0, bs), std::runtime_error);
}

TEST(ExternalOriginMap, OriginBelowItsSizeProvisionedEverywhereZerosPast)
{
	const int64_t bs = 64 * KiB;
	const ExtentMap origin = {{8 * KiB, 12 * KiB},
				  {1 * MiB - 4 * KiB, 1 * MiB + 196 * KiB},
				  {5 * MiB, 5 * MiB + 12 * KiB}};
	const int64_t origin_size = 5 * MiB + 12 * KiB;
	const ExtentMap prov = blocks(bs, {{0, 1}, {48, 1}, {80, 1}, {144, 1}});
	EXPECT_EQ(external_origin_map(origin, origin_size, prov, 16 * MiB),
		  (ExtentMap{{0, 64 * KiB},
			     {1 * MiB - 4 * KiB, 1 * MiB + 196 * KiB},
			     {3 * MiB, 3 * MiB + 64 * KiB},
			     {5 * MiB, 5 * MiB + 64 * KiB},
			     {9 * MiB, 9 * MiB + 64 * KiB}}));
	// An origin longer than the thin device is cut at the device's end.
	EXPECT_EQ(external_origin_map({{0, 4 * MiB}}, 8 * MiB, {}, 2 * MiB),
		  (ExtentMap{{0, 2 * MiB}}));
	EXPECT_EQ(external_origin_map({}, 1 * MiB, {}, 2 * MiB), ExtentMap{});
	// So is a provisioned run past it (a table shorter than the volume).
	EXPECT_EQ(external_origin_map({}, 1 * MiB, {{1 * MiB, 3 * MiB}},
				      2 * MiB),
		  (ExtentMap{{1 * MiB, 2 * MiB}}));
}

TEST(NbdinfoMapData, DataIsEveryExtentWithoutTheHoleBit)
{
	// nbdinfo --map output; type 2 (zero, allocated) is still data.
	const std::string out = "         0       65536    0  data\n"
				"     65536     1048576    3  hole,zero\n"
				"   1114112        4096    2  zero\n"
				"   1118208        4096    0  data\n"
				"   1122304    66986496    3  hole,zero\n";
	EXPECT_EQ(nbdinfo_map_data(out),
		  (ExtentMap{{0, 65536}, {1114112, 1122304}}));
	EXPECT_EQ(nbdinfo_map_data(""), ExtentMap{});
	EXPECT_THROW(nbdinfo_map_data("0 4096\n"), std::runtime_error);
	EXPECT_THROW(nbdinfo_map_data("nbdinfo: error\n"), std::runtime_error);
}

} // namespace
TEST(RamModel, WritesTouchWholeUnitsDiscardsFreeOnlyUnitsTheyCover)
{
	const int64_t size = 64 * KiB;
	RamModel m(size, 4 * KiB);
	EXPECT_EQ(m.map(size), ExtentMap{});
	m.write(512, 512); // inside page 0
	m.write(7 * KiB, 2 * KiB); // straddles pages 1 and 2
	EXPECT_EQ(m.map(size), (ExtentMap{{0, 12 * KiB}}));
	EXPECT_EQ(m.units(), 3);
	m.discard(1 * KiB, 6 * KiB); // covers no page whole
	EXPECT_EQ(m.units(), 3);
	m.discard(4 * KiB, 5 * KiB); // covers page 1 whole
	EXPECT_EQ(m.map(size), (ExtentMap{{0, 4 * KiB}, {8 * KiB, 12 * KiB}}));
	m.zero_write(8 * KiB, 4 * KiB); // a page of zeros: a hole
	m.zero_write(15 * KiB, 2 * KiB); // part of pages 3 and 4: data
	EXPECT_EQ(m.map(size), (ExtentMap{{0, 4 * KiB}, {12 * KiB, 20 * KiB}}));
}

TEST(RamModel, SectorUnitsAndAnEndInsideAUnit)
{
	const int64_t size = 10 * 512 + 100; // the last unit is partial
	RamModel m(size, 512);
	m.write(size - 50, 50);
	m.write(512, 1);
	EXPECT_EQ(m.map(size), (ExtentMap{{512, 1024}, {5120, size}}));
	m.discard(0, size); // covers the partial unit only in part
	EXPECT_EQ(m.map(size), (ExtentMap{{5120, size}}));
	EXPECT_EQ(m.units(), 1);
}

namespace {

// A persistent snapshot store image, written by hand from the format.
struct Cow {
	std::string b;
	int64_t cs;

	explicit Cow(uint32_t sectors, int64_t chunks, uint32_t valid = 1)
		: b(size_t(sectors) * 512 * chunks, '\0'), cs(sectors * 512)
	{
		put(0, 0x70416e53, 4);
		put(4, valid, 4);
		put(8, 1, 4);
		put(12, sectors, 4);
	}
	void put(size_t off, uint64_t v, int bytes)
	{
		for (int i = 0; i < bytes; i++, v >>= 8)
			b[off + i] = char(v & 0xff);
	}
	// Entry @i of area @area: origin chunk @old in COW chunk @cow.
	void entry(int64_t area, int64_t i, uint64_t old, uint64_t cow)
	{
		const size_t base = size_t((1 + (cs / 16 + 1) * area) * cs);
		put(base + 16 * i, old, 8);
		put(base + 16 * i + 8, cow, 8);
	}
};

} // namespace

TEST(SnapshotCow, ExceptionsOfTheFirstAreaInOriginBytes)
{
	Cow c(8, 16); // 4 KiB chunks, 256 entries per area
	c.entry(0, 0, 6, 2);
	c.entry(0, 1, 5, 3); // out of order, adjacent: one extent
	c.entry(0, 2, 100, 4);
	int64_t chunk = 0;
	EXPECT_EQ(snapshot_cow_exceptions(c.b, &chunk),
		  (ExtentMap{{5 * 4 * KiB, 7 * 4 * KiB},
			     {100 * 4 * KiB, 101 * 4 * KiB}}));
	EXPECT_EQ(chunk, 4 * KiB);
	EXPECT_EQ(snapshot_cow_exceptions(Cow(8, 16).b), ExtentMap{});
}

TEST(SnapshotCow, AFullAreaGoesOnInTheNext)
{
	Cow c(1, 80); // 512-byte chunks: 32 entries per area, areas 33 apart
	for (int i = 0; i < 32; i++)
		c.entry(0, i, 2 * i, 2 + i);
	c.entry(1, 0, 1000, 35);
	ExtentMap want;
	for (int i = 0; i < 32; i++)
		want.push_back({2 * i * 512, (2 * i + 1) * 512});
	want.push_back({1000 * 512, 1001 * 512});
	EXPECT_EQ(snapshot_cow_exceptions(c.b), want);
}

TEST(SnapshotCow, BadStoresThrow)
{
	Cow bad_magic(8, 4);
	bad_magic.put(0, 0x12345678, 4);
	EXPECT_THROW(snapshot_cow_exceptions(bad_magic.b), std::runtime_error);
	EXPECT_THROW(snapshot_cow_exceptions(Cow(8, 4, 0).b),
		     std::runtime_error);
	Cow odd(3, 4); // not a power of two
	EXPECT_THROW(snapshot_cow_exceptions(odd.b), std::runtime_error);
	Cow full(1, 34); // the first area is full and the next is missing
	for (int i = 0; i < 32; i++)
		full.entry(0, i, i, 2 + i);
	EXPECT_THROW(snapshot_cow_exceptions(full.b), std::runtime_error);
}

TEST(SnapshotExpected, ExceptionChunksAreDataOverTheOriginsMap)
{
	const ExtentMap origin{{0, 8 * KiB}, {64 * KiB, 72 * KiB}};
	const ExtentMap ex{{4 * KiB, 12 * KiB}, {32 * KiB, 36 * KiB},
			   {124 * KiB, 132 * KiB}};
	EXPECT_EQ(snapshot_expected_map(origin, ex, 128 * KiB),
		  (ExtentMap{{0, 12 * KiB}, {32 * KiB, 36 * KiB},
			     {64 * KiB, 72 * KiB}, {124 * KiB, 128 * KiB}}));
	EXPECT_EQ(snapshot_expected_map({}, {}, 128 * KiB), ExtentMap{});
}

} // namespace seektest
