/* SPDX-License-Identifier: MIT */
/*
 * Directories: listing (readdir from a per-open snapshot), mkdir of
 * pipelines, stages, executions and entry directories, rmdir.
 */
#include "fs_i.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "artifacts.h"
#include "log.h"
#include "plots.h"
#include "pyenv.h"
#include "provenance.h"

/* --- directories ------------------------------------------------------------ */

struct fill_ctx {
	struct fs *fs;
	struct dir_snapshot *ds;
	const struct node *dir;
};

/*
 * Add @name to the listing, node @n with attributes @st (NULL: unknown,
 * and then @n too).
 */
static int fill(struct fill_ctx *c, const char *name, const struct node *n,
		const struct stat *st)
{
	struct dir_snapshot *ds = c->ds;
	struct dir_item *it;

	if (array_reserve(&ds->items, &ds->cap, ds->n + 1,
			  sizeof(*ds->items)) < 0) {
		ds->err = -ENOMEM;
		return 1;
	}
	it = &ds->items[ds->n];
	it->name = strdup(name);
	if (!it->name) {
		ds->err = -ENOMEM;
		return 1;
	}
	it->node_id = st ? fs_node_id(c->fs, n) : 0;
	if (st)
		it->st = *st;
	else
		memset(&it->st, 0, sizeof(it->st));
	ds->n++;
	return 0;
}

/* Add child @name of the directory, resolved for its attributes. */
static int fill_child(struct fill_ctx *c, const char *name)
{
	struct node n;
	struct stat st;

	n = *c->dir;
	if (fs_resolve_child(c->fs, &n, name) == 0 &&
	    node_stat(c->fs, &n, &st) == 0)
		return fill(c, name, &n, &st);
	return fill(c, name, NULL, NULL);
}

/* fs_layout_each() callback: list a fixed child. */
static int fill_fixed(void *ud, const struct layout_child *c)
{
	fill_child(ud, c->name);
	return 0;
}

static int name_cb(void *ud, const char *name, int64_t id)
{
	(void)id;
	return fill_child(ud, name);
}

static int entry_cb(void *ud, const struct entry *e)
{
	struct fill_ctx *c = ud;
	struct node n = *c->dir;
	struct stat st;

	n.kind = NODE_ENTRY;
	n.entry = *e;
	snprintf(n.name, sizeof(n.name), "%s", e->name);
	if (node_stat(c->fs, &n, &st) < 0)
		return fill(c, e->name, NULL, NULL);
	return fill(c, e->name, &n, &st);
}

static int metrics_cb(void *ud, const char *name, int64_t id)
{
	char file[300];

	(void)id;
	/* NAME.json was at most 255 bytes when it was created */
	snprintf(file, sizeof(file), "%.250s.json", name);
	return fill_child(ud, file);
}

/* NAME.svg for each NAME.csv (model_entry_cb) */
static int step_plot_cb(void *ud, const struct entry *e)
{
	size_t len = strlen(e->name);
	char file[300];

	if (len <= 4 || strcmp(e->name + len - 4, ".csv"))
		return 0;
	snprintf(file, sizeof(file), "%.*s.svg", (int)(len - 4), e->name);
	return fill_child(ud, file);
}

/* NAME.svg for each step metrics NAME of a stage (model_name_cb) */
static int stage_plot_cb(void *ud, const char *name, int64_t id)
{
	char file[300];

	(void)id;
	snprintf(file, sizeof(file), "%.250s.svg", name);
	return fill_child(ud, file);
}

static int list_metrics(struct fs *fs, struct fill_ctx *c, int64_t exec_id)
{
	struct pending_metrics *p;
	char names[16][256];
	int n = 0, i, r;

	r = model_metrics_list(fs->model, exec_id, metrics_cb, c);
	/* created and not yet written: listed too, once */
	pthread_mutex_lock(&fs->ofiles_lock);
	for (p = fs->pending; p && n < 16; p = p->next)
		if (p->exec_id == exec_id)
			snprintf(names[n++], sizeof(names[0]), "%s", p->name);
	pthread_mutex_unlock(&fs->ofiles_lock);
	for (i = 0; r == 0 && i < n; i++) {
		char *text = NULL;
		size_t len;

		if (model_metrics_json(fs->model, exec_id, names[i], &text,
				       &len) == -ENOENT)
			metrics_cb(c, names[i], 0);
		free(text);
	}
	return r;
}

bool fs_metrics_pending(struct fs *fs, int64_t exec_id, const char *name)
{
	struct pending_metrics *p;
	bool found = false;

	pthread_mutex_lock(&fs->ofiles_lock);
	for (p = fs->pending; p && !found; p = p->next)
		found = p->exec_id == exec_id && !strcmp(p->name, name);
	pthread_mutex_unlock(&fs->ofiles_lock);
	return found;
}

