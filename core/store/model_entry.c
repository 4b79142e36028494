/* SPDX-License-Identifier: MIT */
/*
 * The file tree of an execution and the logging of artifacts; see model.h.
 *
 * Logging rules (upstream cmflib's, with its bug of one artifact per uri
 * across types fixed): the artifact type follows the path (models/ ->
 * Model, labels/ -> Label, else Dataset); identical bytes of one type are
 * one artifact; a new artifact gets an event without a path and an
 * Attribution to the stage of the execution that created it; a re-used one
 * only an event whose path step is "<path>:<md5>" (upstream's
 * link_execution_to_artifact: no Attribution to the stage that re-uses
 * it); its url property gains "<pipeline>:<remote object>" once per
 * pipeline.
 */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array.h"
#include "hash.h"
#include "model_i.h"
#include "dirmanifest.h"
#include "redo.h"
#include "sb.h"

#include <uuid/uuid.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const art_type_name[_ART_MAX] = {
	[ART_DATASET] = "Dataset",
	[ART_MODEL] = "Model",
	[ART_LABEL] = "Label",
	[ART_ENVIRONMENT] = "Environment",
};
static const struct mlmd_type_prop dataset_props[] = {
	{ "git_repo", MLMD_PT_STRING },
	{ "Commit", MLMD_PT_STRING },
	{ "url", MLMD_PT_STRING },
};
static const struct mlmd_type_prop model_props[] = {
	{ "model_framework", MLMD_PT_STRING },
	{ "model_type", MLMD_PT_STRING },
	{ "model_name", MLMD_PT_STRING },
	{ "Commit", MLMD_PT_STRING },
	{ "url", MLMD_PT_STRING },
};

#define ENTRY_COLS                                                        \
	"e.id, e.execution_id, e.side, e.parent_id, e.name, e.is_dir,"    \
	" e.artifact_id, e.md5, e.size, e.mode, e.uid, e.gid, e.mtime_ns," \
	" e.ctime_ns,"                                                     \
	" (SELECT count(*) FROM cmffs_entry x WHERE x.link_id IS NOT NULL"  \
	"  AND x.link_id = ifnull(e.link_id, e.id))"                       \
	" + (SELECT count(*) FROM cmffs_entry r WHERE"                     \
	"  r.id = ifnull(e.link_id, e.id) AND r.link_id IS NULL),"         \
	" ifnull(e.link_id, e.id)"

STORE_SQL(sql_entry_get,
	"SELECT " ENTRY_COLS " FROM cmffs_entry e WHERE e.id = ?1");
STORE_SQL(sql_entry_lookup,
	"SELECT " ENTRY_COLS " FROM cmffs_entry e WHERE e.execution_id = ?1"
	" AND e.side = ?2 AND e.parent_id = ?3 AND e.name = ?4");
STORE_SQL(sql_entry_list,
	"SELECT " ENTRY_COLS " FROM cmffs_entry e WHERE e.execution_id = ?1"
	" AND e.side = ?2 AND e.parent_id = ?3 ORDER BY e.name");
STORE_SQL(sql_entry_subdirs,
	"SELECT count(*) FROM cmffs_entry WHERE execution_id = ?1"
	" AND side = ?2 AND parent_id = ?3 AND is_dir = 1");
STORE_SQL(sql_entry_children,
	"SELECT count(*) FROM cmffs_entry WHERE parent_id = ?1");
STORE_SQL(sql_entry_insert,
	"INSERT INTO cmffs_entry(execution_id, side, parent_id, name, is_dir,"
	" artifact_id, md5, size, mode, uid, gid, mtime_ns, ctime_ns)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)");
STORE_SQL(sql_entry_insert_id,
	"INSERT INTO cmffs_entry(id, execution_id, side, parent_id, name,"
	" is_dir, artifact_id, md5, size, mode, uid, gid, mtime_ns, ctime_ns)"
	" VALUES (?13, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)");
STORE_SQL(sql_entry_set_link,
	"UPDATE cmffs_entry SET link_id = ?2 WHERE id = ?1");
STORE_SQL(sql_entry_tree,
	"WITH RECURSIVE t(id, rel, is_dir, md5) AS ("
	" SELECT id, name, is_dir, md5 FROM cmffs_entry WHERE parent_id = ?1"
	" UNION ALL SELECT e.id, t.rel || '/' || e.name, e.is_dir, e.md5"
	" FROM cmffs_entry e JOIN t ON e.parent_id = t.id WHERE t.is_dir = 1)"
	" SELECT rel, md5 FROM t WHERE is_dir = 0");
STORE_SQL(sql_entry_set_bytes,
	"UPDATE cmffs_entry SET artifact_id = NULL, md5 = ?2, size = ?3,"
	" mtime_ns = ?4, ctime_ns = ?5 WHERE id = ?1");
STORE_SQL(sql_entry_set_version,
	"UPDATE cmffs_entry SET artifact_id = ?2, md5 = ?3, size = ?4,"
	" mtime_ns = ?5, ctime_ns = ?6 WHERE id = ?1");
STORE_SQL(sql_entry_move,
	"UPDATE cmffs_entry SET parent_id = ?2, name = ?3, ctime_ns = ?4"
	" WHERE id = ?1");
STORE_SQL(sql_entry_delete, "DELETE FROM cmffs_entry WHERE id = ?1");
STORE_SQL(sql_entry_setattr,
	"UPDATE cmffs_entry SET mode = CASE WHEN ?2 THEN ?3 ELSE mode END,"
	" uid = CASE WHEN ?4 THEN ?5 ELSE uid END,"
	" gid = CASE WHEN ?4 THEN ?6 ELSE gid END,"
	" mtime_ns = CASE WHEN ?7 THEN ?8 ELSE mtime_ns END,"
	" ctime_ns = ?9 WHERE id = ?1");
STORE_SQL(sql_entry_drop_unlogged,
	"DELETE FROM cmffs_entry WHERE is_dir = 0 AND artifact_id IS NULL"
	" AND md5 IS NULL");
STORE_SQL(sql_entry_parent,
	"SELECT parent_id, name FROM cmffs_entry WHERE id = ?1");
STORE_SQL(sql_artifact_by_uri,
	"SELECT `id` FROM `Artifact` WHERE `uri` = ?1 AND `type_id` = ?2"
	" ORDER BY `id` DESC LIMIT 1");
STORE_SQL(sql_artifact_row,
	"SELECT a.`uri`, a.`name`, t.`name` FROM `Artifact` a JOIN `Type` t"
	" ON t.`id` = a.`type_id` WHERE a.`id` = ?1");
STORE_SQL(sql_artifact_events,
	"SELECT count(*), min(`execution_id`) FROM `Event`"
	" WHERE `artifact_id` = ?1");
STORE_SQL(sql_artifact_entries,
	"SELECT count(*) FROM cmffs_entry WHERE artifact_id = ?1");
STORE_SQL(sql_artifact_props_delete,
	"DELETE FROM `ArtifactProperty` WHERE `artifact_id` = ?1");
STORE_SQL(sql_artifact_eventpaths_delete,
	"DELETE FROM `EventPath` WHERE `event_id` IN"
	" (SELECT `id` FROM `Event` WHERE `artifact_id` = ?1)");
STORE_SQL(sql_artifact_events_delete,
	"DELETE FROM `Event` WHERE `artifact_id` = ?1");
STORE_SQL(sql_artifact_attributions_delete,
	"DELETE FROM `Attribution` WHERE `artifact_id` = ?1");
STORE_SQL(sql_artifact_delete,
	"DELETE FROM `Artifact` WHERE `id` = ?1");
/*
 * The versions of the file at path ?2 (below side ?4's event type) of
 * execution ?1 that never left that execution: no event of another one, no
 * file but entry ?3 shows them, no push to a server since they were logged.
 */
