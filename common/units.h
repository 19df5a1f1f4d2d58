// SPDX-License-Identifier: GPL-2.0
// Sizes in bytes, for the tests, the stress tool and the tools: one
// definition. Sector is the block layer's 512-byte unit (dm tables, sysfs
// sizes, BLKGETSIZE), whatever the device's logical block size.
#pragma once

#include <cstdint>

namespace units {

inline constexpr int64_t KiB = 1024;
inline constexpr int64_t MiB = 1024 * KiB;
inline constexpr int64_t GiB = 1024 * MiB;
inline constexpr int64_t TiB = 1024 * GiB;
inline constexpr int64_t Sector = 512;

} // namespace units
