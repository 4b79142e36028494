/* SPDX-License-Identifier: MIT */
/*
 * nullfs: the floor under the cmffs benchmarks.
 *
 * A FUSE filesystem that keeps names, modes and sizes in memory and throws
 * the bytes away, mounted with the options cmffs uses (default_permissions,
 * use_ino, 1 s entry/attr/negative timeouts, 1 MiB writes, write-only opens
 * direct_io).  Whatever a benchmark costs on nullfs is what the kernel's
 * FUSE round trips cost on this machine before a filesystem does any work:
 * bench.py prints it next to the cmffs figure.
 *
 *   nullfs MOUNTPOINT [-f] [-s]
 *
 * Not a cmffs component: it is built only to be measured against.
 */
#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 14)

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct node *root;
	int i;

	root = calloc(1, sizeof(*root));
	if (!root || !(root->path = strdup("/")))
		return 1;
	root->name = root->path;
	root->mode = S_IFDIR | 0755;
	root->ino = 1;
	clock_gettime(CLOCK_REALTIME, &root->mtime);
	nfs.table[path_hash("/")] = root;
	nfs.uid = getuid();
	nfs.gid = getgid();
	if (fuse_opt_add_arg(&args, argv[0]) < 0 ||
	    fuse_opt_add_arg(&args, "-o") < 0 ||
	    fuse_opt_add_arg(&args, "fsname=nullfs,default_permissions") < 0)
		return 1;
	for (i = 1; i < argc; i++)
		if (fuse_opt_add_arg(&args, argv[i]) < 0)
			return 1;
	return fuse_main(args.argc, args.argv, &nfs_ops, NULL);
}
