/* SPDX-License-Identifier: MIT */
/* Executions as rows to compare; see runs.h. */
#include "runs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "model_i.h"

/*
 * The executions in scope: associated with context ?1 (a stage) or with a
 * child of it (the stages of pipeline ?1), or execution ?2.  The unbound
 * parameter is NULL and matches nothing.  sa holds the Association rows in
 * scope, each branch on its own so that the stage and pipeline cases use
 * the (context_id, execution_id) index (one OR over the three made every
 * query scan every association: ls -l of 1,000 executions' index.html
 * pages spent seconds there).
 */
#define SCOPE_ASSOC                                                          \
	"WITH sa(aid) AS (SELECT x.`id` FROM `Association` x"                \
	" WHERE x.`context_id` = ?1"                                         \
	" UNION SELECT x.`id` FROM `ParentContext` pc JOIN `Association` x"  \
	" ON x.`context_id` = pc.`context_id`"                               \
	" WHERE pc.`parent_context_id` = ?1"                                 \
	" UNION SELECT x.`id` FROM `Association` x"                          \
	" WHERE x.`execution_id` = ?2)"
#define SCOPE                                                                \
	SCOPE_ASSOC ", ex(id) AS (SELECT DISTINCT x.`execution_id` FROM"     \
	" `Association` x WHERE x.`id` IN (SELECT aid FROM sa))"
#define EXEC_PROP(K)                                                         \
	" ifnull((SELECT p.`string_value` FROM `ExecutionProperty` p"        \
	" WHERE p.`execution_id` = e.`id` AND p.`name` = '" K "'"            \
	" AND p.`is_custom_property` = 0), '')"
/* an artifact's url, and its size from a file of the tree showing it */
#define ART_URL_SIZE                                                         \
	" ifnull((SELECT p.`string_value` FROM `ArtifactProperty` p"         \
	" WHERE p.`artifact_id` = a.`id` AND p.`name` = 'url'"               \
	" AND p.`is_custom_property` = 0), ''),"                             \
	" (SELECT max(f.size) FROM cmffs_entry f"                            \
	" WHERE f.artifact_id = a.`id`)"

STORE_SQL(sql_runs_exec,
	SCOPE_ASSOC " SELECT e.`id`, CASE WHEN ifnull(e.`name`, '') = ''"
	" THEN 'execution-' || e.`id` ELSE e.`name` END, c.`name`, c.`id`,"
	" e.`last_known_state`, ifnull(e.`create_time_since_epoch`, 0),"
	" ifnull(e.`last_update_time_since_epoch`, 0),"
	EXEC_PROP("Git_Start_Commit") "," EXEC_PROP("Git_End_Commit") ","
	EXEC_PROP("Git_Repo") "," EXEC_PROP("Execution") ","
	EXEC_PROP("Execution_uuid")
	" FROM `Association` x JOIN `Execution` e ON e.`id` = x.`execution_id`"
	" JOIN `Context` c ON c.`id` = x.`context_id`"
	" WHERE x.`id` IN (SELECT aid FROM sa)"
	" ORDER BY 6 DESC, 1 DESC");
STORE_SQL(sql_runs_props,
	SCOPE " SELECT p.`execution_id`, p.`name`, p.`int_value`,"
	" p.`double_value`, p.`string_value`, p.`bool_value`"
	" FROM ex JOIN `ExecutionProperty` p ON p.`execution_id` = ex.id"
	" WHERE p.`is_custom_property` = 1 ORDER BY 1, 2");
/* the latest Metrics artifact of each name, as model_metrics_json() */
STORE_SQL(sql_runs_metrics,
	SCOPE ", latest(eid, mname, aid) AS (SELECT ev.`execution_id`,"
	" substr(a.`name`, 1, instr(a.`name`, ':') - 1), max(a.`id`)"
	" FROM ex JOIN `Event` ev ON ev.`execution_id` = ex.id"
	" JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"
	" JOIN `Type` t ON t.`id` = a.`type_id` WHERE t.`name` = 'Metrics'"
	" AND instr(a.`name`, ':') > 1 GROUP BY 1, 2)"
	" SELECT l.eid, l.mname || '.json:' || p.`name`, p.`int_value`,"
	" p.`double_value`, p.`string_value`, p.`bool_value` FROM latest l"
	" JOIN `ArtifactProperty` p ON p.`artifact_id` = l.aid"
	" AND p.`is_custom_property` = 1 ORDER BY 1, l.mname, p.`name`");
