/* SPDX-License-Identifier: MIT */
/*
 * The CMF metadata document (doc/cmf-upstream.md §2.1): the JSON that
 * `cmf metadata export` writes and that cmf-server's /mlmd_push takes and
 * /mlmd_pull returns:
 *
 *   {"Pipeline": [{pipeline context attributes...,
 *                  "stages": [{stage context attributes...,
 *                              "executions": [{"type", "name", "events": [
 *                                  {"type": 3|4, "artifact": {...}}], ...}]}]}]}
 *
 * Node attributes are upstream's: create_time_since_epoch, custom_properties,
 * id, last_update_time_since_epoch, name, properties, type, type_id, uri;
 * property values keep their MLMD type (string, int, double).  Unlike
 * upstream, a custom property named "type" is not renamed "user_type"
 * (doc/cmf-upstream.md §8.7).
 */
#ifndef CMFFS_DOCUMENT_H
#define CMFFS_DOCUMENT_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/*
 * The largest CMF document read (cmffs import, the answer to a pull):
 * beyond it a document is refused (-EFBIG) before it is read whole.  A
 * merge needs the text plus a bounded amount: the document is walked, not
 * built as a tree (jscan.h); only one node's properties (at most 1 MiB of
 * text each) are held parsed at a time.
 */
#define DOCUMENT_MAX_BYTES ((size_t)128 << 20)

enum document_flags {
	DOCUMENT_INDENT = 1 << 0,	/* indent 2, as `cmf metadata export` */
};

/*
 * The document of pipeline @pipeline as text (owned, NUL-terminated,
 * ASCII: non-ASCII characters are \u-escaped as Python's json.dumps does).
 * -ENOENT if there is no such pipeline.
 */
int document_export(struct model *m, const char *pipeline, unsigned flags,
		    char **ret_text, size_t *ret_len);



/* An event: an execution's link to an artifact (of any event type). */
struct document_event {
	int64_t execution_id;
	int64_t artifact_id;
};

/*
 * The same, restricted to the executions in @ids (and the stages holding
 * them): a push in bounded pieces.  The events in @omit[0..nomit) are left
 * out (a push does not send again what the server has, syncstate.h).
 */
int document_export_executions(struct model *m, const char *pipeline,
			       const int64_t *ids, size_t nids,
			       const struct document_event *omit,
			       size_t nomit, unsigned flags, char **ret_text,
			       size_t *ret_len);

/*
 * The uris of the artifacts that the executions of document @text carrying
 * @uuid in their Execution_uuid list have events on (what a server has of
 * an execution: its answer to a pull), each given to @cb, maybe more than
 * once; a non-zero return of @cb ends the walk with it.  -EINVAL if @text
 * is not a CMF document (Pipeline, stages, executions and events lists of
 * objects; an absent list is empty, as document_import() reads it, and an
 * artifact without a uri has none), -EFBIG past DOCUMENT_MAX_BYTES.  Only
 * the strings looked at are decoded: the walk needs no more memory than
 * the text.
 */
typedef int (*document_uri_cb)(void *ud, const char *uri);
int document_execution_uris(const char *text, size_t len, const char *uuid,
			    document_uri_cb cb, void *ud);

struct import_stats {
	unsigned pipelines;	/* created */
	unsigned stages;
	unsigned executions;
	unsigned artifacts;
	unsigned events;
};

/*
 * Merge document @text into the store, in one transaction: pipelines,
 * stages, executions (matched by Execution_uuid, or by stage and name for
 * named executions), artifacts (matched by type and uri; custom properties
 * merged, urls joined), events, attributions, and the files of the
 * executions' inputs/ and outputs/ (their bytes are fetched on first read).
 * Importing the same document twice changes nothing.  @only_pipeline, if
 * not NULL, restricts the merge to that pipeline.
 *
 * A merge only adds (README "What a merge may change"): an execution of
 * another pipeline or stage, found by uuid or name, or a stage of another
 * pipeline, refuses the document; recorded property values are kept (an
 * absent or empty one may be filled), a Metrics artifact's values are
 * never changed, an artifact keeps its uri and type.
 *
 * A malformed document, a name the mount would refuse (names.h: "../x",
 * "/etc/x", control characters, in any artifact, execution, stage,
 * pipeline, type, uri or property key), or one of these changes refuses
 * the whole import: -EINVAL with an owned one-line reason in *ret_err, and
 * the store unchanged.  More than DOCUMENT_MAX_BYTES (or one node's
 * properties over 1 MiB): -EFBIG.  *ret_stats counts what was created.
 */
int document_import(struct model *m, const char *text, size_t len,
		    const char *only_pipeline, struct import_stats *ret_stats,
		    char **ret_err);
/*
 * Give the executions that another program wrote into the store (cmflib:
 * events but no cmffs file tree) their files in inputs/ and outputs/, from
 * their artifacts' names.  Returns the number of events looked at.
 */
int model_adopt_foreign(struct model *m, char **ret_err);

/*
 * Committed directories: @cb gets each one's object id and entry id (the
 * caller reads the manifests it does not have yet, to show their files).
 */
int model_unexpanded_dirs(struct model *m, model_name_cb cb, void *ud);
/* Place the files of manifest @v below directory entry @dir_id (their
 * bytes are fetched on first read). */
struct manifest_entry;
int model_dir_expand(struct model *m, int64_t dir_id,
		     const struct manifest_entry *v, size_t n);

#endif
