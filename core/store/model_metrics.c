/* SPDX-License-Identifier: MIT */
/*
 * Execution state and execution metrics; see model.h.
 */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <uuid/uuid.h>

#include "array.h"
#include "model_i.h"
#include "pyrepr.h"

static const char *const state_names[] = {
	"UNKNOWN", "NEW", "RUNNING", "COMPLETE", "FAILED", "CACHED", "CANCELED",
};

STORE_SQL(sql_state_get,
	"SELECT `last_known_state` FROM `Execution` WHERE `id` = ?1");
STORE_SQL(sql_state_set,
	"UPDATE `Execution` SET `last_known_state` = ?2,"
	" `last_update_time_since_epoch` ="
	" max(?3, `last_update_time_since_epoch` + 1) WHERE `id` = ?1");
STORE_SQL(sql_metrics_names,
	"SELECT DISTINCT substr(a.`name`, 1, instr(a.`name`, ':') - 1), 0"
	" FROM `Event` ev JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"
	" JOIN `Type` t ON t.`id` = a.`type_id` WHERE ev.`execution_id` = ?1"
	" AND t.`name` = 'Metrics' AND instr(a.`name`, ':') > 1 ORDER BY 1");
STORE_SQL(sql_metrics_latest,
	"SELECT a.`id` FROM `Event` ev JOIN `Artifact` a"
	" ON a.`id` = ev.`artifact_id` JOIN `Type` t ON t.`id` = a.`type_id`"
	" WHERE ev.`execution_id` = ?1 AND t.`name` = 'Metrics'"
	" AND substr(a.`name`, 1, length(?2) + 1) = ?2 || ':'"
	" ORDER BY a.`id` DESC LIMIT 1");

static const struct mlmd_type_prop metrics_props[] = {
	{ "metrics_name", MLMD_PT_STRING },
};

const char *exec_state_name(int state)
{
	if (state < 0 || state > EXEC_CANCELED)
		return NULL;
	return state_names[state];
}

int exec_state_parse(const char *s, int *ret_state)
{
	int i;

	if (!strcasecmp(s, "completed") || !strcasecmp(s, "done"))
		s = "COMPLETE";
	else if (!strcasecmp(s, "cancelled"))
		s = "CANCELED";
	for (i = 0; i <= EXEC_CANCELED; i++)
		if (!strcasecmp(s, state_names[i])) {
			*ret_state = i;
			return 0;
		}
	return -EINVAL;
}

int model_execution_state(struct model *m, int64_t id, int *ret_state)
{
	sqlite3_stmt *s;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_state_get, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, id);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			*ret_state = sqlite3_column_type(s, 0) == SQLITE_NULL
					     ? -1
					     : sqlite3_column_int(s, 0);
		else
			r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
		store_stmt_done(s);
	}
	store_unlock(m->st);
	return r;
}

int model_execution_set_state(struct model *m, int64_t id, int state,
			      const char *git_end_commit)
{
	sqlite3_stmt *s;
	int r;

	if (!exec_state_name(state))
		return -EINVAL;
	r = store_write_begin(m->st);
	if (r < 0)
		goto out;
	r = store_stmt(m->st, sql_state_set, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int(s, 2, state);
		sqlite3_bind_int64(s, 3, store_now_ms());
		r = mlmd_step_done(s);
	}
	if (r == 0 && sqlite3_changes(store_db(m->st)) == 0)
		r = -ENOENT;
	if (r == 0 && git_end_commit)
		r = mlmd_prop_set_str(m->st, MLMD_EXECUTION, id,
				      "Git_End_Commit", false, git_end_commit);
	r = store_write_end(m->st, r);
out:
	return r;
}

int model_metrics_log(struct model *m, int64_t id, const char *name,
		      const struct metric *values, size_t n)
{
	struct exec_ctx ctx = { 0 };
	int64_t type_id, artifact, now = store_now_ms();
	char uuid[37], *full = NULL;
	uuid_t u;
	size_t i;
	int r;

	uuid_generate_time(u);
	uuid_unparse_lower(u, uuid);
	r = store_write_begin(m->st);
	if (r < 0)
		goto out_free;
	r = exec_ctx_load_locked(m, id, &ctx);
	if (r < 0)
		goto out;
	if (asprintf(&full, "%s:%s:%lld", name, uuid, (long long)id) < 0) {
		full = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = mlmd_type_ensure(m->st, MLMD_ARTIFACT_TYPE, "Metrics", metrics_props,
			     1, &type_id);
	if (r == 0)
		r = mlmd_artifact_insert(m->st, type_id, uuid, full, now,
					 &artifact);
	if (r == 0)
		r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, artifact,
				      "metrics_name", false, full);
	for (i = 0; r == 0 && i < n; i++)
		r = mlmd_prop_set(m->st, MLMD_ARTIFACT, artifact, values[i].key,
				  true, &values[i].v);
	if (r == 0)
		r = mlmd_event_insert(m->st, artifact, id, MLMD_EVENT_OUTPUT, now,
				      NULL);
	if (r == 0)
		r = mlmd_attribution_ensure(m->st, ctx.stage_id, artifact);
	if (r == 0)
		r = mlmd_touch(m->st, MLMD_EXECUTION, id, now);
out:
	r = store_write_end(m->st, r);
out_free:
	exec_ctx_release(&ctx);
	free(full);
	return r;
}

