// SPDX-License-Identifier: GPL-2.0
// Partition tables through libfdisk (filled in by the partitions work).
#pragma once