STORE_SQL(sql_scratch_versions,
	"SELECT a.`id` FROM `Artifact` a JOIN `Event` ev"
	" ON ev.`artifact_id` = a.`id` WHERE ev.`execution_id` = ?1"
	" AND ev.`type` = ?4"
	" AND substr(a.`name`, 1, length(?2) + 1) = ?2 || ':'"
	" AND (SELECT count(*) FROM `Event` e2 WHERE e2.`artifact_id` = a.`id`) = 1"
	" AND NOT EXISTS (SELECT 1 FROM cmffs_entry x"
	"  WHERE x.artifact_id = a.`id` AND x.id <> ?3)"
	" AND NOT EXISTS (SELECT 1 FROM cmffs_pushed_execution d"
	"  WHERE d.execution_id = ?1"
	"  AND d.pushed_update_ms >= a.`create_time_since_epoch`)"
	" ORDER BY a.`id`");
/*
 * The one entry other than ?2 showing artifact ?1, when exactly two do and
 * execution ?3 was not pushed since the artifact was logged.
 */
STORE_SQL(sql_link_other,
	"SELECT id FROM cmffs_entry WHERE artifact_id = ?1 AND id <> ?2"
	" AND (SELECT count(*) FROM cmffs_entry x"
	"  WHERE x.artifact_id = ?1) = 2"
	" AND NOT EXISTS (SELECT 1 FROM cmffs_pushed_execution d, `Artifact` a"
	"  WHERE d.execution_id = ?3 AND a.`id` = ?1"
	"  AND d.pushed_update_ms >= a.`create_time_since_epoch`)");
STORE_SQL(sql_artifact_custom_keys,
	"SELECT `name` FROM `ArtifactProperty` WHERE `artifact_id` = ?1"
	" AND `is_custom_property` = 1 ORDER BY `name`");

static void entry_from_row(sqlite3_stmt *s, struct entry *e)
{
	const char *name = (const char *)sqlite3_column_text(s, 4);
	const char *md5 = (const char *)sqlite3_column_text(s, 7);

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(s, 0);
	e->execution_id = sqlite3_column_int64(s, 1);
	e->side = sqlite3_column_int(s, 2);
	e->parent_id = sqlite3_column_int64(s, 3);
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	e->is_dir = sqlite3_column_int(s, 5) != 0;
	e->artifact_id = sqlite3_column_int64(s, 6);
	if (md5 && strlen(md5) < sizeof(e->md5))
		memcpy(e->md5, md5, strlen(md5) + 1);
	e->size_known = sqlite3_column_int64(s, 8) >= 0;
	e->size = e->size_known ? (uint64_t)sqlite3_column_int64(s, 8) : 0;
	e->mode = (mode_t)sqlite3_column_int64(s, 9);
	e->uid = (uid_t)sqlite3_column_int64(s, 10);
	e->gid = (gid_t)sqlite3_column_int64(s, 11);
	e->mtime_ns = sqlite3_column_int64(s, 12);
	e->ctime_ns = sqlite3_column_int64(s, 13);
	e->nlink = (uint32_t)sqlite3_column_int64(s, 14);
	e->inode_id = sqlite3_column_int64(s, 15);
}

/* Entry @id is a hard link of the file whose inode is @inode_id. */
static int entry_set_link_locked(struct model *m, int64_t id,
				 int64_t inode_id)
{
	sqlite3_stmt *s;
	int r = store_stmt(m->st, sql_entry_set_link, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, inode_id);
	return mlmd_step_done(s);
}

/* Step a query returning one entry row. */
static int step_entry(sqlite3_stmt *s, struct entry *ret)
{
	int rc = sqlite3_step(s);
	int r = 0;

	if (rc == SQLITE_ROW)
		entry_from_row(s, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	store_stmt_done(s);
	return r;
}

static int entry_get_locked(struct model *m, int64_t id, struct entry *ret)
{
	sqlite3_stmt *s;
	int r = store_stmt(m->st, sql_entry_get, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	return step_entry(s, ret);
}

int entry_lookup_locked(struct model *m, int64_t execution_id,
			       int side, int64_t parent_id, const char *name,
			       struct entry *ret)
{
	sqlite3_stmt *s;
	int r = store_stmt(m->st, sql_entry_lookup, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, execution_id);
	sqlite3_bind_int(s, 2, side);
	sqlite3_bind_int64(s, 3, parent_id);
	sqlite3_bind_text(s, 4, name, -1, SQLITE_STATIC);
	return step_entry(s, ret);
}

int entry_get_locked_public(struct model *m, int64_t id, struct entry *ret)
{
	return entry_get_locked(m, id, ret);
}

int model_entry_get(struct model *m, int64_t id, struct entry *ret)
{
	int r;

	store_lock(m->st);
	r = entry_get_locked(m, id, ret);
	store_unlock(m->st);
	return r;
}

int model_entry_lookup(struct model *m, int64_t execution_id, int side,
		       int64_t parent_id, const char *name, struct entry *ret)
{
	int r;

	store_lock(m->st);
	r = entry_lookup_locked(m, execution_id, side, parent_id, name, ret);
	store_unlock(m->st);
	return r;
}

static int entry_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	(void)arg;
	entry_from_row(s, elem);
	return 0;
}

struct entry_call {
	model_entry_cb cb;
	void *ud;
};

static int entry_row_call(void *ctx, void *elem)
{
	struct entry_call *c = ctx;

	return c->cb(c->ud, elem);
}

int model_entry_list(struct model *m, int64_t execution_id, int side,
		     int64_t parent_id, model_entry_cb cb, void *ud)
{
	struct store_rows rows = STORE_ROWS_INIT(struct entry, NULL);
	struct entry_call call = { cb, ud };
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_entry_list, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, execution_id);
		sqlite3_bind_int(s, 2, side);
		sqlite3_bind_int64(s, 3, parent_id);
		r = store_rows_collect(&rows, s, entry_row_copy, NULL);
	}
	store_unlock(m->st);
	return store_rows_each(&rows, r, entry_row_call, &call);
}

int model_entry_subdirs(struct model *m, int64_t execution_id, int side,
			int64_t parent_id)
{
	sqlite3_stmt *s;
	int64_t n = 0;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_entry_subdirs, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, execution_id);
		sqlite3_bind_int(s, 2, side);
		sqlite3_bind_int64(s, 3, parent_id);
		r = mlmd_step_int(s, &n);
	}
	store_unlock(m->st);
	return r < 0 ? r : (int)(n > 65000 ? 65000 : n);
}

