// SPDX-License-Identifier: GPL-2.0
// Device-mapper devices through libdevmapper (filled in by the dm work).
#pragma once
