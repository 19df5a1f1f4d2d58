// SPDX-License-Identifier: GPL-2.0
/*
 * lseek(SEEK_DATA) and lseek(SEEK_HOLE) on block devices.
 *
 * A loop device over a sparse tmpfs file must report the holes of that file,
 * translated by lo_offset and limited to the size of the device, and a
 * partition must report the holes of its own range only, in its own
 * coordinates. The ground truth is the backing file's own SEEK_DATA and
 * SEEK_HOLE map. Every test runs in a private mount namespace with its own
 * tmpfs on /tmp, and binds its loop device with LO_FLAGS_AUTOCLEAR so that
 * nothing is left behind even if the test dies.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>
#include <linux/loop.h>

#include "../kselftest_harness.h"

#define UNIT		65536	/* layout granularity, at least the page size */
#define U(n)		((off_t)(n) * UNIT)
#define MIB		((off_t)1 << 20)
#define MAX_EXTENTS	64
#define MNT		"/tmp"
#define BACKING		MNT "/seek_hole_data.img"
#define BACKING_POS	12345	/* position of the fd given to LOOP_CONFIGURE */
#define WAIT_MS		5000
#define PROBE_STRIDE	4093	/* prime, to hit many alignments */

struct extent {
	off_t start;
	off_t end;
};

/* Data extents, sorted, disjoint and not adjacent. */
struct map {
	int nr;
	struct extent ext[MAX_EXTENTS];
};

struct dev {
	int ref_fd;		/* our own view of the backing file */
	int cfg_fd;		/* the fd handed to LOOP_CONFIGURE */
	int loop_fd;
	int loop_nr;
	char loop_path[32];
	off_t file_size;
	off_t size;		/* size of the loop device */
	bool mounted;
	bool created;
};

static void dev_setup(struct __test_metadata *_metadata, struct dev *d)
{
	d->ref_fd = -1;
	d->cfg_fd = -1;
	d->loop_fd = -1;
	d->mounted = false;
	d->created = false;

	if (geteuid())
		SKIP(return, "must be run as root");
	if (access("/dev/loop-control", F_OK))
		SKIP(return, "no /dev/loop-control (CONFIG_BLK_DEV_LOOP)");

	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("seek_hole_data", MNT, "tmpfs", MS_NOSUID | MS_NODEV,
			   "size=32m,huge=never,mode=0700"));
	d->mounted = true;
}

static void dev_teardown(struct dev *d)
{
	if (d->loop_fd >= 0) {
		ioctl(d->loop_fd, LOOP_CLR_FD);
		close(d->loop_fd);
	}
	if (d->cfg_fd >= 0)
		close(d->cfg_fd);
	if (d->ref_fd >= 0)
		close(d->ref_fd);
	if (d->created)
		unlink(BACKING);
	if (d->mounted)
		umount2(MNT, MNT_DETACH);
}

static void log_map(struct __test_metadata *_metadata, const char *what,
		    const struct map *m)
{
	int i;

	if (!m->nr)
		TH_LOG("%s: no data", what);
	for (i = 0; i < m->nr; i++)
		TH_LOG("%s: data [%lld, %lld)", what,
		       (long long)m->ext[i].start, (long long)m->ext[i].end);
}

static bool maps_match(struct __test_metadata *_metadata,
		       const char *want_name, const struct map *want,
		       const char *got_name, const struct map *got)
{
	if (want->nr == got->nr &&
	    !memcmp(want->ext, got->ext, want->nr * sizeof(want->ext[0])))
		return true;
	log_map(_metadata, want_name, want);
	log_map(_metadata, got_name, got);
	return false;
}

static off_t seek_errno(int fd, off_t off, int whence)
{
	off_t ret = lseek(fd, off, whence);

	return ret < 0 ? -errno : ret;
}

/*
 * Walk the data extents of @fd in [@base, @base + @len) with SEEK_DATA and
 * SEEK_HOLE, in coordinates relative to @base. Every answer must go forward
 * and move the file position to it, and no hole may also be data. A device
 * (@dev) must answer within its size @len; a file may answer past it.
 */