/* Path of entry @id below its side, built by walking parents. */
static int entry_path_locked(struct model *m, int64_t id, char **ret_path)
{
	char *parts[256];
	size_t n = 0, i;
	struct sb sb;
	int r = 0;

	sb_init(&sb, 0);
	while (id != 0) {
		sqlite3_stmt *s;
		int rc;

		if (n == N(parts)) {
			r = -ELOOP;
			goto out;
		}
		r = store_stmt(m->st, sql_entry_parent, &s);
		if (r < 0)
			goto out;
		sqlite3_bind_int64(s, 1, id);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW) {
			store_stmt_done(s);
			r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
			goto out;
		}
		id = sqlite3_column_int64(s, 0);
		parts[n] = strdup((const char *)sqlite3_column_text(s, 1));
		store_stmt_done(s);
		if (!parts[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	for (i = n; i > 0; i--) {
		if (i != n)
			sb_putc(&sb, '/');
		sb_puts(&sb, parts[i - 1]);
	}
	*ret_path = sb_detach(&sb, NULL);
	if (!*ret_path)
		r = -ENOMEM;
out:
	for (i = 0; i < n; i++)
		free(parts[i]);
	sb_release(&sb);
	return r;
}

int model_entry_path(struct model *m, int64_t id, char **ret_path)
{
	int r;

	store_lock(m->st);
	r = entry_path_locked(m, id, ret_path);
	store_unlock(m->st);
	return r;
}

int entry_insert_locked(struct model *m, int64_t execution_id,
			       int side, int64_t parent_id, const char *name,
			       bool is_dir, int64_t artifact_id,
			       const char *md5, uint64_t size, mode_t mode,
			       uid_t uid, gid_t gid, int64_t want_id,
			       int64_t *ret_id)
{
	sqlite3_stmt *s;
	struct entry parent;
	int r;

	if (parent_id) {
		r = entry_get_locked(m, parent_id, &parent);
		if (r < 0)
			return r;
		if (!parent.is_dir || parent.execution_id != execution_id ||
		    parent.side != side)
			return -ENOTDIR;
	}
	r = store_stmt(m->st, want_id ? sql_entry_insert_id : sql_entry_insert,
		       &s);
	if (r < 0)
		return r;
	if (want_id)
		sqlite3_bind_int64(s, 13, want_id);
	sqlite3_bind_int64(s, 1, execution_id);
	sqlite3_bind_int(s, 2, side);
	sqlite3_bind_int64(s, 3, parent_id);
	sqlite3_bind_text(s, 4, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, is_dir);
	if (artifact_id)
		sqlite3_bind_int64(s, 6, artifact_id);
	if (md5 && md5[0])
		sqlite3_bind_text(s, 7, md5, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, (int64_t)size);
	sqlite3_bind_int64(s, 9, mode & 07777);
	sqlite3_bind_int64(s, 10, uid);
	sqlite3_bind_int64(s, 11, gid);
	sqlite3_bind_int64(s, 12, model_clock_ns(m));
	r = mlmd_step_done(s);
	if (r == 0)
		*ret_id = sqlite3_last_insert_rowid(store_db(m->st));
	return r;
}

/* --- batched changes and their redo records -------------------------------
 *
 * Creating an entry and logging a file's version are batched (store.h):
 * each leaves one redo record, enough to make the same change again after
 * a crash, with the same ids and times:
 *
 *	'C' id execution_id side parent_id is_dir mode uid gid time name
 *	'L' id size mtime_ns time md5[32]
 *
 * integers little-endian 8 bytes (side, is_dir 1; mode, uid, gid 4), the
 * name the rest of the record.  A record is replayed through the same
 * functions that made it, which check it as they check a live change.
 */
enum { REC_CREATE = 'C', REC_LOG = 'L' };

struct rec {
	unsigned char b[REDO_RECORD_MAX];
	size_t len;
	bool bad;	/* written past the end, or read past it */
};

static void rec_put(struct rec *w, uint64_t v, size_t n)
{
	size_t i;

	if (w->len + n > sizeof(w->b)) {
		w->bad = true;
		return;
	}
	for (i = 0; i < n; i++)
		w->b[w->len++] = (unsigned char)(v >> (8 * i));
}

static void rec_put_bytes(struct rec *w, const char *p, size_t n)
{
	if (w->len + n > sizeof(w->b)) {
		w->bad = true;
		return;
	}
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

/* Reads @n little-endian bytes at @*pos of @p (@len bytes long). */
static uint64_t rec_get(const unsigned char *p, size_t len, size_t *pos,
			size_t n, bool *bad)
{
	uint64_t v = 0;
	size_t i;

	if (*pos + n > len) {
		*bad = true;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)p[*pos + i] << (8 * i);
	*pos += n;
	return v;
}

static int entry_new(struct model *m, int64_t execution_id, int side,
		     int64_t parent_id, const char *name, bool is_dir,
		     mode_t mode, uid_t uid, gid_t gid, struct entry *ret)
{
	struct rec w = { .len = 0 };
	int64_t id;
	int r;

	r = store_batch_begin(m->st);
	if (r < 0)
		return r;
	m->change_ns = model_clock_ns(m);
	r = entry_insert_locked(m, execution_id, side, parent_id, name, is_dir,
				0, NULL, 0, mode, uid, gid, 0, &id);
	if (r == 0)
		r = entry_get_locked(m, id, ret);
	if (r == 0) {
		rec_put(&w, REC_CREATE, 1);
		rec_put(&w, (uint64_t)id, 8);
		rec_put(&w, (uint64_t)execution_id, 8);
		rec_put(&w, (uint64_t)side, 1);
		rec_put(&w, (uint64_t)parent_id, 8);
		rec_put(&w, is_dir, 1);
		rec_put(&w, mode, 4);
		rec_put(&w, uid, 4);
		rec_put(&w, gid, 4);
		rec_put(&w, (uint64_t)m->change_ns, 8);
		rec_put_bytes(&w, name, strlen(name));
		r = w.bad ? -ENAMETOOLONG : 0;
	}
	m->change_ns = 0;
	r = store_batch_end(m->st, r, w.b, w.len);
	store_unlock(m->st);
	return r;
}

int model_entry_mkdir(struct model *m, int64_t execution_id, int side,
		      int64_t parent_id, const char *name, mode_t mode,
		      uid_t uid, gid_t gid, struct entry *ret)
{
	return entry_new(m, execution_id, side, parent_id, name, true, mode,
			 uid, gid, ret);
}

int model_entry_create(struct model *m, int64_t execution_id, int side,
		       int64_t parent_id, const char *name, mode_t mode,
		       uid_t uid, gid_t gid, struct entry *ret)
{
	return entry_new(m, execution_id, side, parent_id, name, false, mode,
			 uid, gid, ret);
}

/* --- artifacts ------------------------------------------------------------ */

static enum artifact_kind kind_for_path(const char *path)
{
	size_t n = strcspn(path, "/");

	/* where upstream (and cmffs' mkdir) puts Python environments */
	if (!strncmp(path, "cmf_artifacts/python_env_", 25))
		return ART_ENVIRONMENT;
	if (path[n] != '/')
		return ART_DATASET;	/* a file at the top is a Dataset */
	if (n == 6 && !strncmp(path, "models", 6))
		return ART_MODEL;
	if (n == 6 && !strncmp(path, "labels", 6))
		return ART_LABEL;
	return ART_DATASET;
}

static int art_type_locked(struct model *m, enum artifact_kind k,
			   int64_t *ret_id)
{
	int r;

	if (m->art_type[k]) {
		*ret_id = m->art_type[k];
		return 0;
	}
	if (k == ART_MODEL)
		r = mlmd_type_ensure(m->st, MLMD_ARTIFACT_TYPE, art_type_name[k],
				     model_props, N(model_props), ret_id);
	else
		r = mlmd_type_ensure(m->st, MLMD_ARTIFACT_TYPE, art_type_name[k],
				     dataset_props, N(dataset_props), ret_id);
	/* cached once committed (the transaction may yet fail): see
	 * model.c's commit_hook() */
	if (r == 0)
		m->art_type_seen[k] = *ret_id;
	return r;
}

/* "PIPELINE:REMOTE/files/md5/ab/cdef..." or NULL when there is no remote */
static char *remote_url_for(struct model *m, const char *pipeline,
			    const char *md5)
{
	char *s = NULL;

	if (!m->remote)
		return NULL;
	if (asprintf(&s, "%s:%s/files/md5/%.2s/%s", pipeline, m->remote, md5,
		     md5 + 2) < 0)
		return NULL;
	return s;
}

/*
 * Add "<pipeline>:<object url>" to the artifact's url unless present.
 * 0, or 1 when the url changed, or -errno.
 */
static int url_append_locked(struct model *m, int64_t artifact_id,
			     const char *pipeline, const char *md5)
{
	char *mine = remote_url_for(m, pipeline, md5);
	char *cur = NULL, *joined = NULL;
	int r;

	if (!m->remote)
		return 0;
	if (!mine)
		return -ENOMEM;
	r = mlmd_prop_get_text(m->st, MLMD_ARTIFACT, artifact_id, "url", false,
			       &cur);
	if (r == -ENOENT) {
		r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, artifact_id, "url",
				      false, mine);
		r = r < 0 ? r : 1;
		goto out;
	}
	if (r < 0 || strstr(cur, mine))
		goto out;
	if (asprintf(&joined, "%s%s%s", cur, cur[0] ? "," : "", mine) < 0) {
		joined = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, artifact_id, "url", false,
			      joined);
	r = r < 0 ? r : 1;
out:
	free(mine);
	free(cur);
	free(joined);
	return r;
}

STORE_SQL(sql_artifacts_of_object,
	"SELECT DISTINCT a.`id`, p.`name` FROM `Artifact` a"
	" JOIN `Type` t ON t.`id` = a.`type_id`"
	" JOIN `Attribution` at ON at.`artifact_id` = a.`id`"
	" JOIN `ParentContext` pc ON pc.`context_id` = at.`context_id`"
	" JOIN `Context` p ON p.`id` = pc.`parent_context_id`"
	" WHERE a.`uri` = ?1 AND t.`name` <> 'Label'");
/* every execution with an event on artifact ?1 counts as updated at ?2
 * (or just after its last update: a version grows with every change) */
STORE_SQL(sql_touch_executions_of_artifact,
	"UPDATE `Execution` SET `last_update_time_since_epoch` ="
	" max(?2, `last_update_time_since_epoch` + 1)"
	" WHERE `id` IN (SELECT `execution_id` FROM `Event`"
	" WHERE `artifact_id` = ?1)");

struct art_pipeline {
	int64_t artifact_id;
	char *pipeline;
};

static int touch_executions_locked(struct model *m, int64_t artifact_id,
				   int64_t now)
{
	sqlite3_stmt *s;
	int r = store_stmt(m->st, sql_touch_executions_of_artifact, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, artifact_id);
	sqlite3_bind_int64(s, 2, now);
	return mlmd_step_done(s);
}

int entry_object_pushed_locked(struct model *m, const char *oid)
{
	struct art_pipeline *rows = NULL;
	size_t n = 0, cap = 0, i;
	int64_t now = model_clock_ms(m);
	sqlite3_stmt *s;
	int rc, r;

	if (!m->remote)
		return 0;
	r = store_stmt(m->st, sql_artifacts_of_object, &s);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, oid, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(s, 1);

		if (array_reserve(&rows, &cap, n + 1, sizeof(*rows)) < 0 ||
		    !(rows[n].pipeline = strdup(p ? p : ""))) {
			r = -ENOMEM;
			break;
		}
		rows[n++].artifact_id = sqlite3_column_int64(s, 0);
	}
	if (!r && rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
	for (i = 0; r >= 0 && i < n; i++) {
		r = url_append_locked(m, rows[i].artifact_id, rows[i].pipeline,
				      oid);
		if (r <= 0)
			continue;	/* had it already, or an error */
		r = mlmd_touch(m->st, MLMD_ARTIFACT, rows[i].artifact_id, now);
		if (r == 0)
			r = touch_executions_locked(m, rows[i].artifact_id,
						    now);
	}
	for (i = 0; i < n; i++)
		free(rows[i].pipeline);
	free(rows);
	return r < 0 ? r : 0;
}

static int artifact_create_locked(struct model *m, enum artifact_kind kind,
				  int64_t type_id, const char *path,
				  const char *md5, int64_t execution_id,
				  const struct exec_ctx *ctx, int64_t now,
				  int64_t *ret_id)
{
	char *name = NULL, *url = NULL;
	int64_t id;
	int r;

	if (kind == ART_MODEL)
		r = asprintf(&name, "%s:%s:%lld", path, md5,
			     (long long)execution_id);
	else
		r = asprintf(&name, "%s:%s", path, md5);
	if (r < 0)
		return -ENOMEM;
	/* labels carry "<path>:<md5>" as url, without a pipeline (upstream) */
	if (kind == ART_LABEL)
		url = strdup(name);
	else
		url = remote_url_for(m, ctx->pipeline, md5);
	if ((kind == ART_LABEL || m->remote) && !url) {
		r = -ENOMEM;
		goto out;
	}
	r = mlmd_artifact_insert(m->st, type_id, md5, name, now, &id);
	if (r < 0)
		goto out;
	if (kind == ART_MODEL) {
		r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, id,
				      "model_framework", false, "Default");
		if (r == 0)
			r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, id,
					      "model_type", false, "Default");
		if (r == 0)
			r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, id,
					      "model_name", false, "Default");
	} else {
		r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, id, "git_repo",
				      false, ctx->git_repo);
	}
	if (r == 0)
		r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, id, "Commit", false,
				      md5);
	if (r == 0)
		r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, id, "url", false,
				      url ? url : "");
	if (r == 0)
		*ret_id = id;
