// SPDX-License-Identifier: GPL-2.0
#include "common/expected.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>
#include <tinyxml2.h>

namespace common {

ExtentMap blocks(int64_t bs,
		 std::initializer_list<std::pair<int64_t, int64_t>> runs)
{
	ExtentMap m;
	for (auto [first, n] : runs)
		m.push_back({first * bs, (first + n) * bs});
	return seekmap::normalize(m);
}

ExtentMap dm_expected_map(const std::vector<TargetMap> &targets)
{
	ExtentMap out;
	int64_t begin = 0;
	auto add = [&](const ExtentMap &m, int64_t at) {
		for (const Extent &e : m)
			out.push_back({at + e.start, at + e.end});
	};
	for (const TargetMap &x : targets) {
		switch (x.kind) {
		case TargetMap::Linear:
			add(seekmap::window(x.maps.at(0), x.start,
					    x.start + x.len), begin);
			break;
		case TargetMap::Zero:
			break;
		case TargetMap::Error:
		case TargetMap::Crypt:
			out.push_back({begin, begin + x.len});
			break;
		case TargetMap::Striped: {
			const int64_t n = x.maps.size();
			if (n == 0 || x.chunk <= 0)
				throw std::invalid_argument("striped target "
							    "without stripes");
			for (int64_t c = 0; c * x.chunk < x.len; c++) {
				int64_t local = c / n * x.chunk;
				int64_t len = std::min(x.chunk,
						       x.len - c * x.chunk);
				add(seekmap::window(x.maps[c % n], local,
						    local + len),
				    begin + c * x.chunk);
			}
			break;
		}
		}
		begin += x.len;
	}
	return seekmap::normalize(out);
}

std::map<int, ExtentMap> thin_dump_maps(const std::string &xml,
					 int64_t block)
{
	tinyxml2::XMLDocument doc;
	if (doc.Parse(xml.c_str(), xml.size()) != tinyxml2::XML_SUCCESS)
		throw std::runtime_error("thin_dump XML: " +
					 std::string(doc.ErrorStr()));
	auto *sb = doc.FirstChildElement("superblock");
	if (!sb)
		throw std::runtime_error("thin_dump: no superblock");
	int64_t bs = sb->Int64Attribute("data_block_size") * 512;
	if (bs != block)
		throw std::runtime_error("thin_dump: block size " +
					 std::to_string(bs));
	std::map<int, ExtentMap> maps;
	for (auto *dev = sb->FirstChildElement("device"); dev;
	     dev = dev->NextSiblingElement("device")) {
		ExtentMap &map = maps[dev->IntAttribute("dev_id", -1)];
		for (auto *m = dev->FirstChildElement(); m;
		     m = m->NextSiblingElement()) {
			std::string kind = m->Name();
			int64_t b, n;
			if (kind == "single_mapping") {
				b = m->Int64Attribute("origin_block", -1);
				n = 1;
			} else if (kind == "range_mapping") {
				b = m->Int64Attribute("origin_begin", -1);
				n = m->Int64Attribute("length", -1);
			} else {
				throw std::runtime_error("thin_dump: " + kind);
			}
			if (b < 0 || n < 1)
				throw std::runtime_error("thin_dump: " + kind +
							 " without its block");
			map.push_back({b * bs, (b + n) * bs});
		}
		map = seekmap::normalize(map);
	}
	return maps;
}

ExtentMap thin_dump_map(const std::string &xml, int id, int64_t block)
{
	std::map<int, ExtentMap> maps = thin_dump_maps(xml, block);
	auto it = maps.find(id);
	if (it == maps.end())
		throw std::runtime_error("thin_dump: no device " +
					 std::to_string(id));
	return it->second;
}

ExtentMap external_origin_map(const ExtentMap &origin, int64_t origin_size,
			      const ExtentMap &provisioned, int64_t thin_size)
{
	ExtentMap m = seekmap::window(origin, 0,
				      std::min(origin_size, thin_size));
	for (const Extent &e : provisioned)
		if (e.start < thin_size)
			m.push_back({e.start, std::min(e.end, thin_size)});
	return seekmap::normalize(m);
}

ExtentMap nbdinfo_map_data(const std::string &out)
{
	ExtentMap m;
	std::istringstream in(out);
	for (std::string line; std::getline(in, line);) {
		std::istringstream l(line);
		int64_t off, len;
		unsigned type;
		if (!(l >> off >> len >> type) || off < 0 || len <= 0)
			throw std::runtime_error("nbdinfo --map: '" + line +
						 "'");
		if (!(type & 1))
			m.push_back({off, off + len});
	}
	return seekmap::normalize(m);
}

RamModel::RamModel(int64_t size, int64_t unit)
	: unit_(unit), used_(size > 0 ? (size + unit - 1) / unit : 0, false)
{
	if (unit <= 0)
		throw std::invalid_argument("RamModel: unit must be positive");
}

void RamModel::write(int64_t off, int64_t len)
{
	if (len <= 0)
		return;
	int64_t first = off / unit_, last = (off + len - 1) / unit_;
	for (int64_t u = first; u <= last && u < int64_t(used_.size()); u++)
		used_[u] = true;
}

void RamModel::discard(int64_t off, int64_t len)
{
	int64_t first = (off + unit_ - 1) / unit_, end = (off + len) / unit_;
	for (int64_t u = first; u < end && u < int64_t(used_.size()); u++)
		used_[u] = false;
}

void RamModel::zero_write(int64_t off, int64_t len)
{
	write(off, len);
	discard(off, len);
}

ExtentMap RamModel::map(int64_t size) const
{
	ExtentMap m;
	for (int64_t u = 0; u < int64_t(used_.size()); u++)
		if (used_[u])
			m.push_back({u * unit_, std::min(size, (u + 1) * unit_)});
	return seekmap::normalize(m);
}

int64_t RamModel::units() const
{
	return std::count(used_.begin(), used_.end(), true);
}

namespace {

uint64_t le(const std::string &b, size_t off, int bytes)
{
	if (off + bytes > b.size())
		throw std::runtime_error("snapshot COW: short read at " +
					 std::to_string(off));
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | static_cast<unsigned char>(b[off + i]);
	return v;
}

} // namespace

ExtentMap snapshot_cow_exceptions(const std::string &cow, int64_t *chunk)
{
	if (le(cow, 0, 4) != 0x70416e53)
		throw std::runtime_error("snapshot COW: no SnAp magic");
	if (le(cow, 4, 4) != 1)
		throw std::runtime_error("snapshot COW: store marked invalid");
	if (le(cow, 8, 4) != 1)
		throw std::runtime_error("snapshot COW: version " +
					 std::to_string(le(cow, 8, 4)));
	const uint64_t sectors = le(cow, 12, 4);
	if (sectors == 0 || (sectors & (sectors - 1)))
		throw std::runtime_error("snapshot COW: chunk size " +
					 std::to_string(sectors));
	const int64_t cs = int64_t(sectors) * 512, per_area = cs / 16;
	if (chunk)
		*chunk = cs;
	ExtentMap map;
	for (int64_t area = 0;; area++) {
		const size_t base = size_t((1 + (per_area + 1) * area) * cs);
		for (int64_t i = 0; i < per_area; i++) {
			const uint64_t old_chunk = le(cow, base + 16 * i, 8);
			if (le(cow, base + 16 * i + 8, 8) == 0)
				return normalize(map);
			map.push_back({int64_t(old_chunk) * cs,
				       int64_t(old_chunk + 1) * cs});
		}
	}
}

ExtentMap snapshot_expected_map(const ExtentMap &origin,
				const ExtentMap &exceptions, int64_t size)
{
	ExtentMap map = origin;
	map.insert(map.end(), exceptions.begin(), exceptions.end());
	return window(normalize(map), 0, size);
}

} // namespace common
