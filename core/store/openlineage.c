/* SPDX-License-Identifier: MIT */
/* OpenLineage RunEvents of a pipeline; see openlineage.h. */
#include "openlineage.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <uuid/uuid.h>

#include "array.h"
#include "cmffs_version.h"
#include "dirmanifest.h"
#include "model_i.h"
#include "sb.h"
#include "utctime.h"

#define PRODUCER "https://github.com/HewlettPackard/cmf#cmffs-" PACKAGE_VERSION
#define PARENT_SCHEMA \
	"https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet"
#define VERSION_SCHEMA \
	"https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet"

/* the namespace of cmffs' name-based run ids (uuid_generate_md5) */
static const uuid_t run_namespace = {
	0x5b, 0x0e, 0x2d, 0x3c, 0x8f, 0x41, 0x4c, 0x52,
	0x9a, 0x07, 0x61, 0xc3, 0x2e, 0x94, 0xd8, 0x1f,
};

STORE_SQL(sql_ol_pipeline,
	"SELECT `name`, `create_time_since_epoch` FROM `Context`"
	" WHERE `id` = ?1");
STORE_SQL(sql_ol_executions,
	"SELECT e.`id`, c.`name`, CASE WHEN ifnull(e.`name`, '') = ''"
	" THEN 'execution-' || e.`id` ELSE e.`name` END,"
	" ifnull(u.`string_value`, ''), ifnull(e.`last_known_state`, -1),"
	" e.`create_time_since_epoch`, e.`last_update_time_since_epoch`"
	" FROM `ParentContext` pc JOIN `Context` c ON c.`id` = pc.`context_id`"
	" JOIN `Association` x ON x.`context_id` = c.`id`"
	" JOIN `Execution` e ON e.`id` = x.`execution_id`"
	" LEFT JOIN `ExecutionProperty` u ON u.`execution_id` = e.`id`"
	" AND u.`name` = 'Execution_uuid' AND u.`is_custom_property` = 0"
	" WHERE pc.`parent_context_id` = ?1"
	" ORDER BY e.`create_time_since_epoch`, e.`id`");
/* INPUT (3) and OUTPUT (4) events, with the artifacts' names and uris */
STORE_SQL(sql_ol_events,
	"SELECT DISTINCT ev.`execution_id`, ev.`type`, a.`name`,"
	" ifnull(a.`uri`, '') FROM `ParentContext` pc"
	" JOIN `Association` x ON x.`context_id` = pc.`context_id`"
	" JOIN `Event` ev ON ev.`execution_id` = x.`execution_id`"
	" JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"
	" WHERE pc.`parent_context_id` = ?1 AND ev.`type` IN (3, 4)"
	" ORDER BY ev.`execution_id`, ev.`type`, a.`name`");

struct ol_run {
	int64_t id;		/* execution id; 0 for the pipeline's run */
	char *job;		/* owned: the stage's context name, or P */
	char run_id[37];
	int state;		/* enum exec_state, -1 unset */
	int64_t start_ms, end_ms;
	size_t io_first, io_n;	/* its datasets in ol.io */
};

struct ol_io {
	int64_t exec_id;
	bool output;
	char *path;		/* owned */
	char *version;		/* owned */
};

/* One event to write: @run's START (@start) or its end. */
struct ol_event {
	int64_t ms;
	size_t seq;		/* order of making: ties keep it */
	size_t run;
	const char *type;
};

struct ol {
	char *pipeline;		/* owned */
	int64_t created_ms;
	char *ns;		/* owned: the datasets' namespace */
	struct ol_run *runs;	/* [0] is the pipeline's */
	size_t nruns, runs_cap;
	struct ol_io *io;
	size_t nio, io_cap;
	struct ol_event *ev;
	size_t nev, ev_cap;
};

static void ol_release(struct ol *ol)
{
	size_t i;

	for (i = 0; i < ol->nruns; i++)
		free(ol->runs[i].job);
	for (i = 0; i < ol->nio; i++) {
		free(ol->io[i].path);
		free(ol->io[i].version);
	}
	free(ol->runs);
	free(ol->io);
	free(ol->ev);
	free(ol->pipeline);
	free(ol->ns);
	memset(ol, 0, sizeof(*ol));
}

/* A name-based UUID (version 3) of @name into @out. */
static void name_uuid(const char *name, char out[37])
{
	uuid_t u;

	uuid_generate_md5(u, run_namespace, name, strlen(name));
	uuid_unparse_lower(u, out);
}

