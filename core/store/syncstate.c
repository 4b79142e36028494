/* SPDX-License-Identifier: MIT */
/* Sync state derived from the store; see syncstate.h. */
#include "syncstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "model_i.h"

/*
 * Every object this store names: the uri of every artifact whose uri is an
 * object id (32 hex digits, or those and ".dir" for a DVC manifest), which
 * covers every version ever logged (an overwritten file keeps its earlier
 * artifacts), and the bytes of every file in the tree.  Columns: oid, size
 * (0 where only an artifact names it), ord (log order).
 */
#define OBJECT_URI(col)                                                   \
	"(length(" col ") = 32 OR (length(" col ") = 36 AND substr(" col \
	", 33) = '.dir')) AND substr(" col ", 1, 32) NOT GLOB '*[^0-9a-f]*'"
#define SQL_OBJECTS                                                       \
	"WITH obj(oid, size, ord) AS ("                                   \
	" SELECT a.`uri`, 0, a.`id` FROM `Artifact` a"                    \
	" WHERE " OBJECT_URI("a.`uri`")                                   \
	" UNION ALL SELECT md5, size, artifact_id FROM cmffs_entry"       \
	" WHERE artifact_id IS NOT NULL AND md5 IS NOT NULL) "
STORE_SQL(sql_pending_objects,
	SQL_OBJECTS
	"SELECT oid, max(max(size), 0) FROM obj WHERE NOT EXISTS (SELECT 1 FROM"
	" cmffs_remote_object o WHERE o.oid = obj.oid AND o.remote = ?1)"
	" GROUP BY oid ORDER BY min(ord)");
STORE_SQL(sql_object_done,
	"INSERT OR REPLACE INTO cmffs_remote_object(oid, remote, pushed_ms)"
	" VALUES (?1, ?2, ?3)");
/*
 * The Dataslice events of execution @exec (columns ev, a), and whether
 * server ?1 has one (cmffs_pushed_slice).
 */
#define SQL_SLICE_EVENTS(exec)                                             \
	"`Event` ev JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"       \
	" JOIN `Type` t ON t.`id` = a.`type_id` WHERE ev.`execution_id` = " \
	exec " AND t.`name` = 'Dataslice'"
#define SQL_SLICE_KNOWN                                                   \
	"EXISTS (SELECT 1 FROM cmffs_pushed_slice k WHERE"                \
	" k.execution_id = ev.`execution_id` AND k.artifact_id = a.`id`"  \
	" AND k.server = ?1)"
/* executions whose last update is newer than what @server acknowledged */
STORE_SQL(sql_pending_executions,
	"SELECT e.`id`, e.`last_update_time_since_epoch`,"
	" ifnull(p.`string_value`, ''),"
	" (SELECT count(DISTINCT a.`uri`) FROM `Event` ev JOIN `Artifact` a"
	"  ON a.`id` = ev.`artifact_id` WHERE ev.`execution_id` = e.`id`"
	"  AND ?2 IS NOT NULL AND " OBJECT_URI("a.`uri`")
	"  AND NOT EXISTS (SELECT 1 FROM cmffs_remote_object o"
	"   WHERE o.oid = a.`uri` AND o.remote = ?2)),"
	" (SELECT count(*) FROM " SQL_SLICE_EVENTS("e.`id`")
	"  AND NOT " SQL_SLICE_KNOWN ")"
	" FROM `Execution` e LEFT JOIN `ExecutionProperty` p"
	" ON p.`execution_id` = e.`id` AND p.`name` = 'Pipeline_Type'"
	" AND p.`is_custom_property` = 0"
	" LEFT JOIN cmffs_pushed_execution d ON d.execution_id = e.`id`"
	" AND d.server = ?1"
	" WHERE (d.pushed_update_ms IS NULL"
	" OR d.pushed_update_ms < e.`last_update_time_since_epoch`)"
	" AND (?3 IS NULL OR p.`string_value` = ?3)"
	" ORDER BY e.`last_update_time_since_epoch`, e.`id`");
