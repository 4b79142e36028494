/* SPDX-License-Identifier: MIT */
/*
 * nullfs: the floor under the cmffs benchmarks, on libfuse's high-level API.
 *
 * Without -o backing: a FUSE filesystem that keeps names, modes and sizes in
 * memory and throws the bytes away (reads give zeros).  With -o
 * backing=DIR: every request passes through to DIR and nothing else is
 * done, the same semantics as nullfs_ll (nullfs_ll.c, the low-level API),
 * so that the two can be compared.  Either way it is mounted with the
 * options cmffs uses (default_permissions, use_ino, 1 s
 * entry/attr/negative timeouts, 1 MiB writes, write-only opens direct_io,
 * READDIRPLUS with offsets, no splice).  Whatever a benchmark costs on
 * nullfs is what the kernel's FUSE round trips and libfuse cost on this
 * machine before a filesystem does any work of its own: bench.py prints it
 * next to the cmffs figure.
 *
 *   nullfs MOUNTPOINT [-o backing=DIR] [-f] [-s] [-d]
 *
 * Not a cmffs component: it is built only to be measured against.
 */
#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 14)

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

struct node {
	char *path;		/* full path below the mount, "/" for the root */
	const char *name;	/* last component, inside @path */
	mode_t mode;
	off_t size;
	uint64_t ino;
	struct timespec mtime;
	struct node *parent;
	struct node *children;	/* newest first */
	struct node *sibling;
	struct node *hash_next;
};

#define HASH_BITS 18

static struct {
	pthread_mutex_t lock;
	struct node *table[1u << HASH_BITS];
	uint64_t next_ino;
	uid_t uid;
	gid_t gid;
} nfs = { .lock = PTHREAD_MUTEX_INITIALIZER, .next_ino = 1 };

static uint32_t path_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h & ((1u << HASH_BITS) - 1);
}

/* Caller holds nfs.lock. */
static struct node *find(const char *path)
{
	struct node *n;

	for (n = nfs.table[path_hash(path)]; n; n = n->hash_next)
		if (!strcmp(n->path, path))
			return n;
	return NULL;
}

/* Add @path under its parent.  Caller holds nfs.lock.  0 or -errno. */
static int add(const char *path, mode_t mode, struct node **ret)
{
	const char *slash = strrchr(path, '/');
	struct node *parent, *n;
	char *dir;
	uint32_t h;

	if (find(path))
		return -EEXIST;
	dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	parent = find(dir);
	free(dir);
	if (!parent)
		return -ENOENT;
	if (!S_ISDIR(parent->mode))
		return -ENOTDIR;
	n = calloc(1, sizeof(*n));
	if (!n || !(n->path = strdup(path))) {
		free(n);
		return -ENOMEM;
	}
	n->name = n->path + (slash - path) + 1;
	n->mode = mode;
	n->ino = ++nfs.next_ino;
	clock_gettime(CLOCK_REALTIME, &n->mtime);
	n->parent = parent;
	n->sibling = parent->children;
	parent->children = n;
	h = path_hash(path);
	n->hash_next = nfs.table[h];
	nfs.table[h] = n;
	parent->mtime = n->mtime;
	if (ret)
		*ret = n;
	return 0;
}

static void fill_stat(const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_nlink = S_ISDIR(n->mode) ? 2 : 1;
	st->st_uid = nfs.uid;
	st->st_gid = nfs.gid;
	st->st_size = n->size;
	st->st_blksize = 1 << 20;
	st->st_mtim = st->st_ctim = st->st_atim = n->mtime;
}

static int nfs_getattr(const char *path, struct stat *st,
		       struct fuse_file_info *fi)
{
	struct node *n;
	int r = 0;

	(void)fi;
	pthread_mutex_lock(&nfs.lock);
	n = find(path);
	if (n)
		fill_stat(n, st);
	else
		r = -ENOENT;
	pthread_mutex_unlock(&nfs.lock);
	return r;
}

static int nfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		       off_t off, struct fuse_file_info *fi,
		       enum fuse_readdir_flags flags)
{
	struct node *d, *c;
	struct stat st;
	off_t i;
	int r = 0;