int pending_add(struct fs *fs, int64_t exec_id, const char *name)
{
	struct pending_metrics *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->exec_id = exec_id;
	snprintf(p->name, sizeof(p->name), "%s", name);
	pthread_mutex_lock(&fs->ofiles_lock);
	p->next = fs->pending;
	fs->pending = p;
	pthread_mutex_unlock(&fs->ofiles_lock);
	return 0;
}

void pending_remove(struct fs *fs, int64_t exec_id, const char *name)
{
	struct pending_metrics **pp, *p;

	pthread_mutex_lock(&fs->ofiles_lock);
	for (pp = &fs->pending; (p = *pp); pp = &p->next)
		if (p->exec_id == exec_id && !strcmp(p->name, name)) {
			*pp = p->next;
			free(p);
			break;
		}
	pthread_mutex_unlock(&fs->ofiles_lock);
}

/* Add every name of directory @dir to @ds. */
static int list_dir(struct fs *fs, const struct node *dir,
		    struct dir_snapshot *ds)
{
	struct fill_ctx c = { .fs = fs, .ds = ds };
	enum model_owner owner;
	struct node_times t;
	struct node n = *dir;
	int64_t id;
	int r;

	if (!is_dir_node(&n))
		return -ENOTDIR;
	/*
	 * The fixed children of an execution, a pipeline or a stage show its
	 * times: read once for them all
	 */
	if (n.kind == NODE_EXEC || n.kind == NODE_PIPELINE ||
	    n.kind == NODE_STAGE) {
		n.times_exec = n.kind == NODE_EXEC;
		n.times_id = n.times_exec ? n.exec_id : n.ctx_id;
		if ((n.times_exec ? model_execution_times(fs->model, n.times_id, &t)
				  : model_context_times(fs->model, n.times_id, &t)) == 0)
			n.times = &t;
	}
	c.dir = &n;
	fill(&c, ".", NULL, NULL);
	fill(&c, "..", NULL, NULL);
	(void)fs_layout_each(n.kind, fill_fixed, &c);
	switch (n.kind) {
	case NODE_ART_BYHASH:
		return artifacts_hash_dirs(fs->model, name_cb, &c);
	case NODE_ART_HASHDIR:
		return artifacts_in_hash_dir(fs->model, n.art_prefix, name_cb,
					     &c);
	case NODE_ART_BYTYPE:
		return artifacts_types(fs->model, name_cb, &c);
	case NODE_ART_NAMES:
		return artifacts_names(fs->model,
				       n.art_type[0] ? n.art_type : NULL,
				       n.art_prefix, name_cb, &c);
	case NODE_PIPELINES:
		return model_pipeline_list(fs->model, name_cb, &c);
	case NODE_PIPELINE:
		return model_stage_list(fs->model, n.pipeline_id, name_cb, &c);
	case NODE_STAGE:
		return model_execution_list(fs->model, n.stage_id, name_cb,
					    &c);
	case NODE_EXEC_DIFF:
		/*
		 * Not listed: E/diff/OTHER exists for every other execution
		 * of the stage, and listing them would make a stage of N
		 * executions N^2 names for ls -R, find and cp -r to walk and
		 * diff.  A lookup by name finds each one.
		 */
		return 0;
	case NODE_METRICS:
		r = list_metrics(fs, &c, n.exec_id);
		if (r == 0) {
			struct node steps = n;

			/* step metrics files are entries of their own side */
			steps.kind = NODE_SIDE;
			steps.side = SIDE_STEP_METRICS;
			c.dir = &steps;
			r = model_entry_list(fs->model, n.exec_id,
					     SIDE_STEP_METRICS, 0, entry_cb, &c);
		}
		if (r == 0) {
			c.dir = &n;
			r = model_entry_list(fs->model, n.exec_id,
					     SIDE_STEP_METRICS, 0, step_plot_cb,
					     &c);
		}
		return r;
	case NODE_STAGE_METRICS:
		return plots_stage_metrics(fs->model, n.stage_id,
					   stage_plot_cb, &c);
	case NODE_CTX_PROPS:
	case NODE_EXEC_PROPS:
		prop_owner(&n, &owner, &id);
		return model_prop_list(fs->model, owner, id, name_cb, &c);
	case NODE_SIDE:
	case NODE_ENTRY:
		return model_entry_list(fs->model, n.exec_id, n.side,
					n.kind == NODE_SIDE ? 0 : n.entry.id,
					entry_cb, &c);
	default:
		return 0;	/* children all fixed: listed above */
	}
}