/* The first UUID of an Execution_uuid list into @out; false if invalid. */
static bool first_uuid(const char *list, char out[37])
{
	size_t n = strcspn(list, ",");
	char one[37];
	uuid_t u;

	if (n != 36)
		return false;
	memcpy(one, list, 36);
	one[36] = '\0';
	if (uuid_parse(one, u) < 0)
		return false;
	uuid_unparse_lower(u, out);
	return true;
}

/* The datasets' namespace: the storage's URL (redacted, model.h). */
static char *dataset_namespace(const char *remote)
{
	char *ns = NULL;

	if (!remote || !remote[0])
		return strdup("file");
	if (remote[0] == '/')
		return asprintf(&ns, "file://%s", remote) < 0 ? NULL : ns;
	return strdup(remote);
}

static struct ol_run *run_add(struct ol *ol)
{
	struct ol_run *run;

	if (array_reserve(&ol->runs, &ol->runs_cap, ol->nruns + 1,
			  sizeof(*ol->runs)) < 0)
		return NULL;
	run = &ol->runs[ol->nruns++];
	memset(run, 0, sizeof(*run));
	return run;
}

/*
 * Run @sql bound to pipeline @id, handing each row to @row (which returns
 * 0, or -errno to stop).  Caller holds the lock.  0 or -errno.
 */
static int each_row(struct store *st, const char *sql, int64_t id,
		    int (*row)(struct ol *ol, sqlite3_stmt *s), struct ol *ol)
{
	sqlite3_stmt *s;
	int rc, r;

	r = store_stmt(st, sql, &s);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && (r = row(ol, s)) == 0)
		;
	store_stmt_done(s);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

/* The pipeline's row: its name, its time and its own run. */
static int pipeline_row(struct ol *ol, sqlite3_stmt *s)
{
	char key[600];
	struct ol_run *run;

	ol->pipeline = strdup((const char *)sqlite3_column_text(s, 0));
	ol->created_ms = sqlite3_column_int64(s, 1);
	run = ol->pipeline && ol->ns ? run_add(ol) : NULL;
	if (!run || !(run->job = strdup(ol->pipeline)))
		return -ENOMEM;
	snprintf(key, sizeof(key), "cmffs:pipeline:%.400s:%lld", ol->pipeline,
		 (long long)ol->created_ms);
	name_uuid(key, run->run_id);
	run->start_ms = ol->created_ms;
	run->state = EXEC_COMPLETE;
	return 0;
}

/* An execution's row: its run. */
static int execution_row(struct ol *ol, sqlite3_stmt *s)
{
	const char *stage = (const char *)sqlite3_column_text(s, 1);
	const char *name = (const char *)sqlite3_column_text(s, 2);
	const char *uuid = (const char *)sqlite3_column_text(s, 3);
	struct ol_run *run = run_add(ol);
	char key[1200];

	if (!run || !(run->job = strdup(stage)))
		return -ENOMEM;
	run->id = sqlite3_column_int64(s, 0);
	run->state = sqlite3_column_int(s, 4);
	run->start_ms = sqlite3_column_int64(s, 5);
	run->end_ms = sqlite3_column_int64(s, 6);
	if (run->end_ms < run->start_ms)
		run->end_ms = run->start_ms;
	if (!first_uuid(uuid, run->run_id)) {
		snprintf(key, sizeof(key),
			 "cmffs:execution:%.400s/%.400s:%lld:%lld", stage, name,
			 (long long)run->id, (long long)run->start_ms);
		name_uuid(key, run->run_id);
	}
	return 0;
}

/* Does an artifact with @uri have bytes at the storage? */
static bool has_bytes(const char *uri)
{
	return hash_is_md5(uri) || manifest_is_oid(uri);
}

/* An event's row: a dataset of its execution, if it has bytes. */
static int event_row(struct ol *ol, sqlite3_stmt *s)
{
	const char *name = (const char *)sqlite3_column_text(s, 2);
	const char *uri = (const char *)sqlite3_column_text(s, 3);
	struct ol_io *io;

	if (!name || !has_bytes(uri))
		return 0;
	if (array_reserve(&ol->io, &ol->io_cap, ol->nio + 1,
			  sizeof(*ol->io)) < 0)
		return -ENOMEM;
	io = &ol->io[ol->nio];
	io->exec_id = sqlite3_column_int64(s, 0);
	io->output = sqlite3_column_int(s, 1) == 4;
	io->path = strndup(name, strcspn(name, ":"));
	io->version = strdup(uri);
	if (!io->path || !io->version) {
		free(io->path);
		free(io->version);
		return -ENOMEM;
	}
	ol->nio++;
	return 0;
}

