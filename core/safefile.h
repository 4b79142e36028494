/* SPDX-License-Identifier: MIT */
/*
 * Reading small files that someone else controls (a user's repository,
 * site-packages, /proc) from a daemon that may run as root: never blocks on
 * a FIFO or device, never reads more than asked, refuses what is not a
 * regular file.
 */
#ifndef CMFFS_SAFEFILE_H
#define CMFFS_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/*
 * Read regular file @name (relative to @dirfd, which may be AT_FDCWD) into
 * a new NUL-terminated buffer (owned).  The file is opened O_NONBLOCK, so
 * a FIFO or device is refused without waiting.  At most @max bytes are
 * read: with @truncate the rest is ignored, otherwise a longer file gives
 * -EFBIG.  *@ret_len and *@ret_st (each optional) get the length and the
 * fstat() of the file.  Returns 0 or -errno (-EISDIR / -EINVAL for
 * non-regular files).
 */
int file_read_at(int dirfd, const char *name, size_t max, bool truncate,
		 char **ret_buf, size_t *ret_len, struct stat *ret_st);

#endif