out:
	free(name);
	free(url);
	return r;
}

/* The entry at @path ("a/b.csv") below a side, walking its components. */
static int entry_find_path_locked(struct model *m, int64_t execution_id,
				  int side, const char *path,
				  struct entry *ret)
{
	char comp[256];
	int64_t parent = 0;
	const char *p = path;
	int r = -ENOENT;

	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || n >= sizeof(comp))
			return -ENOENT;
		memcpy(comp, p, n);
		comp[n] = '\0';
		r = entry_lookup_locked(m, execution_id, side, parent, comp, ret);
		if (r < 0)
			return r;
		parent = ret->id;
		p += n;
		if (*p == '/')
			p++;
	}
	return r;
}

/* Add @item to the comma-separated set in custom property @key, sorted. */
static int set_add_locked(struct model *m, int64_t artifact_id,
			  const char *key, const char *item)
{
	char *cur = NULL, *joined = NULL, *copy, *save = NULL, *tok;
	char *items[256];
	size_t n = 0, i, j;
	struct sb sb;
	int r;

	r = mlmd_prop_get_text(m->st, MLMD_ARTIFACT, artifact_id, key, true,
			       &cur);
	if (r == -ENOENT)
		return mlmd_prop_set_str(m->st, MLMD_ARTIFACT, artifact_id, key,
					 true, item);
	if (r < 0)
		return r;
	copy = cur;
	for (tok = strtok_r(copy, ",", &save); tok && n < 255;
	     tok = strtok_r(NULL, ",", &save))
		if (*tok && strcmp(tok, item))
			items[n++] = tok;
	items[n++] = (char *)item;
	/* a deterministic order, unlike upstream's Python set (§8.12) */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
			char *t = items[j];

			items[j] = items[j - 1];
			items[j - 1] = t;
		}
	sb_init(&sb, 0);
	for (i = 0; i < n; i++)
		sb_appendf(&sb, "%s%s", i ? "," : "", items[i]);
	joined = sb_detach(&sb, NULL);
	r = joined ? mlmd_prop_set_str(m->st, MLMD_ARTIFACT, artifact_id, key,
				       true, joined)
		   : -ENOMEM;
	free(joined);
	free(cur);
	return r;
}

/*
 * A label at labels/<dataset path>/<file> describes the dataset logged at
 * <dataset path> in the same place (doc/cmf-upstream.md §6.4): the label gets
 * dataset_uri, the dataset labels and labels_uri.  A label whose dataset
 * is not there is logged alone.
 */
