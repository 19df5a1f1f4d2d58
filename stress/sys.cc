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
#include <linux/dm-ioctl.h>
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

std::string to_string(const DmTable &t)
{
	std::ostringstream os;
	for (const DmTarget &l : t)
		os << l.start / Sector << " " << l.length / Sector << " "
		   << l.type << (l.params.empty() ? "" : " ") << l.params
		   << "\n";
	return os.str();
}

namespace dm {

static int control_fd()
{
	static int fd = [] {
		int f = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
		if (f < 0)
			fail_errno("open /dev/mapper/control");
		return f;
	}();
	return fd;
}

// One DM ioctl with an optional table or target message as payload.
static int call(unsigned long cmd, const std::string &name, uint32_t flags,
		const DmTable *table, const std::string *msg,
		struct dm_ioctl *out = nullptr)
{
	const size_t header = (sizeof(struct dm_ioctl) + 7) & ~size_t(7);
	size_t payload = 0;
	if (table)
		for (const DmTarget &t : *table)
			payload += sizeof(struct dm_target_spec) +
				   t.params.size() + 8;
	if (msg)
		payload += sizeof(struct dm_target_msg) + msg->size() + 8;
	const size_t size = std::max<size_t>(header + payload + 64, 16384);
	std::vector<uint64_t> buf(size / 8 + 1, 0);
	auto *io = reinterpret_cast<struct dm_ioctl *>(buf.data());
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = static_cast<uint32_t>(size);
	io->data_start = static_cast<uint32_t>(header);
	io->flags = flags;
	if (name.size() >= DM_NAME_LEN)
		return -ENAMETOOLONG;
	memcpy(io->name, name.c_str(), name.size());
	char *p = reinterpret_cast<char *>(io) + header;
	if (table) {
		for (const DmTarget &t : *table) {
			auto *spec = reinterpret_cast<struct dm_target_spec *>(p);
			spec->sector_start = t.start / Sector;
			spec->length = t.length / Sector;
			snprintf(spec->target_type, sizeof(spec->target_type),
				 "%s", t.type.c_str());
			char *params = reinterpret_cast<char *>(spec + 1);
			memcpy(params, t.params.c_str(), t.params.size() + 1);
			size_t n = sizeof(*spec) + t.params.size() + 1;
			n = (n + 7) & ~size_t(7);
			spec->next = static_cast<uint32_t>(n);
			p += n;
		}
		io->target_count = static_cast<uint32_t>(table->size());
	}
	if (msg) {
		auto *m = reinterpret_cast<struct dm_target_msg *>(p);
		m->sector = 0;
		memcpy(m->message, msg->c_str(), msg->size() + 1);
	}
	if (ioctl(control_fd(), cmd, io))
		return -errno;
	if (out)
		*out = *io;
	return 0;
}

int create(const std::string &name, const DmTable &table, dev_t *dev)
{
	struct dm_ioctl out;
	int r = call(DM_DEV_CREATE, name, 0, nullptr, nullptr, &out);
	if (r)
		return r;
	*dev = static_cast<dev_t>(out.dev);
	r = load(name, table);
	if (!r)
		r = resume(name);
	if (r)
		remove(name, false);
	return r;
}

int load(const std::string &name, const DmTable &table)
{
	return call(DM_TABLE_LOAD, name, 0, &table, nullptr);
}

int suspend(const std::string &name, bool noflush)
{
	return call(DM_DEV_SUSPEND, name,
		    DM_SUSPEND_FLAG | (noflush ? DM_NOFLUSH_FLAG : 0), nullptr,
		    nullptr);
}

int resume(const std::string &name)
{
	return call(DM_DEV_SUSPEND, name, 0, nullptr, nullptr);
}

int remove(const std::string &name, bool deferred)
{
	return call(DM_DEV_REMOVE, name, deferred ? DM_DEFERRED_REMOVE : 0,
		    nullptr, nullptr);
}

int message(const std::string &name, const std::string &msg)
{
	return call(DM_TARGET_MSG, name, 0, nullptr, &msg);
}

bool exists(const std::string &name)
{
	return call(DM_DEV_STATUS, name, 0, nullptr, nullptr) == 0;
}

} // namespace dm

static std::string read_small_file(const std::string &path)
{
	std::ifstream in(path);
	std::string s((std::istreambuf_iterator<char>(in)),
		      std::istreambuf_iterator<char>());
	while (!s.empty() && s.back() == '\n')
		s.pop_back();
	return s;
}

std::string dm_name_of(int fd)
{
	struct stat st;
	if (fstat(fd, &st) || !S_ISBLK(st.st_mode))
		return "";
	return read_small_file("/sys/dev/block/" +
			       std::to_string(major(st.st_rdev)) + ":" +
			       std::to_string(minor(st.st_rdev)) + "/dm/name");
}

static void throw_dm(int r, const std::string &what)
{
	errno = -r;
	fail_errno(what);
}

DmDevice::DmDevice(const std::string &name, const DmTable &table)
	: name_(name)
{
	dev_t dev;
	int r = dm::create(name, table, &dev);
	if (r)
		throw_dm(r, "dm create " + name + " with table\n" +
				    to_string(table));
	path_ = "/dev/dm-" + std::to_string(minor(dev));
	if (!wait_for_node(path_, 5000))
		throw std::runtime_error(path_ + " did not appear");
}

DmDevice::~DmDevice()
{
	dm::resume(name_);
	// Walkers close their descriptors within a walk: retry meanwhile.
	for (int i = 0; i < 3000; i++) {
		int r = dm::remove(name_, false);
		if (r == 0 || r == -ENXIO)
			return;
		if (r != -EBUSY)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	fprintf(stderr, "stress: could not remove dm device %s\n",
		name_.c_str());
}

void DmDevice::reload(const DmTable &table)
{
	int r = dm::load(name_, table);
	if (r)
		throw_dm(r, "dm load " + name_ + " with table\n" +
				    to_string(table));
	resume();
}

void DmDevice::suspend(bool noflush)
{
	int r = dm::suspend(name_, noflush);
	if (r)
		throw_dm(r, "dm suspend " + name_);
}

void DmDevice::resume()
{
	int r = dm::resume(name_);
	if (r)
		throw_dm(r, "dm resume " + name_);
}

void DmDevice::message(const std::string &msg)
{
	int r = dm::message(name_, msg);
	if (r)
		throw_dm(r, "dm message " + name_ + " '" + msg + "'");
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
