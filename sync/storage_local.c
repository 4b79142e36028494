/* SPDX-License-Identifier: MIT */
/*
 * The local-directory backend: REMOTE/files/md5/ab/cdef... on a mounted
 * filesystem (a NAS, a shared disk).  An object is written to a temporary
 * name in its directory, synced, then renamed: never partial under its key.
 */
#include "storage_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int local_exists(struct storage *s, const char *key)
{
	struct local *l = s->priv;

	if (faccessat(l->root_fd, key, F_OK, 0) == 0)
		return 0;
	if (errno == ENOENT)
		return -ENOENT;
	return storage_fail(s, -errno, "cannot check '%s/%s': %s", l->root,
			    key, strerrordesc_np(errno));
}

/* mkdir -p of the directories of @key below the root */
static int make_parents(struct local *l, const char *key)
{
	char path[256];
	char *p;

	snprintf(path, sizeof(path), "%s", key);
	for (p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(l->root_fd, path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int local_put(struct storage *s, const char *key, int fd,
		     uint64_t size)
{
	struct local *l = s->priv;
	char tmp[300], buf[65536];
	uint64_t off = 0;
	int out = -1, r;

	if (local_exists(s, key) == 0)
		return 0;
	r = make_parents(l, key);
	if (r < 0)
		return storage_fail(s, r, "cannot create directories for '%s/%s': %s",
				    l->root, key, strerrordesc_np(-r));
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", key, (int)getpid());
	out = openat(l->root_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		     0444);
	if (out < 0)
		return storage_fail(s, -errno, "cannot write '%s/%s': %s",
				    l->root, tmp, strerrordesc_np(errno));
	while (off < size) {
		size_t want = size - off < sizeof(buf) ? (size_t)(size - off)
						       : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			storage_fail(s, r, "cannot read the local bytes of '%s'", key);
			goto fail;
		}
		if (write(out, buf, (size_t)n) != n) {
			r = errno ? -errno : -EIO;
			storage_fail(s, r, "cannot write '%s/%s': %s", l->root,
				     tmp, strerrordesc_np(-r));
			goto fail;
		}
		off += (uint64_t)n;
	}
	if (fsync(out) < 0 || close(out) < 0) {
		out = -1;
		r = -errno;
		storage_fail(s, r, "cannot write '%s/%s': %s", l->root, tmp,
			     strerrordesc_np(-r));
		goto fail;
	}
	out = -1;
	if (renameat(l->root_fd, tmp, l->root_fd, key) < 0) {
		r = -errno;
		storage_fail(s, r, "cannot rename into '%s/%s': %s", l->root,
			     key, strerrordesc_np(-r));
		goto fail;
	}
	return 0;
fail:
	if (out >= 0)
		close(out);
	(void)unlinkat(l->root_fd, tmp, 0);
	return r;
}

static int local_get(struct storage *s, const char *key, int fd)
{
	struct local *l = s->priv;
	char buf[65536];
	off_t off = 0;
	int in, r = 0;

	in = openat(l->root_fd, key, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno == ENOENT ? storage_fail(s, -ENOENT, "'%s/%s' is not in the storage", l->root, key)
				       : storage_fail(s, -errno, "cannot read '%s/%s': %s", l->root, key, strerrordesc_np(errno));
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0) {
			r = storage_fail(s, -errno, "cannot read '%s/%s'", l->root, key);
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
	.exists = local_exists,
	.put = local_put,
	.get = local_get,
};
