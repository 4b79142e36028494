/* SPDX-License-Identifier: MIT */
/*
 * Merging a CMF JSON document into the store (cmffs import, and pull):
 * the client side of doc/cmf-upstream.md §2.5, made idempotent; and reading
 * what a server's document holds of one execution (document_execution_uris).
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
#include "jscan.h"
#include "log.h"
#include "model_i.h"
#include "names.h"
#include "sb.h"

struct importer {
	struct model *m;
	struct import_stats stats;
	char *err;		/* first error, owned */
};

STORE_SQL(sql_uuid_candidates,
	"SELECT `execution_id`, `string_value` FROM `ExecutionProperty`"
	" WHERE `name` = 'Execution_uuid' AND `is_custom_property` = 0"
	" AND instr(`string_value`, ?1) > 0");
STORE_SQL(sql_execution_row,
	"SELECT `type_id`, ifnull(`name`, '') FROM `Execution` WHERE `id` = ?1");
/* the stage of an execution: @stage ?2 first, if it is one of them */
STORE_SQL(sql_execution_stage,
	"SELECT c.`id`, c.`name` FROM `Association` x JOIN `Context` c"
	" ON c.`id` = x.`context_id` WHERE x.`execution_id` = ?1"
	" ORDER BY c.`id` = ?2 DESC, c.`id` LIMIT 1");
/* a parent of context ?1 other than ?2 */
STORE_SQL(sql_other_parent,
	"SELECT c.`name` FROM `ParentContext` pc JOIN `Context` c"
	" ON c.`id` = pc.`parent_context_id` WHERE pc.`context_id` = ?1"
	" AND pc.`parent_context_id` <> ?2 LIMIT 1");
STORE_SQL(sql_execution_by_name,
	"SELECT `id` FROM `Execution` WHERE `type_id` = ?1 AND `name` = ?2");
STORE_SQL(sql_artifact_by_uri,
	"SELECT `id` FROM `Artifact` WHERE `uri` = ?1 AND `type_id` = ?2"
	" ORDER BY `id` DESC LIMIT 1");
STORE_SQL(sql_artifact_by_name,
	"SELECT `id` FROM `Artifact` WHERE `type_id` = ?1 AND `name` = ?2");
STORE_SQL(sql_event_exists,
	"SELECT count(*) FROM `Event` WHERE `artifact_id` = ?1"
	" AND `execution_id` = ?2 AND `type` = ?3");
/* events of executions whose files were never placed (made by cmflib) */
STORE_SQL(sql_foreign_events,
	"SELECT ev.`execution_id`, ev.`type`, a.`id`, a.`name`, a.`uri`"
	" FROM `Event` ev JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"
	" JOIN `Type` t ON t.`id` = a.`type_id`"
	" WHERE ev.`type` IN (3, 4) AND length(a.`uri`) IN (32, 36)"
	" AND t.`name` <> 'Metrics' AND a.`name` IS NOT NULL"
	" AND NOT EXISTS (SELECT 1 FROM cmffs_entry x"
	"  WHERE x.execution_id = ev.`execution_id`)"
	" ORDER BY ev.`id`");
STORE_SQL(sql_commit_dir,
	"UPDATE cmffs_entry SET artifact_id = ?2, md5 = ?3 WHERE id = ?1");
STORE_SQL(sql_entry_version,
	"UPDATE cmffs_entry SET artifact_id = ?2, md5 = ?3, size = -1"
	" WHERE id = ?1");
STORE_SQL(sql_newer_version,
	"SELECT ifnull((SELECT max(`id`) FROM `Event` WHERE `execution_id` = ?1"
	" AND `artifact_id` = ?2 AND `type` = ?4), 0) > ifnull((SELECT"
	" max(`id`) FROM `Event` WHERE `execution_id` = ?1 AND"
	" `artifact_id` = ?3 AND `type` = ?4), 0)");
STORE_SQL(sql_set_times,
	"UPDATE `Execution` SET `create_time_since_epoch` = ?2,"
	" `last_update_time_since_epoch` = ?3 WHERE `id` = ?1");

