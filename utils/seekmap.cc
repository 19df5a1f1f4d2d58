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
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "seek_map.h"

static const char usage[] =
	"usage: seekmap [--json] PATH...\n"
	"\n"
	"Print the data and hole extents of each regular file or block device\n"
	"PATH as lseek(SEEK_DATA/SEEK_HOLE) reports them: one line per extent\n"
	"(offset, length, type), then the data and hole totals and the number\n"
	"of lseek calls the walk took.\n"
	"\n"
	"  --json   one JSON object per PATH and line instead of the table:\n"
	"           {\"path\", \"size\", \"extents\": [{\"offset\",\n"
	"           \"length\", \"type\": \"data\"|\"hole\"}...],\n"
	"           \"data_bytes\", \"hole_bytes\", \"lseek_calls\"}\n"
	"  --help   this text\n"
	"\n"
	"Exit status: 0 on success, 1 if any PATH failed, 2 on usage errors.\n";

static const char short_usage[] =
	"usage: seekmap [--json] PATH...   (--help for more)\n";

struct Row {
	int64_t offset;
	int64_t length;
	bool data;
};

// JSON string literal for @s: quotes, backslashes and control characters
// escaped; other bytes are passed through (paths are not always UTF-8,
// but they are on every system this runs on).
static std::string json_string(const std::string &s)
{
	std::string out = "\"";
	for (unsigned char c : s) {
		switch (c) {
		case '"':
			out += "\\\"";
			break;
		case '\\':
			out += "\\\\";
			break;
		case '\n':
			out += "\\n";
			break;
		case '\t':
			out += "\\t";
			break;
		case '\r':
			out += "\\r";
			break;
		default:
			if (c < 0x20) {
				char buf[8];
				snprintf(buf, sizeof(buf), "\\u%04x", c);
				out += buf;
			} else {
				out += c;
			}
		}
	}
	return out + "\"";
}

static void print_table(const char *path, int64_t size,
			const std::vector<Row> &rows, int64_t data,
			size_t data_extents, uint64_t calls)
{
	printf("%s: %s\n", path, seekmap::human_size(size).c_str());
	printf("%16s %16s  %s\n", "offset", "length", "type");
	for (const Row &r : rows)
		printf("%16lld %16lld  %-4s (%s)\n", (long long)r.offset,
		       (long long)r.length, r.data ? "data" : "hole",
		       seekmap::human_size(r.length).c_str());
	printf("data %s (%lld bytes), holes %s (%lld bytes), "
	       "%zu data extents, %llu lseek calls\n",
	       seekmap::human_size(data).c_str(), (long long)data,
	       seekmap::human_size(size - data).c_str(),
	       (long long)(size - data), data_extents,
	       (unsigned long long)calls);
}

static void print_json(const char *path, int64_t size,
		       const std::vector<Row> &rows, int64_t data,
		       uint64_t calls)
{
	printf("{\"path\":%s,\"size\":%lld,\"extents\":[",
	       json_string(path).c_str(), (long long)size);
	for (size_t i = 0; i < rows.size(); i++)
		printf("%s{\"offset\":%lld,\"length\":%lld,\"type\":\"%s\"}",
		       i ? "," : "", (long long)rows[i].offset,
		       (long long)rows[i].length,
		       rows[i].data ? "data" : "hole");
	printf("],\"data_bytes\":%lld,\"hole_bytes\":%lld,"
	       "\"lseek_calls\":%llu}\n",
	       (long long)data, (long long)(size - data),
	       (unsigned long long)calls);
}

static int print_map(const char *path, bool json)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "seekmap: %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "seekmap: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	int64_t size = seekmap::fd_size(fd, st);
	if (size < 0) {
		if (size == -EINVAL)
			fprintf(stderr, "seekmap: %s: not a regular file or "
				"block device\n", path);
		else
			fprintf(stderr, "seekmap: %s: cannot read the size: "
				"%s\n", path, strerror(-size));
		close(fd);
		return 1;
	}
	seekmap::Walk w = seekmap::walk(fd, size);
	close(fd);
	if (!w.error.empty()) {
		if (w.err == EINVAL && S_ISBLK(st.st_mode))
			fprintf(stderr, "seekmap: %s: this kernel does not "
				"support SEEK_DATA/SEEK_HOLE on block "
				"devices\n", path);
		else if (w.err)
			fprintf(stderr, "seekmap: %s: %s: %s\n", path,
				strerror(w.err), w.error.c_str());
		else
			fprintf(stderr, "seekmap: %s: inconsistent answer: "
				"%s\n", path, w.error.c_str());
		return 1;
	}

	// Data and holes in order.
	std::vector<Row> rows;
	int64_t pos = 0, data = 0;
	for (const seekmap::Extent &e : w.map) {
		if (e.start > pos)
			rows.push_back({pos, e.start - pos, false});
		rows.push_back({e.start, e.length(), true});
		data += e.length();
		pos = e.end;
	}
	if (pos < size)
		rows.push_back({pos, size - pos, false});

	if (json)
		print_json(path, size, rows, data, w.calls);
	else
		print_table(path, size, rows, data, w.map.size(), w.calls);
	return 0;
}

int main(int argc, char **argv)
{
	bool json = false, options = true;
	std::vector<const char *> paths;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (options && a[0] == '-' && a[1]) {
			if (!strcmp(a, "--")) {
				options = false;
			} else if (!strcmp(a, "--json")) {
				json = true;
			} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
				fputs(usage, stdout);
				return 0;
			} else {
				fprintf(stderr, "seekmap: unknown option "
					"%s\n%s", a, short_usage);
				return 2;
			}
		} else {
			paths.push_back(a);
		}
	}
	if (paths.empty()) {
		fputs(short_usage, stderr);
		return 2;
	}
	int rc = 0;
	for (const char *p : paths) {
		rc |= print_map(p, json);
		fflush(stdout);
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "seekmap: write error on standard output\n");
		return 1;
	}
	return rc;
}