static void walk_map(struct __test_metadata *_metadata, int fd, off_t base,
		     off_t len, struct map *m, bool dev)
{
	off_t end = base + len, pos = base, data, hole;

	m->nr = 0;
	while (pos < end) {
		data = seek_errno(fd, pos, SEEK_DATA);
		if (data == -ENXIO)
			break;
		ASSERT_LE(0, data) TH_LOG("SEEK_DATA at %lld: %s",
					  (long long)pos, strerror(-data));
		/* After the first extent, pos is a hole. */
		ASSERT_LE(pos + (m->nr > 0), data)
			TH_LOG("SEEK_DATA at %lld", (long long)pos);
		ASSERT_EQ(data, lseek(fd, 0, SEEK_CUR));
		if (dev)
			ASSERT_LT(data, end);
		if (data >= end)
			break;
		hole = seek_errno(fd, data, SEEK_HOLE);
		ASSERT_LT(data, hole) TH_LOG("SEEK_HOLE at %lld: %s",
					     (long long)data,
					     strerror(hole < 0 ? -hole : 0));
		ASSERT_EQ(hole, lseek(fd, 0, SEEK_CUR));
		if (dev)
			ASSERT_LE(hole, end);
		if (hole > end)
			hole = end;
		ASSERT_GT(MAX_EXTENTS, m->nr);
		m->ext[m->nr].start = data - base;
		m->ext[m->nr].end = hole - base;
		m->nr++;
		pos = hole;
	}
}

/* The answer @m gives for @off, or -ENXIO; the end is a hole. */
static off_t map_seek(const struct map *m, off_t off, int whence)
{
	int i;

	for (i = 0; i < m->nr; i++) {
		if (off < m->ext[i].start)
			return whence == SEEK_DATA ? m->ext[i].start : off;
		if (off < m->ext[i].end)
			return whence == SEEK_DATA ? off : m->ext[i].end;
	}
	return whence == SEEK_DATA ? -ENXIO : off;
}

/* @fd must answer as @m at @off, and move its position only on success. */
static void probe(struct __test_metadata *_metadata, int fd,
		  const struct map *m, off_t size, off_t off, int *bad)
{
	const int whence[] = { SEEK_DATA, SEEK_HOLE };
	off_t before, want, got, pos;
	unsigned int i;

	for (i = 0; off >= 0 && off < size && i < ARRAY_SIZE(whence); i++) {
		before = lseek(fd, 0, SEEK_CUR);
		want = map_seek(m, off, whence[i]);
		got = seek_errno(fd, off, whence[i]);
		pos = lseek(fd, 0, SEEK_CUR);
		if (got == want && pos == (got < 0 ? before : got))
			continue;
		if ((*bad)++ < 8)
			TH_LOG("lseek(%lld, %s) = %lld at %lld, want %lld at %lld",
			       (long long)off,
			       i ? "SEEK_HOLE" : "SEEK_DATA",
			       (long long)got, (long long)pos, (long long)want,
			       (long long)(want < 0 ? before : want));
	}
}

/* Compare single answers of @fd with @m: a stride, and around every edge. */
static void probe_all(struct __test_metadata *_metadata, int fd,
		      const struct map *m, off_t size)
{
	int bad = 0, i, delta;
	off_t off;

	for (off = 0; off < size; off += PROBE_STRIDE)
		probe(_metadata, fd, m, size, off, &bad);
	for (i = 0; i < m->nr; i++) {
		for (delta = -1; delta <= 1; delta++) {
			probe(_metadata, fd, m, size, m->ext[i].start + delta,
			      &bad);
			probe(_metadata, fd, m, size, m->ext[i].end + delta,
			      &bad);
		}
	}
	probe(_metadata, fd, m, size, size - 1, &bad);
	EXPECT_EQ(0, bad) TH_LOG("%d answers differ from the backing file", bad);
}

/*
 * The map of @fd, of size @size, must be the map of the backing file from
 * @base on, clamped to @size; return it in @got.
 */
static void check_map(struct __test_metadata *_metadata, struct dev *d,
		      off_t base, int fd, off_t size, struct map *got)
{
	struct map want;

	walk_map(_metadata, d->ref_fd, base, size, &want, false);
	walk_map(_metadata, fd, 0, size, got, true);
	EXPECT_TRUE(maps_match(_metadata, "backing file", &want, "device", got))
		TH_LOG("the device map differs from the backing file map");
	probe_all(_metadata, fd, &want, size);
}

static void expect_zeros(struct __test_metadata *_metadata, int fd,
			 off_t start, off_t end)
{
	static char buf[UNIT];
	ssize_t n, i;

	while (start < end) {
		n = end - start < UNIT ? end - start : UNIT;
		ASSERT_EQ(n, pread(fd, buf, n, start));
		for (i = 0; i < n && !buf[i]; i++)
			;
		ASSERT_EQ(n, i) TH_LOG("hole reads non-zero at %lld",
				       (long long)(start + i));
		start += n;
	}
}

