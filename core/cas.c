/* SPDX-License-Identifier: MIT */
/*
 * Content-addressed store; see cas.h.  Every file operation is relative to
 * directory fds opened once, so a path is never re-resolved from the root.
 */
#include "cas.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefs.h"

struct cas {
	char *objects_path;	/* WS/.cmf/cache/files/md5 */
	int objects_fd;		/* that directory */
	int tmp_fd;		/* WS/.cmf/tmp */
	int lock_fd;		/* WS/.cmf/cache.lock, or -1; see cas_hold() */
	struct safefs_owner own;	/* of what is created; see safefs.h */
	pthread_mutex_t hold_lock;
	unsigned holds;		/* protected by hold_lock */
};

/*
 * A directory of @dirfd's (".", or a name opened safely below it) as a new
 * DIR with its own position: several threads may list one directory.
 */
static DIR *open_listing(int dirfd, const char *name)
{
	int fd = name ? safefs_open_dir(dirfd, name, 0, 0, NULL)
		      : openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

/*
 * Whether temporary @name (cas_tmp_create(): "w<pid>-<n>") may belong to a
 * live process: where there is no O_TMPFILE (NFS), a `cmffs status` or
 * `gc` next to a mount, or the mount's own later cas_open() (its sync and
 * fetch connections), must not take a temporary from under a writer.
 */
static bool tmp_in_use(const char *name)
{
	char *end;
	long pid;

	if (name[0] != 'w')
		return false;
	errno = 0;
	pid = strtol(name + 1, &end, 10);
	if (errno || *end != '-' || pid <= 0 || pid > INT_MAX)
		return false;
	if (pid == (long)getpid())
		return true;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Remove the files of the temporary directory: leftovers of a crash. */
static void clean_tmp_dir(int dirfd)
{
	DIR *d = open_listing(dirfd, NULL);
	struct dirent *de;

	if (!d)
		return;
	/* dirfd was opened without following links: only its entries go */
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !tmp_in_use(de->d_name))
			(void)unlinkat(dirfd, de->d_name, 0);
	closedir(d);
}

/* Whether safefs.h refused what it found in place of a file. */
static bool refused(int r)
{
	return r == -ELOOP || r == -EFTYPE_SAFEFS || r == -ENOTDIR;
}

/*
 * WS/.cmf/cache.lock into *@ret_fd, made if needed (0600); -1 where it can
 * be neither made nor opened (a read-only workspace).  A link or anything
 * but a regular file in its place is refused.  0 or -errno.
 */
static int open_lock_file(int wsfd, const struct safefs_owner *own,
			  int *ret_fd)
{
	int fd = safefs_open_file(wsfd, CAS_LOCK_FILE, O_RDWR | O_CREAT,
				  SAFEFS_EXACT_MODE, 0600, own);

	if (fd < 0 && !refused(fd))
		fd = safefs_open_file(wsfd, CAS_LOCK_FILE, O_RDONLY, 0, 0,
				      NULL);
	if (fd < 0 && refused(fd))
		return fd;
	if (fd >= 0)
		(void)safefs_make_private(fd);
	*ret_fd = fd < 0 ? -1 : fd;
	return 0;
}

int cas_open(const char *ws, struct cas **ret_cas)
{
	const unsigned mk = SAFEFS_CREATE | SAFEFS_EXACT_MODE;
	struct cas *cas;
	int wsfd, r;

	cas = calloc(1, sizeof(*cas));
	if (!cas)
		return -ENOMEM;
	cas->objects_fd = cas->tmp_fd = cas->lock_fd = -1;
	pthread_mutex_init(&cas->hold_lock, NULL);
	wsfd = open(ws, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wsfd < 0) {
		r = -errno;
		goto out;
	}
	if (asprintf(&cas->objects_path, "%s/" CAS_OBJECTS_DIR, ws) < 0) {
		cas->objects_path = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = safefs_owner_of(wsfd, &cas->own);
	if (r < 0)
		goto out;
	r = cas->objects_fd = safefs_open_dir(wsfd, CAS_OBJECTS_DIR, mk,
					      CAS_DIR_MODE, &cas->own);
	if (r < 0)
		goto out;
	r = cas->tmp_fd = safefs_open_dir(wsfd, CAS_TMP_DIR, mk, CAS_DIR_MODE,
					  &cas->own);
	if (r < 0)
		goto out;
	clean_tmp_dir(cas->tmp_fd);
	r = open_lock_file(wsfd, &cas->own, &cas->lock_fd);
	if (r < 0)
		goto out;
	*ret_cas = cas;
	cas = NULL;
	r = 0;
out:
	if (wsfd >= 0)
		close(wsfd);
	cas_close(cas);
	return r;
}

void cas_close(struct cas *cas)
{
	if (!cas)
		return;
	if (cas->objects_fd >= 0)
		close(cas->objects_fd);
	if (cas->tmp_fd >= 0)
		close(cas->tmp_fd);
	if (cas->lock_fd >= 0)
		close(cas->lock_fd);	/* releases its flock, if any */
	pthread_mutex_destroy(&cas->hold_lock);
	free(cas->objects_path);
	free(cas);
}

int cas_tmp_create(struct cas *cas, struct cas_tmp *ret_tmp)
{
	static unsigned counter;
	struct cas_tmp t = { .fd = -1 };
	int tries;

	t.fd = openat(cas->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (t.fd >= 0) {
		if (cas->own.set && fchown(t.fd, cas->own.uid, cas->own.gid) < 0) {
			int r = -errno;

			close(t.fd);
			return r;
		}
		*ret_tmp = t;
		return 0;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	for (tries = 0; tries < 100; tries++) {
		unsigned n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);

		snprintf(t.name, sizeof(t.name), "w%d-%u", (int)getpid(), n);
		t.fd = safefs_open_file(cas->tmp_fd, t.name, O_RDWR | O_CREAT | O_EXCL,
					SAFEFS_EXACT_MODE, 0600, &cas->own);
		if (t.fd >= 0) {
			*ret_tmp = t;
			return 0;
		}
		if (t.fd != -EEXIST)
			return t.fd;
	}
	return -EEXIST;
}

void cas_tmp_discard(struct cas *cas, struct cas_tmp *tmp)
{
	if (tmp->fd >= 0)
		close(tmp->fd);
	tmp->fd = -1;
	if (tmp->name[0])
		(void)unlinkat(cas->tmp_fd, tmp->name, 0);
	tmp->name[0] = '\0';
}

/* An object id: 32 hex digits, or those plus ".dir" (a DVC manifest). */
static bool oid_valid(const char *oid)
{
	char md5[MD5_HEX_LEN + 1];
	size_t n = strlen(oid);

	if (n != MD5_HEX_LEN && !(n == MD5_HEX_LEN + 4 &&
				  !strcmp(oid + MD5_HEX_LEN, ".dir")))
		return false;
	memcpy(md5, oid, MD5_HEX_LEN);
	md5[MD5_HEX_LEN] = '\0';
	return hash_is_md5(md5);
}

/* "ab" and "cdef..." (with ".dir" for manifests) of an object id */
static void split_md5(const char *oid, char dir[3], char rest[35])
{
	memcpy(dir, oid, 2);
	dir[2] = '\0';
	snprintf(rest, 35, "%s", oid + 2);
}

/*
 * Make @name (relative to @dirfd, a fan-out directory) for the bytes of
 * @tmp.  0, -EEXIST when an object of that name exists, or -errno.
 */
static int link_object(struct cas *cas, struct cas_tmp *tmp, int dirfd,
		       const char *name)
{
	char proc[64];
	int r;

	if (!tmp->name[0]) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tmp->fd);
		r = linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW);
	} else {
		r = renameat2(cas->tmp_fd, tmp->name, dirfd, name,
			      RENAME_NOREPLACE);
	}
	return r < 0 ? -errno : 0;
}

