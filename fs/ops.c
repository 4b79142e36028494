/* SPDX-License-Identifier: MIT */
/*
 * The FUSE operations: where every call from the kernel lands.  Each one
 * resolves its path (path.c), checks what the node allows, and calls the
 * model, the content store or the open-file table.  Refusals return the
 * errno and write one line to the journal (.cmf/log).
 */
#include "fs_i.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "artifacts.h"
#include "cache.h"
#include "dirmanifest.h"
#include "lineage.h"
#include "log.h"
#include "names.h"
#include "proc.h"
#include "provenance.h"
#include "value.h"

#define PROP_MAX_BYTES (1 << 20)
#define XATTR_PREFIX "user.cmf."

enum handle_kind {
	H_OBJECT,	/* a logged file opened read-only: a cache object fd */
	H_OFILE,	/* a file opened for writing, or being written */
	H_TEXT,		/* a generated read-only text (snapshot at open) */
	H_PROP,		/* a property file: text read or written whole */
	H_CONTROL,	/* state, metrics/NAME.json: applied when closed */
};

struct handle {
	enum handle_kind kind;
	int fd;			/* H_OBJECT */
	struct ofile *of;	/* H_OFILE */
	bool writer;		/* opened for writing */
	char *buf;		/* H_TEXT, H_PROP */
	size_t len;
	size_t cap;
	bool written;		/* H_PROP, H_CONTROL: content to apply */
	bool emptied;		/* H_CONTROL: truncated, or never logged */
	pid_t opener;		/* H_OFILE: the thread that opened it */
	bool rdwr;		/* H_OFILE: opened O_RDWR (may be mmapped) */
	enum node_kind node;	/* H_CONTROL: which file */
	int64_t exec_id;	/* H_CONTROL */
	enum model_owner owner;	/* H_PROP */
	int64_t owner_id;
	char name[256];
	char path[512];		/* for journal lines */
};

static struct fs *get_fs(void)
{
	return fuse_get_context()->private_data;
}

static struct handle *handle_of(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

static void handle_free(struct handle *h)
{
	if (!h)
		return;
	if (h->kind == H_OBJECT && h->fd >= 0)
		close(h->fd);
	free(h->buf);
	free(h);
}

static struct handle *handle_new(enum handle_kind kind, const char *path)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->kind = kind;
	h->fd = -1;
	snprintf(h->path, sizeof(h->path), "%s", path);
	return h;
}

static void ns_to_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
}

static bool is_dir_node(const struct node *n)
{
	switch (n->kind) {
	case NODE_CMF_STATUS:
	case NODE_CMF_LOG:
	case NODE_CTX_PROP:
	case NODE_EXEC_PROP:
	case NODE_EXEC_JSON:
	case NODE_EXEC_STATE:
	case NODE_METRICS_FILE:
	case NODE_EXEC_LINEAGE:
	case NODE_PIPELINE_DOT:
	case NODE_PIPELINE_SVG:
	case NODE_PIPELINE_CYPHER:
	case NODE_COMMIT:
	case NODE_ART_FILE:
		return false;
	case NODE_ENTRY:
		return n->entry.is_dir;
	default:
		return true;
	}
}

/* --- generated content ------------------------------------------------- */

static int prop_owner(const struct node *n, enum model_owner *owner,
		      int64_t *id)
{
	if (n->kind == NODE_CTX_PROP || n->kind == NODE_CTX_PROPS) {
		*owner = OWNER_CONTEXT;
		*id = n->ctx_id;
		return 0;
	}
	if (n->kind == NODE_EXEC_PROP || n->kind == NODE_EXEC_PROPS) {
		*owner = OWNER_EXECUTION;
		*id = n->exec_id;
		return 0;
	}
	return -EINVAL;
}

/* The text of a generated file; *ret owned. */
static int node_text(struct fs *fs, const struct node *n, char **ret,
		     size_t *ret_len)
{
	enum model_owner owner;
	int64_t id;
	char *v = NULL;
	int r;

	switch (n->kind) {
	case NODE_CMF_STATUS: {
		char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

		r = model_status_text(fs->model, &a, ret_len);
		if (r == 0)
			r = syncer_status_text(fs->syncer, &b);
		if (r == 0)
			r = fetch_status_line(fs->model, &c);
		/* without sync (no storage, no server) the cache's lines are
		 * not in the syncer's text */
		if (r == 0 && fs->cfg->storage == STORAGE_NONE &&
		    !fs->cfg->server_url)
			r = cache_status_text(fs->cas, fs->model, fs->cfg, &d);
		if (r == 0 && asprintf(ret, "%s%s%s%s", a, b, c, d ? d : "") < 0)
			r = -ENOMEM;
		if (r == 0)
			*ret_len = strlen(*ret);
		free(a);
		free(b);
		free(c);
		free(d);
		return r;
	}
	case NODE_CMF_LOG:
		return log_journal_snapshot(ret, ret_len);
	case NODE_EXEC_JSON:
		return model_execution_json(fs->model, n->exec_id, ret,
					    ret_len);
	case NODE_EXEC_LINEAGE:
		return lineage_execution_text(fs->model, n->exec_id, ret,
					      ret_len);
	case NODE_PIPELINE_DOT:
		return lineage_pipeline_dot(fs->model, n->pipeline_id, ret,
					    ret_len);
	case NODE_PIPELINE_SVG:
		return lineage_pipeline_svg(fs->model, n->pipeline_id, ret,
					    ret_len);
	case NODE_PIPELINE_CYPHER:
		return lineage_pipeline_cypher(fs->model, n->pipeline_id, ret,
					       ret_len);
	case NODE_EXEC_STATE: {
		int state = -1;

		r = model_execution_state(fs->model, n->exec_id, &state);
		if (r < 0)
			return r;
		if (asprintf(ret, "%s\n", exec_state_name(state) ? exec_state_name(state) : "UNKNOWN") < 0)
			return -ENOMEM;
		*ret_len = strlen(*ret);
		return 0;
	}
	case NODE_METRICS_FILE: {
		char base[256];
		size_t len = strlen(n->name);

		snprintf(base, sizeof(base), "%.*s", (int)(len - 5), n->name);
		r = model_metrics_json(fs->model, n->exec_id, base, ret, ret_len);
		if (r == -ENOENT) {
			*ret = strdup("");	/* created, not written yet */
			*ret_len = 0;
			r = *ret ? 0 : -ENOMEM;
		}
		return r;
	}
	case NODE_CTX_PROP:
	case NODE_EXEC_PROP:
		prop_owner(n, &owner, &id);
		r = model_prop_get(fs->model, owner, id, n->name, &v);
		if (r < 0)
			return r;
		/* a property reads back as one line */
		if (asprintf(ret, "%s%s", v, v[0] ? "\n" : "") < 0) {
			free(v);
			return -ENOMEM;
		}
		*ret_len = strlen(*ret);
		free(v);
		return 0;
	default:
		return -EISDIR;
	}
}

