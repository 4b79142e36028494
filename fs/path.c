/* SPDX-License-Identifier: MIT */
/*
 * Path to node resolution: every FUSE call starts here.  A path is walked
 * component by component: the fixed names from one table (fs_layout, the
 * only place they are spelled), the others against the model, whose name
 * cache (model.c) is kept exact by every change, so what a path names is
 * always what the store says now.
 */
#include "fs_i.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts.h"
#include "inotab.h"
#include "log.h"
#include "names.h"
#include "plots.h"
#include "sb.h"

int fs_refuse(int r, const char *op, const char *path, const char *why)
{
	char buf[64];
	const char *err = strerrorname_np(-r);
	struct sb shown;
	size_t i, n = strlen(path);

	if (!err) {
		snprintf(buf, sizeof(buf), "errno %d", -r);
		err = buf;
	}
	/* the journal is UTF-8 text, one line per event: escape the rest */
	sb_init(&shown, 4096);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];
		size_t len = 1;

		if (c >= 0xc0)
			len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (c >= 0x20 && c != 0x7f && c != '\\' &&
		    (c < 0x80 || (i + len <= n && utf8_valid(path + i, len)))) {
			sb_append(&shown, path + i, len);
			i += len - 1;
		} else {
			sb_appendf(&shown, "\\x%02x", c);
		}
	}
	log_user("%s %s: %s (%s)", op, sb_err(&shown) ? "?" : shown.buf, why,
		 err);
	sb_release(&shown);
	return r;
}

