// SPDX-License-Identifier: GPL-2.0
// Helpers for the tests that a query never waits for I/O: a walk on a worker
// thread with a bound on the wait for its answer, a scope guard that undoes
// what would block the walk, kernel parameters set for one test, and a
// mounted, freezable file system.
//
// A test that can block puts the walk on a worker thread and declares the
// guard that undoes the blocking condition (resume, thaw, reload) after the
// std::future of the walk: the guard runs first even when an assertion
// returns early, and the future's destructor, which waits for the worker,
// never waits for a walk that can no longer end.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <future>
#include <iostream>
#include <linux/fs.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "fixtures.h"

namespace seektest {

// How long a query may take before the test says it waited for I/O.
inline constexpr std::chrono::seconds kAnswerBound{30};

// Poll @done every @step until it holds or @bound has passed; whether it
// held.
template <typename Done>
bool WaitFor(Done done, std::chrono::seconds bound,
	     std::chrono::milliseconds step = std::chrono::milliseconds(10))
{
	auto deadline = std::chrono::steady_clock::now() + bound;
	while (!done()) {
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		std::this_thread::sleep_for(step);
	}
	return true;
}

// Runs a cleanup at scope exit, or earlier with run(); once either way.
// An exception from the cleanup is reported as a test failure.
class ScopeExit {
public:
	explicit ScopeExit(std::function<void()> fn) : fn_(std::move(fn)) {}
	~ScopeExit() { run(); }
	ScopeExit(const ScopeExit &) = delete;
	ScopeExit &operator=(const ScopeExit &) = delete;