	(void)fi;
	(void)flags;
	pthread_mutex_lock(&nfs.lock);
	d = find(path);
	if (!d) {
		r = -ENOENT;
		goto out;
	}
	/* with offsets, so that libfuse hands the kernel full entries */
	for (c = d->children, i = 0; c; c = c->sibling, i++) {
		if (i < off)
			continue;
		fill_stat(c, &st);
		if (filler(buf, c->name, &st, i + 1, FUSE_FILL_DIR_PLUS))
			break;
	}
out:
	pthread_mutex_unlock(&nfs.lock);
	return r;
}

static int nfs_mkdir(const char *path, mode_t mode)
{
	int r;

	pthread_mutex_lock(&nfs.lock);
	r = add(path, S_IFDIR | (mode & 07777), NULL);
	pthread_mutex_unlock(&nfs.lock);
	return r;
}

static int nfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct node *n;
	int r;

	pthread_mutex_lock(&nfs.lock);
	n = find(path);
	if (n) {
		n->size = 0;
		r = 0;
	} else {
		r = add(path, S_IFREG | (mode & 07777), &n);
	}
	if (r == 0)
		fi->fh = n->ino;
	pthread_mutex_unlock(&nfs.lock);
	fi->direct_io = (fi->flags & O_ACCMODE) == O_WRONLY;
	return r;
}

static int nfs_open(const char *path, struct fuse_file_info *fi)
{
	struct node *n;
	int r = 0;

	pthread_mutex_lock(&nfs.lock);
	n = find(path);
	if (!n)
		r = -ENOENT;
	else if (fi->flags & O_TRUNC)
		n->size = 0;
	pthread_mutex_unlock(&nfs.lock);
	fi->direct_io = (fi->flags & O_ACCMODE) == O_WRONLY;
	return r;
}

static int nfs_read(const char *path, char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct node *n;
	int r = 0;

	(void)fi;
	pthread_mutex_lock(&nfs.lock);
	n = path ? find(path) : NULL;
	if (n && off < n->size) {
		r = (int)((off_t)size < n->size - off ? (off_t)size
						     : n->size - off);
		memset(buf, 0, (size_t)r);
	}
	pthread_mutex_unlock(&nfs.lock);
	return r;
}

static int nfs_write(const char *path, const char *buf, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	struct node *n;

	(void)buf;
	(void)fi;
	pthread_mutex_lock(&nfs.lock);
	n = path ? find(path) : NULL;
	if (n && off + (off_t)size > n->size)
		n->size = off + (off_t)size;
	pthread_mutex_unlock(&nfs.lock);
	return (int)size;
}

static int nfs_truncate(const char *path, off_t size,
			struct fuse_file_info *fi)
{
	struct node *n;
	int r = 0;

	(void)fi;
	pthread_mutex_lock(&nfs.lock);
	n = find(path);
	if (n)
		n->size = size;
	else
		r = -ENOENT;
	pthread_mutex_unlock(&nfs.lock);
	return r;
}

static int nfs_utimens(const char *path, const struct timespec tv[2],
		       struct fuse_file_info *fi)
{
	(void)path;
	(void)tv;
	(void)fi;
	return 0;
}

static int nfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return 0;
}

static int nfs_getxattr(const char *path, const char *name, char *value,
			size_t size)
{
	(void)path;
	(void)name;
	(void)value;
	(void)size;
	return -ENODATA;
}

static void *nfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->use_ino = 1;
	cfg->readdir_ino = 1;
	cfg->entry_timeout = 1.0;
	cfg->attr_timeout = 1.0;
	cfg->negative_timeout = 1.0;
	cfg->hard_remove = 1;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	conn->want &= ~FUSE_CAP_SPLICE_READ;
	conn->max_write = 1u << 20;
	conn->max_readahead = 1u << 20;
	return NULL;
}

static const struct fuse_operations nfs_ops = {
	.init = nfs_init,
	.getattr = nfs_getattr,
	.readdir = nfs_readdir,
	.mkdir = nfs_mkdir,
	.create = nfs_create,
	.open = nfs_open,
	.read = nfs_read,
	.write = nfs_write,
	.truncate = nfs_truncate,
	.utimens = nfs_utimens,
	.chmod = nfs_chmod,
	.getxattr = nfs_getxattr,
};

