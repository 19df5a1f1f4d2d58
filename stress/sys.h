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

#include "common/units.h"
#include "../utils/seek_map.h"

namespace stress {

using seekmap::Extent;
using seekmap::ExtentMap;

using namespace units;

// Throws std::system_error naming @what and errno.
[[noreturn]] void fail_errno(const std::string &what);

class Fd {
public:
	Fd() = default;
	explicit Fd(int fd) : fd_(fd) {}
	Fd(Fd &&o) noexcept : fd_(o.release()) {}
	Fd &operator=(Fd &&o) noexcept;
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	~Fd() { reset(); }

	int get() const { return fd_; }
	int release();
	void reset(int fd = -1);

private:
	int fd_ = -1;
};

// open() with O_CLOEXEC (the run spawns helpers: no descriptor may keep a
// device open in a child), or throw.
Fd open_or_throw(const std::string &path, int flags);

// Size of an open block device or file, or -errno.
int64_t size_of(int fd);

// The non-zero pattern the run writes: byte i of a write seeded @seed.
void fill_pattern(unsigned char *buf, size_t len, uint64_t seed);

// A sparse file on the guest's tmpfs /tmp, removed on destruction. Writes
// are page-aligned, so the file's own SEEK map (tmpfs pages) is exactly
// what was written: the ground truth of the loop devices over it.
class SparseFile {
public:
	SparseFile(const std::string &tag, int64_t size);
	~SparseFile();
	SparseFile(const SparseFile &) = delete;
	SparseFile &operator=(const SparseFile &) = delete;

	void write(int64_t off, int64_t len, uint64_t seed);
	void punch(int64_t off, int64_t len);
	void truncate(int64_t size);
	int64_t size() const;
	// The file's own map, walked with SEEK_DATA/SEEK_HOLE.
	ExtentMap map() const;
	const std::string &path() const { return path_; }
	int fd() const { return fd_.get(); }

private:
	std::string path_;
	Fd fd_;
};

struct LoopOptions {
	int64_t offset = 0;
	int64_t sizelimit = 0;
	bool partscan = false;
	bool read_only = false;
};

// A loop device bound with LOOP_CONFIGURE (LO_FLAGS_AUTOCLEAR); the
// destructor clears it and waits until it is unbound.
class Loop {
public:
	Loop(const std::string &backing, const LoopOptions &opts);
	~Loop();
	Loop(const Loop &) = delete;
	Loop &operator=(const Loop &) = delete;

	int number() const { return number_; }
	const std::string &path() const { return path_; }
	int fd() const { return fd_.get(); }

private:
	int number_ = -1;
	std::string path_;
	Fd fd_;
};

// Is /dev/loop@n bound (from sysfs)?
bool loop_bound(int n);
// Wait up to @ms for the node @path to appear; false if it did not.
bool wait_for_node(const std::string &path, int ms);
// Fill a struct loop_config / loop_info64 and LOOP_CONFIGURE @dev_fd with
// @backing_fd; returns 0 or -errno.
int loop_configure(int dev_fd, int backing_fd, const LoopOptions &opts);

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

// Run a command line with /bin/sh; return its standard output, or throw
// with its standard error.
std::string run_output(const std::string &cmd);

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

// Names of bound loop devices and of dm devices, from sysfs.
std::set<std::string> bound_loops();
std::set<std::string> dm_devices();

} // namespace stress