static int label_link_locked(struct model *m, int64_t execution_id,
			     int side, const char *path, const char *md5,
			     int64_t label_id)
{
	const char *rest = path + strlen("labels/");
	const char *last = strrchr(path, '/');
	char *dataset_path = NULL, *label_uri = NULL;
	struct entry ds;
	int r;

	if (strncmp(path, "labels/", 7) || last <= rest)
		return 0;
	dataset_path = strndup(rest, (size_t)(last - rest));
	if (!dataset_path)
		return -ENOMEM;
	r = entry_find_path_locked(m, execution_id, side, dataset_path, &ds);
	if (r == -ENOENT || (r == 0 && (ds.is_dir || !ds.artifact_id))) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	if (asprintf(&label_uri, "%s:%s", path, md5) < 0) {
		label_uri = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = set_add_locked(m, label_id, "dataset_uri", ds.md5);
	if (r == 0)
		r = set_add_locked(m, ds.artifact_id, "labels", path);
	if (r == 0)
		r = set_add_locked(m, ds.artifact_id, "labels_uri", label_uri);
out:
	free(dataset_path);
	free(label_uri);
	return r;
}

/*
 * Record that execution @execution_id used or made the bytes @md5 found at
 * @path: find or create the artifact of @kind, add the event, attribute it
 * to the stage, extend its url.  *ret_artifact_id gets the artifact.
 */
static int log_bytes_locked(struct model *m, int64_t execution_id, int side,
			    enum artifact_kind kind, const char *path,
			    const char *md5, int64_t *ret_artifact_id,
			    bool *ret_logged)
{
	struct exec_ctx ctx = { 0 };
	int ev = side == SIDE_INPUTS ? MLMD_EVENT_INPUT : MLMD_EVENT_OUTPUT;
	int64_t now = model_clock_ms(m), type_id, artifact_id;
	char *path_key = NULL;
	bool logged = true;
	sqlite3_stmt *s;
	int r;

	r = exec_ctx_load_locked(m, execution_id, &ctx);
	if (r < 0)
		return r;
	r = art_type_locked(m, kind, &type_id);
	if (r < 0)
		goto out;
	r = store_stmt(m->st, sql_artifact_by_uri, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_text(s, 1, md5, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, type_id);
	r = mlmd_step_int(s, &artifact_id);
	if (r == -ENOENT) {
		r = artifact_create_locked(m, kind, type_id, path, md5,
					   execution_id, &ctx, now,
					   &artifact_id);
		if (r == 0)
			r = mlmd_event_insert(m->st, artifact_id, execution_id,
					      ev, now, NULL);
		/* attributed to the stage that created it, as upstream does;
		 * executions that use it later add only their event */
		if (r == 0)
			r = mlmd_attribution_ensure(m->st, ctx.stage_id,
						    artifact_id);
	} else if (r == 0) {
		if (asprintf(&path_key, "%s:%s", path, md5) < 0) {
			path_key = NULL;
			r = -ENOMEM;
			goto out;
		}
		r = mlmd_event_insert(m->st, artifact_id, execution_id, ev, now,
				      path_key);
		if (r == -EEXIST) {
			logged = false;	/* this execution had it already */
			r = 0;
		}
		if (r == 0 && kind != ART_LABEL)
			r = url_append_locked(m, artifact_id, ctx.pipeline,
					      md5);
		if (r >= 0)
			r = mlmd_touch(m->st, MLMD_ARTIFACT, artifact_id, now);
	}
	if (r == 0 && kind == ART_LABEL)
		r = label_link_locked(m, execution_id, side, path, md5,
				      artifact_id);
	if (r == 0)
		r = mlmd_touch(m->st, MLMD_EXECUTION, execution_id, now);
	if (r == 0) {
		*ret_artifact_id = artifact_id;
		if (ret_logged)
			*ret_logged = logged;
	}
out:
	free(path_key);
	exec_ctx_release(&ctx);
	return r;
}

static int set_version_locked(struct model *m, int64_t id,
			      int64_t artifact_id, const char *md5,
			      uint64_t size, int64_t mtime_ns)
{
	sqlite3_stmt *s;
	int r = store_stmt(m->st, sql_entry_set_version, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, artifact_id);
	sqlite3_bind_text(s, 3, md5, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)size);
	sqlite3_bind_int64(s, 5, mtime_ns);
	sqlite3_bind_int64(s, 6, model_clock_ns(m));
	return mlmd_step_done(s);
}

static const struct mlmd_type_prop step_metrics_props[] = {
	{ "Commit", MLMD_PT_STRING },
	{ "url", MLMD_PT_STRING },
};

STORE_SQL(sql_first_uuid,
	"SELECT substr(`string_value`, 1, instr(`string_value` || ',', ',') - 1)"
	" FROM `ExecutionProperty` WHERE `execution_id` = ?1"
	" AND `name` = 'Execution_uuid' AND `is_custom_property` = 0");

/* A new Step_Metrics artifact for this version of metrics/NAME.csv. */
static int step_metrics_log_locked(struct model *m, const struct entry *e,
				   const char *md5, int64_t *ret_id)
{
	struct exec_ctx ctx = { 0 };
	int64_t type_id, id = 0, now = model_clock_ms(m);
	char *name = NULL, *url = NULL;
	const char *exec_uuid = "";
	sqlite3_stmt *s = NULL;
	char uuid[37];
	uuid_t u;
	int rc, r;

	r = exec_ctx_load_locked(m, e->execution_id, &ctx);
	if (r < 0)
		return r;
	r = store_stmt(m->st, sql_first_uuid, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, e->execution_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_text(s, 0))
		exec_uuid = (const char *)sqlite3_column_text(s, 0);
	uuid_generate_time(u);
	uuid_unparse_lower(u, uuid);
	/* cmflib's name: the file has no extension there (parquet) */
	if (asprintf(&name, "cmf_artifacts/%s/metrics/%.*s:%s:%lld:%s",
		     exec_uuid, (int)(strlen(e->name) - 4), e->name, md5,
		     (long long)e->execution_id, uuid) < 0)
		name = NULL;
	store_stmt_done(s);
	if (!name) {
		r = -ENOMEM;
		goto out;
	}
	url = remote_url_for(m, ctx.pipeline, md5);
	r = mlmd_type_ensure(m->st, MLMD_ARTIFACT_TYPE, "Step_Metrics",
			     step_metrics_props, 2, &type_id);
	if (r == 0)
		r = mlmd_artifact_insert(m->st, type_id, md5, name, now, &id);
	if (r == 0)
		r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, id, "Commit", false,
				      md5);
	if (r == 0)
		r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, id, "url", false,
				      url ? url : "");
	if (r == 0)
		r = mlmd_event_insert(m->st, id, e->execution_id,
				      MLMD_EVENT_OUTPUT, now, NULL);
	if (r == 0)
		r = mlmd_attribution_ensure(m->st, ctx.stage_id, id);
	if (r == 0)
		r = mlmd_touch(m->st, MLMD_EXECUTION, e->execution_id, now);
	if (r == 0)
		*ret_id = id;
out:
	free(name);
	free(url);
	exec_ctx_release(&ctx);
	return r;
}

static int entry_log_locked(struct model *m, const struct entry *e,
			    const char *md5, uint64_t size, int64_t mtime_ns,
			    bool *ret_logged)
{
	char *path = NULL;
	int64_t artifact_id;
	int r;

	if (e->artifact_id && !strcmp(e->md5, md5)) {
		if (ret_logged)
			*ret_logged = false;
		return set_version_locked(m, e->id, e->artifact_id, md5, size,
					  mtime_ns);
	}
	if (e->side == SIDE_STEP_METRICS) {
		r = step_metrics_log_locked(m, e, md5, &artifact_id);
		if (r == 0)
			r = set_version_locked(m, e->id, artifact_id, md5, size,
					       mtime_ns);
		if (r == 0 && ret_logged)
			*ret_logged = true;
		return r;
	}
	if (e->side == SIDE_TENSORBOARD || e->side == SIDE_DATASLICE) {
		/* kept and uploaded, not an artifact */
		sqlite3_stmt *s;

		if (ret_logged)
			*ret_logged = false;
		r = store_stmt(m->st, sql_entry_set_bytes, &s);
		if (r < 0)
			return r;
		sqlite3_bind_int64(s, 1, e->id);
		sqlite3_bind_text(s, 2, md5, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (int64_t)size);
		sqlite3_bind_int64(s, 4, mtime_ns);
		sqlite3_bind_int64(s, 5, model_clock_ns(m));
		return mlmd_step_done(s);
	}
	r = entry_path_locked(m, e->id, &path);
	if (r < 0)
		return r;
	r = log_bytes_locked(m, e->execution_id, e->side, kind_for_path(path),
			     path, md5, &artifact_id, ret_logged);
	if (r == 0)
		r = set_version_locked(m, e->id, artifact_id, md5, size,
				       mtime_ns);
	free(path);
	return r;
}


