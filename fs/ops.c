/* SPDX-License-Identifier: MIT */
/*
 * The FUSE operations table (where every call from the kernel lands: the
 * op_* functions are in attr.c, dir.c, file.c, namespace.c and xattr.c)
 * and the mount's init and destroy.
 */
#include "fs_i.h"

#include "log.h"

/* --- lifecycle ---------------------------------------------------------------- */

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct fs *fs = fuse_get_context()->private_data;

	cfg->use_ino = 1;
	cfg->readdir_ino = 1;
	/* the daemon is the only writer: cached names and attributes stay
	 * right except for generated files, which are opened direct_io */
	cfg->entry_timeout = 1.0;
	cfg->attr_timeout = 1.0;
	/* names appear only through this daemon (or a pull: visible after
	 * at most a second) */
	cfg->negative_timeout = 1.0;
	/*
	 * unlink/rename must reach us even while the file is open: without
	 * hard_remove libfuse would rename an open file to .fuse_hidden*,
	 * which here would re-log it under that name.  Open handles keep
	 * working (they never use the path); calls on them may get no path.
	 */
	cfg->hard_remove = 1;
	cfg->nullpath_ok = 0;	/* paths for readdir; NULL only once unlinked */
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
	return fs;
}

static void op_destroy(void *private_data)
{
	struct fs *fs = private_data;

	syncer_stop(fs->syncer);
	fs->syncer = NULL;
}

const struct fuse_operations fs_operations = {
	.init = op_init,
	.destroy = op_destroy,
	.getattr = op_getattr,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.mkdir = op_mkdir,
	.rmdir = op_rmdir,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.fsyncdir = op_fsyncdir,
	.truncate = op_truncate,
	.unlink = op_unlink,
	.rename = op_rename,
	.link = op_link,
	.symlink = op_symlink,
	.mknod = op_mknod,
	.chmod = op_chmod,
	.chown = op_chown,
	.utimens = op_utimens,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
};
