/* SPDX-License-Identifier: MIT */
/*
 * Node ids: the number of every node of the mount (fs_ino), the node of a
 * number (fs_node_of_ino), and a node's path for journal lines
 * (fs_node_path).  The kernel names a node by this number in every call
 * (the low-level FUSE API, ops.c), and the daemon keeps no table of the
 * nodes the kernel holds: a number carries its class in its top byte and
 * the store's own id below, so any number the kernel sends is turned back
 * into its node with a lookup or two in the store, however many the
 * kernel caches.  The ids of the store are never reused (AUTOINCREMENT),
 * so a number never names two different nodes in the life of a mount.
 * Only the few nodes with no id of their own (a view's directory,
 * metrics/NAME.json, a stage's chart, E/diff/OTHER) are numbered from a
 * table of keys seen (inotab.h), which grows with those names, never with
 * files.
 */
#include "fs_i.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts.h"
#include "hash.h"
#include "inotab.h"

#define INO_CLASS(c) ((uint64_t)(c) << 56)

enum ino_class {
	INO_FIXED = 0,
	INO_CONTEXT = 1,
	INO_CTX_PROPS = 2,
	INO_EXEC = 4,
	INO_EXEC_PART = 5,
	INO_ENTRY = 7,
	INO_ARTIFACT = 8,
	INO_METRICS = 9,
	INO_VIEW = 10,
	INO_PLOT = 11,
	INO_REPORT = 12,	/* pages and tables: kind << 48 | id */
	INO_DIFF = 13,		/* E/diff/OTHER, numbered as first seen */
};

/*
 * The number of a node known by a key, not an id: @tag, @len bytes of @a,
 * a NUL, and @b; below 2^55, from fs->inos.  Should the table be out of
 * memory, a hash of the key with bit 55 set stands in (it may collide, but
 * never with a number of the table).
 */
