/* SPDX-License-Identifier: MIT */
/*
 * Extended attributes: user.cmf.* of every logged file and execution.
 */
#include "fs_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage.h"
#include "names.h"

/* --- extended attributes ----------------------------------------------------- */

int op_getxattr(const struct node *node, const char *name, char *value,
		size_t size)
{
	struct fs *fs = get_fs();
	char *v = NULL;
	struct node n;
	int64_t aid;
	size_t len = 0;
	int r;

	/*
	 * Only user.cmf.* exist.  ls -l asks every file for security.selinux
	 * and system.posix_acl_access: answer those before any lookup.
	 */
	if (strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)))
		return -ENODATA;
	n = *node;
	if (n.kind == NODE_ENTRY && n.side == SIDE_DATASLICE &&
	    !strncmp(name, XATTR_PREFIX "prop.", strlen(XATTR_PREFIX) + 5)) {
		r = model_entry_prop_get(fs->model, n.entry.id,
					 name + strlen(XATTR_PREFIX) + 5, &v);
		if (r == -ENOENT)
			return -ENODATA;
		if (r < 0)
			return r;
		len = strlen(v);
		goto reply;
	}
	aid = n.kind == NODE_ART_FILE ? n.artifact_id
	      : n.kind == NODE_ENTRY  ? n.entry.artifact_id
				      : 0;
	if (!aid || strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)))
		return -ENODATA;
	if (!strcmp(name + strlen(XATTR_PREFIX), "lineage"))
		r = lineage_artifact_text(fs->model, aid, &v, &len);
	else
		r = model_artifact_attr(fs->model, aid,
					name + strlen(XATTR_PREFIX), &v);
	if (r < 0)
		return r;
	len = strlen(v);
reply:
	if (size && len > size) {
		free(v);
		return -ERANGE;
	}
	if (size)
		memcpy(value, v, len);
	free(v);
	return (int)len;
}

int op_listxattr(const struct node *node, char *list, size_t size)
{
	struct fs *fs = get_fs();
	struct sb_like {
		char *p;
		size_t n;
	} out = { 0 };
	char *keys = NULL;
	size_t klen = 0, i, total = 0;
	struct node n;
	int64_t aid;
	int r;

	n = *node;
	aid = n.kind == NODE_ART_FILE ? n.artifact_id
	      : n.kind == NODE_ENTRY  ? n.entry.artifact_id
				      : 0;
	if (n.kind == NODE_ENTRY && n.side == SIDE_DATASLICE)
		r = model_entry_prop_keys(fs->model, n.entry.id, &keys, &klen);
	else if (!aid)
		return 0;
	else
		r = model_artifact_attr_keys(fs->model, aid, &keys, &klen);
	if (r < 0)
		return r;
	for (i = 0; i < klen; i += strlen(keys + i) + 1)
		total += strlen(XATTR_PREFIX) + strlen(keys + i) + 1;
	if (size && total > size) {
		free(keys);
		return -ERANGE;
	}
	if (size) {
		out.p = list;
		for (i = 0; i < klen; i += strlen(keys + i) + 1) {
			int w = snprintf(out.p + out.n, size - out.n, "%s%s",
					 XATTR_PREFIX, keys + i);

			out.n += (size_t)w + 1;
		}
	}
	free(keys);
	return (int)total;
}

int op_setxattr(const struct node *node, const char *name, const char *value,
		size_t size, int flags)
{
	struct fs *fs = get_fs();
	const char *prop = XATTR_PREFIX "prop.";
	struct node n;
	struct value v;
	const char *why;
	char *text;
	int r;

	(void)flags;
	n = *node;
	if (strncmp(name, prop, strlen(prop)) || !name[strlen(prop)])
		return -ENOTSUP;
	/* the same keys as properties/KEY files take */
	if (name_check(name + strlen(prop), &why) < 0)
		return fs_refuse_node(fs, -EINVAL, "setxattr", &n, NULL, why);
	if (n.kind == NODE_ENTRY && n.side == SIDE_DATASLICE) {
		/* a member's (or the slice's) property, kept with the slice */
		if (!utf8_valid(value, size) || memchr(value, '\0', size))
			return fs_refuse_node(fs, -EINVAL, "setxattr", &n, NULL,
					 "a property value must be UTF-8 text");
		text = strndup(value, size);
		if (!text)
			return -ENOMEM;
		r = model_entry_prop_set(fs->model, n.entry.id,
					 name + strlen(prop), text);
		free(text);
		return r;
	}
	if (n.kind != NODE_ENTRY || n.entry.is_dir || !n.entry.artifact_id)
		return fs_refuse_node(fs, -EPERM, "setxattr", &n, NULL,
				 "custom properties can be set on logged artifacts only");
	if (!utf8_valid(value, size) || memchr(value, '\0', size))
		return fs_refuse_node(fs, -EINVAL, "setxattr", &n, NULL,
				 "a property value must be UTF-8 text");
	text = strndup(value, size);
	if (!text)
		return -ENOMEM;
	value_parse(text, &v);
	r = model_prop_set(fs->model, OWNER_ARTIFACT, n.entry.artifact_id,
			   name + strlen(prop), &v);
	free(text);
	return r;
}

int op_removexattr(const struct node *node, const char *name)
{
	struct fs *fs = get_fs();
	const char *prop = XATTR_PREFIX "prop.";
	struct node n;
	int r;

	n = *node;
	if (!strncmp(name, prop, strlen(prop)) && n.kind == NODE_ENTRY &&
	    n.side == SIDE_DATASLICE) {
		r = model_entry_prop_delete(fs->model, n.entry.id,
					    name + strlen(prop));
		return r == -ENOENT ? -ENODATA : r;
	}
	if (strncmp(name, prop, strlen(prop)) || n.kind != NODE_ENTRY ||
	    !n.entry.artifact_id)
		return -ENODATA;
	r = model_prop_delete(fs->model, OWNER_ARTIFACT, n.entry.artifact_id,
			      name + strlen(prop));
	return r == -ENOENT ? -ENODATA : r;
}
