/* SPDX-License-Identifier: MIT */
/*
 * Content-addressed store; see cas.h.  Every file operation is relative to
 * directory fds opened once, so a path is never re-resolved from the root.
 */
#include "cas.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefs.h"

struct cas {
	char *objects_path;	/* WS/.cmf/cache/files/md5 */
	int objects_fd;		/* that directory */
	int tmp_fd;		/* WS/.cmf/tmp */
	struct safefs_owner own;	/* of what is created; see safefs.h */
};

/* Remove every file of the temporary directory: leftovers of a crash. */
static void clean_tmp_dir(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	/* dirfd was opened without following links: only its entries go */
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			(void)unlinkat(dirfd, de->d_name, 0);
	closedir(d);
}

int cas_open(const char *ws, struct cas **ret_cas)
{
	const unsigned mk = SAFEFS_CREATE | SAFEFS_EXACT_MODE;
	struct cas *cas;
	int wsfd, r;

	cas = calloc(1, sizeof(*cas));
	if (!cas)
		return -ENOMEM;
	cas->objects_fd = cas->tmp_fd = -1;
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

int cas_open_object(struct cas *cas, const char *md5, int *ret_fd)
{
	int dfd, fd;

	if (!oid_valid(md5))
		return -EINVAL;
	dfd = fanout_open(cas, md5, false);
	if (dfd < 0)
		return dfd;
	fd = safefs_open_file(dfd, md5 + 2, O_RDONLY, 0, 0, NULL);
	close(dfd);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
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
