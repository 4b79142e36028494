/* SPDX-License-Identifier: MIT */
/*
 * Opening paths below a directory fd without following symbolic links, for
 * the workspace (WS/.cmfconfig, WS/mlmd, WS/.cmf/...) and a local storage
 * (REMOTE/files/md5/ab/...).  The daemon often runs as root over a
 * directory a user owns: whoever owns it can put a link, a FIFO or a device
 * where cmffs expects a file or a directory.  Nothing here follows such a
 * link out of the tree or blocks opening a FIFO.
 *
 * @path is relative to @dirfd (or AT_FDCWD) and may have several
 * components separated by '/'; each one is opened with O_NOFOLLOW below the
 * previous one, so a link anywhere on the way is refused, not only at the
 * end.  Errors, beyond those of the system calls:
 *	-ELOOP		a component is a symbolic link;
 *	-ENOTDIR	a component that must be a directory is something else;
 *	-EFTYPE_SAFEFS	the file is not a regular file (a FIFO, a socket, a
 *			device or a directory where a file belongs).
 * safefs_strerror() words them for a message.  All functions are
 * thread-safe (no global state).
 */
#ifndef CMFFS_SAFEFS_H
#define CMFFS_SAFEFS_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* "wrong type of file"; Linux has no EFTYPE, so EMEDIUMTYPE stands for it */
#define EFTYPE_SAFEFS EMEDIUMTYPE

/*
 * Whom new files and directories belong to.  A daemon running as root in
 * a directory owned by a user gives what it creates to that user, so the
 * workspace stays the user's (its files private to the user and readable
 * by the user's own cmffs commands).
 */
struct safefs_owner {
	bool set;	/* chown what is created to uid:gid */
	uid_t uid;
	gid_t gid;
};

/*
 * Fill @own for creating below directory @dirfd: set when the process runs
 * as root and the directory belongs to someone else.  0 or -errno.
 */
int safefs_owner_of(int dirfd, struct safefs_owner *own);

/*
 * Open the directory of @path (all but its last component) the ordinary
 * way, following links: that part is the caller's, resolved once here.
 * *@ret_name points at the last component, to open with the functions
 * below.  Returns the fd (O_RDONLY | O_DIRECTORY | O_CLOEXEC) or -errno.
 */
int safefs_open_parent(const char *path, const char **ret_name);

enum safefs_flags {
	SAFEFS_CREATE = 1 << 0,		/* create missing directories */
	SAFEFS_EXACT_MODE = 1 << 1,	/* what is created gets exactly
					 * @mode, whatever the umask */
};

/*
 * Open directory @path below @dirfd, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
 * following no link.  With SAFEFS_CREATE, missing components are created
 * with @mode (and the owner @own, which may be NULL); existing ones are
 * left as they are.  Returns the fd or -errno.
 */
int safefs_open_dir(int dirfd, const char *path, unsigned flags, mode_t mode,
		    const struct safefs_owner *own);

/*
 * Open regular file @path below @dirfd with @oflags (O_RDONLY, O_WRONLY or
 * O_RDWR, plus O_CREAT, O_EXCL, O_APPEND, O_TRUNC), following no link and
 * never blocking on a FIFO: the open is O_NONBLOCK and the type is checked
 * before anything is read.  The directories on the way must exist.  A file
 * this call creates gets @mode (exactly, with SAFEFS_EXACT_MODE in @flags)
 * and the owner @own (may be NULL).  The fd returned is blocking and
 * O_CLOEXEC.  Returns the fd or -errno.
 */
int safefs_open_file(int dirfd, const char *path, int oflags, unsigned flags,
		     mode_t mode, const struct safefs_owner *own);

/*
 * Check @path below @dirfd without opening or following it: 0 if it is a
 * regular file, -ENOENT if it does not exist, -ELOOP for a link (at the
 * end or on the way), -EFTYPE_SAFEFS for another type, or -errno.
 */
int safefs_check_file(int dirfd, const char *path);

/* safefs_check_file(), and the file's stat in *@ret_st (if not NULL). */
int safefs_stat_file(int dirfd, const char *path, struct stat *ret_st);

/*
 * Take the group's and others' permissions away from open file or
 * directory @fd if this process owns it (a root daemon leaves a user's
 * files alone).  0 or -errno.
 */
int safefs_make_private(int fd);

/*
 * The end of a message "cannot open 'X': ..." for @r: says what was found
 * for -ELOOP, -ENOTDIR and -EFTYPE_SAFEFS, else strerror.  Static string.
 */
const char *safefs_strerror(int r);

#endif
