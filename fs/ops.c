/* SPDX-License-Identifier: MIT */
/*
 * Where every call from the kernel lands: the table of libfuse's low-level
 * operations (fs_ll_ops, at the bottom), each ll_* turning the kernel's
 * node ids into nodes (nodeid.c), calling the op_* that does the work
 * (attr.c, dir.c, file.c, namespace.c, xattr.c) and replying.  The daemon
 * keeps no table of the nodes the kernel holds: LOOKUP counts and FORGET
 * cost nothing, so a million cached names cost the daemon no memory.
 * Also the mount's init and destroy.
 */
#include "fs_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"

/*
 * How long the kernel may keep names, attributes and absent names.  The
 * daemon changes the store itself, but pulls and the CLI change it too:
 * what they do shows within a second.  Generated files whose size changes
 * are opened direct_io.
 */
#define CACHE_SECONDS 1.0

/* the inode number of a listed name whose attributes are not known */
#define UNKNOWN_INO 0xffffffffu

/* Set up the request's context (handle.c); the mount. */
static struct fs *begin(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct caller c = { .pid = ctx->pid, .uid = ctx->uid, .gid = ctx->gid };
	struct fs *fs = fuse_req_userdata(req);

	fs_call_begin(fs, &c);
	return fs;
}

/* Reply 0 or -errno @r as an error reply (0: success without data). */
static void reply_status(fuse_req_t req, int r)
{
	fuse_reply_err(req, r < 0 ? -r : 0);
}

/* The node of @ino into @n; on failure replies the error and says false. */
static bool node_of(fuse_req_t req, struct fs *fs, fuse_ino_t ino,
		    struct node *n)
{
	int r = fs_node_of_ino(fs, ino, n);

	if (r < 0)
		reply_status(req, r);
	return r == 0;
}

/* The entry the kernel is given for node @n. */
static int entry_of(struct fs *fs, const struct node *n,
		    struct fuse_entry_param *e)
{
	int r;

	memset(e, 0, sizeof(*e));
	r = node_stat(fs, n, &e->attr);
	if (r < 0)
		return r;
	e->ino = fs_node_id(fs, n);
	if (!e->ino)
		return -ENOMEM;	/* a keyed number could not be stored */
	e->attr_timeout = e->entry_timeout = CACHE_SECONDS;
	return 0;
}

/*
 * Reply to a call that made @parent's child @name: its entry, or the
 * error @r of the making.
 */
static void reply_made(fuse_req_t req, struct fs *fs, int r,
		       const struct node *parent, const char *name)
{
	struct fuse_entry_param e;
	struct node n = *parent;

	if (r == 0)
		r = fs_resolve_child(fs, &n, name);

	if (r == 0)
		r = entry_of(fs, &n, &e);
	if (r < 0)
		reply_status(req, r);
	else
		fuse_reply_entry(req, &e);
}

/*
 * A name a call is to make: one the store can hold (names.h).  On refusal
 * replies EINVAL with a journal line and says false.
 */
static bool new_name_ok(fuse_req_t req, struct fs *fs, const char *op,
			const struct node *parent, const char *name)
{
	const char *why;

	if (name_check(name, &why) == 0)
		return true;
	reply_status(req, fs_refuse_node(fs, -EINVAL, op, parent, name, why));
	return false;
}

/* --- lifecycle ---------------------------------------------------------------- */

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;

	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/*
	 * Attributes with every listing, not only the first chunk of it
	 * (READDIRPLUS_AUTO): ls -l of a large directory then needs no
	 * LOOKUP per name.
	 */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	/* fewer, larger writes: 1 MiB per request where the kernel allows */
	conn->max_write = 1u << 20;
	conn->max_readahead = 1u << 20;
	/*
	 * Writes are handled from memory (.write, not .write_buf): with
	 * splice, libfuse would move the data into a pipe and then copy it
	 * out again, one copy more than reading it from /dev/fuse directly.
	 */
	conn->want &= ~FUSE_CAP_SPLICE_READ;
	/* threads start here, after fuse_daemonize() forked */
	if (syncer_start(fs->workspace, fs->cfg, fs->model, &fs->syncer) < 0)
		log_user("mount: background sync could not start");
}

