/* SPDX-License-Identifier: MIT */
/*
 * Merging a CMF JSON document into the store (cmffs import, and pull):
 * the client side of cmf-upstream.md §2.5, made idempotent.
 */
#include "document.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "array.h"
#include "dirmanifest.h"
#include "hash.h"
#include "model_i.h"
#include "names.h"

struct importer {
	struct model *m;
	struct import_stats stats;
	char *err;		/* first error, owned */
};

static const char sql_uuid_candidates[] =
	"SELECT `execution_id`, `string_value` FROM `ExecutionProperty`"
	" WHERE `name` = 'Execution_uuid' AND `is_custom_property` = 0"
	" AND instr(`string_value`, ?1) > 0";
static const char sql_execution_type[] =
	"SELECT `type_id` FROM `Execution` WHERE `id` = ?1";
static const char sql_execution_by_name[] =
	"SELECT `id` FROM `Execution` WHERE `type_id` = ?1 AND `name` = ?2";
static const char sql_artifact_by_uri[] =
	"SELECT `id` FROM `Artifact` WHERE `uri` = ?1 AND `type_id` = ?2"
	" ORDER BY `id` DESC LIMIT 1";
static const char sql_artifact_by_name[] =
	"SELECT `id` FROM `Artifact` WHERE `type_id` = ?1 AND `name` = ?2";
static const char sql_event_exists[] =
	"SELECT count(*) FROM `Event` WHERE `artifact_id` = ?1"
	" AND `execution_id` = ?2 AND `type` = ?3";
/* events of executions whose files were never placed (made by cmflib) */
static const char sql_foreign_events[] =
	"SELECT ev.`execution_id`, ev.`type`, a.`id`, a.`name`, a.`uri`"
	" FROM `Event` ev JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"
	" JOIN `Type` t ON t.`id` = a.`type_id`"
	" WHERE ev.`type` IN (3, 4) AND length(a.`uri`) IN (32, 36)"
	" AND t.`name` <> 'Metrics' AND a.`name` IS NOT NULL"
	" AND NOT EXISTS (SELECT 1 FROM cmffs_entry x"
	"  WHERE x.execution_id = ev.`execution_id`)"
	" ORDER BY ev.`id`";
static const char sql_commit_dir[] =
	"UPDATE cmffs_entry SET artifact_id = ?2, md5 = ?3 WHERE id = ?1";
static const char sql_set_times[] =
	"UPDATE `Execution` SET `create_time_since_epoch` = ?2,"
	" `last_update_time_since_epoch` = ?3 WHERE `id` = ?1";

static int fail(struct importer *im, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct importer *im, int r, const char *fmt, ...)
{
	va_list ap;

	if (!im->err) {
		va_start(ap, fmt);
		if (vasprintf(&im->err, fmt, ap) < 0)
			im->err = NULL;
		va_end(ap);
	}
	return r;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t jtime(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v)
				  : store_now_ms();
}

/* A JSON property value as an MLMD value; -EINVAL for objects/arrays. */
static int jvalue(json_t *v, struct value *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (json_is_string(v)) {
		ret->kind = VALUE_STRING;
		ret->s = json_string_value(v);
	} else if (json_is_integer(v)) {
		ret->kind = VALUE_INT;
		ret->i = (int64_t)json_integer_value(v);
	} else if (json_is_real(v)) {
		ret->kind = VALUE_DOUBLE;
		ret->d = json_real_value(v);
	} else if (json_is_boolean(v)) {
		ret->kind = VALUE_INT;
		ret->i = json_is_true(v);
	} else {
		return -EINVAL;
	}
	return 0;
}

static enum mlmd_ptype ptype_of(const struct value *v)
{
	return v->kind == VALUE_INT	 ? MLMD_PT_INT
	       : v->kind == VALUE_DOUBLE ? MLMD_PT_DOUBLE
					 : MLMD_PT_STRING;
}