/*
 * ---- -o backing=DIR: pass every request through to DIR ----
 *
 * Paths are resolved below one descriptor of DIR, without following a
 * link at the last component; open files and directories keep their
 * descriptor in fi->fh.
 */

static int pt_dirfd = -1;

/* @path below the mount as a path relative to pt_dirfd, borrowed. */
static const char *rel(const char *path)
{
	return path[1] ? path + 1 : ".";
}

static int pt_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	int r = fi ? fstat((int)fi->fh, st)
		   : fstatat(pt_dirfd, rel(path), st, AT_SYMLINK_NOFOLLOW);

	return r < 0 ? -errno : 0;
}

static int pt_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(pt_dirfd, rel(path), buf, size - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int pt_mkdir(const char *path, mode_t mode)
{
	return mkdirat(pt_dirfd, rel(path), mode) < 0 ? -errno : 0;
}

static int pt_unlink(const char *path)
{
	return unlinkat(pt_dirfd, rel(path), 0) < 0 ? -errno : 0;
}

static int pt_rmdir(const char *path)
{
	return unlinkat(pt_dirfd, rel(path), AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int pt_symlink(const char *target, const char *path)
{
	return symlinkat(target, pt_dirfd, rel(path)) < 0 ? -errno : 0;
}

static int pt_rename(const char *from, const char *to, unsigned int flags)
{
	return renameat2(pt_dirfd, rel(from), pt_dirfd, rel(to), flags) < 0
		       ? -errno : 0;
}

static int pt_link(const char *from, const char *to)
{
	return linkat(pt_dirfd, rel(from), pt_dirfd, rel(to), 0) < 0 ? -errno
								      : 0;
}

static int pt_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int r = fi ? fchmod((int)fi->fh, mode)
		   : fchmodat(pt_dirfd, rel(path), mode, 0);

	return r < 0 ? -errno : 0;
}

static int pt_chown(const char *path, uid_t uid, gid_t gid,
		    struct fuse_file_info *fi)
{
	int r = fi ? fchown((int)fi->fh, uid, gid)
		   : fchownat(pt_dirfd, rel(path), uid, gid,
			      AT_SYMLINK_NOFOLLOW);

	return r < 0 ? -errno : 0;
}

static int pt_truncate(const char *path, off_t size,
		       struct fuse_file_info *fi)
{
	int fd, r;

	if (fi)
		return ftruncate((int)fi->fh, size) < 0 ? -errno : 0;
	fd = openat(pt_dirfd, rel(path), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = ftruncate(fd, size) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int pt_utimens(const char *path, const struct timespec tv[2],
		      struct fuse_file_info *fi)
{
	int r = fi ? futimens((int)fi->fh, tv)
		   : utimensat(pt_dirfd, rel(path), tv, AT_SYMLINK_NOFOLLOW);

	return r < 0 ? -errno : 0;
}

static int pt_open(const char *path, struct fuse_file_info *fi)
{
	int fd = openat(pt_dirfd, rel(path),
			(fi->flags & ~O_NOFOLLOW) | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	fi->direct_io = (fi->flags & O_ACCMODE) == O_WRONLY;
	return 0;
}

static int pt_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int fd = openat(pt_dirfd, rel(path),
			(fi->flags | O_CREAT | O_CLOEXEC) & ~O_NOFOLLOW, mode);

	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	fi->direct_io = (fi->flags & O_ACCMODE) == O_WRONLY;
	return 0;
}

static int pt_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	ssize_t n = pread((int)fi->fh, buf, size, off);

	(void)path;
	return n < 0 ? -errno : (int)n;
}

static int pt_write(const char *path, const char *buf, size_t size,
		    off_t off, struct fuse_file_info *fi)
{
	size_t done = 0;

	(void)path;
	while (done < size) {
		ssize_t n = pwrite((int)fi->fh, buf + done, size - done,
				   off + (off_t)done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return done ? (int)done : -errno;
		}
		done += (size_t)n;
	}
	return (int)done;
}

static int pt_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	return fstatvfs(pt_dirfd, sv) < 0 ? -errno : 0;
}

static int pt_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return 0;
}

static int pt_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close((int)fi->fh);
	return 0;
}

static int pt_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	int r = datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh);

	(void)path;
	return r < 0 ? -errno : 0;
}

