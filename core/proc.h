/* SPDX-License-Identifier: MIT */
/*
 * Facts about a process read from /proc, for the FUSE operations that must
 * know who is calling (FUSE gives the calling thread's id).  Non-blocking,
 * no subprocess; a process that is gone gives -ENOENT or false.
 */
#ifndef CMFFS_PROC_H
#define CMFFS_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/* What cmffs reads of /proc/PID/stat (field numbers of proc(5)). */
struct proc_stat {
	pid_t ppid;		/* 4: parent process id */
	unsigned long flags;	/* 9: the kernel's PF_* flags */
	long exit_code;		/* 52: wait status while exiting */
};

/*
 * Parse a /proc/PID/stat file: @path relative to @dirfd ("stat" in an
 * open /proc/PID directory, O_PATH is enough; or "/proc/PID/stat" with
 * AT_FDCWD).  A field the kernel does not show is 0.  Returns 0, -EPROTO
 * if the file is not what the kernel writes, or -errno of reading it
 * (-ENOENT: the process is gone).
 */
int proc_stat_read(int dirfd, const char *path, struct proc_stat *ret);

/* The thread group (process) id of thread @tid.  0 or -errno. */
int proc_tgid(pid_t tid, pid_t *ret_tgid);

/* Do threads @a and @b belong to one process?  False if either is gone. */
bool proc_same_process(pid_t a, pid_t b);

/*
 * Does the process of thread @tid map @path (absolute, as the kernel shows
 * it in /proc/PID/maps) shared and writable?  Such a mapping keeps the
 * open file description after close(): its writes are not done yet.
 */
bool proc_maps_shared_writable(pid_t tid, const char *path);

/*
 * Is @tid exiting because a signal killed it (kill -9 of a cp halfway)?
 * The kernel shows the dying task's PF_EXITING flag (field 9 of
 * /proc/PID/stat) and its wait status (field 52, exit_code) while it
 * closes its files.
 */
bool proc_killed_by_signal(pid_t tid);

#endif
