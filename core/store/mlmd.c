/* SPDX-License-Identifier: MIT */
/*
 * ML Metadata row operations; see mlmd.h.  All SQL of this module is in the
 * static strings below; property SQL exists once per property table.
 */
#include "mlmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

STORE_SQL(sql_type_find,
	"SELECT `id` FROM `Type` WHERE `name` = ?1 AND `version` IS NULL"
	" AND `type_kind` = ?2 ORDER BY `id` LIMIT 1");
STORE_SQL(sql_type_insert,
	"INSERT INTO `Type`(`name`, `version`, `type_kind`, `description`,"
	" `input_type`, `output_type`, `external_id`)"
	" VALUES (?1, NULL, ?2, NULL, NULL, NULL, NULL)");
STORE_SQL(sql_type_prop,
	"INSERT OR IGNORE INTO `TypeProperty`(`type_id`, `name`, `data_type`)"
	" VALUES (?1, ?2, ?3)");
STORE_SQL(sql_type_name, "SELECT `name` FROM `Type` WHERE `id` = ?1");
STORE_SQL(sql_artifact_type_name,
	"SELECT t.`name` FROM `Artifact` a JOIN `Type` t ON t.`id` = a.`type_id`"
	" WHERE a.`id` = ?1");

static const char *const sql_prop_set[_MLMD_NODE_MAX] = {
	"INSERT OR REPLACE INTO `ArtifactProperty`(`artifact_id`, `name`,"
	" `is_custom_property`, `int_value`, `double_value`, `string_value`)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	"INSERT OR REPLACE INTO `ExecutionProperty`(`execution_id`, `name`,"
	" `is_custom_property`, `int_value`, `double_value`, `string_value`)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	"INSERT OR REPLACE INTO `ContextProperty`(`context_id`, `name`,"
	" `is_custom_property`, `int_value`, `double_value`, `string_value`)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};
STORE_SQL_TABLE(sql_prop_set);
static const char *const sql_prop_get[_MLMD_NODE_MAX] = {
	"SELECT `int_value`, `double_value`, `string_value`, `bool_value`"
	" FROM `ArtifactProperty` WHERE `artifact_id` = ?1 AND `name` = ?2"
	" AND `is_custom_property` = ?3",
	"SELECT `int_value`, `double_value`, `string_value`, `bool_value`"
	" FROM `ExecutionProperty` WHERE `execution_id` = ?1 AND `name` = ?2"
	" AND `is_custom_property` = ?3",
	"SELECT `int_value`, `double_value`, `string_value`, `bool_value`"
	" FROM `ContextProperty` WHERE `context_id` = ?1 AND `name` = ?2"
	" AND `is_custom_property` = ?3",
};
STORE_SQL_TABLE(sql_prop_get);
static const char *const sql_prop_delete[_MLMD_NODE_MAX] = {
	"DELETE FROM `ArtifactProperty` WHERE `artifact_id` = ?1"
	" AND `name` = ?2 AND `is_custom_property` = ?3",
	"DELETE FROM `ExecutionProperty` WHERE `execution_id` = ?1"
	" AND `name` = ?2 AND `is_custom_property` = ?3",
	"DELETE FROM `ContextProperty` WHERE `context_id` = ?1"
	" AND `name` = ?2 AND `is_custom_property` = ?3",
};
STORE_SQL_TABLE(sql_prop_delete);
static const char *const sql_prop_rename[_MLMD_NODE_MAX] = {
	"UPDATE `ArtifactProperty` SET `name` = ?4 WHERE `artifact_id` = ?1"
	" AND `name` = ?2 AND `is_custom_property` = ?3",
	"UPDATE `ExecutionProperty` SET `name` = ?4 WHERE `execution_id` = ?1"
	" AND `name` = ?2 AND `is_custom_property` = ?3",
	"UPDATE `ContextProperty` SET `name` = ?4 WHERE `context_id` = ?1"
	" AND `name` = ?2 AND `is_custom_property` = ?3",
};
STORE_SQL_TABLE(sql_prop_rename);
/* name, then the four value columns mlmd_value_json() reads */
static const char *const sql_props_of[_MLMD_NODE_MAX] = {
	"SELECT `name`, `int_value`, `double_value`, `string_value`,"
	" `bool_value` FROM `ArtifactProperty` WHERE `artifact_id` = ?1"
	" AND `is_custom_property` = ?2 ORDER BY `name`",
	"SELECT `name`, `int_value`, `double_value`, `string_value`,"
	" `bool_value` FROM `ExecutionProperty` WHERE `execution_id` = ?1"
	" AND `is_custom_property` = ?2 ORDER BY `name`",
	"SELECT `name`, `int_value`, `double_value`, `string_value`,"
	" `bool_value` FROM `ContextProperty` WHERE `context_id` = ?1"
	" AND `is_custom_property` = ?2 ORDER BY `name`",
};
STORE_SQL_TABLE(sql_props_of);

static const char *const sql_touch[_MLMD_NODE_MAX] = {
	"UPDATE `Artifact` SET `last_update_time_since_epoch` = ?2"
	" WHERE `id` = ?1",
	/* an execution's version (syncstate.h) grows with every change,
	 * even within one millisecond */
	"UPDATE `Execution` SET `last_update_time_since_epoch` ="
	" max(?2, `last_update_time_since_epoch` + 1) WHERE `id` = ?1",
	"UPDATE `Context` SET `last_update_time_since_epoch` = ?2"
	" WHERE `id` = ?1",
};
STORE_SQL_TABLE(sql_touch);

STORE_SQL(sql_context_find,
	"SELECT `id` FROM `Context` WHERE `type_id` = ?1 AND `name` = ?2");
STORE_SQL(sql_context_insert,
	"INSERT INTO `Context`(`type_id`, `name`, `external_id`,"
	" `create_time_since_epoch`, `last_update_time_since_epoch`)"
	" VALUES (?1, ?2, NULL, ?3, ?3)");
STORE_SQL(sql_execution_insert,
	"INSERT INTO `Execution`(`type_id`, `last_known_state`, `name`,"
	" `external_id`, `create_time_since_epoch`,"
	" `last_update_time_since_epoch`) VALUES (?1, NULL, ?2, NULL, ?3, ?3)");
STORE_SQL(sql_artifact_insert,
	"INSERT INTO `Artifact`(`type_id`, `uri`, `state`, `name`,"
	" `external_id`, `create_time_since_epoch`,"
	" `last_update_time_since_epoch`) VALUES (?1, ?2, NULL, ?3, NULL, ?4, ?4)");
STORE_SQL(sql_event_insert,
	"INSERT INTO `Event`(`artifact_id`, `execution_id`, `type`,"
	" `milliseconds_since_epoch`) VALUES (?1, ?2, ?3, ?4)");
STORE_SQL(sql_event_path_insert,
	"INSERT INTO `EventPath`(`event_id`, `is_index_step`, `step_index`,"
	" `step_key`) VALUES (?1, 0, NULL, ?2)");
STORE_SQL(sql_attribution,
	"INSERT OR IGNORE INTO `Attribution`(`context_id`, `artifact_id`)"
	" VALUES (?1, ?2)");
STORE_SQL(sql_association,
	"INSERT OR IGNORE INTO `Association`(`context_id`, `execution_id`)"
	" VALUES (?1, ?2)");
STORE_SQL(sql_parent_context,
	"INSERT OR IGNORE INTO `ParentContext`(`context_id`,"
	" `parent_context_id`) VALUES (?1, ?2)");

/* Step a statement expected to finish without rows; map the result. */
int mlmd_step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	store_stmt_done(s);
	if (rc == SQLITE_DONE)
		return 0;
	return store_errno(rc);
}

/* Step a query returning one integer; -ENOENT when no row. */
int mlmd_step_int(sqlite3_stmt *s, int64_t *ret)
{
	int rc = sqlite3_step(s);
	int r;

	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(s, 0);
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		r = store_errno(rc);
	}
	store_stmt_done(s);
	return r;
}

int mlmd_type_find(struct store *st, enum mlmd_kind kind, const char *name,
		   int64_t *ret_id)
{
	sqlite3_stmt *s;
	int r = store_stmt(st, sql_type_find, &s);

	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)kind);
	return mlmd_step_int(s, ret_id);
}

