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

// Apply an sfdisk @script to the disk open in @cxt, as sfdisk does, and
// write it.
void apply(fdisk_context *cxt, const std::string &path, const std::string &script)
{
	std::unique_ptr<fdisk_script, ScriptDeleter> dp(fdisk_new_script(cxt));
	std::unique_ptr<FILE, FileDeleter> in(
		fmemopen(const_cast<char *>(script.data()), script.size(), "r"));
	if (!dp || !in)
		fail(-ENOMEM, "script for " + path);
	if (int rc = fdisk_script_read_file(dp.get(), in.get()))
		fail(rc, "read the script\n" + script);
	if (int rc = fdisk_apply_script(cxt, dp.get()))
		fail(rc, "apply to " + path + " the script\n" + script);
	if (int rc = fdisk_write_disklabel(cxt))
		fail(rc, "write the label of " + path);
	// nosync: the target is fsync()ed, but no global sync(), which sfdisk
	// --no-tell-kernel skips too and which would wait for any suspended
	// device with dirty pages.
	if (int rc = fdisk_deassign_device(cxt, 1))
		fail(rc, "close " + path);
}

} // namespace

// Through an sfdisk script, which is what sfdisk does: the same checks and
// placement as sfdisk's (a start before the disk's first aligned block,
// say, is the caller's to choose).
void write_partition_table(const std::string &path, Label label,
			   const std::vector<Partition> &parts)
{
	auto cxt = open_disk(path);
	const char *name = label == Label::dos ? "dos" : "gpt";
	const int64_t ss = fdisk_get_sector_size(cxt.get());
	std::string script = std::string("label: ") + name + "\n";
	for (size_t i = 0; i < parts.size(); i++) {
		const Partition &p = parts[i];
		const std::string what = path + " partition " +
					 std::to_string(i + 1);
		if (p.start % ss || p.size % ss || p.size <= 0)
			fail(-EINVAL, what + ": start " + std::to_string(p.start) +
					      ", size " + std::to_string(p.size) +
					      " are not blocks of " +
					      std::to_string(ss));
		script += "start=" + std::to_string(p.start / ss) +
			  ", size=" + std::to_string(p.size / ss);
		if (!p.type.empty()) {
			std::unique_ptr<fdisk_parttype, TypeDeleter> type(
				fdisk_label_parse_parttype(
					fdisk_get_label(cxt.get(), name),
					p.type.c_str()));
			if (!type || fdisk_parttype_is_unknown(type.get()))
				fail(-EINVAL, what + ": type " + p.type);
			script += ", type=" + p.type;
		}
		script += "\n";
	}
	apply(cxt.get(), path, script);
}

void write_partition_table(const std::string &path, const std::string &script)
{
	apply(open_disk(path).get(), path, script);
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
