/* SPDX-License-Identifier: MIT */
/* The CMF JSON document: export; see document.h. */
#include "document.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "array.h"
#include "model_i.h"

STORE_SQL(sql_pipeline,
	"SELECT c.`id` FROM `Context` c JOIN `Type` t ON t.`id` = c.`type_id`"
	" WHERE t.`name` = 'Parent_Context' AND t.`type_kind` = 2"
	" AND c.`name` = ?1");
STORE_SQL(sql_context,
	"SELECT c.`id`, c.`name`, c.`type_id`, t.`name`,"
	" c.`create_time_since_epoch`, c.`last_update_time_since_epoch`"
	" FROM `Context` c JOIN `Type` t ON t.`id` = c.`type_id`"
	" WHERE c.`id` = ?1");
STORE_SQL(sql_stages,
	"SELECT `context_id` FROM `ParentContext` WHERE `parent_context_id` = ?1"
	" ORDER BY `context_id`");
/* newest first, as upstream's dumptojson lists them (MLMD's
 * get_executions_by_context: create time, descending) */
STORE_SQL(sql_executions,
	"SELECT x.`execution_id` FROM `Association` x JOIN `Execution` e"
	" ON e.`id` = x.`execution_id` WHERE x.`context_id` = ?1"
	" ORDER BY e.`create_time_since_epoch` DESC, e.`id` DESC");
STORE_SQL(sql_execution,
	"SELECT e.`id`, ifnull(e.`name`, ''), e.`type_id`, t.`name`,"
	" e.`create_time_since_epoch`, e.`last_update_time_since_epoch`"
	" FROM `Execution` e JOIN `Type` t ON t.`id` = e.`type_id`"
	" WHERE e.`id` = ?1");
STORE_SQL(sql_events,
	"SELECT `type`, `artifact_id` FROM `Event` WHERE `execution_id` = ?1"
	" ORDER BY `id`");
STORE_SQL(sql_artifact,
	"SELECT a.`id`, ifnull(a.`name`, ''), a.`type_id`, t.`name`,"
	" a.`create_time_since_epoch`, a.`last_update_time_since_epoch`,"
	" ifnull(a.`uri`, '') FROM `Artifact` a JOIN `Type` t"
	" ON t.`id` = a.`type_id` WHERE a.`id` = ?1");

/* A list of ids from a query bound to @id; *ret owned. */
static int id_list(struct store *st, const char *sql, int64_t id,
		   int64_t **ret, size_t *ret_n)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s;
	int rc, r = store_stmt(st, sql, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (array_reserve(&ids, &cap, n + 1,
				  sizeof(*ids)) < 0) {
			r = -ENOMEM;
			break;
		}
		ids[n++] = sqlite3_column_int64(s, 0);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
	if (r < 0) {
		free(ids);
		return r;
	}
	*ret = ids;
	*ret_n = n;
	return 0;
}

/* properties or custom_properties of a node, as upstream's _copy() */
static json_t *props(struct store *st, enum mlmd_node node, int64_t id,
		     int custom)
{
	json_t *obj;

	if (mlmd_props_json(st, node, id, custom, MLMD_VALUE_CMFQUERY,
			    &obj) < 0)
		return NULL;
	return obj;
}

/*
 * The common attributes of a node row (id, name, type_id, type name,
 * create, update[, uri]) from statement @sql, into a new object.
 */