static int load(struct model *m, int64_t id, struct ol *ol)
{
	int r = 0;

	store_lock(m->st);
	ol->ns = dataset_namespace(m->remote);
	if (!ol->ns)
		r = -ENOMEM;
	if (r == 0)
		r = each_row(m->st, sql_ol_pipeline, id, pipeline_row, ol);
	if (r == 0 && ol->nruns == 0)
		r = -ENOENT;
	if (r == 0)
		r = each_row(m->st, sql_ol_executions, id, execution_row, ol);
	if (r == 0)
		r = each_row(m->st, sql_ol_events, id, event_row, ol);
	store_unlock(m->st);
	return r;
}

/* Each run's datasets: the rows of ol->io (in execution id order). */
static void attach_io(struct ol *ol)
{
	size_t i, lo, hi, mid;

	for (i = 1; i < ol->nruns; i++) {
		struct ol_run *run = &ol->runs[i];

		lo = 0;
		hi = ol->nio;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (ol->io[mid].exec_id < run->id)
				lo = mid + 1;
			else
				hi = mid;
		}
		run->io_first = lo;
		while (lo < ol->nio && ol->io[lo].exec_id == run->id)
			lo++;
		run->io_n = lo - run->io_first;
	}
}

/* The end event of state @state, or NULL while it runs. */
static const char *end_type(int state)
{
	switch (state) {
	case EXEC_COMPLETE:
	case EXEC_CACHED:
		return "COMPLETE";
	case EXEC_FAILED:
		return "FAIL";
	case EXEC_CANCELED:
		return "ABORT";
	default:
		return NULL;
	}
}

static int event_add(struct ol *ol, size_t run, int64_t ms, const char *type)
{
	struct ol_event *e;

	if (array_reserve(&ol->ev, &ol->ev_cap, ol->nev + 1,
			  sizeof(*ol->ev)) < 0)
		return -ENOMEM;
	e = &ol->ev[ol->nev];
	e->ms = ms;
	e->seq = ol->nev++;
	e->run = run;
	e->type = type;
	return 0;
}

static int event_cmp(const void *a, const void *b)
{
	const struct ol_event *x = a, *y = b;

	if (x->ms != y->ms)
		return x->ms < y->ms ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The events of every run, in time order.  The pipeline's run starts
 * first and ends last; its end waits for every execution's.
 */
static int plan_events(struct ol *ol)
{
	struct ol_run *p = &ol->runs[0];
	bool running = false, failed = false, canceled = false;
	size_t i;
	int r;

	if (ol->nruns == 1)
		return 0;	/* no executions: no events */
	for (i = 1; i < ol->nruns; i++) {
		struct ol_run *run = &ol->runs[i];

		if (run->start_ms < p->start_ms)
			p->start_ms = run->start_ms;
		if (run->end_ms > p->end_ms)
			p->end_ms = run->end_ms;
		running |= !end_type(run->state);
		failed |= run->state == EXEC_FAILED;
		canceled |= run->state == EXEC_CANCELED;
	}
	p->state = running    ? EXEC_RUNNING
		   : failed   ? EXEC_FAILED
		   : canceled ? EXEC_CANCELED
			      : EXEC_COMPLETE;
	r = event_add(ol, 0, p->start_ms, "START");
	for (i = 1; r == 0 && i < ol->nruns; i++) {
		r = event_add(ol, i, ol->runs[i].start_ms, "START");
		if (r == 0 && end_type(ol->runs[i].state))
			r = event_add(ol, i, ol->runs[i].end_ms,
				      end_type(ol->runs[i].state));
	}
	if (r == 0 && end_type(p->state))
		r = event_add(ol, 0, p->end_ms, end_type(p->state));
	if (r == 0)
		qsort(ol->ev, ol->nev, sizeof(*ol->ev), event_cmp);
	return r;
}

/* --- JSON ---------------------------------------------------------------- */

/*
 * A JSON string of text from the store: as it is when it is UTF-8,
 * else escaped (sb.h's text_escape) so that it is.
 */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	char *safe;

	if (j)
		return j;
	safe = text_escape(s, SIZE_MAX);
	j = safe ? json_string(safe) : NULL;
	free(safe);
	return j;
}

/* "2024-05-01T12:00:00.123Z" for @ms milliseconds since the epoch. */
static json_t *jtime(int64_t ms)
{
	char buf[UTC_ISO_MAX];

	return utc_iso(ms, true, buf)[0] ? json_string(buf) : NULL;
}

