// SPDX-License-Identifier: GPL-2.0
/*
 * lseek(SEEK_DATA) and lseek(SEEK_HOLE) on block devices.
 *
 * A loop device over a sparse tmpfs file must report the holes of that file,
 * translated by lo_offset and limited to the size of the device, and a
 * partition must report the holes of its own range only, in its own
 * coordinates. The ground truth is the backing file's own SEEK_DATA and
 * SEEK_HOLE map.
 *
 * Device-mapper devices built on such loop devices must report the map that
 * follows from the table the test loads: dm-linear and dm-stripe translate
 * the maps of their devices, dm-zero is all hole, and a dm-thin volume has
 * data in exactly the blocks the test wrote and did not discard, in a
 * snapshot as in its origin, and, with an external origin, also where the
 * origin has data. A dm-snapshot has data in the chunks with exceptions and
 * follows its origin's map elsewhere. Every map is compared whole and at single offsets, its
 * holes are read back as zeros, and every dm case reaches past 2 GiB.
 *
 * Every test runs in a private mount namespace with its own tmpfs on /tmp,
 * and binds its loop devices with LO_FLAGS_AUTOCLEAR. The dm devices are
 * created with the device-mapper ioctls directly, so no user space tool is
 * needed, and are removed by the fixture's teardown.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/major.h>
#include <linux/raid/md_p.h>
#include <linux/raid/md_u.h>

#include "../kselftest_harness.h"

#define UNIT		65536	/* layout granularity, at least the page size */
#define U(n)		((off_t)(n) * UNIT)
#define MIB		((off_t)1 << 20)
#define GIB		((off_t)1 << 30)
#define MAX_EXTENTS	256
#define MNT		"/tmp"
#define BACKING		MNT "/seek_hole_data.img"
#define BACKING_POS	12345	/* position of the fd given to LOOP_CONFIGURE */
#define WAIT_MS		5000
#define PROBE_STRIDE	4093	/* prime, to hit many alignments */
#define MAX_PROBES	1024	/* single offsets probed along a device */
#define ZEROS_WHOLE	(4 * MIB) /* larger holes are read in samples */
#define ZERO_SAMPLES	16

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
	char file[64];		/* the backing file */
	off_t file_size;
	off_t size;		/* size of the loop device */
	bool mounted;
	bool created;
};

static off_t off_min(off_t a, off_t b)
{
	return a < b ? a : b;
}

static off_t off_max(off_t a, off_t b)
{
	return a > b ? a : b;
}

/* Add [@start, @end) to @m, merging it with what it overlaps or touches. */
static void map_add(struct __test_metadata *_metadata, struct map *m,
		    off_t start, off_t end)
{
	int i, j;

	if (start >= end)
		return;
	for (i = 0; i < m->nr && m->ext[i].end < start; i++)
		;
	for (j = i; j < m->nr && m->ext[j].start <= end; j++)
		;
	if (i < j) {
		start = off_min(start, m->ext[i].start);
		end = off_max(end, m->ext[j - 1].end);
	} else {
		ASSERT_GT(MAX_EXTENTS, m->nr);
	}
	memmove(&m->ext[i + 1], &m->ext[j], (m->nr - j) * sizeof(m->ext[0]));
	m->nr += 1 - (j - i);
	m->ext[i].start = start;
	m->ext[i].end = end;
}

/* Remove [@start, @end) from @m. */
static void map_del(struct __test_metadata *_metadata, struct map *m,
		    off_t start, off_t end)
{
	struct map old = *m;
	int i;

	m->nr = 0;
	for (i = 0; i < old.nr; i++) {
		map_add(_metadata, m, old.ext[i].start,
			off_min(old.ext[i].end, start));
		map_add(_metadata, m, off_max(old.ext[i].start, end),
			old.ext[i].end);
	}
}

/*
 * Add the data of @data (@nr extents) that lies in [@from, @from + @len) to
 * @m, moved to @to: what a device mapping that slice to @to holds.
 */
static void map_add_slice(struct __test_metadata *_metadata, struct map *m,
			  const struct extent *data, int nr, off_t from,
			  off_t len, off_t to)
{
	off_t start, end;
	int i;

	for (i = 0; i < nr; i++) {
		start = off_max(data[i].start, from);
		end = off_min(data[i].end, from + len);
		map_add(_metadata, m, start - from + to, end - from + to);
	}
}

/* A private tmpfs on MNT, in a private mount namespace. */
static void tmp_setup(struct __test_metadata *_metadata, bool *mounted)
{
	*mounted = false;
	if (geteuid())
		SKIP(return, "must be run as root");
	if (access("/dev/loop-control", F_OK))
		SKIP(return, "no /dev/loop-control (CONFIG_BLK_DEV_LOOP)");

	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("seek_hole_data", MNT, "tmpfs", MS_NOSUID | MS_NODEV,
			   "size=32m,huge=never,mode=0700"));
	*mounted = true;
}

static void tmp_teardown(bool mounted)
{
	if (mounted)
		umount2(MNT, MNT_DETACH);
}

static void dev_init(struct dev *d, const char *file)
{
	d->ref_fd = -1;
	d->cfg_fd = -1;
	d->loop_fd = -1;
	d->mounted = false;
	d->created = false;
	snprintf(d->file, sizeof(d->file), "%s", file);
}

static void dev_release(struct dev *d)
{
	if (d->loop_fd >= 0) {
		ioctl(d->loop_fd, LOOP_CLR_FD);
		close(d->loop_fd);
		d->loop_fd = -1;
	}
	if (d->cfg_fd >= 0)
		close(d->cfg_fd);
	if (d->ref_fd >= 0)
		close(d->ref_fd);
	if (d->created)
		unlink(d->file);
	d->cfg_fd = -1;
	d->ref_fd = -1;
	d->created = false;
}

static void dev_setup(struct __test_metadata *_metadata, struct dev *d)
{
	dev_init(d, BACKING);
	tmp_setup(_metadata, &d->mounted);
}

