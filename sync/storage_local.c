/* SPDX-License-Identifier: MIT */
/*
 * The local-directory backend: REMOTE/files/md5/ab/cdef... on a mounted
 * filesystem (a NAS, a shared disk).  An object is written to a temporary
 * file in its directory (unnamed where the filesystem has O_TMPFILE, so a
 * kill leaves nothing behind), synced, then linked or renamed to its key:
 * never partial under its key.  Writing an object removes the temporaries
 * an interrupted push left for it.  No link below the root is followed
 * (safefs.h): a fan-out directory that is a link is refused.
 */
#include "storage_i.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safefs.h"

/* "<name>.tmp-<pid>-<8 hex>", where a filesystem has no O_TMPFILE */
#define LOCAL_TMP_SUFFIX ".tmp-"
#define LOCAL_TMP_MAX 80

struct local {
	int root_fd;		/* the remote directory */
	char *root;
};

static int local_open(struct storage *s, const struct config *cfg)
{
	struct local *l;

	if (!cfg->storage_path || cfg->storage_path[0] != '/')
		return storage_fail(s, -EINVAL,
				    "local storage needs an absolute 'path'");
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->root = strdup(cfg->storage_path);
	l->root_fd = open(cfg->storage_path,
			  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!l->root || l->root_fd < 0) {
		int r = l->root ? -errno : -ENOMEM;

		storage_fail(s, r, "cannot open storage directory '%s': %s",
			     cfg->storage_path, strerrordesc_np(-r));
		free(l->root);
		free(l);
		return r;
	}
	s->priv = l;
	return 0;
}

static void local_close(struct storage *s)
{
	struct local *l = s->priv;

	if (!l)
		return;
	close(l->root_fd);
	free(l->root);
	free(l);
}

/*
 * The directory of @key ("files/md5/ab" of "files/md5/ab/cdef..."), opened
 * below the root without following links (a link there would make a push
 * write outside the storage), made when @create; *@ret_name is the last
 * component of @key.  The fd, or -errno (-ENOENT without a message).
 */
static int key_dir(struct storage *s, struct local *l, const char *key,
		   bool create, const char **ret_name)
{
	const char *slash = strrchr(key, '/');
	char dir[64];
	int fd;

	if (!slash || (size_t)(slash - key) >= sizeof(dir))
		return storage_fail(s, -EINVAL, "bad key '%s'", key);
	memcpy(dir, key, (size_t)(slash - key));
	dir[slash - key] = '\0';
	fd = safefs_open_dir(l->root_fd, dir, create ? SAFEFS_CREATE : 0,
			     0755, NULL);
	if (fd < 0 && fd != -ENOENT)
		return storage_fail(s, fd, "cannot open '%s/%s': %s", l->root,
				    dir, safefs_strerror(fd));
	*ret_name = slash + 1;
	return fd;
}

/*
 * Whether regular file @name is in @dfd: 0 (its size in *@ret_size if not
 * NULL), -ENOENT, or -errno.
 */
static int local_has(struct storage *s, struct local *l, int dfd,
		     const char *key, const char *name, uint64_t *ret_size)
{
	struct stat st;
	int r = safefs_stat_file(dfd, name, &st);

	if (r == 0 && ret_size)
		*ret_size = (uint64_t)st.st_size;

	if (r < 0 && r != -ENOENT)
		return storage_fail(s, r, "cannot check '%s/%s': %s", l->root,
				    key, safefs_strerror(r));
	return r;
}

static int local_stat(struct storage *s, const char *key, uint64_t *ret_size)
{
	struct local *l = s->priv;
	const char *name;
	int dfd, r;

	dfd = key_dir(s, l, key, false, &name);
	if (dfd < 0)
		return dfd;
	r = local_has(s, l, dfd, key, name, ret_size);
	close(dfd);
	return r;
}

/* Write all @len bytes; a full disk is -ENOSPC, never a stale errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENOSPC;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copy @size bytes of @in (from offset 0) to @out and sync them. */
static int copy_body(struct storage *s, struct local *l, const char *key,
		     int in, int out, uint64_t size)
{
	char buf[65536];
	uint64_t off = 0;
	int r;

	while (off < size) {
		size_t want = size - off < sizeof(buf) ? (size_t)(size - off)
						       : sizeof(buf);
		ssize_t n = pread(in, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return storage_fail(s, n < 0 ? -errno : -EIO,
					    "cannot read the local bytes of '%s'",
					    key);
		r = write_all(out, buf, (size_t)n);
		if (r < 0)
			return storage_fail(s, r, "cannot write '%s/%s': %s",
					    l->root, key, strerrordesc_np(-r));
		off += (uint64_t)n;
	}
	if (fsync(out) < 0)
		return storage_fail(s, -errno, "cannot write '%s/%s': %s",
				    l->root, key, strerrordesc_np(errno));
	return 0;
}

/*
 * Remove the temporaries "<name>.tmp-..." in @dfd once object <name> is
 * complete: they are leftovers of an interrupted push (of this cmffs or an
 * older one), or the temporary of a concurrent writer of the same bytes,
 * whose rename then finds the object in place (local_publish()).
 */
static void drop_stale_tmps(int dfd, const char *name)
{
	size_t n = strlen(name), ns = strlen(LOCAL_TMP_SUFFIX);
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, name, n) &&
		    !strncmp(de->d_name + n, LOCAL_TMP_SUFFIX, ns))
			(void)unlinkat(dfd, de->d_name, 0);
	closedir(d);
}

