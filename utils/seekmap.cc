// SPDX-License-Identifier: GPL-2.0
// seekmap: print the data/hole map of regular files and block devices, as
// lseek(SEEK_DATA/SEEK_HOLE) reports it.
//
// Exit status: 0 when every map was read, 1 when any PATH failed, 2 for
// a usage error.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "seek_map.h"
#include "utils/cli.h"
#include "utils/print.h"

using json = nlohmann::ordered_json;

static const char usage[] =
	"usage: seekmap [--json] [--offset=N] [--length=N] PATH...\n"
	"\n"
	"Print the data and hole extents of each regular file or block device\n"
	"PATH as lseek(SEEK_DATA/SEEK_HOLE) reports them: one line per extent\n"
	"(offset, length, type), then the data and hole totals and the number\n"
	"of lseek calls the walk took.\n"
	"\n"
	"  --offset=N  start the map at byte N (default 0)\n"
	"  --length=N  map N bytes from there (default: to the end); N takes\n"
	"              the suffixes K, M, G, T (KiB, MiB, ...; powers of 1024)\n"
	"  --json      one JSON document: an array with one object per PATH,\n"
	"              {\"path\", \"size\", \"offset\", \"length\", \"extents\":\n"
	"              [{\"offset\", \"length\", \"type\": \"data\"|\"hole\"}...],\n"
	"              \"data_bytes\", \"hole_bytes\", \"lseek_calls\"}, or\n"
	"              {\"path\", \"error\"} for a PATH that failed. A name that\n"
	"              is not UTF-8 has its bad bytes replaced by U+FFFD in\n"
	"              \"path\", and its exact bytes in \"path_bytes\" (numbers)\n"
	"  --help      this text\n"
	"\n"
	"Exit status: 0 on success, 1 if any PATH failed, 2 on usage errors.\n";

static const char short_usage[] =
	"usage: seekmap [--json] [--offset=N] [--length=N] PATH...   "
	"(--help for more)\n";

struct Row {
	int64_t offset;
	int64_t length;
	bool data;
};

struct Range {
	int64_t offset = 0;
	int64_t length = -1;	// to the end
};

// A JSON object with the name @path: valid JSON whatever its bytes.
static json json_path(const std::string &path)
{
	json j = {{"path", path}};
	try {
		(void)j.dump();
	} catch (const json::type_error &) {
		// Not UTF-8: readable in "path", exact in "path_bytes".
		j["path"] = json(path).dump(-1, ' ', false,
					    json::error_handler_t::replace);
		j["path"] = json::parse(j["path"].get<std::string>());
		std::vector<unsigned> bytes(path.begin(), path.end());
		for (unsigned &b : bytes)
			b &= 0xff;
		j["path_bytes"] = bytes;
	}
	return j;
}

static void print_table(const char *path, int64_t size, const Range &r,
			const std::vector<Row> &rows, int64_t data,
			size_t data_extents, uint64_t calls)
{
	using seekmap::human_size;
	utils::print(stdout, "{}: {}", path, human_size(size));
	if (r.offset || r.offset + r.length != size)
		utils::print(stdout, ", bytes {} to {} ({})", r.offset,
			     r.offset + r.length, human_size(r.length));
	utils::print(stdout, "\n{:>16} {:>16}  {}\n", "offset", "length",
		     "type");
	for (const Row &row : rows)
		utils::print(stdout, "{:16} {:16}  {:<4} ({})\n", row.offset,
			     row.length, row.data ? "data" : "hole",
			     human_size(row.length));
	utils::print(stdout, "data {} ({} bytes), holes {} ({} bytes), {} data "
		     "extents, {} lseek calls\n",
		     human_size(data), data, human_size(r.length - data),
		     r.length - data, data_extents, calls);
}

static json map_json(const char *path, int64_t size, const Range &r,
		     const std::vector<Row> &rows, int64_t data,
		     uint64_t calls)
{
	json j = json_path(path);
	j["size"] = size;
	j["offset"] = r.offset;
	j["length"] = r.length;
	json extents = json::array();
	for (const Row &row : rows)
		extents.push_back({{"offset", row.offset},
				   {"length", row.length},
				   {"type", row.data ? "data" : "hole"}});
	j["extents"] = std::move(extents);
	j["data_bytes"] = data;
	j["hole_bytes"] = r.length - data;
	j["lseek_calls"] = calls;
	return j;
}

