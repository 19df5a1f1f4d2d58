// SPDX-License-Identifier: GPL-2.0
#include "common/partitions.h"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <libfdisk/libfdisk.h>
#include <linux/fs.h>
#include <memory>
#include <sys/ioctl.h>
#include <system_error>
#include <thread>

#include "common/sys.h"

namespace common {

namespace {

[[noreturn]] void fail(int rc, const std::string &what)
{
	throw std::system_error(rc < 0 ? -rc : EINVAL, std::generic_category(),
				"libfdisk: " + what);
}

struct ScriptDeleter {
	void operator()(fdisk_script *s) const { fdisk_unref_script(s); }
};
struct FileDeleter {
	void operator()(FILE *f) const { fclose(f); }
};
struct ContextDeleter {
	void operator()(fdisk_context *c) const { fdisk_unref_context(c); }
};
struct PartitionDeleter {
	void operator()(fdisk_partition *p) const { fdisk_unref_partition(p); }
};
struct TypeDeleter {
	void operator()(fdisk_parttype *t) const { fdisk_unref_parttype(t); }
};

std::unique_ptr<fdisk_context, ContextDeleter> open_disk(const std::string &path)
{
	std::unique_ptr<fdisk_context, ContextDeleter> cxt(fdisk_new_context());
	if (!cxt)
		fail(-ENOMEM, "new context");
	if (int rc = fdisk_assign_device(cxt.get(), path.c_str(), 0))
		fail(rc, "open " + path);
	return cxt;
}

void write_and_close(fdisk_context *cxt, const std::string &path)
{
	if (int rc = fdisk_write_disklabel(cxt))
		fail(rc, "write the label of " + path);
	if (int rc = fdisk_deassign_device(cxt, 0))
		fail(rc, "close " + path);
}

} // namespace

void write_partition_table(const std::string &path, Label label,
			   const std::vector<Partition> &parts)
{
	auto cxt = open_disk(path);
	const char *name = label == Label::dos ? "dos" : "gpt";
	if (int rc = fdisk_create_disklabel(cxt.get(), name))
		fail(rc, std::string("create a ") + name + " label on " + path);
	const int64_t ss = fdisk_get_sector_size(cxt.get());
	for (size_t i = 0; i < parts.size(); i++) {
		const Partition &p = parts[i];
		const std::string what = path + " partition " +
					 std::to_string(i + 1);
		if (p.start % ss || p.size % ss || p.size <= 0)
			fail(-EINVAL, what + ": start " + std::to_string(p.start) +
					      ", size " + std::to_string(p.size) +
					      " are not blocks of " +
					      std::to_string(ss));
		std::unique_ptr<fdisk_partition, PartitionDeleter> pa(
			fdisk_new_partition());
		if (!pa)
			fail(-ENOMEM, what);
		fdisk_partition_set_partno(pa.get(), i);
		fdisk_partition_set_start(pa.get(), p.start / ss);
		fdisk_partition_set_size(pa.get(), p.size / ss);
		fdisk_partition_size_explicit(pa.get(), 1); // not aligned
		std::unique_ptr<fdisk_parttype, TypeDeleter> type;
		if (!p.type.empty()) {
			type.reset(fdisk_label_parse_parttype(
				fdisk_get_label(cxt.get(), nullptr), p.type.c_str()));
			if (!type || fdisk_parttype_is_unknown(type.get()))
				fail(-EINVAL, what + ": type " + p.type);
			fdisk_partition_set_type(pa.get(), type.get());
		}
		if (int rc = fdisk_add_partition(cxt.get(), pa.get(), nullptr))
			fail(rc, what + ": add at block " +
					 std::to_string(p.start / ss) + ", " +
					 std::to_string(p.size / ss) + " blocks");
	}
	write_and_close(cxt.get(), path);
}

void write_partition_table(const std::string &path, const std::string &script)
{
	auto cxt = open_disk(path);
	std::unique_ptr<fdisk_script, ScriptDeleter> dp(fdisk_new_script(cxt.get()));
	std::unique_ptr<FILE, FileDeleter> in(
		fmemopen(const_cast<char *>(script.data()), script.size(), "r"));
	if (!dp || !in)
		fail(-ENOMEM, "script for " + path);
	if (int rc = fdisk_script_read_file(dp.get(), in.get()))
		fail(rc, "read the script\n" + script);
	if (int rc = fdisk_apply_script(cxt.get(), dp.get()))
		fail(rc, "apply to " + path + " the script\n" + script);
	write_and_close(cxt.get(), path);
}

void reread_partitions(const std::string &path)
{
	UniqueFd fd = open_or_throw(path, O_RDONLY);
	for (int i = 0;; i++) {
		if (ioctl(fd.get(), BLKRRPART) == 0)
			return;
		if (errno != EBUSY || i == 100)
			fail_errno("BLKRRPART " + path);
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
}

} // namespace common
