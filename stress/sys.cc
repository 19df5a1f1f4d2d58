// SPDX-License-Identifier: GPL-2.0
#include "sys.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sstream>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace stress {

Loop::~Loop()
{
	clear();
	if (!wait_unbound(20000))
		fprintf(stderr, "stress: %s is still bound\n", path().c_str());
}

// A small file's contents without the trailing newlines.
static std::string read_small_file(const std::string &path)
{
	std::string s = common::read_small_file(path);
	while (!s.empty() && s.back() == '\n')
		s.pop_back();
	return s;
}

std::string dm_unique_name(const std::string &tag)
{
	return "stress-" + std::to_string(getpid()) + "-" + tag;
}

int write_attr(const std::string &path, const std::string &value)
{
	int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = 0;
	if (write(fd, value.data(), value.size()) != ssize_t(value.size()))
		r = -errno;
	close(fd);
	return r;
}

void set_attr(const std::string &path, const std::string &value)
{
	int r = write_attr(path, value);
	if (r) {
		errno = -r;
		fail_errno("write '" + value + "' to " + path);
	}
}

std::string read_attr(const std::string &path)
{
	return read_small_file(path);
}

// "name=value": the first '=' splits (values may hold more).
static std::pair<std::string, std::string> split_attr(const std::string &a)
{
	size_t eq = a.find('=');
	return {a.substr(0, eq), eq == std::string::npos ? "" : a.substr(eq + 1)};
}

NullBlk::NullBlk(const std::string &tag, const std::vector<std::string> &attrs)
{
	const std::string root = "/sys/kernel/config/nullb";
	if (access(root.c_str(), F_OK))
		throw std::runtime_error(root + " missing: the guest needs "
					 "CONFIG_BLK_DEV_NULL_BLK and configfs");
	const std::string name = "stress" + std::to_string(getpid()) + tag;
	dir_ = root + "/" + name;
	if (mkdir(dir_.c_str(), 0755))
		fail_errno("mkdir " + dir_);
	path_ = "/dev/" + name;
	try {
		for (const std::string &a : attrs) {
			auto [k, v] = split_attr(a);
			set_attr(attr(k), v);
		}
		power(true);
	} catch (...) {
		rmdir(dir_.c_str());
		throw;
	}
}

NullBlk::~NullBlk()
{
	write_attr(attr("power"), "0");
	if (rmdir(dir_.c_str()))
		fprintf(stderr, "stress: rmdir %s: %s\n", dir_.c_str(),
			strerror(errno));
}

void NullBlk::power(bool on)
{
	set_attr(attr("power"), on ? "1" : "0");
	if (on && !wait_for_node(path_, 5000))
		throw std::runtime_error(path_ + " did not appear");
}

Zram::Zram(int64_t size, const std::vector<std::string> &attrs)
{
	const std::string ctl = "/sys/class/zram-control/hot_add";
	if (access(ctl.c_str(), F_OK))
		throw std::runtime_error(ctl + " missing: the guest needs CONFIG_ZRAM");
	std::string n = read_small_file(ctl);
	if (n.empty())
		throw std::runtime_error(ctl + ": no device number");
	number_ = std::stoi(n);
	path_ = "/dev/zram" + n;
	try {
		for (const std::string &a : attrs) {
			auto [k, v] = split_attr(a);
			set_attr(attr(k), v);
		}
		set_attr(attr("disksize"), std::to_string(size));
		if (!wait_for_node(path_, 5000))
			throw std::runtime_error(path_ + " did not appear");
	} catch (...) {
		write_attr("/sys/class/zram-control/hot_remove", n);
		throw;
	}
}

Zram::~Zram()
{
	// hot_remove resets the device too; it is refused (EBUSY) while the
	// device is open.
	const std::string n = std::to_string(number_);
	for (int i = 0; i < 3000; i++) {
		int r = write_attr("/sys/class/zram-control/hot_remove", n);
		if (r == 0)
			return;
		if (r != -EBUSY)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	fprintf(stderr, "stress: could not remove %s\n", path_.c_str());
}

std::string Zram::attr(const std::string &name) const
{
	return "/sys/block/zram" + std::to_string(number_) + "/" + name;
}

} // namespace stress