/* A facet: _producer and _schemaURL, then what @fields has (taken). */
static json_t *facet(const char *schema, json_t *fields)
{
	json_t *f = json_pack("{s:s, s:s}", "_producer", PRODUCER,
			      "_schemaURL", schema);

	if (!f || !fields || json_object_update(f, fields) < 0) {
		json_decref(f);
		f = NULL;
	}
	json_decref(fields);
	return f;
}

static json_t *job(const struct ol *ol, const struct ol_run *run)
{
	return json_pack("{s:o, s:o}", "namespace", jstr(ol->pipeline),
			 "name", jstr(run->job));
}

static json_t *datasets(const struct ol *ol, const struct ol_run *run,
			bool output)
{
	json_t *list = json_array();
	size_t i;

	for (i = run->io_first; list && i < run->io_first + run->io_n; i++) {
		const struct ol_io *io = &ol->io[i];
		json_t *version, *d;

		if (io->output != output)
			continue;
		version = facet(VERSION_SCHEMA,
				json_pack("{s:o}", "datasetVersion",
					  jstr(io->version)));
		d = json_pack("{s:o, s:o, s:{s:o}}", "namespace", jstr(ol->ns),
			      "name", jstr(io->path), "facets", "version",
			      version);
		if (json_array_append_new(list, d) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return list;
}

static json_t *run_object(const struct ol *ol, const struct ol_run *run)
{
	json_t *parent;

	if (run == &ol->runs[0])
		return json_pack("{s:s}", "runId", run->run_id);
	parent = facet(PARENT_SCHEMA,
		       json_pack("{s:{s:s}, s:o}", "run", "runId",
				 ol->runs[0].run_id, "job",
				 job(ol, &ol->runs[0])));
	return json_pack("{s:s, s:{s:o}}", "runId", run->run_id, "facets",
			 "parent", parent);
}

/* One event as a line of @sb. */
static int write_event(const struct ol *ol, const struct ol_event *e,
		       struct sb *sb)
{
	const struct ol_run *run = &ol->runs[e->run];
	json_t *ev;
	char *text;

	ev = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:s}", "eventType",
		       e->type, "eventTime", jtime(e->ms), "run",
		       run_object(ol, run), "job", job(ol, run), "inputs",
		       datasets(ol, run, false), "outputs",
		       datasets(ol, run, true), "producer", PRODUCER,
		       "schemaURL", OPENLINEAGE_SCHEMA);
	text = ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(ev);
	if (!text)
		return -ENOMEM;
	sb_puts(sb, text);
	sb_putc(sb, '\n');
	free(text);
	return sb_err(sb);
}

/* The events of pipeline @id appended to @sb. */
static int pipeline_events(struct model *m, int64_t id, struct sb *sb)
{
	struct ol ol = { 0 };
	size_t i;
	int r;

	r = load(m, id, &ol);
	if (r == 0) {
		attach_io(&ol);
		r = plan_events(&ol);
	}
	for (i = 0; r == 0 && i < ol.nev; i++)
		r = write_event(&ol, &ol.ev[i], sb);
	ol_release(&ol);
	return r;
}

static int finish(struct sb *sb, int r, char **ret_text, size_t *ret_len)
{
	if (r == 0)
		r = sb_err(sb);
	if (r == 0) {
		*ret_text = sb_detach(sb, ret_len);
		r = *ret_text ? 0 : -ENOMEM;
	}
	sb_release(sb);
	return r;
}

int openlineage_pipeline(struct model *m, int64_t pipeline_id,
			 char **ret_text, size_t *ret_len)
{
	struct sb sb;

	sb_init(&sb, 0);
	return finish(&sb, pipeline_events(m, pipeline_id, &sb), ret_text,
		      ret_len);
}

struct export_ctx {
	struct model *m;
	struct sb *sb;
};

static int export_one(void *ud, const char *name, int64_t id)
{
	struct export_ctx *c = ud;

	(void)name;
	return pipeline_events(c->m, id, c->sb);
}

int openlineage_export(struct model *m, const char *name, char **ret_text,
		       size_t *ret_len)
{
	struct export_ctx c = { .m = m };
	struct sb sb;
	int64_t id;
	int r;

	sb_init(&sb, 0);
	c.sb = &sb;
	if (name) {
		r = model_pipeline_find(m, name, &id);
		if (r == 0)
			r = pipeline_events(m, id, &sb);
	} else {
		r = model_pipeline_list(m, export_one, &c);
	}
	return finish(&sb, r, ret_text, ret_len);
}