STORE_SQL(sql_runs_steps,
	SCOPE " SELECT ev.`execution_id`, a.`name`, ifnull(a.`uri`, '')"
	" FROM ex JOIN `Event` ev ON ev.`execution_id` = ex.id"
	" JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"
	" JOIN `Type` t ON t.`id` = a.`type_id`"
	" WHERE t.`name` = 'Step_Metrics' AND ev.`type` = 4"
	" AND a.`name` IS NOT NULL ORDER BY 1, a.`id`");
STORE_SQL(sql_runs_files,
	SCOPE " SELECT ev.`execution_id`, a.`id`, ev.`type`, ifnull((SELECT"
	" group_concat(p.`step_key`, '/') FROM `EventPath` p"
	" WHERE p.`event_id` = ev.`id` AND p.`is_index_step` = 0),"
	" ifnull(a.`name`, '')), t.`name`, ifnull(a.`uri`, ''),"
	ART_URL_SIZE ", ev.`id`"
	" FROM ex JOIN `Event` ev ON ev.`execution_id` = ex.id"
	" JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"
	" JOIN `Type` t ON t.`id` = a.`type_id`"
	" WHERE t.`name` NOT IN ('Metrics', 'Step_Metrics')"
	" AND ev.`type` IN (3, 4) ORDER BY 1, ev.`id`");
STORE_SQL(sql_runs_pipelines,
	"SELECT c.`id`, c.`name`, (SELECT count(*) FROM `ParentContext` pc"
	" WHERE pc.`parent_context_id` = c.`id`), (SELECT count(*)"
	" FROM `ParentContext` pc JOIN `Association` x"
	" ON x.`context_id` = pc.`context_id`"
	" WHERE pc.`parent_context_id` = c.`id`),"
	" max(ifnull(c.`last_update_time_since_epoch`, 0), ifnull((SELECT"
	" max(e.`last_update_time_since_epoch`) FROM `ParentContext` pc"
	" JOIN `Association` x ON x.`context_id` = pc.`context_id`"
	" JOIN `Execution` e ON e.`id` = x.`execution_id`"
	" WHERE pc.`parent_context_id` = c.`id`), 0))"
	" FROM `Context` c JOIN `Type` t ON t.`id` = c.`type_id`"
	" WHERE t.`name` = 'Parent_Context' AND t.`type_kind` = 2"
	" ORDER BY c.`name`");

/* Column @col of @s as an owned string ("" for NULL); NULL on ENOMEM. */
static char *col_dup(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);

	return strdup(t ? t : "");
}

static void value_release(struct run_value *v)
{
	free(v->key);
	free(v->text);
	v->key = v->text = NULL;
}

static void file_release(struct run_file *f)
{
	free(f->name);
	free(f->type);
	free(f->hash);
	free(f->url);
	f->name = f->type = f->hash = f->url = NULL;
}

