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
#include <getopt.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "seek_map.h"

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
	printf("%s: %s", path, seekmap::human_size(size).c_str());
	if (r.offset || r.offset + r.length != size)
		printf(", bytes %lld to %lld (%s)", (long long)r.offset,
		       (long long)(r.offset + r.length),
		       seekmap::human_size(r.length).c_str());
	printf("\n%16s %16s  %s\n", "offset", "length", "type");
	for (const Row &row : rows)
		printf("%16lld %16lld  %-4s (%s)\n", (long long)row.offset,
		       (long long)row.length, row.data ? "data" : "hole",
		       seekmap::human_size(row.length).c_str());
	printf("data %s (%lld bytes), holes %s (%lld bytes), "
	       "%zu data extents, %llu lseek calls\n",
	       seekmap::human_size(data).c_str(), (long long)data,
	       seekmap::human_size(r.length - data).c_str(),
	       (long long)(r.length - data), data_extents,
	       (unsigned long long)calls);
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
		fprintf(stderr, "seekmap: %s: %s\n", path, msg.c_str());
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
		return error(std::string("not a regular file or block "
					 "device (") +
			     seekmap::file_type(st.st_mode) + ")");
	if (fd < 0)
		return error(strerror(-fd));
	int64_t size = seekmap::fd_size(fd, st);
	if (size < 0) {
		close(fd);
		return error(std::string("cannot read the size: ") +
			     strerror(-size));
	}
	if (r.offset > size) {
		close(fd);
		return error("offset " + std::to_string(r.offset) +
			     " is past the end (" + std::to_string(size) +
			     " bytes)");
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
			return error(std::string(strerror(w.err)) + ": " +
				     w.error);
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
	enum { OFFSET = 256, LENGTH };
	static const struct option longopts[] = {
		{"json", no_argument, nullptr, 'j'},
		{"offset", required_argument, nullptr, OFFSET},
		{"length", required_argument, nullptr, LENGTH},
		{"help", no_argument, nullptr, 'h'},
		{},
	};
	bool json_out = false;
	Range range;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, nullptr)) != -1) {
		switch (c) {
		case 'j':
			json_out = true;
			break;
		case OFFSET:
		case LENGTH: {
			int64_t v = seekmap::parse_size(optarg);
			if (v < 0) {
				fprintf(stderr, "seekmap: invalid %s '%s'\n%s",
					c == OFFSET ? "offset" : "length",
					optarg, short_usage);
				return 2;
			}
			(c == OFFSET ? range.offset : range.length) = v;
			break;
		}
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			if (optopt)
				fprintf(stderr, "seekmap: option -%c: %s\n%s",
					optopt, "unknown or missing argument",
					short_usage);
			else
				fprintf(stderr, "seekmap: unknown option "
					"%s\n%s", argv[optind - 1],
					short_usage);
			return 2;
		}
	}
	if (optind == argc) {
		fputs(short_usage, stderr);
		return 2;
	}
	int rc = 0;
	json doc = json::array();
	for (int i = optind; i < argc; i++) {
		rc |= print_map(argv[i], range, json_out ? &doc : nullptr);
		fflush(stdout);
	}
	if (json_out)
		printf("%s\n", doc.dump().c_str());
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "seekmap: write error on standard output\n");
		return 1;
	}
	return rc;
}