STORE_SQL(sql_slice_events,
	"SELECT ev.`artifact_id`, " SQL_SLICE_KNOWN " FROM "
	SQL_SLICE_EVENTS("?2") " ORDER BY ev.`id`");
STORE_SQL(sql_slice_done,
	"INSERT OR IGNORE INTO cmffs_pushed_slice(execution_id, artifact_id,"
	" server) VALUES (?2, ?3, ?1)");
STORE_SQL(sql_slice_seen,
	"INSERT OR IGNORE INTO cmffs_pushed_slice(execution_id, artifact_id,"
	" server) SELECT ev.`execution_id`, a.`id`, ?1 FROM "
	SQL_SLICE_EVENTS("?2") " AND a.`uri` = ?3");
STORE_SQL(sql_first_uuid,
	"SELECT substr(`string_value`, 1,"
	" instr(`string_value` || ',', ',') - 1) FROM `ExecutionProperty`"
	" WHERE `execution_id` = ?1 AND `name` = 'Execution_uuid'"
	" AND `is_custom_property` = 0 AND `string_value` <> ''");
STORE_SQL(sql_execution_done,
	"INSERT OR REPLACE INTO cmffs_pushed_execution(execution_id, server,"
	" pushed_update_ms) VALUES (?1, ?2, ?3)");
STORE_SQL(sql_counts,
	SQL_OBJECTS
	"SELECT (SELECT count(DISTINCT oid) FROM obj WHERE NOT EXISTS"
	"  (SELECT 1 FROM cmffs_remote_object o WHERE o.oid = obj.oid"
	"  AND o.remote = ?1)),"
	" (SELECT count(*) FROM cmffs_remote_object WHERE remote = ?1),"
	" (SELECT count(*) FROM `Execution` e LEFT JOIN cmffs_pushed_execution d"
	"  ON d.execution_id = e.`id` AND d.server = ?2 WHERE"
	"  d.pushed_update_ms IS NULL OR"
	"  d.pushed_update_ms < e.`last_update_time_since_epoch`),"
	" (SELECT count(*) FROM cmffs_pushed_execution WHERE server = ?2)");
STORE_SQL(sql_tb_pending,
	"SELECT x.id, x.md5, ifnull(pp.`string_value`, ''),"
	" ifnull(ct.`string_value`, ''), CASE WHEN ifnull(e.`name`, '') = ''"
	" THEN 'execution-' || e.`id` ELSE e.`name` END"
	" FROM cmffs_entry x JOIN `Execution` e ON e.`id` = x.execution_id"
	" LEFT JOIN `ExecutionProperty` pp ON pp.`execution_id` = e.`id`"
	" AND pp.`name` = 'Pipeline_Type' AND pp.`is_custom_property` = 0"
	" LEFT JOIN `ExecutionProperty` ct ON ct.`execution_id` = e.`id`"
	" AND ct.`name` = 'Context_Type' AND ct.`is_custom_property` = 0"
	" WHERE x.side = 2 AND x.is_dir = 0 AND x.md5 IS NOT NULL"
	" AND NOT EXISTS (SELECT 1 FROM cmffs_tensorboard_upload u"
	" WHERE u.entry_id = x.id AND u.server = ?1 AND u.md5 = x.md5)"
	" ORDER BY x.id");
STORE_SQL(sql_tb_done,
	"INSERT OR REPLACE INTO cmffs_tensorboard_upload(entry_id, server, md5)"
	" VALUES (?1, ?2, ?3)");
STORE_SQL(sql_side_pending,
	"SELECT DISTINCT a.`uri`, a.`name` FROM `Artifact` a JOIN `Type` t"
	" ON t.`id` = a.`type_id` WHERE t.`name` = ?2 AND length(a.`uri`) = 32"
	" AND NOT EXISTS (SELECT 1 FROM cmffs_side_upload u WHERE u.type = ?2"
	" AND u.uri = a.`uri` AND u.server = ?1) ORDER BY a.`id`");
STORE_SQL(sql_side_done,
	"INSERT OR IGNORE INTO cmffs_side_upload(type, uri, server)"
	" VALUES (?2, ?3, ?1)");