int mlmd_type_ensure(struct store *st, enum mlmd_kind kind, const char *name,
		     const struct mlmd_type_prop *props, size_t nprops,
		     int64_t *ret_id)
{
	sqlite3_stmt *s;
	int64_t id;
	size_t i;
	int r;

	r = mlmd_type_find(st, kind, name, &id);
	if (r == -ENOENT) {
		r = store_stmt(st, sql_type_insert, &s);
		if (r < 0)
			return r;
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, (int)kind);
		r = mlmd_step_done(s);
		if (r < 0)
			return r;
		id = sqlite3_last_insert_rowid(store_db(st));
	}
	if (r < 0)
		return r;
	for (i = 0; i < nprops; i++) {
		r = store_stmt(st, sql_type_prop, &s);
		if (r < 0)
			return r;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, props[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, (int)props[i].type);
		r = mlmd_step_done(s);
		if (r < 0)
			return r;
	}
	*ret_id = id;
	return 0;
}

static int query_name(struct store *st, const char *sql, int64_t id,
		      char **ret_name)
{
	sqlite3_stmt *s;
	int rc, r = store_stmt(st, sql, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		*ret_name = strdup(t ? t : "");
		r = *ret_name ? 0 : -ENOMEM;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	store_stmt_done(s);
	return r;
}

int mlmd_type_name(struct store *st, int64_t type_id, char **ret_name)
{
	return query_name(st, sql_type_name, type_id, ret_name);
}

int mlmd_artifact_type_name(struct store *st, int64_t artifact_id,
			    char **ret_name)
{
	return query_name(st, sql_artifact_type_name, artifact_id, ret_name);
}

int mlmd_prop_set(struct store *st, enum mlmd_node node, int64_t id,
		  const char *name, bool custom, const struct value *v)
{
	sqlite3_stmt *s;
	int r = store_stmt(st, sql_prop_set[node], &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, custom ? 1 : 0);
	switch (v->kind) {
	case VALUE_INT:
		sqlite3_bind_int64(s, 4, v->i);
		break;
	case VALUE_DOUBLE:
		sqlite3_bind_double(s, 5, v->d);
		break;
	case VALUE_STRING:
		sqlite3_bind_text(s, 6, v->s, -1, SQLITE_STATIC);
		break;
	}
	return mlmd_step_done(s);
}

int mlmd_prop_set_str(struct store *st, enum mlmd_node node, int64_t id,
		      const char *name, bool custom, const char *str)
{
	struct value v = { .kind = VALUE_STRING, .s = str ? str : "" };

	return mlmd_prop_set(st, node, id, name, custom, &v);
}

int mlmd_prop_set_int(struct store *st, enum mlmd_node node, int64_t id,
		      const char *name, bool custom, int64_t i)
{
	struct value v = { .kind = VALUE_INT, .i = i };

	return mlmd_prop_set(st, node, id, name, custom, &v);
}

/* Shortest text that reads back as the same double. */
static char *format_double(double d)
{
	char *text = NULL;
	int prec;

	for (prec = 15; prec <= 17; prec++) {
		free(text);
		if (asprintf(&text, "%.*g", prec, d) < 0)
			return NULL;
		if (strtod(text, NULL) == d)
			break;
	}
	return text;
}

char *mlmd_value_text(sqlite3_stmt *s, int col)
{
	char *text = NULL;

	/* MLMD reads the first non-NULL of int, double, string, bool */
	if (sqlite3_column_type(s, col) != SQLITE_NULL) {
		if (asprintf(&text, "%lld",
			     (long long)sqlite3_column_int64(s, col)) < 0)
			text = NULL;
	} else if (sqlite3_column_type(s, col + 1) != SQLITE_NULL) {
		text = format_double(sqlite3_column_double(s, col + 1));
	} else if (sqlite3_column_type(s, col + 2) != SQLITE_NULL) {
		text = strdup((const char *)sqlite3_column_text(s, col + 2));
	} else if (sqlite3_column_type(s, col + 3) != SQLITE_NULL) {
		text = strdup(sqlite3_column_int(s, col + 3) ? "true"
							    : "false");
	} else {
		text = strdup("");
	}
	return text;
}

int mlmd_prop_get_text(struct store *st, enum mlmd_node node, int64_t id,
		       const char *name, bool custom, char **ret_text)
{
	sqlite3_stmt *s;
	char *text = NULL;
	int rc, r = store_stmt(st, sql_prop_get[node], &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, custom ? 1 : 0);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
		goto out;
	}
	text = mlmd_value_text(s, 0);
	r = text ? 0 : -ENOMEM;
	if (r == 0)
		*ret_text = text;
out:
	store_stmt_done(s);
	return r;
}