static int fail(struct importer *im, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Remember the first error, as one escaped line (sb_put_escaped): it may
 * quote names from the document.
 */
static int fail(struct importer *im, int r, const char *fmt, ...)
{
	char *raw = NULL;
	va_list ap;

	if (!im->err) {
		va_start(ap, fmt);
		if (vasprintf(&raw, fmt, ap) < 0)
			raw = NULL;
		va_end(ap);
		im->err = raw ? text_escape(raw, LOG_LINE_MAX) : NULL;
		free(raw);
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

/*
 * The largest properties (or custom_properties) object of one node that is
 * read: the tree jansson builds of it is some twenty times its text.
 */
#define PROPS_MAX_BYTES ((size_t)1 << 20)

/* A member of an object that is walked, not read: its span. */
struct walk_key {
	const char *key;
	struct jspan *span;	/* left { NULL } when absent */
};

static bool is_props_key(struct jspan key)
{
	return jscan_key_is(key, "properties") ||
	       jscan_key_is(key, "custom_properties");
}

/*
 * One member read into @hdr: a scalar as it is; a properties object, flat
 * (no value is an object or array) and at most PROPS_MAX_BYTES; any other
 * object or array as an empty one of its kind (it fails the type checks
 * that follow, as it would have whole).
 */
static int read_leaf(struct importer *im, json_t *hdr, const char *key,
		     struct jspan kspan, struct jspan v, const char *what)
{
	char kind = jspan_kind(v);
	json_t *val = NULL;

	if (kind == '{' && is_props_key(kspan)) {
		struct jspan k, x;
		size_t off = 0;
		int more;

		if (v.n > PROPS_MAX_BYTES)
			return fail(im, -EFBIG, "the %s of %s are larger than 1 MiB",
				    key, what);
		while ((more = jscan_member(v, &off, &k, &x)) > 0)
			if (jspan_kind(x) == '{' || jspan_kind(x) == '[')
				return fail(im, -EINVAL, "a value in the %s of %s is not a string or number",
					    key, what);
		if (more < 0)
			return fail(im, -EINVAL, "the %s of %s are malformed", key,
				    what);
	}
	if (kind == '[' || (kind == '{' && !is_props_key(kspan))) {
		val = kind == '[' ? json_array() : json_object();
	} else {
		json_error_t jerr;

		val = json_loadb(v.p, v.n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
				 &jerr);
		if (!val)
			return fail(im, -EINVAL, "the '%s' of %s cannot be read: %s",
				    key, what, jerr.text);
	}
	if (!val || json_object_set_new(hdr, key, val) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * Read object @obj (@what names it in errors) as a new object *ret_hdr
 * (owned) of its members named in @leaves (read_leaf()); the members named
 * in @walks are not read, their spans are given.  Other members are
 * skipped unread; a member named twice is refused.
 */
static int read_object(struct importer *im, struct jspan obj, const char *what,
		       const char *const *leaves, const struct walk_key *walks,
		       json_t **ret_hdr)
{
	json_t *hdr = json_object();
	const struct walk_key *w;
	struct jspan k, v;
	size_t off = 0;
	int more = 0, r = 0;

	if (!hdr)
		return -ENOMEM;
	for (w = walks; w && w->key; w++)
		*w->span = (struct jspan){ NULL, 0 };
	while (r == 0 && (more = jscan_member(obj, &off, &k, &v)) > 0) {
		const char *const *l;
		bool known = false;

		for (w = walks; w && w->key && !known; w++)
			if (jscan_key_is(k, w->key)) {
				known = true;
				if (w->span->p)
					r = fail(im, -EINVAL, "%s has two '%s'", what,
						 w->key);
				*w->span = v;
			}
		for (l = leaves; l && *l && !known; l++)
			if (jscan_key_is(k, *l)) {
				known = true;
				if (json_object_get(hdr, *l))
					r = fail(im, -EINVAL, "%s has two '%s'", what,
						 *l);
				else
					r = read_leaf(im, hdr, *l, k, v, what);
			}
	}
	if (r == 0 && more < 0)
		r = fail(im, -EINVAL, "%s is not an object", what);
	if (r < 0) {
		json_decref(hdr);
		return r;
	}
	*ret_hdr = hdr;
	return 0;
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
 * Is property @k of a node recorded already?  A value that is absent or
 * the empty string is not: a merge may fill it (Git_End_Commit is "" until
 * the execution is finalized).
 */
static int prop_recorded(struct importer *im, enum mlmd_node node, int64_t id,
			 const char *k, bool custom, bool *ret)
{
	char *cur = NULL;
	int r = mlmd_prop_get_text(im->m->st, node, id, k, custom, &cur);

	if (r == -ENOENT) {
		*ret = false;
		return 0;
	}
	if (r == 0)
		*ret = cur[0] != '\0';
	free(cur);
	return r;
}

/*
 * Set the properties of @obj[@key] on a node.  Declared ones are added to
 * the type if it lacks them; @skip lists keys recomputed locally.  With
 * @keep (a node that exists already), values recorded before are kept:
 * only new properties are added.
 */
static int set_props(struct importer *im, json_t *obj, const char *key,
		     enum mlmd_node node, int64_t id, enum mlmd_kind kind,
		     const char *type, bool custom, bool keep,
		     const char *const *skip)
{
	json_t *props = json_object_get(obj, key), *v;
	const char *k, *why;
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

		if (name_check_key(k, &why) < 0)
			return fail(im, -EINVAL, "property key '%s' %s", k, why);
		for (sk = skip; sk && *sk; sk++)
			skipped |= !strcmp(*sk, k);
		if (skipped || json_is_null(v))
			continue;
		if (jvalue(v, &val) < 0)
			return fail(im, -EINVAL, "property '%s' is not a string or number", k);
		if (keep) {
			bool recorded = false;

			r = prop_recorded(im, node, id, k, custom, &recorded);
			if (r < 0)
				return r;
			if (recorded)
				continue;
		}
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

/* Refuse a stage context @id that another pipeline than @parent holds. */
static int check_parent(struct importer *im, int64_t id, const char *name,
			int64_t parent)
{
	sqlite3_stmt *s;
	int rc, r = store_stmt(im->m->st, sql_other_parent, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, parent);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = fail(im, -EINVAL, "stage '%s' belongs to pipeline '%s': a document may not change another pipeline's records",
			 name, (const char *)sqlite3_column_text(s, 0));
	else if (rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
	return r;
}

static int context_get(struct importer *im, json_t *obj, const char *type,
		       const char *prop, const char *name, int64_t parent,
		       unsigned *counter, int64_t *ret_id)
{
	struct mlmd_type_prop tp = { prop, MLMD_PT_STRING };
	int64_t type_id, id;
	bool existed = true;
	int r;

	r = mlmd_type_ensure(im->m->st, MLMD_CONTEXT_TYPE, type, &tp, 1,
			     &type_id);
	if (r < 0)
		return r;
	r = mlmd_context_find(im->m->st, type_id, name, &id);
	if (r == -ENOENT) {
		existed = false;
		r = mlmd_context_insert(im->m->st, type_id, name,
					jtime(obj, "create_time_since_epoch"),
					&id);
		if (r == 0)
			r = mlmd_prop_set_str(im->m->st, MLMD_CONTEXT, id, prop,
					      false, name);
		if (r == 0)
			(*counter)++;
	}
	if (r == 0 && parent && existed)
		r = check_parent(im, id, name, parent);
	if (r == 0 && parent)
		r = mlmd_parent_context_ensure(im->m->st, id, parent);
	if (r == 0)
		r = set_props(im, obj, "custom_properties", MLMD_CONTEXT, id,
			      MLMD_CONTEXT_TYPE, type, true, existed, NULL);
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

/*
 * The local execution sharing the uuids of @uuids (comma list) that are
 * known; -ENOENT if none is, -EINVAL if they name two executions.
 */
static int find_by_uuid(struct importer *im, const char *uuids, int64_t *ret)
{
	char *copy = strdup(uuids), *save = NULL, *u;
	int64_t found = 0;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (u = strtok_r(copy, ",", &save); u && r == 0;
	     u = strtok_r(NULL, ",", &save)) {
		sqlite3_stmt *s;
		int rc;

		if (!*u)
			continue;
		r = store_stmt(im->m->st, sql_uuid_candidates, &s);
		if (r < 0)
			break;
		sqlite3_bind_text(s, 1, u, -1, SQLITE_STATIC);
		while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(s, 0);

			if (!list_has((const char *)sqlite3_column_text(s, 1), u))
				continue;
			if (found && found != id)
				r = fail(im, -EINVAL, "Execution_uuid '%s' names two executions (%lld and %lld)",
					 uuids, (long long)found, (long long)id);
			found = id;
		}
		store_stmt_done(s);
	}
	free(copy);
	if (r == 0 && !found)
		r = -ENOENT;
	if (r == 0)
		*ret = found;
	return r;
}

/*
 * May the document's execution @name (@uuids) of stage @stage merge into
 * local execution @id?  Only if @id is an execution of that stage and, when
 * both are named, has that name: a document only adds to its own
 * pipeline's executions.  *ret_same_type says whether @id is of type
 * @type_id (then its declared properties can be merged).
 */
static int check_execution(struct importer *im, int64_t id, int64_t stage,
			   const char *stage_name, const char *name,
			   const char *uuids, int64_t type_id,
			   bool *ret_same_type)
{
	const char *what = name ? name : uuids;
	char *local = NULL;
	sqlite3_stmt *s;
	int64_t tid = 0;
	int rc, r = store_stmt(im->m->st, sql_execution_row, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		tid = sqlite3_column_int64(s, 0);
		local = strdup((const char *)sqlite3_column_text(s, 1));
		if (!local)
			r = -ENOMEM;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	store_stmt_done(s);
	if (r < 0)
		goto out;
	r = store_stmt(im->m->st, sql_execution_stage, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, stage);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_int64(s, 0) != stage)
		r = fail(im, -EINVAL, "execution '%s' of '%s' would change execution '%s' (id %lld) of '%s': a document may not change another pipeline's records",
			 what, stage_name, local[0] ? local : "(unnamed)",
			 (long long)id, (const char *)sqlite3_column_text(s, 1));
	else if (rc == SQLITE_DONE)
		r = fail(im, -EINVAL, "execution '%s' of '%s' would change execution %lld, which belongs to no stage",
			 what, stage_name, (long long)id);
	else if (rc != SQLITE_ROW)
		r = store_errno(rc);
	store_stmt_done(s);
	if (r == 0 && name && local[0] && strcmp(name, local))
		r = fail(im, -EINVAL, "execution '%s' of '%s' has the Execution_uuid of execution '%s': executions are not renamed",
			 name, stage_name, local);
	if (r == 0)
		*ret_same_type = tid == type_id;
out:
	free(local);
	return r;
}

/*
 * Refuse an artifact name that name_check_artifact() refuses: one that
 * could escape a tree ("../x", "/etc/x"), or that no view could show.
 */
static int check_artifact_name(struct importer *im, const char *name)
{
	const char *why;

	if (name_check_artifact(name, &why) < 0)
		return fail(im, -EINVAL, "artifact name '%s' cannot be stored: it %s",
			    name, why);
	return 0;
}

/* The path part of a checked artifact name (owned). */
static int artifact_path(const char *name, char **ret)
{
	char *path = strndup(name, strcspn(name, ":"));

	if (!path)
		return -ENOMEM;
	*ret = path;
	return 0;
}

/* Files of an execution's tree for a logged artifact: dirs as needed. */
/*
 * Place a file (or, with @last_is_dir, a committed directory) at @path
 * below entry @parent0 (0: the side's top), making directories as needed.
 */
/*
 * Is @new_artifact a later version than @old_artifact for execution @exec
 * (its event of @side's type came after)?  Events are inserted in the
 * document's order, which is the order of logging, so a file placed by an
 * earlier event (of this document or of an earlier one) gives way to the
 * last version, and a local file newer than everything the document has
 * stays.
 */
static int newer_version_locked(struct importer *im, int64_t exec, int side,
				int64_t old_artifact, int64_t new_artifact,
				bool *ret)
{
	sqlite3_stmt *s;
	int64_t newer = 0;
	int r = store_stmt(im->m->st, sql_newer_version, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, exec);
	sqlite3_bind_int64(s, 2, new_artifact);
	sqlite3_bind_int64(s, 3, old_artifact);
	sqlite3_bind_int(s, 4, side == SIDE_INPUTS ? MLMD_EVENT_INPUT
						  : MLMD_EVENT_OUTPUT);
	r = mlmd_step_int(s, &newer);
	if (r == 0)
		*ret = newer != 0;
	return r;
}

/* Entry @id shows @artifact_id (bytes @md5, fetched on first read). */
static int entry_set_version_locked(struct importer *im, int64_t id,
				    int64_t artifact_id, const char *md5)
{
	return store_run_locked(im->m->st, sql_entry_version, "iit", id,
				artifact_id, md5);
}

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
		if (r == 0 && !next && !last_is_dir && !e.is_dir &&
		    e.artifact_id && e.artifact_id != artifact_id) {
			/* a version of this file there already: the later wins */
			bool newer = false;

			r = newer_version_locked(im, exec, side, e.artifact_id,
						 artifact_id, &newer);
			if (r == 0 && newer)
				r = entry_set_version_locked(im, e.id,
							     artifact_id, md5);
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
						getgid(), 0, &id);
		else
			r = entry_insert_locked(im->m, exec, side, parent, c,
						last_is_dir, artifact_id, md5,
						last_is_dir ? 0 : ENTRY_SIZE_UNKNOWN,
						last_is_dir ? 0755 : 0644,
						getuid(), getgid(), 0, &id);
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

/* *ret_created: the artifact is new (then, as upstream's merge does, it is
 * attributed to the stage whose event brought it; a known one is not). */
static int import_artifact(struct importer *im, json_t *a, int64_t *ret_id,
			   bool *ret_created)
{
	const char *type = jstr(a, "type"), *name = jstr(a, "name");
	const char *uri = jstr(a, "uri"), *why;
	int64_t type_id, id;
	sqlite3_stmt *s;
	int r;

	if (!type || !name)
		return fail(im, -EINVAL, "an artifact lacks its type or name");
	if (uri && !uri[0])
		uri = NULL;
	r = check_artifact_name(im, name);
	if (r < 0)
		return r;
	if (name_check(type, &why) < 0)
		return fail(im, -EINVAL, "artifact '%s' has a type name that %s", name,
			    why);
	if (uri && name_check_uri(uri, &why) < 0)
		return fail(im, -EINVAL, "artifact '%s' has a uri that %s", name, why);
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
	if (r == -ENOENT) {
		static const char *const skip_nothing[] = { NULL };

		r = mlmd_artifact_insert(im->m->st, type_id, uri, name,
					 jtime(a, "create_time_since_epoch"),
					 &id);
		if (r == 0)
			r = set_props(im, a, "properties", MLMD_ARTIFACT, id,
				      MLMD_ARTIFACT_TYPE, type, false, false,
				      skip_nothing);
		if (r == 0)
			r = set_props(im, a, "custom_properties", MLMD_ARTIFACT,
				      id, MLMD_ARTIFACT_TYPE, type, true, false,
				      NULL);
		if (r == 0) {
			im->stats.artifacts++;
			*ret_created = true;
		}
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
		/* new custom properties only; a Metrics artifact's values
		 * were recorded at once and are never added to */
		if (r == 0 && strcmp(type, "Metrics"))
			r = set_props(im, a, "custom_properties", MLMD_ARTIFACT,
				      id, MLMD_ARTIFACT_TYPE, type, true, true,
				      NULL);
	}
	if (r == 0)
		*ret_id = id;
	return r;
}

static const char *const artifact_leaves[] = {
	"type", "name", "uri", "properties", "custom_properties",
	"create_time_since_epoch", NULL,
};

/*
 * Event @evspan of execution @id: its artifact (read into *ret_a, owned)
 * and its type; -EINVAL if malformed.
 */
static int read_event(struct importer *im, struct jspan evspan,
		      const char *exec, json_t **ret_a, int *ret_type)
{
	static const char *const leaves[] = { "type", NULL };
	struct jspan aspan;
	const struct walk_key walks[] = { { "artifact", &aspan }, { NULL, NULL } };
	json_t *ev = NULL, *t;
	int type, r;

	if (jspan_kind(evspan) != '{')
		return fail(im, -EINVAL, "an event of execution '%s' is malformed",
			    exec);
	r = read_object(im, evspan, "an event", leaves, walks, &ev);
	if (r < 0)
		return r;
	t = json_object_get(ev, "type");
	type = json_is_integer(t) ? (int)json_integer_value(t) : 0;
	json_decref(ev);
	if (jspan_kind(aspan) != '{' || type < 0 || type > 7)
		return fail(im, -EINVAL, "an event of execution '%s' is malformed",
			    exec);
	r = read_object(im, aspan, "an artifact", artifact_leaves, NULL, ret_a);
	if (r == 0)
		*ret_type = type;
	return r;
}

static int import_execution(struct importer *im, json_t *e,
			    struct jspan events, int64_t stage,
			    const char *stage_name, int64_t pipeline,
			    const char *pipeline_name)
{
	static const char *const recomputed[] = { "Context_ID", "Pipeline_id",
						  NULL };
	json_t *props = json_object_get(e, "properties");
	struct jspan evspan;
	size_t evoff = 0;
	int more = 0;
	const char *ctype = jstr(props, "Context_Type");
	const char *uuids = jstr(props, "Execution_uuid");
	const char *name = jstr(e, "name");
	int64_t type_id, id = 0;
	bool existed = false, same_type = false;
	sqlite3_stmt *s;
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
	if (events.p && jspan_kind(events) != '[')
		return fail(im, -EINVAL, "'events' is not a list");
	r = mlmd_type_ensure(im->m->st, MLMD_EXECUTION_TYPE, ctype, NULL, 0,
			     &type_id);
	if (r < 0)
		return r;
	r = uuids ? find_by_uuid(im, uuids, &id) : -ENOENT;
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
				      MLMD_EXECUTION_TYPE, ctype, false, false,
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
	} else if (r == 0) {
		existed = true;
		r = check_execution(im, id, stage, stage_name, name, uuids,
				    type_id, &same_type);
		if (r == 0 && same_type)
			r = set_props(im, e, "properties", MLMD_EXECUTION, id,
				      MLMD_EXECUTION_TYPE, ctype, false, true,
				      recomputed);
	}
	if (r < 0)
		return r;
	r = set_props(im, e, "custom_properties", MLMD_EXECUTION, id,
		      MLMD_EXECUTION_TYPE, ctype, true, existed, NULL);
	if (r == 0)
		r = mlmd_association_ensure(im->m->st, stage, id);
	while (r == 0 && events.p &&
	       (more = jscan_element(events, &evoff, &evspan)) > 0) {
		json_t *a = NULL;
		int type = 0;
		char *path = NULL;
		int64_t artifact = 0, n = 0;
		bool created = false;

		r = read_event(im, evspan, name ? name : uuids, &a, &type);
		if (r < 0)
			break;
		r = import_artifact(im, a, &artifact, &created);
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
		if (r == 0 && created)
			r = mlmd_attribution_ensure(im->m->st, stage, artifact);
		/* files that have bytes: their tree entry, fetched on read */
		if (r == 0 && (type == MLMD_EVENT_INPUT || type == MLMD_EVENT_OUTPUT) &&
		    jstr(a, "uri") && (hash_is_md5(jstr(a, "uri")) ||
				       manifest_is_oid(jstr(a, "uri"))) &&
		    strcmp(jstr(a, "type"), "Metrics")) {
			r = artifact_path(jstr(a, "name"), &path);
			if (r == 0)
				r = place_entry(im, id,
						type == MLMD_EVENT_INPUT ? SIDE_INPUTS
									 : SIDE_OUTPUTS,
						path, artifact, jstr(a, "uri"));
			if (r == -ENOTDIR || r == -EEXIST)
				r = 0;	/* a name clash keeps the local file */
			free(path);
		}
		json_decref(a);
	}
	if (r == 0 && more < 0)
		r = fail(im, -EINVAL, "'events' is not a list");
	return r;
}

static const char *const context_leaves[] = {
	"name", "custom_properties", "create_time_since_epoch", NULL,
};

static int import_stage(struct importer *im, struct jspan stspan,
			const char *name, int64_t pid)
{
	static const char *const exec_leaves[] = {
		"name", "type", "properties", "custom_properties",
		"create_time_since_epoch", "last_update_time_since_epoch", NULL,
	};
	struct jspan execs, exspan, events;
	const struct walk_key walks[] = { { "executions", &execs }, { NULL, NULL } };
	const struct walk_key exwalks[] = { { "events", &events }, { NULL, NULL } };
	size_t plen = strlen(name), off = 0;
	json_t *st = NULL, *ex;
	const char *sname, *why;
	int64_t sid;
	int more = 0, r;

	if (jspan_kind(stspan) != '{')
		return fail(im, -EINVAL, "a stage of '%s' is not an object", name);
	r = read_object(im, stspan, "a stage", context_leaves, walks, &st);
	if (r < 0)
		return r;
	sname = jstr(st, "name");
	if (!sname || strncmp(sname, name, plen) || sname[plen] != '/' ||
	    name_check(sname + plen + 1, &why) < 0) {
		r = fail(im, -EINVAL, "stage '%s' is not named '%s/STAGE'",
			 sname ? sname : "?", name);
		goto out;
	}
	r = context_get(im, st, TYPE_STAGE, "Pipeline_Stage", sname, pid,
			&im->stats.stages, &sid);
	if (r == 0 && execs.p && jspan_kind(execs) != '[')
		r = fail(im, -EINVAL, "stage '%s' has no list of executions", sname);
	while (r == 0 && execs.p &&
	       (more = jscan_element(execs, &off, &exspan)) > 0) {
		if (jspan_kind(exspan) != '{') {
			r = fail(im, -EINVAL, "an execution of '%s' is not an object", sname);
			break;
		}
		r = read_object(im, exspan, "an execution", exec_leaves, exwalks,
				&ex);
		if (r < 0)
			break;
		r = import_execution(im, ex, events, sid, sname, pid, name);
		json_decref(ex);
	}
	if (r == 0 && more < 0)
		r = fail(im, -EINVAL, "stage '%s' has no list of executions", sname);
out:
	json_decref(st);
	return r;
}

static int import_pipeline(struct importer *im, json_t *p, struct jspan stages)
{
	const char *name = jstr(p, "name"), *why;
	struct jspan st;
	size_t off = 0;
	int64_t pid;
	int more = 0, r;

	if (!name)
		return fail(im, -EINVAL, "a pipeline has no name");
	if (name_check(name, &why) < 0)
		return fail(im, -EINVAL, "pipeline name '%s' %s", name, why);
	if (jspan_kind(stages) != '[')
		return fail(im, -EINVAL, "pipeline '%s' has no list of stages", name);
	r = context_get(im, p, TYPE_PIPELINE, "Pipeline", name, 0,
			&im->stats.pipelines, &pid);
	while (r == 0 && (more = jscan_element(stages, &off, &st)) > 0)
		r = import_stage(im, st, name, pid);
	if (r == 0 && more < 0)
		r = fail(im, -EINVAL, "pipeline '%s' has no list of stages", name);
	return r;
}

/* The document's pipelines, each read and merged in turn. */
static int import_pipelines(struct importer *im, struct jspan pipelines,
			    const char *only_pipeline)
{
	struct jspan pspan, stages;
	const struct walk_key walks[] = { { "stages", &stages }, { NULL, NULL } };
	size_t off = 0;
	json_t *p;
	int more = 0, r = 0;

	while (r == 0 && (more = jscan_element(pipelines, &off, &pspan)) > 0) {
		const char *name;

		if (jspan_kind(pspan) != '{')
			return fail(im, -EINVAL, "a pipeline is not an object");
		r = read_object(im, pspan, "a pipeline", context_leaves, walks, &p);
		if (r < 0)
			break;
		name = jstr(p, "name");
		if (!only_pipeline || (name && !strcmp(name, only_pipeline)))
			r = import_pipeline(im, p, stages);
		json_decref(p);
	}
	if (r == 0 && more < 0)
		r = fail(im, -EINVAL, "the document has no \"Pipeline\" list");
	return r;
}

/* The value of a checked text (jscan_check), without the whitespace around. */
static struct jspan trimmed(const char *text, size_t len)
{
	struct jspan doc = { text, len };

	while (doc.n && strchr(" \t\r\n", doc.p[0])) {
		doc.p++;
		doc.n--;
	}
	while (doc.n && strchr(" \t\r\n", doc.p[doc.n - 1]))
		doc.n--;
	return doc;
}

int document_import(struct model *m, const char *text, size_t len,
		    const char *only_pipeline, struct import_stats *ret_stats,
		    char **ret_err)
{
	struct importer im = { .m = m };
	struct jspan doc, pipelines;
	const struct walk_key walks[] = { { "Pipeline", &pipelines }, { NULL, NULL } };
	json_t *top = NULL;
	const char *why;
	size_t off;
	int r;

	*ret_err = NULL;
	if (len > DOCUMENT_MAX_BYTES) {
		fail(&im, -EFBIG, "the document is larger than %zu MiB, the limit of a CMF document",
		     DOCUMENT_MAX_BYTES >> 20);
		*ret_err = im.err;
		return -EFBIG;
	}
	r = jscan_check(text, len, &off, &why);
	if (r < 0) {
		fail(&im, r, "not a JSON document: %s at byte %zu", why, off);
		*ret_err = im.err;
		return r;
	}
	doc = trimmed(text, len);
	if (jspan_kind(doc) == '{')
		r = read_object(&im, doc, "the document", NULL, walks, &top);
	else
		pipelines.p = NULL;
	json_decref(top);
	if (r == 0 && jspan_kind(pipelines) != '[') {
		free(im.err);
		im.err = NULL;
		r = fail(&im, -EINVAL, "the document has no \"Pipeline\" list");
	}
	if (r < 0) {
		*ret_err = im.err;
		return r;
	}
	r = store_write_begin(m->st);
	if (r == 0)
		m->names_gen++;	/* an import may change what is cached */
	if (r == 0)
		r = import_pipelines(&im, pipelines, only_pipeline);
	r = store_write_end(m->st, r);
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
	r = store_write_begin(m->st);
	if (r == 0)
		m->names_gen++;	/* an import may change what is cached */
	if (r < 0)
		goto out_free;
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
		if (check_artifact_name(&im, rows[i].name) < 0) {
			free(im.err);
			im.err = NULL;
			continue;
		}
		r = artifact_path(rows[i].name, &path);
		if (r < 0)
			break;
		r = place_entry(&im, rows[i].exec,
				rows[i].type == MLMD_EVENT_INPUT ? SIDE_INPUTS
								 : SIDE_OUTPUTS,
				path, rows[i].artifact, rows[i].uri);
		if (r == -ENOTDIR || r == -EEXIST)
			r = 0;
		free(path);
	}
out:
	r = store_write_end(m->st, r);
out_free:
	for (i = 0; i < n; i++) {
		free(rows[i].name);
		free(rows[i].uri);
	}
	free(rows);
	*ret_err = im.err;
	return r < 0 ? r : (int)n;
}

STORE_SQL(sql_unexpanded_dirs,
	"SELECT d.md5, d.id FROM cmffs_entry d WHERE d.is_dir = 1"
	" AND d.md5 LIKE '%.dir'");

static bool is_dir_oid(const char *oid)
{
	return manifest_is_oid(oid);
}

/* rows (md5, id): the manifest's object id is the name */
static const struct name_rule dir_oids = { .keep = is_dir_oid };

int model_unexpanded_dirs(struct model *m, model_name_cb cb, void *ud)
{
	struct store_rows rows = NAME_ROWS_INIT;
	struct name_call call = { cb, ud };
	sqlite3_stmt *s;
	int r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_unexpanded_dirs, &s);
	if (r == 0)
		r = store_rows_collect(&rows, s, name_row_copy,
				       (void *)&dir_oids);
	store_unlock(m->st);
	return store_rows_each(&rows, r, name_row_call, &call);
}

int model_dir_expand(struct model *m, int64_t dir_id,
		     const struct manifest_entry *v, size_t n)
{
	struct importer im = { .m = m };
	struct entry d;
	size_t i;
	int r;

	r = store_write_begin(m->st);
	if (r == 0)
		m->names_gen++;	/* an import may change what is cached */
	if (r < 0)
		goto out;
	r = entry_get_locked(m, dir_id, &d);
	for (i = 0; r == 0 && i < n; i++) {
		r = place_at(&im, d.execution_id, d.side, dir_id, v[i].relpath,
			     false, 0, v[i].md5);
		if (r == -ENOTDIR || r == -EEXIST)
			r = 0;
	}
	r = store_write_end(m->st, r);
out:
	free(im.err);
	return r;
}

/* --- what a server has of one execution (document_execution_uris) ------- */

struct uri_scan {
	const char *uuid;
	document_uri_cb cb;
	void *ud;
};

/*
 * The value of member @key of object @obj in *ret ({ NULL } when absent);
 * -EINVAL if @obj is not an object or names @key twice.
 */
static int scan_member(struct jspan obj, const char *key, struct jspan *ret)
{
	struct jspan k, v;
	size_t off = 0;
	int more;

	*ret = (struct jspan){ NULL, 0 };
	if (jspan_kind(obj) != '{')
		return -EINVAL;
	while ((more = jscan_member(obj, &off, &k, &v)) > 0) {
		if (!jscan_key_is(k, key))
			continue;
		if (ret->p)
			return -EINVAL;
		*ret = v;
	}
	return more < 0 ? -EINVAL : 0;
}

/*
 * String value @v decoded, owned in *ret; -EINVAL if it is not a string
 * jansson takes (one with a NUL).
 */
static int scan_string(struct jspan v, char **ret)
{
	json_error_t jerr;
	json_t *j;

	if (jspan_kind(v) != '"')
		return -EINVAL;
	j = json_loadb(v.p, v.n, JSON_DECODE_ANY, &jerr);
	if (!j)
		return json_error_code(&jerr) == json_error_out_of_memory
			       ? -ENOMEM
			       : -EINVAL;
	*ret = strdup(json_string_value(j));
	json_decref(j);
	return *ret ? 0 : -ENOMEM;
}

/* Execution @e: the uris of its events' artifacts, if it carries the uuid. */
static int scan_execution(struct jspan e, const struct uri_scan *sc)
{
	struct jspan props, v, events, ev, art;
	char *uuids = NULL, *uri = NULL;
	size_t off = 0;
	bool ours;
	int more = 0, r;

	r = scan_member(e, "properties", &props);
	if (r == 0 && jspan_kind(props) == '{')
		r = scan_member(props, "Execution_uuid", &v);
	else
		v.p = NULL;
	if (r < 0 || jspan_kind(v) != '"')
		return r;	/* not an execution a uuid names */
	r = scan_string(v, &uuids);
	if (r < 0)
		return r;
	ours = list_has(uuids, sc->uuid);
	free(uuids);
	if (!ours)
		return 0;
	r = scan_member(e, "events", &events);
	if (r == 0 && events.p && jspan_kind(events) != '[')
		r = -EINVAL;
	while (r == 0 && events.p &&
	       (more = jscan_element(events, &off, &ev)) > 0) {
		r = scan_member(ev, "artifact", &art);
		if (r == 0)
			r = scan_member(art, "uri", &v);
		if (r < 0 || !v.p)
			continue;	/* upstream leaves an empty uri out */
		r = scan_string(v, &uri);
		if (r == 0)
			r = sc->cb(sc->ud, uri);
		free(uri);
		uri = NULL;
	}
	return r == 0 && more < 0 ? -EINVAL : r;
}

/*
 * Each object of array @arr (absent: none, as document_import() reads it):
 * its member @path[0], an array, walked the same way with @path + 1; at
 * the end of the path, the object is an execution.
 */
static int scan_list(struct jspan arr, const char *const *path,
		     const struct uri_scan *sc)
{
	struct jspan x, sub;
	size_t off = 0;
	int more = 0, r = 0;

	if (!arr.p)
		return 0;
	if (jspan_kind(arr) != '[')
		return -EINVAL;
	while (r == 0 && (more = jscan_element(arr, &off, &x)) > 0) {
		if (!*path) {
			r = scan_execution(x, sc);
			continue;
		}
		r = scan_member(x, *path, &sub);
		if (r == 0)
			r = scan_list(sub, path + 1, sc);
	}
	return r == 0 && more < 0 ? -EINVAL : r;
}

int document_execution_uris(const char *text, size_t len, const char *uuid,
			    document_uri_cb cb, void *ud)
{
	static const char *const path[] = { "stages", "executions", NULL };
	const struct uri_scan sc = { uuid, cb, ud };
	struct jspan doc, pipelines;
	const char *why;
	size_t off;
	int r;

	if (len > DOCUMENT_MAX_BYTES)
		return -EFBIG;
	r = jscan_check(text, len, &off, &why);
	if (r < 0)
		return r;
	doc = trimmed(text, len);
	r = scan_member(doc, "Pipeline", &pipelines);
	if (r == 0 && jspan_kind(pipelines) != '[')
		r = -EINVAL;
	return r < 0 ? r : scan_list(pipelines, path, &sc);
}
