/* SPDX-License-Identifier: MIT */
/*
 * The filesystem: serves a workspace's metadata store and content store as
 * a FUSE mount (doc/design.md §1).  Entry point for `cmffs mount`.
 */
#ifndef CMFFS_FS_H
#define CMFFS_FS_H

#include <stdbool.h>

struct fs_mount_opts {
	const char *workspace;	/* absolute path of WS */
	const char *mountpoint;
	bool foreground;	/* -f */
	bool debug;		/* -d: libfuse request tracing, implies -f */
	bool single_thread;	/* -s */
	int fuse_argc;		/* extra "-o opt" arguments for libfuse */
	char **fuse_argv;
};

/*
 * Mount and serve until unmounted or signalled.  Returns the process exit
 * status (0 on a clean unmount); errors are reported on stderr as one
 * "cmffs: ..." line.  Without @foreground the process daemonizes once the
 * mount is established, so the caller's exit means the mount is ready.
 */
int fs_mount(const struct fs_mount_opts *opts);

#endif