int model_entry_log(struct model *m, int64_t id, const char *md5,
		    uint64_t size, int64_t mtime_ns, bool *ret_logged)
{
	struct rec w = { .len = 0 };
	struct entry e;
	int r;

	if (!hash_is_md5(md5))
		return -EINVAL;
	r = store_batch_begin(m->st);
	if (r < 0)
		return r;
	m->change_ns = model_clock_ns(m);
	r = entry_get_locked(m, id, &e);
	if (r == 0 && e.is_dir)
		r = -EISDIR;
	if (r == 0)
		r = entry_log_locked(m, &e, md5, size, mtime_ns, ret_logged);
	if (r == 0) {
		rec_put(&w, REC_LOG, 1);
		rec_put(&w, (uint64_t)id, 8);
		rec_put(&w, size, 8);
		rec_put(&w, (uint64_t)mtime_ns, 8);
		rec_put(&w, (uint64_t)m->change_ns, 8);
		rec_put_bytes(&w, md5, MD5_HEX_LEN);
	}
	m->change_ns = 0;
	r = store_batch_end(m->st, r, w.b, w.len);
	/* types found by a change undone may not exist */
	if (r < 0)
		memset(m->art_type_seen, 0, sizeof(m->art_type_seen));
	store_unlock(m->st);
	return r;
}

int entry_record_object(const void *rec, size_t len,
			char md5[MD5_HEX_LEN + 1])
{
	const unsigned char *p = rec;

	/* 'L' id size mtime_ns time md5: the md5 ends the record */
	if (len != 1 + 4 * 8 + MD5_HEX_LEN || p[0] != REC_LOG)
		return 0;
	memcpy(md5, p + len - MD5_HEX_LEN, MD5_HEX_LEN);
	md5[MD5_HEX_LEN] = '\0';
	return hash_is_md5(md5) ? 1 : 0;
}

int entry_replay_locked(void *ud, const void *rec, size_t len)
{
	const unsigned char *p = rec;
	struct exec_ctx ctx = { 0 };
	struct model *m = ud;
	size_t pos = 1;
	bool bad = false;
	struct entry e;
	int64_t id, got;
	int r;

	if (len < 1)
		return -EBADMSG;
	id = (int64_t)rec_get(p, len, &pos, 8, &bad);
	if (p[0] == REC_CREATE) {
		int64_t exec = (int64_t)rec_get(p, len, &pos, 8, &bad);
		int side = (int)rec_get(p, len, &pos, 1, &bad);
		int64_t parent = (int64_t)rec_get(p, len, &pos, 8, &bad);
		bool is_dir = rec_get(p, len, &pos, 1, &bad) != 0;
		mode_t mode = (mode_t)rec_get(p, len, &pos, 4, &bad);
		uid_t uid = (uid_t)rec_get(p, len, &pos, 4, &bad);
		gid_t gid = (gid_t)rec_get(p, len, &pos, 4, &bad);
		int64_t t = (int64_t)rec_get(p, len, &pos, 8, &bad);
		char name[256];

		if (bad || id <= 0 || len - pos == 0 ||
		    len - pos >= sizeof(name))
			return -EBADMSG;
		memcpy(name, p + pos, len - pos);
		name[len - pos] = '\0';
		/* one component, as a create in the mount made it */
		if (strlen(name) != len - pos || strchr(name, '/') ||
		    !strcmp(name, ".") || !strcmp(name, ".."))
			return -EBADMSG;
		/* the log is the user's file: a record names what exists */
		if (side < SIDE_INPUTS || side > SIDE_DATASLICE)
			return -EBADMSG;
		r = exec_ctx_load_locked(m, exec, &ctx);
		exec_ctx_release(&ctx);
		if (r < 0)
			return r;
		m->change_ns = t;
		r = entry_insert_locked(m, exec, side, parent, name, is_dir, 0,
					NULL, 0, mode, uid, gid, id, &got);
		m->change_ns = 0;
		return r;
	}
	if (p[0] == REC_LOG) {
		uint64_t size = rec_get(p, len, &pos, 8, &bad);
		int64_t mtime_ns = (int64_t)rec_get(p, len, &pos, 8, &bad);
		int64_t t = (int64_t)rec_get(p, len, &pos, 8, &bad);
		char md5[MD5_HEX_LEN + 1];

		if (bad || len - pos != MD5_HEX_LEN)
			return -EBADMSG;
		memcpy(md5, p + pos, MD5_HEX_LEN);
		md5[MD5_HEX_LEN] = '\0';
		if (!hash_is_md5(md5))
			return -EBADMSG;
		r = entry_get_locked(m, id, &e);
		if (r == 0 && e.is_dir)
			r = -EISDIR;
		m->change_ns = t;
		if (r == 0)
			r = entry_log_locked(m, &e, md5, size, mtime_ns, NULL);
		m->change_ns = 0;
		return r;
	}
	return -EBADMSG;
}

int model_entry_link(struct model *m, int64_t src_id, int64_t execution_id,
		     int side, int64_t parent_id, const char *name,
		     struct entry *ret)
{
	struct entry src;
	char *new_path = NULL;
	char *type = NULL;
	char *key = NULL;
	int64_t id;
	int64_t now = model_clock_ms(m);
	struct exec_ctx ctx = { 0 };
	int ev = side == SIDE_INPUTS ? MLMD_EVENT_INPUT : MLMD_EVENT_OUTPUT;
	int r;

