// SPDX-License-Identifier: GPL-2.0
// Helpers for the fault tests (tests/fault_test.cc): fail_make_request for
// one disk (optionally only for the I/O of one thread), the block devices a
// dm table names, a cold dm-bufio cache, and probes that ask SEEK_DATA and
// SEEK_HOLE while the faults are on and sort every answer into right, an
// errno, or wrong.
//
// Each fault helper says afterwards whether the failing path was really
// taken: fail_make_request counts what it failed, and a probe counts the
// reads it caused on the faulty disk. A test that saw no fault proves
// nothing, so the tests assert on those counts too.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "liveness.h"
#include "thin_fixtures.h"

namespace seektest {

// The contents of a small sysfs, debugfs or procfs file, without the
// trailing newline.
inline std::string read_value(const std::string &path)
{
	std::ifstream in(path);
	if (!in)
		throw std::runtime_error("cannot read " + path);
	std::string v;
	std::getline(in, v);
	return v;
}

// Write @value to @path with write(2) from the calling thread (a shell
// would write it from another process).
inline void write_value(const std::string &path, const std::string &value)
{
	UniqueFd fd = open_or_throw(path, O_WRONLY);
	if (write(fd.get(), value.data(), value.size()) != ssize_t(value.size()))
		fail_errno("write " + value + " to " + path);
}

// "MAJ:MIN" of the block device node @dev.
inline std::string dev_numbers(const std::string &dev)
{
	struct stat st;
	if (stat(dev.c_str(), &st) || !S_ISBLK(st.st_mode))
		throw std::runtime_error(dev + " is not a block device");
	return std::to_string(major(st.st_rdev)) + ":" +
	       std::to_string(minor(st.st_rdev));
}

// The sysfs directory of the whole disk @dev ("MAJ:MIN" or a node).
inline std::string sysfs_dir(const std::string &dev)
{
	std::string nums = dev[0] == '/' ? dev_numbers(dev) : dev;
	return "/sys/dev/block/" + nums;
}

// Reads completed by the disk whose sysfs directory is @sysdir (the first
// field of its stat file). Bios that fail_make_request fails never reach
// the disk and are not counted.
inline uint64_t reads_completed(const std::string &sysdir)
{
	std::istringstream in(read_value(sysdir + "/stat"));
	uint64_t reads = 0;
	in >> reads;
	return reads;
}

// Argument @n (0 being the first after the target type) of the first line
// of the live table of @name: the devices a table names read as "MAJ:MIN".
inline std::string dm_table_arg(const std::string &name, int n)
{
	const dm::Table t = dm::table(name);
	std::istringstream in(t.empty() ? "" : t[0].params);
	std::string arg;
	for (int i = 0; i <= n; i++)
		in >> arg;
	if (arg.empty())
		throw std::runtime_error("no argument " + std::to_string(n) +
					 " in the table of " + name);
	return arg;
}

// fail_make_request (Documentation/fault-injection/fault-injection.rst):
// while the object lives, bios submitted to the disk @dev fail with
// probability @percent. With @task_filter, only bios submitted by threads
// inside a FailThisThread scope fail, so the pool's or file system's own
// workers are left alone. Silent (verbose 0): a stack dump in the kernel
// log would fail the run.
class FailMakeRequest {
public:
	static constexpr int64_t kTimes = 1000000000;

	FailMakeRequest(const std::string &dev, int percent, bool task_filter)
	{
		if (access(kDir, F_OK))
			throw std::runtime_error(
				std::string(kDir) + " missing: the guest kernel "
				"needs CONFIG_FAIL_MAKE_REQUEST and "
				"CONFIG_FAULT_INJECTION_DEBUG_FS");
		set("verbose", "0");
		set("interval", "1");
		set("space", "0");
		set("times", std::to_string(kTimes));
		set("task-filter", task_filter ? "Y" : "N");
		set("probability", std::to_string(percent));
		disk_ = std::make_unique<ScopedSysValue>(
			sysfs_dir(dev) + "/make-it-fail", "1");
	}
	~FailMakeRequest()
	{
		disk_.reset();
		while (!saved_.empty())
			saved_.pop_back();
	}
	FailMakeRequest(const FailMakeRequest &) = delete;
	FailMakeRequest &operator=(const FailMakeRequest &) = delete;

	// Fail nothing more (the disk stays marked until destruction).
	void stop() const
	{
		write_value(std::string(kDir) + "/probability", "0");
	}

	// Bios failed so far.
	int64_t injected() const
	{
		return kTimes - std::stoll(read_value(std::string(kDir) + "/times"));
	}

private:
	static constexpr const char *kDir = "/sys/kernel/debug/fail_make_request";

	void set(const std::string &attr, const std::string &value)
	{
		saved_.push_back(std::make_unique<ScopedSysValue>(
			std::string(kDir) + "/" + attr, value));
	}