STORE_SQL(sql_note_set,
	"INSERT OR REPLACE INTO cmffs_sync_note(key, value, time_ms)"
	" VALUES (?1, ?2, ?3)");
STORE_SQL(sql_note_delete, "DELETE FROM cmffs_sync_note WHERE key = ?1");
STORE_SQL(sql_note_get,
	"SELECT value, time_ms FROM cmffs_sync_note WHERE key = ?1");
/* sizes not yet known: -1 (ENTRY_SIZE_UNKNOWN), the partial index
 * cmffs_entry_unknown_size finds them */
STORE_SQL(sql_set_size,
	"UPDATE cmffs_entry SET size = ?2 WHERE md5 = ?1 AND size < 0");
STORE_SQL(sql_unknown_sizes,
	"SELECT md5, 0 FROM cmffs_entry WHERE size < 0 AND md5 IS NOT NULL"
	" GROUP BY md5 ORDER BY min(id)");
/*
 * The files of a pipeline, of one of its stages, or of one execution: the
 * pipeline context, its child stage context "P/S" and the stage's
 * executions (Association), by name.
 */
STORE_SQL(sql_scope_objects,
	"SELECT en.md5, max(max(en.size), 0) FROM cmffs_entry en"
	" JOIN `Association` asn ON asn.`execution_id` = en.execution_id"
	" JOIN `Context` st ON st.`id` = asn.`context_id`"
	" JOIN `ParentContext` pc ON pc.`context_id` = st.`id`"
	" JOIN `Context` pl ON pl.`id` = pc.`parent_context_id`"
	" JOIN `Execution` ex ON ex.`id` = en.execution_id"
	" WHERE en.is_dir = 0 AND en.md5 IS NOT NULL AND pl.`name` = ?1"
	" AND (?2 IS NULL OR st.`name` = ?1 || '/' || ?2)"
	" AND (?3 IS NULL OR ex.`name` = ?3)"
	" GROUP BY en.md5 ORDER BY min(en.id)");

struct object_row {
	char oid[40];
	uint64_t size;
};

static int object_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	struct object_row *row = elem;
	const char *oid = (const char *)sqlite3_column_text(s, 0);

	(void)arg;
	if (!oid || strlen(oid) >= sizeof(row->oid))
		return 1;
	memcpy(row->oid, oid, strlen(oid) + 1);
	row->size = (uint64_t)sqlite3_column_int64(s, 1);
	return 0;
}

struct object_call {
	sync_object_cb cb;
	void *ud;
};

static int object_row_call(void *ctx, void *elem)
{
	struct object_call *c = ctx;
	struct object_row *row = elem;

	return c->cb(c->ud, row->oid, row->size);
}

/*
 * Run @sql (columns: oid, size) with up to three text parameters (NULL
 * binds NULL) and hand the rows to @cb (rows.h: collect, then call).
 */
static int each_object(struct model *m, const char *sql, const char *p1,
		       const char *p2, const char *p3, sync_object_cb cb,
		       void *ud)
{
	const char *params[3] = { p1, p2, p3 };
	struct store_rows rows = STORE_ROWS_INIT(struct object_row, NULL);
	struct object_call call = { cb, ud };
	sqlite3_stmt *s;
	int i, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql, &s);
	if (r == 0) {
		for (i = 0; i < 3; i++)
			if (sqlite3_bind_parameter_count(s) > i)
				sqlite3_bind_text(s, i + 1, params[i], -1,
						  SQLITE_STATIC);
		r = store_rows_collect(&rows, s, object_row_copy, NULL);
	}
	store_unlock(m->st);
	return store_rows_each(&rows, r, object_row_call, &call);
}

int syncstate_pending_objects(struct model *m, const char *remote,
			      sync_object_cb cb, void *ud)
{
	return each_object(m, sql_pending_objects, remote, NULL, NULL, cb, ud);
}

int syncstate_unknown_sizes(struct model *m, sync_object_cb cb, void *ud)
{
	return each_object(m, sql_unknown_sizes, NULL, NULL, NULL, cb, ud);
}