	r = store_write_begin(m->st);
	if (r < 0)
		goto out_free;
	r = entry_get_locked(m, src_id, &src);
	if (r < 0)
		goto out;
	if (src.is_dir) {
		r = -EPERM;
		goto out;
	}
	if (!src.artifact_id) {
		r = -EPERM;	/* nothing logged yet to link to */
		goto out;
	}
	r = entry_insert_locked(m, execution_id, side, parent_id, name, false,
				src.artifact_id, src.md5,
				src.size_known ? src.size : ENTRY_SIZE_UNKNOWN,
				src.mode,
				src.uid, src.gid, 0, &id);
	if (r == 0)
		r = entry_set_link_locked(m, id, src.inode_id);
	if (r < 0)
		goto out;
	if (side == SIDE_DATASLICE) {
		/* a member of a slice: no event until the slice is logged */
		r = entry_get_locked(m, id, ret);
		goto out;	/* committed there */
	}
	r = entry_path_locked(m, id, &new_path);
	if (r < 0)
		goto out;
	if (asprintf(&key, "%s:%s", new_path, src.md5) < 0) {
		key = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = exec_ctx_load_locked(m, execution_id, &ctx);
	if (r < 0)
		goto out;
	r = mlmd_event_insert(m->st, src.artifact_id, execution_id, ev, now,
			      key);
	if (r == -EEXIST)
		r = 0;
	/* a link adds only the event (upstream: no Attribution to a stage
	 * that re-uses an artifact) */
	if (r == 0)
		r = mlmd_touch(m->st, MLMD_EXECUTION, execution_id, now);
	if (r == 0)
		r = mlmd_artifact_type_name(m->st, src.artifact_id, &type);
	/* labels' url is not per pipeline; everything else gains one */
	if (r == 0 && strcmp(type, "Label"))
		r = url_append_locked(m, src.artifact_id, ctx.pipeline,
				      src.md5);
	if (r >= 0)
		r = entry_get_locked(m, id, ret);
out:
	r = store_write_end(m->st, r);
out_free:
	exec_ctx_release(&ctx);
	free(new_path);
	free(type);
	free(key);
	return r;
}

/*
 * True if artifact @a of entry @e exists only because @e logged it: one
 * event (by @e's execution), @entries entries (@e's and the links made
 * from it), and named after @old_path.
 */
static bool artifact_is_private_locked(struct model *m, const struct entry *e,
				       const char *old_path, int64_t entries)
{
	sqlite3_stmt *s;
	int64_t nevents = 0, exec = 0, nentries = 0;
	const char *name;
	size_t n = strlen(old_path);
	bool ok = false;

	if (store_stmt(m->st, sql_artifact_events, &s) < 0)
		return false;
	sqlite3_bind_int64(s, 1, e->artifact_id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		nevents = sqlite3_column_int64(s, 0);
		exec = sqlite3_column_int64(s, 1);
	}
	store_stmt_done(s);
	if (nevents != 1 || exec != e->execution_id)
		return false;
	if (store_stmt(m->st, sql_artifact_entries, &s) < 0)
		return false;
	sqlite3_bind_int64(s, 1, e->artifact_id);
	if (mlmd_step_int(s, &nentries) < 0 || nentries != entries)
		return false;
	if (store_stmt(m->st, sql_artifact_row, &s) < 0)
		return false;
	sqlite3_bind_int64(s, 1, e->artifact_id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(s, 1);
		ok = name && !strncmp(name, old_path, n) && name[n] == ':';
	}
	store_stmt_done(s);
	return ok;
}

static int artifact_delete_locked(struct model *m, int64_t id)
{
	static const char *const steps[] = {
		sql_artifact_props_delete, sql_artifact_eventpaths_delete,
		sql_artifact_events_delete, sql_artifact_attributions_delete,
		sql_artifact_delete,
	};
	size_t i;
	int r = 0;

	for (i = 0; i < N(steps) && r == 0; i++) {
		sqlite3_stmt *s;

		r = store_stmt(m->st, steps[i], &s);
		if (r < 0)
			break;
		sqlite3_bind_int64(s, 1, id);
		r = mlmd_step_done(s);
	}
	return r;
}

static int entry_delete_locked(struct model *m, int64_t id)
{
	sqlite3_stmt *s;
	int r = store_stmt(m->st, sql_entry_delete, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	return mlmd_step_done(s);
}

static int count_children_locked(struct model *m, int64_t id, int64_t *ret)
{
	sqlite3_stmt *s;
	int r = store_stmt(m->st, sql_entry_children, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	return mlmd_step_int(s, ret);
}

int model_entry_rename(struct model *m, int64_t id, int64_t new_parent,
		       const char *new_name, bool noreplace)
{
	struct entry e, target, p;
	char *old_path = NULL;
	int64_t walk, n;
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_begin(m->st);
	if (r < 0)
		goto out_unlock;
	r = entry_get_locked(m, id, &e);
	if (r < 0)
		goto out;
	/* the new parent must be a directory of the same tree, not below @e */
	for (walk = new_parent; walk != 0; walk = p.parent_id) {
		r = entry_get_locked(m, walk, &p);
		if (r < 0)
			goto out;
		if (!p.is_dir || p.execution_id != e.execution_id ||
		    p.side != e.side) {
			r = walk == new_parent ? -ENOTDIR : -EXDEV;
			goto out;
		}
		if (walk == e.id) {
			r = -EINVAL;
			goto out;
		}
	}
	r = entry_lookup_locked(m, e.execution_id, e.side, new_parent,
				new_name, &target);
	if (r == 0) {
		if (target.id == e.id)
			goto commit;
		if (noreplace) {
			r = -EEXIST;
			goto out;
		}
		if (target.is_dir && !e.is_dir) {
			r = -EISDIR;
			goto out;
		}
		if (!target.is_dir && e.is_dir) {
			r = -ENOTDIR;
			goto out;
		}
		if (target.is_dir) {
			r = count_children_locked(m, target.id, &n);
			if (r == 0 && n)
				r = -ENOTEMPTY;
			if (r < 0)
				goto out;
		}
		/* a replaced file's artifact and events stay: history */
		r = entry_delete_locked(m, target.id);
	} else if (r == -ENOENT) {
		r = 0;
	}
	if (r < 0)
		goto out;
	r = entry_path_locked(m, e.id, &old_path);
	if (r < 0)
		goto out;
	r = store_stmt(m->st, sql_entry_move, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, e.id);
	sqlite3_bind_int64(s, 2, new_parent);
	sqlite3_bind_text(s, 3, new_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, model_clock_ns(m));
	r = mlmd_step_done(s);
	if (r < 0)
		goto out;
	if (!e.is_dir && e.artifact_id &&
	    artifact_is_private_locked(m, &e, old_path, 1)) {
		/* log it as if it had been written under its final name */
		char md5[MD5_HEX_LEN + 1];

		memcpy(md5, e.md5, sizeof(md5));
		r = artifact_delete_locked(m, e.artifact_id);
		if (r < 0)
			goto out;
		e.artifact_id = 0;
		e.md5[0] = '\0';
		r = entry_log_locked(m, &e, md5,
				     e.size_known ? e.size : ENTRY_SIZE_UNKNOWN,
				     e.mtime_ns, NULL);
		if (r < 0)
			goto out;
	}
commit:
	r = store_commit(m->st);
out:
	if (r < 0)
		store_rollback(m->st);
out_unlock:
	store_unlock(m->st);
	free(old_path);
	return r;
}

/* Is @e below a committed (.dir) directory?  Its members are history. */
static int in_committed_dir_locked(struct model *m, const struct entry *e,
				   bool *ret)
{
	struct entry p;
	int64_t walk;
	int r;

	for (walk = e->parent_id; walk != 0; walk = p.parent_id) {
		r = entry_get_locked(m, walk, &p);
		if (r < 0)
			return r;
		if (p.artifact_id) {
			*ret = true;
			return 0;
		}
	}
	*ret = false;
	return 0;
}

/*
 * @e is being removed.  If its current version is a scratch file's (see
 * model_entry_remove()), delete that artifact and every earlier version of
 * the same path that never left the execution either.  Otherwise leave
 * everything: history.  Caller holds a write transaction.
 */
static int drop_scratch_locked(struct model *m, const struct entry *e)
{
	int ev = e->side == SIDE_INPUTS ? MLMD_EVENT_INPUT : MLMD_EVENT_OUTPUT;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0, i;
	bool current = false;
	char *path = NULL;
	sqlite3_stmt *s;
	int rc, r;

	r = entry_path_locked(m, e->id, &path);
	if (r < 0)
		return r;
	r = store_stmt(m->st, sql_scratch_versions, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, e->execution_id);
	sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, e->id);
	sqlite3_bind_int(s, 4, ev);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (array_reserve(&ids, &cap, n + 1, sizeof(*ids)) < 0) {
			r = -ENOMEM;
			break;
		}
		ids[n] = sqlite3_column_int64(s, 0);
		current |= ids[n] == e->artifact_id;
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
	for (i = 0; r == 0 && current && i < n; i++)
		r = artifact_delete_locked(m, ids[i]);
out:
	free(ids);
	free(path);
	return r;
}

/*
 * The other file showing @e's artifact, if removing @e is the second half
 * of a rename made of link() and unlink() (git's objects: tmp_obj_XXXX is
 * linked to its final name, then removed): the artifact is named after
 * @e's path, its one event is @e's execution's, exactly one other entry of
 * the same execution and side shows it, and it was not pushed since.
 * *ret_other is then that entry; otherwise its id is 0.
 */
static int link_moved_locked(struct model *m, const struct entry *e,
			     struct entry *ret_other)
{
	sqlite3_stmt *s;
	int64_t other = 0;
	char *path = NULL;
	int r;

	ret_other->id = 0;
	r = store_stmt(m->st, sql_link_other, &s);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, e->artifact_id);
	sqlite3_bind_int64(s, 2, e->id);
	sqlite3_bind_int64(s, 3, e->execution_id);
	r = mlmd_step_int(s, &other);
	if (r == -ENOENT || (r == 0 && !other))
		return 0;
	if (r < 0)
		return r;
	r = entry_get_locked(m, other, ret_other);
	if (r < 0)
		return r;
	if (ret_other->execution_id != e->execution_id ||
	    ret_other->side != e->side)
		goto not_moved;
	r = entry_path_locked(m, e->id, &path);
	if (r < 0)
		return r;
	if (!artifact_is_private_locked(m, e, path, 2))
		goto not_moved;
	free(path);
	return 0;
not_moved:
	free(path);
	ret_other->id = 0;
	return 0;
}

/* Name the artifact of @e (shown by @other too) after @other: as if the
 * bytes had been written under @other's path. */
static int relog_after_locked(struct model *m, const struct entry *e,
			      struct entry *other)
{
	char md5[MD5_HEX_LEN + 1];
	int r;