/*
 * A new temporary in @dfd for object @name: an unnamed O_TMPFILE (@tmp
 * set to ""), or where the filesystem has none (NFS) a file named
 * "<name>.tmp-<pid>-<random>" (written to @tmp).  The fd or -errno.
 */
static int tmp_open(int dfd, const char *name, char tmp[LOCAL_TMP_MAX])
{
	uint32_t rnd;
	int fd;

	tmp[0] = '\0';
	fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)time(NULL);
	snprintf(tmp, LOCAL_TMP_MAX, "%s" LOCAL_TMP_SUFFIX "%d-%08x", name,
		 (int)getpid(), (unsigned)rnd);
	return safefs_open_file(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0,
				0444, NULL);
}

/*
 * Give the temporary @fd (named @tmp, or unnamed when @tmp is "") the name
 * @name in @dfd.  An object already there holds the same bytes (objects
 * are content-addressed), so that is success, and so is a temporary
 * removed by a concurrent writer that published the object first.
 * 0 or -errno.
 */
static int local_publish(int dfd, int fd, const char *tmp, const char *name)
{
	char proc[64];

	if (!tmp[0]) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW) == 0 ||
		    errno == EEXIST)
			return 0;
		return -errno;
	}
	if (renameat(dfd, tmp, dfd, name) == 0)
		return 0;
	if (errno == ENOENT && safefs_check_file(dfd, name) == 0)
		return 0;
	return -errno;
}

static int local_put(struct storage *s, const char *key, int fd,
		     uint64_t size)
{
	struct local *l = s->priv;
	char tmp[LOCAL_TMP_MAX] = "";
	const char *name;
	int dfd, out = -1, r;

	dfd = key_dir(s, l, key, true, &name);
	if (dfd < 0)
		return dfd;
	r = local_has(s, l, dfd, key, name, NULL);
	if (r != -ENOENT)
		goto out;	/* 0: there already (the same bytes) */
	out = tmp_open(dfd, name, tmp);
	if (out < 0) {
		r = storage_fail(s, out, "cannot write in '%s/%s': %s",
				 l->root, key, safefs_strerror(out));
		goto out;
	}
	r = copy_body(s, l, key, fd, out, size);
	if (r == 0) {
		r = local_publish(dfd, out, tmp, name);
		if (r < 0)
			storage_fail(s, r, "cannot rename into '%s/%s': %s",
				     l->root, key, strerrordesc_np(-r));
	}
	if (r == 0)
		drop_stale_tmps(dfd, name);
	else if (tmp[0])
		(void)unlinkat(dfd, tmp, 0);
out:
	if (out >= 0)
		close(out);
	close(dfd);
	return r;
}

static int local_get(struct storage *s, const char *key, int fd)
{
	struct local *l = s->priv;
	char buf[65536];
	const char *name;
	off_t off = 0;
	int dfd, in, r = 0;

	dfd = key_dir(s, l, key, false, &name);
	in = dfd < 0 ? dfd : safefs_open_file(dfd, name, O_RDONLY, 0, 0, NULL);
	if (dfd >= 0)
		close(dfd);
	if (in == -ENOENT)
		return storage_fail(s, -ENOENT, "'%s/%s' is not in the storage",
				    l->root, key);
	if (in < 0)
		return storage_fail(s, in, "cannot read '%s/%s': %s", l->root,
				    key, safefs_strerror(in));
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = storage_fail(s, -errno, "cannot read '%s/%s'",
					 l->root, key);
			break;
		}
		if (n == 0)
			break;
		if (pwrite(fd, buf, (size_t)n, off) != n) {
			r = storage_fail(s, errno ? -errno : -EIO,
					 "cannot write the fetched bytes");
			break;
		}
		off += n;
	}
	close(in);
	return r;
}

const struct storage_ops storage_local_ops = {
	.name = "local",
	.open = local_open,
	.close = local_close,
	.stat = local_stat,
	.put = local_put,
	.get = local_get,
};
