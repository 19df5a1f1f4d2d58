// SPDX-License-Identifier: GPL-2.0
#include "common/sys.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

namespace common {

void fail_errno(const std::string &what)
{
	throw std::system_error(errno, std::generic_category(), what);
}

UniqueFd &UniqueFd::operator=(UniqueFd &&o) noexcept
{
	reset(o.release());
	return *this;
}

int UniqueFd::release()
{
	int fd = fd_;
	fd_ = -1;
	return fd;
}

void UniqueFd::reset(int fd)
{
	if (fd_ >= 0)
		close(fd_);
	fd_ = fd;
}

UniqueFd open_or_throw(const std::string &path, int flags)
{
	int fd = open(path.c_str(), flags | O_CLOEXEC);
	if (fd < 0)
		fail_errno("open " + path);
	return UniqueFd(fd);
}

int64_t size_or_errno(int fd)
{
	struct stat st;
	if (fstat(fd, &st))
		return -errno;
	return seekmap::fd_size(fd, st);
}

int64_t size_of(int fd)
{
	int64_t size = size_or_errno(fd);
	if (size < 0) {
		errno = static_cast<int>(-size);
		fail_errno("size of fd " + std::to_string(fd));
	}
	return size;
}

void fill_pattern(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = static_cast<unsigned char>(x | 1); // never zero
	}
}

SparseFile::SparseFile(int64_t size, const std::string &dir,
		       const std::string &tag)
{
	std::string tmpl = dir + "/" + tag + "-XXXXXX";
	std::vector<char> buf(tmpl.begin(), tmpl.end());
	buf.push_back('\0');
	int fd = mkostemp(buf.data(), O_CLOEXEC);
	if (fd < 0)
		fail_errno("mkostemp in " + dir);
	path_ = buf.data();
	fd_.reset(fd);
	truncate(size);
}

SparseFile::~SparseFile()
{
	unlink(path_.c_str());
}

void SparseFile::write(int64_t off, int64_t len, uint64_t seed)
{
	std::vector<unsigned char> buf(std::min<int64_t>(len, 1 << 20));
	fill_pattern(buf.data(), buf.size(), seed);
	while (len > 0) {
		size_t n = std::min<int64_t>(len, buf.size());
		ssize_t w = pwrite(fd_.get(), buf.data(), n, off);
		if (w <= 0)
			fail_errno("pwrite " + path_);
		off += w;
		len -= w;
	}
}

void SparseFile::punch(int64_t off, int64_t len)
{
	if (fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      off, len))
		fail_errno("punch hole in " + path_);
}

void SparseFile::truncate(int64_t size)
{
	if (ftruncate(fd_.get(), size))
		fail_errno("ftruncate " + path_);
}

ExtentMap SparseFile::map() const
{
	seekmap::Walk w = seekmap::walk(fd_.get(), size());
	if (!w.error.empty())
		throw std::runtime_error("map of " + path_ + ": " + w.error);
	return w.map;
}

int loop_configure(int dev_fd, int backing_fd, const LoopOptions &opts)
{
	struct loop_config cfg = {};
	cfg.fd = backing_fd;
	cfg.info.lo_offset = opts.offset;
	cfg.info.lo_sizelimit = opts.sizelimit;
	cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
	if (opts.partscan)
		cfg.info.lo_flags |= LO_FLAGS_PARTSCAN;
	if (opts.read_only)
		cfg.info.lo_flags |= LO_FLAGS_READ_ONLY;
	return ioctl(dev_fd, LOOP_CONFIGURE, &cfg) ? -errno : 0;
}

bool loop_bound(int n)
{
	std::string p = "/sys/block/loop" + std::to_string(n) +
			"/loop/backing_file";
	return access(p.c_str(), F_OK) == 0;
}

