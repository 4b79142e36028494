/* SPDX-License-Identifier: MIT */
/*
 * nullfs_ll: the floor under the cmffs benchmarks on libfuse's low-level
 * API (fuse_lowlevel.h), next to nullfs (the high-level API).
 *
 * A FUSE filesystem that passes every request through to a backing
 * directory, as nullfs does with -o backing=DIR, and does nothing else:
 * bench.py runs the same workload on both to show what the high-level
 * library's path tables cost against an inode table, and what long cache
 * timeouts buy.  Mounted with the options cmffs and nullfs use
 * (default_permissions, 1 MiB writes, write-only opens direct_io,
 * READDIRPLUS with offsets, no splice), but with entry, attribute and
 * negative timeouts of one hour (-o timeout=SECONDS changes them).
 *
 *   nullfs_ll MOUNTPOINT -o backing=DIR [-o timeout=SECONDS] [-f] [-s] [-d]
 *
 * Node ids are the backing files' inode numbers (the root is node 1).  The
 * table keeps one O_PATH descriptor per inode the kernel holds, with the
 * kernel's lookup count; forget drops it at zero.  Holding the descriptor
 * keeps the backing inode, so its number cannot be reused by another file
 * while the kernel still knows it.  The backing tree must be one file
 * system (a mount point below it answers EXDEV).  One descriptor per inode
 * the kernel caches: the limit of open files is raised to fs.nr_open when
 * the process may (CAP_SYS_RESOURCE), else to its hard limit; past it,
 * lookups fail with EMFILE (said once on stderr) until the kernel forgets
 * inodes.  10,000 files and their directories need about 10,010.
 *
 * Not a cmffs component: it is built only to be measured against.
 */
#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 14)

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* One inode the kernel knows.  Found by its node id in the table. */
struct inode {
	uint64_t id;		/* backing st_ino; FUSE_ROOT_ID for the root */
	int fd;			/* O_PATH descriptor of the backing inode */
	uint64_t nlookup;	/* the kernel's lookup count */
	struct inode *next;	/* hash chain */
};

/* An open directory. */
struct dirh {
	DIR *dp;
	off_t offset;		/* position after the last entry sent */
	struct dirent *pending;	/* read but did not fit the last reply */
};

static struct {
	pthread_mutex_t lock;	/* guards the table and every nlookup */
	struct inode **table;
	size_t nbuckets;	/* a power of two */
	size_t count;
	struct inode root;
	ino_t root_ino;		/* the backing root's st_ino */
	dev_t dev;		/* the backing file system */
	double timeout;
	int emfile_told;	/* EMFILE reported once on stderr */
} ll = { .lock = PTHREAD_MUTEX_INITIALIZER, .timeout = 3600.0 };

static size_t bucket(uint64_t id, size_t nbuckets)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 20) & (nbuckets - 1);
}

/* Caller holds ll.lock.  NULL if the kernel does not hold @id. */
static struct inode *table_find(uint64_t id)
{
	struct inode *n;

	if (id == FUSE_ROOT_ID)
		return &ll.root;
	for (n = ll.table[bucket(id, ll.nbuckets)]; n; n = n->next)
		if (n->id == id)
			return n;
	return NULL;
}

/* Caller holds ll.lock.  Doubles the table past one inode per bucket. */
static void table_insert(struct inode *n)
{
	size_t b;

	if (ll.count >= ll.nbuckets) {
		size_t nb = ll.nbuckets * 2, i;
		struct inode **t = calloc(nb, sizeof(*t));

		if (t) {	/* on ENOMEM the chains just get longer */
			for (i = 0; i < ll.nbuckets; i++) {
				struct inode *c, *nx;

				for (c = ll.table[i]; c; c = nx) {
					nx = c->next;
					b = bucket(c->id, nb);
					c->next = t[b];
					t[b] = c;
				}
			}
			free(ll.table);
			ll.table = t;
			ll.nbuckets = nb;
		}
	}
	b = bucket(n->id, ll.nbuckets);
	n->next = ll.table[b];
	ll.table[b] = n;
	ll.count++;
}

/* Caller holds ll.lock.  Unlinks @n from its chain. */
static void table_remove(struct inode *n)
{
	struct inode **p = &ll.table[bucket(n->id, ll.nbuckets)];

	while (*p && *p != n)
		p = &(*p)->next;
	if (*p) {
		*p = n->next;
		ll.count--;
	}
}