int mlmd_prop_delete(struct store *st, enum mlmd_node node, int64_t id,
		     const char *name, bool custom)
{
	sqlite3_stmt *s;
	int r = store_stmt(st, sql_prop_delete[node], &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, custom ? 1 : 0);
	r = mlmd_step_done(s);
	if (r == 0 && sqlite3_changes(store_db(st)) == 0)
		r = -ENOENT;
	return r;
}

int mlmd_prop_rename(struct store *st, enum mlmd_node node, int64_t id,
		     const char *from, const char *to, bool custom)
{
	sqlite3_stmt *s;
	int r;

	if (!strcmp(from, to))
		return 0;	/* deleting "to" would delete "from" */
	r = mlmd_prop_delete(st, node, id, to, custom);
	if (r < 0 && r != -ENOENT)
		return r;
	r = store_stmt(st, sql_prop_rename[node], &s);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, custom ? 1 : 0);
	sqlite3_bind_text(s, 4, to, -1, SQLITE_STATIC);
	r = mlmd_step_done(s);
	if (r == 0 && sqlite3_changes(store_db(st)) == 0)
		r = -ENOENT;
	return r;
}

json_t *mlmd_value_json(sqlite3_stmt *s, int col, enum mlmd_value_style style)
{
	const int i = col, d = col + 1, t = col + 2, b = col + 3;
	json_t *v;

	if (style == MLMD_VALUE_CMFQUERY) {
		if (sqlite3_column_type(s, t) != SQLITE_NULL)
			return json_string((const char *)sqlite3_column_text(s, t));
		if (sqlite3_column_type(s, i) != SQLITE_NULL)
			return json_integer(sqlite3_column_int64(s, i));
		if (sqlite3_column_type(s, d) != SQLITE_NULL)
			return json_real(sqlite3_column_double(s, d));
		return json_real(0.0);
	}
	if (sqlite3_column_type(s, i) != SQLITE_NULL)
		return json_integer(sqlite3_column_int64(s, i));
	if (sqlite3_column_type(s, d) != SQLITE_NULL)
		return json_real(sqlite3_column_double(s, d));
	if (sqlite3_column_type(s, t) != SQLITE_NULL) {
		v = json_string((const char *)sqlite3_column_text(s, t));
		return v ? v : json_null();
	}
	if (sqlite3_column_type(s, b) != SQLITE_NULL)
		return json_boolean(sqlite3_column_int(s, b));
	return json_null();
}

