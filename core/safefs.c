/* SPDX-License-Identifier: MIT */
/*
 * Link-free opening of workspace and storage paths; see safefs.h.  Every
 * component is opened with openat(O_NOFOLLOW) below the fd of the previous
 * one, so no path is ever resolved by the kernel across a link.
 */
#include "safefs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int safefs_owner_of(int dirfd, struct safefs_owner *own)
{
	struct stat st;

	own->set = false;
	if (fstat(dirfd, &st) < 0)
		return -errno;
	if (geteuid() == 0 && st.st_uid != 0) {
		own->set = true;
		own->uid = st.st_uid;
		own->gid = st.st_gid;
	}
	return 0;
}

/* Give what was just created (@fd) its mode and owner. */
static int adopt(int fd, unsigned flags, mode_t mode,
		 const struct safefs_owner *own)
{
	if ((flags & SAFEFS_EXACT_MODE) && fchmod(fd, mode) < 0)
		return -errno;
	if (own && own->set && fchown(fd, own->uid, own->gid) < 0)
		return -errno;
	return 0;
}

/*
 * Why opening @name below @dirfd failed with @err: -ELOOP for a link,
 * @want_dir ? -ENOTDIR : -EFTYPE_SAFEFS for another type, else -@err.
 */
static int classify(int dirfd, const char *name, int err, bool want_dir)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -err;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (want_dir && !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!want_dir && !S_ISREG(st.st_mode))
		return -EFTYPE_SAFEFS;
	return -err;
}

/* One directory component @name below @dirfd; see safefs_open_dir(). */
static int open_one_dir(int dirfd, const char *name, unsigned flags,
			mode_t mode, const struct safefs_owner *own)
{
	const int oflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	bool made = false;
	int fd, r;

	fd = openat(dirfd, name, oflags);
	if (fd < 0 && errno == ENOENT && (flags & SAFEFS_CREATE)) {
		if (mkdirat(dirfd, name, mode) == 0)
			made = true;
		else if (errno != EEXIST)
			return -errno;
		fd = openat(dirfd, name, oflags);
	}
	if (fd < 0)
		return classify(dirfd, name, errno, true);
	if (made) {
		r = adopt(fd, flags, mode, own);
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	return fd;
}

/*
 * Walk the directories of @path (all of it, or all but the last component
 * when @last is not NULL: *@last then points at it).  Returns a new fd of
 * the directory reached or -errno.
 */
static int walk(int dirfd, const char *path, unsigned flags, mode_t mode,
		const struct safefs_owner *own, const char **last)
{
	char name[NAME_MAX + 1];
	const char *p = path, *slash;
	int fd, next;
	size_t n;

	fd = openat(dirfd, *p == '/' ? "/" : ".",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		while (*p == '/')
			p++;
		slash = strchr(p, '/');
		if (last && !slash) {
			*last = p;
			return fd;
		}
		if (!*p)
			return fd;
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n > NAME_MAX) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		next = open_one_dir(fd, name, flags, mode, own);
		close(fd);
		if (next < 0)
			return next;
		fd = next;
		p += n;
	}
}

int safefs_open_parent(const char *path, const char **ret_name)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd;

	if (!slash) {
		dir[0] = '.';
		dir[1] = '\0';
	} else if (slash == path) {
		dir[0] = '/';
		dir[1] = '\0';
	} else if ((size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	} else {
		return -ENAMETOOLONG;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_name = slash ? slash + 1 : path;
	return fd;
}

int safefs_open_dir(int dirfd, const char *path, unsigned flags, mode_t mode,
		    const struct safefs_owner *own)
{
	return walk(dirfd, path, flags, mode, own, NULL);
}

int safefs_open_file(int dirfd, const char *path, int oflags, unsigned flags,
		     mode_t mode, const struct safefs_owner *own)
{
	const int always = O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	const char *name = NULL;
	struct stat st;
	bool made = false;
	int dfd, fd, r;

	dfd = walk(dirfd, path, 0, 0, NULL, &name);
	if (dfd < 0)
		return dfd;
	if (!*name) {
		r = -EISDIR;
		goto out;
	}
	if ((oflags & O_CREAT) && !(oflags & O_EXCL)) {
		/* know whether this call made it, to give it mode and owner */
		fd = openat(dfd, name, oflags | O_EXCL | always, mode);
		made = fd >= 0;
		if (fd < 0 && errno == EEXIST)
			fd = openat(dfd, name, (oflags & ~O_CREAT) | always);
	} else {
		fd = openat(dfd, name, oflags | always, mode);
		made = fd >= 0 && (oflags & O_EXCL);
	}
	if (fd < 0) {
		r = classify(dfd, name, errno, false);
		goto out;
	}
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EFTYPE_SAFEFS;	/* opened O_NONBLOCK: never waited */
	else
		r = made ? adopt(fd, flags, mode, own) : 0;
	if (r == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		goto out;
	}
	r = fd;
out:
	close(dfd);
	return r;
}

int safefs_stat_file(int dirfd, const char *path, struct stat *ret_st)
{
	const char *name = NULL;
	struct stat st;
	int dfd, r;

	dfd = walk(dirfd, path, 0, 0, NULL, &name);
	if (dfd < 0)
		return dfd;
	if (fstatat(dfd, *name ? name : ".", &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	else if (S_ISLNK(st.st_mode))
		r = -ELOOP;
	else if (!S_ISREG(st.st_mode))
		r = -EFTYPE_SAFEFS;
	else
		r = 0;
	close(dfd);
	if (r == 0 && ret_st)
		*ret_st = st;
	return r;
}

int safefs_check_file(int dirfd, const char *path)
{
	return safefs_stat_file(dirfd, path, NULL);
}

int safefs_make_private(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != geteuid() || !(st.st_mode & 077))
		return 0;
	return fchmod(fd, st.st_mode & 07700) < 0 ? -errno : 0;
}

const char *safefs_strerror(int r)
{
	switch (-r) {
	case ELOOP:
		return "a symbolic link is in the way (cmffs follows no link in a workspace or a storage)";
	case ENOTDIR:
		return "something that is not a directory is in the way";
	case EFTYPE_SAFEFS:
		return "not a regular file (a FIFO, a socket, a device or a directory)";
	default:
		return strerrordesc_np(-r);
	}
}