static void dev_teardown(struct dev *d)
{
	dev_release(d);
	tmp_teardown(d->mounted);
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

/*
 * Compare single answers of @fd with @m: along the device, at most
 * MAX_PROBES offsets apart by an odd stride, and around every edge.
 */
static void probe_all(struct __test_metadata *_metadata, int fd,
		      const struct map *m, off_t size)
{
	off_t off, stride = PROBE_STRIDE;
	int bad = 0, i, delta;

	while (size / stride > MAX_PROBES)
		stride = 2 * stride + 1;
	for (off = 0; off < size; off += stride)
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
	EXPECT_EQ(0, bad) TH_LOG("%d answers differ from the expected map", bad);
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

static void read_zeros(struct __test_metadata *_metadata, int fd,
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

/*
 * [@start, @end) must read as zeros: whole up to ZEROS_WHOLE bytes, else its
 * first and last MiB and ZERO_SAMPLES units in between.
 */
static void expect_zeros(struct __test_metadata *_metadata, int fd,
			 off_t start, off_t end)
{
	off_t off;
	int i;

	if (end - start <= ZEROS_WHOLE) {
		read_zeros(_metadata, fd, start, end);
		return;
	}
	read_zeros(_metadata, fd, start, start + MIB);
	for (i = 1; i <= ZERO_SAMPLES; i++) {
		off = start + (end - start) / (ZERO_SAMPLES + 1) * i;
		off &= ~(off_t)(UNIT - 1);
		read_zeros(_metadata, fd, off, off + UNIT);
	}
	read_zeros(_metadata, fd, end - MIB, end);
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

	d->cfg_fd = open(d->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
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
	d->ref_fd = open(d->file, O_RDONLY | O_CLOEXEC);
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

/*
 * Device-mapper. The tables below are built on loop devices over sparse
 * tmpfs files whose layouts the test wrote, so the expected map of a dm
 * device follows from its table and those layouts alone.
 */
#define DM_CONTROL	"/dev/mapper/control"
#define DM_BUF_SIZE	16384
#define NR_LOOPS	4
#define NR_DMS		4
#define THIN_BLOCK	UNIT		/* thin pool block size */
#define POOL_DATA	(16 * MIB)	/* thin pool data device size */
#define POOL_META	(4 * MIB)	/* thin pool metadata device size */
#define DM_TIMEOUT	120		/* seconds per dm test, under emulation */

union dm_buf {
	struct dm_ioctl io;
	char raw[DM_BUF_SIZE];
};

/* One target of a table, in bytes of the dm device. */
struct dm_seg {
	off_t start;
	off_t len;
	const char *type;
	char params[128];
};

struct dmdev {
	char name[DM_NAME_LEN];
	bool created;
	int fd;
	dev_t rdev;
	off_t size;
};

struct dm_env {
	bool mounted;
	struct dev lo[NR_LOOPS];
	struct dmdev dm[NR_DMS];
	int nr_dm;
};

static void dm_init_buf(union dm_buf *b, const char *name, __u32 flags)
{
	memset(b, 0, sizeof(*b));
	b->io.version[0] = DM_VERSION_MAJOR;
	b->io.data_size = sizeof(*b);
	b->io.data_start = sizeof(b->io);
	b->io.flags = flags;
	snprintf(b->io.name, sizeof(b->io.name), "%s", name);
}

/* Issue @req with @b on the dm control device; 0 or -errno. */
static int dm_ioctl(unsigned long req, union dm_buf *b)
{
	int ctl, ret;

	ctl = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	ret = ioctl(ctl, req, b) ? -errno : 0;
	close(ctl);
	return ret;
}

/* Whether target @type is available; its module is loaded if need be. */
static bool dm_has_target(const char *type)
{
	union dm_buf b;

	dm_init_buf(&b, type, 0);
	return !dm_ioctl(DM_GET_TARGET_VERSION, &b);
}

static int dm_load(const char *name, const struct dm_seg *seg, int nr)
{
	struct dm_target_spec *spec;
	size_t pos, len, next;
	union dm_buf b;
	int i;

	dm_init_buf(&b, name, 0);
	pos = b.io.data_start;
	for (i = 0; i < nr; i++) {
		len = strlen(seg[i].params) + 1;
		next = (sizeof(*spec) + len + 7) & ~(size_t)7;
		if (pos + next > sizeof(b))
			return -E2BIG;
		spec = (struct dm_target_spec *)(b.raw + pos);
		spec->sector_start = seg[i].start >> 9;
		spec->length = seg[i].len >> 9;
		spec->next = next;
		snprintf(spec->target_type, sizeof(spec->target_type), "%s",
			 seg[i].type);
		memcpy(spec + 1, seg[i].params, len);
		pos += next;
	}
	b.io.target_count = nr;
	return dm_ioctl(DM_TABLE_LOAD, &b);
}

static int dm_suspend(const struct dmdev *dm, bool suspend)
{
	union dm_buf b;

	dm_init_buf(&b, dm->name, suspend ? DM_SUSPEND_FLAG : 0);
	return dm_ioctl(DM_DEV_SUSPEND, &b);
}

static int dm_message(const struct dmdev *dm, const char *msg)
{
	struct dm_target_msg *tm;
	union dm_buf b;

	dm_init_buf(&b, dm->name, 0);
	tm = (struct dm_target_msg *)(b.raw + b.io.data_start);
	tm->sector = 0;
	snprintf(tm->message, sizeof(b) - b.io.data_start - sizeof(*tm), "%s",
		 msg);
	return dm_ioctl(DM_TARGET_MSG, &b);
}

static void dm_remove(struct dmdev *dm)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	union dm_buf b;
	int i, ret;

	if (dm->fd >= 0)
		close(dm->fd);
	dm->fd = -1;
	if (!dm->created)
		return;
	/* Something else (udev, blkid) may have it open for a moment. */
	for (i = 0; i < WAIT_MS / 10; i++) {
		dm_init_buf(&b, dm->name, 0);
		ret = dm_ioctl(DM_DEV_REMOVE, &b);
		if (ret != -EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	if (ret)
		fprintf(stderr, "# cannot remove dm device %s: %s\n",
			dm->name, strerror(-ret));
	dm->created = false;
}

/* "major:minor" of the block device open as @fd, in @buf. */
static const char *dev_name_of(int fd, char *buf, size_t len)
{
	struct stat st;

	if (fstat(fd, &st) || !S_ISBLK(st.st_mode))
		snprintf(buf, len, "invalid");
	else
		snprintf(buf, len, "%u:%u", major(st.st_rdev),
			 minor(st.st_rdev));
	return buf;
}

/* Create dm device @tag with table @seg and open it. */
static struct dmdev *dm_create(struct __test_metadata *_metadata,
			       struct dm_env *e, const char *tag,
			       const struct dm_seg *seg, int nr)
{
	struct dmdev *dm;
	union dm_buf b;
	char path[32];
	int ret;

	ASSERT_GT(NR_DMS, e->nr_dm);
	dm = &e->dm[e->nr_dm++];
	snprintf(dm->name, sizeof(dm->name), "ksft-seek-hole-%d-%s",
		 (int)getpid(), tag);
	dm_init_buf(&b, dm->name, 0);
	ret = dm_ioctl(DM_DEV_CREATE, &b);
	ASSERT_EQ(0, ret) TH_LOG("create %s: %s", dm->name, strerror(-ret));
	dm->created = true;
	dm->rdev = makedev(major(b.io.dev), minor(b.io.dev));
	ret = dm_load(dm->name, seg, nr);
	ASSERT_EQ(0, ret) TH_LOG("load %s (%s %s, ...): %s", dm->name,
				 seg[0].type, seg[0].params, strerror(-ret));
	ret = dm_suspend(dm, false);
	ASSERT_EQ(0, ret) TH_LOG("resume %s: %s", dm->name, strerror(-ret));

	snprintf(path, sizeof(path), "/dev/dm-%u", minor(dm->rdev));
	dm->fd = wait_open(path, O_RDWR);
	ASSERT_LE(0, dm->fd) TH_LOG("open %s: %s", path, strerror(errno));
	dm->size = lseek(dm->fd, 0, SEEK_END);
	ASSERT_EQ(seg[nr - 1].start + seg[nr - 1].len, dm->size);
	ASSERT_EQ(0, lseek(dm->fd, 0, SEEK_SET));
	return dm;
}

static void dm_env_setup(struct __test_metadata *_metadata, struct dm_env *e)
{
	char file[64];
	int i;

	e->nr_dm = 0;
	for (i = 0; i < NR_DMS; i++) {
		e->dm[i].created = false;
		e->dm[i].fd = -1;
	}
	for (i = 0; i < NR_LOOPS; i++) {
		snprintf(file, sizeof(file), MNT "/lower%d.img", i);
		dev_init(&e->lo[i], file);
	}
	tmp_setup(_metadata, &e->mounted);
	if (!e->mounted)
		return;
	if (access(DM_CONTROL, F_OK))
		SKIP(return, "no " DM_CONTROL " (CONFIG_BLK_DEV_DM)");
}

/* The dm devices in reverse order of creation, then the loop devices. */
static void dm_env_teardown(struct dm_env *e)
{
	int i;

	for (i = e->nr_dm - 1; i >= 0; i--)
		dm_remove(&e->dm[i]);
	for (i = 0; i < NR_LOOPS; i++)
		dev_release(&e->lo[i]);
	tmp_teardown(e->mounted);
}

/* Loop device @i of @e over a new file of @size with data in @data. */
static struct dev *lower(struct __test_metadata *_metadata, struct dm_env *e,
			 int i, const struct extent *data, int nr, off_t size)
{
	struct dev *d = &e->lo[i];

	make_backing(_metadata, d, data, nr, size);
	attach(_metadata, d, 0, 0, 0);
	return d;
}

/* Why the test cannot run if target @type is missing, else NULL. */
static const char *dm_missing(const char *type, const char *config,
			      char *why, size_t len)
{
	if (dm_has_target(type))
		return NULL;
	snprintf(why, len, "dm target %s not available (%s)", type, config);
	return why;
}

/* Every offset at and past @size, and before 0, is ENXIO for both. */
static void check_bounds(struct __test_metadata *_metadata, int fd,
			 off_t size)
{
	const off_t bad[] = { -1, size, size + 1, size + GIB, LLONG_MAX };
	const int whence[] = { SEEK_DATA, SEEK_HOLE };
	unsigned int i, j;

	ASSERT_EQ(512, lseek(fd, 512, SEEK_SET));
	for (i = 0; i < ARRAY_SIZE(whence); i++) {
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			EXPECT_EQ(-ENXIO, seek_errno(fd, bad[j], whence[i]))
				TH_LOG("%s at %lld",
				       i ? "SEEK_HOLE" : "SEEK_DATA",
				       (long long)bad[j]);
		}
	}
	EXPECT_EQ(512, lseek(fd, 0, SEEK_CUR));
}

/*
 * The device @dm must report @want as its whole map, extent by extent and
 * at single offsets, fail with ENXIO at and past its end, and read its
 * reported holes as zeros.
 */
static void check_dm_map(struct __test_metadata *_metadata,
			 const struct dmdev *dm, const struct map *want)
{
	struct map got;

	require_seek(_metadata, dm->fd);
	walk_map(_metadata, dm->fd, 0, dm->size, &got, true);
	EXPECT_TRUE(maps_match(_metadata, "table", want, dm->name, &got))
		TH_LOG("the map of %s differs from its table", dm->name);
	probe_all(_metadata, dm->fd, want, dm->size);
	check_bounds(_metadata, dm->fd, dm->size);
	expect_holes_zero(_metadata, dm->fd, &got, dm->size);
}

FIXTURE(dm) {
	struct dm_env e;
};

FIXTURE_SETUP(dm)
{
	dm_env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(dm)
{
	dm_env_teardown(&self->e);
}

/*
 * Linear slices of one loop device with zero targets between them, reaching
 * past 3 GiB: data and holes continue across target boundaries, a slice may
 * start and end inside an extent, and the device ends in data.
 */
TEST_F_TIMEOUT(dm, linear, DM_TIMEOUT)
{
	struct dm_seg seg[] = {
		{ .len = U(6) + 1536, .type = "linear" },
		{ .len = U(1), .type = "linear" },
		{ .len = 3 * GIB, .type = "zero" },
		{ .len = U(8), .type = "linear" },
		{ .len = GIB - 512, .type = "zero" },
		{ .len = U(2), .type = "linear" },
	};
	/* Where each linear slice starts on the loop device. */
	const off_t from[] = { U(1) + 512, U(8), 0, U(14), 0, U(30) };
	struct map want = { 0 };
	struct dmdev *dm;
	struct dev *d;
	char why[128], name[32];
	unsigned int i;
	off_t pos = 0;

	if (dm_missing("linear", "CONFIG_BLK_DEV_DM", why, sizeof(why)) ||
	    dm_missing("zero", "CONFIG_DM_ZERO", why, sizeof(why)))
		SKIP(return, "%s", why);

	d = lower(_metadata, &self->e, 0, mixed, ARRAY_SIZE(mixed), U(32));
	dev_name_of(d->loop_fd, name, sizeof(name));
	for (i = 0; i < ARRAY_SIZE(seg); i++) {
		seg[i].start = pos;
		pos += seg[i].len;
		if (strcmp(seg[i].type, "linear"))
			continue;
		snprintf(seg[i].params, sizeof(seg[i].params), "%s %lld",
			 name, (long long)(from[i] >> 9));
		map_add_slice(_metadata, &want, mixed, ARRAY_SIZE(mixed),
			      from[i], seg[i].len, seg[i].start);
	}
	dm = dm_create(_metadata, &self->e, "linear", seg, ARRAY_SIZE(seg));
	check_dm_map(_metadata, dm, &want);
}

/* dm-zero is one hole, over two targets and past 2 GiB. */
TEST_F_TIMEOUT(dm, zero, DM_TIMEOUT)
{
	const struct dm_seg seg[] = {
		{ .start = 0, .len = GIB, .type = "zero" },
		{ .start = GIB, .len = 2 * GIB + 512, .type = "zero" },
	};
	const struct map want = { 0 };
	struct dmdev *dm;
	char why[128];

	if (dm_missing("zero", "CONFIG_DM_ZERO", why, sizeof(why)))
		SKIP(return, "%s", why);

	dm = dm_create(_metadata, &self->e, "zero", seg, ARRAY_SIZE(seg));
	EXPECT_EQ(-ENXIO, seek_errno(dm->fd, 0, SEEK_DATA));
	EXPECT_EQ(2 * GIB + 1, seek_errno(dm->fd, 2 * GIB + 1, SEEK_HOLE));
	check_dm_map(_metadata, dm, &want);
}

/*
 * dm-delay reads from its read device, here a slice of one loop device, and
 * writes to another with a different layout: the map is the read slice's.
 * A query is not delayed: a walk takes less than the read delay (which is
 * short enough for a probe that reads the device, udev's, to end before
 * the device is removed).
 */
TEST_F_TIMEOUT(dm, delay, DM_TIMEOUT)
{
	struct dm_seg seg[] = {
		{ .start = 0, .len = U(24), .type = "delay" },
	};
	struct map want = { 0 }, got;
	char why[128], rd[32], wr[32];
	struct timespec t0, t1;
	struct dmdev *dm;
	struct dev *r, *w;
	double secs;

	if (dm_missing("delay", "CONFIG_DM_DELAY", why, sizeof(why)))
		SKIP(return, "%s", why);

	r = lower(_metadata, &self->e, 0, mixed, ARRAY_SIZE(mixed), U(32));
	w = lower(_metadata, &self->e, 1, no_holes, ARRAY_SIZE(no_holes),
		  U(32));
	dev_name_of(r->loop_fd, rd, sizeof(rd));
	dev_name_of(w->loop_fd, wr, sizeof(wr));
	/* Reads from U(6) of @r, delayed 4 s; writes to @w, undelayed. */
	snprintf(seg[0].params, sizeof(seg[0].params), "%s %lld 4000 %s 0 0",
		 rd, (long long)(U(6) >> 9), wr);
	map_add_slice(_metadata, &want, mixed, ARRAY_SIZE(mixed), U(6),
		      U(24), 0);
	dm = dm_create(_metadata, &self->e, "delay", seg, ARRAY_SIZE(seg));

	require_seek(_metadata, dm->fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	walk_map(_metadata, dm->fd, 0, dm->size, &got, true);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	EXPECT_TRUE(maps_match(_metadata, "read device", &want, dm->name,
			       &got));
	EXPECT_GT(2.0, secs) TH_LOG("a walk took %.1f s: it waited for the read delay",
				    secs);
	probe_all(_metadata, dm->fd, &want, dm->size);
	check_bounds(_metadata, dm->fd, dm->size);
	/* Reading the holes back would wait 4 s a read: not done here. */
}

/*
 * A multipath device over two loop devices, path A over a file with holes
 * and path B over one that is all data: each answer shows which path gave
 * it. With only A usable the map is A's, also before any I/O (no path group
 * has been chosen yet); with every path failed and I/O queued
 * (queue_if_no_path) the device is data, answered without waiting for a
 * path; with only B, B's. A failed path is never asked.
 */
TEST_F_TIMEOUT(dm, multipath, DM_TIMEOUT)
{
	struct dm_seg seg[] = {
		{ .start = 0, .len = U(32), .type = "multipath" },
	};
	const struct map all = { .nr = 1, .ext = { { 0, U(32) } } };
	char why[128], pa[32], pb[32], msg[64];
	struct map want = { 0 }, got;
	struct dev *a, *b;
	struct dmdev *dm;

	if (dm_missing("multipath", "CONFIG_DM_MULTIPATH", why, sizeof(why)))
		SKIP(return, "%s", why);

	a = lower(_metadata, &self->e, 0, mixed, ARRAY_SIZE(mixed), U(32));
	b = lower(_metadata, &self->e, 1, no_holes, ARRAY_SIZE(no_holes),
		  U(32));
	dev_name_of(a->loop_fd, pa, sizeof(pa));
	dev_name_of(b->loop_fd, pb, sizeof(pb));
	snprintf(seg[0].params, sizeof(seg[0].params),
		 "1 queue_if_no_path 0 1 1 round-robin 0 2 1 %s 1000 %s 1000",
		 pb, pa);
	map_add_slice(_metadata, &want, mixed, ARRAY_SIZE(mixed), 0, U(32),
		      0);
	dm = dm_create(_metadata, &self->e, "mpath", seg, ARRAY_SIZE(seg));

	/* Only A, before any I/O. */
	snprintf(msg, sizeof(msg), "fail_path %s", pb);
	ASSERT_EQ(0, dm_message(dm, msg));
	require_seek(_metadata, dm->fd);
	walk_map(_metadata, dm->fd, 0, dm->size, &got, true);
	EXPECT_TRUE(maps_match(_metadata, "path A", &want, dm->name, &got));
	probe_all(_metadata, dm->fd, &want, dm->size);
	check_bounds(_metadata, dm->fd, dm->size);

	/* None, I/O queued: all data, without waiting for a path. */
	snprintf(msg, sizeof(msg), "fail_path %s", pa);
	ASSERT_EQ(0, dm_message(dm, msg));
	walk_map(_metadata, dm->fd, 0, dm->size, &got, true);
	EXPECT_TRUE(maps_match(_metadata, "no path", &all, dm->name, &got));

	/* Only B: B's map, whatever A's. */
	snprintf(msg, sizeof(msg), "reinstate_path %s", pb);
	ASSERT_EQ(0, dm_message(dm, msg));
	walk_map(_metadata, dm->fd, 0, dm->size, &got, true);
	EXPECT_TRUE(maps_match(_metadata, "path B", &all, dm->name, &got));

	/* Only A again, now after I/O: its holes read back as zeros. */
	snprintf(msg, sizeof(msg), "reinstate_path %s", pa);
	ASSERT_EQ(0, dm_message(dm, msg));
	snprintf(msg, sizeof(msg), "fail_path %s", pb);
	ASSERT_EQ(0, dm_message(dm, msg));
	walk_map(_metadata, dm->fd, 0, dm->size, &got, true);
	EXPECT_TRUE(maps_match(_metadata, "path A again", &want, dm->name,
			       &got));
	expect_holes_zero(_metadata, dm->fd, &got, dm->size);
}

FIXTURE(dm_stripe) {
	struct dm_env e;
};

FIXTURE_VARIANT(dm_stripe) {
	int stripes;
	off_t chunk;
};

FIXTURE_VARIANT_ADD(dm_stripe, two_16k_chunks) {
	.stripes = 2, .chunk = 16384,
};

/* Chunks that are not a power of two. */
FIXTURE_VARIANT_ADD(dm_stripe, three_24k_chunks) {
	.stripes = 3, .chunk = 24576,
};

FIXTURE_SETUP(dm_stripe)
{
	dm_env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(dm_stripe)
{
	dm_env_teardown(&self->e);
}

/*
 * A striped target at 2 GiB, after a zero target, over loop devices with
 * different layouts, each stripe starting at its own offset: the map is the
 * stripes' maps interleaved chunk by chunk.
 */
TEST_F_TIMEOUT(dm_stripe, map, DM_TIMEOUT)
{
	const struct { const struct extent *data; int nr; } layout[] = {
		{ mixed, ARRAY_SIZE(mixed) },
		{ data_at_ends, ARRAY_SIZE(data_at_ends) },
		{ holes_at_ends, ARRAY_SIZE(holes_at_ends) },
	};
	const int n = variant->stripes;
	const off_t chunk = variant->chunk;
	off_t rows, stripe_off[3], c;
	struct dm_seg seg[3] = {
		{ .start = 0, .len = 2 * GIB, .type = "zero" },
		{ .start = 2 * GIB, .type = "striped" },
		{ .type = "zero" },
	};
	struct map want = { 0 };
	struct dmdev *dm;
	char why[128], name[32];
	size_t len;
	int s;

	if (dm_missing("striped", "CONFIG_BLK_DEV_DM", why, sizeof(why)) ||
	    dm_missing("zero", "CONFIG_DM_ZERO", why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_GE(ARRAY_SIZE(layout), n);

	len = snprintf(seg[1].params, sizeof(seg[1].params), "%d %lld", n,
		       (long long)(chunk >> 9));
	for (s = 0; s < n; s++) {
		struct dev *d = lower(_metadata, &self->e, s, layout[s].data,
				      layout[s].nr, U(32));

		stripe_off[s] = s * 4096;
		len += snprintf(seg[1].params + len, sizeof(seg[1].params) - len,
				" %s %lld", dev_name_of(d->loop_fd, name,
							sizeof(name)),
				(long long)(stripe_off[s] >> 9));
	}
	ASSERT_GT(sizeof(seg[1].params), len);
	rows = (U(32) - stripe_off[n - 1]) / chunk;
	seg[1].len = rows * n * chunk;
	seg[2].start = seg[1].start + seg[1].len;
	seg[2].len = U(2);

	/* Chunk c is on stripe c % n, in row c / n. */
	for (c = 0; c < rows * n; c++) {
		s = c % n;
		map_add_slice(_metadata, &want, layout[s].data, layout[s].nr,
			      stripe_off[s] + c / n * chunk, chunk,
			      seg[1].start + c * chunk);
	}
	dm = dm_create(_metadata, &self->e, "stripe", seg, ARRAY_SIZE(seg));
	check_dm_map(_metadata, dm, &want);
}

/* A thin pool on loop devices 0 (metadata) and 1 (data). */
static struct dmdev *pool_create(struct __test_metadata *_metadata,
				 struct dm_env *e)
{
	struct dm_seg seg = { .len = POOL_DATA, .type = "thin-pool" };
	char meta[32], data[32];
	struct dev *d;

	d = lower(_metadata, e, 0, NULL, 0, POOL_META);
	dev_name_of(d->loop_fd, meta, sizeof(meta));
	d = lower(_metadata, e, 1, NULL, 0, POOL_DATA);
	dev_name_of(d->loop_fd, data, sizeof(data));
	snprintf(seg.params, sizeof(seg.params), "%s %s %d 0", meta, data,
		 THIN_BLOCK >> 9);
	return dm_create(_metadata, e, "pool", &seg, 1);
}

/*
 * Activate thin device @id of @pool, @size bytes, with @origin (a loop) or
 * none; @create creates it in the pool first (a snapshot exists already).
 */
static struct dmdev *thin_create(struct __test_metadata *_metadata,
				 struct dm_env *e, struct dmdev *pool,
				 const char *tag, int id, bool create,
				 off_t size, const struct dev *origin)
{
	struct dm_seg seg = { .len = size, .type = "thin" };
	char msg[32], name[32];
	size_t len;
	int ret;

	if (create) {
		snprintf(msg, sizeof(msg), "create_thin %d", id);
		ret = dm_message(pool, msg);
		ASSERT_EQ(0, ret) TH_LOG("%s: %s", msg, strerror(-ret));
	}
	len = snprintf(seg.params, sizeof(seg.params), "%u:%u %d",
		       major(pool->rdev), minor(pool->rdev), id);
	if (origin)
		snprintf(seg.params + len, sizeof(seg.params) - len, " %s",
			 dev_name_of(origin->loop_fd, name, sizeof(name)));
	return dm_create(_metadata, e, tag, &seg, 1);
}

/* Write [@start, @end) of @fd, in pages, and add its blocks to @want. */
static void thin_write(struct __test_metadata *_metadata, int fd,
		       struct map *want, off_t start, off_t end)
{
	static char buf[UNIT];
	off_t off;
	ssize_t n;

	memset(buf, 0x5a, sizeof(buf));
	for (off = start; off < end; off += n) {
		n = off_min(end - off, UNIT);
		ASSERT_EQ(n, pwrite(fd, buf, n, off));
	}
	ASSERT_EQ(0, fsync(fd));
	map_add(_metadata, want, start / THIN_BLOCK * THIN_BLOCK,
		(end + THIN_BLOCK - 1) / THIN_BLOCK * THIN_BLOCK);
}

/* Discard whole blocks [@start, @end) of @fd and remove them from @want. */
static void thin_discard(struct __test_metadata *_metadata, int fd,
			 struct map *want, off_t start, off_t end)
{
	uint64_t range[2] = { start, end - start };

	ASSERT_EQ(0, ioctl(fd, BLKDISCARD, range))
		TH_LOG("BLKDISCARD [%lld, %lld): %s", (long long)start,
		       (long long)end, strerror(errno));
	map_del(_metadata, want, start, end);
}

static const char *thin_missing(char *why, size_t len)
{
	const char *config = "CONFIG_DM_THIN_PROVISIONING";

	if (dm_missing("thin-pool", config, why, len) ||
	    dm_missing("thin", config, why, len))
		return why;
	return NULL;
}

/*
 * A 4 GiB thin volume has data in the blocks written and not discarded,
 * including a partial write, a write across a block boundary, a run with a
 * block discarded from its middle, and blocks past 3 GiB and at the end.
 * The pool device itself is all data.
 */
TEST_F_TIMEOUT(dm, thin, DM_TIMEOUT)
{
	const off_t size = 4 * GIB;
	struct dmdev *pool, *thin;
	struct map want = { 0 };
	char why[128];

	if (thin_missing(why, sizeof(why)))
		SKIP(return, "%s", why);

	pool = pool_create(_metadata, &self->e);
	thin = thin_create(_metadata, &self->e, pool, "thin", 0, true, size,
			   NULL);
	thin_write(_metadata, thin->fd, &want, 0, 4096);
	thin_write(_metadata, thin->fd, &want, U(16) - 4096, U(16) + 4096);
	thin_write(_metadata, thin->fd, &want, U(32), U(37));
	thin_discard(_metadata, thin->fd, &want, U(34), U(35));
	thin_write(_metadata, thin->fd, &want, 3 * GIB + 8192, 3 * GIB + 12288);
	thin_write(_metadata, thin->fd, &want, size - 4096, size);
	check_dm_map(_metadata, thin, &want);

	want.nr = 0;
	map_add(_metadata, &want, 0, POOL_DATA);
	require_seek(_metadata, pool->fd);
	EXPECT_EQ(0, seek_errno(pool->fd, 0, SEEK_DATA));
	EXPECT_EQ(POOL_DATA, seek_errno(pool->fd, 0, SEEK_HOLE));
	probe_all(_metadata, pool->fd, &want, pool->size);
	check_bounds(_metadata, pool->fd, pool->size);
}

/*
 * A snapshot and its origin share blocks until either writes or discards
 * them: each reports exactly its own blocks, whether shared or not.
 */
TEST_F_TIMEOUT(dm, thin_snapshot, DM_TIMEOUT)
{
	const off_t size = 3 * GIB;
	struct map want_origin = { 0 }, want_snap;
	struct dmdev *pool, *origin, *snap;
	char why[128];
	int ret;

	if (thin_missing(why, sizeof(why)))
		SKIP(return, "%s", why);

	pool = pool_create(_metadata, &self->e);
	origin = thin_create(_metadata, &self->e, pool, "origin", 0, true,
			     size, NULL);
	thin_write(_metadata, origin->fd, &want_origin, U(1), U(4));
	thin_write(_metadata, origin->fd, &want_origin, U(10), U(11));
	thin_write(_metadata, origin->fd, &want_origin, 2 * GIB + U(3),
		   2 * GIB + U(4));
	thin_write(_metadata, origin->fd, &want_origin, size - U(1), size);

	ret = dm_suspend(origin, true);
	ASSERT_EQ(0, ret) TH_LOG("suspend: %s", strerror(-ret));
	ret = dm_message(pool, "create_snap 1 0");
	EXPECT_EQ(0, ret) TH_LOG("create_snap: %s", strerror(-ret));
	ASSERT_EQ(0, dm_suspend(origin, false));
	ASSERT_EQ(0, ret);
	want_snap = want_origin;
	snap = thin_create(_metadata, &self->e, pool, "snap", 1, false, size,
			   NULL);

	/* Shared block 2 written in the snapshot: data in both. */
	thin_write(_metadata, snap->fd, &want_snap, U(2), U(2) + 4096);
	thin_write(_metadata, snap->fd, &want_snap, U(5), U(6));
	thin_discard(_metadata, snap->fd, &want_snap, U(3), U(4));
	thin_discard(_metadata, snap->fd, &want_snap, 2 * GIB + U(3),
		     2 * GIB + U(4));
	thin_write(_metadata, origin->fd, &want_origin, U(20), U(21));
	thin_discard(_metadata, origin->fd, &want_origin, U(10), U(11));

	check_dm_map(_metadata, origin, &want_origin);
	check_dm_map(_metadata, snap, &want_snap);
}

/*
 * A 3 GiB thin volume over an external origin that ends inside a thin
 * block: where the volume is unprovisioned it has data where the origin
 * has, holes where the origin has holes, and holes past the origin's end;
 * written blocks are data wherever they are.
 */
TEST_F_TIMEOUT(dm, thin_external_origin, DM_TIMEOUT)
{
	static const struct extent origin_data[] = {
		{ U(1), U(3) }, { U(6), U(7) }, { U(12), U(13) },
		{ U(19), U(20) },
	};
	const off_t origin_size = U(20) + 12288, size = 3 * GIB;
	struct dmdev *pool, *thin;
	struct map want = { 0 };
	struct dev *origin;
	char why[128];

	if (thin_missing(why, sizeof(why)))
		SKIP(return, "%s", why);

	pool = pool_create(_metadata, &self->e);
	origin = lower(_metadata, &self->e, 2, origin_data,
		       ARRAY_SIZE(origin_data), origin_size);
	map_add_slice(_metadata, &want, origin_data, ARRAY_SIZE(origin_data),
		      0, origin_size, 0);
	thin = thin_create(_metadata, &self->e, pool, "external", 0, true,
			   size, origin);
	/* Over an origin hole, over origin data, past the origin's end. */
	thin_write(_metadata, thin->fd, &want, U(4), U(4) + 4096);
	thin_write(_metadata, thin->fd, &want, U(12) + 4096, U(12) + 8192);
	thin_write(_metadata, thin->fd, &want, U(22), U(23));
	thin_write(_metadata, thin->fd, &want, 5 * GIB / 2, 5 * GIB / 2 + 4096);
	check_dm_map(_metadata, thin, &want);
}

/*
 * dm-snapshot: a snapshot of loop device 0 with its COW on loop device 1.
 * The snapshot is created before snapshot-origin, as LVM does, so that
 * writes through the origin are split at its chunk size and copy out each
 * chunk they touch.
 */
#define SNAP_CHUNK	4096

/*
 * Write [@start, @end) of @fd (the snapshot or snapshot-origin) and add the
 * chunks it touches, which now have exceptions, to @snap; a write through
 * snapshot-origin also adds the range itself to @origin.
 */
static void snap_write(struct __test_metadata *_metadata, int fd,
		       struct map *snap, struct map *origin, off_t start,
		       off_t end)
{
	static char buf[SNAP_CHUNK];
	off_t off;
	ssize_t n;

	memset(buf, 0xa5, sizeof(buf));
	for (off = start; off < end; off += n) {
		n = off_min(end - off, SNAP_CHUNK - off % SNAP_CHUNK);
		ASSERT_EQ(n, pwrite(fd, buf, n, off));
	}
	ASSERT_EQ(0, fsync(fd));
	map_add(_metadata, snap, start / SNAP_CHUNK * SNAP_CHUNK,
		(end + SNAP_CHUNK - 1) / SNAP_CHUNK * SNAP_CHUNK);
	if (origin)
		map_add(_metadata, origin, start, end);
}

/*
 * A 3 GiB origin and a persistent snapshot of it. Chunks copied out by
 * writes through snapshot-origin, in holes and in data, and chunks written
 * in the snapshot, in part or across a chunk boundary, are data in the
 * snapshot; every other chunk follows the origin's map. snapshot-origin
 * reports the origin's own map, with its writes.
 */
TEST_F_TIMEOUT(dm, snapshot, DM_TIMEOUT)
{
	static const struct extent origin_data[] = {
		{ U(0), U(2) }, { U(7), U(10) }, { U(20), U(22) },
		{ 2 * GIB + U(1), 2 * GIB + U(2) },
	};
	const off_t size = 3 * GIB;
	struct dm_seg seg = { .len = size };
	struct map want_snap = { 0 }, want_origin = { 0 };
	struct dmdev *snap, *origin;
	char o[32], c[32], why[128];
	struct dev *d;

	if (dm_missing("snapshot", "CONFIG_DM_SNAPSHOT", why, sizeof(why)) ||
	    dm_missing("snapshot-origin", "CONFIG_DM_SNAPSHOT", why,
		       sizeof(why)))
		SKIP(return, "%s", why);

	d = lower(_metadata, &self->e, 0, origin_data,
		  ARRAY_SIZE(origin_data), size);
	dev_name_of(d->loop_fd, o, sizeof(o));
	d = lower(_metadata, &self->e, 1, NULL, 0, 4 * MIB);
	dev_name_of(d->loop_fd, c, sizeof(c));
	map_add_slice(_metadata, &want_snap, origin_data,
		      ARRAY_SIZE(origin_data), 0, size, 0);
	want_origin = want_snap;

	seg.type = "snapshot";
	snprintf(seg.params, sizeof(seg.params), "%s %s P %d", o, c,
		 SNAP_CHUNK >> 9);
	snap = dm_create(_metadata, &self->e, "snap", &seg, 1);
	seg.type = "snapshot-origin";
	snprintf(seg.params, sizeof(seg.params), "%s", o);
	origin = dm_create(_metadata, &self->e, "origin", &seg, 1);

	snap_write(_metadata, origin->fd, &want_snap, &want_origin,
		   U(4) + 4096, U(4) + 3 * 4096);
	snap_write(_metadata, origin->fd, &want_snap, &want_origin,
		   U(8), U(8) + 8192);
	snap_write(_metadata, origin->fd, &want_snap, &want_origin,
		   2 * GIB + U(5), 2 * GIB + U(5) + 4096);
	snap_write(_metadata, snap->fd, &want_snap, NULL, U(12) + 512,
		   U(12) + 1024);
	snap_write(_metadata, snap->fd, &want_snap, NULL, U(25) - 2048,
		   U(25) + 2048);
	snap_write(_metadata, snap->fd, &want_snap, NULL, size - 4096, size);
	check_dm_map(_metadata, snap, &want_snap);
	check_dm_map(_metadata, origin, &want_origin);
}

/*
 * RAM-backed disks: brd's /dev/ram0, a memory-backed null_blk device made
 * in configfs, a zram device from zram-control, and a SCSI disk of
 * scsi_debug that unmaps and reads zeros from unmapped blocks (LBPRZ), so
 * that sd answers from GET LBA STATUS. Each starts empty; the test writes
 * the "mixed" layout to it, discards part of one extent and writes a page
 * of zeros, and expects exactly the written, undiscarded pages as data
 * (zram stores the page of zeros as a hole; the others store it as data).
 *
 * scsi_debug is loaded for the test and unloaded after it: from the file
 * SCSI_DEBUG_KO names if set, else with modprobe. A scsi_debug already
 * loaded is left alone and the test skips.
 */
#define NULLB_CFG	"/sys/kernel/config/nullb"
#define ZRAM_CTL	"/sys/class/zram-control"
#define SDEBUG_PARAMS	"lbpu=1 lbprz=1 dev_size_mb=64 sector_size=4096 delay=0"
#define SDEBUG_DISKS	"/sys/bus/pseudo/devices/adapter*/host*/target*/*:*/block/sd*"
#define RAM_SIZE	(64 * MIB)
/* zram has no index: each probe may pass thousands of slots, under emulation */
#define RAM_TIMEOUT	240

/* A RAM disk made for one test. */
struct ramdev {
	int fd;			/* O_DIRECT, for writes and discards */
	int rfd;		/* buffered, for queries and reads */
	char path[64];
	char cfg[128];		/* null_blk: its configfs directory */
	int zram;		/* zram: its number */
	bool sdebug;		/* scsi_debug: loaded by the test */
};

/*
 * md arrays without superblocks (what mdadm --build makes), assembled
 * through md's ioctls over loop devices, so that no tool is needed: a
 * member's data starts at its sector 0.
 */
#define MD_NEW_ARRAY	"/sys/module/md_mod/parameters/new_array"
#define MD_TIMEOUT	120

struct md_env {
	bool mounted;
	struct dev lo[NR_LOOPS];
	char name[32];
	int fd;
	off_t size;
};

static void md_env_setup(struct __test_metadata *_metadata, struct md_env *e)
{
	char file[64];
	int i;

	e->fd = -1;
	e->name[0] = 0;
	for (i = 0; i < NR_LOOPS; i++) {
		snprintf(file, sizeof(file), MNT "/member%d.img", i);
		dev_init(&e->lo[i], file);
	}
	tmp_setup(_metadata, &e->mounted);
	if (!e->mounted)
		return;
	if (access(MD_NEW_ARRAY, F_OK))
		SKIP(return, "no " MD_NEW_ARRAY " (CONFIG_BLK_DEV_MD)");
}

/* Stop the array (it goes away at its last close), then the members. */
static void md_env_teardown(struct md_env *e)
{
	int i;

	if (e->fd >= 0) {
		if (ioctl(e->fd, STOP_ARRAY, 0))
			fprintf(stderr, "# cannot stop %s: %s\n", e->name,
				strerror(errno));
		close(e->fd);
	}
	e->fd = -1;
	for (i = 0; i < NR_LOOPS; i++)
		dev_release(&e->lo[i]);
	tmp_teardown(e->mounted);
}

static int write_sysfs(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Assemble an array of @level over the first @n loop devices of @e, each
 * @member bytes, in that order; @layout for raid0 (0: md's default).
 */
static void md_build(struct __test_metadata *_metadata, struct md_env *e,
		     int level, int n, int chunk, int layout, off_t member)
{
	mdu_array_info_t info = {
		.level = level,
		.raid_disks = n,
		.chunk_size = chunk,
		.size = member >> 10,
		.not_persistent = 1,
		.state = 1 << MD_SB_CLEAN,
	};
	char path[96], val[16];
	struct stat st;
	int i, ret;

	snprintf(e->name, sizeof(e->name), "md_ksft_%d", (int)getpid());
	ret = write_sysfs(MD_NEW_ARRAY, e->name);
	ASSERT_EQ(0, ret) TH_LOG("new_array %s: %s", e->name, strerror(-ret));
	snprintf(path, sizeof(path), "/dev/%s", e->name);
	e->fd = wait_open(path, O_RDWR);
	ASSERT_LE(0, e->fd) TH_LOG("open %s: %s", path, strerror(errno));
	ASSERT_EQ(0, ioctl(e->fd, SET_ARRAY_INFO, &info))
		TH_LOG("SET_ARRAY_INFO: %s", strerror(errno));
	if (layout) {
		snprintf(path, sizeof(path), "/sys/block/%s/md/layout", e->name);
		snprintf(val, sizeof(val), "%d", layout);
		ASSERT_EQ(0, write_sysfs(path, val));
	}
	for (i = 0; i < n; i++) {
		mdu_disk_info_t disk = {
			.number = i,
			.raid_disk = i,
			.state = (1 << MD_DISK_ACTIVE) | (1 << MD_DISK_SYNC),
		};

		ASSERT_EQ(0, fstat(e->lo[i].loop_fd, &st));
		disk.major = major(st.st_rdev);
		disk.minor = minor(st.st_rdev);
		ASSERT_EQ(0, ioctl(e->fd, ADD_NEW_DISK, &disk))
			TH_LOG("ADD_NEW_DISK %s: %s", e->lo[i].loop_path,
			       strerror(errno));
	}
	ASSERT_EQ(0, ioctl(e->fd, RUN_ARRAY, 0))
		TH_LOG("RUN_ARRAY: %s", strerror(errno));
	e->size = lseek(e->fd, 0, SEEK_END);
	ASSERT_LT(0, e->size);
	ASSERT_EQ(0, lseek(e->fd, 0, SEEK_SET));
}

/*
 * Where reads of @fd return anything but zeros, 4 KiB at a time: the
 * map of an array whose members hold non-zero bytes wherever they have
 * data (make_backing()) and zeros in their holes. Reads, not md's code,
 * say where each member's bytes appear in the array.
 */
static void nonzero_map(struct __test_metadata *_metadata, int fd, off_t size,
			struct map *m)
{
	static char buf[4096];
	off_t off;
	size_t i;

	m->nr = 0;
	for (off = 0; off < size; off += sizeof(buf)) {
		ASSERT_EQ((ssize_t)sizeof(buf), pread(fd, buf, sizeof(buf), off));
		for (i = 0; i < sizeof(buf) && !buf[i]; i++)
			;
		if (i < sizeof(buf))
			map_add(_metadata, m, off, off + sizeof(buf));
	}
}

FIXTURE(md) {
	struct md_env e;
};

FIXTURE_VARIANT(md) {
	int level;		/* -1: linear */
	int chunk;
	int layout;		/* raid0's, for more than one zone */
	int nr;
	off_t size[3];		/* of each member */
};

FIXTURE_VARIANT_ADD(md, raid0_two_64k) {
	.level = 0, .chunk = 65536, .nr = 2, .size = { U(32), U(32) },
};

/*
 * Three zones: the second with two members, the third with one. The second
 * zone starts at chunk 21: in the original layout its first chunk goes to
 * its second member (disk_shift 1), in the alternate one to its first.
 */
FIXTURE_VARIANT_ADD(md, raid0_zones_original) {
	.level = 0, .chunk = 65536, .layout = 1, .nr = 3,
	.size = { U(32), U(24), U(7) },
};

FIXTURE_VARIANT_ADD(md, raid0_zones_alternate) {
	.level = 0, .chunk = 65536, .layout = 2, .nr = 3,
	.size = { U(32), U(24), U(7) },
};

/* Chunks that are not a power of two. */
FIXTURE_VARIANT_ADD(md, raid0_12k_chunks) {
	.level = 0, .chunk = 12288, .nr = 2, .size = { U(32), U(32) },
};

FIXTURE_VARIANT_ADD(md, linear) {
	.level = -1, .chunk = 0, .nr = 2, .size = { U(32), U(24) },
};

FIXTURE_SETUP(md)
{
	md_env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(md)
{
	md_env_teardown(&self->e);
}

/*
 * raid0 and linear: the map is where reads of the array return data. Each
 * member has its own layout, so a member answered in the wrong place, or
 * not at all, shows.
 */
TEST_F_TIMEOUT(md, map, MD_TIMEOUT)
{
	const struct { const struct extent *data; int nr; } layout[] = {
		{ mixed, ARRAY_SIZE(mixed) },
		{ holes_at_ends, ARRAY_SIZE(holes_at_ends) },
		{ data_at_ends, ARRAY_SIZE(data_at_ends) },
	};
	struct map want, got;
	int i;

	for (i = 0; i < variant->nr; i++) {
		struct map part = { 0 };

		map_add_slice(_metadata, &part, layout[i].data, layout[i].nr,
			      0, variant->size[i], 0);
		make_backing(_metadata, &self->e.lo[i], part.ext, part.nr,
			     variant->size[i]);
		attach(_metadata, &self->e.lo[i], 0, 0, 0);
	}
	md_build(_metadata, &self->e, variant->level, variant->nr,
		 variant->chunk, variant->layout, 0);
	nonzero_map(_metadata, self->e.fd, self->e.size, &want);
	ASSERT_LT(1, want.nr) TH_LOG("the array reads as one run: no test");

	require_seek(_metadata, self->e.fd);
	walk_map(_metadata, self->e.fd, 0, self->e.size, &got, true);
	EXPECT_TRUE(maps_match(_metadata, "reads", &want, self->e.name, &got));
	probe_all(_metadata, self->e.fd, &want, self->e.size);
	check_bounds(_metadata, self->e.fd, self->e.size);
}

FIXTURE(md_mirror) {
	struct md_env e;
};

FIXTURE_SETUP(md_mirror)
{
	md_env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(md_mirror)
{
	md_env_teardown(&self->e);
}

/*
 * raid1 over two copies with different holes (as after writes that reached
 * one copy only): a read may go to either, so the map is the union of the
 * copies' data, and every hole reads zeros from both.
 */
TEST_F_TIMEOUT(md_mirror, raid1_union, MD_TIMEOUT)
{
	struct map want = { 0 }, got;
	int i;

	make_backing(_metadata, &self->e.lo[0], mixed, ARRAY_SIZE(mixed),
		     U(32));
	make_backing(_metadata, &self->e.lo[1], holes_at_ends,
		     ARRAY_SIZE(holes_at_ends), U(32));
	for (i = 0; i < 2; i++)
		attach(_metadata, &self->e.lo[i], 0, 0, 0);
	map_add_slice(_metadata, &want, mixed, ARRAY_SIZE(mixed), 0, U(32), 0);
	map_add_slice(_metadata, &want, holes_at_ends,
		      ARRAY_SIZE(holes_at_ends), 0, U(32), 0);
	md_build(_metadata, &self->e, 1, 2, 0, 0, U(32));

	require_seek(_metadata, self->e.fd);
	walk_map(_metadata, self->e.fd, 0, self->e.size, &got, true);
	EXPECT_TRUE(maps_match(_metadata, "union", &want, self->e.name, &got));
	probe_all(_metadata, self->e.fd, &want, self->e.size);
	check_bounds(_metadata, self->e.fd, self->e.size);
	expect_holes_zero(_metadata, self->e.fd, &got, self->e.size);
}

/* raid5 computes parity over every member: all data, even over holes. */
TEST_F_TIMEOUT(md_mirror, raid5_all_data, MD_TIMEOUT)
{
	struct map got;
	int i;

	for (i = 0; i < 3; i++) {
		make_backing(_metadata, &self->e.lo[i], NULL, 0, U(16));
		attach(_metadata, &self->e.lo[i], 0, 0, 0);
	}
	md_build(_metadata, &self->e, 5, 3, 65536, 0, U(16));

	require_seek(_metadata, self->e.fd);
	walk_map(_metadata, self->e.fd, 0, self->e.size, &got, true);
	ASSERT_EQ(1, got.nr);
	EXPECT_EQ(0, got.ext[0].start);
	EXPECT_EQ(self->e.size, got.ext[0].end);
}

FIXTURE(ramdisk) {
	struct ramdev r;
};

FIXTURE_VARIANT(ramdisk) {
	const char *kind;
};

FIXTURE_VARIANT_ADD(ramdisk, brd) { .kind = "brd" };
FIXTURE_VARIANT_ADD(ramdisk, null_blk) { .kind = "null_blk" };
FIXTURE_VARIANT_ADD(ramdisk, zram) { .kind = "zram" };
FIXTURE_VARIANT_ADD(ramdisk, scsi_debug) { .kind = "scsi_debug" };

/* Write @val to the sysfs or configfs file @dir/@attr; 0 or -errno. */
static int put_attr(const char *dir, const char *attr, const char *val)
{
	char path[192];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

/* Read an integer from @path; -1 if it cannot. */
static long get_num(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/* Load scsi_debug with SDEBUG_PARAMS; 0 or -1. */
static int sdebug_load(void)
{
	const char *ko = getenv("SCSI_DEBUG_KO");
	int fd, ret;

	if (!ko || !*ko)
		return system("modprobe scsi_debug " SDEBUG_PARAMS) ? -1 : 0;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = syscall(__NR_finit_module, fd, SDEBUG_PARAMS, 0);
	close(fd);
	return ret ? -1 : 0;
}

/* The path of scsi_debug's one disk, in @path; 0 or -1. */
static int sdebug_disk(char *path, size_t len)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	glob_t g;
	int i, ret = -1;

	for (i = 0; i < WAIT_MS / 10 && ret; i++) {
		if (glob(SDEBUG_DISKS, 0, NULL, &g) == 0) {
			if (g.gl_pathc == 1) {
				snprintf(path, len, "/dev/%s",
					 strrchr(g.gl_pathv[0], '/') + 1);
				ret = 0;
			}
			globfree(&g);
		}
		if (ret)
			nanosleep(&ts, NULL);
	}
	return ret;
}

/*
 * Only checks what the variant needs: the test body makes the device, so
 * that the teardown, which runs after a failed test but not after a failed
 * setup, always removes what was made.
 */
FIXTURE_SETUP(ramdisk)
{
	self->r.fd = -1;
	self->r.rfd = -1;
	self->r.zram = -1;
	self->r.cfg[0] = '\0';
	self->r.sdebug = false;
	if (geteuid())
		SKIP(return, "must be run as root");
	if (!strcmp(variant->kind, "brd")) {
		if (access("/dev/ram0", F_OK))
			SKIP(return, "no /dev/ram0 (CONFIG_BLK_DEV_RAM)");
	} else if (!strcmp(variant->kind, "null_blk")) {
		if (access(NULLB_CFG, F_OK))
			mount("configfs", "/sys/kernel/config", "configfs", 0,
			      NULL);
		if (access(NULLB_CFG, F_OK))
			SKIP(return, "no %s (CONFIG_BLK_DEV_NULL_BLK, CONFIG_CONFIGFS_FS)",
			     NULLB_CFG);
	} else if (!strcmp(variant->kind, "scsi_debug")) {
		if (!access("/sys/module/scsi_debug", F_OK))
			SKIP(return, "scsi_debug is already loaded");
		if (sdebug_load())
			SKIP(return, "cannot load scsi_debug (%s)",
			     "CONFIG_SCSI_DEBUG=m, or SCSI_DEBUG_KO=file");
		self->r.sdebug = true;
	} else if (access(ZRAM_CTL, F_OK)) {
		SKIP(return, "no %s (CONFIG_ZRAM)", ZRAM_CTL);
	}
}

/* Make the variant's device, empty and RAM_SIZE long, and open it. */
static void ram_create(struct __test_metadata *_metadata, struct ramdev *r,
		       const char *kind)
{
	char num[64];
	long nr;

	if (!strcmp(kind, "brd")) {
		snprintf(r->path, sizeof(r->path), "/dev/ram0");
	} else if (!strcmp(kind, "null_blk")) {
		snprintf(r->cfg, sizeof(r->cfg), NULLB_CFG "/seek_hole_%d",
			 getpid());
		if (mkdir(r->cfg, 0755))
			r->cfg[0] = '\0';
		ASSERT_NE('\0', r->cfg[0]) TH_LOG("mkdir: %s", strerror(errno));
		ASSERT_EQ(0, put_attr(r->cfg, "size", "64"));
		ASSERT_EQ(0, put_attr(r->cfg, "blocksize", "4096"));
		ASSERT_EQ(0, put_attr(r->cfg, "memory_backed", "1"));
		ASSERT_EQ(0, put_attr(r->cfg, "discard", "1"));
		ASSERT_EQ(0, put_attr(r->cfg, "power", "1"));
		/* Named after its configfs directory. */
		snprintf(r->path, sizeof(r->path), "/dev/seek_hole_%d",
			 getpid());
	} else if (!strcmp(kind, "scsi_debug")) {
		ASSERT_EQ(0, sdebug_disk(r->path, sizeof(r->path)))
			TH_LOG("scsi_debug made no disk");
	} else {
		nr = get_num(ZRAM_CTL "/hot_add");
		ASSERT_LE(0, nr);
		r->zram = nr;
		snprintf(num, sizeof(num), "/sys/block/zram%ld", nr);
		ASSERT_EQ(0, put_attr(num, "disksize", "64M"));
		snprintf(r->path, sizeof(r->path), "/dev/zram%ld", nr);
	}
	r->fd = wait_open(r->path, O_RDWR | O_DIRECT);
	ASSERT_LE(0, r->fd) TH_LOG("open %s: %s", r->path, strerror(errno));
	r->rfd = open(r->path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, r->rfd);
	ASSERT_EQ(RAM_SIZE, lseek(r->fd, 0, SEEK_END))
		TH_LOG("%s is not %lld bytes", r->path, (long long)RAM_SIZE);
	if (!strcmp(kind, "brd") || !strcmp(kind, "scsi_debug")) {
		uint64_t range[2] = { 0, RAM_SIZE };

		ASSERT_EQ(0, ioctl(r->fd, BLKDISCARD, range));
	}
}

FIXTURE_TEARDOWN(ramdisk)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	char dir[64], num[16];
	int i;

	if (self->r.fd >= 0) {
		if (!strcmp(variant->kind, "brd")) {
			uint64_t range[2] = { 0, RAM_SIZE };

			ioctl(self->r.fd, BLKDISCARD, range);
		}
		close(self->r.fd);
	}
	if (self->r.rfd >= 0)
		close(self->r.rfd);
	if (self->r.cfg[0])
		rmdir(self->r.cfg);
	if (self->r.zram >= 0) {
		snprintf(dir, sizeof(dir), "/sys/block/zram%d", self->r.zram);
		put_attr(dir, "reset", "1");
		snprintf(num, sizeof(num), "%d", self->r.zram);
		put_attr(ZRAM_CTL, "hot_remove", num);
	}
	/* The disk's last user is gone: the module goes at once or soon. */
	for (i = 0; self->r.sdebug && i < WAIT_MS / 10; i++) {
		if (!syscall(__NR_delete_module, "scsi_debug", O_NONBLOCK))
			break;
		nanosleep(&ts, NULL);
	}
}

/* O_DIRECT write of @len bytes of @byte at @off. */
static void ram_write(struct __test_metadata *_metadata, int fd, off_t off,
		      off_t len, int byte)
{
	void *buf;
	off_t done;
	int i;

	ASSERT_EQ(0, posix_memalign(&buf, 4096, UNIT));
	/* Not one byte repeated: zram stores it compressed, not same-filled. */
	for (i = 0; i < UNIT; i++)
		((unsigned char *)buf)[i] = byte ? byte ^ (i % 61) : 0;
	for (done = 0; done < len; done += UNIT)
		ASSERT_EQ(off_min(UNIT, len - done),
			  pwrite(fd, buf, off_min(UNIT, len - done), off + done));
	free(buf);
}

TEST_F_TIMEOUT(ramdisk, map, RAM_TIMEOUT)
{
	struct map want = { 0 };
	uint64_t range[2] = { U(8), U(1) };
	int i;

	ram_create(_metadata, &self->r, variant->kind);
	require_seek(_metadata, self->r.rfd);
	for (i = 0; i < (int)ARRAY_SIZE(mixed); i++) {
		ram_write(_metadata, self->r.fd, mixed[i].start,
			  mixed[i].end - mixed[i].start, 0xa5);
		map_add(_metadata, &want, mixed[i].start, mixed[i].end);
	}
	/* Data at the very end of the disk. */
	ram_write(_metadata, self->r.fd, RAM_SIZE - 4096, 4096, 0xa5);
	map_add(_metadata, &want, RAM_SIZE - 4096, RAM_SIZE);
	/* Whole pages inside an extent are freed. */
	ASSERT_EQ(0, ioctl(self->r.fd, BLKDISCARD, range));
	map_del(_metadata, &want, U(8), U(9));
	/* A page of zeros: a hole on zram only. */
	ram_write(_metadata, self->r.fd, U(24), 4096, 0);
	if (strcmp(variant->kind, "zram"))
		map_add(_metadata, &want, U(24), U(24) + 4096);

	{
		struct map got;

		walk_map(_metadata, self->r.rfd, 0, RAM_SIZE, &got, true);
		EXPECT_TRUE(maps_match(_metadata, "written", &want,
				       self->r.path, &got));
		probe_all(_metadata, self->r.rfd, &want, RAM_SIZE);
		check_bounds(_metadata, self->r.rfd, RAM_SIZE);
		expect_holes_zero(_metadata, self->r.rfd, &got, RAM_SIZE);
	}
}

TEST_HARNESS_MAIN