static void run_release(struct run *r)
{
	size_t i;

	free(r->pipeline);
	free(r->stage);
	free(r->name);
	free(r->git_commit);
	free(r->git_end_commit);
	free(r->git_repo);
	free(r->command);
	free(r->uuid);
	for (i = 0; i < r->nprops; i++)
		value_release(&r->props[i]);
	free(r->props);
	for (i = 0; i < r->nmetrics; i++)
		value_release(&r->metrics[i]);
	free(r->metrics);
	for (i = 0; i < r->nsteps; i++) {
		free(r->steps[i].name);
		free(r->steps[i].hash);
	}
	free(r->steps);
	for (i = 0; i < r->nfiles; i++)
		file_release(&r->files[i]);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

void runs_release(struct runs *runs)
{
	size_t i;

	for (i = 0; i < runs->n; i++)
		run_release(&runs->v[i]);
	free(runs->v);
	memset(runs, 0, sizeof(*runs));
}

int run_add_metric(struct run *run, const char *key, const char *text,
		   bool is_num, double num)
{
	struct run_value *v;

	if (array_reserve(&run->metrics, &run->metrics_cap, run->nmetrics + 1,
			  sizeof(*run->metrics)) < 0)
		return -ENOMEM;
	v = &run->metrics[run->nmetrics];
	v->key = strdup(key);
	v->text = strdup(text);
	v->is_num = is_num;
	v->num = num;
	if (!v->key || !v->text) {
		value_release(v);
		return -ENOMEM;
	}
	run->nmetrics++;
	return 0;
}

/* --- copying rows out (under the lock) ------------------------------- */

static void run_elem_release(void *elem)
{
	run_release(elem);
}

static int exec_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	struct run *r = elem;
	const char *ctx = (const char *)sqlite3_column_text(s, 2);
	const char *slash = ctx ? strchr(ctx, '/') : NULL;

	(void)arg;
	r->id = sqlite3_column_int64(s, 0);
	r->stage_id = sqlite3_column_int64(s, 3);
	r->state = sqlite3_column_type(s, 4) == SQLITE_NULL
			   ? -1
			   : sqlite3_column_int(s, 4);
	r->create_ms = sqlite3_column_int64(s, 5);
	r->update_ms = sqlite3_column_int64(s, 6);
	/* the stage context is named "P/S" */
	r->pipeline = slash ? strndup(ctx, (size_t)(slash - ctx))
			    : strdup("");
	r->stage = strdup(slash ? slash + 1 : ctx ? ctx : "");
	r->name = col_dup(s, 1);
	r->git_commit = col_dup(s, 7);
	r->git_end_commit = col_dup(s, 8);
	r->git_repo = col_dup(s, 9);
	r->command = col_dup(s, 10);
	r->uuid = col_dup(s, 11);
	if (!r->pipeline || !r->stage || !r->name || !r->git_commit ||
	    !r->git_end_commit || !r->git_repo || !r->command || !r->uuid)
		return -ENOMEM;
	return 0;
}

/* A value of an execution: (execution id, run_value). */
struct keyed_value {
	int64_t eid;
	struct run_value v;
};

static void keyed_value_release(void *elem)
{
	value_release(&((struct keyed_value *)elem)->v);
}

/* (id, key, int, double, string, bool) */
static int value_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	struct keyed_value *kv = elem;

	(void)arg;
	kv->eid = sqlite3_column_int64(s, 0);
	kv->v.key = col_dup(s, 1);
	kv->v.text = mlmd_value_text(s, 2);
	if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
		kv->v.is_num = true;
		kv->v.num = (double)sqlite3_column_int64(s, 2);
	} else if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
		kv->v.is_num = true;
		kv->v.num = sqlite3_column_double(s, 3);
	}
	return kv->v.key && kv->v.text ? 0 : -ENOMEM;
}

struct keyed_steps {
	int64_t eid;
	struct run_steps st;
};

static void keyed_steps_release(void *elem)
{
	struct keyed_steps *ks = elem;

	free(ks->st.name);
	free(ks->st.hash);
	ks->st.name = ks->st.hash = NULL;
}

/*
 * (id, name, uri): the NAME of "cmf_artifacts/UUID/metrics/NAME:MD5:..."
 * is the last component of the path before the first ':'.
 */
static int steps_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	struct keyed_steps *ks = elem;
	const char *name = (const char *)sqlite3_column_text(s, 1);
	size_t len = strcspn(name, ":");
	const char *base = name;
	size_t i;

	(void)arg;
	for (i = 0; i < len; i++)
		if (name[i] == '/')
			base = name + i + 1;
	if (base == name + len)
		return 1;
	ks->eid = sqlite3_column_int64(s, 0);
	ks->st.name = strndup(base, (size_t)(name + len - base));
	ks->st.hash = col_dup(s, 2);
	return ks->st.name && ks->st.hash ? 0 : -ENOMEM;
}