	memcpy(md5, e->md5, sizeof(md5));
	md5[MD5_HEX_LEN] = '\0';
	r = artifact_delete_locked(m, e->artifact_id);
	if (r < 0)
		return r;
	other->artifact_id = 0;
	other->md5[0] = '\0';
	return entry_log_locked(m, other, md5, other->size, other->mtime_ns,
				NULL);
}

int model_entry_remove(struct model *m, int64_t id)
{
	struct entry other = { 0 };
	struct entry e;
	bool committed;
	int64_t n;
	int r;

	r = store_write_begin(m->st);
	if (r < 0)
		return r;
	r = entry_get_locked(m, id, &e);
	if (r < 0)
		goto out;
	if (e.is_dir && e.artifact_id) {
		r = -EPERM;	/* a committed directory is history too */
	} else if (e.is_dir) {
		r = count_children_locked(m, id, &n);
		if (r == 0 && n)
			r = -ENOTEMPTY;
	} else if (e.artifact_id && (e.side == SIDE_INPUTS ||
				     e.side == SIDE_OUTPUTS)) {
		r = in_committed_dir_locked(m, &e, &committed);
		if (r == 0 && committed)
			r = -EPERM;
		if (r == 0)
			r = link_moved_locked(m, &e, &other);
		if (r == 0 && !other.id)
			r = drop_scratch_locked(m, &e);
	} else if (e.artifact_id && e.side != SIDE_TENSORBOARD &&
		   e.side != SIDE_DATASLICE) {
		r = -EPERM;	/* step metrics: every commit is history */
	}
	if (r == 0)
		r = entry_delete_locked(m, id);
	if (r == 0 && other.id)
		r = relog_after_locked(m, &e, &other);
out:
	r = store_write_end(m->st, r);
	return r;
}

int model_entry_setattr(struct model *m, int64_t id, unsigned what,
			mode_t mode, uid_t uid, gid_t gid, int64_t mtime_ns)
{
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_entry_setattr, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, !!(what & ENTRY_SET_MODE));
	sqlite3_bind_int64(s, 3, mode & 07777);
	sqlite3_bind_int(s, 4, !!(what & ENTRY_SET_OWNER));
	sqlite3_bind_int64(s, 5, uid);
	sqlite3_bind_int64(s, 6, gid);
	sqlite3_bind_int(s, 7, !!(what & ENTRY_SET_MTIME));
	sqlite3_bind_int64(s, 8, mtime_ns);
	sqlite3_bind_int64(s, 9, model_clock_ns(m));
	r = mlmd_step_done(s);
	if (r == 0 && sqlite3_changes(store_db(m->st)) == 0)
		r = -ENOENT;
out:
	store_unlock(m->st);
	return r;
}

int model_entry_drop_unlogged(struct model *m)
{
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_entry_drop_unlogged, &s);
	if (r == 0)
		r = mlmd_step_done(s);
	if (r == 0)
		r = sqlite3_changes(store_db(m->st));
	store_unlock(m->st);
	return r;
}

/* --- artifact attributes --------------------------------------------------- */

int model_artifact_attr(struct model *m, int64_t id, const char *key,
			char **ret_value)
{
	sqlite3_stmt *s;
	int rc, col = -1, r;

	if (!strcmp(key, "hash"))
		col = 0;
	else if (!strcmp(key, "name"))
		col = 1;
	else if (!strcmp(key, "type"))
		col = 2;
	store_lock(m->st);
	if (col >= 0) {
		r = store_stmt(m->st, sql_artifact_row, &s);
		if (r < 0)
			goto out;
		sqlite3_bind_int64(s, 1, id);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(s, col);

			*ret_value = strdup(t ? t : "");
			r = *ret_value ? 0 : -ENOMEM;
		} else {
			r = rc == SQLITE_DONE ? -ENODATA : store_errno(rc);
		}
		store_stmt_done(s);
	} else if (!strcmp(key, "url")) {
		r = mlmd_prop_get_text(m->st, MLMD_ARTIFACT, id, "url", false,
				       ret_value);
	} else if (!strncmp(key, "prop.", 5) && key[5]) {
		r = mlmd_prop_get_text(m->st, MLMD_ARTIFACT, id, key + 5, true,
				       ret_value);
	} else {
		r = -ENODATA;
	}
	if (r == -ENOENT)
		r = -ENODATA;
out:
	store_unlock(m->st);
	return r;
}

int model_artifact_attr_keys(struct model *m, int64_t id, char **ret_keys,
			     size_t *ret_len)
{
	static const char fixed[] = "hash\0type\0name\0url\0lineage";
	sqlite3_stmt *s;
	struct sb sb;
	int rc, r;

	sb_init(&sb, 1 << 20);
	sb_append(&sb, fixed, sizeof(fixed));
	store_lock(m->st);
	r = store_stmt(m->st, sql_artifact_custom_keys, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		sb_puts(&sb, "prop.");
		sb_puts(&sb, (const char *)sqlite3_column_text(s, 0));
		sb_putc(&sb, '\0');
	}
	if (rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
out:
	store_unlock(m->st);
	if (r == 0 && sb_err(&sb))
		r = sb_err(&sb);
	if (r == 0) {
		*ret_keys = sb_detach(&sb, ret_len);
		r = *ret_keys ? 0 : -ENOMEM;
	}
	sb_release(&sb);
	return r;
}

int model_entry_tree(struct model *m, int64_t dir_id,
		     struct manifest_entry **ret_entries, size_t *ret_n)
{
	struct manifest_entry *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_entry_tree, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, dir_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *md5 = (const char *)sqlite3_column_text(s, 1);

		if (!md5 || !hash_is_md5(md5)) {
			r = -EBUSY;	/* written right now, or not a file */
			break;
		}
		if (array_reserve(&v, &cap, n + 1,
				  sizeof(*v)) < 0) {
			r = -ENOMEM;
			break;
		}
		v[n].relpath = strdup((const char *)sqlite3_column_text(s, 0));
		if (!v[n].relpath) {
			r = -ENOMEM;
			break;
		}
		memcpy(v[n].md5, md5, MD5_HEX_LEN + 1);
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
out:
	store_unlock(m->st);
	if (r < 0) {
		manifest_free(v, n);
		return r;
	}
	*ret_entries = v;
	*ret_n = n;
	return 0;
}

int model_entry_log_dir(struct model *m, int64_t dir_id, const char *oid,
			uint64_t size)
{
	struct entry e;
	char *path = NULL;
	int64_t artifact_id;
	int r;

	if (!manifest_is_oid(oid))
		return -EINVAL;
	store_lock(m->st);
	r = store_begin(m->st);
	if (r < 0)
		goto out;
	r = entry_get_locked(m, dir_id, &e);
	if (r == 0 && !e.is_dir)
		r = -ENOTDIR;
	if (r == 0 && e.side != SIDE_INPUTS && e.side != SIDE_OUTPUTS)
		r = -EPERM;
	if (r == 0 && e.artifact_id && !strcmp(e.md5, oid))
		goto commit;	/* committed as it is already */
	if (r == 0)
		r = entry_path_locked(m, dir_id, &path);
	if (r == 0)
		r = log_bytes_locked(m, e.execution_id, e.side,
				     kind_for_path(path), path, oid,
				     &artifact_id, NULL);
	if (r == 0)
		r = set_version_locked(m, dir_id, artifact_id, oid, size,
				       model_clock_ns(m));
commit:
	r = store_end(m->st, r);
out:
	store_unlock(m->st);
	free(path);
	return r;
}
