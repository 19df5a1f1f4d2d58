// SPDX-License-Identifier: GPL-2.0
/*
 * Reproducer (found by `make stress`, loop-cycle scenario): LOOP_CONFIGURE
 * on a loop device that is still bound, passing the very file descriptor
 * it is bound to, fails with EBUSY as it should, but the series'
 * loop_configure() error path ("Leave nothing that points at the files put
 * below") then finds lo_backing_file == file and sets lo_backing_file and
 * lo_seek_file of the live binding to NULL. The next read of the device
 * dereferences the NULL file in lo_rw_aio() (kworker oops); clearing the
 * device would do the same in __loop_clr_fd(), and the private seek file
 * is leaked.
 *
 *   cc -o build/stress/loop_configure_busy stress/repro/loop_configure_busy.c
 *   make vm CMD=build/stress/loop_configure_busy
 *
 * Prints "EBUSY as expected" and then reads the device: on a good kernel
 * the read succeeds and the run passes; on the affected one the kernel
 * oopses and harness/vm fails the run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
	char path[] = "/tmp/loop-configure-busy-XXXXXX";
	int file = mkstemp(path);
	if (file < 0 || ftruncate(file, 1 << 20) || pwrite(file, "x", 1, 0) != 1) {
		perror("backing file");
		return 2;
	}
	unlink(path);
	int ctl = open("/dev/loop-control", O_RDWR);
	int n = ioctl(ctl, LOOP_CTL_GET_FREE);
	char dev[32];
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	int fd = open(dev, O_RDWR);
	if (ctl < 0 || n < 0 || fd < 0) {
		perror(dev);
		return 2;
	}
	struct loop_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = file;
	cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
	if (ioctl(fd, LOOP_CONFIGURE, &cfg)) {
		perror("LOOP_CONFIGURE");
		return 2;
	}
	/* Bound: configuring it again with the same file must fail... */
	if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0 || errno != EBUSY) {
		fprintf(stderr, "second LOOP_CONFIGURE: %s\n", strerror(errno));
		return 2;
	}
	printf("second LOOP_CONFIGURE: EBUSY as expected\n");
	fflush(stdout);
	/* ...and leave the binding alone: read through it. */
	int direct = open(dev, O_RDONLY | O_DIRECT);
	void *buf;
	if (direct < 0 || posix_memalign(&buf, 4096, 4096)) {
		perror(dev);
		return 2;
	}
	ssize_t r = pread(direct, buf, 4096, 0);
	printf("read after EBUSY: %zd (%s), first byte %c\n", r,
	       r < 0 ? strerror(errno) : "ok", r > 0 ? ((char *)buf)[0] : '-');
	close(direct);
	ioctl(fd, LOOP_CLR_FD);
	close(fd);
	return r == 4096 && ((char *)buf)[0] == 'x' ? 0 : 1;
}