int fs_refuse_node(struct fs *fs, int r, const char *op,
		   const struct node *n, const char *name, const char *why)
{
	char path[PATH_MAX];

	if (fs_node_path(fs, n, path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "(a removed name)");
	if (name) {
		size_t len = strlen(path);

		snprintf(path + len, sizeof(path) - len, "%s%s",
			 len == 1 ? "" : "/", name);
	}
	return fs_refuse(r, op, path, why);
}

struct prop_find {
	const char *name;
	int64_t id;
	bool found;
};

/* --- the fixed layout ---------------------------------------------------- */

static const struct layout_child fs_layout[] = {
	{ NODE_ROOT, "pipelines", NODE_PIPELINES, 0 },
	{ NODE_ROOT, "artifacts", NODE_ARTIFACTS, 0 },
	{ NODE_ROOT, ".cmf", NODE_CMF_DIR, 0 },
	{ NODE_ROOT, "index.html", NODE_ROOT_INDEX, 0 },
	{ NODE_ARTIFACTS, "by-hash", NODE_ART_BYHASH, 0 },
	{ NODE_ARTIFACTS, "by-name", NODE_ART_NAMES, 0 },
	{ NODE_ARTIFACTS, "by-type", NODE_ART_BYTYPE, 0 },
	{ NODE_CMF_DIR, "status", NODE_CMF_STATUS, 0 },
	{ NODE_CMF_DIR, "log", NODE_CMF_LOG, 0 },
	{ NODE_PIPELINE, ".properties", NODE_CTX_PROPS, 0 },
	{ NODE_PIPELINE, "compare.tsv", NODE_PIPELINE_COMPARE, 0 },
	{ NODE_PIPELINE, "index.html", NODE_PIPELINE_INDEX, 0 },
	{ NODE_PIPELINE, "lineage.cypher", NODE_PIPELINE_CYPHER, 0 },
	{ NODE_PIPELINE, "lineage.dot", NODE_PIPELINE_DOT, 0 },
	{ NODE_PIPELINE, "lineage.svg", NODE_PIPELINE_SVG, 0 },
	{ NODE_PIPELINE, "openlineage.jsonl", NODE_PIPELINE_OPENLINEAGE, 0 },
	{ NODE_STAGE, ".properties", NODE_CTX_PROPS, 0 },
	{ NODE_STAGE, "compare.md", NODE_STAGE_COMPARE_MD, 0 },
	{ NODE_STAGE, "compare.tsv", NODE_STAGE_COMPARE_TSV, 0 },
	{ NODE_STAGE, "metrics", NODE_STAGE_METRICS, 0 },
	{ NODE_EXEC, "dataslices", NODE_SIDE, SIDE_DATASLICE },
	{ NODE_EXEC, "diff", NODE_EXEC_DIFF, 0 },
	{ NODE_EXEC, "execution.json", NODE_EXEC_JSON, 0 },
	{ NODE_EXEC, "index.html", NODE_EXEC_INDEX, 0 },
	{ NODE_EXEC, "inputs", NODE_SIDE, SIDE_INPUTS },
	{ NODE_EXEC, "lineage", NODE_EXEC_LINEAGE, 0 },
	{ NODE_EXEC, "metrics", NODE_METRICS, 0 },
	{ NODE_EXEC, "outputs", NODE_SIDE, SIDE_OUTPUTS },
	{ NODE_EXEC, "properties", NODE_EXEC_PROPS, 0 },
	{ NODE_EXEC, "state", NODE_EXEC_STATE, 0 },
	{ NODE_EXEC, "tensorboard", NODE_SIDE, SIDE_TENSORBOARD },
};

#define LAYOUT_LEN (sizeof(fs_layout) / sizeof(fs_layout[0]))

/* Kinds of node that are files; every other kind is a directory. */
static const bool kind_is_file[] = {
	[NODE_CMF_STATUS] = true,
	[NODE_CMF_LOG] = true,
	[NODE_CTX_PROP] = true,
	[NODE_EXEC_PROP] = true,
	[NODE_EXEC_JSON] = true,
	[NODE_EXEC_STATE] = true,
	[NODE_METRICS_FILE] = true,
	[NODE_EXEC_LINEAGE] = true,
	[NODE_PIPELINE_DOT] = true,
	[NODE_PIPELINE_SVG] = true,
	[NODE_PIPELINE_CYPHER] = true,
	[NODE_COMMIT] = true,
	[NODE_ART_FILE] = true,
	[NODE_STEP_PLOT] = true,
	[NODE_STAGE_PLOT] = true,
	[NODE_PIPELINE_OPENLINEAGE] = true,
	[NODE_ROOT_INDEX] = true,
	[NODE_PIPELINE_INDEX] = true,
	[NODE_PIPELINE_COMPARE] = true,
	[NODE_STAGE_COMPARE_TSV] = true,
	[NODE_STAGE_COMPARE_MD] = true,
	[NODE_EXEC_INDEX] = true,
	[NODE_EXEC_DIFF_FILE] = true,
};

/* Kinds whose children are all in fs_layout (none from the model). */
static bool all_fixed(enum node_kind kind)
{
	return kind == NODE_ROOT || kind == NODE_ARTIFACTS ||
	       kind == NODE_CMF_DIR || kind == NODE_EXEC;
}

const struct layout_child *fs_layout_child_of(enum node_kind parent,
					      enum node_kind kind, int side)
{
	size_t i;

	for (i = 0; i < LAYOUT_LEN; i++)
		if (fs_layout[i].parent == parent && fs_layout[i].kind == kind &&
		    (kind != NODE_SIDE || fs_layout[i].side == side))
			return &fs_layout[i];
	return NULL;
}

const struct layout_child *fs_layout_find(enum node_kind parent,
					  const char *name)
{
	size_t i;

	for (i = 0; i < LAYOUT_LEN; i++)
		if (fs_layout[i].parent == parent &&
		    !strcmp(fs_layout[i].name, name))
			return &fs_layout[i];
	return NULL;
}

int fs_layout_each(enum node_kind parent,
		   int (*cb)(void *ud, const struct layout_child *c), void *ud)
{
	size_t i;
	int r;

	for (i = 0; i < LAYOUT_LEN; i++) {
		if (fs_layout[i].parent != parent)
			continue;
		r = cb(ud, &fs_layout[i]);
		if (r)
			return r;
	}
	return 0;
}

bool fs_kind_is_dir(enum node_kind kind)
{
	return (size_t)kind >= sizeof(kind_is_file) / sizeof(kind_is_file[0]) ||
	       !kind_is_file[kind];
}

unsigned fs_layout_nlink(enum node_kind kind)
{
	unsigned n = 2;
	size_t i;

	if (!all_fixed(kind))
		return 0;
	for (i = 0; i < LAYOUT_LEN; i++)
		if (fs_layout[i].parent == kind &&
		    fs_kind_is_dir(fs_layout[i].kind))
			n++;
	return n;
}

/* Enter the fixed child @c of @n. */
static void enter_fixed(struct node *n, const struct layout_child *c)
{
	n->kind = c->kind;
	if (c->kind == NODE_ART_NAMES) {
		/* by-name: every type */
		n->art_type[0] = n->art_prefix[0] = '\0';
	} else if (c->kind == NODE_SIDE) {
		n->side = c->side;
		memset(&n->entry, 0, sizeof(n->entry));
		n->entry.is_dir = true;
	}
}

static int prop_find_cb(void *ud, const char *name, int64_t id)
{
	struct prop_find *pf = ud;

	if (strcmp(name, pf->name))
		return 0;
	pf->id = id;
	pf->found = true;
	return 1;
}

static int find_prop(struct fs *fs, enum model_owner owner, int64_t id,
		     const char *name, int64_t *ret_id)
{
	struct prop_find pf = { .name = name };
	int r = model_prop_list(fs->model, owner, id, prop_find_cb, &pf);

	if (r < 0)
		return r;
	if (!pf.found)
		return -ENOENT;
	*ret_id = pf.id;
	return 0;
}

/* One step from @n into child @name; @n is updated in place. */
static int step(struct fs *fs, struct node *n, const char *name)
{
	const struct layout_child *fixed = fs_layout_find(n->kind, name);
	int64_t id;
	int r;

	if (fixed) {
		enter_fixed(n, fixed);
		return 0;
	}
	if (all_fixed(n->kind))
		return -ENOENT;
	switch (n->kind) {
	case NODE_ART_BYHASH:
		if (strlen(name) != 2)
			return -ENOENT;
		n->kind = NODE_ART_HASHDIR;
		snprintf(n->art_prefix, sizeof(n->art_prefix), "%s", name);
		return 0;
	case NODE_ART_HASHDIR: {
		char uri[64];

		if (snprintf(uri, sizeof(uri), "%s%s", n->art_prefix, name) >=
		    (int)sizeof(uri))
			return -ENOENT;
		r = artifacts_find_uri(fs->model, uri, &n->artifact_id);
		if (r < 0)
			return r;
		n->kind = NODE_ART_FILE;
		return 0;
	}
	case NODE_ART_BYTYPE:
		n->kind = NODE_ART_NAMES;
		snprintf(n->art_type, sizeof(n->art_type), "%s", name);
		n->art_prefix[0] = '\0';
		return 0;	/* an unknown type is an empty directory */
	case NODE_ART_NAMES: {
		char full[1300];
		bool is_dir = false;

		if (snprintf(full, sizeof(full), "%s%s", n->art_prefix, name) >=
		    (int)sizeof(n->art_prefix) - 1)
			return -ENAMETOOLONG;
		r = artifacts_find_name(fs->model,
					n->art_type[0] ? n->art_type : NULL,
					full, &n->artifact_id, &is_dir);
		if (r < 0)
			return r;
		if (is_dir) {
			size_t len = strlen(full);

			memcpy(n->art_prefix, full, len);
			n->art_prefix[len] = '/';
			n->art_prefix[len + 1] = '\0';
		} else
			n->kind = NODE_ART_FILE;
		return 0;
	}
	case NODE_PIPELINES:
		r = model_pipeline_find(fs->model, name, &id);
		if (r < 0)
			return r;
		n->kind = NODE_PIPELINE;
		n->pipeline_id = n->ctx_id = id;
		snprintf(n->pipeline, sizeof(n->pipeline), "%s", name);
		return 0;
	case NODE_PIPELINE:
	case NODE_STAGE:
		if (n->kind == NODE_PIPELINE) {
			r = model_stage_find(fs->model, n->pipeline, name, &id);
			if (r < 0)
				return r;
			n->kind = NODE_STAGE;
			n->stage_id = n->ctx_id = id;
			snprintf(n->stage, sizeof(n->stage), "%s", name);
			return 0;
		}
		r = model_execution_find(fs->model, n->stage_id, name, &id);
		if (r < 0)
			return r;
		n->kind = NODE_EXEC;
		n->exec_id = id;
		snprintf(n->exec, sizeof(n->exec), "%s", name);
		return 0;
	case NODE_CTX_PROPS:
		r = find_prop(fs, OWNER_CONTEXT, n->ctx_id, name, &n->prop_id);
		if (r < 0)
			return r;
		n->kind = NODE_CTX_PROP;
		return 0;
	case NODE_METRICS: {
		size_t len = strlen(name);
		char base[256];
		char *text = NULL;
		size_t tlen;

		if (len > 4 && (!strcmp(name + len - 4, ".csv") ||
				!strcmp(name + len - 4, ".svg"))) {
			/* NAME.csv, or NAME.svg: the chart of NAME.csv */
			snprintf(base, sizeof(base), "%.*s.csv",
				 (int)(len - 4), name);
			r = model_entry_lookup(fs->model, n->exec_id,
					       SIDE_STEP_METRICS, 0, base,
					       &n->entry);
			if (r < 0)
				return r;
			n->kind = name[len - 3] == 's' ? NODE_STEP_PLOT
						       : NODE_ENTRY;
			n->side = SIDE_STEP_METRICS;
			return 0;
		}

		if (len <= 5 || strcmp(name + len - 5, ".json"))
			return -ENOENT;
		snprintf(base, sizeof(base), "%.*s", (int)(len - 5), name);
		if (!fs_metrics_pending(fs, n->exec_id, base)) {
			r = model_metrics_json(fs->model, n->exec_id, base, &text,
					       &tlen);
			free(text);
			if (r < 0)
				return r;
		}
		n->kind = NODE_METRICS_FILE;
		return 0;
	}
	case NODE_STAGE_METRICS: {
		size_t len = strlen(name);
		char base[256];

		if (len <= 4 || strcmp(name + len - 4, ".svg"))
			return -ENOENT;
		snprintf(base, sizeof(base), "%.*s", (int)(len - 4), name);
		r = plots_stage_has(fs->model, n->stage_id, base);
		if (r < 0)
			return r;
		n->kind = NODE_STAGE_PLOT;
		return 0;
	}
	case NODE_EXEC_DIFF:
		/* the other executions of the stage */
		r = model_execution_find(fs->model, n->stage_id, name, &id);
		if (r == 0 && id == n->exec_id)
			r = -ENOENT;
		if (r < 0)
			return r;
		n->kind = NODE_EXEC_DIFF_FILE;
		n->other_exec_id = id;
		return 0;
	case NODE_EXEC_PROPS:
		r = find_prop(fs, OWNER_EXECUTION, n->exec_id, name,
			      &n->prop_id);
		if (r < 0)
			return r;
		n->kind = NODE_EXEC_PROP;
		return 0;
	case NODE_SIDE:
	case NODE_ENTRY:
		if (!n->entry.is_dir)
			return -ENOTDIR;
		/* touch DIR/.commit logs DIR as one DVC directory artifact */
		if (n->kind == NODE_ENTRY && !strcmp(name, ".commit") &&
		    (n->side == SIDE_INPUTS || n->side == SIDE_OUTPUTS ||
		     (n->side == SIDE_DATASLICE && n->entry.parent_id == 0))) {
			n->kind = NODE_COMMIT;
			return 0;
		}
		r = model_entry_lookup(fs->model, n->exec_id, n->side,
				       n->kind == NODE_SIDE ? 0 : n->entry.id,
				       name, &n->entry);
		if (r < 0)
			return r;
		n->kind = NODE_ENTRY;
		return 0;
	default:
		return -ENOTDIR;
	}
}

int fs_resolve_child(struct fs *fs, struct node *n, const char *name)
{
	int r = step(fs, n, name);

	if (r == 0)
		snprintf(n->name, sizeof(n->name), "%s", name);
	return r;
}

int fs_resolve(struct fs *fs, const char *path, struct node *ret)
{
	char comp[NAME_MAX_BYTES + 1];
	const char *p = path;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->kind = NODE_ROOT;
	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "/");
		if (n > NAME_MAX_BYTES)
			return -ENAMETOOLONG;
		memcpy(comp, p, n);
		comp[n] = '\0';
		r = step(fs, ret, comp);
		if (r < 0)
			return r;
		snprintf(ret->name, sizeof(ret->name), "%s", comp);
		p += n;
	}
	return 0;
}