STORE_SQL(sql_object_paths,
	"SELECT DISTINCT substr(`name`, 1, instr(`name` || ':', ':') - 1)"
	" FROM `Artifact` WHERE `uri` = ?1 AND `name` IS NOT NULL"
	" ORDER BY `id` DESC");

/* A non-empty path, copied. */
static int path_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	const char *path = (const char *)sqlite3_column_text(s, 0);
	char **row = elem;

	(void)arg;
	if (!path || !*path)
		return 1;
	*row = strdup(path);
	return *row ? 0 : -ENOMEM;
}

static void path_row_release(void *elem)
{
	free(*(char **)elem);
}

int syncstate_object_paths(struct model *m, const char *oid,
			   char ***ret_paths, size_t *ret_n)
{
	struct store_rows rows = STORE_ROWS_INIT(char *, path_row_release);
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_object_paths, &s);
	if (r == 0) {
		sqlite3_bind_text(s, 1, oid, -1, SQLITE_STATIC);
		r = store_rows_collect(&rows, s, path_row_copy, NULL);
	}
	store_unlock(m->st);
	if (r < 0) {
		store_rows_free(&rows);
		return r;
	}
	*ret_paths = rows.v;
	*ret_n = rows.n;
	return 0;
}

void syncstate_paths_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int syncstate_scope_objects(struct model *m, const char *pipeline,
			    const char *stage, const char *execution,
			    sync_object_cb cb, void *ud)
{
	return each_object(m, sql_scope_objects, pipeline, stage, execution,
			   cb, ud);
}

int syncstate_object_done(struct model *m, const char *remote,
			  const char *oid)
{
	sqlite3_stmt *s;
	int r;

	r = store_write_begin(m->st);
	if (r < 0)
		return r;
	r = store_stmt(m->st, sql_object_done, &s);
	if (r == 0) {
		sqlite3_bind_text(s, 1, oid, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, remote, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, store_now_ms());
		r = mlmd_step_done(s);
	}
	if (r == 0)
		r = entry_object_pushed_locked(m, oid);
	r = store_write_end(m->st, r);
	return r;
}

static int execution_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	struct pending_execution *row = elem;
	const char *p = (const char *)sqlite3_column_text(s, 2);

	(void)arg;
	row->id = sqlite3_column_int64(s, 0);
	row->update_ms = sqlite3_column_int64(s, 1);
	snprintf(row->pipeline, sizeof(row->pipeline), "%s", p ? p : "");
	row->missing_objects = sqlite3_column_int(s, 3);
	row->unknown_slices = sqlite3_column_int(s, 4);
	return 0;
}

struct execution_call {
	sync_execution_cb cb;
	void *ud;
};

static int execution_row_call(void *ctx, void *elem)
{
	struct execution_call *c = ctx;

	return c->cb(c->ud, elem);
}

int syncstate_pending_executions(struct model *m, const char *server,
				 const char *remote, const char *pipeline,
				 sync_execution_cb cb, void *ud)
{
	struct store_rows rows =
		STORE_ROWS_INIT(struct pending_execution, NULL);
	struct execution_call call = { cb, ud };
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_pending_executions, &s);
	if (r == 0) {
		sqlite3_bind_text(s, 1, server, -1, SQLITE_STATIC);
		if (remote)
			sqlite3_bind_text(s, 2, remote, -1, SQLITE_STATIC);
		if (pipeline)
			sqlite3_bind_text(s, 3, pipeline, -1, SQLITE_STATIC);
		r = store_rows_collect(&rows, s, execution_row_copy, NULL);
	}
	store_unlock(m->st);
	return store_rows_each(&rows, r, execution_row_call, &call);
}

int syncstate_execution_done(struct model *m, const char *server,
			     int64_t execution_id, int64_t update_ms)
{
	return store_run(m->st, sql_execution_done, "iti",
			 execution_id, server, update_ms);
}