/* The fan-out directory "ab" of object @oid, opened (and made) safely. */
static int fanout_open(struct cas *cas, const char *oid, bool create)
{
	char dir[3] = { oid[0], oid[1], '\0' };

	return safefs_open_dir(cas->objects_fd, dir,
			       create ? SAFEFS_CREATE | SAFEFS_EXACT_MODE : 0,
			       CAS_DIR_MODE, &cas->own);
}

int cas_commit(struct cas *cas, struct cas_tmp *tmp, const char *md5)
{
	char dir[3], rest[35];
	int dfd, r;

	if (!oid_valid(md5))
		return -EINVAL;
	split_md5(md5, dir, rest);
	if (fchmod(tmp->fd, 0444) < 0)
		return -errno;
	dfd = fanout_open(cas, md5, true);
	if (dfd < 0)
		return dfd;
	r = link_object(cas, tmp, dfd, rest);
	close(dfd);
	if (r == -EEXIST) {
		/* identical content is stored once: drop this copy's name */
		if (tmp->name[0])
			(void)unlinkat(cas->tmp_fd, tmp->name, 0);
		r = 0;
	}
	if (r == 0)
		tmp->name[0] = '\0';	/* it has its final name now */
	return r;
}

/* Open object @oid with @oflags (O_RDONLY, maybe O_NOATIME). */
static int open_object(struct cas *cas, const char *oid, int oflags,
		       int *ret_fd)
{
	int dfd, fd;

	if (!oid_valid(oid))
		return -EINVAL;
	dfd = fanout_open(cas, oid, false);
	if (dfd < 0)
		return dfd;
	fd = safefs_open_file(dfd, oid + 2, oflags, 0, 0, NULL);
	/* O_NOATIME is for the file's owner (or CAP_FOWNER) only */
	if (fd == -EPERM && (oflags & O_NOATIME))
		fd = safefs_open_file(dfd, oid + 2, oflags & ~O_NOATIME, 0, 0,
				      NULL);
	close(dfd);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

int cas_open_object(struct cas *cas, const char *md5, int *ret_fd)
{
	return open_object(cas, md5, O_RDONLY | O_NOATIME, ret_fd);
}

int cas_read_object(struct cas *cas, const char *md5, int *ret_fd)
{
	static const struct timespec now[2] = {
		{ .tv_nsec = UTIME_NOW },	/* atime: read now */
		{ .tv_nsec = UTIME_OMIT },	/* mtime: unchanged */
	};
	int r = open_object(cas, md5, O_RDONLY, ret_fd);

	/* on the fd: no path is resolved again.  Only the owner (or root)
	 * may set times; another reader's read is then simply not counted */
	if (r == 0)
		(void)futimens(*ret_fd, now);
	return r;
}

bool cas_has(struct cas *cas, const char *md5)
{
	char path[MD5_HEX_LEN + 6];

	if (!oid_valid(md5))
		return false;
	snprintf(path, sizeof(path), "%.2s/%s", md5, md5 + 2);
	return safefs_check_file(cas->objects_fd, path) == 0;
}

int cas_object_path(struct cas *cas, const char *md5, char **ret_path)
{
	if (!oid_valid(md5))
		return -EINVAL;
	if (asprintf(ret_path, "%s/%.2s/%s", cas->objects_path, md5,
		     md5 + 2) < 0)
		return -ENOMEM;
	return 0;
}

/* A fan-out directory's name: two lowercase hex digits. */
static bool fanout_name(const char *name)
{
	return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

/* List the objects of fan-out directory @dir; see cas_list(). */
static int list_fanout(struct cas *cas, const char *dir, cas_object_fn fn,
		       void *ud)
{
	struct cas_object o;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0;

	d = open_listing(cas->objects_fd, dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (r == 0 && (errno = 0, de = readdir(d))) {
		if (strlen(de->d_name) + 2 >= sizeof(o.oid))
			continue;
		snprintf(o.oid, sizeof(o.oid), "%s%s", dir, de->d_name);
		if (!oid_valid(o.oid) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;	/* not an object, or gone meanwhile */
		o.size = (uint64_t)st.st_size;
		o.atime = st.st_atim;
		r = fn(ud, &o);
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

int cas_list(struct cas *cas, cas_object_fn fn, void *ud)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = open_listing(cas->objects_fd, NULL);
	if (!d)
		return -errno;
	while (r == 0 && (errno = 0, de = readdir(d)))
		if (fanout_name(de->d_name))
			r = list_fanout(cas, de->d_name, fn, ud);
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

int cas_remove(struct cas *cas, const char *oid, const struct timespec *atime)
{
	struct stat st;
	int dfd, r = 0;

	if (!oid_valid(oid))
		return -EINVAL;
	dfd = fanout_open(cas, oid, false);
	if (dfd < 0)
		return dfd;
	if (atime) {
		if (fstatat(dfd, oid + 2, &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
		else if (st.st_atim.tv_sec != atime->tv_sec ||
			 st.st_atim.tv_nsec != atime->tv_nsec)
			r = -ESTALE;	/* read since it was listed */
	}
	if (r == 0 && unlinkat(dfd, oid + 2, 0) < 0)
		r = -errno;
	close(dfd);
	return r;
}

/* flock(2) through signals; 0 or -errno. */
static int flock_intr(int fd, int op)
{
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

void cas_hold(struct cas *cas)
{
	pthread_mutex_lock(&cas->hold_lock);
	/*
	 * The first hold takes the shared lock; a sweep makes it wait.  A
	 * filesystem that cannot lock (NFS mounted nolock) must not stop
	 * commits: the lock is given up, and sweeps are refused instead.
	 */
	if (!cas->holds && cas->lock_fd >= 0 &&
	    flock_intr(cas->lock_fd, LOCK_SH) < 0) {
		close(cas->lock_fd);
		cas->lock_fd = -1;
	}
	cas->holds++;
	pthread_mutex_unlock(&cas->hold_lock);
}

void cas_unhold(struct cas *cas)
{
	pthread_mutex_lock(&cas->hold_lock);
	if (cas->holds && !--cas->holds && cas->lock_fd >= 0)
		(void)flock_intr(cas->lock_fd, LOCK_UN);
	pthread_mutex_unlock(&cas->hold_lock);
}

int cas_sweep_lock(struct cas *cas, unsigned timeout_s)
{
	unsigned waited_ms = 0;
	int fd, r;

	pthread_mutex_lock(&cas->hold_lock);
	fd = cas->holds ? -2 : cas->lock_fd;
	pthread_mutex_unlock(&cas->hold_lock);
	if (fd == -2)
		return -EDEADLK;	/* this cas commits: it would wait on
					 * itself */
	if (fd < 0)
		return -ENOLCK;
	for (;;) {
		r = flock_intr(fd, LOCK_EX | LOCK_NB);
		if (r != -EWOULDBLOCK || waited_ms >= timeout_s * 1000U)
			break;
		/* polled rather than waited for, to give up in time */
		usleep(50000);
		waited_ms += 50;
	}
	return r == -EWOULDBLOCK ? -EBUSY : r;
}

void cas_sweep_unlock(struct cas *cas)
{
	pthread_mutex_lock(&cas->hold_lock);
	if (cas->lock_fd >= 0)
		(void)flock_intr(cas->lock_fd, LOCK_UN);
	pthread_mutex_unlock(&cas->hold_lock);
}
