// SPDX-License-Identifier: GPL-2.0
#include "common/dm.h"

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <libdevmapper.h>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <system_error>
#include <thread>

#include "common/sys.h"

namespace common::dm {

constexpr int64_t kSector = 512;

std::string to_string(const Table &t)
{
	std::ostringstream os;
	for (const Target &l : t)
		os << l.start / kSector << " " << l.length / kSector << " "
		   << l.type << (l.params.empty() ? "" : " ") << l.params
		   << "\n";
	return os.str();
}

Table parse_table(const std::string &text)
{
	Table t;
	std::istringstream in(text);
	for (std::string line; std::getline(in, line);) {
		std::istringstream ls(line);
		int64_t start, length;
		Target l;
		if (!(ls >> start)) {
			if (line.find_first_not_of(" \t") == std::string::npos)
				continue;
			throw std::invalid_argument("dm table line '" + line + "'");
		}
		if (!(ls >> length >> l.type))
			throw std::invalid_argument("dm table line '" + line + "'");
		std::getline(ls >> std::ws, l.params);
		l.start = start * kSector;
		l.length = length * kSector;
		t.push_back(l);
	}
	return t;
}

namespace {

// libdevmapper's error messages of this thread's current operation.
thread_local std::string errors;

void log_fn(int level, const char *, int, int, const char *f, ...)
	__attribute__((format(printf, 5, 6)));
void log_fn(int level, const char *, int, int, const char *f, ...)
{
	// Errors and warnings (the levels are syslog's, flags above 7).
	if ((level & 7) > 4)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	errors += (errors.empty() ? "" : "; ") + std::string(buf);
}

void init()
{
	static std::once_flag once;
	std::call_once(once, [] {
		dm_log_with_errno_init(log_fn);
		// No udev in the guest: nothing to wait for, libdevmapper
		// makes the nodes.
		dm_udev_set_sync_support(0);
		// Open the control device and check the kernel's version once,
		// before threads share them (a failure shows at the first
		// operation).
		char v[64];
		dm_driver_version(v, sizeof(v));
		errors.clear();
	});
}

// Create and remove stack /dev/mapper node updates on a list of
// libdevmapper's; they run, and the list empties, under this lock.
std::mutex node_mu;

struct TaskDeleter {
	void operator()(dm_task *t) const { dm_task_destroy(t); }
};

// One dm task on @name; throws as "dm WHAT NAME: messages".
class Task {
public:
	Task(int type, const std::string &name, const char *what)
		: what_(std::string("dm ") + what + " " + name)
	{
		init();
		errors.clear();
		t_.reset(dm_task_create(type));
		if (!t_)
			fail(ENOMEM);
		if (!dm_task_set_name(t_.get(), name.c_str()))
			fail(EINVAL);
		// Nodes only at create: a resume stacks no node update.
		dm_task_set_add_node(t_.get(), DM_ADD_NODE_ON_CREATE);
	}
	dm_task *get() { return t_.get(); }
	void add(const Table &table)
	{
		for (const Target &l : table)
			if (!dm_task_add_target(t_.get(), l.start / kSector,
						l.length / kSector, l.type.c_str(),
						l.params.c_str()))
				fail(ENOMEM, "\n" + to_string(table));
		table_ = to_string(table);
	}
	// Run it; 0 or the errno it failed with.
	int run(bool nodes = false)
	{
		int ok;
		if (nodes) {
			std::lock_guard<std::mutex> l(node_mu);
			ok = dm_task_run(t_.get());
			dm_task_update_nodes();
		} else {
			ok = dm_task_run(t_.get());
		}
		if (ok)
			return 0;
		int e = dm_task_get_errno(t_.get());
		return e ? e : EINVAL;
	}
	void run_or_throw(bool nodes = false)
	{
		if (int e = run(nodes))
			fail(e);
	}
	[[noreturn]] void fail(int e, const std::string &more = "")
	{
		std::string msg = what_;
		if (!errors.empty())
			msg += ": " + errors;
		if (!table_.empty())
			msg += "\nwith table\n" + table_;
		throw std::system_error(e, std::generic_category(), msg + more);
	}
	Table targets()
	{
		Table t;
		void *next = nullptr;
		do {
			uint64_t start, length;
			char *type = nullptr, *params = nullptr;
			next = dm_get_next_target(t_.get(), next, &start, &length,
						  &type, &params);
			if (type)
				t.push_back({int64_t(start) * kSector,
					     int64_t(length) * kSector, type,
					     params ? params : ""});
		} while (next);
		return t;
	}

private:
	std::string what_, table_;
	std::unique_ptr<dm_task, TaskDeleter> t_;
};

} // namespace

dev_t create(const std::string &name, const Table &table)
{
	struct dm_info di;
	{
		Task t(DM_DEVICE_CREATE, name, "create");
		t.run_or_throw(true);
		if (!dm_task_get_info(t.get(), &di))
			t.fail(EINVAL);
	}
	try {
		load(name, table);
		resume(name);
	} catch (...) {
		try {
			remove(name);
		} catch (...) {
		}
		throw;
	}
	return makedev(di.major, di.minor);
}

void load(const std::string &name, const Table &table)
{
	Task t(DM_DEVICE_RELOAD, name, "load");
	t.add(table);
	t.run_or_throw();
}

void suspend(const std::string &name, unsigned flags)
{
	Task t(DM_DEVICE_SUSPEND, name, "suspend");
	if (flags & NoFlush)
		dm_task_no_flush(t.get());
	if (flags & NoLockfs)
		dm_task_skip_lockfs(t.get());
	t.run_or_throw();
}

void resume(const std::string &name)
{
	Task t(DM_DEVICE_RESUME, name, "resume");
	t.run_or_throw();
}

void remove(const std::string &name, bool deferred, int busy_ms)
{
	Task t(DM_DEVICE_REMOVE, name, deferred ? "remove --deferred" : "remove");
	if (deferred)
		dm_task_deferred_remove(t.get());
	const auto end = std::chrono::steady_clock::now() +
			 std::chrono::milliseconds(busy_ms);
	for (;;) {
		int e = t.run(true);
		if (!e)
			return;
		if (e != EBUSY || std::chrono::steady_clock::now() >= end)
			t.fail(e);
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
		errors.clear();
	}
}

std::string message(const std::string &name, const std::string &msg)
{
	Task t(DM_DEVICE_TARGET_MSG, name, ("message '" + msg + "' to").c_str());
	if (!dm_task_set_sector(t.get(), 0) ||
	    !dm_task_set_message(t.get(), msg.c_str()))
		t.fail(ENOMEM);
	t.run_or_throw();
	const char *r = dm_task_get_message_response(t.get());
	return r ? r : "";
}

Table table(const std::string &name)
{
	Task t(DM_DEVICE_TABLE, name, "table");
	t.run_or_throw();
	return t.targets();
}

Table status(const std::string &name, bool noflush)
{
	Task t(DM_DEVICE_STATUS, name, "status");
	if (noflush)
		dm_task_no_flush(t.get());
	t.run_or_throw();
	// For STATUS (and INFO) libdevmapper takes ENXIO for an answer.
	struct dm_info di;
	if (!dm_task_get_info(t.get(), &di) || !di.exists)
		t.fail(ENXIO);
	return t.targets();
}

Info info(const std::string &name)
{
	Task t(DM_DEVICE_INFO, name, "info");
	t.run_or_throw();
	struct dm_info di;
	if (!dm_task_get_info(t.get(), &di))
		t.fail(EINVAL);
	Info i;
	i.exists = di.exists;
	if (!i.exists)
		return i;
	i.suspended = di.suspended;
	i.live_table = di.live_table;
	i.inactive_table = di.inactive_table;
	i.deferred_remove = di.deferred_remove;
	i.open_count = di.open_count;
	i.major = di.major;
	i.minor = di.minor;
	return i;
}

bool exists(const std::string &name)
{
	return info(name).exists;
}

std::string node(const std::string &name)
{
	init();
	return std::string(dm_dir()) + "/" + name;
}

std::string dm_path(dev_t dev)
{
	return "/dev/dm-" + std::to_string(minor(dev));
}

std::string name_of(int fd)
{
	struct stat st;
	if (fstat(fd, &st) || !S_ISBLK(st.st_mode))
		return "";
	std::string n = read_small_file("/sys/dev/block/" +
					std::to_string(major(st.st_rdev)) + ":" +
					std::to_string(minor(st.st_rdev)) +
					"/dm/name");
	while (!n.empty() && n.back() == '\n')
		n.pop_back();
	return n;
}

Device::Device(const std::string &name, const Table &table)
	: name_(name), path_(node(name)), dev_(create(name, table))
{
	dm_path_ = dm::dm_path(dev_);
	if (!wait_for_node(dm_path_, 5000)) {
		try {
			dm::remove(name_, false, 30000);
		} catch (...) {
		}
		throw std::runtime_error(dm_path_ + " did not appear");
	}
}

Device::~Device()
{
	if (removed_)
		return;
	try {
		dm::resume(name_);
	} catch (...) {
	}
	try {
		dm::remove(name_, false, 30000);
	} catch (const std::system_error &e) {
		if (e.code().value() != ENXIO)
			fprintf(stderr, "could not remove dm device %s: %s\n",
				name_.c_str(), e.what());
	} catch (const std::exception &e) {
		fprintf(stderr, "could not remove dm device %s: %s\n",
			name_.c_str(), e.what());
	} catch (...) {
		fprintf(stderr, "could not remove dm device %s\n",
			name_.c_str());
	}
}

void Device::reload(const Table &t)
{
	load(t);
	resume();
}

void Device::remove_deferred()
{
	dm::remove(name_, true);
	removed_ = true;
}

void Device::remove(int busy_ms)
{
	dm::remove(name_, false, busy_ms);
	removed_ = true;
}

} // namespace common::dm
