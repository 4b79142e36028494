/* SPDX-License-Identifier: MIT */
/*
 * Namespace operations: unlink, rename, link; symlink and mknod refused.
 */
#include "fs_i.h"

#include <errno.h>
#include <stdio.h>	/* RENAME_NOREPLACE, RENAME_EXCHANGE */

int op_unlink(const struct node *parent, const char *name)
{
	struct fs *fs = get_fs();
	struct node n = *parent;
	enum model_owner owner;
	int64_t id;
	int r;

	r = fs_resolve_child(fs, &n, name);
	if (r < 0)
		return r;
	if (n.kind == NODE_CTX_PROP || n.kind == NODE_EXEC_PROP) {
		prop_owner(&n, &owner, &id);
		return model_prop_delete(fs->model, owner, id, n.name);
	}
	if (n.kind != NODE_ENTRY)
		return fs_refuse_node(fs, -EPERM, "unlink", &n, NULL,
				 "this file is generated and cannot be removed");
	if (n.entry.is_dir)
		return -EISDIR;
	r = model_entry_remove(fs->model, n.entry.id);
	if (r == 0 && n.side == SIDE_TENSORBOARD)
		syncer_kick(fs->syncer);
	if (r == -EPERM)
		return fs_refuse_node(fs, r, "unlink", &n, NULL,
				 n.side == SIDE_STEP_METRICS
					 ? "every commit of step metrics is history; append rows instead"
					 : "it belongs to a committed directory, which is history");
	return r;
}

static bool same_tree(const struct node *a, const struct node *b)
{
	return a->exec_id == b->exec_id && a->side == b->side;
}

int op_rename(const struct node *parent, const char *from,
	      const struct node *newparent, const char *name,
	      unsigned int flags)
{
	struct fs *fs = get_fs();
	struct node src = *parent;
	const struct node dst = *newparent;
	int r;

	if (flags & RENAME_EXCHANGE)
		return fs_refuse_node(fs, -EINVAL, "rename", parent, from,
				      "exchanging two names is not supported");
	r = fs_resolve_child(fs, &src, from);
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
			return fs_refuse_node(fs, r, "rename", &src, NULL,
					      "the store refused it");
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
	return fs_refuse_node(fs, -EPERM, "rename", &src, NULL,
			 "only files and folders inside inputs/ or outputs/, and properties, can be renamed");
}

int op_link(const struct node *source, const struct node *newparent,
	    const char *name)
{
	struct fs *fs = get_fs();
	const struct node src = *source, dst = *newparent;
	struct entry e;
	int r;

	if (src.kind != NODE_ENTRY || src.entry.is_dir)
		return fs_refuse_node(fs, -EPERM, "link", &src, NULL,
				 "only logged artifact files can be linked");
	if ((dst.kind != NODE_SIDE &&
	     !(dst.kind == NODE_ENTRY && dst.entry.is_dir)) ||
	    dst.side == SIDE_TENSORBOARD ||
	    (dst.side == SIDE_DATASLICE && dst.kind == NODE_SIDE))
		return fs_refuse_node(fs, -EPERM, "link", &dst, name,
				 "links can only be made in an execution's inputs/ or outputs/");
	r = model_entry_link(fs->model, src.entry.id, dst.exec_id, dst.side,
			     dst.kind == NODE_SIDE ? 0 : dst.entry.id, name, &e);
	if (r == -EPERM)
		return fs_refuse_node(fs, r, "link", &src, NULL,
				 "the file is not logged yet; close it first");
	if (r < 0 && r != -EEXIST)
		return fs_refuse_node(fs, r, "link", &dst, name,
				      "the store refused it");
	return r;
}

int op_symlink(const struct node *parent, const char *name)
{
	return fs_refuse_node(get_fs(), -EPERM, "symlink", parent, name,
			      "symbolic links cannot be logged as artifacts");
}

int op_mknod(const struct node *parent, const char *name)
{
	return fs_refuse_node(get_fs(), -EPERM, "mknod", parent, name,
			      "only regular files and directories are supported");
}
