// SPDX-License-Identifier: GPL-2.0
// The kernel objects the stress run creates, safe to use from many threads:
// sparse tmpfs files, loop devices, device-mapper devices (common/dm.h: no
// dmsetup process per reload; a device is opened as /dev/dm-N and
// recognised by its name in sysfs), null_blk and zram devices. Every
// object tears down in its destructor.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

#include "common/dm.h"
#include "common/partitions.h"
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

// Device-mapper devices through common/dm.h (libdevmapper): dm::create,
// dm::load, dm::suspend, ... by name, or a DmDevice.
namespace dm = common::dm;
using DmTarget = dm::Target;
using DmTable = dm::Table;
using dm::to_string;

// A dm device of the run (dm::Device, removed on destruction, retrying
// while some walker still has it open). Walkers open it as /dev/dm-N,
// path() here, and check its name in sysfs (dm_name_of()): a device
// removed and created again under its name may get another number.
class DmDevice : public dm::Device {
public:
	using dm::Device::Device;
	const std::string &path() const { return dm_path(); }
};

// The dm name of the block device open as @fd ("" if it is not dm).
inline std::string dm_name_of(int fd) { return dm::name_of(fd); }

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
