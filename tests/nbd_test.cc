// SPDX-License-Identifier: GPL-2.0
// Real clients of the series: nbdkit's file plugin serves a thin volume and
// asks it for extents with SEEK_DATA/SEEK_HOLE. nbdinfo --map must report
// holes exactly where thin_dump says the volume is unprovisioned, and
// nbdcopy, with its own zero detection off, must make an identical copy
// that is sparse exactly where the volume is.
#include "thin_fixtures.h"

namespace seektest {
namespace {

// Run the shell command @client next to a captive, read-only nbdkit that
// serves @dev with the file plugin over a Unix socket ($uri); its output.
std::string with_nbdkit(const std::string &dev, const std::string &client)
{
	return run_output("nbdkit -r -U - file " + dev + " --run '" + client +
			  "'");
}

// A 64 MiB thin volume with runs, partial blocks and a block at the end.
void fill(ThinDevice &thin)
{
	const std::pair<int64_t, int64_t> writes[] = {
		{0, 64 * KiB}, {1 * MiB + 4 * KiB, 200 * KiB},
		{20 * MiB, 3 * MiB}, {40 * MiB + 60 * KiB, 8 * KiB},
		{64 * MiB - 64 * KiB, 64 * KiB}};
	uint32_t seed = 1;
	for (auto [off, len] : writes)
		thin.write(off, len, seed++);
}

class NbdClient : public DeviceTest {};

TEST_F(NbdClient, NbdinfoMapHasHolesExactlyWhereTheThinVolumeHas)
{
	ThinPool pool(64 * KiB);
	ThinDevice thin(pool, 0, 64 * MiB);
	fill(thin);
	ExtentMap want = thin.provisioned();
	ASSERT_EQ(want.size(), 5u) << seekmap::to_string(want);
	std::string out = with_nbdkit(thin.dm().path(), "nbdinfo --map \"$uri\"");
	EXPECT_EQ(nbdinfo_map_data(out), want) << out;
}

// nbdcopy finds zeros itself unless told not to (-S 0): then only the
// server's extents, the kernel's map, keep the copy sparse. With requests
// of one pool block, each data request is one provisioned block, so the
// copy's map is the volume's provisioned map exactly; without the
// kernel's map (an unpatched kernel, where nbdkit turns extents off) every
// byte is written and the copy is all data.
TEST_F(NbdClient, NbdcopyMakesAnIdenticalSparseCopy)
{
	const int64_t bs = 64 * KiB;
	ThinPool pool(bs);
	ThinDevice thin(pool, 0, 64 * MiB);
	fill(thin);
	ExtentMap provisioned = thin.provisioned();
	SparseFile copy(0);
	with_nbdkit(thin.dm().path(), "nbdcopy -S 0 --request-size=" +
		    std::to_string(bs) + " \"$uri\" " + copy.path());
	EXPECT_EQ(copy.size(), thin.size());
	run_or_throw("cmp " + thin.dm().path() + " " + copy.path());
	ExtentMap got = copy.map();
	EXPECT_EQ(got, provisioned)
		<< "copy " << seekmap::to_string(got) << "\nvolume "
		<< seekmap::to_string(provisioned);
}

} // namespace
} // namespace seektest