static void file_elem_release(void *elem)
{
	file_release(elem);
}

/* (id, artifact, type, path:..., type name, uri, url, size, event) */
static int file_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	struct run_file *f = elem;
	const char *path = (const char *)sqlite3_column_text(s, 3);

	(void)arg;
	f->execution_id = sqlite3_column_int64(s, 0);
	f->artifact_id = sqlite3_column_int64(s, 1);
	f->input = sqlite3_column_int(s, 2) == 3;
	f->event_id = sqlite3_column_int64(s, 8);
	f->name = path ? strndup(path, strcspn(path, ":")) : strdup("");
	f->type = col_dup(s, 4);
	f->hash = col_dup(s, 5);
	f->url = col_dup(s, 6);
	f->size = sqlite3_column_type(s, 7) == SQLITE_NULL
			  ? -1
			  : sqlite3_column_int64(s, 7);
	if (f->size < 0)
		f->size = -1;
	return f->name && f->type && f->hash && f->url ? 0 : -ENOMEM;
}

/* --- handing the rows to their runs (without the lock) ---------------- */

/* Runs by id, for the rows of the later queries to find theirs. */
struct run_index {
	struct runs *runs;
	size_t *by_id;		/* indexes into runs->v, by id */
};

static int cmp_by_id(const void *a, const void *b, void *arg)
{
	const struct runs *runs = arg;
	int64_t x = runs->v[*(const size_t *)a].id;
	int64_t y = runs->v[*(const size_t *)b].id;

	return x < y ? -1 : x > y;
}

static struct run *run_find(const struct run_index *ix, int64_t id)
{
	size_t lo = 0, hi = ix->runs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct run *r = &ix->runs->v[ix->by_id[mid]];

