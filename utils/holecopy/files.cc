// SPDX-License-Identifier: GPL-2.0
// Opening holecopy's SRC and DST.
#include <cerrno>
#include <cstring>
#include <fcntl.h>

#include "holecopy.h"

namespace holecopy {

void open_src(File &f)
{
	// Checked before it is opened: opening a FIFO would wait for a
	// writer.
	f.fd = seekmap::open_file_or_blockdev(f.path, O_RDONLY, &f.st);
	if (f.fd == -EINVAL)
		fail("{}: not a regular file or block device ({})", f.path,
		     seekmap::file_type(f.st.st_mode));
	if (f.fd < 0)
		fail("{}: {}", f.path, strerror(-f.fd));
	f.size = seekmap::fd_size(f.fd, f.st);
	if (f.size < 0)
		fail("{}: cannot read the size: {}", f.path,
		     strerror(-f.size));
}

// Open DST; a new one is created with the permission bits @mode (less the
// umask).
void open_dst(File &f, bool verify_only, mode_t mode)
{
	struct stat st;
	bool exists = stat(f.path, &st) == 0;

	if (!exists && (errno != ENOENT || verify_only))
		fail("{}: {}", f.path, strerror(errno));
	if (exists && S_ISDIR(st.st_mode))
		fail("{}: is a directory", f.path);
	if (exists && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		fail("{}: not a regular file or block device ({})", f.path,
		     seekmap::file_type(st.st_mode));

	// O_NONBLOCK: a FIFO put in its place after the stat() above must
	// not block the open (the type is checked again below).
	const int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	if (verify_only)
		f.fd = open(f.path, O_RDONLY | flags);
	else if (!exists)
		f.fd = open(f.path, O_RDWR | O_CREAT | O_EXCL | flags,
			    mode & 0777);
	else if (S_ISBLK(st.st_mode))
		// The kernel's own guard: EBUSY when the device is mounted
		// or held by device-mapper, md, or any exclusive opener.
		f.fd = open(f.path, O_RDWR | O_EXCL | flags);
	else
		f.fd = open(f.path, O_RDWR | flags);
	if (f.fd < 0 && errno == EBUSY && exists && S_ISBLK(st.st_mode)) {
		std::string mnt = mount_point(st.st_rdev);
		if (!mnt.empty())
			fail("{} is mounted (on {}); refusing to write to it",
			     f.path, mnt.c_str());
		fail("{} is busy: mounted, or held by device-mapper, md or "
		     "another exclusive opener; refusing to write to it",
		     f.path);
	}
	if (f.fd < 0)
		fail("{}: cannot {}: {}", f.path,
		     exists || verify_only ? "open" : "create",
		     strerror(errno));
	if (fstat(f.fd, &f.st) < 0)
		fail("{}: {}", f.path, strerror(errno));
	if (exists && (f.st.st_mode & S_IFMT) != (st.st_mode & S_IFMT))
		fail("{}: changed while it was being opened", f.path);
	if (fcntl(f.fd, F_SETFL, fcntl(f.fd, F_GETFL) & ~O_NONBLOCK) < 0)
		fail("{}: {}", f.path, strerror(errno));
	f.size = seekmap::fd_size(f.fd, f.st);
	if (f.size < 0)
		fail("{}: cannot read the size: {}", f.path,
		     strerror(-f.size));
}

} // namespace holecopy