int model_metrics_list(struct model *m, int64_t id, model_name_cb cb,
		       void *ud)
{
	struct store_rows rows = NAME_ROWS_INIT;
	struct name_call call = { cb, ud };
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_metrics_names, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, id);
		r = store_rows_collect(&rows, s, name_row_copy, NULL);
	}
	store_unlock(m->st);
	return store_rows_each(&rows, r, name_row_call, &call);
}

int model_metrics_json(struct model *m, int64_t id, const char *name,
		       char **ret_text, size_t *ret_len)
{
	json_t *obj = NULL;
	sqlite3_stmt *s;
	int64_t artifact;
	char *text;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_metrics_latest, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	r = mlmd_step_int(s, &artifact);
	if (r < 0)
		goto out;
	r = mlmd_props_json(m->st, MLMD_ARTIFACT, artifact, true,
			    MLMD_VALUE_TYPED, &obj);
	if (r < 0)
		goto out;
	text = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				       JSON_REAL_PRECISION(17));
	if (!text || asprintf(ret_text, "%s\n", text) < 0) {
		free(text);
		r = -ENOMEM;
		goto out;
	}
	free(text);
	*ret_len = strlen(*ret_text);
out:
	store_unlock(m->st);
	json_decref(obj);
	return r;
}

/*
 * Type the top-level value @v of key @k into *mv as upstream stores it
 * (value_to_mlmd_value): an int (a bool too, as Python's int(bool)), a
 * double, a string, and an object or a list as Python's str() of it, then
 * owned by *ret_owned.  -EINVAL with an owned message in *ret_err for what
 * cannot be stored.
 */
static int metric_value(const char *k, json_t *v, struct metric *mv,
			char **ret_owned, char **ret_err)
{
	const char *why = NULL;
	int r = 0;

	mv->key = k;
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		mv->v.kind = VALUE_INT;
		mv->v.i = (int64_t)json_integer_value(v);
		break;
	case JSON_REAL:
		mv->v.kind = VALUE_DOUBLE;
		mv->v.d = json_real_value(v);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		mv->v.kind = VALUE_INT;
		mv->v.i = json_is_true(v);
		break;
	case JSON_STRING:
		mv->v.kind = VALUE_STRING;
		mv->v.s = json_string_value(v);
		if (memchr(mv->v.s, '\0', json_string_length(v)))
			why = "holds a NUL character";
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		mv->v.kind = VALUE_STRING;
		r = pyrepr_json_text(v, ret_owned, NULL);
		if (r == 0)
			mv->v.s = *ret_owned;
		else if (r == -EINVAL)
			why = "nests too deeply";
		break;
	case JSON_NULL:
		why = "is null";
		break;
	}
	if (why) {
		if (asprintf(ret_err, "the value of '%s' %s", k, why) < 0)
			*ret_err = NULL;
		r = -EINVAL;
	}
	return r;
}

int model_metrics_log_json(struct model *m, int64_t id, const char *name,
			   const char *text, size_t len, char **ret_err)
{
	struct metric *vals = NULL;
	char **owned = NULL;
	json_error_t jerr;
	json_t *obj, *v;
	const char *k;
	size_t n = 0, i;
	int r = 0;

	*ret_err = NULL;
	/* a repeated key: the last value wins, at the first key's place, as
	 * in json.loads(); "\u0000" in a key is refused by jansson, in a
	 * top-level string by metric_value() */
	obj = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
	if (!obj) {
		if (asprintf(ret_err, "invalid JSON at line %d, column %d: %s",
			     jerr.line, jerr.column, jerr.text) < 0)
			*ret_err = NULL;
		return -EINVAL;
	}
	if (!json_is_object(obj)) {
		*ret_err = strdup("expected one JSON object of metric names and values");
		r = -EINVAL;
		goto out;
	}
	vals = calloc(json_object_size(obj) + 1, sizeof(*vals));
	owned = calloc(json_object_size(obj) + 1, sizeof(*owned));
	if (!vals || !owned) {
		r = -ENOMEM;
		goto out;
	}
	json_object_foreach(obj, k, v) {
		r = metric_value(k, v, &vals[n], &owned[n], ret_err);
		if (r < 0)
			goto out;
		n++;
	}
	r = model_metrics_log(m, id, name, vals, n);
out:
	for (i = 0; owned && i < n; i++)
		free(owned[i]);
	free(owned);
	free(vals);
	json_decref(obj);
	return r;
}
