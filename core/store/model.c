/* SPDX-License-Identifier: MIT */
/*
 * Pipelines, stages, executions, custom properties and directory attributes;
 * see model.h.  Entries and logging are in model_entry.c, documents in
 * model_doc.c.
 */
#include "model.h"

#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uuid/uuid.h>

#include "array.h"
#include "hash.h"
#include "redo.h"
#include "model_i.h"
#include "urltext.h"

static const struct mlmd_type_prop pipeline_props[] = {
	{ "Pipeline", MLMD_PT_STRING },
};
static const struct mlmd_type_prop stage_props[] = {
	{ "Pipeline_Stage", MLMD_PT_STRING },
};
/* doc/cmf-upstream.md §1.4: the execution type's declared properties */
static const struct mlmd_type_prop execution_props[] = {
	{ "Execution_uuid", MLMD_PT_STRING },
	{ "Context_Type", MLMD_PT_STRING },
	{ "Context_ID", MLMD_PT_INT },
	{ "Execution", MLMD_PT_STRING },
	{ "Pipeline_id", MLMD_PT_INT },
	{ "Pipeline_Type", MLMD_PT_STRING },
	{ "Execution_type_name", MLMD_PT_STRING },
	{ "Git_Repo", MLMD_PT_STRING },
	{ "Git_Start_Commit", MLMD_PT_STRING },
	{ "Git_End_Commit", MLMD_PT_STRING },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

STORE_SQL(sql_pipeline_list,
	"SELECT c.`name`, c.`id` FROM `Context` c JOIN `Type` t"
	" ON t.`id` = c.`type_id` WHERE t.`name` = 'Parent_Context'"
	" AND t.`type_kind` = 2 ORDER BY c.`name`");
STORE_SQL(sql_stage_list,
	"SELECT c.`name`, c.`id` FROM `ParentContext` p JOIN `Context` c"
	" ON c.`id` = p.`context_id` WHERE p.`parent_context_id` = ?1"
	" ORDER BY c.`name`");
STORE_SQL(sql_context_name,
	"SELECT `name` FROM `Context` WHERE `id` = ?1");
STORE_SQL(sql_context_parent,
	"SELECT `parent_context_id` FROM `ParentContext` WHERE `context_id` = ?1"
	" ORDER BY `parent_context_id` LIMIT 1");
STORE_SQL(sql_context_children,
	"SELECT count(*) FROM `ParentContext` WHERE `parent_context_id` = ?1");
STORE_SQL(sql_context_usage,
	"SELECT (SELECT count(*) FROM `Association` WHERE `context_id` = ?1)"
	" + (SELECT count(*) FROM `Attribution` WHERE `context_id` = ?1)");
STORE_SQL(sql_context_delete,
	"DELETE FROM `Context` WHERE `id` = ?1;");
STORE_SQL(sql_context_props_delete,
	"DELETE FROM `ContextProperty` WHERE `context_id` = ?1");
STORE_SQL(sql_parent_delete,
	"DELETE FROM `ParentContext` WHERE `context_id` = ?1");
STORE_SQL(sql_context_times,
	"SELECT `create_time_since_epoch`, `last_update_time_since_epoch`"
	" FROM `Context` WHERE `id` = ?1");
STORE_SQL(sql_execution_times,
	"SELECT `create_time_since_epoch`, `last_update_time_since_epoch`"
	" FROM `Execution` WHERE `id` = ?1");
STORE_SQL(sql_execution_find,
	"SELECT e.`id` FROM `Association` a JOIN `Execution` e"
	" ON e.`id` = a.`execution_id` WHERE a.`context_id` = ?1"
	" AND e.`name` = ?2");
STORE_SQL(sql_execution_find_unnamed,
	"SELECT e.`id` FROM `Association` a JOIN `Execution` e"
	" ON e.`id` = a.`execution_id` WHERE a.`context_id` = ?1"
	" AND e.`id` = ?2 AND ifnull(e.`name`, '') = ''");
/* unnamed executions (made by cmflib, pulled) show as execution-<id> */
STORE_SQL(sql_execution_list,
	"SELECT CASE WHEN ifnull(e.`name`, '') = '' THEN 'execution-' || e.`id`"
	" ELSE e.`name` END AS n, e.`id` FROM `Association` a"
	" JOIN `Execution` e ON e.`id` = a.`execution_id`"
	" WHERE a.`context_id` = ?1 ORDER BY n");
STORE_SQL(sql_execution_state,
	"UPDATE `Execution` SET `last_known_state` = ?2 WHERE `id` = ?1");
STORE_SQL(sql_execution_usage,
	"SELECT (SELECT count(*) FROM `Event` WHERE `execution_id` = ?1)"
	" + (SELECT count(*) FROM cmffs_entry WHERE execution_id = ?1)");
STORE_SQL(sql_execution_delete,
	"DELETE FROM `Execution` WHERE `id` = ?1");
STORE_SQL(sql_execution_props_delete,
	"DELETE FROM `ExecutionProperty` WHERE `execution_id` = ?1");
STORE_SQL(sql_association_delete,
	"DELETE FROM `Association` WHERE `execution_id` = ?1");
static const char *const sql_prop_list[] = {
	"SELECT `name`, rowid FROM `ArtifactProperty` WHERE `artifact_id` = ?1"
	" AND `is_custom_property` = 1 ORDER BY `name`",
	"SELECT `name`, rowid FROM `ExecutionProperty` WHERE"
	" `execution_id` = ?1 AND `is_custom_property` = 1 ORDER BY `name`",
	"SELECT `name`, rowid FROM `ContextProperty` WHERE `context_id` = ?1"
	" AND `is_custom_property` = 1 ORDER BY `name`",
};
STORE_SQL_TABLE(sql_prop_list);
/* a pipeline has no parent; a stage's parent is its pipeline */
STORE_SQL(sql_place_context,
	"SELECT c.`name`, p.`parent_context_id`, ifnull(pc.`name`, '')"
	" FROM `Context` c LEFT JOIN `ParentContext` p ON p.`context_id` = c.`id`"
	" LEFT JOIN `Context` pc ON pc.`id` = p.`parent_context_id`"
	" WHERE c.`id` = ?1 ORDER BY p.`parent_context_id` LIMIT 1");
STORE_SQL(sql_place_execution,
	"SELECT CASE WHEN ifnull(e.`name`, '') = '' THEN 'execution-' || e.`id`"
	" ELSE e.`name` END, a.`context_id` FROM `Execution` e"
	" JOIN `Association` a ON a.`execution_id` = e.`id` WHERE e.`id` = ?1"
	" ORDER BY a.`context_id` LIMIT 1");
STORE_SQL(sql_dirattr_get,
	"SELECT mode, uid, gid, mtime_ns FROM cmffs_dir_attr"
	" WHERE owner = ?1 AND id = ?2");
STORE_SQL(sql_dirattr_set,
	"INSERT OR REPLACE INTO cmffs_dir_attr(owner, id, mode, uid, gid,"
	" mtime_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
STORE_SQL(sql_exec_prop_text,
	"SELECT ifnull(`string_value`, '') FROM `ExecutionProperty`"
	" WHERE `execution_id` = ?1 AND `name` = ?2 AND `is_custom_property` = 0");
STORE_SQL(sql_exec_stage,
	"SELECT `context_id` FROM `Association` WHERE `execution_id` = ?1"
	" ORDER BY `context_id` LIMIT 1");

/*
 * Artifact type ids found in batched changes are kept once committed, and
 * forgotten (with those kept before: a rolled-back batch may have made
 * them) when a batch is rolled back.
 */
static void commit_hook(void *ud, bool committed)
{
	struct model *m = ud;
	size_t k;

	if (!committed)
		m->names_gen++;	/* names and facts found in it may be gone */
	for (k = 0; k < _ART_MAX; k++) {
		if (!committed)
			m->art_type[k] = 0;
		else if (!m->art_type[k])
			m->art_type[k] = m->art_type_seen[k];
	}
	memset(m->art_type_seen, 0, sizeof(m->art_type_seen));
}

int model_open(const char *mlmd_path, unsigned flags, struct model **ret_model,
	       char **ret_err)
{
	struct model *m;
	unsigned sflags = 0;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->names_gen = 1;	/* empty slots (gen 0) never match */
	m->redo_dirfd = -1;
	if (flags & MODEL_CREATE)
		sflags |= STORE_CREATE;
	if (flags & MODEL_READONLY)
		sflags |= STORE_READONLY;
	r = store_open(mlmd_path, sflags, &m->st, ret_err);
	if (r < 0) {
		free(m);
		return r;
	}
	store_set_commit_hook(m->st, commit_hook, m);
	*ret_model = m;
	return 0;
}

int model_redo_attach(struct model *m, int dirfd, const char *name,
		      int how, char **ret_err)
{
	int r = 0;

	if (m->redo_dirfd >= 0)
		return -EBUSY;
	m->redo_name = strdup(name);
	if (!m->redo_name)
		return -ENOMEM;
	m->redo_dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (m->redo_dirfd < 0) {
		r = -errno;
		free(m->redo_name);
		m->redo_name = NULL;
		return r;
	}
	if (how == MODEL_REDO_BATCH)
		r = store_batch_enable(m->st, dirfd, name, entry_replay_locked,
				       m, ret_err);
	else if (how == MODEL_REDO_APPLY)
		r = store_redo_apply(m->st, dirfd, name, entry_replay_locked,
				     m, ret_err);
	return r;
}

struct redo_objects {
	int (*cb)(void *ud, const char *md5);
	void *ud;
};

static int redo_object(void *ud, uint64_t seq, const void *rec, size_t len)
{
	struct redo_objects *ro = ud;
	char md5[MD5_HEX_LEN + 1];

	(void)seq;
	if (entry_record_object(rec, len, md5) <= 0)
		return 0;
	return ro->cb(ro->ud, md5);
}

int model_redo_objects(struct model *m,
		       int (*cb)(void *ud, const char *md5), void *ud)
{
	struct redo_objects ro = { cb, ud };
	struct redo *log;
	int r;

	if (m->redo_dirfd < 0)
		return 0;
	r = redo_open(m->redo_dirfd, m->redo_name, false, &log);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = redo_each(log, redo_object, &ro, NULL);
	redo_close(log);
	return r;
}

uint64_t model_version(struct model *m)
{
	return store_version(m->st);
}

int model_flush(struct model *m)
{
	return store_flush(m->st);
}

int64_t model_clock_ns(struct model *m)
{
	struct timespec ts;

	if (m->change_ns)
		return m->change_ns;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t model_clock_ms(struct model *m)
{
	return model_clock_ns(m) / 1000000;
}

void model_close(struct model *m)
{
	if (!m)
		return;
	store_close(m->st);
	if (m->redo_dirfd >= 0)
		close(m->redo_dirfd);
	exec_ctx_release(&m->ctx_cache.c);
	free(m->redo_name);
	free(m->remote);
	free(m);
}

int model_reset(struct model *m)
{
	int r;

	store_lock(m->st);
	r = store_reset(m->st);
	memset(m->art_type, 0, sizeof(m->art_type));
	memset(m->art_type_seen, 0, sizeof(m->art_type_seen));
	m->names_gen++;		/* no name found before is found again */
	store_unlock(m->st);
	return r;
}

int model_set_remote(struct model *m, const char *remote_url)
{
	char *copy = NULL;
	size_t n;

	if (remote_url) {
		copy = url_redact(remote_url);	/* it goes into url properties */
		if (!copy)
			return -ENOMEM;
		/* "dir/" and "dir" name the same remote */
		n = strlen(copy);
		while (n > 1 && copy[n - 1] == '/')
			copy[--n] = '\0';
	}
	store_lock(m->st);
	free(m->remote);
	m->remote = copy;
	store_unlock(m->st);
	return 0;
}

/* --- small query helpers -------------------------------------------------- */

static int query_text(struct store *st, const char *sql, int64_t id,
		      const char *arg, char **ret)
{
	sqlite3_stmt *s;
	int rc, r = store_stmt(st, sql, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	if (arg)
		sqlite3_bind_text(s, 2, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		*ret = strdup(t ? t : "");
		r = *ret ? 0 : -ENOMEM;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	store_stmt_done(s);
	return r;
}

static int query_int(struct store *st, const char *sql, int64_t a,
		     int64_t *ret)
{
	sqlite3_stmt *s;
	int r = store_stmt(st, sql, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, a);
	return mlmd_step_int(s, ret);
}

static int exec_by_id(struct store *st, const char *sql, int64_t id)
{
	return store_run_locked(st, sql, "i", id);
}

/* A stage context is named "PIPELINE/STAGE": the tree shows STAGE. */
static const char *stage_short_name(const char *name)
{
	const char *slash = strchr(name, '/');

	return slash ? slash + 1 : name;
}

int name_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	const struct name_rule *rule = arg;
	struct name_row *row = elem;
	const char *name = (const char *)sqlite3_column_text(s, 0);

	if (!name)
		return 1;
	if (rule && rule->strip_first)
		name = stage_short_name(name);
	if (rule && rule->keep && !rule->keep(name))
		return 1;
	row->name = strdup(name);
	if (!row->name)
		return -ENOMEM;
	if (sqlite3_column_count(s) > 1)
		row->id = sqlite3_column_int64(s, 1);
	return 0;
}

void name_row_release(void *elem)
{
	struct name_row *row = elem;

	free(row->name);
	row->name = NULL;
}

int name_row_call(void *ctx, void *elem)
{
	const struct name_call *c = ctx;
	const struct name_row *row = elem;

	return c->cb(c->ud, row->name, row->id);
}

/* stage contexts are named "PIPELINE/STAGE": list the STAGE */
static const struct name_rule strip_pipeline = { .strip_first = true };

/*
 * Run @sql (bound to @id if @bind) and hand its (name, id) rows, @rule
 * applied, to @cb (rows.h: collect, then call; the caller must not hold
 * the lock).
 */
static int list_names(struct store *st, const char *sql, int64_t id,
		      bool bind, const struct name_rule *rule,
		      model_name_cb cb, void *ud)
{
	struct store_rows rows = NAME_ROWS_INIT;
	struct name_call call = { cb, ud };
	sqlite3_stmt *s;
	int r;

	store_lock(st);
	r = store_stmt(st, sql, &s);
	if (r == 0) {
		if (bind)
			sqlite3_bind_int64(s, 1, id);
		r = store_rows_collect(&rows, s, name_row_copy, (void *)rule);
	}
	store_unlock(st);
	return store_rows_each(&rows, r, name_row_call, &call);
}

/* A copy of the cached facts of @execution_id, if they are cached. */
static int ctx_from_cache(struct model *m, int64_t execution_id,
			  struct exec_ctx *ret)
{
	const struct ctx_cache *k = &m->ctx_cache;

	if (!k->execution_id || k->execution_id != execution_id ||
	    k->gen != m->names_gen)
		return -ENOENT;
	ret->stage_id = k->c.stage_id;
	ret->pipeline = strdup(k->c.pipeline);
	ret->git_repo = strdup(k->c.git_repo);
	if (ret->pipeline && ret->git_repo)
		return 0;
	exec_ctx_release(ret);
	return -ENOMEM;
}

/* Copy column @col of @s into @buf of @size (truncated; "" for NULL). */
static void column_name(sqlite3_stmt *s, int col, char *buf, size_t size)
{
	const char *t = (const char *)sqlite3_column_text(s, col);

	snprintf(buf, size, "%s", t ? t : "");
}

static int place_context_locked(struct model *m, int64_t id,
				struct model_place *ret)
{
	sqlite3_stmt *s;
	int rc, r = store_stmt(m->st, sql_place_context, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(s, 1) == SQLITE_NULL) {
			ret->pipeline_id = id;
			column_name(s, 0, ret->pipeline, sizeof(ret->pipeline));
		} else {
			const char *t = (const char *)sqlite3_column_text(s, 0);

			ret->stage_id = id;
			ret->pipeline_id = sqlite3_column_int64(s, 1);
			snprintf(ret->stage, sizeof(ret->stage), "%s",
				 stage_short_name(t ? t : ""));
			column_name(s, 2, ret->pipeline, sizeof(ret->pipeline));
		}
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	store_stmt_done(s);
	return r;
}

int model_place_context(struct model *m, int64_t id, struct model_place *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	store_lock(m->st);
	r = place_context_locked(m, id, ret);
	store_unlock(m->st);
	return r;
}

int model_place_execution(struct model *m, int64_t id,
			  struct model_place *ret)
{
	char name[sizeof(ret->execution)];
	struct place_slot *slot;
	int64_t stage_id = 0;
	sqlite3_stmt *s;
	int rc, r = 0;

	memset(ret, 0, sizeof(*ret));
	store_lock(m->st);
	slot = &m->places[(uint64_t)id % PLACE_CACHE_SLOTS];
	if (slot->gen == m->names_gen && slot->pl.execution_id == id) {
		*ret = slot->pl;
		goto out;
	}
	r = store_stmt(m->st, sql_place_execution, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		column_name(s, 0, name, sizeof(name));
		stage_id = sqlite3_column_int64(s, 1);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	store_stmt_done(s);
	if (r == 0)
		r = place_context_locked(m, stage_id, ret);
	if (r == 0 && !ret->stage_id)
		r = -ENOENT;	/* associated with a pipeline, not a stage */
	if (r == 0) {
		ret->execution_id = id;
		memcpy(ret->execution, name, sizeof(name));
		slot->pl = *ret;
		slot->gen = m->names_gen;
	}
out:
	store_unlock(m->st);
	return r;
}

int exec_ctx_load_locked(struct model *m, int64_t execution_id,
			 struct exec_ctx *ret)
{
	struct exec_ctx c = { 0 };
	int r;

	/* logging every file of an execution asks the same three facts */
	if (ctx_from_cache(m, execution_id, ret) == 0)
		return 0;
	r = query_int(m->st, sql_exec_stage, execution_id, &c.stage_id);
	if (r == 0)
		r = query_text(m->st, sql_exec_prop_text, execution_id,
			       "Pipeline_Type", &c.pipeline);
	if (r == 0) {
		r = query_text(m->st, sql_exec_prop_text, execution_id,
			       "Git_Repo", &c.git_repo);
		if (r == -ENOENT) {
			c.git_repo = strdup("");
			r = c.git_repo ? 0 : -ENOMEM;
		}
	}
	if (r < 0) {
		exec_ctx_release(&c);
		return r;
	}
	exec_ctx_release(&m->ctx_cache.c);
	m->ctx_cache.execution_id = 0;
	m->ctx_cache.c.stage_id = c.stage_id;
	m->ctx_cache.c.pipeline = strdup(c.pipeline);
	m->ctx_cache.c.git_repo = strdup(c.git_repo);
	if (m->ctx_cache.c.pipeline && m->ctx_cache.c.git_repo) {
		m->ctx_cache.execution_id = execution_id;
		m->ctx_cache.gen = m->names_gen;
	}
	*ret = c;
	return 0;
}

void exec_ctx_release(struct exec_ctx *c)
{
	free(c->pipeline);
	free(c->git_repo);
	c->pipeline = c->git_repo = NULL;
}

/* --- pipelines and stages ------------------------------------------------- */

static struct name_cache_slot *name_slot(struct model *m, char kind,
					 int64_t parent_id, const char *name)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;
	const char *c;

	h = (h ^ (uint32_t)parent_id) * 16777619u;
	for (c = name; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	return &m->names[h % NAME_CACHE_SLOTS];
}

/* The cached id of @name, or 0.  Caller holds the store lock. */
static int64_t name_cache_get(struct model *m, char kind, int64_t parent_id,
			      const char *name)
{
	struct name_cache_slot *sl = name_slot(m, kind, parent_id, name);

	if (sl->gen == m->names_gen && sl->kind == kind &&
	    sl->parent_id == parent_id && !strcmp(sl->name, name))
		return sl->id;
	return 0;
}

static void name_cache_put(struct model *m, char kind, int64_t parent_id,
			   const char *name, int64_t id)
{
	struct name_cache_slot *sl = name_slot(m, kind, parent_id, name);

	if (strlen(name) >= sizeof(sl->name))
		return;
	sl->gen = m->names_gen;
	sl->kind = kind;
	sl->parent_id = parent_id;
	sl->id = id;
	strcpy(sl->name, name);
}

static int context_find(struct model *m, char kind, const char *type,
			const char *name, int64_t *ret_id)
{
	int64_t type_id, id;
	int r = 0;

	store_lock(m->st);
	id = name_cache_get(m, kind, 0, name);
	if (!id) {
		r = mlmd_type_find(m->st, MLMD_CONTEXT_TYPE, type, &type_id);
		if (r == 0)
			r = mlmd_context_find(m->st, type_id, name, &id);
		if (r == 0)
			name_cache_put(m, kind, 0, name, id);
	}
	store_unlock(m->st);
	if (r == 0)
		*ret_id = id;
	return r;
}

int model_pipeline_find(struct model *m, const char *name, int64_t *ret_id)
{
	return context_find(m, 'p', TYPE_PIPELINE, name, ret_id);
}

/*
 * Create a context of @type named @name with declared property @prop = @name
 * and, if @parent_id, a ParentContext link.
 */
static int context_create(struct model *m, const char *type,
			  const struct mlmd_type_prop *prop, const char *name,
			  int64_t parent_id, int64_t *ret_id)
{
	int64_t type_id, id;
	int r;

	r = store_write_begin(m->st);
	if (r < 0)
		return r;
	r = mlmd_type_ensure(m->st, MLMD_CONTEXT_TYPE, type, prop, 1, &type_id);
	if (r < 0)
		goto out;
	r = mlmd_context_find(m->st, type_id, name, &id);
	if (r == 0) {
		r = -EEXIST;
		goto out;
	}
	if (r != -ENOENT)
		goto out;
	r = mlmd_context_insert(m->st, type_id, name, store_now_ms(), &id);
	if (r == 0)
		r = mlmd_prop_set_str(m->st, MLMD_CONTEXT, id, prop->name,
				      false, name);
	if (r == 0 && parent_id)
		r = mlmd_parent_context_ensure(m->st, id, parent_id);
out:
	r = store_write_end(m->st, r);
	if (r == 0)
		*ret_id = id;
	return r;
}

int model_pipeline_create(struct model *m, const char *name, int64_t *ret_id)
{
	return context_create(m, TYPE_PIPELINE, &pipeline_props[0], name, 0,
			      ret_id);
}

int model_pipeline_list(struct model *m, model_name_cb cb, void *ud)
{
	return list_names(m->st, sql_pipeline_list, 0, false, NULL, cb, ud);
}

static char *stage_full_name(const char *pipeline, const char *stage)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s", pipeline, stage) < 0)
		return NULL;
	return s;
}

int model_stage_find(struct model *m, const char *pipeline, const char *stage,
		     int64_t *ret_id)
{
	char *full = stage_full_name(pipeline, stage);
	int r;

	if (!full)
		return -ENOMEM;
	r = context_find(m, 's', TYPE_STAGE, full, ret_id);
	free(full);
	return r;
}

int model_stage_create(struct model *m, int64_t pipeline_id,
		       const char *pipeline, const char *stage,
		       int64_t *ret_id)
{
	char *full = stage_full_name(pipeline, stage);
	int r;

	if (!full)
		return -ENOMEM;
	r = context_create(m, TYPE_STAGE, &stage_props[0], full, pipeline_id,
			   ret_id);
	free(full);
	return r;
}

int model_stage_list(struct model *m, int64_t pipeline_id, model_name_cb cb,
		     void *ud)
{
	return list_names(m->st, sql_stage_list, pipeline_id, true, &strip_pipeline,
			  cb, ud);
}

/*
 * Delete node @id with the statements @deletes, in one transaction, unless
 * one of the @usage counts (each a query of @id) is non-zero: -ENOTEMPTY.
 */
static int remove_unused(struct model *m, int64_t id,
			 const char *const *usage, size_t nusage,
			 const char *const *deletes, size_t ndeletes)
{
	int64_t n = 0;
	size_t i;
	int r;

	r = store_write_begin(m->st);
	if (r < 0)
		return r;
	for (i = 0; i < nusage && r == 0 && n == 0; i++)
		r = query_int(m->st, usage[i], id, &n);
	if (r == 0 && n)
		r = -ENOTEMPTY;
	for (i = 0; i < ndeletes && r == 0; i++)
		r = exec_by_id(m->st, deletes[i], id);
	m->names_gen++;		/* a name may be gone, or its id reused */
	r = store_write_end(m->st, r);
	return r;
}

static int context_remove(struct model *m, int64_t id)
{
	static const char *const usage[] = { sql_context_children,
					     sql_context_usage };
	static const char *const deletes[] = { sql_context_props_delete,
					       sql_parent_delete,
					       sql_context_delete };

	return remove_unused(m, id, usage, N(usage), deletes, N(deletes));
}

int model_pipeline_remove(struct model *m, int64_t id)
{
	return context_remove(m, id);
}

int model_stage_remove(struct model *m, int64_t id)
{
	return context_remove(m, id);
}

static int node_times(struct model *m, const char *sql, int64_t id,
		      struct node_times *ret)
{
	sqlite3_stmt *s;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		ret->create_ms = sqlite3_column_int64(s, 0);
		ret->update_ms = sqlite3_column_int64(s, 1);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	store_stmt_done(s);
out:
	store_unlock(m->st);
	return r;
}

int model_context_times(struct model *m, int64_t id, struct node_times *ret)
{
	return node_times(m, sql_context_times, id, ret);
}

int model_execution_times(struct model *m, int64_t id,
			  struct node_times *ret)
{
	return node_times(m, sql_execution_times, id, ret);
}

/* --- executions ------------------------------------------------------------ */

int model_execution_find(struct model *m, int64_t stage_id, const char *name,
			 int64_t *ret_id)
{
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	*ret_id = name_cache_get(m, 'e', stage_id, name);
	if (*ret_id) {
		r = 0;
		goto out;
	}
	r = store_stmt(m->st, sql_execution_find, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, stage_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	r = mlmd_step_int(s, ret_id);
	if (r == 0)
		name_cache_put(m, 'e', stage_id, name, *ret_id);
	if (r == -ENOENT && !strncmp(name, "execution-", 10)) {
		char *end;
		long long id = strtoll(name + 10, &end, 10);

		if (*end || id <= 0)
			goto out;
		r = store_stmt(m->st, sql_execution_find_unnamed, &s);
		if (r < 0)
			goto out;
		sqlite3_bind_int64(s, 1, stage_id);
		sqlite3_bind_int64(s, 2, id);
		r = mlmd_step_int(s, ret_id);
	}
out:
	store_unlock(m->st);
	return r;
}

static int new_uuid1(char out[37])
{
	uuid_t u;

	/* CMF stores uuid.uuid1() strings */
	uuid_generate_time(u);
	uuid_unparse_lower(u, out);
	return 0;
}

int model_execution_create(struct model *m, int64_t stage_id,
			   const char *name, const struct exec_origin *origin,
			   int64_t *ret_id)
{
	static const struct exec_origin none = { .git_dirty = -1 };
	char *stage_name = NULL, *pipeline_name = NULL;
	int64_t pipeline_id, type_id, id;
	char uuid[37];
	int r;

	if (!origin)
		origin = &none;
	r = store_write_begin(m->st);
	if (r < 0)
		goto out_free;
	r = query_text(m->st, sql_context_name, stage_id, NULL, &stage_name);
	if (r == 0)
		r = query_int(m->st, sql_context_parent, stage_id, &pipeline_id);
	if (r == 0)
		r = query_text(m->st, sql_context_name, pipeline_id, NULL,
			       &pipeline_name);
	if (r < 0)
		goto out;
	/* execution type = stage name, as for CMF's reusable executions */
	r = mlmd_type_ensure(m->st, MLMD_EXECUTION_TYPE, stage_name,
			     execution_props, N(execution_props), &type_id);
	if (r < 0)
		goto out;
	r = mlmd_execution_insert(m->st, type_id, name, store_now_ms(), &id);
	if (r < 0)
		goto out;
	new_uuid1(uuid);
#define SET_STR(k, v) \
	if (r == 0)   \
		r = mlmd_prop_set_str(m->st, MLMD_EXECUTION, id, k, false, v)
#define SET_INT(k, v) \
	if (r == 0)   \
		r = mlmd_prop_set_int(m->st, MLMD_EXECUTION, id, k, false, v)
	SET_STR("Context_Type", stage_name);
	SET_INT("Context_ID", stage_id);
	SET_STR("Execution", origin->cmdline ? origin->cmdline : "");
	SET_STR("Execution_type_name", stage_name);
	SET_STR("Pipeline_Type", pipeline_name);
	SET_INT("Pipeline_id", pipeline_id);
	SET_STR("Git_Repo", origin->git_repo ? origin->git_repo : "");
	SET_STR("Git_Start_Commit",
		origin->git_commit ? origin->git_commit : "");
	SET_STR("Git_End_Commit", "");
	SET_STR("Execution_uuid", uuid);
#undef SET_STR
#undef SET_INT
	if (r == 0 && origin->user)
		r = mlmd_prop_set_str(m->st, MLMD_EXECUTION, id, "User", true,
				      origin->user);
	if (r == 0 && origin->host)
		r = mlmd_prop_set_str(m->st, MLMD_EXECUTION, id, "Host", true,
				      origin->host);
	if (r == 0 && origin->pid > 0)
		r = mlmd_prop_set_int(m->st, MLMD_EXECUTION, id, "Pid", true,
				      origin->pid);
	if (r == 0 && origin->git_dirty >= 0)
		r = mlmd_prop_set_int(m->st, MLMD_EXECUTION, id, "Git_Dirty",
				      true, origin->git_dirty);
	if (r == 0) {
		sqlite3_stmt *s;

		/* Execution.State RUNNING until the user completes it */
		r = store_stmt(m->st, sql_execution_state, &s);
		if (r == 0) {
			sqlite3_bind_int64(s, 1, id);
			sqlite3_bind_int(s, 2, 2);
			r = mlmd_step_done(s);
		}
	}
	if (r == 0)
		r = mlmd_association_ensure(m->st, stage_id, id);
out:
	r = store_write_end(m->st, r);
	if (r == 0)
		*ret_id = id;
out_free:
	free(stage_name);
	free(pipeline_name);
	return r;
}

int model_execution_list(struct model *m, int64_t stage_id, model_name_cb cb,
			 void *ud)
{
	return list_names(m->st, sql_execution_list, stage_id, true, NULL, cb, ud);
}

int model_execution_remove(struct model *m, int64_t id)
{
	static const char *const usage[] = { sql_execution_usage };
	static const char *const deletes[] = { sql_execution_props_delete,
					       sql_association_delete,
					       sql_execution_delete };

	return remove_unused(m, id, usage, N(usage), deletes, N(deletes));
}

/* --- custom properties ---------------------------------------------------- */

static enum mlmd_node owner_node(enum model_owner o)
{
	switch (o) {
	case OWNER_ARTIFACT:
		return MLMD_ARTIFACT;
	case OWNER_EXECUTION:
		return MLMD_EXECUTION;
	case OWNER_CONTEXT:
	default:
		return MLMD_CONTEXT;
	}
}

int model_prop_list(struct model *m, enum model_owner owner, int64_t id,
		    model_name_cb cb, void *ud)
{
	return list_names(m->st, sql_prop_list[owner_node(owner)], id, true, NULL,
			  cb, ud);
}

int model_prop_get(struct model *m, enum model_owner owner, int64_t id,
		   const char *name, char **ret_text)
{
	int r;

	store_lock(m->st);
	r = mlmd_prop_get_text(m->st, owner_node(owner), id, name, true,
			       ret_text);
	store_unlock(m->st);
	return r;
}

/*
 * One change to custom property @name of a node, with the node's update
 * time, in one write transaction: set to @v, rename to @to, or (both NULL)
 * delete.
 */
static int prop_change(struct model *m, enum model_owner owner, int64_t id,
		       const char *name, const struct value *v, const char *to)
{
	enum mlmd_node node = owner_node(owner);
	int r;

	r = store_write_begin(m->st);
	if (r < 0)
		goto out;
	if (v)
		r = mlmd_prop_set(m->st, node, id, name, true, v);
	else if (to)
		r = mlmd_prop_rename(m->st, node, id, name, to, true);
	else
		r = mlmd_prop_delete(m->st, node, id, name, true);
	if (r == 0)
		r = mlmd_touch(m->st, node, id, store_now_ms());
	r = store_write_end(m->st, r);
out:
	return r;
}

int model_prop_set(struct model *m, enum model_owner owner, int64_t id,
		   const char *name, const struct value *v)
{
	return prop_change(m, owner, id, name, v, NULL);
}

int model_prop_delete(struct model *m, enum model_owner owner, int64_t id,
		      const char *name)
{
	return prop_change(m, owner, id, name, NULL, NULL);
}

int model_prop_rename(struct model *m, enum model_owner owner, int64_t id,
		      const char *from, const char *to)
{
	return prop_change(m, owner, id, from, NULL, to);
}

/* --- directory attributes ------------------------------------------------- */

int model_dirattr_get(struct model *m, enum dirattr_owner owner, int64_t id,
		      struct dir_attr *ret)
{
	sqlite3_stmt *s;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_dirattr_get, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int(s, 1, (int)owner);
	sqlite3_bind_int64(s, 2, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		ret->mode = (mode_t)sqlite3_column_int64(s, 0);
		ret->uid = (uid_t)sqlite3_column_int64(s, 1);
		ret->gid = (gid_t)sqlite3_column_int64(s, 2);
		ret->mtime_ns = sqlite3_column_int64(s, 3);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	store_stmt_done(s);
out:
	store_unlock(m->st);
	return r;
}

int model_dirattr_set(struct model *m, enum dirattr_owner owner, int64_t id,
		      const struct dir_attr *a)
{
	return store_run(m->st, sql_dirattr_set, "iiiiii", (int64_t)owner, id,
			 (int64_t)a->mode, (int64_t)a->uid, (int64_t)a->gid,
			 (int64_t)a->mtime_ns);
}