static json_t *node(struct store *st, const char *sql, enum mlmd_node kind,
		    int64_t id, bool name_always)
{
	json_t *o = NULL, *p = NULL, *cp = NULL;
	sqlite3_stmt *s;
	int rc;

	if (store_stmt(st, sql, &s) < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 1);

		o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "type",
			      (const char *)sqlite3_column_text(s, 3),
			      "create_time_since_epoch",
			      (json_int_t)sqlite3_column_int64(s, 4), "id",
			      (json_int_t)sqlite3_column_int64(s, 0),
			      "last_update_time_since_epoch",
			      (json_int_t)sqlite3_column_int64(s, 5), "type_id",
			      (json_int_t)sqlite3_column_int64(s, 2));
		if (o && (name_always || (name && name[0])))
			json_object_set_new(o, "name", json_string(name ? name : ""));
		if (o && kind == MLMD_ARTIFACT &&
		    sqlite3_column_text(s, 6)[0])
			json_object_set_new(o, "uri",
					    json_string((const char *)sqlite3_column_text(s, 6)));
	}
	store_stmt_done(s);
	if (!o)
		return NULL;
	p = props(st, kind, id, 0);
	cp = props(st, kind, id, 1);
	if (!p || !cp || json_object_set_new(o, "properties", p) < 0 ||
	    json_object_set_new(o, "custom_properties", cp) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * What to put in a document: all executions, or those in @ids; their
 * events but those in @omit.
 */
struct doc_ctx {
	struct store *st;
	const int64_t *ids;	/* sorted; NULL: all */
	size_t n;
	const struct document_event *omit;	/* sorted */
	size_t nomit;
};

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_event(const void *a, const void *b)
{
	const struct document_event *x = a, *y = b;

	if (x->execution_id != y->execution_id)
		return x->execution_id < y->execution_id ? -1 : 1;
	return cmp_id(&x->artifact_id, &y->artifact_id);
}

static bool wanted(const struct doc_ctx *d, int64_t id)
{
	return !d->ids || bsearch(&id, d->ids, d->n, sizeof(id), cmp_id);
}

static bool omitted(const struct doc_ctx *d, int64_t exec, int64_t artifact)
{
	struct document_event key = { exec, artifact };

	return d->nomit && bsearch(&key, d->omit, d->nomit, sizeof(key),
				   cmp_event);
}

static json_t *execution_doc(const struct doc_ctx *d, int64_t id)
{
	struct store *st = d->st;
	json_t *e = node(st, sql_execution, MLMD_EXECUTION, id, true);
	json_t *events = json_array();
	int64_t *ids = NULL;
	sqlite3_stmt *s;
	size_t n = 0, i;
	int *types = NULL;
	int rc;

	if (!e || !events)
		goto fail;
	if (id_list(st, sql_events, id, &ids, &n) < 0)
		goto fail;
	/* event types: a second pass keeps id_list simple */
	types = calloc(n ? n : 1, sizeof(*types));
	if (!types || store_stmt(st, sql_events, &s) < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	for (i = 0; i < n && (rc = sqlite3_step(s)) == SQLITE_ROW; i++) {
		types[i] = sqlite3_column_int(s, 0);
		ids[i] = sqlite3_column_int64(s, 1);
	}
	store_stmt_done(s);
	for (i = 0; i < n; i++) {
		json_t *a, *ev;

		if (omitted(d, id, ids[i]))
			continue;
		a = node(st, sql_artifact, MLMD_ARTIFACT, ids[i], true);
		ev = a ? json_pack("{s:i, s:o}", "type", types[i], "artifact",
				   a)
		       : NULL;
		if (!ev || json_array_append_new(events, ev) < 0)
			goto fail;
	}
	if (json_object_set_new(e, "events", events) < 0) {
		events = NULL;
		goto fail;
	}
	free(ids);
	free(types);
	return e;
fail:
	free(ids);
	free(types);
	json_decref(events);
	json_decref(e);
	return NULL;
}

/*
 * A context with its children under @key, built by @child (which returns
 * NULL with errno-like *skip set when the child is filtered out).
 */
static json_t *context_doc(const struct doc_ctx *d, int64_t id,
			   const char *sql, const char *key,
			   json_t *(*child)(const struct doc_ctx *, int64_t,
					    bool *))
{
	struct store *st = d->st;
	json_t *c = node(st, sql_context, MLMD_CONTEXT, id, true);
	json_t *arr = json_array();
	int64_t *ids = NULL;
	size_t n = 0, i;

	if (!c || !arr || id_list(st, sql, id, &ids, &n) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		bool skip = false;
		json_t *x = child(d, ids[i], &skip);

		if (skip)
			continue;
		if (!x || json_array_append_new(arr, x) < 0)
			goto fail;
	}
	free(ids);
	if (json_object_set_new(c, key, arr) < 0)
		goto fail_c;
	return c;
fail:
	free(ids);
	json_decref(arr);
fail_c:
	json_decref(c);
	return NULL;
}

static json_t *execution_child(const struct doc_ctx *d, int64_t id,
				bool *skip)
{
	*skip = !wanted(d, id);
	return *skip ? NULL : execution_doc(d, id);
}

static json_t *stage_child(const struct doc_ctx *d, int64_t id, bool *skip)
{
	json_t *s = context_doc(d, id, sql_executions, "executions",
				execution_child);

	/* a partial document carries only stages with chosen executions */
	if (s && d->ids && !json_array_size(json_object_get(s, "executions"))) {
		json_decref(s);
		*skip = true;
		return NULL;
	}
	return s;
}

int document_export(struct model *m, const char *pipeline, unsigned flags,
		    char **ret_text, size_t *ret_len)
{
	return document_export_executions(m, pipeline, NULL, 0, NULL, 0, flags,
					  ret_text, ret_len);
}

int document_export_executions(struct model *m, const char *pipeline,
			       const int64_t *ids, size_t nids,
			       const struct document_event *omit,
			       size_t nomit, unsigned flags, char **ret_text,
			       size_t *ret_len)
{
	struct doc_ctx d = { .st = m->st };
	struct document_event *omit_sorted = NULL;
	int64_t *sorted = NULL;
	json_t *doc = NULL, *p = NULL;
	sqlite3_stmt *s;
	int64_t id;
	char *text;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_pipeline, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_text(s, 1, pipeline, -1, SQLITE_STATIC);
	r = mlmd_step_int(s, &id);
	if (r < 0)
		goto out;
	if (ids) {
		sorted = calloc(nids ? nids : 1, sizeof(*sorted));
		if (!sorted) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(sorted, ids, nids * sizeof(*ids));
		qsort(sorted, nids, sizeof(*sorted), cmp_id);
		d.ids = sorted;
		d.n = nids;
	}
	if (nomit) {
		omit_sorted = calloc(nomit, sizeof(*omit_sorted));
		if (!omit_sorted) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(omit_sorted, omit, nomit * sizeof(*omit));
		qsort(omit_sorted, nomit, sizeof(*omit_sorted), cmp_event);
		d.omit = omit_sorted;
		d.nomit = nomit;
	}
	p = context_doc(&d, id, sql_stages, "stages", stage_child);
	doc = p ? json_pack("{s:[o]}", "Pipeline", p) : NULL;
	if (!doc) {
		r = -ENOMEM;
		goto out;
	}
	text = json_dumps(doc, JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER |
				       ((flags & DOCUMENT_INDENT) ? JSON_INDENT(2) : 0));
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	*ret_text = text;
	*ret_len = strlen(text);
out:
	store_unlock(m->st);
	json_decref(doc);
	free(sorted);
	free(omit_sorted);
	return r;
}