static uint64_t keyed_ino(struct fs *fs, char tag, const void *a, size_t len,
			  const char *b)
{
	char key[1 + 128 + 1 + 1024];
	size_t blen = strlen(b), klen, i;
	uint64_t n = 0, h = 1469598103934665603ull;

	if (len > 128 || blen > 1024)
		return 0;
	key[0] = tag;
	memcpy(key + 1, a, len);
	key[1 + len] = '\0';
	memcpy(key + 2 + len, b, blen);
	klen = 2 + len + blen;
	if (fs->inos)
		n = inotab_get(fs->inos, key, klen);
	if (n && n < (1ull << 55))
		return n;
	for (i = 0; i < klen; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
	return (h & ((1ull << 55) - 1)) | (1ull << 55);
}

/*
 * The fixed parts of an execution, numbered in the low four bits of their
 * inode numbers (execution id << 4 | code).
 */
static const struct exec_part {
	enum node_kind kind;
	int side;		/* NODE_SIDE */
} exec_parts[] = {
	{ NODE_SIDE, SIDE_INPUTS },
	{ NODE_SIDE, SIDE_OUTPUTS },
	{ NODE_EXEC_PROPS, 0 },
	{ NODE_EXEC_JSON, 0 },
	{ NODE_EXEC_STATE, 0 },
	{ NODE_METRICS, 0 },
	{ NODE_EXEC_LINEAGE, 0 },
	{ NODE_SIDE, SIDE_TENSORBOARD },
	{ NODE_SIDE, SIDE_DATASLICE },
};

static uint64_t exec_part_code(const struct node *n)
{
	uint64_t i;

	for (i = 0; i < sizeof(exec_parts) / sizeof(exec_parts[0]); i++)
		if (exec_parts[i].kind == n->kind &&
		    (n->kind != NODE_SIDE || exec_parts[i].side == n->side))
			return i;
	return 15;	/* never: every part is in the table */
}

/* The fixed nodes numbered 1 to 8, by their parent (the root: its own). */
static const struct fixed_ino {
	enum node_kind parent, kind;
} fixed_inos[] = {
	[1] = { NODE_ROOT, NODE_ROOT },
	[2] = { NODE_ROOT, NODE_PIPELINES },
	[3] = { NODE_ROOT, NODE_CMF_DIR },
	[4] = { NODE_CMF_DIR, NODE_CMF_STATUS },
	[5] = { NODE_CMF_DIR, NODE_CMF_LOG },
	[6] = { NODE_ROOT, NODE_ARTIFACTS },
	[7] = { NODE_ARTIFACTS, NODE_ART_BYHASH },
	[8] = { NODE_ARTIFACTS, NODE_ART_BYTYPE },
};

/* A pipeline's or stage's files numbered with its id: code << 54 | id. */
static const enum node_kind ctx_files[] = {
	NODE_CTX_PROPS, NODE_PIPELINE_SVG, NODE_PIPELINE_DOT,
	NODE_PIPELINE_CYPHER,
};

/* The index of @kind in @table of @n kinds. */
static uint64_t kind_index(const enum node_kind *table, size_t n,
			   enum node_kind kind)
{
	size_t i;

	for (i = 0; i < n && table[i] != kind; i++)
		;
	return i;
}

/*
 * The number of a node named @name in a directory of node @id, numbered
 * as first seen (keyed_ino()), in class @cls.
 */
static uint64_t keyed_name_ino(struct fs *fs, char tag, int64_t id,
			       const char *name, enum ino_class cls)
{
	uint64_t v = keyed_ino(fs, tag, &id, sizeof(id), name);

	return v ? INO_CLASS(cls) | v : 0;
}

uint64_t fs_ino(struct fs *fs, const struct node *n)
{
	uint64_t i;

	switch (n->kind) {
	case NODE_ROOT:
	case NODE_PIPELINES:
	case NODE_CMF_DIR:
	case NODE_CMF_STATUS:
	case NODE_CMF_LOG:
	case NODE_ARTIFACTS:
	case NODE_ART_BYHASH:
	case NODE_ART_BYTYPE:
		for (i = 1; fixed_inos[i].kind != n->kind; i++)
			;
		return i;
	case NODE_PIPELINE:
	case NODE_STAGE:
		return INO_CLASS(INO_CONTEXT) | (uint64_t)n->ctx_id;
	case NODE_CTX_PROPS:
	case NODE_PIPELINE_DOT:
	case NODE_PIPELINE_SVG:
	case NODE_PIPELINE_CYPHER:
		return INO_CLASS(INO_CTX_PROPS) |
		       kind_index(ctx_files, sizeof(ctx_files) / sizeof(ctx_files[0]),
				  n->kind) << 54 |
		       (uint64_t)n->ctx_id;
	/* a property's row is replaced when it is written, its name stays */
	case NODE_CTX_PROP:
		return keyed_name_ino(fs, 'c', n->ctx_id, n->name, INO_METRICS);
	case NODE_EXEC_PROP:
		return keyed_name_ino(fs, 'e', n->exec_id, n->name, INO_METRICS);
	case NODE_EXEC:
		return INO_CLASS(INO_EXEC) | (uint64_t)n->exec_id;
	case NODE_SIDE:
	case NODE_EXEC_PROPS:
	case NODE_EXEC_JSON:
	case NODE_EXEC_STATE:
	case NODE_EXEC_LINEAGE:
	case NODE_METRICS:
		return INO_CLASS(INO_EXEC_PART) | ((uint64_t)n->exec_id << 4) |
		       exec_part_code(n);
	case NODE_COMMIT:
		return INO_CLASS(INO_ENTRY) | (1ull << 55) | (uint64_t)n->entry.id;
	case NODE_ART_FILE:
		return INO_CLASS(INO_ARTIFACT) | (uint64_t)n->artifact_id;
	case NODE_ART_HASHDIR:
	case NODE_ART_NAMES: {
		/* a view's directory: (type, prefix), numbered as first seen */
		uint64_t v = keyed_ino(fs, 'v', n->art_type,
				       strnlen(n->art_type, sizeof(n->art_type)),
				       n->art_prefix);

		return v ? INO_CLASS(INO_VIEW) | v : 0;
	}
	case NODE_METRICS_FILE:
		return keyed_name_ino(fs, 'm', n->exec_id, n->name, INO_METRICS);
	case NODE_STEP_PLOT:
		return INO_CLASS(INO_PLOT) | (1ull << 55) | (uint64_t)n->entry.id;
	case NODE_STAGE_METRICS:
		return INO_CLASS(INO_PLOT) | (uint64_t)n->ctx_id;
	case NODE_PIPELINE_OPENLINEAGE:
		return INO_CLASS(INO_PLOT) | (1ull << 54) | (uint64_t)n->ctx_id;
	case NODE_STAGE_PLOT:
		return keyed_name_ino(fs, 'p', n->stage_id, n->name, INO_METRICS);
	case NODE_ROOT_INDEX:
	case NODE_PIPELINE_INDEX:
	case NODE_PIPELINE_COMPARE:
	case NODE_STAGE_COMPARE_TSV:
	case NODE_STAGE_COMPARE_MD:
		return INO_CLASS(INO_REPORT) | ((uint64_t)n->kind << 48) |
		       (n->kind == NODE_ROOT_INDEX ? 0 : (uint64_t)n->ctx_id);
	case NODE_EXEC_INDEX:
	case NODE_EXEC_DIFF:
		return INO_CLASS(INO_REPORT) | ((uint64_t)n->kind << 48) |
		       (uint64_t)n->exec_id;
	case NODE_EXEC_DIFF_FILE:
		return keyed_name_ino(fs, 'd', n->exec_id, n->name, INO_DIFF);
	case NODE_ENTRY:
		/*
		 * A file keeps one inode number for its whole life (SQLite
		 * checks that its database file is still the one it opened);
		 * hard links share it; two files with the same bytes do not.
		 */
		if (!n->entry.is_dir && n->entry.inode_id)
			return INO_CLASS(INO_ENTRY) |
			       (uint64_t)n->entry.inode_id;
		return INO_CLASS(INO_ENTRY) | (uint64_t)n->entry.id;
	}
	return 0;
}


uint64_t fs_node_id(struct fs *fs, const struct node *n)
{
	/*
	 * Every name of a hard-linked file is a node of its own (its own
	 * dataslice properties, its own open file); stat shows the inode
	 * number they share.
	 */
	if (n->kind == NODE_ENTRY)
		return INO_CLASS(INO_ENTRY) | (uint64_t)n->entry.id;
	return fs_ino(fs, n);
}

/* --- from a number back to its node ----------------------------------- */

#define LOW_BITS(ino, n) ((ino) & ((1ull << (n)) - 1))

/* Make @n the pipeline or stage @id. */
static int enter_context(struct fs *fs, struct node *n, int64_t id)
{
	struct model_place pl;
	int r = model_place_context(fs->model, id, &pl);

	if (r < 0)
		return r;
	n->kind = pl.stage_id ? NODE_STAGE : NODE_PIPELINE;
	n->pipeline_id = pl.pipeline_id;
	n->stage_id = pl.stage_id;
	n->ctx_id = id;
	snprintf(n->pipeline, sizeof(n->pipeline), "%s", pl.pipeline);
	snprintf(n->stage, sizeof(n->stage), "%s", pl.stage);
	snprintf(n->name, sizeof(n->name), "%s",
		 pl.stage_id ? pl.stage : pl.pipeline);
	return 0;
}

/* Make @n execution @id. */
static int enter_execution(struct fs *fs, struct node *n, int64_t id)
{
	struct model_place pl;
	int r = model_place_execution(fs->model, id, &pl);

	if (r < 0)
		return r;
	n->kind = NODE_EXEC;
	n->pipeline_id = pl.pipeline_id;
	n->stage_id = n->ctx_id = pl.stage_id;
	n->exec_id = id;
	snprintf(n->pipeline, sizeof(n->pipeline), "%s", pl.pipeline);
	snprintf(n->stage, sizeof(n->stage), "%s", pl.stage);
	snprintf(n->exec, sizeof(n->exec), "%s", pl.execution);
	snprintf(n->name, sizeof(n->name), "%s", pl.execution);
	return 0;
}

/* Make @n the file or directory @e. */
static int enter_entry(struct fs *fs, struct node *n, const struct entry *e)
{
	int r = enter_execution(fs, n, e->execution_id);

	if (r < 0)
		return r;
	n->kind = NODE_ENTRY;
	n->side = e->side;
	n->entry = *e;
	snprintf(n->name, sizeof(n->name), "%s", e->name);
	return 0;
}

/* Step from @n into its fixed child of kind @kind (and @side). */
static int enter_part(struct fs *fs, struct node *n, enum node_kind kind,
		      int side)
{
	const struct layout_child *c = fs_layout_child_of(n->kind, kind, side);

	if (!c)
		return -ESTALE;
	return fs_resolve_child(fs, n, c->name);
}

static int enter_fixed_ino(struct fs *fs, struct node *n, uint64_t ino)
{
	int r;

	if (ino >= sizeof(fixed_inos) / sizeof(fixed_inos[0]) || !ino)
		return -ESTALE;
	if (ino == 1)
		return 0;	/* the root */
	if (fixed_inos[ino].parent != NODE_ROOT) {
		r = enter_part(fs, n, fixed_inos[ino].parent, 0);
		if (r < 0)
			return r;
	}
	return enter_part(fs, n, fixed_inos[ino].kind, 0);
}

/*
 * A node numbered from fs->inos: its key is a tag, some bytes, a NUL and
 * a name (keyed_ino()).
 */
static int enter_keyed(struct fs *fs, struct node *n, uint64_t number)
{
	char key[1 + 128 + 1 + 1024 + 1];
	size_t len = number >> 55 ? 0 : inotab_key(fs->inos, number, key,
						    sizeof(key) - 1);
	const char *name;
	int64_t id;
	int r;

	if (len < 2)
		return -ESTALE;	/* a hashed number: never handed out twice */
	key[len] = '\0';
	if (key[0] == 'v') {
		/* a view's directory: (type, prefix) */
		const char *type = key + 1, *prefix = type + strlen(type) + 1;
		size_t plen = strlen(prefix);

		enter_part(fs, n, NODE_ARTIFACTS, 0);
		if (!type[0] && plen && prefix[plen - 1] != '/') {
			enter_part(fs, n, NODE_ART_BYHASH, 0);
			return fs_resolve_child(fs, n, prefix);
		}
		r = enter_part(fs, n, type[0] ? NODE_ART_BYTYPE : NODE_ART_NAMES, 0);
		if (r == 0 && type[0])
			r = fs_resolve_child(fs, n, type);
		if (r < 0)
			return r;
		snprintf(n->art_prefix, sizeof(n->art_prefix), "%s", prefix);
		if (plen) {
			/* its name is the last component of the prefix */
			const char *end = prefix + plen - 1, *p = end;

			while (p > prefix && p[-1] != '/')
				p--;
			snprintf(n->name, sizeof(n->name), "%.*s",
				 (int)(end - p), p);
		}
		return 0;
	}
	if (len < 1 + sizeof(id) + 1)
		return -ESTALE;
	memcpy(&id, key + 1, sizeof(id));
	name = key + 2 + sizeof(id);
	switch (key[0]) {
	case 'm':	/* E/metrics/NAME.json */
		r = enter_execution(fs, n, id);
		if (r == 0)
			r = enter_part(fs, n, NODE_METRICS, 0);
		break;
	case 'p':	/* S/metrics/NAME.svg */
		r = enter_context(fs, n, id);
		if (r == 0)
			r = enter_part(fs, n, NODE_STAGE_METRICS, 0);
		break;
	case 'c':	/* .properties/KEY of a pipeline or stage */
		r = enter_context(fs, n, id);
		if (r == 0)
			r = enter_part(fs, n, NODE_CTX_PROPS, 0);
		break;
	case 'e':	/* E/properties/KEY */
		r = enter_execution(fs, n, id);
		if (r == 0)
			r = enter_part(fs, n, NODE_EXEC_PROPS, 0);
		break;
	case 'd':	/* E/diff/OTHER */
		r = enter_execution(fs, n, id);
		if (r == 0)
			r = enter_part(fs, n, NODE_EXEC_DIFF, 0);
		break;
	default:
		return -ESTALE;
	}
	return r < 0 ? r : fs_resolve_child(fs, n, name);
}

int fs_node_of_ino(struct fs *fs, uint64_t ino, struct node *n)
{
	uint64_t low = LOW_BITS(ino, 56);
	struct entry e;
	int r;

	memset(n, 0, sizeof(*n));
	n->kind = NODE_ROOT;
	switch ((enum ino_class)(ino >> 56)) {
	case INO_FIXED:
		return enter_fixed_ino(fs, n, ino);
	case INO_CONTEXT:
		return enter_context(fs, n, (int64_t)low);
	case INO_CTX_PROPS:
		r = enter_context(fs, n, (int64_t)LOW_BITS(low, 54));
		return r < 0 ? r : enter_part(fs, n, ctx_files[low >> 54], 0);
	case INO_EXEC:
		return enter_execution(fs, n, (int64_t)low);
	case INO_EXEC_PART: {
		uint64_t code = LOW_BITS(low, 4);

		if (code >= sizeof(exec_parts) / sizeof(exec_parts[0]))
			return -ESTALE;
		r = enter_execution(fs, n, (int64_t)(low >> 4));
		return r < 0 ? r : enter_part(fs, n, exec_parts[code].kind,
					      exec_parts[code].side);
	}
	case INO_ENTRY:
		if (low >> 55) {
			/* DIR/.commit */
			r = model_entry_get(fs->model,
					    (int64_t)LOW_BITS(low, 55), &e);
			if (r == 0)
				r = enter_entry(fs, n, &e);
			if (r == 0)
				r = fs_resolve_child(fs, n, ".commit");
			return r;
		}
		r = model_entry_get(fs->model, (int64_t)low, &e);
		return r < 0 ? r : enter_entry(fs, n, &e);
	case INO_ARTIFACT:
		n->kind = NODE_ART_FILE;
		n->artifact_id = (int64_t)low;
		return 0;
	case INO_METRICS:
	case INO_VIEW:
	case INO_DIFF:
		return enter_keyed(fs, n, low);
	case INO_PLOT:
		if (low >> 55) {
			/* E/metrics/NAME.svg: the chart of entry NAME.csv */
			char svg[sizeof(n->name)];
			size_t len;

			r = model_entry_get(fs->model,
					    (int64_t)LOW_BITS(low, 55), &e);
			if (r < 0)
				return r;
			len = strlen(e.name);
			if (len < 4 || e.side != SIDE_STEP_METRICS)
				return -ESTALE;
			snprintf(svg, sizeof(svg), "%.*s.svg", (int)(len - 4),
				 e.name);
			r = enter_execution(fs, n, e.execution_id);
			if (r == 0)
				r = enter_part(fs, n, NODE_METRICS, 0);
			return r < 0 ? r : fs_resolve_child(fs, n, svg);
		}
		r = enter_context(fs, n, (int64_t)LOW_BITS(low, 54));
		return r < 0 ? r : enter_part(fs, n, low >> 54 ? NODE_PIPELINE_OPENLINEAGE
						    : NODE_STAGE_METRICS, 0);
	case INO_REPORT: {
		enum node_kind kind = (enum node_kind)((low >> 48) & 0xff);
		int64_t id = (int64_t)LOW_BITS(low, 48);

		switch (kind) {
		case NODE_ROOT_INDEX:
			break;
		case NODE_PIPELINE_INDEX:
		case NODE_PIPELINE_COMPARE:
		case NODE_STAGE_COMPARE_TSV:
		case NODE_STAGE_COMPARE_MD:
			r = enter_context(fs, n, id);
			if (r < 0)
				return r;
			break;
		case NODE_EXEC_INDEX:
		case NODE_EXEC_DIFF:
			r = enter_execution(fs, n, id);
			if (r < 0)
				return r;
			break;
		default:
			return -ESTALE;
		}
		return enter_part(fs, n, kind, 0);
	}
	}
	return -ESTALE;
}

/* --- a node's path, for journal lines ---------------------------------- */

/* Append "/@name" to the path in @buf of @size; false if it does not fit. */
static bool path_add(char *buf, size_t size, const char *name)
{
	size_t len = strlen(buf);
	int w;

	if (len == 1)
		len = 0;	/* "/" + "x" is "/x" */
	w = snprintf(buf + len, size - len, "/%s", name);
	return w >= 0 && (size_t)w < size - len;
}

/* The path of the directory holding @n's pipeline, stage or execution. */
static void context_path(const struct node *n, bool execution, char *buf,
			 size_t size)
{
	snprintf(buf, size, "/pipelines");
	path_add(buf, size, n->pipeline);
	if (n->stage_id || execution)
		path_add(buf, size, n->stage);
	if (execution)
		path_add(buf, size, n->exec);
}

/* The path of the artifact view node @n (a directory or a file). */
static int view_path(struct fs *fs, const struct node *n, char *buf,
		     size_t size)
{
	char prefix[sizeof(n->art_prefix)], uri[64];
	int64_t len, created;
	int r;

	snprintf(prefix, sizeof(prefix), "%s", n->art_prefix);
	if (prefix[0] && prefix[strlen(prefix) - 1] == '/')
		prefix[strlen(prefix) - 1] = '\0';
	if (n->kind == NODE_ART_FILE && !n->name[0]) {
		/* found by number: name it by its bytes' hash */
		r = artifacts_info(fs->model, n->artifact_id, uri, sizeof(uri),
				   &len, &created);
		if (r < 0)
			return r;
		snprintf(buf, size, "/artifacts/by-hash/%.2s/%s", uri,
			 strlen(uri) > 2 ? uri + 2 : "");
		return 0;
	}
	if (n->kind == NODE_ART_HASHDIR ||
	    (n->kind == NODE_ART_FILE && strlen(prefix) == 2 &&
	     !n->art_type[0] && !strchr(n->art_prefix, '/')))
		snprintf(buf, size, "/artifacts/by-hash/%s", prefix);
	else if (n->art_type[0])
		snprintf(buf, size, "/artifacts/by-type/%s%s%s", n->art_type,
			 prefix[0] ? "/" : "", prefix);
	else
		snprintf(buf, size, "/artifacts/by-name%s%s",
			 prefix[0] ? "/" : "", prefix);
	if (n->kind == NODE_ART_FILE)
		path_add(buf, size, n->name);
	return 0;
}

int fs_node_path(struct fs *fs, const struct node *n, char *buf, size_t size)
{
	const struct layout_child *c;
	char *rel = NULL;
	bool ok = true;
	int r;

	switch (n->kind) {
	case NODE_ROOT:
		snprintf(buf, size, "/");
		return 0;
	case NODE_ART_HASHDIR:
	case NODE_ART_NAMES:
	case NODE_ART_FILE:
		return view_path(fs, n, buf, size);
	case NODE_PIPELINE:
	case NODE_STAGE:
		context_path(n, false, buf, size);
		return 0;
	case NODE_EXEC:
		context_path(n, true, buf, size);
		return 0;
	case NODE_ENTRY:
	case NODE_COMMIT:
		context_path(n, true, buf, size);
		if (n->side == SIDE_STEP_METRICS) {
			ok = path_add(buf, size, "metrics") &&
			     path_add(buf, size, n->entry.name);
			break;
		}
		c = fs_layout_child_of(NODE_EXEC, NODE_SIDE, n->side);
		r = model_entry_path(fs->model, n->entry.id, &rel);
		if (r < 0)
			return r;
		ok = c && path_add(buf, size, c->name) &&
		     path_add(buf, size, rel) &&
		     (n->kind != NODE_COMMIT || path_add(buf, size, ".commit"));
		free(rel);
		break;
	case NODE_CTX_PROP:
	case NODE_EXEC_PROP:
	case NODE_METRICS_FILE:
	case NODE_STEP_PLOT:
	case NODE_STAGE_PLOT:
	case NODE_EXEC_DIFF_FILE: {
		/* a name in a fixed directory of its context */
		static const struct {
			enum node_kind kind, dir;
		} in_dir[] = {
			{ NODE_CTX_PROP, NODE_CTX_PROPS },
			{ NODE_EXEC_PROP, NODE_EXEC_PROPS },
			{ NODE_METRICS_FILE, NODE_METRICS },
			{ NODE_STEP_PLOT, NODE_METRICS },
			{ NODE_STAGE_PLOT, NODE_STAGE_METRICS },
			{ NODE_EXEC_DIFF_FILE, NODE_EXEC_DIFF },
		};
		size_t i;
		bool exec;

		for (i = 0; in_dir[i].kind != n->kind; i++)
			;
		exec = n->kind != NODE_CTX_PROP && n->kind != NODE_STAGE_PLOT;
		context_path(n, exec, buf, size);
		c = fs_layout_child_of(exec ? NODE_EXEC
					    : n->stage_id ? NODE_STAGE
							  : NODE_PIPELINE,
				       in_dir[i].dir, 0);
		ok = c && path_add(buf, size, c->name) &&
		     path_add(buf, size, n->name);
		break;
	}
	default:
		/* a fixed name: below the root, a context or an execution */
		c = fs_layout_child_of(NODE_EXEC, n->kind, n->side);
		if (c) {
			context_path(n, true, buf, size);
		} else if ((c = fs_layout_child_of(n->stage_id ? NODE_STAGE
							       : NODE_PIPELINE,
						    n->kind, 0)) &&
			   n->pipeline[0]) {
			context_path(n, false, buf, size);
		} else if ((c = fs_layout_child_of(NODE_CMF_DIR, n->kind, 0))) {
			snprintf(buf, size, "/.cmf");
		} else if ((c = fs_layout_child_of(NODE_ARTIFACTS, n->kind,
						    0))) {
			snprintf(buf, size, "/artifacts");
		} else if ((c = fs_layout_child_of(NODE_ROOT, n->kind, 0))) {
			snprintf(buf, size, "/");
		} else {
			return -EINVAL;
		}
		ok = path_add(buf, size, c->name);
	}
	return ok ? 0 : -ENAMETOOLONG;
}