int mlmd_props_json(struct store *st, enum mlmd_node node, int64_t id,
		    bool custom, enum mlmd_value_style style, json_t **ret_obj)
{
	json_t *obj = json_object();
	sqlite3_stmt *s;
	int rc, r;

	if (!obj)
		return -ENOMEM;
	r = store_stmt(st, sql_props_of[node], &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, custom ? 1 : 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		json_t *v = mlmd_value_json(s, 1, style);

		if (!v || !k || json_object_set_new(obj, k, v) < 0) {
			r = -ENOMEM;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
out:
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

int mlmd_touch(struct store *st, enum mlmd_node node, int64_t id,
	       int64_t now_ms)
{
	return store_run_locked(st, sql_touch[node], "ii", id, now_ms);
}

int mlmd_context_find(struct store *st, int64_t type_id, const char *name,
		      int64_t *ret_id)
{
	sqlite3_stmt *s;
	int r = store_stmt(st, sql_context_find, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, type_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	return mlmd_step_int(s, ret_id);
}

static int insert_node(struct store *st, sqlite3_stmt *s, int64_t *ret_id)
{
	int r = mlmd_step_done(s);

	if (r == 0)
		*ret_id = sqlite3_last_insert_rowid(store_db(st));
	return r;
}

int mlmd_context_insert(struct store *st, int64_t type_id, const char *name,
			int64_t now_ms, int64_t *ret_id)
{
	sqlite3_stmt *s;
	int r = store_stmt(st, sql_context_insert, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, type_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now_ms);
	return insert_node(st, s, ret_id);
}

int mlmd_execution_insert(struct store *st, int64_t type_id, const char *name,
			  int64_t now_ms, int64_t *ret_id)
{
	sqlite3_stmt *s;
	int r = store_stmt(st, sql_execution_insert, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, type_id);
	if (name)
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now_ms);
	return insert_node(st, s, ret_id);
}

int mlmd_artifact_insert(struct store *st, int64_t type_id, const char *uri,
			 const char *name, int64_t now_ms, int64_t *ret_id)
{
	sqlite3_stmt *s;
	int r = store_stmt(st, sql_artifact_insert, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, type_id);
	sqlite3_bind_text(s, 2, uri ? uri : "", -1, SQLITE_STATIC);
	if (name)
		sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now_ms);
	return insert_node(st, s, ret_id);
}

int mlmd_event_insert(struct store *st, int64_t artifact_id,
		      int64_t execution_id, int type, int64_t ms,
		      const char *path_key)
{
	sqlite3_stmt *s;
	int64_t event_id = 0;
	int r = store_stmt(st, sql_event_insert, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, artifact_id);
	sqlite3_bind_int64(s, 2, execution_id);
	sqlite3_bind_int(s, 3, type);
	sqlite3_bind_int64(s, 4, ms);
	r = insert_node(st, s, &event_id);
	if (r < 0 || !path_key)
		return r;
	r = store_stmt(st, sql_event_path_insert, &s);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, event_id);
	sqlite3_bind_text(s, 2, path_key, -1, SQLITE_STATIC);
	return mlmd_step_done(s);
}

static int insert_pair(struct store *st, const char *sql, int64_t a, int64_t b)
{
	return store_run_locked(st, sql, "ii", a, b);
}

int mlmd_attribution_ensure(struct store *st, int64_t context_id,
			    int64_t artifact_id)
{
	return insert_pair(st, sql_attribution, context_id, artifact_id);
}

int mlmd_association_ensure(struct store *st, int64_t context_id,
			    int64_t execution_id)
{
	return insert_pair(st, sql_association, context_id, execution_id);
}

int mlmd_parent_context_ensure(struct store *st, int64_t child_id,
			       int64_t parent_id)
{
	return insert_pair(st, sql_parent_context, child_id, parent_id);
}
