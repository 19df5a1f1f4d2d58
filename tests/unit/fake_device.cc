// SPDX-License-Identifier: GPL-2.0
#include "fake_device.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace unittest {
namespace {

struct State {
	FakeAnswers answers;
	int64_t size;
	uint64_t queries = 0;
	int64_t max_query = -1;
	int vanished = 0;
};

std::mutex lock;
std::map<int, State> fakes; // by descriptor

off_t real_lseek(int fd, off_t off, int whence)
{
	return syscall(SYS_lseek, fd, off, whence);
}

// The answer of @s to (@off, @whence), or -errno.
int64_t answer(State &s, int64_t off, int whence)
{
	const FakeAnswers &a = s.answers;
	// A walker that never ends (it takes a bad answer for progress) gets
	// an error instead of looping on.
	if (s.queries > 100000)
		return -EIO;
	if (a.unsupported)
		return -EINVAL;
	if (off < 0 || off >= s.size)
		return -ENXIO;
	if (off == a.bad_at)
		return off > 0 ? off - 1 : s.size + 1;
	if (whence == SEEK_HOLE && off == a.vanish_at &&
	    s.vanished < a.vanish_times) {
		s.vanished++;
		return off;
	}
	for (const Extent &e : a.map) {
		if (e.end <= off)
			continue;
		if (whence == SEEK_DATA)
			return std::max(e.start, off);
		if (e.start > off)
			return off; // in a hole
		if (a.block > 0)
			return std::min(e.end, (off / a.block + 1) * a.block);
		return e.end;
	}
	return whence == SEEK_DATA ? -ENXIO : off;
}

} // namespace

int tmpfs_file(int64_t size, const ExtentMap &data)
{
	int fd = memfd_create("unit-test-device", MFD_CLOEXEC);
	if (fd < 0)
		throw std::system_error(errno, std::generic_category(),
					"memfd_create");
	if (ftruncate(fd, size))
		throw std::system_error(errno, std::generic_category(),
					"ftruncate");
	for (const Extent &e : data) {
		std::vector<unsigned char> buf(e.length());
		for (size_t i = 0; i < buf.size(); i++)
			buf[i] = 1 + (e.start + i) % 251;
		if (pwrite(fd, buf.data(), buf.size(), e.start) !=
		    ssize_t(buf.size()))
			throw std::system_error(errno, std::generic_category(),
						"pwrite");
	}
	return fd;
}

FakeDevice::FakeDevice(int64_t size, const ExtentMap &holds,
		       FakeAnswers answers)
	: fd_(tmpfs_file(size, holds)), size_(size)
{
	answers.map = seekmap::normalize(answers.map);
	std::lock_guard<std::mutex> g(lock);
	fakes[fd_] = State{answers, size};
}

FakeDevice::~FakeDevice()
{
	{
		std::lock_guard<std::mutex> g(lock);
		fakes.erase(fd_);
	}
	close(fd_);
}

uint64_t FakeDevice::queries() const
{
	std::lock_guard<std::mutex> g(lock);
	return fakes.at(fd_).queries;
}

int64_t FakeDevice::max_query() const
{
	std::lock_guard<std::mutex> g(lock);
	return fakes.at(fd_).max_query;
}

} // namespace unittest

// Every lseek() of the unit test binary (utils/seek_map.cc and
// tests/fixtures.cc are linked into it) comes here.
extern "C" off_t lseek(int fd, off_t off, int whence) noexcept
{
	using namespace unittest;
	if (whence == SEEK_DATA || whence == SEEK_HOLE) {
		std::lock_guard<std::mutex> g(lock);
		auto it = fakes.find(fd);
		if (it != fakes.end()) {
			State &s = it->second;
			s.queries++;
			s.max_query = std::max<int64_t>(s.max_query, off);
			int64_t r = answer(s, off, whence);
			if (r < 0) {
				errno = -r;
				return -1;
			}
			if (!s.answers.keep_position &&
			    real_lseek(fd, r, SEEK_SET) < 0)
				return -1;
			return r;
		}
	}
	return real_lseek(fd, off, whence);
}

extern "C" off_t lseek64(int fd, off_t off, int whence) noexcept
{
	return lseek(fd, off, whence);
}
