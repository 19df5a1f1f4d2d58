// SPDX-License-Identifier: GPL-2.0
// The pieces of a test or tool that talk to the kernel, shared by the
// GoogleTest suite (tests/), the stress tool (stress/) and the tools: file
// descriptors, sizes, the write pattern, sparse files, loop devices, shell
// commands and the block devices sysfs lists. Failures throw
// std::system_error (errno) or std::runtime_error; nothing here knows of
// GoogleTest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "utils/seek_map.h"

namespace common {

using seekmap::Extent;
using seekmap::ExtentMap;

// Throws std::system_error naming @what and errno.
[[noreturn]] void fail_errno(const std::string &what);

// An owned file descriptor, closed on destruction.
class UniqueFd {
public:
	UniqueFd() = default;
	explicit UniqueFd(int fd) : fd_(fd) {}
	UniqueFd(UniqueFd &&o) noexcept : fd_(o.release()) {}
	UniqueFd &operator=(UniqueFd &&o) noexcept;
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd() { reset(); }

	int get() const { return fd_; }
	int release();
	void reset(int fd = -1);

private:
	int fd_ = -1;
};

// open() with O_CLOEXEC (no helper process may keep a device open), or
// throw.
UniqueFd open_or_throw(const std::string &path, int flags);

// Size in bytes of an open block device or file: size_of() throws,
// size_or_errno() returns -errno (for callers racing a device's removal).
int64_t size_of(int fd);
int64_t size_or_errno(int fd);

// The non-zero pattern the tests and the stress run write: @len bytes
// from @seed, never a zero byte.
void fill_pattern(unsigned char *buf, size_t len, uint64_t seed);

// A sparse file in @dir (the guest's tmpfs /tmp by default), named after
// @tag, removed on destruction. Its own SEEK_DATA/SEEK_HOLE map is the
// ground truth the maps of the devices over it are compared with; writes
// aligned to pages make it exactly what was written.
class SparseFile {
public:
	explicit SparseFile(int64_t size, const std::string &dir = "/tmp",
			    const std::string &tag = "seek");
	~SparseFile();
	SparseFile(const SparseFile &) = delete;
	SparseFile &operator=(const SparseFile &) = delete;

	// Write fill_pattern(@seed) over [off, off + len).
	void write(int64_t off, int64_t len, uint64_t seed = 1);
	void punch(int64_t off, int64_t len);
	void truncate(int64_t size);

	const std::string &path() const { return path_; }
	int fd() const { return fd_.get(); }
	int64_t size() const { return size_of(fd_.get()); }
	// The file's own map, walked with SEEK_DATA/SEEK_HOLE.
	ExtentMap map() const;

private:
	std::string path_;
	UniqueFd fd_;
};

struct LoopOptions {
	int64_t offset = 0;
	int64_t sizelimit = 0;
	bool partscan = false;
	bool read_only = false;
};

// LOOP_CONFIGURE the open loop device @dev_fd with @backing_fd
// (LO_FLAGS_AUTOCLEAR, and @opts); 0 or -errno.
int loop_configure(int dev_fd, int backing_fd, const LoopOptions &opts);

// A loop device bound with LOOP_CONFIGURE to a file, cleared by clear()
// or on destruction (LO_FLAGS_AUTOCLEAR also clears it if the process
// dies). The kernel unbinds it at its last close: see wait_unbound().
class LoopDevice {
public:
	explicit LoopDevice(const std::string &backing,
			    const LoopOptions &opts = {});
	// Bind the open file @backing_fd itself (it shares its position
	// with every dup of it).
	explicit LoopDevice(int backing_fd, const LoopOptions &opts = {});
	~LoopDevice() { clear(); }
	LoopDevice(const LoopDevice &) = delete;
	LoopDevice &operator=(const LoopDevice &) = delete;

	const std::string &path() const { return path_; }
	int number() const { return number_; }
	int fd() const { return fd_.get(); }
	int64_t size() const { return size_of(fd_.get()); }
	// Path of partition @n, after waiting for its node to appear.
	std::string partition(int n) const;
	// LOOP_CLR_FD and close our descriptor; once.
	void clear();
	// Wait up to @ms for the device to be unbound (after clear(): other
	// openers may hold it a moment); whether it was.
	bool wait_unbound(int ms) const;

private:
	void bind(int backing_fd, const LoopOptions &opts);

	int number_ = -1;
	std::string path_;
	UniqueFd fd_;
};

// Is /dev/loop@n bound (from sysfs)?
bool loop_bound(int n);
// Wait up to @ms for the node @path to appear; whether it did.
bool wait_for_node(const std::string &path, int ms);

// Run a command line with /bin/sh and return its standard output; throw
// with its standard error if it fails.
std::string run_output(const std::string &cmd);
// Run a command line with @input on its standard input; throw with its
// output if it fails.
void run_or_throw(const std::string &cmd, const std::string &input = "");

// A small file's contents ("" if it cannot be read).
std::string read_small_file(const std::string &path);

// Names of the dm devices and of the bound loop devices, from /sys/block.
std::set<std::string> dm_devices();
std::set<std::string> bound_loop_devices();

} // namespace common