/* Every range of [0, @size) outside of the data of @m reads as zeros. */
static void expect_holes_zero(struct __test_metadata *_metadata, int fd,
			      const struct map *m, off_t size)
{
	off_t pos = 0;
	int i;

	for (i = 0; i < m->nr; i++) {
		expect_zeros(_metadata, fd, pos, m->ext[i].start);
		pos = m->ext[i].end;
	}
	expect_zeros(_metadata, fd, pos, size);
}

/* Create the sparse backing file with data in @data and nowhere else. */
static void make_backing(struct __test_metadata *_metadata, struct dev *d,
			 const struct extent *data, int nr, off_t file_size)
{
	static char buf[UNIT];
	struct map want = { .nr = nr }, got;
	off_t off;
	int i;

	d->cfg_fd = open(BACKING, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, d->cfg_fd);
	d->created = true;
	d->file_size = file_size;
	ASSERT_EQ(0, ftruncate(d->cfg_fd, file_size));
	memset(buf, 0xa5, sizeof(buf));
	for (i = 0; i < nr; i++) {
		want.ext[i] = data[i];
		for (off = data[i].start; off < data[i].end; off += UNIT)
			ASSERT_EQ(UNIT, pwrite(d->cfg_fd, buf, UNIT, off));
	}
	d->ref_fd = open(BACKING, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, d->ref_fd);

	walk_map(_metadata, d->ref_fd, 0, file_size, &got, false);
	ASSERT_TRUE(maps_match(_metadata, "layout", &want, "backing file", &got))
		TH_LOG("the backing file system does not report its holes");
}

static int wait_open(const char *path, int flags)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	int fd, i;

	for (i = 0; i < WAIT_MS / 10; i++) {
		fd = open(path, flags | O_CLOEXEC);
		if (fd >= 0 || (errno != ENOENT && errno != ENXIO))
			return fd;
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* Bind a free loop device to the backing file. */
static void attach(struct __test_metadata *_metadata, struct dev *d,
		   off_t offset, off_t sizelimit, __u32 flags)
{
	struct loop_config cfg = {
		.fd = d->cfg_fd,
		.info.lo_offset = offset,
		.info.lo_sizelimit = sizelimit,
		.info.lo_flags = LO_FLAGS_AUTOCLEAR | flags,
	};
	off_t size = d->file_size - offset;
	int ctl, tries, err = 0;

	ASSERT_EQ(BACKING_POS, lseek(d->cfg_fd, BACKING_POS, SEEK_SET));
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ctl);
	for (tries = 0; tries < 10 && d->loop_fd < 0; tries++) {
		d->loop_nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (d->loop_nr < 0) {
			err = errno;
			break;
		}
		snprintf(d->loop_path, sizeof(d->loop_path), "/dev/loop%d",
			 d->loop_nr);
		d->loop_fd = wait_open(d->loop_path, O_RDWR);
		if (d->loop_fd < 0) {
			err = errno;
			break;
		}
		if (!ioctl(d->loop_fd, LOOP_CONFIGURE, &cfg))
			break;
		err = errno;
		close(d->loop_fd);
		d->loop_fd = -1;
		if (err != EBUSY)
			break;
	}
	close(ctl);
	ASSERT_LE(0, d->loop_fd)
		TH_LOG("cannot bind a loop device: %s", strerror(err));

	if (sizelimit && sizelimit < size)
		size = sizelimit;
	size &= ~(off_t)511;
	d->size = lseek(d->loop_fd, 0, SEEK_END);
	ASSERT_EQ(size, d->size);
	ASSERT_EQ(0, lseek(d->loop_fd, 0, SEEK_SET));
}

/* Fail, loudly, on a kernel without SEEK_DATA/SEEK_HOLE for block devices. */
static void require_seek(struct __test_metadata *_metadata, int fd)
{
	off_t ret = lseek(fd, 0, SEEK_DATA);
	int err = errno;

	if (ret >= 0)
		return;
	ASSERT_NE(EINVAL, err)
		TH_LOG("no SEEK_DATA/SEEK_HOLE for block devices in this kernel");
	ASSERT_EQ(ENXIO, err) TH_LOG("SEEK_DATA: %s", strerror(err));
}

static const struct extent data_at_ends[] = {
	{ U(0), U(2) }, { U(10), U(11) }, { U(30), U(32) },
};