/* --- attributes ---------------------------------------------------------- */

static int dir_nlink(struct fs *fs, const struct node *n)
{
	int r;

	switch (n->kind) {
	case NODE_ROOT:
		return 5;	/* ., .., pipelines, artifacts, .cmf */
	case NODE_EXEC:
		return 8;	/* inputs, outputs, properties, metrics, tensorboard,
				 * dataslices */
	case NODE_SIDE:
	case NODE_ENTRY:
		r = model_entry_subdirs(fs->model, n->exec_id, n->side,
					n->kind == NODE_SIDE ? 0 : n->entry.id);
		return r < 0 ? 2 : 2 + r;
	default:
		return 2;
	}
}

static bool generated_document(const struct node *n)
{
	switch (n->kind) {
	case NODE_CMF_LOG:
	case NODE_EXEC_JSON:
	case NODE_EXEC_LINEAGE:
	case NODE_PIPELINE_DOT:
	case NODE_PIPELINE_SVG:
	case NODE_PIPELINE_CYPHER:
		return true;
	default:
		return false;
	}
}

static int node_stat(struct fs *fs, const struct node *n, struct stat *st)
{
	struct node_times t = { 0 };
	struct dir_attr da;
	int64_t mtime_ns = fs->mount_time_ns, ctime_ns;
	int r;

	memset(st, 0, sizeof(*st));
	st->st_ino = fs_ino(n);
	st->st_uid = fs->owner_uid;
	st->st_gid = fs->owner_gid;
	st->st_blksize = 1 << 20;
	if (n->kind == NODE_ENTRY && !n->entry.is_dir) {
		struct ofile *of = ofile_find(fs, n->entry.id);

		st->st_mode = S_IFREG | n->entry.mode;
		st->st_nlink = n->entry.nlink ? n->entry.nlink : 1;
		st->st_size = (off_t)n->entry.size;
		mtime_ns = n->entry.mtime_ns;
		if (of) {
			uint64_t size;

			ofile_stat(of, &size, &mtime_ns);
			st->st_size = (off_t)size;
			ofile_release(fs, of);
		}
		st->st_uid = n->entry.uid;
		st->st_gid = n->entry.gid;
		ns_to_ts(mtime_ns, &st->st_mtim);
		ns_to_ts(n->entry.ctime_ns > mtime_ns ? n->entry.ctime_ns
						      : mtime_ns,
			 &st->st_ctim);
		st->st_atim = st->st_mtim;
		st->st_blocks = (st->st_size + 511) / 512;
		return 0;
	}
	if (n->kind == NODE_ART_FILE) {
		char uri[64];
		int64_t size = -1, created = 0;
		struct stat obj;
		int fd;

		r = artifacts_info(fs->model, n->artifact_id, uri, sizeof(uri),
				   &size, &created);
		if (r < 0)
			return r;
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		if ((strlen(uri) == MD5_HEX_LEN && hash_is_md5(uri)) ||
		    manifest_is_oid(uri)) {
			/* the bytes: their size once here or once logged */
			if (!cas_open_object(fs->cas, uri, &fd)) {
				if (fstat(fd, &obj) == 0)
					size = obj.st_size;
				close(fd);
			}
		} else {
			/* no bytes (Metrics): the record is the content */
			char *text = NULL;
			size_t len = 0;

			if (artifacts_record_json(fs->model, n->artifact_id,
						  &text, &len) == 0)
				size = (int64_t)len;
			free(text);
		}
		st->st_size = size < 0 ? 0 : size;
		st->st_blocks = (st->st_size + 511) / 512;
		ns_to_ts(created * 1000000, &st->st_mtim);
		st->st_ctim = st->st_atim = st->st_mtim;
		return 0;
	}
	if (n->kind == NODE_COMMIT) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		ns_to_ts(n->entry.mtime_ns, &st->st_mtim);
		st->st_ctim = st->st_atim = st->st_mtim;
		return 0;
	}
	if (n->kind == NODE_ENTRY) {
		st->st_mode = S_IFDIR | n->entry.mode;
		st->st_nlink = (nlink_t)dir_nlink(fs, n);
		st->st_uid = n->entry.uid;
		st->st_gid = n->entry.gid;
		ns_to_ts(n->entry.mtime_ns, &st->st_mtim);
		ns_to_ts(n->entry.ctime_ns, &st->st_ctim);
		st->st_atim = st->st_mtim;
		return 0;
	}
	switch (n->kind) {
	case NODE_PIPELINE:
	case NODE_STAGE:
	case NODE_CTX_PROPS:
	case NODE_PIPELINE_DOT:
	case NODE_PIPELINE_SVG:
	case NODE_PIPELINE_CYPHER:
		r = model_context_times(fs->model, n->ctx_id, &t);
		break;
	case NODE_EXEC:
	case NODE_SIDE:
	case NODE_EXEC_PROPS:
	case NODE_EXEC_JSON:
	case NODE_EXEC_PROP:
	case NODE_EXEC_STATE:
	case NODE_METRICS:
	case NODE_METRICS_FILE:
	case NODE_EXEC_LINEAGE:
		r = model_execution_times(fs->model, n->exec_id, &t);
		break;
	case NODE_CTX_PROP:
		r = model_context_times(fs->model, n->ctx_id, &t);
		break;
	default:
		r = 0;
		t.update_ms = t.create_ms = fs->mount_time_ns / 1000000;
	}
	if (r < 0)
		return r;
	mtime_ns = t.update_ms * 1000000;
	ctime_ns = mtime_ns;
	if (is_dir_node(n)) {
		st->st_mode = S_IFDIR | 0755;
		if (n->kind >= NODE_ARTIFACTS && n->kind <= NODE_ART_NAMES)
			st->st_mode = S_IFDIR | 0555;
		st->st_nlink = (nlink_t)dir_nlink(fs, n);
		if (n->kind == NODE_ROOT || n->kind == NODE_PIPELINES ||
		    n->kind == NODE_PIPELINE || n->kind == NODE_STAGE ||
		    n->kind == NODE_EXEC) {
			if (model_dirattr_get(fs->model, st->st_ino, &da) == 0) {
				st->st_mode = S_IFDIR | (da.mode & 07777);
				st->st_uid = da.uid;
				st->st_gid = da.gid;
				mtime_ns = da.mtime_ns;
			}
		}
	} else {
		char *text = NULL;
		size_t len = 0;

		st->st_nlink = 1;
		st->st_mode = S_IFREG | 0444;
		if (n->kind == NODE_CTX_PROP || n->kind == NODE_EXEC_PROP ||
		    n->kind == NODE_EXEC_STATE || n->kind == NODE_METRICS_FILE)
			st->st_mode = S_IFREG | 0644;
		/*
		 * Small generated files show their real size.  Documents
		 * rendered from the whole store (execution.json, lineage,
		 * the pipeline graphs, the journal) show 0, as /proc files
		 * do: rendering them for every ls -l would cost more than
		 * reading them; they are opened direct_io and read to EOF.
		 */
		if (!generated_document(n)) {
			r = node_text(fs, n, &text, &len);
			if (r < 0)
				return r;
			free(text);
			st->st_size = (off_t)len;
		}
	}
	ns_to_ts(mtime_ns, &st->st_mtim);
	ns_to_ts(ctime_ns > mtime_ns ? ctime_ns : mtime_ns, &st->st_ctim);
	st->st_atim = st->st_mtim;
	st->st_blocks = (st->st_size + 511) / 512;
	return 0;
}