	void run()
	{
		std::function<void()> fn = std::move(fn_);
		fn_ = nullptr;
		if (!fn)
			return;
		try {
			fn();
		} catch (const std::exception &e) {
			ADD_FAILURE() << "cleanup failed: " << e.what();
		}
	}

private:
	std::function<void()> fn_;
};

// Walk @fd (size @size) on a worker thread.
inline std::future<seekmap::Walk> async_walk(int fd, int64_t size)
{
	return std::async(std::launch::async,
			  [fd, size] { return seekmap::walk(fd, size); });
}

// Wait at most @bound for @f; a failed expectation naming @what if it has
// not finished by then.
template <typename T>
bool AnswersWithin(std::future<T> &f, const std::string &what,
		   std::chrono::seconds bound = kAnswerBound)
{
	bool done = f.wait_for(bound) == std::future_status::ready;
	EXPECT_TRUE(done) << what << ": no answer within " << bound.count()
			  << " s (the query waits for I/O)";
	return done;
}

// The quickest of @tries lseek(@fd, 0, @whence) calls, in microseconds, and
// its answer (or -errno) in @answer. One that takes over a second ends the
// tries: a kernel whose cost is in bytes is not waited for again.
inline int64_t QuickestSeekUs(int fd, int whence, int64_t *answer,
			      int tries = 5)
{
	using Clock = std::chrono::steady_clock;
	int64_t best = INT64_MAX;
	for (int i = 0; i < tries; i++) {
		const auto t0 = Clock::now();
		*answer = seekmap::seek(fd, 0, whence);
		const int64_t us =
			std::chrono::duration_cast<std::chrono::microseconds>(
				Clock::now() - t0).count();
		best = std::min(best, us);
		if (us > 1000000)
			break;
	}
	return best;
}

// Expect a query from 0 on @big_fd to cost about what it costs on
// @small_fd (whose hole is 1024 times shorter): the cost of a query is in
// extents, not in bytes. The slack (4 times, plus 2 ms) is far below the
// factor of about 1000 of a cost per GiB: with holes of 1 TiB and 1 PiB,
// it fails wherever one step per GiB costs more than about 2 ns.
inline void ExpectSeekCostIndependentOfHoleLength(int small_fd, int big_fd,
						  int whence, int64_t small_want,
						  int64_t big_want,
						  const std::string &what)
{
	int64_t small_got = 0, big_got = 0;
	const int64_t small_us = QuickestSeekUs(small_fd, whence, &small_got);
	const int64_t big_us = QuickestSeekUs(big_fd, whence, &big_got);
	EXPECT_EQ(small_got, small_want);
	EXPECT_EQ(big_got, big_want);
	std::cout << "[   WAIT   ] " << what << ": " << small_us << " us, "
		  << "1024 times longer: " << big_us << " us" << std::endl;
	EXPECT_LT(big_us, 4 * small_us + 2000)
		<< what << ": the cost grows with the length of the hole";
}

// Write one page (4 KiB) of non-zero bytes at @off through @fd (buffered
// unless @fd is O_DIRECT).
inline void write_page(int fd, int64_t off, char byte = 'p')
{
	std::vector<char> buf(4096, byte);
	if (pwrite(fd, buf.data(), buf.size(), off) != ssize_t(buf.size()))
		fail_errno("pwrite of a page at " + std::to_string(off));
}

// Sets a kernel parameter (a file under /proc/sys or /sys) for the life of
// the object.
class ScopedSysValue {
public:
	ScopedSysValue(const std::string &path, const std::string &value)
		: path_(path)
	{
		old_ = run_output("cat " + path_);
		while (!old_.empty() && (old_.back() == '\n' || old_.back() == ' '))
			old_.pop_back();
		run_or_throw("echo " + value + " > " + path_);
	}
	~ScopedSysValue()
	{
		std::string cmd = "echo " + old_ + " > " + path_;
		if (system(cmd.c_str()) != 0)
			fprintf(stderr, "could not restore %s to %s\n",
				path_.c_str(), old_.c_str());
	}
	ScopedSysValue(const ScopedSysValue &) = delete;
	ScopedSysValue &operator=(const ScopedSysValue &) = delete;

private:
	std::string path_, old_;
};

// A file system on @dev mounted on a new directory under /tmp; unmounted
// and the directory removed on destruction.
class TempMount {
public:
	TempMount(const std::string &dev, const std::string &fstype)
	{
		char tmpl[] = "/tmp/seek-test-mnt-XXXXXX";
		if (!mkdtemp(tmpl))
			fail_errno("mkdtemp");
		dir_ = tmpl;
		if (mount(dev.c_str(), dir_.c_str(), fstype.c_str(), 0,
			  nullptr)) {
			int e = errno;
			rmdir(dir_.c_str());
			errno = e;
			fail_errno("mount " + dev + " on " + dir_);
		}
	}
	~TempMount()
	{
		// A loop device over a file in it lets go of the file as its
		// last opener closes it; allow a moment for that.
		for (int i = 0; umount(dir_.c_str()) != 0; i++) {
			if (errno != EBUSY || i == 400) {
				fprintf(stderr, "could not unmount %s: %s\n",
					dir_.c_str(), strerror(errno));
				umount2(dir_.c_str(), MNT_DETACH);
				break;
			}
			std::this_thread::sleep_for(
				std::chrono::milliseconds(50));
		}
		rmdir(dir_.c_str());
	}
	TempMount(const TempMount &) = delete;
	TempMount &operator=(const TempMount &) = delete;

	const std::string &dir() const { return dir_; }

private:
	std::string dir_;
};

// The file system mounted at @dir frozen (FIFREEZE, as fsfreeze -f) for
// the life of the object, or until thaw().
class FrozenFs {
public:
	explicit FrozenFs(const std::string &dir)
		: fd_(open_or_throw(dir, O_RDONLY | O_DIRECTORY)), dir_(dir)
	{
		if (ioctl(fd_.get(), FIFREEZE, 0))
			fail_errno("FIFREEZE " + dir_);
		frozen_ = true;
	}
	~FrozenFs() { thaw(); }
	FrozenFs(const FrozenFs &) = delete;
	FrozenFs &operator=(const FrozenFs &) = delete;

	void thaw()
	{
		if (frozen_ && ioctl(fd_.get(), FITHAW, 0))
			ADD_FAILURE() << "FITHAW " << dir_ << ": "
				      << strerror(errno);
		frozen_ = false;
	}

private:
	UniqueFd fd_;
	std::string dir_;
	bool frozen_ = false;
};

// Wait at most @bound for child @pid to end; then kill it and wait for it.
// Returns its wait status, or -1 if it had to be killed.
inline int reap_child(pid_t pid, std::chrono::seconds bound = kAnswerBound)
{
	auto deadline = std::chrono::steady_clock::now() + bound;
	int status = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (std::chrono::steady_clock::now() > deadline)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return -1;
}

} // namespace seektest