bool wait_for_node(const std::string &path, int ms)
{
	for (int i = 0; i <= ms; i += 5) {
		if (access(path.c_str(), F_OK) == 0)
			return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
	return false;
}

LoopDevice::LoopDevice(const std::string &backing, const LoopOptions &opts)
{
	UniqueFd file = open_or_throw(backing,
				      opts.read_only ? O_RDONLY : O_RDWR);
	bind(file.get(), opts);
}

LoopDevice::LoopDevice(int backing_fd, const LoopOptions &opts)
{
	bind(backing_fd, opts);
}

void LoopDevice::bind(int backing_fd, const LoopOptions &opts)
{
	UniqueFd ctl = open_or_throw("/dev/loop-control", O_RDWR);

	// Another process may take the free device first: try again.
	for (int attempt = 0;; attempt++) {
		number_ = ioctl(ctl.get(), LOOP_CTL_GET_FREE);
		if (number_ < 0)
			fail_errno("LOOP_CTL_GET_FREE");
		path_ = "/dev/loop" + std::to_string(number_);
		if (!wait_for_node(path_, 2000))
			throw std::runtime_error(path_ + " did not appear");
		fd_ = open_or_throw(path_, opts.read_only ? O_RDONLY : O_RDWR);
		int r = loop_configure(fd_.get(), backing_fd, opts);
		if (r == 0)
			return;
		fd_.reset();
		if (r != -EBUSY || attempt == 10) {
			errno = -r;
			fail_errno("LOOP_CONFIGURE " + path_);
		}
	}
}

void LoopDevice::clear()
{
	// With our descriptor the only opener, the device is cleared on
	// close; LOOP_CLR_FD makes that so even without AUTOCLEAR.
	if (fd_.get() >= 0)
		ioctl(fd_.get(), LOOP_CLR_FD);
	fd_.reset();
}

bool LoopDevice::wait_unbound(int ms) const
{
	for (int i = 0; i < ms && loop_bound(number_); i += 10)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	return !loop_bound(number_);
}

std::string LoopDevice::partition(int n) const
{
	std::string p = path_ + "p" + std::to_string(n);
	if (!wait_for_node(p, 5000))
		throw std::runtime_error(p + " did not appear");
	return p;
}

std::string read_small_file(const std::string &path)
{
	std::string out;
	FILE *f = fopen(path.c_str(), "re");
	if (!f)
		return out;
	char buf[4096];
	for (size_t n; (n = fread(buf, 1, sizeof(buf), f)) > 0;)
		out.append(buf, n);
	fclose(f);
	return out;
}

// A file for a command's error output, unique to the process and call.
static std::string scratch_name(const char *what)
{
	static std::atomic<int> seq;
	return "/tmp/seek-cmd-" + std::to_string(getpid()) + "-" +
	       std::to_string(seq++) + "." + what;
}

// The verdict on a command pclose() reaped: throw with @msg if it failed.
static void check_exit(int st, const std::string &cmd, const std::string &msg)
{
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		throw std::runtime_error("'" + cmd + "' failed: " + msg);
}

std::string run_output(const std::string &cmd)
{
	const std::string err = scratch_name("err");
	FILE *p = popen(("(" + cmd + ") 2>" + err).c_str(), "re");
	if (!p)
		fail_errno("popen " + cmd);
	std::string out;
	char buf[65536];
	for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;)
		out.append(buf, n);
	int st = pclose(p);
	std::string msg = read_small_file(err);
	unlink(err.c_str());
	check_exit(st, cmd, msg);
	return out;
}

void run_or_throw(const std::string &cmd, const std::string &input)
{
	const std::string log = scratch_name("out");
	FILE *p = popen(("(" + cmd + ") >" + log + " 2>&1").c_str(), "we");
	if (!p)
		fail_errno("popen " + cmd);
	fputs(input.c_str(), p);
	int st = pclose(p);
	std::string msg = read_small_file(log);
	unlink(log.c_str());
	check_exit(st, cmd, msg);
}

// Names in /sys/block that @keep accepts.
template <typename Keep> static std::set<std::string> block_devices(Keep keep)
{
	std::set<std::string> out;
	DIR *d = opendir("/sys/block");
	if (!d)
		return out;
	while (struct dirent *e = readdir(d))
		if (keep(std::string(e->d_name)))
			out.insert(e->d_name);
	closedir(d);
	return out;
}

std::set<std::string> dm_devices()
{
	return block_devices([](const std::string &name) {
		return name.rfind("dm-", 0) == 0;
	});
}

std::set<std::string> bound_loop_devices()
{
	return block_devices([](const std::string &name) {
		// The loop/ attribute group exists only while bound.
		return name.rfind("loop", 0) == 0 &&
		       access(("/sys/block/" + name + "/loop/backing_file").c_str(),
			      F_OK) == 0;
	});
}

} // namespace common
