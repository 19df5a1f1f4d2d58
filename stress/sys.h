// SPDX-License-Identifier: GPL-2.0
// The kernel objects the stress run creates, safe to use from many threads:
// sparse tmpfs files, loop devices and device-mapper devices (driven with
// the DM ioctls directly: no dmsetup process per reload, no /dev/mapper
// nodes; a device is opened as /dev/dm-N and recognised by its name in
// sysfs). Every object tears down in its destructor.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

#include "common/sys.h"
#include "common/units.h"
#include "utils/seek_map.h"

namespace stress {

using seekmap::Extent;
using seekmap::ExtentMap;

using namespace units;

using common::fail_errno;
using common::fill_pattern;
using common::loop_bound;
using common::loop_configure;
using common::LoopOptions;
using common::open_or_throw;
using common::run_output;
using common::size_or_errno;
using common::SparseFile;
using common::UniqueFd;
using common::wait_for_node;

// A loop device the run binds (common::LoopDevice) whose destructor also
// waits, up to 20 s, until the kernel has unbound it: a walker may hold
// it open a moment after the scenario let it go.
class Loop : public common::LoopDevice {
public:
	using common::LoopDevice::LoopDevice;
	~Loop();
	Loop(const Loop &) = delete;
	Loop &operator=(const Loop &) = delete;
};

// One line of a device-mapper table; start and length in bytes.
struct DmTarget {
	int64_t start, length;
	std::string type, params;
};
using DmTable = std::vector<DmTarget>;
std::string to_string(const DmTable &t);

namespace dm {
// Each returns 0 or -errno; create returns the device number in *@dev.
int create(const std::string &name, const DmTable &table, dev_t *dev);
int load(const std::string &name, const DmTable &table);
int suspend(const std::string &name, bool noflush);
int resume(const std::string &name);
int remove(const std::string &name, bool deferred);
int message(const std::string &name, const std::string &msg);
// Does a dm device called @name exist?
bool exists(const std::string &name);
} // namespace dm

// The dm name of the block device open as @fd ("" if it is not dm).
std::string dm_name_of(int fd);

// A device-mapper device, /dev/dm-N; the destructor resumes it and removes
// it (retrying while some walker still has it open).
class DmDevice {
public:
	DmDevice(const std::string &name, const DmTable &table);
	~DmDevice();
	DmDevice(const DmDevice &) = delete;
	DmDevice &operator=(const DmDevice &) = delete;

	const std::string &name() const { return name_; }
	const std::string &path() const { return path_; }
	// Throw on failure (setup and the quiet phases use these).
	void reload(const DmTable &table);
	void suspend(bool noflush = false);
	void resume();
	void message(const std::string &msg);

private:
	std::string name_, path_;
};

// A name unique to this process for a dm device: "stress-PID-@tag".
std::string dm_unique_name(const std::string &tag);


// Write @value to a sysfs or configfs attribute; 0 or -errno.
int write_attr(const std::string &path, const std::string &value);
// The same, throwing on failure.
void set_attr(const std::string &path, const std::string &value);
// An attribute's contents without the trailing newline ("" if unreadable).
std::string read_attr(const std::string &path);

// A null_blk device made in configfs (/sys/kernel/config/nullb/@tag...),
// powered on with @attrs ("name=value", written in order); its node is
// /dev/ and the directory's name. The destructor powers it off and
// removes the directory.
class NullBlk {
public:
	NullBlk(const std::string &tag, const std::vector<std::string> &attrs);
	~NullBlk();
	NullBlk(const NullBlk &) = delete;
	NullBlk &operator=(const NullBlk &) = delete;

	const std::string &path() const { return path_; }
	std::string attr(const std::string &name) const { return dir_ + "/" + name; }
	// Power off (the disk is deleted, its memory-backed data kept) or on
	// (a new disk of the same name, waited for).
	void power(bool on);

private:
	std::string dir_, path_;
};

// A zram device from /sys/class/zram-control/hot_add; @attrs ("name=value",
// e.g. "backing_dev=/dev/nullb1", "recomp_algorithm=algo=deflate") are
// written before disksize, as zram takes them only then. hot_remove on
// destruction (retried while a walker still holds it open).
class Zram {
public:
	Zram(int64_t size, const std::vector<std::string> &attrs);
	~Zram();
	Zram(const Zram &) = delete;
	Zram &operator=(const Zram &) = delete;

	const std::string &path() const { return path_; }
	std::string attr(const std::string &name) const;

private:
	int number_ = -1;
	std::string path_;
};

using common::bound_loop_devices;
using common::dm_devices;

} // namespace stress