		if (r->id == id)
			return r;
		if (r->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int no_call(void *ctx, void *elem)
{
	(void)ctx;
	(void)elem;
	return 0;
}

/* What a kind of row fills in a run. */
enum attach_kind {
	ATTACH_PROPS,
	ATTACH_METRICS,
	ATTACH_STEPS,
	ATTACH_FILES,
};

static int64_t elem_eid(enum attach_kind kind, const void *elem)
{
	switch (kind) {
	case ATTACH_STEPS:
		return ((const struct keyed_steps *)elem)->eid;
	case ATTACH_FILES:
		return ((const struct run_file *)elem)->execution_id;
	default:
		return ((const struct keyed_value *)elem)->eid;
	}
}

/* The array of @r a kind fills, its count, and its element size. */
static void **run_array(struct run *r, enum attach_kind kind,
			size_t **ret_n, size_t *ret_size)
{
	switch (kind) {
	case ATTACH_PROPS:
		*ret_n = &r->nprops;
		*ret_size = sizeof(*r->props);
		return (void **)&r->props;
	case ATTACH_METRICS:
		*ret_n = &r->nmetrics;
		*ret_size = sizeof(*r->metrics);
		return (void **)&r->metrics;
	case ATTACH_STEPS:
		*ret_n = &r->nsteps;
		*ret_size = sizeof(*r->steps);
		return (void **)&r->steps;
	default:
		*ret_n = &r->nfiles;
		*ret_size = sizeof(*r->files);
		return (void **)&r->files;
	}
}

/* Element @elem's payload: what moves into the run's array. */
static void *elem_payload(enum attach_kind kind, void *elem)
{
	switch (kind) {
	case ATTACH_STEPS:
		return &((struct keyed_steps *)elem)->st;
	case ATTACH_FILES:
		return elem;
	default:
		return &((struct keyed_value *)elem)->v;
	}
}

/*
 * Move every row of @rows (collected with result @r) into the array of its
 * run, in order; rows of no run are dropped.  Releases @rows.  0 or -errno.
 */
static int attach_rows(const struct run_index *ix, struct store_rows *rows,
		       int r, enum attach_kind kind)
{
	size_t i, *n, size;
	void **arr;
	struct run *run;

	for (i = 0; r == 0 && i < ix->runs->n; i++) {
		(void)run_array(&ix->runs->v[i], kind, &n, &size);
		*n = 0;
	}
	/* count, allocate, then move: each array is allocated once */
	for (i = 0; r == 0 && i < rows->n; i++) {
		run = run_find(ix, elem_eid(kind, store_rows_at(rows, i)));
		if (run) {
			(void)run_array(run, kind, &n, &size);
			(*n)++;
		}
	}
	for (i = 0; r == 0 && i < ix->runs->n; i++) {
		run = &ix->runs->v[i];
		arr = run_array(run, kind, &n, &size);
		if (*n && !(*arr = calloc(*n, size)))
			r = -ENOMEM;
		if (kind == ATTACH_METRICS)
			run->metrics_cap = *arr ? *n : 0;
		*n = 0;
	}
	for (i = 0; r == 0 && i < rows->n; i++) {
		void *elem = store_rows_at(rows, i);

		run = run_find(ix, elem_eid(kind, elem));
		if (!run)
			continue;
		arr = run_array(run, kind, &n, &size);
		memcpy((char *)*arr + *n * size, elem_payload(kind, elem),
		       size);
		memset(elem_payload(kind, elem), 0, size);
		(*n)++;
	}
	return store_rows_each(rows, r, no_call, NULL);
}

/* Keep the last file of each (side, name): the current version. */
static int cmp_file(const void *a, const void *b)
{
	const struct run_file *x = a, *y = b;
	int c;

	if (x->input != y->input)
		return x->input ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	/* equal names: the later event last */
	return x->event_id < y->event_id ? -1 : x->event_id > y->event_id;
}

static void files_current(struct run *r)
{
	size_t i, out = 0;

	if (r->nfiles)
		qsort(r->files, r->nfiles, sizeof(*r->files), cmp_file);
	for (i = 0; i < r->nfiles; i++) {
		bool last = i + 1 == r->nfiles ||
			    r->files[i + 1].input != r->files[i].input ||
			    strcmp(r->files[i + 1].name, r->files[i].name);

		if (!last) {
			file_release(&r->files[i]);
			continue;
		}
		r->files[out++] = r->files[i];
	}
	r->nfiles = out;
}

/* Keep the last step-metrics file of each name (rows come by artifact). */
static void steps_current(struct run *r)
{
	size_t i, j, out = 0;

	for (i = 0; i < r->nsteps; i++) {
		for (j = i + 1; j < r->nsteps; j++)
			if (!strcmp(r->steps[j].name, r->steps[i].name))
				break;
		if (j < r->nsteps) {
			free(r->steps[i].name);
			free(r->steps[i].hash);
			continue;
		}
		r->steps[out++] = r->steps[i];
	}
	r->nsteps = out;
}

static int cmp_steps(const void *a, const void *b)
{
	return strcmp(((const struct run_steps *)a)->name,
		      ((const struct run_steps *)b)->name);
}

/* Run @sql for the scope, collecting rows with @copy into @rows. */
static int scope_collect(struct store *st, const char *sql,
			 enum runs_scope scope, int64_t id,
			 struct store_rows *rows, store_row_copy_fn copy)
{
	sqlite3_stmt *s;
	int r = store_stmt(st, sql, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, scope == RUNS_EXECUTION ? 2 : 1, id);
	return store_rows_collect(rows, s, copy, NULL);
}

int runs_load(struct model *m, enum runs_scope scope, int64_t id,
	      unsigned flags, struct runs *ret)
{
	struct store_rows execs = STORE_ROWS_INIT(struct run, run_elem_release);
	struct store_rows props =
		STORE_ROWS_INIT(struct keyed_value, keyed_value_release);
	struct store_rows metrics =
		STORE_ROWS_INIT(struct keyed_value, keyed_value_release);
	struct store_rows steps =
		STORE_ROWS_INIT(struct keyed_steps, keyed_steps_release);
	struct store_rows files =
		STORE_ROWS_INIT(struct run_file, file_elem_release);
	struct run_index ix = { .runs = ret };
	size_t i, out;
	int r;

	memset(ret, 0, sizeof(*ret));
	store_lock(m->st);
	r = scope_collect(m->st, sql_runs_exec, scope, id, &execs,
			  exec_row_copy);
	if (r == 0)
		r = scope_collect(m->st, sql_runs_props, scope, id, &props,
				  value_row_copy);
	if (r == 0)
		r = scope_collect(m->st, sql_runs_metrics, scope, id, &metrics,
				  value_row_copy);
	if (r == 0)
		r = scope_collect(m->st, sql_runs_steps, scope, id, &steps,
				  steps_row_copy);
	if (r == 0 && (flags & RUNS_FILES))
		r = scope_collect(m->st, sql_runs_files, scope, id, &files,
				  file_row_copy);
	store_unlock(m->st);

	/* the runs themselves: move them out of the rows, once each */
	ret->v = execs.v;
	ret->cap = execs.cap;
	for (i = out = 0; r == 0 && i < execs.n; i++) {
		struct run *run = store_rows_at(&execs, i);

		/* a second association of one execution: the same row again,
		 * next to the first (same time, same id) */
		if (out && ret->v[out - 1].id == run->id) {
			run_release(run);
			continue;
		}
		memmove(&ret->v[out++], run, sizeof(*run));
	}
	ret->n = r == 0 ? out : 0;
	if (r < 0)
		for (i = 0; i < execs.n; i++)
			run_release(store_rows_at(&execs, i));
	execs.v = NULL;
	execs.n = execs.cap = 0;
	if (r == 0 && scope == RUNS_EXECUTION && ret->n == 0)
		r = -ENOENT;
	if (r == 0 && ret->n) {
		ix.by_id = calloc(ret->n, sizeof(*ix.by_id));
		if (!ix.by_id)
			r = -ENOMEM;
		for (i = 0; ix.by_id && i < ret->n; i++)
			ix.by_id[i] = i;
		if (ix.by_id)
			qsort_r(ix.by_id, ret->n, sizeof(*ix.by_id), cmp_by_id,
				ret);
	}
	r = attach_rows(&ix, &props, r, ATTACH_PROPS);
	r = attach_rows(&ix, &metrics, r, ATTACH_METRICS);
	r = attach_rows(&ix, &steps, r, ATTACH_STEPS);
	r = attach_rows(&ix, &files, r, ATTACH_FILES);
	for (i = 0; r == 0 && i < ret->n; i++) {
		files_current(&ret->v[i]);
		steps_current(&ret->v[i]);
		if (ret->v[i].nsteps)
			qsort(ret->v[i].steps, ret->v[i].nsteps,
			      sizeof(*ret->v[i].steps), cmp_steps);
	}
	free(ix.by_id);
	return r;
}

/* --- pipelines ------------------------------------------------------- */

static void pipeline_release(void *elem)
{
	struct run_pipeline *p = elem;

	free(p->name);
	p->name = NULL;
}

static int pipeline_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	struct run_pipeline *p = elem;

	(void)arg;
	p->id = sqlite3_column_int64(s, 0);
	p->name = col_dup(s, 1);
	p->stages = sqlite3_column_int64(s, 2);
	p->executions = sqlite3_column_int64(s, 3);
	p->last_ms = sqlite3_column_int64(s, 4);
	return p->name ? 0 : -ENOMEM;
}

int runs_pipelines(struct model *m, struct run_pipeline **ret,
		   size_t *ret_n)
{
	struct store_rows rows =
		STORE_ROWS_INIT(struct run_pipeline, pipeline_release);
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_runs_pipelines, &s);
	if (r == 0)
		r = store_rows_collect(&rows, s, pipeline_row_copy, NULL);
	store_unlock(m->st);
	if (r < 0)
		return store_rows_each(&rows, r, no_call, NULL);
	*ret = rows.v;
	*ret_n = rows.n;
	return 0;
}

void runs_pipelines_free(struct run_pipeline *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		pipeline_release(&v[i]);
	free(v);
}
