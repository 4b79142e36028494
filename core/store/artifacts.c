/* SPDX-License-Identifier: MIT */
/* Artifact views; see artifacts.h. */
#include "artifacts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "array.h"
#include "model_i.h"

#define WITH_BYTES "length(a.`uri`) IN (32, 36)"

STORE_SQL(sql_hash_dirs,
	"SELECT DISTINCT substr(a.`uri`, 1, 2), 0 FROM `Artifact` a WHERE "
	WITH_BYTES " ORDER BY 1");
STORE_SQL(sql_in_hash_dir,
	"SELECT substr(a.`uri`, 3), min(a.`id`) FROM `Artifact` a"
	" WHERE substr(a.`uri`, 1, 2) = ?1 AND " WITH_BYTES
	" GROUP BY a.`uri` ORDER BY 1");
STORE_SQL(sql_find_uri,
	"SELECT min(`id`) FROM `Artifact` WHERE `uri` = ?1 HAVING count(*) > 0");
STORE_SQL(sql_types,
	"SELECT DISTINCT t.`name`, 0 FROM `Artifact` a JOIN `Type` t"
	" ON t.`id` = a.`type_id` ORDER BY 1");
STORE_SQL(sql_names,
	"SELECT a.`name`, a.`id` FROM `Artifact` a JOIN `Type` t"
	" ON t.`id` = a.`type_id` WHERE (?1 IS NULL OR t.`name` = ?1)"
	" AND a.`name` IS NOT NULL AND substr(a.`name`, 1, length(?2)) = ?2"
	" ORDER BY a.`name`");
STORE_SQL(sql_info,
	"SELECT ifnull(a.`uri`, ''), (SELECT max(x.size) FROM cmffs_entry x"
	" WHERE x.md5 = a.`uri`), a.`create_time_since_epoch` FROM `Artifact` a"
	" WHERE a.`id` = ?1");
STORE_SQL(sql_record,
	"SELECT t.`name`, ifnull(a.`name`, ''), ifnull(a.`uri`, ''),"
	" a.`create_time_since_epoch` FROM `Artifact` a JOIN `Type` t"
	" ON t.`id` = a.`type_id` WHERE a.`id` = ?1");

/*
 * Can @name be one entry of a view directory?  Not "", ".", ".." (the
 * directory itself and its parent, listed once by the adapter) nor with a
 * '/'.  Names written by other programs into the store may be any of these.
 */
static bool view_name_ok(const char *name)
{
	return name[0] && strcmp(name, ".") && strcmp(name, "..") &&
	       !strchr(name, '/');
}

/* the names a view lists as they are */
static const struct name_rule view_names = { .keep = view_name_ok };

/*
 * Run @sql with up to two text parameters (@a2 NULL binds "") and hand
 * its (name, id) rows, @rule applied, to @call (rows.h: collect, then
 * call).
 */
static int rows_then_call(struct model *m, const char *sql, const char *a1,
			  const char *a2, int nbind,
			  const struct name_rule *rule,
			  store_row_call_fn call, void *ctx)
{
	struct store_rows rows = NAME_ROWS_INIT;
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql, &s);
	if (r == 0) {
		if (nbind >= 1 && a1)
			sqlite3_bind_text(s, 1, a1, -1, SQLITE_STATIC);
		if (nbind >= 2)
			sqlite3_bind_text(s, 2, a2 ? a2 : "", -1,
					  SQLITE_STATIC);
		r = store_rows_collect(&rows, s, name_row_copy, (void *)rule);
	}
	store_unlock(m->st);
	return store_rows_each(&rows, r, call, ctx);
}

/* The view's names, to a model_name_cb. */
static int list_view_names(struct model *m, const char *sql, const char *a1,
			   int nbind, model_name_cb cb, void *ud)
{
	struct name_call call = { cb, ud };

	return rows_then_call(m, sql, a1, NULL, nbind, &view_names,
			      name_row_call, &call);
}

int artifacts_hash_dirs(struct model *m, model_name_cb cb, void *ud)
{
	return list_view_names(m, sql_hash_dirs, NULL, 0, cb, ud);
}

int artifacts_in_hash_dir(struct model *m, const char *prefix,
			  model_name_cb cb, void *ud)
{
	return list_view_names(m, sql_in_hash_dir, prefix, 1, cb, ud);
}

int artifacts_find_uri(struct model *m, const char *uri, int64_t *ret_id)
{
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_find_uri, &s);
	if (r == 0) {
		sqlite3_bind_text(s, 1, uri, -1, SQLITE_STATIC);
		r = mlmd_step_int(s, ret_id);
	}
	store_unlock(m->st);
	return r;
}

int artifacts_types(struct model *m, model_name_cb cb, void *ud)
{
	return list_view_names(m, sql_types, NULL, 0, cb, ud);
}