void dir_snapshot_clear(struct dir_snapshot *ds)
{
	size_t i;

	for (i = 0; i < ds->n; i++)
		free(ds->items[i].name);
	free(ds->items);
	ds->items = NULL;
	ds->n = ds->cap = 0;
	ds->err = 0;
}

int dir_snapshot_take(struct fs *fs, const struct node *n,
		      struct dir_snapshot *ds)
{
	int r;

	dir_snapshot_clear(ds);
	r = list_dir(fs, n, ds);
	if (r == 0)
		r = ds->err;
	if (r < 0)
		dir_snapshot_clear(ds);
	return r;
}

static int origin_from_caller(struct exec_origin *o, struct provenance **ret)
{
	struct provenance *p = NULL;
	int r = provenance_read((int)fs_caller()->pid, get_fs()->mountpoint, &p);

	memset(o, 0, sizeof(*o));
	o->git_dirty = -1;
	if (r < 0)
		return r;
	o->cmdline = p->cmdline;
	o->git_repo = p->git_repo;
	o->git_commit = p->git_commit;
	o->git_dirty = p->git_dirty;
	o->user = p->user;
	o->host = p->host;
	o->pid = p->pid;
	*ret = p;
	return 0;
}

int op_mkdir(const struct node *parent, const char *name, mode_t mode)
{
	struct fs *fs = get_fs();
	const struct caller *ctx = fs_caller();
	struct provenance *prov = NULL;
	struct exec_origin origin;
	const struct node p = *parent;
	struct entry e;
	int64_t id;
	int r;

	/* a fixed name would hide what mkdir makes */
	if (fs_layout_find(p.kind, name))
		return -EEXIST;
	switch (p.kind) {
	case NODE_PIPELINES:
		r = model_pipeline_create(fs->model, name, &id);
		break;
	case NODE_PIPELINE:
		r = model_stage_create(fs->model, p.pipeline_id, p.pipeline,
				       name, &id);
		break;
	case NODE_STAGE:
		/* provenance is best effort: a vanished caller logs none */
		if (origin_from_caller(&origin, &prov) < 0)
			memset(&origin, 0, sizeof(origin)), origin.git_dirty = -1;
		r = model_execution_create(fs->model, p.stage_id, name,
					   &origin, &id);
		if (r == 0 && prov &&
		    pyenv_log(fs->cas, fs->model, id, prov->pid, fs->owner_uid,
			      fs->owner_gid) < 0) {
			struct node made = p;
			char path[PATH_MAX] = "?";

			if (fs_resolve_child(fs, &made, name) == 0)
				fs_node_path(fs, &made, path, sizeof(path));
			log_user("mkdir %s: the Python environment of the caller could not be logged",
				 path);
		}
		provenance_free(prov);
		break;
	case NODE_SIDE:
	case NODE_ENTRY:
		if (!p.entry.is_dir)
			return -ENOTDIR;
		r = model_entry_mkdir(fs->model, p.exec_id, p.side,
				      p.kind == NODE_SIDE ? 0 : p.entry.id,
				      name, mode, ctx->uid, ctx->gid, &e);
		break;
	default:
		return fs_refuse_node(fs, -EPERM, "mkdir", &p, name,
				 "directories can only be made under pipelines/, a pipeline, a stage, or an execution's inputs/ and outputs/");
	}
	if (r == -EEXIST)
		return r;
	if (r < 0)
		return fs_refuse_node(fs, r, "mkdir", &p, name,
				      "the store refused it");
	return 0;
}

int op_rmdir(const struct node *parent, const char *name)
{
	struct fs *fs = get_fs();
	struct node n = *parent;
	int r;

	r = fs_resolve_child(fs, &n, name);
	if (r < 0)
		return r;
	switch (n.kind) {
	case NODE_PIPELINE:
		r = model_pipeline_remove(fs->model, n.pipeline_id);
		break;
	case NODE_STAGE:
		r = model_stage_remove(fs->model, n.stage_id);
		break;
	case NODE_EXEC:
		r = model_execution_remove(fs->model, n.exec_id);
		if (r == -ENOTEMPTY)
			return fs_refuse_node(fs, r, "rmdir", &n, NULL,
					 "the execution has logged artifacts; logged history is append-only");
		break;
	case NODE_ENTRY:
		if (!n.entry.is_dir)
			return -ENOTDIR;
		r = model_entry_remove(fs->model, n.entry.id);
		if (r == -EPERM)
			return fs_refuse_node(fs, r, "rmdir", &n, NULL,
					 "the directory was committed as an artifact; logged history is append-only");
		break;
	default:
		return fs_refuse_node(fs, -EPERM, "rmdir", &n, NULL,
				 "this directory is part of the fixed layout");
	}
	return r;
}
