/* SPDX-License-Identifier: MIT */
/*
 * What is pushed and what is not, derived from the store (doc/design.md §4):
 * an object is pending until confirmed at the remote, an execution until a
 * CMF server acknowledged its current version (its last update time).  The
 * sync loop asks, pushes, and records; after a crash or an outage it asks
 * again and finds exactly what is left.
 *
 * @remote and @server identify where things went (the storage URL, the
 * server URL), so changing either in .cmfconfig makes everything pending
 * for the new one.  Same threading rules as model.h.
 */
#ifndef CMFFS_SYNCSTATE_H
#define CMFFS_SYNCSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef int (*sync_object_cb)(void *ud, const char *oid, uint64_t size);

/*
 * Objects not yet confirmed at @remote, in log order: every object an
 * artifact names (every version ever logged, not only the current file
 * tree) and the bytes of every file.  @size is 0 where unknown.  An object
 * that is not local (pulled, never read) is the caller's to check at the
 * remote.
 */
int syncstate_pending_objects(struct model *m, const char *remote,
			      sync_object_cb cb, void *ud);
int syncstate_object_done(struct model *m, const char *remote,
			  const char *oid);

struct pending_execution {
	int64_t id;
	int64_t update_ms;	/* the version to acknowledge */
	char pipeline[256];
	int missing_objects;	/* its artifacts not yet at @remote */
	int unknown_slices;	/* its Dataslice events @server may lack */
};
typedef int (*sync_execution_cb)(void *ud, const struct pending_execution *e);

/*
 * Executions not acknowledged by @server in their current version, oldest
 * first, optionally of @pipeline only (NULL: all).  missing_objects counts
 * against @remote (NULL: no storage, never missing).
 */
int syncstate_pending_executions(struct model *m, const char *server,
				 const char *remote, const char *pipeline,
				 sync_execution_cb cb, void *ud);
int syncstate_execution_done(struct model *m, const char *server,
			     int64_t execution_id, int64_t update_ms);

/*
 * Dataslice events.  A CMF server merges a named execution again on every
 * push, and upstream's merge re-links a Dataslice whose uri it knows as an
 * INPUT of the execution without looking for the event it has
 * (doc/cmf-upstream.md §2.4, §8.11): a push must not carry a Dataslice event
 * the server has.  What a server has is recorded per (execution, artifact,
 * server): when it acknowledges a push that carried the event, or when its
 * document shows the execution with an event on an artifact of that uri.
 * An event not recorded may or may not be there (a push whose answer was
 * lost, a server that got the execution from another one): the pusher asks
 * the server before sending it.
 */
struct slice_event {
	int64_t execution_id;
	int64_t artifact_id;
	bool known;		/* @server is recorded to have it */
};

/*
 * The Dataslice events of executions @ids[0..n) and whether @server has
 * them; *ret (owned, NULL when none) in event order, *ret_n of them.
 */
int syncstate_slice_events(struct model *m, const char *server,
			   const int64_t *ids, size_t n,
			   struct slice_event **ret, size_t *ret_n);
/* Record that @server has the events of @v[0..n) (the known ones are). */
int syncstate_slices_done(struct model *m, const char *server,
			  const struct slice_event *v, size_t n);
/*
 * @server's document shows execution @execution_id with an event on an
 * artifact of uri @uri: record the execution's Dataslice events on
 * artifacts of that uri (none: nothing to do).
 */
int syncstate_slice_seen(struct model *m, const char *server,
			 int64_t execution_id, const char *uri);
/*
 * The uuid a server knows execution @execution_id by: the first of its
 * Execution_uuid list (owned); -ENOENT if it has none.
 */
int syncstate_execution_uuid(struct model *m, int64_t execution_id,
			     char **ret_uuid);

struct sync_counts {
	int64_t objects_pending;
	int64_t objects_pushed;
	int64_t executions_pending;
	int64_t executions_pushed;
};
int syncstate_counts(struct model *m, const char *remote, const char *server,
		     struct sync_counts *ret);

/*
 * Files whose bytes came by a pull or an import have no size until it is
 * learnt (ENTRY_SIZE_UNKNOWN, model.h): syncstate_unknown_sizes() lists
 * their objects (size 0 in the callback), and syncstate_set_size()
 * records an object's size for every file showing it.
 */
int syncstate_unknown_sizes(struct model *m, sync_object_cb cb, void *ud);
int syncstate_set_size(struct model *m, const char *md5, uint64_t size);

/*
 * The objects of the files (inputs/, outputs/, ...) of pipeline
 * @pipeline, restricted to its stage @stage and that stage's execution
 * @execution when not NULL; each once, with its size (0 if unknown), in
 * the order they were logged.  Whether they are local is the caller's to
 * check.
 */
/*
 * The paths (the part of the name before its first ':') of the artifacts
 * whose uri is @oid, the newest first, in *ret_paths (owned: free with
 * syncstate_paths_free()).
 */
int syncstate_object_paths(struct model *m, const char *oid,
			   char ***ret_paths, size_t *ret_n);
void syncstate_paths_free(char **v, size_t n);

int syncstate_scope_objects(struct model *m, const char *pipeline,
			    const char *stage, const char *execution,
			    sync_object_cb cb, void *ud);

/* A file of E/tensorboard/ not yet uploaded (in this version) to a server. */
struct pending_upload {
	int64_t entry_id;
	char md5[33];
	char pipeline[256];
	char *name;		/* "STAGE/EXECUTION/path"; owned by the list */
};
typedef int (*sync_upload_cb)(void *ud, const struct pending_upload *u);

int syncstate_pending_tensorboard(struct model *m, const char *server,
				  sync_upload_cb cb, void *ud);
int syncstate_tensorboard_done(struct model *m, const char *server,
			       int64_t entry_id, const char *md5);

/*
 * Artifacts of @type ("Environment", "Label") whose file the server has not
 * received yet through its side upload (/python-env, /label); @cb gets the
 * artifact's uri (its md5) and name.
 */
typedef int (*sync_side_cb)(void *ud, const char *uri, const char *name);
int syncstate_pending_side(struct model *m, const char *server,
			   const char *type, sync_side_cb cb, void *ud);
int syncstate_side_done(struct model *m, const char *server, const char *type,
			const char *uri);

/*
 * Notes about the last sync passes ("last_error", "last_success", ...), kept
 * in the store so that `cmffs status` shows them without a mount.  @value
 * NULL deletes.  syncstate_note_get gives the owned value and its time.
 */
int syncstate_note_set(struct model *m, const char *key, const char *value);
int syncstate_note_get(struct model *m, const char *key, char **ret_value,
		       int64_t *ret_time_ms);

#endif