static const struct extent holes_at_ends[] = {
	{ U(3), U(4) }, { U(12), U(14) }, { U(20), U(21) },
};

static const struct extent no_holes[] = {
	{ U(0), U(32) },
};

static const struct extent mixed[] = {
	{ U(0), U(2) }, { U(4), U(5) }, { U(7), U(10) },
	{ U(15), U(16) }, { U(20), U(22) }, { U(31), U(32) },
};

FIXTURE(loopdev) {
	struct dev d;
};

FIXTURE_VARIANT(loopdev) {
	const struct extent *data;
	int nr;
	off_t offset;
	off_t sizelimit;
};

#define LAYOUT(x)	.data = x, .nr = ARRAY_SIZE(x)

FIXTURE_VARIANT_ADD(loopdev, data_at_ends) { LAYOUT(data_at_ends) };
FIXTURE_VARIANT_ADD(loopdev, holes_at_ends) { LAYOUT(holes_at_ends) };
FIXTURE_VARIANT_ADD(loopdev, no_holes) { LAYOUT(no_holes) };
FIXTURE_VARIANT_ADD(loopdev, all_hole) { .data = NULL, .nr = 0 };
FIXTURE_VARIANT_ADD(loopdev, offset_1536) {
	LAYOUT(mixed), .offset = 3 * 512,
};

FIXTURE_VARIANT_ADD(loopdev, offset_1000) {
	LAYOUT(mixed), .offset = 1000,
};

FIXTURE_VARIANT_ADD(loopdev, offset_in_hole) {
	LAYOUT(mixed), .offset = U(2) + 512,
};

FIXTURE_VARIANT_ADD(loopdev, sizelimit_in_data) {
	LAYOUT(mixed), .sizelimit = U(8) + 700,
};

FIXTURE_VARIANT_ADD(loopdev, offset_and_sizelimit) {
	LAYOUT(mixed), .offset = 1000, .sizelimit = U(16),
};

FIXTURE_SETUP(loopdev)
{
	dev_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN(loopdev)
{
	dev_teardown(&self->d);
}

static void loopdev_bind(struct __test_metadata *_metadata, struct dev *d,
			 const FIXTURE_VARIANT(loopdev) *variant)
{
	make_backing(_metadata, d, variant->data, variant->nr, U(32));
	attach(_metadata, d, variant->offset, variant->sizelimit, 0);
	require_seek(_metadata, d->loop_fd);
}

TEST_F(loopdev, map)
{
	struct map got;

	loopdev_bind(_metadata, &self->d, variant);
	check_map(_metadata, &self->d, variant->offset, self->d.loop_fd,
		  self->d.size, &got);
}

TEST_F(loopdev, errors)
{
	struct dev *d = &self->d;
	const int whence[] = { SEEK_DATA, SEEK_HOLE };
	off_t bad[4], ret;
	unsigned int i, j;
	int err;

	loopdev_bind(_metadata, d, variant);
	bad[0] = -1;
	bad[1] = d->size;
	bad[2] = d->size + 1;
	bad[3] = LLONG_MAX;
	ASSERT_EQ(512, lseek(d->loop_fd, 512, SEEK_SET));
	for (i = 0; i < ARRAY_SIZE(whence); i++) {
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			ret = lseek(d->loop_fd, bad[j], whence[i]);
			err = errno;
			EXPECT_EQ(-1, ret) TH_LOG("whence %d, offset %lld",
						  whence[i], (long long)bad[j]);
			EXPECT_EQ(ENXIO, err);
			EXPECT_EQ(512, lseek(d->loop_fd, 0, SEEK_CUR));
		}
	}

	ret = lseek(d->loop_fd, 0, 5);
	err = errno;
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, err);
	EXPECT_EQ(512, lseek(d->loop_fd, 0, SEEK_CUR));
}

TEST_F(loopdev, backing_position)
{
	struct map got;

	loopdev_bind(_metadata, &self->d, variant);
	check_map(_metadata, &self->d, variant->offset, self->d.loop_fd,
		  self->d.size, &got);
	EXPECT_EQ(BACKING_POS, lseek(self->d.cfg_fd, 0, SEEK_CUR));
}

TEST_F(loopdev, holes_read_zero)
{
	struct dev *d = &self->d;
	struct map got;

	loopdev_bind(_metadata, d, variant);
	walk_map(_metadata, d->loop_fd, 0, d->size, &got, true);
	expect_holes_zero(_metadata, d->loop_fd, &got, d->size);
}

