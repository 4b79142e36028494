/* SPDX-License-Identifier: MIT */
/*
 * Dataslices (doc/cmf-upstream.md §6.3) and the per-file properties of their
 * members; see model.h.  Upstream writes a slice as parquet (index Path,
 * columns hash and the properties); with no parquet library here the
 * manifest is the same table as CSV.
 */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "array.h"
#include "model_i.h"
#include "sb.h"

STORE_SQL(sql_prop_set,
	"INSERT OR REPLACE INTO cmffs_entry_prop(entry_id, name, value)"
	" VALUES (?1, ?2, ?3)");
STORE_SQL(sql_prop_get,
	"SELECT value FROM cmffs_entry_prop WHERE entry_id = ?1 AND name = ?2");
STORE_SQL(sql_prop_delete,
	"DELETE FROM cmffs_entry_prop WHERE entry_id = ?1 AND name = ?2");
STORE_SQL(sql_prop_keys,
	"SELECT name, value FROM cmffs_entry_prop WHERE entry_id = ?1"
	" ORDER BY name");
/* members of a slice: relpath, md5, the linked artifact's path, id */
STORE_SQL(sql_members,
	"WITH RECURSIVE t(id, rel, is_dir, md5, artifact_id) AS ("
	" SELECT id, name, is_dir, md5, artifact_id FROM cmffs_entry"
	" WHERE parent_id = ?1"
	" UNION ALL SELECT e.id, t.rel || '/' || e.name, e.is_dir, e.md5,"
	" e.artifact_id FROM cmffs_entry e JOIN t ON e.parent_id = t.id"
	" WHERE t.is_dir = 1)"
	" SELECT t.id, t.rel, t.md5, CASE WHEN a.`name` IS NULL THEN NULL"
	" ELSE substr(a.`name`, 1, instr(a.`name` || ':', ':') - 1) END"
	" FROM t LEFT JOIN `Artifact` a ON a.`id` = t.artifact_id"
	" WHERE t.is_dir = 0");
STORE_SQL(sql_first_uuid,
	"SELECT substr(`string_value`, 1, instr(`string_value` || ',', ',') - 1)"
	" FROM `ExecutionProperty` WHERE `execution_id` = ?1"
	" AND `name` = 'Execution_uuid' AND `is_custom_property` = 0");
STORE_SQL(sql_dataslice_by_uri,
	"SELECT `id` FROM `Artifact` WHERE `uri` = ?1 AND `type_id` = ?2"
	" ORDER BY `id` DESC LIMIT 1");
STORE_SQL(sql_set_dir,
	"UPDATE cmffs_entry SET artifact_id = ?2, md5 = ?3, size = ?4"
	" WHERE id = ?1");
STORE_SQL(sql_entry_of,
	"SELECT execution_id, side, name, is_dir FROM cmffs_entry WHERE id = ?1");

static const struct mlmd_type_prop dataslice_props[] = {
	{ "git_repo", MLMD_PT_STRING },
	{ "Commit", MLMD_PT_STRING },
	{ "url", MLMD_PT_STRING },
};

int model_entry_prop_set(struct model *m, int64_t id, const char *key,
			 const char *value)
{
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_prop_set, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, value, -1, SQLITE_STATIC);
		r = mlmd_step_done(s);
	}
	store_unlock(m->st);
	return r;
}

int model_entry_prop_get(struct model *m, int64_t id, const char *key,
			 char **ret_value)
{
	sqlite3_stmt *s;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_prop_get, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*ret_value = strdup((const char *)sqlite3_column_text(s, 0));
			r = *ret_value ? 0 : -ENOMEM;
		} else {
			r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
		}
		store_stmt_done(s);
	}
	store_unlock(m->st);
	return r;
}

int model_entry_prop_delete(struct model *m, int64_t id, const char *key)
{
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_prop_delete, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
		r = mlmd_step_done(s);
		if (r == 0 && sqlite3_changes(store_db(m->st)) == 0)
			r = -ENOENT;
	}
	store_unlock(m->st);
	return r;
}

