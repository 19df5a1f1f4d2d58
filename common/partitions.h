// SPDX-License-Identifier: GPL-2.0
// Partition tables through libfdisk (the library sfdisk and fdisk are
// made of): write a new msdos or GPT label with partitions given by start
// and size, and ask the kernel to read a disk's table again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace common {

enum class Label { dos, gpt };

// A partition; start and size in bytes, whole logical blocks of the disk
// (512 bytes for a file). @type: the label's code for it ("83", "c12a7328-
// f81f-11d2-ba4b-00a0c93ec93b", ...), one it knows; empty for its Linux
// type.
struct Partition {
	Partition(int64_t start, int64_t size, const std::string &type = "")
		: start(start), size(size), type(type)
	{
	}
	int64_t start, size;
	std::string type;
};

// Write a new @label holding @parts, numbered from 1 in order, into the
// file or block device @path, as sfdisk --no-reread --no-tell-kernel
// does (libfdisk applies the sfdisk script of it: sfdisk's checks and
// placement; sizes are not aligned): the kernel is not told (see
// reread_partitions()). Throws std::system_error with libfdisk's errno
// (EINVAL for a start or size that is not whole blocks, or an unknown
// type).
void write_partition_table(const std::string &path, Label label,
			   const std::vector<Partition> &parts);

// The same from an sfdisk script ("label: gpt\nstart=2048, size=8192\n"),
// which libfdisk reads as sfdisk does.
void write_partition_table(const std::string &path, const std::string &script);

// BLKRRPART on the disk @path (EBUSY, from a scan still running, retried
// for a second): its partitions are the ones its table holds now.
void reread_partitions(const std::string &path);

} // namespace common
