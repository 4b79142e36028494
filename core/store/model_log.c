/* SPDX-License-Identifier: MIT */
/*
 * Logging a file's bytes as an artifact of its execution; see model.h.
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

STORE_SQL(sql_artifact_row,
	"SELECT a.`uri`, a.`name`, t.`name` FROM `Artifact` a JOIN `Type` t"
	" ON t.`id` = a.`type_id` WHERE a.`id` = ?1");
STORE_SQL(sql_entry_set_bytes,
	"UPDATE cmffs_entry SET artifact_id = NULL, md5 = ?2, size = ?3,"
	" mtime_ns = ?4, ctime_ns = ?5 WHERE id = ?1");
STORE_SQL(sql_entry_set_version,
	"UPDATE cmffs_entry SET artifact_id = ?2, md5 = ?3, size = ?4,"
	" mtime_ns = ?5, ctime_ns = ?6 WHERE id = ?1");
STORE_SQL(sql_artifact_by_uri,
	"SELECT `id` FROM `Artifact` WHERE `uri` = ?1 AND `type_id` = ?2"
	" ORDER BY `id` DESC LIMIT 1");
STORE_SQL(sql_artifact_custom_keys,
	"SELECT `name` FROM `ArtifactProperty` WHERE `artifact_id` = ?1"
	" AND `is_custom_property` = 1 ORDER BY `name`");

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
int url_append_locked(struct model *m, int64_t artifact_id,
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
	return store_run_locked(m->st, sql_touch_executions_of_artifact, "ii",
				artifact_id, now);
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

int entry_log_locked(struct model *m, const struct entry *e,
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
	unsigned char rec[REDO_RECORD_MAX];
	size_t len = 0;
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
	if (r == 0)
		r = entry_record_log(id, size, mtime_ns, m->change_ns, md5, rec,
				     &len);
	m->change_ns = 0;
	r = store_batch_end(m->st, r, rec, len);
	/* types found by a change undone may not exist */
	if (r < 0)
		memset(m->art_type_seen, 0, sizeof(m->art_type_seen));
	store_unlock(m->st);
	return r;
}

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