int model_entry_prop_keys(struct model *m, int64_t id, char **ret_keys,
			  size_t *ret_len)
{
	sqlite3_stmt *s;
	struct sb sb;
	int rc, r;

	sb_init(&sb, 1 << 20);
	store_lock(m->st);
	r = store_stmt(m->st, sql_prop_keys, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, id);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			sb_puts(&sb, "prop.");
			sb_puts(&sb, (const char *)sqlite3_column_text(s, 0));
			sb_putc(&sb, '\0');
		}
		if (rc != SQLITE_DONE)
			r = store_errno(rc);
		store_stmt_done(s);
	}
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

struct member {
	int64_t id;
	char *path;
	char md5[MD5_HEX_LEN + 1];
};

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->path,
		      ((const struct member *)b)->path);
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A CSV field, quoted when it needs to be (RFC 4180). */
static void csv_field(struct sb *sb, const char *v)
{
	if (!v[strcspn(v, ",\"\r\n")]) {
		sb_puts(sb, v);
		return;
	}
	sb_putc(sb, '"');
	for (; *v; v++) {
		if (*v == '"')
			sb_putc(sb, '"');
		sb_putc(sb, *v);
	}
	sb_putc(sb, '"');
}

int model_dataslice_manifest(struct model *m, int64_t dir_id, char **ret_csv,
			     size_t *ret_len)
{
	struct member *v = NULL;
	char **cols = NULL;
	size_t n = 0, cap = 0, ncols = 0, i, j;
	sqlite3_stmt *s;
	struct sb sb;
	int rc, r;

	sb_init(&sb, 0);
	store_lock(m->st);
	r = store_stmt(m->st, sql_members, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, dir_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *md5 = (const char *)sqlite3_column_text(s, 2);
		const char *apath = (const char *)sqlite3_column_text(s, 3);

		if (!md5 || !hash_is_md5(md5)) {
			r = -EBUSY;
			break;
		}
		if (array_reserve(&v, &cap, n + 1,
				  sizeof(*v)) < 0) {
			r = -ENOMEM;
			break;
		}
		v[n].id = sqlite3_column_int64(s, 0);
		v[n].path = strdup(apath ? apath
				   : (const char *)sqlite3_column_text(s, 1));
		memcpy(v[n].md5, md5, MD5_HEX_LEN + 1);
		if (!v[n].path) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
	/* the property columns: every key any member has */
	for (i = 0; r == 0 && i < n; i++) {
		r = store_stmt(m->st, sql_prop_keys, &s);
		if (r < 0)
			break;
		sqlite3_bind_int64(s, 1, v[i].id);
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *k = (const char *)sqlite3_column_text(s, 0);
			bool seen = false;

			for (j = 0; j < ncols && !seen; j++)
				seen = !strcmp(cols[j], k);
			if (seen)
				continue;
			cols = reallocarray(cols, ncols + 1, sizeof(*cols));
			if (!cols || !(cols[ncols] = strdup(k))) {
				r = -ENOMEM;
				break;
			}
			ncols++;
		}
		store_stmt_done(s);
	}
	if (r < 0)
		goto out;
	if (n)
		qsort(v, n, sizeof(*v), by_path);
	if (ncols)
		qsort(cols, ncols, sizeof(*cols), by_str);
	sb_puts(&sb, "path,hash");
	for (j = 0; j < ncols; j++) {
		sb_putc(&sb, ',');
		csv_field(&sb, cols[j]);
	}
	sb_putc(&sb, '\n');
	for (i = 0; i < n; i++) {
		csv_field(&sb, v[i].path);
		sb_putc(&sb, ',');
		sb_puts(&sb, v[i].md5);
		for (j = 0; j < ncols; j++) {
			sb_putc(&sb, ',');
			r = store_stmt(m->st, sql_prop_get, &s);
			if (r < 0)
				goto out;
			sqlite3_bind_int64(s, 1, v[i].id);
			sqlite3_bind_text(s, 2, cols[j], -1, SQLITE_STATIC);
			if (sqlite3_step(s) == SQLITE_ROW)
				csv_field(&sb, (const char *)sqlite3_column_text(s, 0));
			store_stmt_done(s);
		}
		sb_putc(&sb, '\n');
	}
	r = sb_err(&sb);
	if (r == 0) {
		*ret_csv = sb_detach(&sb, ret_len);
		r = *ret_csv ? 0 : -ENOMEM;
	}
out:
	store_unlock(m->st);
	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
	for (j = 0; j < ncols; j++)
		free(cols[j]);
	free(cols);
	sb_release(&sb);
	return r;
}