static int op_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct node n;
	int r;

	if (!path) {
		/* fstat of an open file whose name was removed */
		struct handle *h = fi ? handle_of(fi) : NULL;
		uint64_t size;
		int64_t mtime;

		if (!h || h->kind != H_OFILE)
			return -ENOENT;
		ofile_stat(h->of, &size, &mtime);
		memset(st, 0, sizeof(*st));
		st->st_mode = S_IFREG | 0644;
		st->st_size = (off_t)size;
		st->st_uid = fs->owner_uid;
		st->st_gid = fs->owner_gid;
		ns_to_ts(mtime, &st->st_mtim);
		st->st_ctim = st->st_atim = st->st_mtim;
		return 0;
	}
	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
	return node_stat(fs, &n, st);
}

/* --- directories ------------------------------------------------------------ */

struct fill_ctx {
	struct fs *fs;
	void *buf;
	fuse_fill_dir_t filler;
	const struct node *dir;
	bool plus;
};

static int fill(struct fill_ctx *c, const char *name, const struct stat *st)
{
	return c->filler(c->buf, name, st, 0,
			 c->plus && st ? FUSE_FILL_DIR_PLUS : 0) ? 1 : 0;
}

static int fill_child(struct fill_ctx *c, const char *name)
{
	struct node n;
	struct stat st;

	n = *c->dir;
	if (c->plus) {
		/* resolving one step gives full attributes for readdirplus */
		if (fs_resolve_child(c->fs, &n, name) == 0 &&
		    node_stat(c->fs, &n, &st) == 0)
			return fill(c, name, &st);
	}
	return fill(c, name, NULL);
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
		return fill(c, e->name, NULL);
	return fill(c, e->name, &st);
}