int syncstate_slice_events(struct model *m, const char *server,
			   const int64_t *ids, size_t n,
			   struct slice_event **ret, size_t *ret_n)
{
	struct slice_event *v = NULL;
	size_t nv = 0, cap = 0, i;
	sqlite3_stmt *s;
	int rc = SQLITE_DONE, r = 0;

	store_lock(m->st);
	for (i = 0; r == 0 && i < n; i++) {
		r = store_stmt(m->st, sql_slice_events, &s);
		if (r < 0)
			break;
		sqlite3_bind_text(s, 1, server, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, ids[i]);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			if (array_reserve(&v, &cap, nv + 1, sizeof(*v)) < 0) {
				r = -ENOMEM;
				break;
			}
			v[nv].execution_id = ids[i];
			v[nv].artifact_id = sqlite3_column_int64(s, 0);
			v[nv].known = sqlite3_column_int(s, 1) != 0;
			nv++;
		}
		if (r == 0 && rc != SQLITE_DONE)
			r = store_errno(rc);
		store_stmt_done(s);
	}
	store_unlock(m->st);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = nv;
	return 0;
}

int syncstate_slices_done(struct model *m, const char *server,
			  const struct slice_event *v, size_t n)
{
	sqlite3_stmt *s;
	size_t i;
	int r;

	r = store_write_begin(m->st);
	if (r < 0)
		goto out;
	for (i = 0; r == 0 && i < n; i++) {
		if (v[i].known)
			continue;
		r = store_stmt(m->st, sql_slice_done, &s);
		if (r < 0)
			break;
		sqlite3_bind_text(s, 1, server, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, v[i].execution_id);
		sqlite3_bind_int64(s, 3, v[i].artifact_id);
		r = mlmd_step_done(s);
	}
	r = store_write_end(m->st, r);
out:
	return r;
}

int syncstate_slice_seen(struct model *m, const char *server,
			 int64_t execution_id, const char *uri)
{
	return store_run(m->st, sql_slice_seen, "tit",
			 server, execution_id, uri);
}

int syncstate_execution_uuid(struct model *m, int64_t execution_id,
			     char **ret_uuid)
{
	sqlite3_stmt *s;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_first_uuid, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, execution_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ret_uuid = strdup((const char *)sqlite3_column_text(s, 0));
		r = *ret_uuid ? 0 : -ENOMEM;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	store_stmt_done(s);
out:
	store_unlock(m->st);
	return r;
}

int syncstate_counts(struct model *m, const char *remote, const char *server,
		     struct sync_counts *ret)
{
	sqlite3_stmt *s;
	int rc, r;

	memset(ret, 0, sizeof(*ret));
	store_lock(m->st);
	r = store_stmt(m->st, sql_counts, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_text(s, 1, remote ? remote : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, server ? server : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		ret->objects_pending = remote ? sqlite3_column_int64(s, 0) : 0;
		ret->objects_pushed = sqlite3_column_int64(s, 1);
		ret->executions_pending = server ? sqlite3_column_int64(s, 2) : 0;
		ret->executions_pushed = sqlite3_column_int64(s, 3);
	} else {
		r = store_errno(rc);
	}
	store_stmt_done(s);
out:
	store_unlock(m->st);
	return r;
}

int syncstate_set_size(struct model *m, const char *md5, uint64_t size)
{
	return store_run(m->st, sql_set_size, "ti", md5, (int64_t)size);
}

int syncstate_note_set(struct model *m, const char *key, const char *value)
{
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, value ? sql_note_set : sql_note_delete, &s);
	if (r == 0) {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		if (value) {
			sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 3, store_now_ms());
		}
		r = mlmd_step_done(s);
	}
	store_unlock(m->st);
	return r;
}

int syncstate_note_get(struct model *m, const char *key, char **ret_value,
		       int64_t *ret_time_ms)
{
	sqlite3_stmt *s;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_note_get, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ret_value = strdup((const char *)sqlite3_column_text(s, 0));
		if (ret_time_ms)
			*ret_time_ms = sqlite3_column_int64(s, 1);
		r = *ret_value ? 0 : -ENOMEM;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	store_stmt_done(s);
out:
	store_unlock(m->st);
	return r;
}