/*
 * The O_PATH descriptor of node @id, borrowed: valid while the kernel holds
 * the node, i.e. for the request that names it.  -ESTALE if unknown.
 */
static int node_fd(fuse_ino_t id)
{
	struct inode *n;
	int fd;

	pthread_mutex_lock(&ll.lock);
	n = table_find(id);
	fd = n ? n->fd : -ESTALE;
	pthread_mutex_unlock(&ll.lock);
	return fd;
}

/* Drop @count of the kernel's references to @id; the last closes it. */
static void forget_one(fuse_ino_t id, uint64_t count)
{
	struct inode *n;

	pthread_mutex_lock(&ll.lock);
	n = table_find(id);
	if (n && n != &ll.root) {
		if (n->nlookup < count) {
			fprintf(stderr, "nullfs_ll: forget %" PRIu64
				" of node %" PRIu64 " that has %" PRIu64 "\n",
				count, n->id, n->nlookup);
			n->nlookup = count;
		}
		n->nlookup -= count;
		if (n->nlookup == 0) {
			table_remove(n);
			close(n->fd);
			free(n);
		}
	}
	pthread_mutex_unlock(&ll.lock);
}

/* "/proc/self/fd/N": opens the inode behind an O_PATH descriptor. */
static void fd_path(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

static void fill_entry(struct fuse_entry_param *e, uint64_t id,
		       const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->ino = id;
	e->attr = *st;
	e->attr_timeout = ll.timeout;
	e->entry_timeout = ll.timeout;
}

/*
 * Look @name up under the directory @dirfd and count one lookup of the
 * inode found: *e is what the kernel is told.  0 or -errno.
 */
static int do_lookup(int dirfd, const char *name, struct fuse_entry_param *e)
{
	struct inode *n, *fresh = NULL;
	struct stat st;
	uint64_t id;
	int fd, r = 0;

	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -EMFILE && !__atomic_exchange_n(&ll.emfile_told, 1,
							 __ATOMIC_RELAXED))
			fprintf(stderr, "nullfs_ll: the kernel holds more "
				"inodes than this process may open files "
				"(RLIMIT_NOFILE): lookups fail with EMFILE\n");
		return r;
	}
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_dev != ll.dev) {
		r = -EXDEV;
		goto out;
	}
	id = st.st_ino == ll.root_ino ? FUSE_ROOT_ID : (uint64_t)st.st_ino;
	if (id == FUSE_ROOT_ID && st.st_ino != ll.root_ino) {
		r = -EIO;	/* a backing inode numbered like FUSE's root */
		goto out;
	}
	pthread_mutex_lock(&ll.lock);
	n = table_find(id);
	if (!n) {
		fresh = calloc(1, sizeof(*fresh));
		if (!fresh) {
			pthread_mutex_unlock(&ll.lock);
			r = -ENOMEM;
			goto out;
		}
		fresh->id = id;
		fresh->fd = fd;
		fd = -1;
		table_insert(fresh);
		n = fresh;
	}
	n->nlookup++;
	pthread_mutex_unlock(&ll.lock);
	fill_entry(e, id, &st);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* Reply with an entry counted by do_lookup(); uncount it if it is lost. */