/*
 * An msdos partition table with two partitions. Partition 1 is all hole,
 * with data right before and right after it; partition 2 has data across
 * both of its edges, and the gap between them has data.
 */
#define P1_START	(1 * MIB)
#define P1_LEN		(1 * MIB)
#define P2_START	(5 * MIB / 2)
#define P2_LEN		(2 * MIB)
#define P2_END		(P2_START + P2_LEN)
#define PART_FILE_SIZE	(5 * MIB)

static const struct extent part_layout[] = {
	{ 0, U(1) },				/* the partition table */
	{ P1_START - U(1), P1_START },
	{ P1_START + P1_LEN, P1_START + P1_LEN + U(1) },
	{ P1_START + P1_LEN + U(3), P1_START + P1_LEN + U(4) },
	{ P2_START - U(1), P2_START + U(1) },
	{ 3 * MIB, 3 * MIB + U(2) },
	{ P2_END - U(1), P2_END + U(1) },
};

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void put_part(unsigned char *entry, off_t start, off_t len)
{
	entry[0] = 0x00;			/* not bootable */
	entry[4] = 0x83;			/* Linux */
	put_le32(entry + 8, start / 512);	/* first LBA */
	put_le32(entry + 12, len / 512);	/* number of sectors */
}

static void write_mbr(struct __test_metadata *_metadata, int fd)
{
	unsigned char mbr[512] = { 0 };

	put_part(mbr + 446, P1_START, P1_LEN);
	put_part(mbr + 446 + 16, P2_START, P2_LEN);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	ASSERT_EQ(512, pwrite(fd, mbr, sizeof(mbr), 0));
}

FIXTURE(part) {
	struct dev d;
	int part_fd[2];
};

FIXTURE_SETUP(part)
{
	self->part_fd[0] = -1;
	self->part_fd[1] = -1;
	dev_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN(part)
{
	int i;

	/* Close the partitions first so that LOOP_CLR_FD can run down. */
	for (i = 0; i < 2; i++)
		if (self->part_fd[i] >= 0)
			close(self->part_fd[i]);
	dev_teardown(&self->d);
}

/* Open partition @n of the loop device; -1 if the kernel found none. */
static int open_part(struct __test_metadata *_metadata, struct dev *d, int n)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/sys/block/loop%d/loop%dp%d/partition",
		 d->loop_nr, d->loop_nr, n);
	fd = wait_open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(path, sizeof(path), "%sp%d", d->loop_path, n);
	fd = wait_open(path, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("%s did not appear within %d ms", path,
				WAIT_MS);
	return fd;
}

TEST_F(part, msdos)
{
	struct dev *d = &self->d;
	struct map got;
	off_t ret;
	int fd, err;

	make_backing(_metadata, d, part_layout, ARRAY_SIZE(part_layout),
		     PART_FILE_SIZE);
	write_mbr(_metadata, d->cfg_fd);
	attach(_metadata, d, 0, 0, LO_FLAGS_PARTSCAN);
	require_seek(_metadata, d->loop_fd);
	check_map(_metadata, d, 0, d->loop_fd, d->size, &got);

	self->part_fd[0] = open_part(_metadata, d, 1);
	self->part_fd[1] = open_part(_metadata, d, 2);
	if (self->part_fd[0] < 0 || self->part_fd[1] < 0)
		SKIP(return, "no msdos partitions found (CONFIG_MSDOS_PARTITION?)");

	/* Partition 1 is all hole, whatever its neighbours hold. */
	fd = self->part_fd[0];
	ASSERT_EQ(P1_LEN, lseek(fd, 0, SEEK_END));
	ret = lseek(fd, 0, SEEK_DATA);
	err = errno;
	EXPECT_EQ(-1, ret) TH_LOG("partition 1 reports data at %lld",
				  (long long)ret);
	EXPECT_EQ(ENXIO, err);
	EXPECT_EQ(0, lseek(fd, 0, SEEK_HOLE));
	check_map(_metadata, d, P1_START, fd, P1_LEN, &got);
	EXPECT_EQ(0, got.nr);
	expect_zeros(_metadata, fd, 0, P1_LEN);

	/* Partition 2 has data across both of its edges. */
	fd = self->part_fd[1];
	ASSERT_EQ(P2_LEN, lseek(fd, 0, SEEK_END));
	check_map(_metadata, d, P2_START, fd, P2_LEN, &got);
	expect_holes_zero(_metadata, fd, &got, P2_LEN);
}

TEST_HARNESS_MAIN