static int metrics_cb(void *ud, const char *name, int64_t id)
{
	char file[300];

	(void)id;
	/* NAME.json was at most 255 bytes when it was created */
	snprintf(file, sizeof(file), "%.250s.json", name);
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

static int pending_add(struct fs *fs, int64_t exec_id, const char *name)
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

static void pending_remove(struct fs *fs, int64_t exec_id, const char *name)
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

/*
 * Call @filler for every name in directory @path, with attributes when
 * @plus.  0 or -errno.
 */
static int list_dir(const char *path, void *buf, fuse_fill_dir_t filler,
		    enum fuse_readdir_flags flags)
{
	struct fs *fs = get_fs();
	struct fill_ctx c = { .fs = fs, .buf = buf, .filler = filler };
	enum model_owner owner;
	int64_t id;
	struct node n;
	int r;

	if (!path)
		return -ENOENT;
	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
	if (!is_dir_node(&n))
		return -ENOTDIR;
	c.dir = &n;
	c.plus = (flags & FUSE_READDIR_PLUS) != 0;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	switch (n.kind) {
	case NODE_ROOT:
		fill_child(&c, "pipelines");
		fill_child(&c, "artifacts");
		fill_child(&c, ".cmf");
		return 0;
	case NODE_ARTIFACTS:
		fill_child(&c, "by-hash");
		fill_child(&c, "by-name");
		fill_child(&c, "by-type");
		return 0;
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
	case NODE_CMF_DIR:
		fill_child(&c, "status");
		fill_child(&c, "log");
		return 0;
	case NODE_PIPELINES:
		return model_pipeline_list(fs->model, name_cb, &c);
	case NODE_PIPELINE:
		fill_child(&c, ".properties");
		fill_child(&c, "lineage.cypher");
		fill_child(&c, "lineage.dot");
		fill_child(&c, "lineage.svg");
		return model_stage_list(fs->model, n.pipeline_id, name_cb, &c);
	case NODE_STAGE:
		fill_child(&c, ".properties");
		return model_execution_list(fs->model, n.stage_id, name_cb,
					    &c);
	case NODE_EXEC:
		fill_child(&c, "dataslices");
		fill_child(&c, "execution.json");
		fill_child(&c, "inputs");
		fill_child(&c, "lineage");
		fill_child(&c, "metrics");
		fill_child(&c, "outputs");
		fill_child(&c, "properties");
		fill_child(&c, "state");
		fill_child(&c, "tensorboard");
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
		return r;
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
		return -ENOTDIR;
	}
}

/*
 * A listing is taken when a directory is read from its start and served
 * from that snapshot with offsets.  Offsets are what make libfuse pass each
 * entry's attributes to the kernel in READDIRPLUS (without them it sends
 * names only and `ls -l` costs one LOOKUP per name), and the snapshot keeps
 * them stable while the directory changes.
 */
struct dir_item {
	char *name;
	struct stat st;
	bool has_st;
};

struct dir_snapshot {
	struct dir_item *items;
	size_t n, cap;
	int err;	/* sticky -ENOMEM while collecting */
};

static void dir_snapshot_clear(struct dir_snapshot *ds)
{
	size_t i;

	for (i = 0; i < ds->n; i++)
		free(ds->items[i].name);
	free(ds->items);
	ds->items = NULL;
	ds->n = ds->cap = 0;
	ds->err = 0;
}

static int collect_item(void *buf, const char *name, const struct stat *st,
			off_t off, enum fuse_fill_dir_flags flags)
{
	struct dir_snapshot *ds = buf;
	struct dir_item *it;

	(void)off;
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
	it->has_st = st && (flags & FUSE_FILL_DIR_PLUS);
	if (it->has_st)
		it->st = *st;
	ds->n++;
	return 0;
}

static int op_opendir(const char *path, struct fuse_file_info *fi)
{
	struct dir_snapshot *ds;

	(void)path;
	ds = calloc(1, sizeof(*ds));
	if (!ds)
		return -ENOMEM;
	fi->fh = (uint64_t)(uintptr_t)ds;
	return 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct dir_snapshot *ds = (struct dir_snapshot *)(uintptr_t)fi->fh;
	size_t i;
	int r;

	if (off == 0 || !ds->items) {
		dir_snapshot_clear(ds);
		r = list_dir(path, ds, collect_item, flags);
		if (r == 0)
			r = ds->err;
		if (r < 0) {
			dir_snapshot_clear(ds);
			return r;
		}
	}
	for (i = (size_t)off; i < ds->n; i++) {
		const struct dir_item *it = &ds->items[i];
		bool plus = it->has_st && (flags & FUSE_READDIR_PLUS);

		if (filler(buf, it->name, plus ? &it->st : NULL, (off_t)i + 1,
			   plus ? FUSE_FILL_DIR_PLUS : 0))
			break;
	}
	return 0;
}

static int op_releasedir(const char *path, struct fuse_file_info *fi)
{
	struct dir_snapshot *ds = (struct dir_snapshot *)(uintptr_t)fi->fh;

	(void)path;
	dir_snapshot_clear(ds);
	free(ds);
	return 0;
}

static int origin_from_caller(struct exec_origin *o, struct provenance **ret)
{
	struct provenance *p = NULL;
	int r = provenance_read((int)fuse_get_context()->pid, get_fs()->mountpoint, &p);

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

static int op_mkdir(const char *path, mode_t mode)
{
	struct fs *fs = get_fs();
	struct fuse_context *ctx = fuse_get_context();
	struct provenance *prov = NULL;
	struct exec_origin origin;
	const char *name;
	struct node p;
	struct entry e;
	int64_t id;
	int r;

	r = fs_resolve_parent(fs, path, "mkdir", &p, &name);
	if (r < 0)
		return r;
	switch (p.kind) {
	case NODE_PIPELINES:
		r = model_pipeline_create(fs->model, name, &id);
		break;
	case NODE_PIPELINE:
		if (!strcmp(name, ".properties"))
			return -EEXIST;
		r = model_stage_create(fs->model, p.pipeline_id, p.pipeline,
				       name, &id);
		break;
	case NODE_STAGE:
		if (!strcmp(name, ".properties"))
			return -EEXIST;
		/* provenance is best effort: a vanished caller logs none */
		if (origin_from_caller(&origin, &prov) < 0)
			memset(&origin, 0, sizeof(origin)), origin.git_dirty = -1;
		r = model_execution_create(fs->model, p.stage_id, name,
					   &origin, &id);
		if (r == 0 && prov &&
		    fs_capture_environment(fs, id, prov->pid) < 0)
			log_user("mkdir %s: the Python environment of the caller could not be logged",
				 path);
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
		return fs_refuse(-EPERM, "mkdir", path,
				 "directories can only be made under pipelines/, a pipeline, a stage, or an execution's inputs/ and outputs/");
	}
	if (r == -EEXIST)
		return r;
	if (r < 0)
		return fs_refuse(r, "mkdir", path, "the store refused it");
	return 0;
}

static int op_rmdir(const char *path)
{
	struct fs *fs = get_fs();
	struct node n;
	int r;

	r = fs_resolve(fs, path, &n);
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
			return fs_refuse(r, "rmdir", path,
					 "the execution has logged artifacts; logged history is append-only");
		break;
	case NODE_ENTRY:
		if (!n.entry.is_dir)
			return -ENOTDIR;
		r = model_entry_remove(fs->model, n.entry.id);
		if (r == -EPERM)
			return fs_refuse(r, "rmdir", path,
					 "the directory was committed as an artifact; logged history is append-only");
		break;
	default:
		return fs_refuse(-EPERM, "rmdir", path,
				 "this directory is part of the fixed layout");
	}
	return r;
}

/* --- files ------------------------------------------------------------------ */

/* A close because the caller dies of a signal must not log what it wrote. */
static bool caller_was_killed(void)
{
	return proc_killed_by_signal(fuse_get_context()->pid);
}

/*
 * Bring the bytes of a pulled artifact, verified (fetch.h: DVC's cache,
 * the working tree, the storage).  Fetches of different objects run in
 * parallel, one per object however many open it; a wrong hash is EIO.
 */
static int fetch_object(struct fs *fs, const char *path, const char *md5)
{
	char *err = NULL;
	int r;

	if (!fs->fetcher)
		return fs_refuse(-EIO, "open", path,
				 "its bytes are not local and cannot be fetched");
	r = fetcher_get(fs->fetcher, md5, &err);
	if (r < 0) {
		char why[700];

		snprintf(why, sizeof(why), "cannot fetch its bytes: %s",
			 err ? err : strerrordesc_np(-r));
		free(err);
		return fs_refuse(-EIO, "open", path, why);
	}
	return 0;
}

/*
 * Open object @md5 of @path for reading, counted as a read in the cache's
 * order of eviction (cas_read_object()).  Bytes the cache lacks (pulled,
 * or evicted: cache.h) are fetched; a trim may evict them again between a
 * fetch and the open, so an -ENOENT fetches once more rather than fail.
 * Sets *@fetched when a fetch happened.  0, or -errno with a line in
 * .cmf/log.
 */
static int read_object(struct fs *fs, const char *path, const char *md5,
		       int *ret_fd, bool *fetched)
{
	int tries = 0, r;

	while ((r = cas_read_object(fs->cas, md5, ret_fd)) == -ENOENT &&
	       tries++ < 2) {
		r = fetch_object(fs, path, md5);
		if (r < 0)
			return r;
		*fetched = true;
	}
	if (r < 0)
		return fs_refuse(-EIO, "open", path,
				 "the artifact's bytes cannot be read from the cache");
	return 0;
}

/*
 * ofile_open() of @e, which reads its logged bytes unless @trunc: when the
 * cache lacks them they are fetched, as by read_object().
 */
static int open_ofile(struct fs *fs, const char *path, const struct entry *e,
		      bool trunc, struct ofile **ret)
{
	int tries = 0, r;

	while ((r = ofile_open(fs, e, trunc, ret)) == -ENOENT && e->md5[0] &&
	       !trunc && tries++ < 2) {
		r = fetch_object(fs, path, e->md5);
		if (r < 0)
			return r;
	}
	return r;
}

/*
 * @path of the mount as the kernel names it in /proc (the mountpoint
 * prepended) into @buf; false if there is no mountpoint or it is too long.
 */
static bool mounted_path(struct fs *fs, const char *path, char buf[PATH_MAX])
{
	return fs->mountpoint &&
	       snprintf(buf, PATH_MAX, "%s%s", fs->mountpoint, path) < PATH_MAX;
}

/*
 * Does the calling process keep @path mapped shared and writable (numpy's
 * memmap, an mmap database)?  Then its close is not the end of the write:
 * the mapping still holds the description, and its last release logs.
 * Only asked for O_RDWR descriptors: nothing else can be mapped writable.
 */
static bool caller_maps_shared(struct fs *fs, const char *path)
{
	char want[PATH_MAX];

	return mounted_path(fs, path, want) &&
	       proc_maps_shared_writable(fuse_get_context()->pid, want);
}

/*
 * Does the calling process have @path open on more than the descriptor it
 * is closing?  Read from /proc/PID/fd; only asked for closes without writes.
 */
static bool caller_holds_other_fd(struct fs *fs, const char *path)
{
	char dir[64], link[PATH_MAX], want[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (!mounted_path(fs, path, want))
		return false;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)fuse_get_context()->pid);
	d = opendir(dir);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		char entry[PATH_MAX + 64];
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(entry, sizeof(entry), "%s/%s", dir, de->d_name);
		len = readlink(entry, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (!strcmp(link, want))
			n++;
	}
	closedir(d);
	/* the descriptor being closed is already gone from the table */
	return n > 0;
}