static void reply_entry(fuse_req_t req, const struct fuse_entry_param *e)
{
	if (fuse_reply_entry(req, e) == -ENOENT && e->ino)
		forget_one(e->ino, 1);	/* the request was interrupted */
}

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			FUSE_CAP_SPLICE_MOVE);
	conn->max_write = 1u << 20;
	conn->max_readahead = 1u << 20;
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int dirfd = node_fd(parent), r;

	if (dirfd < 0) {
		fuse_reply_err(req, -dirfd);
		return;
	}
	r = do_lookup(dirfd, name, &e);
	if (r == -ENOENT) {
		/* a negative entry, cached for as long as a positive one */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = ll.timeout;
		fuse_reply_entry(req, &e);
	} else if (r < 0) {
		fuse_reply_err(req, -r);
	} else {
		reply_entry(req, &e);
	}
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(ino, nlookup);
	fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		forget_one(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;
	int fd, r;

	if (fi) {
		r = fstat((int)fi->fh, &st);
	} else {
		fd = node_fd(ino);
		if (fd < 0) {
			fuse_reply_err(req, -fd);
			return;
		}
		r = fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	}
	if (r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_attr(req, &st, ll.timeout);
}

/* A time of setattr: the value given, now, or left alone. */
static struct timespec set_time(int to_set, int set, int now,
				struct timespec t)
{
	if (to_set & now)
		t.tv_nsec = UTIME_NOW;
	else if (!(to_set & set))
		t.tv_nsec = UTIME_OMIT;
	return t;
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	char proc[32];
	int fd = node_fd(ino), r = 0;

	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	fd_path(fd, proc);
	if (to_set & FUSE_SET_ATTR_MODE)
		r = fi ? fchmod((int)fi->fh, attr->st_mode)
		       : chmod(proc, attr->st_mode);
	if (r == 0 && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		r = fchownat(fd, "",
			     to_set & FUSE_SET_ATTR_UID ? attr->st_uid
							: (uid_t)-1,
			     to_set & FUSE_SET_ATTR_GID ? attr->st_gid
							: (gid_t)-1,
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	if (r == 0 && (to_set & FUSE_SET_ATTR_SIZE))
		r = fi ? ftruncate((int)fi->fh, attr->st_size)
		       : truncate(proc, attr->st_size);
	if (r == 0 && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
				 FUSE_SET_ATTR_ATIME_NOW |
				 FUSE_SET_ATTR_MTIME_NOW))) {
		struct timespec tv[2];

		tv[0] = set_time(to_set, FUSE_SET_ATTR_ATIME,
				 FUSE_SET_ATTR_ATIME_NOW, attr->st_atim);
		tv[1] = set_time(to_set, FUSE_SET_ATTR_MTIME,
				 FUSE_SET_ATTR_MTIME_NOW, attr->st_mtim);
		r = fi ? futimens((int)fi->fh, tv)
		       : utimensat(AT_FDCWD, proc, tv, 0);
	}
	if (r < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	ll_getattr(req, ino, fi);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[PATH_MAX + 1];
	ssize_t len;
	int fd = node_fd(ino);

	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	len = readlinkat(fd, "", buf, sizeof(buf));
	if (len < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	if ((size_t)len == sizeof(buf)) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	buf[len] = '\0';
	fuse_reply_readlink(req, buf);
}

/* After a call that made @name under @parent: reply with its entry. */
static void reply_made(fuse_req_t req, int dirfd, const char *name, int r)
{
	struct fuse_entry_param e;

	if (r < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	r = do_lookup(dirfd, name, &e);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_entry(req, &e);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	int dirfd = node_fd(parent);

	if (dirfd < 0)
		fuse_reply_err(req, -dirfd);
	else
		reply_made(req, dirfd, name, mkdirat(dirfd, name, mode));
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	int dirfd = node_fd(parent);

	if (dirfd < 0)
		fuse_reply_err(req, -dirfd);
	else
		reply_made(req, dirfd, name, symlinkat(link, dirfd, name));
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent,
		    const char *name)
{
	char proc[32];
	int fd = node_fd(ino), dirfd = node_fd(parent);

	if (fd < 0 || dirfd < 0) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	fd_path(fd, proc);
	reply_made(req, dirfd, name,
		   linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW));
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 int flags)
{
	int dirfd = node_fd(parent);

	if (dirfd < 0)
		fuse_reply_err(req, -dirfd);
	else
		fuse_reply_err(req, unlinkat(dirfd, name, flags) < 0 ? errno
								     : 0);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, 0);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, AT_REMOVEDIR);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	int from = node_fd(parent), to = node_fd(newparent);

	if (from < 0 || to < 0) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	fuse_reply_err(req, renameat2(from, name, to, newname, flags) < 0
				    ? errno : 0);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char proc[32];
	int fd = node_fd(ino), ofd;

	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	fd_path(fd, proc);
	ofd = open(proc, (fi->flags & ~O_NOFOLLOW) | O_CLOEXEC);
	if (ofd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fi->fh = (uint64_t)ofd;
	fi->direct_io = (fi->flags & O_ACCMODE) == O_WRONLY;
	if (fuse_reply_open(req, fi) == -ENOENT)
		close(ofd);	/* interrupted: no release will come */
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	int dirfd = node_fd(parent), ofd, r;

	if (dirfd < 0) {
		fuse_reply_err(req, -dirfd);
		return;
	}
	ofd = openat(dirfd, name,
		     (fi->flags | O_CREAT | O_CLOEXEC) & ~O_NOFOLLOW, mode);
	if (ofd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	r = do_lookup(dirfd, name, &e);
	if (r < 0) {
		close(ofd);
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)ofd;
	fi->direct_io = (fi->flags & O_ACCMODE) == O_WRONLY;
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		forget_one(e.ino, 1);
		close(ofd);
	}
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	ssize_t n;
	char *buf;

	(void)ino;
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = pread((int)fi->fh, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	size_t done = 0;

	(void)ino;
	while (done < size) {
		ssize_t n = pwrite((int)fi->fh, buf + done, size - done,
				   off + (off_t)done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (done == 0) {
				fuse_reply_err(req, errno);
				return;
			}
			break;
		}
		done += (size_t)n;
	}
	fuse_reply_write(req, done);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void ll_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	close((int)fi->fh);
	fuse_reply_err(req, 0);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	int r;

	(void)ino;
	r = datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh);
	fuse_reply_err(req, r < 0 ? errno : 0);
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct dirh *d;
	int fd = node_fd(ino), dfd;

	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !(d->dp = fdopendir(dfd))) {
		int err = errno;

		if (dfd >= 0)
			close(dfd);
		free(d);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		closedir(d->dp);
		free(d);
	}
}

static int is_dot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/*
 * One reply of READDIR or READDIRPLUS, continuing at @off (the d_off of
 * the last entry the kernel has).  An entry that does not fit is kept for
 * the next call; with @plus its lookup is counted only once it is sent.
 */
static void do_readdir(fuse_req_t req, size_t size, off_t off,
		       struct fuse_file_info *fi, int plus)
{
	struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;
	char *buf, *p;
	size_t rem = size;
	int err = 0;

	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p = buf;
	if (off != d->offset) {
		seekdir(d->dp, off);
		d->pending = NULL;
		d->offset = off;
	}
	for (;;) {
		struct fuse_entry_param e;
		struct dirent *de = d->pending;
		size_t len;

		if (!de) {
			errno = 0;
			de = readdir(d->dp);
			if (!de) {
				err = errno;
				break;
			}
		}
		d->pending = de;
		if (!plus || is_dot(de->d_name)) {
			/* no lookup: the kernel counts none for these */
			memset(&e, 0, sizeof(e));
			e.attr.st_ino = de->d_ino;
			e.attr.st_mode = (mode_t)de->d_type << 12;
		} else {
			int r = do_lookup(dirfd(d->dp), de->d_name, &e);

			if (r == -ENOENT) {	/* gone since it was read */
				d->pending = NULL;
				d->offset = de->d_off;
				continue;
			}
			if (r < 0) {
				err = -r;
				break;
			}
		}
		if (plus)
			len = fuse_add_direntry_plus(req, p, rem, de->d_name,
						     &e, de->d_off);
		else
			len = fuse_add_direntry(req, p, rem, de->d_name,
						&e.attr, de->d_off);
		if (len > rem) {
			if (e.ino)
				forget_one(e.ino, 1);
			break;
		}
		p += len;
		rem -= len;
		d->pending = NULL;
		d->offset = de->d_off;
	}
	if (err && rem == size)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - rem);
	free(buf);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	do_readdir(req, size, off, fi, 0);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	do_readdir(req, size, off, fi, 1);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;

	(void)ino;
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

static void ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;
	int fd = dirfd(d->dp), r;

	(void)ino;
	r = datasync ? fdatasync(fd) : fsync(fd);
	fuse_reply_err(req, r < 0 ? errno : 0);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	int fd = node_fd(ino);

	if (fd < 0)
		fuse_reply_err(req, -fd);
	else if (fstatvfs(fd, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

/* No extended attributes, answered without a system call (as nullfs). */
static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	(void)ino;
	(void)name;
	(void)size;
	fuse_reply_err(req, ENODATA);
}

static const struct fuse_lowlevel_ops ll_ops = {
	.init = ll_init,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.readlink = ll_readlink,
	.mkdir = ll_mkdir,
	.symlink = ll_symlink,
	.link = ll_link,
	.unlink = ll_unlink,
	.rmdir = ll_rmdir,
	.rename = ll_rename,
	.open = ll_open,
	.create = ll_create,
	.read = ll_read,
	.write = ll_write,
	.flush = ll_flush,
	.release = ll_release,
	.fsync = ll_fsync,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.readdirplus = ll_readdirplus,
	.releasedir = ll_releasedir,
	.fsyncdir = ll_fsyncdir,
	.statfs = ll_statfs,
	.getxattr = ll_getxattr,
};

/* One descriptor per cached inode: as many as the process may have. */
static void raise_nofile(void)
{
	struct rlimit rl;
	unsigned long nr_open = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "r");

	if (f) {
		if (fscanf(f, "%lu", &nr_open) != 1)
			nr_open = 0;
		fclose(f);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (nr_open > rl.rlim_max) {
		struct rlimit up = { (rlim_t)nr_open, (rlim_t)nr_open };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static void table_free(void)
{
	size_t i;

	for (i = 0; i < ll.nbuckets; i++) {
		struct inode *n, *nx;

		for (n = ll.table[i]; n; n = nx) {
			nx = n->next;
			close(n->fd);
			free(n);
		}
	}
	free(ll.table);
	ll.table = NULL;
}

struct options {
	char *backing;
	double timeout;
};

static const struct fuse_opt option_spec[] = {
	{ "backing=%s", offsetof(struct options, backing), 0 },
	{ "timeout=%lf", offsetof(struct options, timeout), 0 },
	FUSE_OPT_END
};

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = { .timeout = 3600.0 };
	struct fuse_cmdline_opts cmd = { 0 };
	struct fuse_loop_config *cfg = NULL;
	struct fuse_session *se = NULL;
	struct stat st;
	int r = 1;

	ll.root.fd = -1;
	if (fuse_opt_parse(&args, &o, option_spec, NULL) < 0 ||
	    fuse_opt_add_arg(&args, "-o") < 0 ||
	    fuse_opt_add_arg(&args,
			     "fsname=nullfs_ll,default_permissions") < 0 ||
	    fuse_parse_cmdline(&args, &cmd) < 0)
		goto out;
	if (cmd.show_help || cmd.show_version || !cmd.mountpoint ||
	    !o.backing || o.timeout < 0) {
		fprintf(stderr, "usage: nullfs_ll MOUNTPOINT -o backing=DIR "
			"[-o timeout=SECONDS] [-f] [-s] [-d]\n");
		r = cmd.show_help || cmd.show_version ? 0 : 2;
		goto out;
	}
	ll.timeout = o.timeout;
	ll.root.fd = open(o.backing, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ll.root.fd < 0 || fstat(ll.root.fd, &st) < 0) {
		fprintf(stderr, "nullfs_ll: %s: %s\n", o.backing,
			strerror(errno));
		goto out;
	}
	ll.root.id = FUSE_ROOT_ID;
	ll.root_ino = st.st_ino;
	ll.dev = st.st_dev;
	ll.nbuckets = 1024;
	ll.table = calloc(ll.nbuckets, sizeof(*ll.table));
	if (!ll.table)
		goto out;
	raise_nofile();
	se = fuse_session_new(&args, &ll_ops, sizeof(ll_ops), NULL);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) < 0)
		goto out_session;
	if (fuse_session_mount(se, cmd.mountpoint) < 0)
		goto out_signals;
	if (fuse_daemonize(cmd.foreground) < 0)
		goto out_unmount;
	if (cmd.singlethread) {
		r = fuse_session_loop(se);
	} else {
		cfg = fuse_loop_cfg_create();
		if (!cfg)
			goto out_unmount;
		fuse_loop_cfg_set_clone_fd(cfg, (unsigned int)cmd.clone_fd);
		if (cmd.max_idle_threads != UINT_MAX)	/* else: the default */
			fuse_loop_cfg_set_idle_threads(cfg,
						       cmd.max_idle_threads);
		fuse_loop_cfg_set_max_threads(cfg, cmd.max_threads);
		r = fuse_session_loop_mt(se, cfg);
	}
	r = r != 0;
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out:
	fuse_loop_cfg_destroy(cfg);
	table_free();
	if (ll.root.fd >= 0)
		close(ll.root.fd);
	free(cmd.mountpoint);
	free(o.backing);
	fuse_opt_free_args(&args);
	return r;
}