/* An open directory: where the last reply ended, and an entry kept. */
struct pt_dir {
	DIR *dp;
	off_t offset;
	struct dirent *pending;	/* read but did not fit the last reply */
};

static int pt_opendir(const char *path, struct fuse_file_info *fi)
{
	struct pt_dir *d = calloc(1, sizeof(*d));
	int fd, r;

	if (!d)
		return -ENOMEM;
	fd = openat(pt_dirfd, rel(path),
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d->dp = fdopendir(fd))) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		free(d);
		return r;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	return 0;
}

/* With offsets and attributes, so that libfuse hands the kernel full
 * READDIRPLUS entries, as the in-memory mode and cmffs do. */
static int pt_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct pt_dir *d = (struct pt_dir *)(uintptr_t)fi->fh;

	(void)path;
	(void)flags;
	if (off != d->offset) {
		seekdir(d->dp, off);
		d->pending = NULL;
		d->offset = off;
	}
	for (;;) {
		struct dirent *de = d->pending;
		struct stat st;

		if (!de) {
			errno = 0;
			de = readdir(d->dp);
			if (!de)
				return -errno;
		}
		d->pending = de;
		if (fstatat(dirfd(d->dp), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return -errno;
			d->pending = NULL;	/* gone since it was read */
			d->offset = de->d_off;
			continue;
		}
		if (filler(buf, de->d_name, &st, de->d_off,
			   FUSE_FILL_DIR_PLUS))
			return 0;
		d->pending = NULL;
		d->offset = de->d_off;
	}
}

static int pt_releasedir(const char *path, struct fuse_file_info *fi)
{
	struct pt_dir *d = (struct pt_dir *)(uintptr_t)fi->fh;

	(void)path;
	closedir(d->dp);
	free(d);
	return 0;
}

static const struct fuse_operations pt_ops = {
	.init = nfs_init,
	.getattr = pt_getattr,
	.readlink = pt_readlink,
	.mkdir = pt_mkdir,
	.unlink = pt_unlink,
	.rmdir = pt_rmdir,
	.symlink = pt_symlink,
	.rename = pt_rename,
	.link = pt_link,
	.chmod = pt_chmod,
	.chown = pt_chown,
	.truncate = pt_truncate,
	.utimens = pt_utimens,
	.open = pt_open,
	.create = pt_create,
	.read = pt_read,
	.write = pt_write,
	.statfs = pt_statfs,
	.flush = pt_flush,
	.release = pt_release,
	.fsync = pt_fsync,
	.opendir = pt_opendir,
	.readdir = pt_readdir,
	.releasedir = pt_releasedir,
	.getxattr = nfs_getxattr,
};

struct options {
	char *backing;
};

static const struct fuse_opt option_spec[] = {
	{ "backing=%s", offsetof(struct options, backing), 0 },
	FUSE_OPT_END
};

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct options o = { NULL };
	struct node *root;
	int i, r = 1;

	for (i = 0; i < argc; i++)
		if (fuse_opt_add_arg(&args, argv[i]) < 0)
			goto out;
	if (fuse_opt_parse(&args, &o, option_spec, NULL) < 0 ||
	    fuse_opt_add_arg(&args, "-o") < 0 ||
	    fuse_opt_add_arg(&args, "fsname=nullfs,default_permissions") < 0)
		goto out;
	if (o.backing) {
		pt_dirfd = open(o.backing, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pt_dirfd < 0) {
			fprintf(stderr, "nullfs: %s: %s\n", o.backing,
				strerror(errno));
			goto out;
		}
		r = fuse_main(args.argc, args.argv, &pt_ops, NULL);
		close(pt_dirfd);
		goto out;
	}
	root = calloc(1, sizeof(*root));
	if (!root || !(root->path = strdup("/"))) {
		free(root);
		goto out;
	}
	root->name = root->path;
	root->mode = S_IFDIR | 0755;
	root->ino = 1;
	clock_gettime(CLOCK_REALTIME, &root->mtime);
	nfs.table[path_hash("/")] = root;
	nfs.uid = getuid();
	nfs.gid = getgid();
	r = fuse_main(args.argc, args.argv, &nfs_ops, NULL);
out:
	free(o.backing);
	fuse_opt_free_args(&args);
	return r;
}