static int open_entry(struct fs *fs, const char *path, struct node *n,
		      struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;
	struct handle *h = NULL;
	bool fetched = false;
	struct ofile *of;
	int r;

	if (n->entry.is_dir)
		return -EISDIR;
	/*
	 * Bytes not in the cache (pulled, or evicted: cache.h) are fetched
	 * when they are read, not for a write that truncates them away.
	 */
	of = ofile_find(fs, n->entry.id);
	if (acc == O_RDONLY && !of) {
		h = handle_new(H_OBJECT, path);
		if (!h)
			return -ENOMEM;
		r = read_object(fs, path, n->entry.md5, &h->fd, &fetched);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		/* logged bytes never change; but a fresh fetch may have a
		 * size the kernel does not know yet */
		fi->keep_cache = !fetched || n->entry.size_known;
		fi->direct_io = fetched && !n->entry.size_known;
		goto done;
	}
	if (of && (fi->flags & O_TRUNC) && acc != O_RDONLY) {
		r = ofile_truncate(fs, of, 0);
		if (r < 0) {
			ofile_release(fs, of);
			return r;
		}
	}
	if (!of) {
		r = open_ofile(fs, path, &n->entry, (fi->flags & O_TRUNC) != 0,
			       &of);
		if (r == -EIO)
			return r;	/* the fetch said why */
		if (r < 0)
			return fs_refuse(r, "open", path,
					 "cannot prepare the file for writing");
	}
	h = handle_new(H_OFILE, path);
	if (!h) {
		ofile_release(fs, of);
		return -ENOMEM;
	}
	h->of = of;
	h->writer = acc != O_RDONLY;
	h->opener = fuse_get_context()->pid;
	h->rdwr = acc == O_RDWR;
	/*
	 * A write-only descriptor cannot be mmapped, so it may bypass the
	 * page cache: the writer's pages then reach the daemon directly
	 * instead of being copied into FUSE's cache first (one copy of
	 * every byte fewer).  Readers use the page cache.
	 */
	fi->direct_io = acc == O_WRONLY;
done:
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

static int open_prop(struct fs *fs, const char *path, struct node *n,
		     struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;
	struct handle *h = handle_new(H_PROP, path);
	int r;

	if (!h)
		return -ENOMEM;
	prop_owner(n, &h->owner, &h->owner_id);
	snprintf(h->name, sizeof(h->name), "%s", n->name);
	h->writer = acc != O_RDONLY;
	if (!(fi->flags & O_TRUNC)) {
		r = node_text(fs, n, &h->buf, &h->len);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		h->cap = h->len;
	} else {
		h->written = true;
	}
	fi->direct_io = 1;
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

/* state and metrics/NAME.json: read as text, written whole, applied at close */
static int open_control(struct fs *fs, const char *path, struct node *n,
			struct fuse_file_info *fi)
{
	struct handle *h = handle_new(H_CONTROL, path);
	int r;

	if (!h)
		return -ENOMEM;
	h->node = n->kind;
	h->exec_id = n->exec_id;
	snprintf(h->name, sizeof(h->name), "%s", n->name);
	h->writer = (fi->flags & O_ACCMODE) != O_RDONLY;
	if (h->writer && n->kind == NODE_METRICS_FILE) {
		char base[256];

		snprintf(base, sizeof(base), "%.*s",
			 (int)(strlen(n->name) - 5), n->name);
		h->emptied = (fi->flags & O_TRUNC) ||
			     fs_metrics_pending(fs, n->exec_id, base);
	}
	if (!(fi->flags & O_TRUNC)) {
		r = node_text(fs, n, &h->buf, &h->len);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		h->cap = h->len;
	}
	fi->direct_io = 1;
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

/* An artifact in artifacts/: its bytes (fetched if needed) or its record. */
static int open_view(struct fs *fs, const char *path, struct node *n,
		     struct fuse_file_info *fi)
{
	struct handle *h;
	int64_t size, created;
	char uri[64];
	int r;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return fs_refuse(-EACCES, "open", path,
				 "artifacts/ is a read-only view; write in an execution");
	r = artifacts_info(fs->model, n->artifact_id, uri, sizeof(uri), &size,
			   &created);
	if (r < 0)
		return r;
	if ((strlen(uri) == MD5_HEX_LEN && hash_is_md5(uri)) ||
	    manifest_is_oid(uri)) {
		bool fetched = false;

		h = handle_new(H_OBJECT, path);
		if (!h)
			return -ENOMEM;
		r = read_object(fs, path, uri, &h->fd, &fetched);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		/* a fresh fetch may have a size the kernel does not know */
		fi->direct_io = fetched;
		fi->keep_cache = !fetched;
	} else {
		h = handle_new(H_TEXT, path);
		if (!h)
			return -ENOMEM;
		r = artifacts_record_json(fs->model, n->artifact_id, &h->buf,
					  &h->len);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		fi->direct_io = 1;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

/* dataslices/NAME/.commit: log the slice as one Dataslice artifact. */
static int commit_slice(struct fs *fs, const char *path, const struct node *n)
{
	struct cas_tmp tmp = { .fd = -1 };
	char md5[MD5_HEX_LEN + 1];
	char *csv = NULL;
	size_t len = 0;
	int r;

	r = model_dataslice_manifest(fs->model, n->entry.id, &csv, &len);
	if (r == -EBUSY)
		return fs_refuse(r, "commit", path,
				 "files of this slice are still being written; close them first");
	if (r < 0)
		return fs_refuse(r, "commit", path, "cannot list the slice");
	r = hash_buf(csv, len, md5);
	if (r == 0)
		r = cas_tmp_create(fs->cas, &tmp);
	if (r == 0 && write(tmp.fd, csv, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	cas_hold(fs->cas);	/* no gc before the store refers to it */
	if (r == 0)
		r = cas_commit(fs->cas, &tmp, md5);
	if (r == 0)
		r = model_dataslice_log(fs->model, n->entry.id, md5, len);
	cas_unhold(fs->cas);
	cas_tmp_discard(fs->cas, &tmp);
	free(csv);
	if (r < 0)
		return fs_refuse(r, "commit", path, "cannot log the dataslice");
	syncer_kick(fs->syncer);
	return 0;
}

/*
 * DIR/.commit opened for writing: log DIR as one artifact, its bytes the
 * DVC 3 manifest of the files below it (they are logged one by one too).
 */
static int commit_dir(struct fs *fs, const char *path, const struct node *n)
{
	struct manifest_entry *entries = NULL;
	struct cas_tmp tmp = { .fd = -1 };
	char oid[DIR_OID_LEN + 1];
	char *bytes = NULL;
	size_t nent = 0, len = 0;
	int r;

	if (n->side == SIDE_DATASLICE)
		return commit_slice(fs, path, n);
	r = model_entry_tree(fs->model, n->entry.id, &entries, &nent);
	if (r == -EBUSY)
		return fs_refuse(r, "commit", path,
				 "files in this directory are still being written; close them first");
	if (r < 0)
		return fs_refuse(r, "commit", path, "cannot list the directory");
	r = manifest_build(entries, nent, &bytes, &len, oid);
	if (r == 0)
		r = cas_tmp_create(fs->cas, &tmp);
	if (r == 0 && write(tmp.fd, bytes, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	cas_hold(fs->cas);	/* no gc before the store refers to it */
	if (r == 0)
		r = cas_commit(fs->cas, &tmp, oid);
	if (r == 0)
		r = model_entry_log_dir(fs->model, n->entry.id, oid, len);
	cas_unhold(fs->cas);
	cas_tmp_discard(fs->cas, &tmp);
	manifest_free(entries, nent);
	free(bytes);
	if (r < 0)
		return fs_refuse(r, "commit", path,
				 "cannot log the directory as one artifact");
	syncer_kick(fs->syncer);
	return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct handle *h;
	struct node n;
	int r;

	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
	if (n.kind == NODE_ENTRY)
		return open_entry(fs, path, &n, fi);
	if (n.kind == NODE_CTX_PROP || n.kind == NODE_EXEC_PROP)
		return open_prop(fs, path, &n, fi);
	if (n.kind == NODE_EXEC_STATE || n.kind == NODE_METRICS_FILE)
		return open_control(fs, path, &n, fi);
	if (n.kind == NODE_ART_FILE)
		return open_view(fs, path, &n, fi);
	if (n.kind == NODE_COMMIT) {
		if ((fi->flags & O_ACCMODE) != O_RDONLY) {
			r = commit_dir(fs, path, &n);
			if (r < 0)
				return r;
		}
		h = handle_new(H_TEXT, path);
		if (!h)
			return -ENOMEM;
		fi->direct_io = 1;
		fi->fh = (uint64_t)(uintptr_t)h;
		return 0;
	}
	if (is_dir_node(&n))
		return -EISDIR;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return fs_refuse(-EACCES, "open", path, "this file is read-only");
	h = handle_new(H_TEXT, path);
	if (!h)
		return -ENOMEM;
	r = node_text(fs, &n, &h->buf, &h->len);
	if (r < 0) {
		handle_free(h);
		return r;
	}
	fi->direct_io = 1;	/* the size changes between snapshots */
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct fuse_context *ctx = fuse_get_context();
	struct value empty = { .kind = VALUE_STRING, .s = "" };
	enum model_owner owner;
	const char *name;
	struct node p, n;
	int64_t id;
	int r;

	r = fs_resolve_parent(fs, path, "create", &p, &name);
	if (r < 0)
		return r;
	if (p.kind == NODE_METRICS && strlen(name) > 4 &&
	    !strcmp(name + strlen(name) - 4, ".csv")) {
		struct entry e;

		r = model_entry_create(fs->model, p.exec_id, SIDE_STEP_METRICS,
				       0, name, mode, ctx->uid, ctx->gid, &e);
		if (r < 0 && r != -EEXIST)
			return fs_refuse(r, "create", path,
					 "cannot add the step metrics file");
	} else if (p.kind == NODE_METRICS) {
		size_t len = strlen(name);
		char base[256];

		if (len <= 5 || strcmp(name + len - 5, ".json"))
			return fs_refuse(-EINVAL, "create", path,
					 "metrics are metrics/NAME.json (one JSON object: execution metrics) or metrics/NAME.csv (a header, then one row per step)");
		snprintf(base, sizeof(base), "%.*s", (int)(len - 5), name);
		if (!fs_metrics_pending(fs, p.exec_id, base)) {
			r = pending_add(fs, p.exec_id, base);
			if (r < 0)
				return r;
		}
	} else if (p.kind == NODE_CTX_PROPS || p.kind == NODE_EXEC_PROPS) {
		prop_owner(&p, &owner, &id);
		/* exists (empty) from now on, so that stat works until close */
		r = model_prop_set(fs->model, owner, id, name, &empty);
		if (r < 0)
			return fs_refuse(r, "create", path,
					 "cannot add the property");
	} else if (p.kind == NODE_SIDE && p.side == SIDE_DATASLICE) {
		return fs_refuse(-EPERM, "create", path,
				 "a dataslice is a directory: mkdir dataslices/NAME, then link files into it");
	} else if (p.kind == NODE_SIDE ||
		   (p.kind == NODE_ENTRY && p.entry.is_dir)) {
		struct entry e;

		r = model_entry_create(fs->model, p.exec_id, p.side,
				       p.kind == NODE_SIDE ? 0 : p.entry.id,
				       name, mode, ctx->uid, ctx->gid, &e);
		if (r < 0 && r != -EEXIST)
			return fs_refuse(r, "create", path,
					 "cannot add the file");
	} else {
		return fs_refuse(-EPERM, "create", path,
				 "files can only be made in an execution's inputs/, outputs/ or properties/, or a .properties/ folder");
	}
	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
	fi->flags |= O_TRUNC;
	if (n.kind == NODE_ENTRY)
		return open_entry(fs, path, &n, fi);
	if (n.kind == NODE_METRICS_FILE)
		return open_control(fs, path, &n, fi);
	return open_prop(fs, path, &n, fi);
}

static int op_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	ssize_t n;

	(void)path;
	switch (h->kind) {
	case H_OBJECT:
		n = pread(h->fd, buf, size, off);
		return n < 0 ? -errno : (int)n;
	case H_OFILE:
		return ofile_read(h->of, buf, size, off);
	case H_TEXT:
	case H_PROP:
	case H_CONTROL:
		if ((size_t)off >= h->len)
			return 0;
		if (size > h->len - (size_t)off)
			size = h->len - (size_t)off;
		memcpy(buf, h->buf + off, size);
		return (int)size;
	}
	return -EIO;
}

static int prop_buffer(struct handle *h, size_t len)
{
	char *p;
	size_t cap;

	if (len > PROP_MAX_BYTES)
		return -EFBIG;
	if (len <= h->cap)
		return 0;
	cap = h->cap ? h->cap * 2 : 256;
	while (cap < len)
		cap *= 2;
	p = realloc(h->buf, cap + 1);
	if (!p)
		return -ENOMEM;
	h->buf = p;
	h->cap = cap;
	return 0;
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct handle *h = handle_of(fi);
	int r;

	(void)path;
	if (h->kind == H_OFILE)
		return ofile_write(fs, h->of, buf, size, off);
	if (h->kind != H_PROP && h->kind != H_CONTROL)
		return -EBADF;
	r = prop_buffer(h, (size_t)off + size);
	if (r < 0)
		return fs_refuse(r, "write", h->path,
				 "a property value is limited to 1 MiB");
	if ((size_t)off > h->len)
		memset(h->buf + h->len, ' ', (size_t)off - h->len);
	memcpy(h->buf + off, buf, size);
	if ((size_t)off + size > h->len)
		h->len = (size_t)off + size;
	h->written = true;
	return (int)size;
}

/* Store what was written to a property file. */
static int prop_store(struct fs *fs, struct handle *h)
{
	struct value v;
	size_t len = h->len;
	char *text;
	int r;

	if (!h->written)
		return 0;
	r = prop_buffer(h, len);	/* room for the NUL */
	if (r < 0)
		return r;
	if (!h->buf) {
		h->buf = strdup("");
		if (!h->buf)
			return -ENOMEM;
	}
	if (memchr(h->buf, '\0', len))
		return fs_refuse(-EINVAL, "write", h->path,
				 "a property value cannot contain NUL bytes");
	text = value_trim(h->buf, &len);
	if (!utf8_valid(text, len))
		return fs_refuse(-EINVAL, "write", h->path,
				 "a property value must be UTF-8 text");
	value_parse(text, &v);
	r = model_prop_set(fs->model, h->owner, h->owner_id, h->name, &v);
	if (r < 0)
		return fs_refuse(r, "write", h->path,
				 "cannot store the property");
	/* restore the raw buffer length bookkeeping for later writes */
	h->written = false;
	return 0;
}

/* Apply what was written to state or metrics/NAME.json. */
static int control_apply(struct fs *fs, struct handle *h)
{
	char *err = NULL, *text;
	size_t len = h->len;
	int r;

	/*
	 * An empty metrics/NAME.json is not a JSON object: refused like any
	 * other non-JSON, unless the closing process holds another
	 * descriptor of the file (a shell's dup2 before it writes).
	 */
	if (h->node == NODE_METRICS_FILE && h->emptied &&
	    (h->written ? !h->len : !caller_holds_other_fd(fs, h->path))) {
		h->written = false;
		h->emptied = false;
		return fs_refuse(-EINVAL, "write", h->path,
				 "metrics/NAME.json takes one JSON object; the file is empty");
	}
	if (!h->written)
		return 0;
	r = prop_buffer(h, len + 1);
	if (r < 0)
		return r;
	if (!h->buf)
		return 0;
	h->buf[len] = '\0';
	h->written = false;
	if (h->node == NODE_METRICS_FILE) {
		char base[256];
		size_t n = strlen(h->name);

		snprintf(base, sizeof(base), "%.*s", (int)(n - 5), h->name);
		if (!len)
			return 0;
		r = model_metrics_log_json(fs->model, h->exec_id, base, h->buf,
					   len, &err);
		if (r < 0) {
			r = fs_refuse(r, "write", h->path,
				      err ? err : "cannot log the metrics");
			free(err);
			return r;
		}
		h->emptied = false;
		pending_remove(fs, h->exec_id, base);
		syncer_kick(fs->syncer);
		return 0;
	}
	text = value_trim(h->buf, &len);
	{
		struct provenance *prov = NULL;
		const char *end_commit = NULL;
		int state;

		if (exec_state_parse(text, &state) < 0)
			return fs_refuse(-EINVAL, "write", h->path,
					 "state takes RUNNING, COMPLETE, FAILED or CANCELED");
		/* completing records the caller's commit, as finalize() does */
		if (state != EXEC_RUNNING &&
		    provenance_read((int)fuse_get_context()->pid, fs->mountpoint, &prov) == 0)
			end_commit = prov->git_commit;
		r = model_execution_set_state(fs->model, h->exec_id, state,
					      end_commit);
		provenance_free(prov);
		if (r < 0)
			return fs_refuse(r, "write", h->path,
					 "cannot record the state");
		syncer_kick(fs->syncer);
	}
	return 0;
}

static int op_flush(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct handle *h = handle_of(fi);
	char *err = NULL;
	bool shared;
	int r;

	(void)path;
	if (h->kind == H_PROP)
		return prop_store(fs, h);
	if (h->kind == H_CONTROL)
		return control_apply(fs, h);
	if (h->kind != H_OFILE || !h->writer)
		return 0;
	/*
	 * A close by another process than the one that opened the file (a
	 * child that inherited the descriptor: `( a; b ) > f`, `exec > log`,
	 * forked workers) is not the end of the write: the last close of
	 * the shared description (release) logs the final bytes.
	 */
	shared = !proc_same_process(fuse_get_context()->pid, h->opener) ||
		 (h->rdwr && caller_maps_shared(fs, h->path));
	r = ofile_flush(fs, h->of, caller_was_killed(), shared,
			!ofile_written(h->of) &&
				caller_holds_other_fd(fs, h->path),
			&err);
	if (r == 0)
		syncer_kick(fs->syncer);
	if (r == -EINTR)
		return 0;	/* the caller is gone; release discards */
	if (r < 0) {
		r = fs_refuse(r, "close", h->path,
			      err ? err : "the file was not logged: its content is incomplete or the store failed");
		free(err);
		return r;
	}
	return 0;
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct handle *h = handle_of(fi);

	(void)path;
	if (h->kind == H_OFILE)
		ofile_release(fs, h->of);
	if (h->kind == H_CONTROL && h->node == NODE_METRICS_FILE) {
		char base[256];

		snprintf(base, sizeof(base), "%.*s",
			 (int)(strlen(h->name) - 5), h->name);
		pending_remove(fs, h->exec_id, base);
	}
	handle_free(h);
	return 0;
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);

	(void)path;
	(void)datasync;
	(void)h;
	return 0;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct handle *h = fi ? handle_of(fi) : NULL;
	struct ofile *of;
	struct node n;
	int r;

	if (h && h->kind == H_OFILE)
		return ofile_truncate(fs, h->of, size);
	if (h && (h->kind == H_PROP || h->kind == H_CONTROL)) {
		if ((size_t)size > h->len) {
			r = prop_buffer(h, (size_t)size);
			if (r < 0)
				return r;
			memset(h->buf + h->len, ' ', (size_t)size - h->len);
		}
		h->len = (size_t)size;
		h->written = true;
		return 0;
	}
	if (!path)
		return -ENOENT;
	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
	if (n.kind == NODE_CTX_PROP || n.kind == NODE_EXEC_PROP) {
		struct value empty = { .kind = VALUE_STRING, .s = "" };
		enum model_owner owner;
		int64_t id;

		if (size != 0)
			return fs_refuse(-EINVAL, "truncate", path,
					 "a property can only be truncated to empty");
		prop_owner(&n, &owner, &id);
		return model_prop_set(fs->model, owner, id, n.name, &empty);
	}
	if (n.kind != NODE_ENTRY)
		return is_dir_node(&n) ? -EISDIR : -EACCES;
	if (n.entry.is_dir)
		return -EISDIR;
	/* a truncate by path is a write: a new version when it changes;
	 * the logged bytes are read (fetched if need be) unless none stay */
	r = open_ofile(fs, path, &n.entry, size == 0, &of);
	if (r < 0)
		return r;
	r = ofile_truncate(fs, of, size);
	if (r == 0)
		r = ofile_flush(fs, of, false, false, false, NULL);
	ofile_release(fs, of);
	return r;
}

static int op_unlink(const char *path)
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

static int op_rename(const char *from, const char *to, unsigned int flags)
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

static int op_link(const char *from, const char *to)
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

static int op_symlink(const char *target, const char *path)
{
	(void)target;
	return fs_refuse(-EPERM, "symlink", path,
			 "symbolic links cannot be logged as artifacts");
}

static int op_mknod(const char *path, mode_t mode, dev_t dev)
{
	(void)mode;
	(void)dev;
	return fs_refuse(-EPERM, "mknod", path,
			 "only regular files and directories are supported");
}

/* Attributes of the fixed directories are remembered per inode. */
static int set_dirattr(struct fs *fs, const struct node *n, int mode,
		       uid_t uid, gid_t gid, const struct timespec *mtime)
{
	struct dir_attr da;
	struct stat st;
	int r = node_stat(fs, n, &st);

	if (r < 0)
		return r;
	da.mode = st.st_mode & 07777;
	da.uid = st.st_uid;
	da.gid = st.st_gid;
	da.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
		      st.st_mtim.tv_nsec;
	if (mode >= 0)
		da.mode = (mode_t)mode & 07777;
	if (uid != (uid_t)-1)
		da.uid = uid;
	if (gid != (gid_t)-1)
		da.gid = gid;
	if (mtime)
		da.mtime_ns = (int64_t)mtime->tv_sec * 1000000000 +
			      mtime->tv_nsec;
	return model_dirattr_set(fs->model, fs_ino(n), &da);
}

static bool has_dirattr(const struct node *n)
{
	return n->kind == NODE_ROOT || n->kind == NODE_PIPELINES ||
	       n->kind == NODE_PIPELINE || n->kind == NODE_STAGE ||
	       n->kind == NODE_EXEC;
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct node n;
	int r;

	(void)fi;
	if (!path)
		return 0;	/* its name is gone: nothing to record */
	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
	if (n.kind == NODE_ENTRY)
		return model_entry_setattr(fs->model, n.entry.id,
					   ENTRY_SET_MODE, mode, 0, 0, 0);
	if (has_dirattr(&n))
		return set_dirattr(fs, &n, (int)mode, (uid_t)-1, (gid_t)-1,
				   NULL);
	return fs_refuse(-EPERM, "chmod", path,
			 "the mode of generated files is fixed");
}

static int op_chown(const char *path, uid_t uid, gid_t gid,
		    struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct node n;
	int r;

	(void)fi;
	if (!path)
		return 0;	/* its name is gone: nothing to record */
	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
	if (n.kind == NODE_ENTRY) {
		if (uid == (uid_t)-1)
			uid = n.entry.uid;
		if (gid == (gid_t)-1)
			gid = n.entry.gid;
		return model_entry_setattr(fs->model, n.entry.id,
					   ENTRY_SET_OWNER, 0, uid, gid, 0);
	}
	if (has_dirattr(&n))
		return set_dirattr(fs, &n, -1, uid, gid, NULL);
	return fs_refuse(-EPERM, "chown", path,
			 "the owner of generated files is fixed");
}

static int op_utimens(const char *path, const struct timespec tv[2],
		      struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct timespec now, mt;
	struct node n;
	int r;

	(void)fi;
	if (!path)
		return 0;	/* its name is gone: nothing to record */
	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
	clock_gettime(CLOCK_REALTIME, &now);
	if (!tv || tv[1].tv_nsec == UTIME_NOW)
		mt = now;
	else if (tv[1].tv_nsec == UTIME_OMIT)
		return 0;
	else
		mt = tv[1];
	if (n.kind == NODE_ENTRY) {
		int64_t ns = (int64_t)mt.tv_sec * 1000000000 + mt.tv_nsec;
		struct ofile *of = ofile_find(fs, n.entry.id);

		if (of) {
			ofile_set_mtime(of, ns);
			ofile_release(fs, of);
		}
		return model_entry_setattr(fs->model, n.entry.id,
					   ENTRY_SET_MTIME, 0, 0, 0, ns);
	}
	if (has_dirattr(&n))
		return set_dirattr(fs, &n, -1, (uid_t)-1, (gid_t)-1, &mt);
	/* generated files: times follow the metadata; accept silently */
	return 0;
}

static int op_statfs(const char *path, struct statvfs *st)
{
	struct fs *fs = get_fs();

	(void)path;
	if (statvfs(fs->workspace, st) < 0)
		return -errno;
	st->f_namemax = NAME_MAX_BYTES;
	return 0;
}

/* --- extended attributes ----------------------------------------------------- */

static int op_getxattr(const char *path, const char *name, char *value,
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
	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
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

static int op_listxattr(const char *path, char *list, size_t size)
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

	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
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

static int op_setxattr(const char *path, const char *name, const char *value,
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
	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
	if (strncmp(name, prop, strlen(prop)) || !name[strlen(prop)])
		return -ENOTSUP;
	/* the same keys as properties/KEY files take */
	if (name_check(name + strlen(prop), &why) < 0)
		return fs_refuse(-EINVAL, "setxattr", path, why);
	if (n.kind == NODE_ENTRY && n.side == SIDE_DATASLICE) {
		/* a member's (or the slice's) property, kept with the slice */
		if (!utf8_valid(value, size) || memchr(value, '\0', size))
			return fs_refuse(-EINVAL, "setxattr", path,
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
		return fs_refuse(-EPERM, "setxattr", path,
				 "custom properties can be set on logged artifacts only");
	if (!utf8_valid(value, size) || memchr(value, '\0', size))
		return fs_refuse(-EINVAL, "setxattr", path,
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

static int op_removexattr(const char *path, const char *name)
{
	struct fs *fs = get_fs();
	const char *prop = XATTR_PREFIX "prop.";
	struct node n;
	int r;

	r = fs_resolve(fs, path, &n);
	if (r < 0)
		return r;
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
	if (syncer_start(fs->workspace, fs->cfg, &fs->syncer) < 0)
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
