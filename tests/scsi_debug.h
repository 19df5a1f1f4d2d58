// SPDX-License-Identifier: GPL-2.0
// scsi_debug disks for the sd and dm-multipath tests: the module loaded
// from the file SEEK_TEST_SCSI_DEBUG names, with load-time parameters,
// unloaded on destruction; and the ground truth of a disk's map from
// sg_get_lba_status (sg3-utils), which sends GET LBA STATUS from user
// space.
#pragma once

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <glob.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "fault_fixtures.h"
#include "fixtures.h"

namespace seektest {

inline void wait_for_node(const std::string &path)
{
	for (int i = 0; i < 500 && access(path.c_str(), F_OK); i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	if (access(path.c_str(), F_OK))
		throw std::runtime_error(path + " did not appear");
}

inline std::vector<std::string> glob_paths(const std::string &pattern)
{
	glob_t g{};
	std::vector<std::string> out;
	if (glob(pattern.c_str(), 0, nullptr, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++)
			out.emplace_back(g.gl_pathv[i]);
	globfree(&g);
	return out;
}

// scsi_debug loaded with @params, unloaded on destruction. Its disks
// (@disks of them: one a host with add_host=N) are /dev/sdX; the first is
// path(), the one the single-disk methods below act on.
class ScsiDebug {
public:
	explicit ScsiDebug(const std::string &params, int disks = 1)
	{
		const char *ko = getenv("SEEK_TEST_SCSI_DEBUG");
		if (!ko || access(ko, R_OK))
			throw std::runtime_error(
				"SEEK_TEST_SCSI_DEBUG does not name scsi_debug.ko");
		unload(); // a module left behind by a test that crashed
		run_or_throw(std::string("insmod ") + ko + " " + params);
		for (int i = 0; i < 500 && paths_.empty(); i++) {
			auto found = glob_paths("/sys/bus/pseudo/devices/adapter*/host*/"
						"target*/*:*:*:*/block/sd*");
			if (int(found.size()) == disks)
				find_nodes(found);
			if (paths_.empty())
				std::this_thread::sleep_for(std::chrono::milliseconds(20));
		}
		if (paths_.empty()) {
			unload();
			throw std::runtime_error("scsi_debug made no disk (" + params + ")");
		}
		path_ = paths_[0];
		name_ = names_[0];
		hctl_ = hctls_[0];
		host_ = hctl_.substr(0, hctl_.find(':'));
	}
	~ScsiDebug() { unload(); }
	ScsiDebug(const ScsiDebug &) = delete;
	ScsiDebug &operator=(const ScsiDebug &) = delete;

	const std::string &path() const { return path_; }
	const std::string &name() const { return name_; }
	// Disk @i (by host, then target), 0 <= @i < the number of disks.
	const std::string &path(int i) const { return paths_.at(i); }
	// Delete disk @i (its scsi_device) as hot-unplug does.
	void remove_disk(int i) const
	{
		write_value("/sys/class/scsi_device/" + hctls_.at(i) +
				    "/device/delete", "1");
	}

	// Make every GET LBA STATUS fail with @sense_key/@asc/@ascq (CHECK
	// CONDITION), or stop that (@sense_key 0). READ CAPACITY(16) shares
	// the opcode: only after the probe.
	void fail_get_lba_status(int sense_key, int asc, int ascq = 0) const
	{
		std::string file = "/sys/kernel/debug/scsi_debug/" + hctl_ + "/error";
		if (!sense_key) {
			write_value(file, "- 2 0x9e");
			return;
		}
		std::ostringstream rule;
		rule << "2 1 0x9e 0 0 0x2 0x" << std::hex << sense_key << " 0x"
		     << asc << " 0x" << ascq;
		write_value(file, rule.str());
	}

	// Every GET LBA STATUS completes with @host byte, @status and, for
	// CHECK CONDITION (2), sense @key/@asc/@ascq; only after the probe.
	void fail_gls(int host, int status, int key = 0, int asc = 0,
		      int ascq = 0) const
	{
		std::ostringstream rule;
		rule << std::hex << "2 1 0x9e 0x" << host << " 0 0x" << status
		     << " 0x" << key << " 0x" << asc << " 0x" << ascq;
		write_value(error_file(), rule.str());
	}
	// Every GET LBA STATUS is dropped: it times out.
	void drop_gls() const { write_value(error_file(), "0 1 0x9e"); }
	// No GET LBA STATUS rule left (either may be absent: the write then
	// fails, which is ignored).
	void clear_gls() const
	{
		for (const char *r : {"- 2 0x9e", "- 0 0x9e"})
			try {
				write_value(error_file(), r);
			} catch (...) {
			}
	}
	// sd revalidates the disk (READ CAPACITY(16) again), without rules.
	void rescan() const
	{
		clear_gls();
		write_value("/sys/class/scsi_device/" + hctl_ + "/device/rescan",
			    "1");
	}

	// Commands the host received (statistics=1), all opcodes.
	int64_t commands() const
	{
		std::ifstream in("/proc/scsi/scsi_debug/" + host_);
		std::string line;
		while (std::getline(in, line))
			if (line.rfind("cmnd_count=", 0) == 0)
				return std::stoll(line.substr(11));
		throw std::runtime_error("no cmnd_count (statistics=1?)");
	}

	// Set the scsi_device's state ("offline", "running").
	void set_state(const std::string &state) const
	{
		// The kernel wants the newline.
		write_value("/sys/class/scsi_device/" + hctl_ + "/device/state",
			    state + "\n");
	}

	// Delete the disk (its scsi_device) as hot-unplug does.
	void remove_disk() const
	{
		write_value("/sys/class/scsi_device/" + hctl_ + "/device/delete", "1");
	}

private:
	// The nodes of the disks whose sysfs paths are @found, or none if
	// a node is still missing.
	void find_nodes(const std::vector<std::string> &found)
	{
		std::vector<std::string> names, hctls, paths;
		for (const std::string &d : found) {
			std::string name = d.substr(d.rfind('/') + 1);
			std::string dev = d.substr(0, d.rfind("/block/"));
			if (access(("/dev/" + name).c_str(), F_OK))
				return;
			names.push_back(name);
			hctls.push_back(dev.substr(dev.rfind('/') + 1));
			paths.push_back("/dev/" + name);
		}
		names_ = names;
		hctls_ = hctls;
		paths_ = paths;
	}
	std::string error_file() const
	{
		return "/sys/kernel/debug/scsi_debug/" + hctl_ + "/error";
	}
	static void unload()
	{
		if (access("/sys/module/scsi_debug", F_OK))
			return;
		for (int i = 0; i < 100; i++) {
			if (system("rmmod scsi_debug 2>/dev/null") == 0)
				return;
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
		}
		ADD_FAILURE() << "rmmod scsi_debug failed: a test left it in use";
	}

	std::string name_, hctl_, host_, path_;
	std::vector<std::string> names_, hctls_, paths_;
};

// The data of the disk @dev of @size bytes and @lbs-byte blocks as
// sg_get_lba_status (sg3-utils) reports it: deallocated (1) and anchored
// (2) blocks are holes, anything else data. One command per descriptor
// from the end of the last one, as scsi_debug returns one at a time.
inline ExtentMap sg_lba_status_map(const std::string &dev, int64_t size,
				   int64_t lbs)
{
	ExtentMap map;
	const uint64_t blocks = uint64_t(size / lbs);
	for (uint64_t lba = 0; lba < blocks;) {
		// "Completion condition=0", "RTP=0", then one descriptor a
		// line: "0x<lba> 0x<blocks> <status> <additional status>".
		std::istringstream text(run_output(
			"sg_get_lba_status -b -R --lba=" + std::to_string(lba) +
			" " + dev));
		std::string line, s_lba, s_num;
		int status = -1, add = -1;
		while (std::getline(text, line) && line.rfind("0x", 0) != 0)
			;
		std::istringstream out(line);
		out >> s_lba >> s_num >> status >> add;
		if (!out)
			throw std::runtime_error("sg_get_lba_status: no descriptor at " +
						 std::to_string(lba));
		uint64_t d_lba = std::stoull(s_lba, nullptr, 0);
		uint64_t num = std::stoull(s_num, nullptr, 0);
		if (d_lba > lba || d_lba + num <= lba)
			throw std::runtime_error("sg_get_lba_status: descriptor " + s_lba +
						 "+" + s_num + " at " + std::to_string(lba));
		uint64_t end = std::min(d_lba + num, blocks);
		if (!(status == 1 || status == 2))
			map.push_back({int64_t(lba) * lbs, int64_t(end) * lbs});
		lba = end;
	}
	return seekmap::normalize(map);
}


} // namespace seektest