/*
 * Set the properties of @obj[@key] on a node.  Declared ones are added to
 * the type if it lacks them; @skip lists keys recomputed locally.
 */
static int set_props(struct importer *im, json_t *obj, const char *key,
		     enum mlmd_node node, int64_t id, enum mlmd_kind kind,
		     const char *type, bool custom, const char *const *skip)
{
	json_t *props = json_object_get(obj, key), *v;
	const char *k;
	int r;

	if (!props)
		return 0;
	if (!json_is_object(props))
		return fail(im, -EINVAL, "'%s' is not an object", key);
	json_object_foreach(props, k, v) {
		struct value val;
		const char *const *sk;
		bool skipped = false;
		int64_t type_id;

		for (sk = skip; sk && *sk; sk++)
			skipped |= !strcmp(*sk, k);
		if (skipped || json_is_null(v))
			continue;
		if (jvalue(v, &val) < 0)
			return fail(im, -EINVAL, "property '%s' is not a string or number", k);
		if (!custom) {
			struct mlmd_type_prop tp = { k, ptype_of(&val) };

			r = mlmd_type_ensure(im->m->st, kind, type, &tp, 1,
					     &type_id);
			if (r < 0)
				return r;
		}
		r = mlmd_prop_set(im->m->st, node, id, k, custom, &val);
		if (r < 0)
			return r;
	}
	return 0;
}

static int context_get(struct importer *im, json_t *obj, const char *type,
		       const char *prop, const char *name, int64_t parent,
		       unsigned *counter, int64_t *ret_id)
{
	struct mlmd_type_prop tp = { prop, MLMD_PT_STRING };
	int64_t type_id, id;
	int r;

	r = mlmd_type_ensure(im->m->st, MLMD_CONTEXT_TYPE, type, &tp, 1,
			     &type_id);
	if (r < 0)
		return r;
	r = mlmd_context_find(im->m->st, type_id, name, &id);
	if (r == -ENOENT) {
		r = mlmd_context_insert(im->m->st, type_id, name,
					jtime(obj, "create_time_since_epoch"),
					&id);
		if (r == 0)
			r = mlmd_prop_set_str(im->m->st, MLMD_CONTEXT, id, prop,
					      false, name);
		if (r == 0)
			(*counter)++;
	}
	if (r == 0 && parent)
		r = mlmd_parent_context_ensure(im->m->st, id, parent);
	if (r == 0)
		r = set_props(im, obj, "custom_properties", MLMD_CONTEXT, id,
			      MLMD_CONTEXT_TYPE, type, true, NULL);
	if (r == 0)
		*ret_id = id;
	return r;
}

/* Does comma list @list contain @item? */
static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while (p && *p) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, item, n))
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

