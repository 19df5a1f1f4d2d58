// SPDX-License-Identifier: GPL-2.0
// loop answers SEEK_DATA/SEEK_HOLE from its backing file without opening a
// file per query. A query that opened one would fail wherever opening a
// file fails (ENFILE, an LSM denial) and silently answer "all data".
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/units.h"
#include "fixtures.h"
#include "liveness.h"

namespace seektest {
namespace {

using namespace units;

// Sets /proc/sys/fs/file-max for the life of the object.
class FileMax {
public:
	explicit FileMax(const std::string &value)
	{
		std::ifstream in(path_);
		std::getline(in, old_);
		if (old_.empty())
			throw std::runtime_error("cannot read " + path_);
		write(value);
	}
	~FileMax()
	{
		try {
			write(old_);
		} catch (...) {
			fprintf(stderr, "could not restore %s to %s\n",
				path_.c_str(), old_.c_str());
		}
	}

private:
	void write(const std::string &value)
	{
		std::ofstream out(path_);
		out << value << "\n";
		out.close();
		if (!out)
			throw std::runtime_error("cannot write " + path_);
	}

	const std::string path_ = "/proc/sys/fs/file-max";
	std::string old_;
};

// Drop CAP_SYS_ADMIN from the effective set of the calling thread: it is
// what lets root open files past fs.file-max.
bool drop_sys_admin()
{
	__user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &hdr, data))
		return false;
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &=
		~CAP_TO_MASK(CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data) == 0;
}

class LoopSeekFile : public DeviceTest {};

// With the system's file table full, nobody without CAP_SYS_ADMIN can open
// a file. The map of a loop device must still be the backing file's map.
TEST_F(LoopSeekFile, AnswersWhenNoFileCanBeOpened)
{
	SparseFile f(8 * MiB);
	f.write(1 * MiB, 64 * KiB);
	f.write(5 * MiB, 4 * KiB);
	LoopDevice loop(f.path());
	const ExtentMap want = f.map();
	ASSERT_EQ(want.size(), 2u);

	pid_t pid;
	{
		FileMax full("1");
		pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0) {
			if (!drop_sys_admin()) {
				perror("capset");
				_exit(3);
			}
			// The file table is full for us now: prove it.
			int fd = open("/proc/self/status", O_RDONLY);
			if (fd >= 0 || errno != ENFILE) {
				fprintf(stderr, "open did not fail with ENFILE\n");
				_exit(4);
			}
			seekmap::Walk w = seekmap::walk(loop.fd(), loop.size());
			if (!w.error.empty()) {
				fprintf(stderr, "walk: %s\n", w.error.c_str());
				_exit(2);
			}
			if (w.map != want) {
				fprintf(stderr, "loop map %s, backing file map %s\n",
					seekmap::to_string(w.map).c_str(),
					seekmap::to_string(want).c_str());
				_exit(1);
			}
			_exit(0);
		}
		int status = reap_child(pid);
		ASSERT_TRUE(status != -1 && WIFEXITED(status))
			<< "child status " << status << " (-1: killed after "
			<< kAnswerBound.count() << " s)";
		EXPECT_EQ(WEXITSTATUS(status), 0)
			<< "1: the map differs (all data: a query that opened a "
			   "file failed), 2: a malformed answer, 3/4: setup";
	}
	// And with the limit back, as before.
	EXPECT_TRUE(MapIs(loop.fd(), loop.size(), want));
}

} // namespace
} // namespace seektest