struct children {
	const char *prefix;
	size_t plen;
	char last_dir[256];
	model_name_cb cb;
	void *ud;
	/* find mode */
	const char *want;
	int64_t found_id;
	bool found, found_dir;
};

/* One name below the prefix: a directory child or a file child. */
static int child_of(void *ctx, void *elem)
{
	struct children *c = ctx;
	const struct name_row *row = elem;
	const char *rest = row->name + c->plen;
	size_t colon = strcspn(rest, ":");
	const char *slash = memchr(rest, '/', colon);
	char dir[256];

	if (!*rest)
		return 0;
	if (slash) {
		size_t n = (size_t)(slash - rest);

		if (n == 0 || n >= sizeof(dir))
			return 0;
		memcpy(dir, rest, n);
		dir[n] = '\0';
		if (!view_name_ok(dir))
			return 0;
		if (c->want) {
			if (!strcmp(c->want, dir)) {
				c->found = c->found_dir = true;
				return 1;
			}
			return 0;
		}
		if (!strcmp(dir, c->last_dir))
			return 0;	/* names are sorted: listed already */
		memcpy(c->last_dir, dir, n + 1);
		return c->cb(c->ud, dir, 0);
	}
	if (strlen(rest) > 255 || !view_name_ok(rest))
		return 0;	/* not representable as one file name */
	if (c->want) {
		if (!strcmp(c->want, rest)) {
			c->found = true;
			c->found_id = row->id;
			return 1;
		}
		return 0;
	}
	return c->cb(c->ud, rest, row->id);
}

int artifacts_names(struct model *m, const char *type, const char *prefix,
		    model_name_cb cb, void *ud)
{
	struct children c = { .prefix = prefix, .plen = strlen(prefix),
			      .cb = cb, .ud = ud };

	return rows_then_call(m, sql_names, type, prefix, 2, NULL, child_of,
			      &c);
}

int artifacts_find_name(struct model *m, const char *type, const char *name,
			int64_t *ret_id, bool *ret_is_dir)
{
	const char *slash = strrchr(name, '/');
	char *prefix = strndup(name, slash ? (size_t)(slash - name + 1) : 0);
	struct children c = { 0 };
	int r;

	if (!prefix)
		return -ENOMEM;
	c.prefix = prefix;
	c.plen = strlen(prefix);
	c.want = slash ? slash + 1 : name;
	r = rows_then_call(m, sql_names, type, prefix, 2, NULL, child_of,
			   &c);
	free(prefix);
	if (r < 0)
		return r;
	if (!c.found)
		return -ENOENT;
	*ret_id = c.found_id;
	*ret_is_dir = c.found_dir;
	return 0;
}

int artifacts_info(struct model *m, int64_t id, char *uri, size_t urilen,
		   int64_t *ret_size, int64_t *ret_create_ms)
{
	sqlite3_stmt *s;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_info, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(uri, urilen, "%s", (const char *)sqlite3_column_text(s, 0));
		*ret_size = sqlite3_column_type(s, 1) == SQLITE_NULL
				    ? -1
				    : sqlite3_column_int64(s, 1);
		*ret_create_ms = sqlite3_column_int64(s, 2);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	store_stmt_done(s);
out:
	store_unlock(m->st);
	return r;
}

int artifacts_record_json(struct model *m, int64_t id, char **ret_text,
			  size_t *ret_len)
{
	json_t *doc = NULL, *p = NULL, *cp = NULL;
	sqlite3_stmt *s;
	char *text;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_record, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		doc = json_pack("{s:I, s:s?, s:s?, s:s?, s:I}", "id", (json_int_t)id,
				"type", (const char *)sqlite3_column_text(s, 0),
				"name", (const char *)sqlite3_column_text(s, 1),
				"uri", (const char *)sqlite3_column_text(s, 2),
				"create_time_since_epoch",
				(json_int_t)sqlite3_column_int64(s, 3));
	store_stmt_done(s);
	if (!doc) {
		r = rc == SQLITE_ROW ? -ENOMEM : -ENOENT;
		goto out;
	}
	r = mlmd_props_json(m->st, MLMD_ARTIFACT, id, false, MLMD_VALUE_TYPED,
			    &p);
	if (r == 0)
		r = mlmd_props_json(m->st, MLMD_ARTIFACT, id, true,
				    MLMD_VALUE_TYPED, &cp);
	if (r < 0)
		goto out;
	if (json_object_set(doc, "properties", p) < 0 ||
	    json_object_set(doc, "custom_properties", cp) < 0) {
		r = -ENOMEM;
		goto out;
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text || asprintf(ret_text, "%s\n", text) < 0) {
		free(text);
		r = -ENOMEM;
		goto out;
	}
	free(text);
	*ret_len = strlen(*ret_text);
out:
	store_unlock(m->st);
	json_decref(doc);
	json_decref(p);
	json_decref(cp);
	return r;
}