/* A local execution sharing one of the uuids of @uuids (comma list). */
static int find_by_uuid(struct importer *im, const char *uuids, int64_t *ret)
{
	char *copy = strdup(uuids), *save = NULL, *u;
	int r = -ENOENT;

	if (!copy)
		return -ENOMEM;
	for (u = strtok_r(copy, ",", &save); u && r == -ENOENT;
	     u = strtok_r(NULL, ",", &save)) {
		sqlite3_stmt *s;
		int rc;

		if (!*u)
			continue;
		r = store_stmt(im->m->st, sql_uuid_candidates, &s);
		if (r < 0)
			break;
		r = -ENOENT;
		sqlite3_bind_text(s, 1, u, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			if (list_has((const char *)sqlite3_column_text(s, 1), u)) {
				*ret = sqlite3_column_int64(s, 0);
				r = 0;
				break;
			}
		store_stmt_done(s);
	}
	free(copy);
	return r;
}

/*
 * An Execution_uuid names one execution: execution @id, found by uuid,
 * must be of the stage being imported (type @type_id).  -EINVAL otherwise.
 */
static int check_uuid_stage(struct importer *im, int64_t id, int64_t type_id,
			    const char *stage_name)
{
	sqlite3_stmt *s;
	int64_t t = 0;
	int r = store_stmt(im->m->st, sql_execution_type, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	r = mlmd_step_int(s, &t);
	if (r == 0 && t != type_id)
		r = fail(im, -EINVAL, "an execution of stage '%s' has the Execution_uuid of an execution of another stage",
			 stage_name);
	return r;
}

/* The path part of an artifact name; refuses paths that escape a tree. */
static int artifact_path(struct importer *im, const char *name, char **ret)
{
	size_t n = strcspn(name, ":");
	char *path = strndup(name, n), *save = NULL, *c, *copy;
	const char *why;

	if (!path)
		return -ENOMEM;
	copy = strdup(path);
	if (!copy) {
		free(path);
		return -ENOMEM;
	}
	if (!n || path[0] == '/') {
		free(copy);
		free(path);
		return fail(im, -EINVAL, "artifact name '%s' has an absolute or empty path", name);
	}
	for (c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
		if (name_check(c, &why) < 0) {
			fail(im, -EINVAL, "artifact name '%s' cannot be stored: '%s' %s",
			     name, c, why);
			free(copy);
			free(path);
			return -EINVAL;
		}
	free(copy);
	*ret = path;
	return 0;
}

/* Files of an execution's tree for a logged artifact: dirs as needed. */
/*
 * Place a file (or, with @last_is_dir, a committed directory) at @path
 * below entry @parent0 (0: the side's top), making directories as needed.
 */
static int place_at(struct importer *im, int64_t exec, int side,
		    int64_t parent0, const char *path, bool last_is_dir,
		    int64_t artifact_id, const char *md5)
{
	char *copy = strdup(path), *save = NULL, *c, *next;
	int64_t parent = parent0, id;
	struct entry e;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (c = strtok_r(copy, "/", &save); c && r == 0; c = next) {
		next = strtok_r(NULL, "/", &save);
		r = entry_lookup_locked(im->m, exec, side, parent, c, &e);
		if (r == 0 && !next && last_is_dir && e.is_dir &&
		    !e.artifact_id) {
			/* its files came first: the directory is committed */
			sqlite3_stmt *s;

			r = store_stmt(im->m->st, sql_commit_dir, &s);
			if (r < 0)
				break;
			sqlite3_bind_int64(s, 1, e.id);
			sqlite3_bind_int64(s, 2, artifact_id);
			sqlite3_bind_text(s, 3, md5, -1, SQLITE_STATIC);
			r = mlmd_step_done(s);
			continue;
		}
		if (r == 0) {
			if (next && !e.is_dir)
				r = -ENOTDIR;
			parent = e.id;	/* a file there already: keep it */
			continue;
		}
		if (r != -ENOENT)
			break;
		if (next)
			r = entry_insert_locked(im->m, exec, side, parent, c,
						true, 0, NULL, 0, 0755, getuid(),
						getgid(), &id);
		else
			r = entry_insert_locked(im->m, exec, side, parent, c,
						last_is_dir, artifact_id, md5, 0,
						last_is_dir ? 0755 : 0644,
						getuid(), getgid(), &id);
		parent = id;
	}
	free(copy);
	return r;
}

static int place_entry(struct importer *im, int64_t exec, int side,
		       const char *path, int64_t artifact_id, const char *md5)
{
	return place_at(im, exec, side, 0, path, manifest_is_oid(md5),
			artifact_id, md5);
}

/* Whether artifact @a has bytes, and so may be a file of an execution. */
static bool is_file_artifact(json_t *a)
{
	const char *uri = jstr(a, "uri"), *type = jstr(a, "type");

	return uri && (hash_is_md5(uri) || manifest_is_oid(uri)) && type &&
	       strcmp(type, "Metrics");
}

static int import_artifact(struct importer *im, json_t *a, int64_t *ret_id)
{
	const char *type = jstr(a, "type"), *name = jstr(a, "name");
	const char *uri = jstr(a, "uri");
	int64_t type_id, id;
	sqlite3_stmt *s;
	int r;

	if (!type || !name)
		return fail(im, -EINVAL, "an artifact lacks its type or name");
	r = mlmd_type_ensure(im->m->st, MLMD_ARTIFACT_TYPE, type, NULL, 0,
			     &type_id);
	if (r < 0)
		return r;
	r = store_stmt(im->m->st, uri ? sql_artifact_by_uri : sql_artifact_by_name, &s);
	if (r < 0)
		return r;
	if (uri) {
		sqlite3_bind_text(s, 1, uri, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, type_id);
	} else {
		sqlite3_bind_int64(s, 1, type_id);
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	}
	r = mlmd_step_int(s, &id);
	if (r == -ENOENT && is_file_artifact(a)) {
		/* whatever its event: an export lists it under this name as
		 * a file of the executions that have it */
		char *path = NULL;

		r = artifact_path(im, name, &path);
		free(path);
		if (r == 0)
			r = -ENOENT;
	}
	if (r == -ENOENT) {
		static const char *const skip_nothing[] = { NULL };

		r = mlmd_artifact_insert(im->m->st, type_id, uri, name,
					 jtime(a, "create_time_since_epoch"),
					 &id);
		if (r == 0)
			r = set_props(im, a, "properties", MLMD_ARTIFACT, id,
				      MLMD_ARTIFACT_TYPE, type, false,
				      skip_nothing);
		if (r == 0)
			im->stats.artifacts++;
	} else if (r == 0) {
		/* known already: join urls, as the server does */
		json_t *props = json_object_get(a, "properties");
		const char *url = jstr(props, "url");

		if (url && url[0]) {
			char *cur = NULL, *joined = NULL;

			r = mlmd_prop_get_text(im->m->st, MLMD_ARTIFACT, id,
					       "url", false, &cur);
			if (r == -ENOENT || (r == 0 && !cur[0]))
				r = mlmd_prop_set_str(im->m->st, MLMD_ARTIFACT,
						      id, "url", false, url);
			else if (r == 0 && !strstr(cur, url)) {
				if (asprintf(&joined, "%s,%s", cur, url) < 0)
					r = -ENOMEM;
				else
					r = mlmd_prop_set_str(im->m->st,
							      MLMD_ARTIFACT, id,
							      "url", false,
							      joined);
			}
			free(cur);
			free(joined);
		}
	}
	if (r == 0)
		r = set_props(im, a, "custom_properties", MLMD_ARTIFACT, id,
			      MLMD_ARTIFACT_TYPE, type, true, NULL);
	if (r == 0)
		*ret_id = id;
	return r;
}

static int import_execution(struct importer *im, json_t *e, int64_t stage,
			    const char *stage_name, int64_t pipeline,
			    const char *pipeline_name)
{
	static const char *const recomputed[] = { "Context_ID", "Pipeline_id",
						  NULL };
	json_t *props = json_object_get(e, "properties");
	json_t *events = json_object_get(e, "events"), *ev;
	const char *ctype = jstr(props, "Context_Type");
	const char *uuids = jstr(props, "Execution_uuid");
	const char *name = jstr(e, "name");
	int64_t type_id, id = 0;
	sqlite3_stmt *s;
	size_t i;
	int r;

	if (!ctype)
		ctype = stage_name;
	if (strcmp(ctype, stage_name))
		return fail(im, -EINVAL, "an execution of stage '%s' names stage '%s'",
			    stage_name, ctype);
	if (name && name[0]) {
		const char *why;

		if (name_check(name, &why) < 0)
			return fail(im, -EINVAL, "execution name '%s' %s", name, why);
	} else {
		name = NULL;
		if (!uuids || !uuids[0])
			return fail(im, -EINVAL, "an unnamed execution of '%s' has no Execution_uuid",
				    stage_name);
	}
	if (events && !json_is_array(events))
		return fail(im, -EINVAL, "'events' is not a list");
	r = mlmd_type_ensure(im->m->st, MLMD_EXECUTION_TYPE, ctype, NULL, 0,
			     &type_id);
	if (r < 0)
		return r;
	r = uuids ? find_by_uuid(im, uuids, &id) : -ENOENT;
	if (r == 0)
		r = check_uuid_stage(im, id, type_id, stage_name);
	if (r == -ENOENT && name) {
		r = store_stmt(im->m->st, sql_execution_by_name, &s);
		if (r < 0)
			return r;
		sqlite3_bind_int64(s, 1, type_id);
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
		r = mlmd_step_int(s, &id);
	}
	if (r == -ENOENT) {
		int64_t created = jtime(e, "create_time_since_epoch");

		r = mlmd_execution_insert(im->m->st, type_id, name, created, &id);
		if (r == 0)
			r = set_props(im, e, "properties", MLMD_EXECUTION, id,
				      MLMD_EXECUTION_TYPE, ctype, false,
				      recomputed);
		if (r == 0)
			r = mlmd_prop_set_int(im->m->st, MLMD_EXECUTION, id,
					      "Context_ID", false, stage);
		if (r == 0)
			r = mlmd_prop_set_int(im->m->st, MLMD_EXECUTION, id,
					      "Pipeline_id", false, pipeline);
		if (r == 0 && !jstr(props, "Pipeline_Type"))
			r = mlmd_prop_set_str(im->m->st, MLMD_EXECUTION, id,
					      "Pipeline_Type", false,
					      pipeline_name);
		if (r == 0 && store_stmt(im->m->st, sql_set_times, &s) == 0) {
			sqlite3_bind_int64(s, 1, id);
			sqlite3_bind_int64(s, 2, created);
			sqlite3_bind_int64(s, 3,
					   jtime(e, "last_update_time_since_epoch"));
			r = mlmd_step_done(s);
		}
		if (r == 0)
			im->stats.executions++;
	}
	if (r < 0)
		return r;
	r = set_props(im, e, "custom_properties", MLMD_EXECUTION, id,
		      MLMD_EXECUTION_TYPE, ctype, true, NULL);
	if (r == 0)
		r = mlmd_association_ensure(im->m->st, stage, id);
	json_array_foreach(events, i, ev) {
		json_t *a = json_object_get(ev, "artifact");
		json_t *t = json_object_get(ev, "type");
		int type = json_is_integer(t) ? (int)json_integer_value(t) : 0;
		char *path = NULL;
		int64_t artifact = 0, n = 0;

		if (r < 0)
			break;
		if (!json_is_object(a) || type < 0 || type > 7) {
			r = fail(im, -EINVAL, "an event of execution '%s' is malformed",
				 name ? name : uuids);
			break;
		}
		r = import_artifact(im, a, &artifact);
		if (r == 0)
			r = store_stmt(im->m->st, sql_event_exists, &s);
		if (r == 0) {
			sqlite3_bind_int64(s, 1, artifact);
			sqlite3_bind_int64(s, 2, id);
			sqlite3_bind_int(s, 3, type);
			r = mlmd_step_int(s, &n);
		}
		if (r == 0 && n == 0) {
			r = mlmd_event_insert(im->m->st, artifact, id, type,
					      store_now_ms(), NULL);
			if (r == 0)
				im->stats.events++;
		}
		if (r == 0)
			r = mlmd_attribution_ensure(im->m->st, stage, artifact);
		/* files that have bytes: their tree entry, fetched on read */
		if (r == 0 && (type == MLMD_EVENT_INPUT || type == MLMD_EVENT_OUTPUT) &&
		    is_file_artifact(a)) {
			r = artifact_path(im, jstr(a, "name"), &path);
			if (r == 0)
				r = place_entry(im, id,
						type == MLMD_EVENT_INPUT ? SIDE_INPUTS
									 : SIDE_OUTPUTS,
						path, artifact, jstr(a, "uri"));
			if (r == -ENOTDIR || r == -EEXIST)
				r = 0;	/* a name clash keeps the local file */
			free(path);
		}
	}
	return r;
}

static int import_pipeline(struct importer *im, json_t *p)
{
	const char *name = jstr(p, "name"), *why;
	json_t *stages = json_object_get(p, "stages"), *st, *ex;
	int64_t pid, sid;
	size_t i, j;
	int r;

	if (!name || name_check(name, &why) < 0)
		return fail(im, -EINVAL, "a pipeline has no usable name");
	if (!json_is_array(stages))
		return fail(im, -EINVAL, "pipeline '%s' has no list of stages", name);
	r = context_get(im, p, TYPE_PIPELINE, "Pipeline", name, 0,
			&im->stats.pipelines, &pid);
	json_array_foreach(stages, i, st) {
		const char *sname = jstr(st, "name");
		size_t plen = strlen(name);
		json_t *execs = json_object_get(st, "executions");

		if (r < 0)
			break;
		if (!sname || strncmp(sname, name, plen) || sname[plen] != '/' ||
		    name_check(sname + plen + 1, &why) < 0) {
			r = fail(im, -EINVAL, "stage '%s' is not named '%s/STAGE'",
				 sname ? sname : "?", name);
			break;
		}
		r = context_get(im, st, TYPE_STAGE, "Pipeline_Stage", sname, pid,
				&im->stats.stages, &sid);
		if (r == 0 && execs && !json_is_array(execs))
			r = fail(im, -EINVAL, "stage '%s' has no list of executions", sname);
		json_array_foreach(execs, j, ex) {
			if (r < 0)
				break;
			if (!json_is_object(ex)) {
				r = fail(im, -EINVAL, "an execution of '%s' is not an object", sname);
				break;
			}
			r = import_execution(im, ex, sid, sname, pid, name);
		}
	}
	return r;
}

int document_import(struct model *m, const char *text, size_t len,
		    const char *only_pipeline, struct import_stats *ret_stats,
		    char **ret_err)
{
	struct importer im = { .m = m };
	json_error_t jerr;
	json_t *doc, *pipelines, *p;
	size_t i;
	int r;

	*ret_err = NULL;
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		if (asprintf(ret_err, "not a JSON document: %s (line %d)",
			     jerr.text, jerr.line) < 0)
			*ret_err = NULL;
		return -EINVAL;
	}
	pipelines = json_object_get(doc, "Pipeline");
	if (!json_is_array(pipelines)) {
		json_decref(doc);
		if (asprintf(ret_err, "the document has no \"Pipeline\" list") < 0)
			*ret_err = NULL;
		return -EINVAL;
	}
	store_lock(m->st);
	r = store_begin(m->st);
	json_array_foreach(pipelines, i, p) {
		if (r < 0)
			break;
		if (!json_is_object(p)) {
			r = fail(&im, -EINVAL, "a pipeline is not an object");
			break;
		}
		if (only_pipeline && (!jstr(p, "name") ||
				      strcmp(jstr(p, "name"), only_pipeline)))
			continue;
		r = import_pipeline(&im, p);
	}
	if (r == 0)
		r = store_commit(m->st);
	else
		store_rollback(m->st);
	store_unlock(m->st);
	json_decref(doc);
	if (r < 0 && !im.err)
		fail(&im, r, "the store refused the import: %s", strerrordesc_np(-r));
	if (r == 0 && ret_stats)
		*ret_stats = im.stats;
	*ret_err = im.err;
	if (r == 0) {
		free(im.err);
		*ret_err = NULL;
	}
	return r;
}

int model_adopt_foreign(struct model *m, char **ret_err)
{
	struct importer im = { .m = m };
	struct row {
		int64_t exec, artifact;
		int type;
		char *name, *uri;
	} *rows = NULL;
	size_t n = 0, cap = 0, i;
	sqlite3_stmt *s;
	int rc, r;

	*ret_err = NULL;
	store_lock(m->st);
	r = store_begin(m->st);
	if (r < 0)
		goto out_unlock;
	r = store_stmt(m->st, sql_foreign_events, &s);
	if (r < 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (array_reserve(&rows, &cap, n + 1,
				  sizeof(*rows)) < 0) {
			r = -ENOMEM;
			break;
		}
		rows[n].exec = sqlite3_column_int64(s, 0);
		rows[n].type = sqlite3_column_int(s, 1);
		rows[n].artifact = sqlite3_column_int64(s, 2);
		rows[n].name = strdup((const char *)sqlite3_column_text(s, 3));
		rows[n].uri = strdup((const char *)sqlite3_column_text(s, 4));
		n++;
		if (!rows[n - 1].name || !rows[n - 1].uri) {
			r = -ENOMEM;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
	for (i = 0; r == 0 && i < n; i++) {
		char *path = NULL;

		if (!hash_is_md5(rows[i].uri) && !manifest_is_oid(rows[i].uri))
			continue;
		/* a name that cannot be a path is left out of the tree */
		if (artifact_path(&im, rows[i].name, &path) < 0) {
			free(im.err);
			im.err = NULL;
			continue;
		}
		r = place_entry(&im, rows[i].exec,
				rows[i].type == MLMD_EVENT_INPUT ? SIDE_INPUTS
								 : SIDE_OUTPUTS,
				path, rows[i].artifact, rows[i].uri);
		if (r == -ENOTDIR || r == -EEXIST)
			r = 0;
		free(path);
	}
out:
	if (r == 0)
		r = store_commit(m->st);
	else
		store_rollback(m->st);
out_unlock:
	store_unlock(m->st);
	for (i = 0; i < n; i++) {
		free(rows[i].name);
		free(rows[i].uri);
	}
	free(rows);
	*ret_err = im.err;
	return r < 0 ? r : (int)n;
}

static const char sql_unexpanded_dirs[] =
	"SELECT d.id, d.md5 FROM cmffs_entry d WHERE d.is_dir = 1"
	" AND d.md5 LIKE '%.dir'";

int model_unexpanded_dirs(struct model *m, model_name_cb cb, void *ud)
{
	struct row {
		int64_t id;
		char oid[DIR_OID_LEN + 1];
	} *rows = NULL;
	size_t n = 0, cap = 0, i;
	sqlite3_stmt *s;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_unexpanded_dirs, &s);
	if (r < 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *oid = (const char *)sqlite3_column_text(s, 1);

		if (!oid || !manifest_is_oid(oid))
			continue;
		if (array_reserve(&rows, &cap, n + 1,
				  sizeof(*rows)) < 0) {
			r = -ENOMEM;
			break;
		}
		rows[n].id = sqlite3_column_int64(s, 0);
		memcpy(rows[n].oid, oid, DIR_OID_LEN + 1);
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
out:
	store_unlock(m->st);
	for (i = 0; r == 0 && i < n; i++)
		if (cb(ud, rows[i].oid, rows[i].id))
			break;
	free(rows);
	return r;
}

int model_dir_expand(struct model *m, int64_t dir_id,
		     const struct manifest_entry *v, size_t n)
{
	struct importer im = { .m = m };
	struct entry d;
	size_t i;
	int r;

	store_lock(m->st);
	r = store_begin(m->st);
	if (r < 0)
		goto out;
	r = entry_get_locked_public(m, dir_id, &d);
	for (i = 0; r == 0 && i < n; i++) {
		r = place_at(&im, d.execution_id, d.side, dir_id, v[i].relpath,
			     false, 0, v[i].md5);
		if (r == -ENOTDIR || r == -EEXIST)
			r = 0;
	}
	if (r == 0)
		r = store_commit(m->st);
	else
		store_rollback(m->st);
out:
	store_unlock(m->st);
	free(im.err);
	return r;
}
