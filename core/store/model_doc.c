/* SPDX-License-Identifier: MIT */
/*
 * Documents built from the store: an execution's record (execution.json)
 * and the status summary.  JSON through jansson; property values keep their
 * MLMD types (int, double, string).
 */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model_i.h"

STORE_SQL(sql_exec_row,
	"SELECT e.`id`, ifnull(e.`name`, ''), t.`name`, e.`last_known_state`,"
	" e.`create_time_since_epoch`, e.`last_update_time_since_epoch`"
	" FROM `Execution` e JOIN `Type` t ON t.`id` = e.`type_id`"
	" WHERE e.`id` = ?1");
STORE_SQL(sql_exec_events,
	"SELECT ev.`type`, ev.`milliseconds_since_epoch`, a.`id`, t.`name`,"
	" ifnull(a.`name`, ''), ifnull(a.`uri`, ''),"
	" a.`create_time_since_epoch`, a.`last_update_time_since_epoch`,"
	" (SELECT group_concat(p.`step_key`, '/') FROM `EventPath` p"
	"  WHERE p.`event_id` = ev.`id` AND p.`is_index_step` = 0)"
	" FROM `Event` ev JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"
	" JOIN `Type` t ON t.`id` = a.`type_id` WHERE ev.`execution_id` = ?1"
	" ORDER BY ev.`id`");
STORE_SQL(sql_counts,
	"SELECT (SELECT count(*) FROM `Context` c JOIN `Type` t ON"
	" t.`id` = c.`type_id` WHERE t.`name` = 'Parent_Context'),"
	" (SELECT count(*) FROM `Context` c JOIN `Type` t ON"
	" t.`id` = c.`type_id` WHERE t.`name` = 'Pipeline_Stage'),"
	" (SELECT count(*) FROM `Execution`), (SELECT count(*) FROM `Artifact`),"
	" (SELECT count(*) FROM `Event`),"
	" (SELECT count(*) FROM cmffs_entry WHERE is_dir = 0)");

/* Object of the (custom) properties of node @id; NULL on error. */
static json_t *props_json(struct store *st, enum mlmd_node node, int64_t id,
			  bool custom)
{
	json_t *obj;

	if (mlmd_props_json(st, node, id, custom, MLMD_VALUE_TYPED, &obj) < 0)
		return NULL;
	return obj;
}

static json_t *events_json(struct store *st, int64_t execution_id)
{
	sqlite3_stmt *s;
	json_t *arr = json_array();
	int rc;

	if (!arr || store_stmt(st, sql_exec_events, &s) < 0) {
		json_decref(arr);
		return NULL;
	}
	sqlite3_bind_int64(s, 1, execution_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int type = sqlite3_column_int(s, 0);
		int64_t aid = sqlite3_column_int64(s, 2);
		const char *path = (const char *)sqlite3_column_text(s, 8);
		json_t *art, *ev;

		art = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I}", "id",
				(json_int_t)aid, "type",
				(const char *)sqlite3_column_text(s, 3), "name",
				(const char *)sqlite3_column_text(s, 4), "uri",
				(const char *)sqlite3_column_text(s, 5),
				"create_time_since_epoch",
				(json_int_t)sqlite3_column_int64(s, 6),
				"last_update_time_since_epoch",
				(json_int_t)sqlite3_column_int64(s, 7));
		ev = json_pack("{s:i, s:s}", "type", type, "direction",
			       type == 3 ? "INPUT" : type == 4 ? "OUTPUT"
							       : "OTHER");
		if (!art || !ev) {
			json_decref(art);
			json_decref(ev);
			rc = SQLITE_NOMEM;
			break;
		}
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			json_object_set_new(ev, "milliseconds_since_epoch",
					    json_integer(sqlite3_column_int64(s, 1)));
		if (path)
			json_object_set_new(ev, "path", json_string(path));
		/* props of the artifact need the statement slot free: defer */
		json_object_set_new(ev, "artifact", art);
		json_array_append_new(arr, ev);
	}
	store_stmt_done(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

int model_execution_json(struct model *m, int64_t id, char **ret_text,
			 size_t *ret_len)
{
	json_t *doc = NULL, *events = NULL, *ev;
	sqlite3_stmt *s;
	size_t i;
	char *text;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_exec_row, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int state = sqlite3_column_type(s, 3) == SQLITE_NULL
				    ? -1
				    : sqlite3_column_int(s, 3);

		doc = json_pack("{s:I, s:s, s:s, s:I, s:I}", "id",
				(json_int_t)sqlite3_column_int64(s, 0), "name",
				(const char *)sqlite3_column_text(s, 1), "type",
				(const char *)sqlite3_column_text(s, 2),
				"create_time_since_epoch",
				(json_int_t)sqlite3_column_int64(s, 4),
				"last_update_time_since_epoch",
				(json_int_t)sqlite3_column_int64(s, 5));
		if (doc && exec_state_name(state))
			json_object_set_new(doc, "last_known_state",
					    json_string(exec_state_name(state)));
	}
	store_stmt_done(s);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
		goto out;
	}
	if (!doc) {
		r = -ENOMEM;
		goto out;
	}
	events = events_json(m->st, id);
	if (!events ||
	    json_object_set_new(doc, "properties",
				props_json(m->st, MLMD_EXECUTION, id, false)) < 0 ||
	    json_object_set_new(doc, "custom_properties",
				props_json(m->st, MLMD_EXECUTION, id, true)) < 0) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(events, i, ev) {
		json_t *art = json_object_get(ev, "artifact");
		int64_t aid = json_integer_value(json_object_get(art, "id"));

		if (json_object_set_new(art, "properties",
					props_json(m->st, MLMD_ARTIFACT, aid, false)) < 0 ||
		    json_object_set_new(art, "custom_properties",
					props_json(m->st, MLMD_ARTIFACT, aid, true)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	json_object_set(doc, "events", events);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	*ret_len = strlen(text);
	/* a text file ends with a newline */
	{
		char *t = realloc(text, *ret_len + 2);

		if (!t) {
			free(text);
			r = -ENOMEM;
			goto out;
		}
		t[(*ret_len)++] = '\n';
		t[*ret_len] = '\0';
		*ret_text = t;
	}
out:
	store_unlock(m->st);
	json_decref(events);
	json_decref(doc);
	return r;
}

int model_status_text(struct model *m, char **ret_text, size_t *ret_len)
{
	sqlite3_stmt *s;
	int64_t c[6] = { 0 };
	int rc, r, i, n;

	store_lock(m->st);
	r = store_stmt(m->st, sql_counts, &s);
	if (r < 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		for (i = 0; i < 6; i++)
			c[i] = sqlite3_column_int64(s, i);
	else
		r = store_errno(rc);
	store_stmt_done(s);
	if (r < 0)
		goto out;
	n = asprintf(ret_text,
		     "pipelines: %lld\nstages: %lld\nexecutions: %lld\n"
		     "artifacts: %lld\nevents: %lld\nfiles: %lld\n"
		     "remote: %s\n",
		     (long long)c[0], (long long)c[1], (long long)c[2],
		     (long long)c[3], (long long)c[4], (long long)c[5],
		     m->remote ? m->remote : "(none configured)");
	if (n < 0)
		r = -ENOMEM;
	else
		*ret_len = (size_t)n;
out:
	store_unlock(m->st);
	return r;
}