static int upload_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	struct pending_upload *row = elem;
	const char *stage = (const char *)sqlite3_column_text(s, 3);
	const char *slash = stage ? strchr(stage, '/') : NULL;

	(void)arg;
	row->entry_id = sqlite3_column_int64(s, 0);
	snprintf(row->md5, sizeof(row->md5), "%s",
		 (const char *)sqlite3_column_text(s, 1));
	snprintf(row->pipeline, sizeof(row->pipeline), "%s",
		 (const char *)sqlite3_column_text(s, 2));
	/* the prefix STAGE/EXECUTION/ is completed with the path below */
	if (asprintf(&row->name, "%s/%s", slash ? slash + 1 : stage ? stage : "",
		     (const char *)sqlite3_column_text(s, 4)) < 0) {
		row->name = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void upload_row_release(void *elem)
{
	struct pending_upload *row = elem;

	free(row->name);
	row->name = NULL;
}

struct upload_call {
	struct model *m;
	sync_upload_cb cb;
	void *ud;
};

/* Completes the row's name with the file's path, then calls back. */
static int upload_row_call(void *ctx, void *elem)
{
	struct upload_call *c = ctx;
	struct pending_upload *row = elem;
	char *path = NULL, *full = NULL;
	int r;

	r = model_entry_path(c->m, row->entry_id, &path);
	if (r == -ENOENT)
		return 0;	/* removed meanwhile */
	if (r == 0 && asprintf(&full, "%s/%s", row->name, path) < 0)
		r = -ENOMEM;
	free(path);
	if (r < 0)
		return r;
	free(row->name);
	row->name = full;
	return c->cb(c->ud, row);
}

int syncstate_pending_tensorboard(struct model *m, const char *server,
				  sync_upload_cb cb, void *ud)
{
	struct store_rows rows = STORE_ROWS_INIT(struct pending_upload,
						 upload_row_release);
	struct upload_call call = { m, cb, ud };
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_tb_pending, &s);
	if (r == 0) {
		sqlite3_bind_text(s, 1, server, -1, SQLITE_STATIC);
		r = store_rows_collect(&rows, s, upload_row_copy, NULL);
	}
	store_unlock(m->st);
	return store_rows_each(&rows, r, upload_row_call, &call);
}

int syncstate_tensorboard_done(struct model *m, const char *server,
			       int64_t entry_id, const char *md5)
{
	return store_run(m->st, sql_tb_done, "itt", entry_id, server, md5);
}

struct side_row {
	char *uri;
	char *name;
};

static int side_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	struct side_row *row = elem;
	const char *name = (const char *)sqlite3_column_text(s, 1);

	(void)arg;
	row->uri = strdup((const char *)sqlite3_column_text(s, 0));
	row->name = strdup(name ? name : "");
	return row->uri && row->name ? 0 : -ENOMEM;
}

static void side_row_release(void *elem)
{
	struct side_row *row = elem;

	free(row->uri);
	free(row->name);
}

struct side_call {
	sync_side_cb cb;
	void *ud;
};

static int side_row_call(void *ctx, void *elem)
{
	struct side_call *c = ctx;
	struct side_row *row = elem;

	return c->cb(c->ud, row->uri, row->name);
}

int syncstate_pending_side(struct model *m, const char *server,
			   const char *type, sync_side_cb cb, void *ud)
{
	struct store_rows rows = STORE_ROWS_INIT(struct side_row,
						 side_row_release);
	struct side_call call = { cb, ud };
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_side_pending, &s);
	if (r == 0) {
		sqlite3_bind_text(s, 1, server, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, type, -1, SQLITE_STATIC);
		r = store_rows_collect(&rows, s, side_row_copy, NULL);
	}
	store_unlock(m->st);
	return store_rows_each(&rows, r, side_row_call, &call);
}

int syncstate_side_done(struct model *m, const char *server, const char *type,
			const char *uri)
{
	return store_run(m->st, sql_side_done, "ttt", server, type, uri);
}
