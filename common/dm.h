// SPDX-License-Identifier: GPL-2.0
// Device-mapper devices through libdevmapper: tables, create, load,
// suspend, resume, remove, messages, status and info, as dmsetup does them
// but in-process. udev synchronisation is off (the guest has no udev):
// libdevmapper makes and unlinks the /dev/mapper nodes itself, at create
// and remove. Safe to call from several threads (the stress tool does):
// the node updates, libdevmapper's one piece of shared state, are
// serialised here, so creates and removes run one at a time (a remove
// that waits, for a pool's metadata commit say, holds up the others);
// suspends, resumes, loads and messages are not serialised, so one that
// blocks holds up no other device. Failures throw std::system_error with
// the ioctl's errno and libdevmapper's message. A deferred remove unlinks
// /dev/mapper/NAME at once (as dmsetup without udev does); /dev/dm-N
// stays until the last close.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace common::dm {

// One line of a table; start and length in bytes (whole sectors).
struct Target {
	int64_t start = 0, length = 0;
	std::string type, params;
	bool operator==(const Target &o) const
	{
		return start == o.start && length == o.length &&
		       type == o.type && params == o.params;
	}
};
using Table = std::vector<Target>;

// dmsetup's text: "START LENGTH TYPE PARAMS\n" per line, in sectors.
std::string to_string(const Table &t);
// The reverse, for tables written as text (blank lines skipped); throws
// std::invalid_argument on a line without start, length and type.
Table parse_table(const std::string &text);

// suspend() flags: dmsetup suspend --noflush, --nolockfs.
constexpr unsigned NoFlush = 1, NoLockfs = 2;

// What `dmsetup info` tells.
struct Info {
	bool exists = false, suspended = false, live_table = false,
	     inactive_table = false, deferred_remove = false;
	int open_count = 0;
	unsigned major = 0, minor = 0;
};

// Operations on the device called @name.
// Create with @table and resume it (dmsetup create); removed again if
// the table does not load. Returns the device number.
dev_t create(const std::string &name, const Table &table);
// Load @table into the inactive slot (dmsetup load, or reload).
void load(const std::string &name, const Table &table);
void suspend(const std::string &name, unsigned flags = 0);
void resume(const std::string &name);
// Remove (dmsetup remove); EBUSY is retried for @busy_ms. @deferred:
// at the last close if it is open (dmsetup remove --deferred).
void remove(const std::string &name, bool deferred = false, int busy_ms = 0);
// A target message to sector 0 (dmsetup message NAME 0 MSG); the
// target's answer, if any.
std::string message(const std::string &name, const std::string &msg);
// The live table (dmsetup table) and the targets' status lines (dmsetup
// status [--noflush]) as a Table (status in params).
Table table(const std::string &name);
Table status(const std::string &name, bool noflush = false);
// Info of @name: exists is false if there is no such device.
Info info(const std::string &name);
bool exists(const std::string &name);

// /dev/mapper/@name.
std::string node(const std::string &name);
// /dev/dm-N of the device number @dev.
std::string dm_path(dev_t dev);
// The dm name of the block device open as @fd ("" if it is not dm).
std::string name_of(int fd);

// A device created from a table, removed on destruction: resumed first
// (a failed test may leave it suspended), then removed, EBUSY retried for
// up to 30 s while some other opener lets it go.
class Device {
public:
	Device(const std::string &name, const Table &table);
	~Device();
	Device(const Device &) = delete;
	Device &operator=(const Device &) = delete;

	const std::string &name() const { return name_; }
	// /dev/mapper/NAME.
	const std::string &path() const { return path_; }
	// /dev/dm-N, which a walker can check by its name in sysfs.
	const std::string &dm_path() const { return dm_path_; }
	dev_t dev() const { return dev_; }

	void load(const Table &t) { dm::load(name_, t); }
	// Load and resume into it (dmsetup reload; dmsetup resume).
	void reload(const Table &t);
	void suspend(unsigned flags = 0) { dm::suspend(name_, flags); }
	void resume() { dm::resume(name_); }
	std::string message(const std::string &msg) { return dm::message(name_, msg); }
	Table table() const { return dm::table(name_); }
	Table status(bool noflush = false) const { return dm::status(name_, noflush); }
	Info info() const { return dm::info(name_); }
	// Remove now if unused, else at its last close; the destructor then
	// leaves it alone.
	void remove_deferred();
	// Remove now, EBUSY retried for @busy_ms; the destructor then leaves
	// it alone.
	void remove(int busy_ms = 0);

private:
	std::string name_, path_, dm_path_;
	dev_t dev_ = 0;
	bool removed_ = false;
};

} // namespace common::dm
