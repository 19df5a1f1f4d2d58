# Included by the top-level Makefile: GNU cp with the companion patch, built
# from Debian's coreutils source into build/coreutils/bin/cp (cached; quick
# when the patches did not change). See userspace/coreutils/README.md.
.PHONY: coreutils
coreutils:
	@COREUTILS_JOBS=$(NPROC) harness/coreutils build >/dev/null
