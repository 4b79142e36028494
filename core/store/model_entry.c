/* SPDX-License-Identifier: MIT */
/*
 * The file tree of an execution: entries (files and directories below
 * inputs/, outputs/ and the other sides), their creation, links, renames,
 * removal and attributes; see model.h.  What logging a file's version
 * records is model_log.c's; the redo records of batched changes are
 * model_redo.c's.
 */

#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "hash.h"
#include "model_i.h"
#include "dirmanifest.h"
#include "sb.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

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
STORE_SQL(sql_artifact_name,
	"SELECT `name` FROM `Artifact` WHERE `id` = ?1");
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
	return store_run_locked(m->st, sql_entry_set_link, "ii", id,
				inode_id);
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

int entry_get_locked(struct model *m, int64_t id, struct entry *ret)
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
int entry_path_locked(struct model *m, int64_t id, char **ret_path)
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

static int entry_new(struct model *m, int64_t execution_id, int side,
		     int64_t parent_id, const char *name, bool is_dir,
		     mode_t mode, uid_t uid, gid_t gid, struct entry *ret)
{
	unsigned char rec[REDO_RECORD_MAX];
	size_t len = 0;
	int64_t id;
	int r;

	r = store_batch_begin(m->st);
	if (r < 0)
		return r;
	m->change_ns = model_clock_ns(m);
	r = entry_insert_locked(m, execution_id, side, parent_id, name, is_dir,
				0, NULL, 0, mode, uid, gid, 0, &id);
	if (r == 0) {
		/* the row as entry_from_row() would read it back */
		memset(ret, 0, sizeof(*ret));
		ret->id = ret->inode_id = id;
		ret->execution_id = execution_id;
		ret->side = side;
		ret->parent_id = parent_id;
		ret->is_dir = is_dir;
		ret->size_known = true;
		ret->mode = mode & 07777;
		ret->uid = uid;
		ret->gid = gid;
		ret->mtime_ns = ret->ctime_ns = m->change_ns;
		ret->nlink = 1;
		snprintf(ret->name, sizeof(ret->name), "%s", name);
	}
	if (r == 0)
		r = entry_record_create(ret, m->change_ns, rec, &len);
	m->change_ns = 0;
	r = store_batch_end(m->st, r, rec, len);
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
	if (store_stmt(m->st, sql_artifact_name, &s) < 0)
		return false;
	sqlite3_bind_int64(s, 1, e->artifact_id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(s, 0);
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
	return store_run_locked(m->st, sql_entry_delete, "i", id);
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

/* A file of a committed directory: its path below it and its md5. */
static int tree_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	struct manifest_entry *e = elem;
	const char *md5 = (const char *)sqlite3_column_text(s, 1);

	(void)arg;
	if (!md5 || !hash_is_md5(md5))
		return -EBUSY;	/* written right now, or not a file */
	e->relpath = strdup((const char *)sqlite3_column_text(s, 0));
	if (!e->relpath)
		return -ENOMEM;
	memcpy(e->md5, md5, MD5_HEX_LEN + 1);
	return 0;
}

static void tree_row_release(void *elem)
{
	struct manifest_entry *e = elem;

	free(e->relpath);
}

int model_entry_tree(struct model *m, int64_t dir_id,
		     struct manifest_entry **ret_entries, size_t *ret_n)
{
	struct store_rows rows = STORE_ROWS_INIT(struct manifest_entry,
						 tree_row_release);
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_entry_tree, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, dir_id);
		r = store_rows_collect(&rows, s, tree_row_copy, NULL);
	}
	store_unlock(m->st);
	if (r < 0) {
		store_rows_free(&rows);
		return r;
	}
	*ret_entries = rows.v;
	*ret_n = rows.n;
	return 0;
}
