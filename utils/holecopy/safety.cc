// SPDX-License-Identifier: GPL-2.0
// What holecopy must never write to: SRC itself (the same file, device,
// overlapping partition, or a loop device's backing file), the backing
// file of a bound loop device, a mounted device.
#include <blkid/blkid.h>
#include <climits>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <libmount/libmount.h>
#include <memory>
#include <sys/sysmacros.h>

#include "holecopy.h"

namespace holecopy {

namespace {

// A sysfs attribute without its final newline ("" if missing). Read
// whole: a loop device's backing_file may hold any byte but NUL.
std::string read_attr(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	std::string s((std::istreambuf_iterator<char>(in)),
		      std::istreambuf_iterator<char>());
	if (!s.empty() && s.back() == '\n')
		s.pop_back();
	return s;
}

// Where a block device lies: the whole disk it belongs to, its byte
// range on that disk, and for a loop device the file behind it.
struct Placement {
	dev_t disk;
	int64_t start = 0;
	int64_t end = INT64_MAX;
	bool backed = false;
	dev_t backing_dev = 0;
	ino_t backing_ino = 0;
};

std::string sysfs_dir(dev_t dev)
{
	return "/sys/dev/block/" + std::to_string(major(dev)) + ":" +
	       std::to_string(minor(dev)) + "/";
}

// The whole disk of @rdev (itself when it is one), from libblkid.
dev_t whole_disk(dev_t rdev)
{
	dev_t disk;
	if (blkid_devno_to_wholedisk(rdev, nullptr, 0, &disk) < 0)
		return rdev;
	return disk;
}

// The file a loop device @disk is bound to, by its sysfs attribute.
bool loop_backing(dev_t disk, struct stat *st)
{
	std::string backing = read_attr(sysfs_dir(disk) + "loop/backing_file");
	return !backing.empty() && stat(backing.c_str(), st) == 0;
}

Placement placement(dev_t rdev)
{
	Placement p;
	std::string dir = sysfs_dir(rdev);

	p.disk = whole_disk(rdev);
	if (p.disk != rdev) {
		std::string start = read_attr(dir + "start");
		if (!start.empty())
			p.start = strtoll(start.c_str(), nullptr, 10) * 512;
	}
	std::string size = read_attr(dir + "size");
	if (!size.empty())
		p.end = p.start + strtoll(size.c_str(), nullptr, 10) * 512;

	struct stat st;
	if (loop_backing(p.disk, &st)) {
		p.backed = true;
		p.backing_dev = st.st_dev;
		p.backing_ino = st.st_ino;
	}
	return p;
}

} // namespace

// Refuse to copy anything onto itself: the same file, the same device, two
// overlapping partitions of one disk, or a loop device and its backing file.
void check_distinct(const File &src, const File &dst)
{
	auto backs = [](const File &f, const File &loop) {
		Placement p = placement(loop.st.st_rdev);
		return p.backed && p.backing_dev == f.st.st_dev &&
		       p.backing_ino == f.st.st_ino;
	};

	if (!src.blk() && !dst.blk()) {
		if (src.st.st_dev == dst.st.st_dev &&
		    src.st.st_ino == dst.st.st_ino)
			fail("{} and {} are the same file", src.path, dst.path);
	} else if (src.blk() && dst.blk()) {
		if (src.st.st_rdev == dst.st.st_rdev)
			fail("{} and {} are the same device", src.path,
			     dst.path);
		Placement s = placement(src.st.st_rdev);
		Placement d = placement(dst.st.st_rdev);
		if (s.disk == d.disk && s.start < d.end && d.start < s.end)
			fail("{} and {} overlap on the same disk", src.path,
			     dst.path);
		if (s.disk != d.disk && s.backed && d.backed &&
		    s.backing_dev == d.backing_dev &&
		    s.backing_ino == d.backing_ino)
			fail("{} and {} are loop devices of the same file",
			     src.path, dst.path);
	} else if (dst.blk()) {
		if (backs(src, dst))
			fail("{} is a loop device backed by {}", dst.path,
			     src.path);
	} else if (backs(dst, src)) {
		fail("{} is a loop device backed by {}", src.path, dst.path);
	}
}

// Refuse to overwrite the backing file of a bound loop device: whatever
// uses the device (a mounted file system, say) would see it change.
void check_not_backing(const File &dst)
{
	DIR *dir = opendir("/sys/block");
	if (!dir)
		return;
	std::string bound;
	while (struct dirent *d = readdir(dir)) {
		if (strncmp(d->d_name, "loop", 4))
			continue;
		struct stat st;
		std::string backing = read_attr(std::string("/sys/block/") +
						d->d_name +
						"/loop/backing_file");
		if (!backing.empty() && stat(backing.c_str(), &st) == 0 &&
		    st.st_dev == dst.st.st_dev && st.st_ino == dst.st.st_ino) {
			bound = d->d_name;
			break;
		}
	}
	closedir(dir);
	if (!bound.empty())
		fail("{} is the backing file of /dev/{}; refusing to "
		     "overwrite it (detach the loop device first)", dst.path,
		     bound.c_str());
}

// The mount point of block device @rdev or of one of its partitions, or "",
// from this process's mount table as libmount reads it (it undoes the
// octal escapes of mountinfo).
std::string mount_point(dev_t rdev)
{
	std::unique_ptr<libmnt_table, decltype(&mnt_unref_table)> tb(
		mnt_new_table_from_file("/proc/self/mountinfo"),
		mnt_unref_table);
	if (!tb)
		return "";
	std::unique_ptr<libmnt_iter, decltype(&mnt_free_iter)> it(
		mnt_new_iter(MNT_ITER_FORWARD), mnt_free_iter);
	libmnt_fs *fs;
	while (it && mnt_table_next_fs(tb.get(), it.get(), &fs) == 0) {
		dev_t dev = mnt_fs_get_devno(fs);
		if (major(dev) && (dev == rdev || whole_disk(dev) == rdev)) {
			const char *target = mnt_fs_get_target(fs);
			return target ? target : "?";
		}
	}
	return "";
}

} // namespace holecopy