	std::vector<std::unique_ptr<ScopedSysValue>> saved_;
	std::unique_ptr<ScopedSysValue> disk_;
};

// The calling thread's bios are subject to a task-filtered FailMakeRequest
// for the life of the object.
class FailThisThread {
public:
	FailThisThread() { write_value(kPath, "1"); }
	~FailThisThread()
	{
		try {
			write_value(kPath, "0");
		} catch (const std::exception &e) {
			ADD_FAILURE() << e.what();
		}
	}
	FailThisThread(const FailThisThread &) = delete;
	FailThisThread &operator=(const FailThisThread &) = delete;

private:
	static constexpr const char *kPath = "/proc/thread-self/make-it-fail";
};

// dm-bufio, the cache of thin pool metadata, keeps (next to) nothing:
// with its size set to a byte, each buffer it allocates makes its worker
// evict every buffer not in use, so that a query reads most of its btree
// nodes from the metadata device, where the faults are.
class ColdBufio {
public:
	ColdBufio()
		: size_(kParams + "max_cache_size_bytes", "1"),
		  retain_(kParams + "retain_bytes", "0")
	{
	}

	// Also evict what the last query left: drop the slab caches, which
	// asks bufio's shrinker to evict every clean buffer (in a work item),
	// and wait, at most a second, until bufio holds no more than @bytes
	// (a pool's reserved buffers count too).
	static void evict(uint64_t bytes = 8 * 4096)
	{
		write_value("/proc/sys/vm/drop_caches", "2");
		for (int i = 0; i < 100; i++) {
			if (std::stoull(read_value(kParams + "current_allocated_bytes")) <= bytes)
				return;
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		}
	}

private:
	static inline const std::string kParams = "/sys/module/dm_bufio/parameters/";
	ScopedSysValue size_, retain_;
};

// How a series of faulty queries answered.
struct Tally {
	int right = 0;	// the answer the healthy device gives
	int eio = 0;	// -EIO
	int wrong = 0;	// anything else
	int cold = 0;	// queries that read the faulty disk (or were failed)
	std::string wrongs; // the first few wrong answers, explained

	int total() const { return right + eio + wrong; }
	std::string summary() const
	{
		return std::to_string(total()) + " queries: " +
		       std::to_string(right) + " right, " +
		       std::to_string(eio) + " EIO, " + std::to_string(wrong) +
		       " wrong; " + std::to_string(cold) +
		       " read the faulty disk";
	}
};

// Why @got is wrong for SEEK_DATA/SEEK_HOLE(@off) on @map (size @size):
// in particular, whether it reports a hole over data.
inline std::string explain(const ExtentMap &map, int64_t size, int64_t off,
			   int whence, int64_t got)
{
	int64_t want = seekmap::expected_seek(map, size, off, whence);
	std::ostringstream os;
	os << (whence == SEEK_DATA ? "SEEK_DATA(" : "SEEK_HOLE(") << off
	   << ") = ";
	if (got < 0)
		os << "errno " << -got << " (" << strerror(-got) << ")";
	else
		os << got;
	os << ", expected " << want;
	if (got >= 0) {
		bool in_data = false;
		// SEEK_HOLE's answer, or what SEEK_DATA skipped, lies in data.
		int64_t from = whence == SEEK_HOLE ? got : off;
		int64_t to = whence == SEEK_HOLE ? got + 1 : got;
		for (const Extent &e : map)
			in_data |= e.start < std::min(to, size) && from < e.end;
		if (in_data)
			os << (whence == SEEK_HOLE ? " (a hole inside data)"
						   : " (skips data)");
	}
	return os.str();
}

// Ask SEEK_DATA and SEEK_HOLE at each of @offs on @fd (size @size, whose
// healthy map is @want). Before each query @prepare runs (to evict caches);
// the query itself runs inside a FailThisThread scope when @this_thread.
// @disk is the faulty disk's sysfs directory and @fmr, if any, its
// injector: together they tell whether the query reached the disk.
template <typename Prepare>
Tally probe(int fd, int64_t size, const ExtentMap &want,
	    const std::vector<int64_t> &offs, const std::string &disk,
	    const FailMakeRequest *fmr, bool this_thread, Prepare prepare)
{
	Tally t;
	for (int64_t off : offs) {
		for (int whence : {SEEK_DATA, SEEK_HOLE}) {
			prepare();
			uint64_t reads = reads_completed(disk);
			int64_t failed = fmr ? fmr->injected() : 0;
			int64_t got;
			if (this_thread) {
				FailThisThread faults;
				got = seekmap::seek(fd, off, whence);
			} else {
				got = seekmap::seek(fd, off, whence);
			}
			if (reads_completed(disk) != reads ||
			    (fmr && fmr->injected() != failed))
				t.cold++;
			if (got == seekmap::expected_seek(want, size, off, whence)) {
				t.right++;
			} else if (got == -EIO) {
				t.eio++;
			} else {
				if (t.wrong++ < 8)
					t.wrongs += explain(want, size, off,
							    whence, got) + "\n";
			}
		}
	}
	return t;
}

// Offsets worth asking about on @map (size @size): each extent's edges and
// a byte either side, and @random more from @rng.
template <typename Rng>
std::vector<int64_t> probe_offsets(const ExtentMap &map, int64_t size,
				   Rng &rng, int random)
{
	std::vector<int64_t> offs{0, size - 1};
	for (const Extent &e : map)
		for (int64_t o : {e.start - 1, e.start, e.start + 1, e.end - 1,
				  e.end})
			if (o >= 0 && o < size)
				offs.push_back(o);
	for (int i = 0; i < random; i++)
		offs.push_back(int64_t(rng() % uint64_t(size)));
	return offs;
}

} // namespace seektest
