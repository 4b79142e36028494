/* SPDX-License-Identifier: MIT */
/*
 * Row-level writes and reads of ML Metadata nodes, following what MLMD itself
 * does (doc/mlmd-schema.md): types looked up by (name, version NULL,
 * kind), declared properties listed in TypeProperty, one value column per
 * property row, integer columns bound as integers, times in milliseconds.
 *
 * Internal to core/.  Every function requires the caller to hold the store
 * lock (and, for writes, an open transaction).  Returns 0 or -errno; lookups
 * that find nothing return -ENOENT.
 */
#ifndef CMFFS_MLMD_H
#define CMFFS_MLMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "value.h"

enum mlmd_kind {
	MLMD_EXECUTION_TYPE = 0,
	MLMD_ARTIFACT_TYPE = 1,
	MLMD_CONTEXT_TYPE = 2,
};

/* MLMD PropertyType values stored in TypeProperty.data_type */
enum mlmd_ptype {
	MLMD_PT_INT = 1,
	MLMD_PT_DOUBLE = 2,
	MLMD_PT_STRING = 3,
};

enum mlmd_node {
	MLMD_ARTIFACT = 0,
	MLMD_EXECUTION = 1,
	MLMD_CONTEXT = 2,
	_MLMD_NODE_MAX,
};

enum mlmd_event_type {
	MLMD_EVENT_INPUT = 3,
	MLMD_EVENT_OUTPUT = 4,
};

/* Step @s, expected to return no rows; resets it.  0 or -errno. */
int mlmd_step_done(sqlite3_stmt *s);
/* Step a query returning one integer column into *ret; resets it.
 * -ENOENT when there is no row. */
int mlmd_step_int(sqlite3_stmt *s, int64_t *ret);

struct mlmd_type_prop {
	const char *name;
	enum mlmd_ptype type;
};

/*
 * Find the type (@kind, @name); create it with @props if missing; add any of
 * @props the existing type lacks (MLMD allows adding properties).
 */
int mlmd_type_ensure(struct store *st, enum mlmd_kind kind, const char *name,
		     const struct mlmd_type_prop *props, size_t nprops,
		     int64_t *ret_id);
int mlmd_type_find(struct store *st, enum mlmd_kind kind, const char *name,
		   int64_t *ret_id);
/* Name of type @type_id; *ret_name is owned. */
int mlmd_type_name(struct store *st, int64_t type_id, char **ret_name);
/* Type name of artifact @artifact_id; *ret_name is owned. */
int mlmd_artifact_type_name(struct store *st, int64_t artifact_id,
			    char **ret_name);

/* Set (insert or replace) one property value. */
int mlmd_prop_set(struct store *st, enum mlmd_node node, int64_t id,
		  const char *name, bool custom, const struct value *v);
int mlmd_prop_set_str(struct store *st, enum mlmd_node node, int64_t id,
		      const char *name, bool custom, const char *s);
int mlmd_prop_set_int(struct store *st, enum mlmd_node node, int64_t id,
		      const char *name, bool custom, int64_t i);
/*
 * The text a user reads back of the property value in columns @col ..
 * @col + 3 of @s (int_value, double_value, string_value, bool_value): the
 * first that is not NULL, as MLMD reads it, a double in the shortest form
 * that reads back the same, "" when all are NULL.  Owned; NULL on ENOMEM.
 */
char *mlmd_value_text(sqlite3_stmt *s, int col);
/* String form of a property value (ints and doubles formatted); owned. */
int mlmd_prop_get_text(struct store *st, enum mlmd_node node, int64_t id,
		       const char *name, bool custom, char **ret_text);
int mlmd_prop_delete(struct store *st, enum mlmd_node node, int64_t id,
		     const char *name, bool custom);

/*
 * Rename property @from to @to, keeping its typed value; an existing @to is
 * replaced.  -ENOENT if there is no @from.  Caller holds a transaction.
 */
int mlmd_prop_rename(struct store *st, enum mlmd_node node, int64_t id,
		     const char *from, const char *to, bool custom);

/* How a property's value becomes JSON. */
enum mlmd_value_style {
	/*
	 * As MLMD reads it: the first of int_value, double_value,
	 * string_value, bool_value that is not NULL; null when all are.
	 * What the mount shows (views, metrics, .properties).
	 */
	MLMD_VALUE_TYPED,
	/*
	 * As upstream's CmfQuery._copy does for the CMF JSON document
	 * (doc/cmf-upstream.md §2.1): string_value, else int_value, else
	 * double_value, and 0.0 when none is set (bool_value is not read).
	 */
	MLMD_VALUE_CMFQUERY,
};

/*
 * The JSON value of a property row whose int_value, double_value,
 * string_value and bool_value are columns @col .. @col + 3 of @s, in
 * @style.  A new reference, NULL on ENOMEM (or a string that is not UTF-8:
 * imported stores may hold one; it reads as null).
 */
struct json_t;
struct json_t *mlmd_value_json(sqlite3_stmt *s, int col,
			       enum mlmd_value_style style);

/*
 * The properties (@custom false) or custom properties (true) of node @id
 * as a new JSON object, keys in name order, values in @style.  Caller holds
 * the lock.  0 or -errno; *@ret_obj is a new reference on success.
 */
int mlmd_props_json(struct store *st, enum mlmd_node node, int64_t id,
		    bool custom, enum mlmd_value_style style,
		    struct json_t **ret_obj);

/* Update last_update_time_since_epoch of a node to @now_ms. */
int mlmd_touch(struct store *st, enum mlmd_node node, int64_t id,
	       int64_t now_ms);

int mlmd_context_find(struct store *st, int64_t type_id, const char *name,
		      int64_t *ret_id);
int mlmd_context_insert(struct store *st, int64_t type_id, const char *name,
			int64_t now_ms, int64_t *ret_id);
/* @name NULL inserts an unnamed execution. */
int mlmd_execution_insert(struct store *st, int64_t type_id, const char *name,
			  int64_t now_ms, int64_t *ret_id);
int mlmd_artifact_insert(struct store *st, int64_t type_id, const char *uri,
			 const char *name, int64_t now_ms, int64_t *ret_id);

/*
 * Add Event(@artifact_id, @execution_id, @type) at @ms.  @path_key, if not
 * NULL, becomes the event's one path step (EventPath.step_key), as CMF writes
 * for re-linked artifacts.  -EEXIST if that event exists already.
 */
int mlmd_event_insert(struct store *st, int64_t artifact_id,
		      int64_t execution_id, int type, int64_t ms,
		      const char *path_key);
/* Insert if missing; never fails on an existing row. */
int mlmd_attribution_ensure(struct store *st, int64_t context_id,
			    int64_t artifact_id);
int mlmd_association_ensure(struct store *st, int64_t context_id,
			    int64_t execution_id);
int mlmd_parent_context_ensure(struct store *st, int64_t child_id,
			       int64_t parent_id);

#endif