static void ll_destroy(void *userdata)
{
	struct fs *fs = userdata;

	syncer_stop(fs->syncer);
	fs->syncer = NULL;
}

/* --- names and attributes ------------------------------------------------- */

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = begin(req);
	struct fuse_entry_param e;
	struct node n;
	int r;

	if (!node_of(req, fs, parent, &n))
		return;
	r = strlen(name) > NAME_MAX_BYTES ? -ENAMETOOLONG
					   : fs_resolve_child(fs, &n, name);
	if (r == 0)
		r = entry_of(fs, &n, &e);
	if (r == -ENOENT) {
		/* absent: the kernel may remember that for a while too */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = CACHE_SECONDS;
		fuse_reply_entry(req, &e);
		return;
	}
	if (r < 0)
		reply_status(req, r);
	else
		fuse_reply_entry(req, &e);
}

/* Node ids are store ids: nothing is held per lookup, nothing to forget. */
static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(req);
}

/* Attributes of @ino, or of the open file @fi once its name is gone. */
static int stat_ino(struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct stat *st)
{
	struct node n;
	int r = fs_node_of_ino(fs, ino, &n);

	if (r == 0)
		return node_stat(fs, &n, st);
	if (fi && r == -ENOENT)
		return handle_stat(fs, handle_of(fi), st);
	return r;
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs *fs = begin(req);
	struct stat st;
	int r = stat_ino(fs, ino, fi, &st);

	if (r < 0)
		reply_status(req, r);
	else
		fuse_reply_attr(req, &st, CACHE_SECONDS);
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct fs *fs = begin(req);
	struct stat st;
	struct node n;
	int r = fs_node_of_ino(fs, ino, &n);
	bool named = r == 0;

	/* an open file whose name is gone: only its size can change */
	if (!named && !(fi && r == -ENOENT)) {
		reply_status(req, r);
		return;
	}
	r = 0;
	if (named && (to_set & FUSE_SET_ATTR_MODE))
		r = op_chmod(&n, attr->st_mode & 07777);
	if (r == 0 && named &&
	    (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		r = op_chown(&n,
			     to_set & FUSE_SET_ATTR_UID ? attr->st_uid
							: (uid_t)-1,
			     to_set & FUSE_SET_ATTR_GID ? attr->st_gid
							: (gid_t)-1);
	if (r == 0 && (to_set & FUSE_SET_ATTR_SIZE))
		r = op_truncate(named ? &n : NULL, attr->st_size, fi);
	if (r == 0 && named &&
	    (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)))
		r = op_utimens(&n, to_set & FUSE_SET_ATTR_MTIME_NOW
					   ? NULL
					   : &attr->st_mtim);
	if (r == 0)
		r = stat_ino(fs, ino, fi, &st);
	if (r < 0)
		reply_status(req, r);
	else
		fuse_reply_attr(req, &st, CACHE_SECONDS);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;
	int r;

	(void)ino;
	begin(req);
	r = op_statfs(&st);
	if (r < 0)
		reply_status(req, r);
	else
		fuse_reply_statfs(req, &st);
}

/* --- making and removing names --------------------------------------------- */

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct fs *fs = begin(req);
	struct node p;

	if (!node_of(req, fs, parent, &p) ||
	    !new_name_ok(req, fs, "mkdir", &p, name))
		return;
	reply_made(req, fs, op_mkdir(&p, name, mode), &p, name);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = begin(req);
	struct node p;

	if (node_of(req, fs, parent, &p))
		reply_status(req, op_rmdir(&p, name));
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = begin(req);
	struct node p;

	if (node_of(req, fs, parent, &p))
		reply_status(req, op_unlink(&p, name));
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct fs *fs = begin(req);
	struct node p, np;

	if (!node_of(req, fs, parent, &p) ||
	    !node_of(req, fs, newparent, &np) ||
	    !new_name_ok(req, fs, "rename", &np, newname))
		return;
	reply_status(req, op_rename(&p, name, &np, newname, flags));
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct fs *fs = begin(req);
	struct node src, np;

	if (!node_of(req, fs, ino, &src) ||
	    !node_of(req, fs, newparent, &np) ||
	    !new_name_ok(req, fs, "link", &np, newname))
		return;
	reply_made(req, fs, op_link(&src, &np, newname), &np, newname);
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct fs *fs = begin(req);
	struct node p;

	(void)link;
	if (node_of(req, fs, parent, &p))
		reply_status(req, op_symlink(&p, name));
}

