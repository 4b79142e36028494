/* SPDX-License-Identifier: MIT */
/*
 * The read-only views of all artifacts in MOUNT/artifacts/:
 *   by-hash/ab/cdef...      every artifact with bytes, by its md5 (or .dir)
 *   by-type/TYPE/PATH:...   by type, then by the path in its name
 *   by-name/PATH:...        by the path in its name
 * An artifact's name "a/b.csv:md5" shows as directory a/ holding the file
 * "b.csv:md5".  Same threading rules as model.h.
 */
#ifndef CMFFS_ARTIFACTS_H
#define CMFFS_ARTIFACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* The first two hex digits of every artifact with bytes. */
int artifacts_hash_dirs(struct model *m, model_name_cb cb, void *ud);
/* The artifacts whose uri starts with @prefix (2 digits): the rest of
 * the uri as name, one artifact per uri. */
int artifacts_in_hash_dir(struct model *m, const char *prefix,
			  model_name_cb cb, void *ud);
int artifacts_find_uri(struct model *m, const char *uri, int64_t *ret_id);

/* Artifact type names in use. */
int artifacts_types(struct model *m, model_name_cb cb, void *ud);

/*
 * Children of name directory @prefix ("" or "a/b/") among artifacts of
 * @type (NULL: all): @cb gets each child once, with id 0 for a directory
 * and the artifact id for a file.
 */
int artifacts_names(struct model *m, const char *type, const char *prefix,
		    model_name_cb cb, void *ud);
/* Is there a name starting with @prefix (a directory), or exactly @name? */
int artifacts_find_name(struct model *m, const char *type, const char *name,
			int64_t *ret_id, bool *ret_is_dir);

/* What a view file reads: the uri (an object id, or "" when the artifact
 * has no bytes, e.g. Metrics) and the size once known (-1 unknown). */
int artifacts_info(struct model *m, int64_t id, char *uri, size_t urilen,
		   int64_t *ret_size, int64_t *ret_create_ms);

/* The record of an artifact without bytes, as JSON (owned). */
int artifacts_record_json(struct model *m, int64_t id, char **ret_text,
			  size_t *ret_len);

#endif
