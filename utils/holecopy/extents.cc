// SPDX-License-Identifier: GPL-2.0
// The data extents of holecopy's SRC, for copy and verify alike.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "holecopy.h"

namespace holecopy {

seekmap::Extent Extents::next(int64_t off, void (*on_unsupported)(const File &))
{
	seekmap::Extent e = {off, limit_};
	if (!seek_)
		return e;
	int r = seekmap::next_data(src_.fd, src_.size, off, &e, calls_);
	if (r == -EINVAL && off == 0) {
		seek_ = false;
		if (on_unsupported)
			on_unsupported(src_);
		return {off, limit_};
	}
	if (r == -ERANGE)
		fail("{}: lseek(SEEK_DATA/SEEK_HOLE) from offset {} answered "
		     "outside [{}, {}]", src_.path, off, off, src_.size);
	if (r < 0)
		fail("{}: lseek(SEEK_DATA/SEEK_HOLE) from offset {}: {}",
		     src_.path, off, strerror(-r));
	if (r == 0)
		return {limit_, limit_};
	return {std::min(e.start, limit_), std::min(e.end, limit_)};
}

} // namespace holecopy