/* mknod of a regular file is a create (as libfuse's high-level API did) */
static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct fs *fs = begin(req);
	struct fuse_file_info fi = { .flags = O_CREAT | O_EXCL | O_WRONLY };
	struct node p, n;
	int r;

	(void)rdev;
	if (!node_of(req, fs, parent, &p))
		return;
	if (!S_ISREG(mode)) {
		reply_status(req, op_mknod(&p, name));
		return;
	}
	if (!new_name_ok(req, fs, "mknod", &p, name))
		return;
	r = op_create(&p, name, mode & 07777, &fi, &n);
	if (r == 0) {
		r = op_flush(&fi);
		op_release(&fi);
	}
	reply_made(req, fs, r, &p, name);
}

/* --- files ------------------------------------------------------------------- */

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = begin(req);
	struct node n;
	int r;

	if (!node_of(req, fs, ino, &n))
		return;
	r = op_open(&n, fi);
	if (r < 0)
		reply_status(req, r);
	else if (fuse_reply_open(req, fi) == -ENOENT)
		op_release(fi);	/* the opener was interrupted */
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = begin(req);
	struct fuse_entry_param e;
	struct node p, n;
	int r;

	if (!node_of(req, fs, parent, &p) ||
	    !new_name_ok(req, fs, "create", &p, name))
		return;
	r = op_create(&p, name, mode & 07777, fi, &n);
	if (r < 0) {
		reply_status(req, r);
		return;
	}
	r = entry_of(fs, &n, &e);
	if (r < 0) {
		op_release(fi);
		reply_status(req, r);
	} else if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		op_release(fi);
	}
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	char *buf;
	int r;

	(void)ino;
	begin(req);
	if (h->kind == H_OBJECT) {
		/* logged bytes: libfuse reads them from the object itself */
		struct fuse_bufvec bytes = FUSE_BUFVEC_INIT(size);

		bytes.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bytes.buf[0].fd = h->fd;
		bytes.buf[0].pos = off;
		fuse_reply_data(req, &bytes, FUSE_BUF_SPLICE_MOVE);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		reply_status(req, -ENOMEM);
		return;
	}
	r = op_read(buf, size, off, fi);
	if (r < 0)
		reply_status(req, r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	int r;

	(void)ino;
	begin(req);
	r = op_write(buf, size, off, fi);
	if (r < 0)
		reply_status(req, r);
	else
		fuse_reply_write(req, (size_t)r);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi)
{
	(void)ino;
	begin(req);
	reply_status(req, op_flush(fi));
}

static void ll_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	begin(req);
	reply_status(req, op_release(fi));
}

/*
 * fsync and fsyncdir commit the open batch of logged changes to WS/mlmd
 * (doc/design.md §6): whatever was logged before is then what any other
 * process reading the store sees, not only this mount.
 */
static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	begin(req);
	reply_status(req, op_fsync());
}

/* --- directories -------------------------------------------------------------- */

static void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct dir_snapshot *ds = calloc(1, sizeof(*ds));

	(void)ino;
	if (!ds) {
		reply_status(req, -ENOMEM);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)ds;
	if (fuse_reply_open(req, fi) == -ENOENT)
		free(ds);
}

