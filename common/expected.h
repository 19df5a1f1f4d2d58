// SPDX-License-Identifier: GPL-2.0
// The expected maps and the ground truth of the suite as pure functions of
// what a test wrote down or read from elsewhere (a dm table and its
// devices' maps, thin_dump's XML, nbdinfo's output): no kernel objects, so
// that tests/unit/ checks them on the host against hand-written layouts
// (make unit) before the guest suite relies on them.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "utils/seek_map.h"

namespace common {

using seekmap::Extent;
using seekmap::ExtentMap;

// Runs of whole blocks of @bs bytes, {first block, number of blocks}, as a
// normalized map.
ExtentMap blocks(int64_t bs,
		 std::initializer_list<std::pair<int64_t, int64_t>> runs);

// One target of a device-mapper table as the expected map sees it (the
// stress tool's stress::DmTarget is a table line to load): its
// kind, its length and the maps of the devices it maps.
struct TargetMap {
	enum Kind { Linear, Zero, Error, Striped, Crypt } kind;
	int64_t len;			// bytes
	std::vector<ExtentMap> maps = {}; // 1 for linear/crypt, n for striped
	int64_t start = 0;		// linear/crypt: byte offset in the device
	int64_t chunk = 0;		// striped: chunk size in bytes
};

// The map a table of @targets (in order, from offset 0) must report:
// linear is its device's map through its window, striped its devices'
// maps interleaved chunk by chunk (chunk c is chunk c / n of stripe c % n),
// zero all hole, and every other target (error, crypt) all data.
ExtentMap dm_expected_map(const std::vector<TargetMap> &targets);

// The provisioned map of thin device @id in thin_dump's XML @xml of a pool
// with blocks of @block bytes: single_mapping and range_mapping elements,
// in bytes. Throws std::runtime_error on malformed XML, another block size,
// an unknown element or a missing device.
ExtentMap thin_dump_map(const std::string &xml, int id, int64_t block);

// thin_dump_map() of every device in @xml, by device id (a device without
// mappings maps to an empty map).
std::map<int, ExtentMap> thin_dump_maps(const std::string &xml,
					 int64_t block);

// The map of a thin device of @thin_size bytes with an external origin of
// @origin_size bytes whose map is @origin: provisioned blocks are data,
// unprovisioned ones read the origin below its size and zeros past it.
ExtentMap external_origin_map(const ExtentMap &origin, int64_t origin_size,
			      const ExtentMap &provisioned, int64_t thin_size);

// The data extents of `nbdinfo --map` output: lines of "offset length type
// description", where bit 0 of type is NBD_STATE_HOLE. Throws
// std::runtime_error on a line it cannot read.
ExtentMap nbdinfo_map_data(const std::string &out);

// What a RAM disk (brd, zram, memory-backed null_blk) holds, from what was
// written to it and discarded, in units of @unit bytes (a page, or a
// sector): a write makes every unit it touches data; a discard frees only
// the units it covers whole. zero_write() is a write of zeros to a
// provider that stores a unit of zeros as a hole (zram): the units it
// covers whole become holes, the others it touches data.
class RamModel {
public:
	RamModel(int64_t size, int64_t unit);

	void write(int64_t off, int64_t len);
	void discard(int64_t off, int64_t len);
	void zero_write(int64_t off, int64_t len);
	// The data of the first @size bytes, as a normalized map.
	ExtentMap map(int64_t size) const;
	// Units that hold data.
	int64_t units() const;

private:
	int64_t unit_;
	std::vector<bool> used_;
};

// The completed exceptions of a dm-snapshot persistent store ("P"), read
// from @cow, the COW device's bytes from its start: the origin chunks that
// have one, as byte extents of the origin, with the chunk size from the
// store's header in *@chunk if given. The format (dm-snap-persistent.c):
// chunk 0 is the header (le32 magic "SnAp", valid, version 1, chunk size in
// sectors); then areas, each one chunk of {le64 old_chunk, le64
// new_chunk} entries followed by as many data chunks as it has entries;
// an entry with new_chunk 0 ends the list. Throws std::runtime_error on a
// bad magic, version or chunk size, an invalid store, or a short @cow.
ExtentMap snapshot_cow_exceptions(const std::string &cow,
				  int64_t *chunk = nullptr);

// What a dm snapshot of @size bytes reads: the chunks with exceptions
// (@exceptions, byte extents) from the COW device, data; every other
// chunk from the origin, whose map is @origin.
ExtentMap snapshot_expected_map(const ExtentMap &origin,
				const ExtentMap &exceptions, int64_t size);

} // namespace common