// Map @path; print it as a table, or append it to @doc. An error is
// printed on stderr (and appended to @doc); returns 1 then, else 0.
static int print_map(const char *path, Range r, json *doc)
{
	auto error = [&](const std::string &msg) {
		utils::print(stderr, "seekmap: {}: {}\n", path, msg);
		if (doc) {
			json j = json_path(path);
			j["error"] = msg;
			doc->push_back(std::move(j));
		}
		return 1;
	};
	struct stat st;
	int fd = seekmap::open_file_or_blockdev(path, O_RDONLY, &st);
	if (fd == -EINVAL)
		return error(fmt::format("not a regular file or block device "
					 "({})", seekmap::file_type(st.st_mode)));
	if (fd < 0)
		return error(strerror(-fd));
	int64_t size = seekmap::fd_size(fd, st);
	if (size < 0) {
		close(fd);
		return error(fmt::format("cannot read the size: {}",
					 strerror(-size)));
	}
	if (r.offset > size) {
		close(fd);
		return error(fmt::format("offset {} is past the end ({} bytes)",
					 r.offset, size));
	}
	if (r.length < 0 || r.length > size - r.offset)
		r.length = size - r.offset;
	int64_t end = r.offset + r.length;
	seekmap::Walk w = seekmap::walk(fd, size, r.offset, end);
	close(fd);
	if (!w.error.empty()) {
		if (w.err == EINVAL && S_ISBLK(st.st_mode))
			return error("this kernel does not support "
				     "SEEK_DATA/SEEK_HOLE on block devices");
		if (w.err)
			return error(fmt::format("{}: {}", strerror(w.err),
						 w.error));
		return error("inconsistent answer: " + w.error);
	}

	// Data and holes in order.
	std::vector<Row> rows;
	int64_t pos = r.offset, data = 0;
	for (const seekmap::Extent &e : w.map) {
		if (e.start > pos)
			rows.push_back({pos, e.start - pos, false});
		rows.push_back({e.start, e.length(), true});
		data += e.length();
		pos = e.end;
	}
	if (pos < end)
		rows.push_back({pos, end - pos, false});

	if (doc)
		doc->push_back(map_json(path, size, r, rows, data, w.calls));
	else
		print_table(path, size, r, rows, data, w.map.size(), w.calls);
	return 0;
}

int main(int argc, char **argv)
{
	bool json_out = false;
	Range range;
	std::vector<std::string> paths;

	// --offset=N and --length=N: a size, as parse_size() reads it.
	auto size = [](const char *what, int64_t *to) {
		return [what, to](const std::string &arg) {
			int64_t v = seekmap::parse_size(arg.c_str());
			if (v < 0)
				throw cli::Usage(fmt::format("invalid {} '{}'",
							     what, arg));
			*to = v;
		};
	};
	try {
		cli::Parser("seekmap")
			.flag("json", [&] { json_out = true; })
			.value("offset", size("offset", &range.offset))
			.value("length", size("length", &range.length))
			.flag("h,help", [] { throw cli::Help(); })
			.parse(argc, argv).swap(paths);
	} catch (const cli::Help &) {
		fputs(usage, stdout);
		return 0;
	} catch (const cli::Usage &e) {
		utils::print(stderr, "seekmap: {}\n{}", e.what(), short_usage);
		return 2;
	}
	if (paths.empty()) {
		utils::print(stderr, "seekmap: expected a PATH\n{}", short_usage);
		return 2;
	}
	int rc = 0;
	json doc = json::array();
	for (const std::string &path : paths) {
		rc |= print_map(path.c_str(), range, json_out ? &doc : nullptr);
		fflush(stdout);
	}
	if (json_out)
		utils::print(stdout, "{}\n", doc.dump());
	if (fflush(stdout) || ferror(stdout)) {
		utils::print(stderr, "seekmap: write error on standard output\n");
		return 1;
	}
	return rc;
}