/*
 * A listing is taken when a directory is read from its start and served
 * from that snapshot with offsets, with every name's attributes when the
 * kernel asks for them (READDIRPLUS: ls -l then needs no LOOKUP per name).
 */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi, bool plus)
{
	struct dir_snapshot *ds = (struct dir_snapshot *)(uintptr_t)fi->fh;
	struct fs *fs = begin(req);
	size_t pos = 0, i;
	char *buf;
	int r;

	if (off == 0 || !ds->items) {
		struct node n;

		if (!node_of(req, fs, ino, &n))
			return;
		r = dir_snapshot_take(fs, &n, ds);
		if (r < 0) {
			reply_status(req, r);
			return;
		}
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		reply_status(req, -ENOMEM);
		return;
	}
	for (i = (size_t)off; i < ds->n; i++) {
		const struct dir_item *it = &ds->items[i];
		struct fuse_entry_param e = { .attr = it->st };
		size_t len;

		if (!it->node_id) {
			/* "." and "..", or a name that vanished */
			e.attr.st_ino = i == 0 ? ino : UNKNOWN_INO;
			if (i < 2)
				e.attr.st_mode = S_IFDIR;
		} else if (plus) {
			e.ino = it->node_id;
			e.attr_timeout = e.entry_timeout = CACHE_SECONDS;
		}
		len = plus ? fuse_add_direntry_plus(req, buf + pos, size - pos,
						    it->name, &e, (off_t)i + 1)
			   : fuse_add_direntry(req, buf + pos, size - pos,
					       it->name, &e.attr, (off_t)i + 1);
		if (len > size - pos)
			break;
		pos += len;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct dir_snapshot *ds = (struct dir_snapshot *)(uintptr_t)fi->fh;

	(void)ino;
	dir_snapshot_clear(ds);
	free(ds);
	reply_status(req, 0);
}

/* --- extended attributes ------------------------------------------------------ */

/* Reply a value or list of @size (0: its length) made by @get. */
static void reply_xattr_of(fuse_req_t req, size_t size,
			   int (*get)(const struct node *n, const char *name,
				      char *buf, size_t size),
			   const struct node *n, const char *name)
{
	char *buf = size ? malloc(size) : NULL;
	int r;

	if (size && !buf) {
		reply_status(req, -ENOMEM);
		return;
	}
	r = get(n, name, buf, size);
	if (r < 0)
		reply_status(req, r);
	else if (!size)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static int list_xattrs(const struct node *n, const char *name, char *buf,
		       size_t size)
{
	(void)name;
	return op_listxattr(n, buf, size);
}

static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct fs *fs = begin(req);
	struct node n;

	/*
	 * Only user.cmf.* exist.  ls -l asks every file for security.selinux
	 * and system.posix_acl_access, every write asks security.capability:
	 * answered before the node is looked up.
	 */
	if (strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX))) {
		reply_status(req, -ENODATA);
		return;
	}
	if (node_of(req, fs, ino, &n))
		reply_xattr_of(req, size, op_getxattr, &n, name);
}

static void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs *fs = begin(req);
	struct node n;

	if (node_of(req, fs, ino, &n))
		reply_xattr_of(req, size, list_xattrs, &n, NULL);
}

static void ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct fs *fs = begin(req);
	struct node n;

	if (node_of(req, fs, ino, &n))
		reply_status(req, op_setxattr(&n, name, value, size, flags));
}

static void ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct fs *fs = begin(req);
	struct node n;

	if (node_of(req, fs, ino, &n))
		reply_status(req, op_removexattr(&n, name));
}

const struct fuse_lowlevel_ops fs_ll_ops = {
	.init = ll_init,
	.destroy = ll_destroy,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.statfs = ll_statfs,
	.mkdir = ll_mkdir,
	.rmdir = ll_rmdir,
	.unlink = ll_unlink,
	.rename = ll_rename,
	.link = ll_link,
	.symlink = ll_symlink,
	.mknod = ll_mknod,
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
	.fsyncdir = ll_fsync,
	.getxattr = ll_getxattr,
	.listxattr = ll_listxattr,
	.setxattr = ll_setxattr,
	.removexattr = ll_removexattr,
};
