/* SPDX-License-Identifier: MIT */
/*
 * Namespace operations: unlink, rename, link; symlink and mknod refused.
 */
#include "fs_i.h"

#include <errno.h>
#include <stdio.h>	/* RENAME_NOREPLACE, RENAME_EXCHANGE */

int op_unlink(const char *path)
{
	struct fs *fs = get_fs();
	enum model_owner owner;
	int64_t id;
	struct node n;
	int r;

	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
	if (n.kind == NODE_CTX_PROP || n.kind == NODE_EXEC_PROP) {
		prop_owner(&n, &owner, &id);
		return model_prop_delete(fs->model, owner, id, n.name);
	}
	if (n.kind != NODE_ENTRY)
		return fs_refuse(-EPERM, "unlink", path,
				 "this file is generated and cannot be removed");
	if (n.entry.is_dir)
		return -EISDIR;
	r = model_entry_remove(fs->model, n.entry.id);
	if (r == 0 && n.side == SIDE_TENSORBOARD)
		syncer_kick(fs->syncer);
	if (r == -EPERM)
		return fs_refuse(r, "unlink", path,
				 n.side == SIDE_STEP_METRICS
					 ? "every commit of step metrics is history; append rows instead"
					 : "it belongs to a committed directory, which is history");
	return r;
}

static bool same_tree(const struct node *a, const struct node *b)
{
	return a->exec_id == b->exec_id && a->side == b->side;
}

int op_rename(const char *from, const char *to, unsigned int flags)
{
	struct fs *fs = get_fs();
	const char *name;
	struct node src, dst;
	int r;

	if (flags & RENAME_EXCHANGE)
		return fs_refuse(-EINVAL, "rename", from,
				 "exchanging two names is not supported");
	r = fs_resolve(fs, from, &src);
	if (r < 0)
		return r;
	r = fs_resolve_parent(fs, to, "rename", &dst, &name);
	if (r < 0)
		return r;
	if (src.kind == NODE_ENTRY &&
	    (dst.kind == NODE_SIDE || dst.kind == NODE_ENTRY)) {
		if (!same_tree(&src, &dst))
			return -EXDEV;	/* mv copies, which logs the copy */
		if (dst.kind == NODE_ENTRY && !dst.entry.is_dir)
			return -ENOTDIR;
		r = model_entry_rename(fs->model, src.entry.id,
				       dst.kind == NODE_SIDE ? 0 : dst.entry.id,
				       name, (flags & RENAME_NOREPLACE) != 0);
		if (r < 0 && r != -EEXIST && r != -ENOTEMPTY)
			return fs_refuse(r, "rename", from, "the store refused it");
		return r;
	}
	if ((src.kind == NODE_CTX_PROP || src.kind == NODE_EXEC_PROP) &&
	    (dst.kind == NODE_CTX_PROPS || dst.kind == NODE_EXEC_PROPS)) {
		enum model_owner so, dso;
		int64_t sid, did;

		prop_owner(&src, &so, &sid);
		prop_owner(&dst, &dso, &did);
		if (so != dso || sid != did)
			return -EXDEV;
		return model_prop_rename(fs->model, so, sid, src.name, name);
	}
	return fs_refuse(-EPERM, "rename", from,
			 "only files and folders inside inputs/ or outputs/, and properties, can be renamed");
}

int op_link(const char *from, const char *to)
{
	struct fs *fs = get_fs();
	const char *name;
	struct node src, dst;
	struct entry e;
	int r;

	r = fs_resolve(fs, from, &src);
	if (r < 0)
		return r;
	r = fs_resolve_parent(fs, to, "link", &dst, &name);
	if (r < 0)
		return r;
	if (src.kind != NODE_ENTRY || src.entry.is_dir)
		return fs_refuse(-EPERM, "link", from,
				 "only logged artifact files can be linked");
	if ((dst.kind != NODE_SIDE &&
	     !(dst.kind == NODE_ENTRY && dst.entry.is_dir)) ||
	    dst.side == SIDE_TENSORBOARD ||
	    (dst.side == SIDE_DATASLICE && dst.kind == NODE_SIDE))
		return fs_refuse(-EPERM, "link", to,
				 "links can only be made in an execution's inputs/ or outputs/");
	r = model_entry_link(fs->model, src.entry.id, dst.exec_id, dst.side,
			     dst.kind == NODE_SIDE ? 0 : dst.entry.id, name, &e);
	if (r == -EPERM)
		return fs_refuse(r, "link", from,
				 "the file is not logged yet; close it first");
	if (r < 0 && r != -EEXIST)
		return fs_refuse(r, "link", to, "the store refused it");
	return r;
}

int op_symlink(const char *target, const char *path)
{
	(void)target;
	return fs_refuse(-EPERM, "symlink", path,
			 "symbolic links cannot be logged as artifacts");
}

int op_mknod(const char *path, mode_t mode, dev_t dev)
{
	(void)mode;
	(void)dev;
	return fs_refuse(-EPERM, "mknod", path,
			 "only regular files and directories are supported");
}
