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

struct cas {
	char *objects_path;	/* WS/.cmf/cache/files/md5 */
	int objects_fd;		/* that directory */
	int tmp_fd;		/* WS/.cmf/tmp */
};

static int mkdir_p(const char *path)
{
	char *p = strdup(path), *s;
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		{
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST) {
				r = -errno;
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return r;
}

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
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			(void)unlinkat(dirfd, de->d_name, 0);
	closedir(d);
}

int cas_open(const char *ws, struct cas **ret_cas)
{
	struct cas *cas;
	char *tmp_path = NULL;
	int r;

	cas = calloc(1, sizeof(*cas));
	if (!cas)
		return -ENOMEM;
	cas->objects_fd = cas->tmp_fd = -1;
	if (asprintf(&cas->objects_path, "%s/.cmf/cache/files/md5", ws) < 0 ||
	    asprintf(&tmp_path, "%s/.cmf/tmp", ws) < 0) {
		cas->objects_path = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = mkdir_p(cas->objects_path);
	if (r == 0)
		r = mkdir_p(tmp_path);
	if (r < 0)
		goto out;
	cas->objects_fd = open(cas->objects_path,
			       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cas->tmp_fd = open(tmp_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cas->objects_fd < 0 || cas->tmp_fd < 0) {
		r = -errno;
		goto out;
	}
	clean_tmp_dir(cas->tmp_fd);
	*ret_cas = cas;
	cas = NULL;
out:
	free(tmp_path);
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
		*ret_tmp = t;
		return 0;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	for (tries = 0; tries < 100; tries++) {
		unsigned n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);

		snprintf(t.name, sizeof(t.name), "w%d-%u", (int)getpid(), n);
		t.fd = openat(cas->tmp_fd, t.name,
			      O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (t.fd >= 0) {
			*ret_tmp = t;
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
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
 * Make @name (relative to cas->objects_fd) for the bytes of @tmp.  0,
 * -EEXIST when an object of that name exists, or -errno.
 */
static int link_object(struct cas *cas, struct cas_tmp *tmp, const char *name)
{
	char proc[64];
	int r;

	if (!tmp->name[0]) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tmp->fd);
		r = linkat(AT_FDCWD, proc, cas->objects_fd, name,
			   AT_SYMLINK_FOLLOW);
	} else {
		r = renameat2(cas->tmp_fd, tmp->name, cas->objects_fd, name,
			      RENAME_NOREPLACE);
	}
	return r < 0 ? -errno : 0;
}

int cas_commit(struct cas *cas, struct cas_tmp *tmp, const char *md5)
{
	char dir[3], rest[35], name[40];
	int r;

	if (!oid_valid(md5))
		return -EINVAL;
	split_md5(md5, dir, rest);
	snprintf(name, sizeof(name), "%s/%s", dir, rest);
	if (fchmod(tmp->fd, 0444) < 0)
		return -errno;
	r = link_object(cas, tmp, name);
	if (r == -ENOENT) {
		/* the first object of its fan-out directory */
		if (mkdirat(cas->objects_fd, dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		r = link_object(cas, tmp, name);
	}
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
	char path[MD5_HEX_LEN + 6];
	int fd;

	if (!oid_valid(md5))
		return -EINVAL;
	snprintf(path, sizeof(path), "%.2s/%s", md5, md5 + 2);
	fd = openat(cas->objects_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

bool cas_has(struct cas *cas, const char *md5)
{
	char path[MD5_HEX_LEN + 6];

	if (!oid_valid(md5))
		return false;
	snprintf(path, sizeof(path), "%.2s/%s", md5, md5 + 2);
	return faccessat(cas->objects_fd, path, F_OK, 0) == 0;
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