int model_dataslice_log(struct model *m, int64_t dir_id, const char *md5,
			uint64_t size)
{
	struct exec_ctx ctx = { 0 };
	int64_t exec = 0, type_id, id = 0, now = store_now_ms();
	char *name = NULL, *slice = NULL, *url = NULL;
	const char *uuid = "";
	sqlite3_stmt *s;
	int side = -1, rc, r;

	if (!hash_is_md5(md5))
		return -EINVAL;
	r = store_write_begin(m->st);
	if (r < 0)
		goto out_free;
	r = store_stmt(m->st, sql_entry_of, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, dir_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_int(s, 3)) {
		exec = sqlite3_column_int64(s, 0);
		side = sqlite3_column_int(s, 1);
		slice = strdup((const char *)sqlite3_column_text(s, 2));
	}
	store_stmt_done(s);
	if (side != SIDE_DATASLICE || !slice) {
		r = slice || side != -1 ? -EINVAL : -ENOENT;
		goto out;
	}
	r = exec_ctx_load_locked(m, exec, &ctx);
	if (r == 0)
		r = store_stmt(m->st, sql_first_uuid, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, exec);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		uuid = (const char *)sqlite3_column_text(s, 0);
	if (asprintf(&name, "cmf_artifacts/%s/dataslice/%s:%s", uuid, slice,
		     md5) < 0)
		name = NULL;
	store_stmt_done(s);
	if (!name) {
		r = -ENOMEM;
		goto out;
	}
	r = mlmd_type_ensure(m->st, MLMD_ARTIFACT_TYPE, "Dataslice",
			     dataslice_props, 3, &type_id);
	if (r == 0)
		r = store_stmt(m->st, sql_dataslice_by_uri, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_text(s, 1, md5, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, type_id);
	r = mlmd_step_int(s, &id);
	if (r == -ENOENT) {
		if (m->remote && asprintf(&url, "%s:%s/files/md5/%.2s/%s",
					  ctx.pipeline, m->remote, md5,
					  md5 + 2) < 0)
			url = NULL;
		r = mlmd_artifact_insert(m->st, type_id, md5, name, now, &id);
		if (r == 0)
			r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, id,
					      "git_repo", false, ctx.git_repo);
		if (r == 0)
			r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, id,
					      "Commit", false, md5);
		if (r == 0)
			r = mlmd_prop_set_str(m->st, MLMD_ARTIFACT, id, "url",
					      false, url ? url : "");
	}
	/* the slice directory's own properties: its custom properties */
	if (r == 0)
		r = store_stmt(m->st, sql_prop_keys, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, dir_id);
		while (r == 0 && sqlite3_step(s) == SQLITE_ROW) {
			struct value v;

			value_parse((const char *)sqlite3_column_text(s, 1), &v);
			r = mlmd_prop_set(m->st, MLMD_ARTIFACT, id,
					  (const char *)sqlite3_column_text(s, 0),
					  true, &v);
		}
		store_stmt_done(s);
	}
	if (r == 0) {
		r = mlmd_event_insert(m->st, id, exec, MLMD_EVENT_OUTPUT, now,
				      NULL);
		if (r == -EEXIST)
			r = 0;	/* re-committed unchanged (upstream §8.11) */
	}
	if (r == 0)
		r = mlmd_attribution_ensure(m->st, ctx.stage_id, id);
	if (r == 0)
		r = mlmd_touch(m->st, MLMD_EXECUTION, exec, now);
	if (r == 0)
		r = store_stmt(m->st, sql_set_dir, &s);
	if (r == 0) {
		sqlite3_bind_int64(s, 1, dir_id);
		sqlite3_bind_int64(s, 2, id);
		sqlite3_bind_text(s, 3, md5, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, (int64_t)size);
		r = mlmd_step_done(s);
	}
out:
	r = store_write_end(m->st, r);
out_free:
	exec_ctx_release(&ctx);
	free(name);
	free(slice);
	free(url);
	return r;
}
