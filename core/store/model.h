/* SPDX-License-Identifier: MIT */
/*
 * The CMF model over the metadata store: pipelines, stages, executions,
 * artifacts and events with CMF's type names, name formats and properties
 * (doc/cmf-upstream.md §1), and the file tree a user sees inside an
 * execution (entries).  This is the only core/ header fs/ needs for metadata;
 * no SQL leaves core/.
 *
 * Mapping (doc/design.md §1):
 *  - pipeline P: Context of type Parent_Context named P, property Pipeline;
 *  - stage S of P: Context of type Pipeline_Stage named "P/S", property
 *    Pipeline_Stage, ParentContext(child = stage, parent = pipeline);
 *  - execution E of stage P/S: Execution of type "P/S" named E (a reusable,
 *    named execution in CMF's terms, so that later additions still merge on
 *    the server, doc/cmf-upstream.md §9), with the ten CMF properties and an
 *    Association to the stage;
 *  - a file logged under E/inputs/ or E/outputs/: an artifact (Dataset, or
 *    Model under a top folder models/, Label under labels/) with an INPUT or
 *    OUTPUT event, attributed to the stage whose execution created it (a
 *    stage that re-uses it adds only its event, as upstream does).
 *    Identical bytes of one type are one artifact.
 *
 * Threading: a struct model is one store connection with its own lock; every
 * function here takes the lock, so any thread may call any function.  Writes
 * are one short transaction each.  Returns are 0 (or a count) or -errno:
 * -ENOENT not found, -EEXIST exists, -ENOTEMPTY, -EPERM refused by the
 * append-only rule, -EPROTO/-EIO store problems.
 */
#ifndef CMFFS_MODEL_H
#define CMFFS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hash.h"
#include "value.h"

struct model;

enum model_open_flags {
	MODEL_CREATE = 1 << 0,
	MODEL_READONLY = 1 << 1,
};

/* See store_open() for what is accepted and *ret_err. */
int model_open(const char *mlmd_path, unsigned flags, struct model **ret_model,
	       char **ret_err);
void model_close(struct model *m);	/* NULL-safe */

/*
 * For tests and fuzzers (one store per process, emptied per input): make @m
 * what model_open(MODEL_CREATE) of a new file returns, with store_reset()
 * and the ids cached by the model forgotten.  The remote stays.  0 or
 * -errno.
 */
int model_reset(struct model *m);

/*
 * The workspace's redo log, @name below directory @dirfd (a duplicate of
 * @dirfd is kept), and what this process does with it (doc/design.md §6):
 *  MODEL_REDO_BATCH	batch through it (the mount, which owns it): creating
 *			a file or directory in an execution and logging a
 *			file's version become changes of a batch, each made
 *			durable against a crash by one record in the log;
 *			records a crash left there are applied first.  Every
 *			model call of this process sees a change at once;
 *			other processes within STORE_BATCH_AGE_MS, or after
 *			model_flush().
 *  MODEL_REDO_APPLY	apply what a mount that died left in it (a command
 *			that owns it for the moment: no mount is alive).
 *  0			only know where it is (model_redo_objects()).
 * 0 or -errno (*@ret_err: owned explanation).
 */
enum model_redo_how {
	MODEL_REDO_BATCH = 1,
	MODEL_REDO_APPLY = 2,
};
int model_redo_attach(struct model *m, int dirfd, const char *name,
		      int how, char **ret_err);

/*
 * Call @cb with the md5 of every object a record of the redo log names:
 * changes a live mount made that other connections may not see committed
 * yet.  A sweep of the content store counts them as referenced (read the
 * log first, then the store).  No log: 0.  Callback contract as rows.h.
 */
int model_redo_objects(struct model *m,
		       int (*cb)(void *ud, const char *md5), void *ud);

/*
 * A number that changes whenever what the model reads may have changed
 * (store_version()): a cache of what is rendered from the store is valid
 * while it stays the same.
 */
uint64_t model_version(struct model *m);

/* Commit the open batch, so that other processes see it.  0 or -errno. */
int model_flush(struct model *m);

/*
 * The remote the artifact bytes go to (e.g. "/srv/store", "s3://b/prefix"),
 * used for artifacts' url property "PIPELINE:REMOTE/files/md5/ab/cdef...".
 * NULL: no remote; url stays "".  The string is copied.
 */
int model_set_remote(struct model *m, const char *remote_url);

/* --- contexts and executions ------------------------------------------ */

struct node_times {
	int64_t create_ms;
	int64_t update_ms;
};

/* Provenance recorded with a new execution; every field may be NULL. */
struct exec_origin {
	const char *cmdline;	/* Execution: Python-list repr of argv */
	const char *git_repo;
	const char *git_commit;
	int git_dirty;		/* 1, 0, -1 unknown */
	const char *user;
	const char *host;
	int pid;
};

/*
 * Called per child in name order, without the store lock (a callback may
 * use the model).  Every listing of the model and of syncstate.h follows
 * rows.h's contract: a negative return stops the listing and is returned,
 * a positive one stops it and the listing returns 0.
 */
typedef int (*model_name_cb)(void *ud, const char *name, int64_t id);

int model_pipeline_find(struct model *m, const char *name, int64_t *ret_id);
int model_pipeline_create(struct model *m, const char *name, int64_t *ret_id);
int model_pipeline_list(struct model *m, model_name_cb cb, void *ud);
/* Remove a pipeline with no stages.  -ENOTEMPTY otherwise. */
int model_pipeline_remove(struct model *m, int64_t id);

/* @stage is the short name (S); the context is named "P/S". */
int model_stage_find(struct model *m, const char *pipeline, const char *stage,
		     int64_t *ret_id);
int model_stage_create(struct model *m, int64_t pipeline_id,
		       const char *pipeline, const char *stage,
		       int64_t *ret_id);
/* Lists short names. */
int model_stage_list(struct model *m, int64_t pipeline_id, model_name_cb cb,
		     void *ud);
int model_stage_remove(struct model *m, int64_t id);

/*
 * Where a pipeline, stage or execution sits in the tree a mount shows:
 * the ids and names of its pipeline, stage and execution, the levels
 * below the object itself 0 and "" (an unnamed execution is named
 * execution-<id>, as model_execution_list() lists it).
 */
struct model_place {
	int64_t pipeline_id;
	int64_t stage_id;
	int64_t execution_id;
	char pipeline[256];
	char stage[256];
	char execution[256];
};
/* The place of context @id (a pipeline or a stage); -ENOENT if gone. */
int model_place_context(struct model *m, int64_t id,
			struct model_place *ret);
/* The place of execution @id; -ENOENT if gone or in no stage. */
int model_place_execution(struct model *m, int64_t id,
			  struct model_place *ret);

int model_execution_find(struct model *m, int64_t stage_id, const char *name,
			 int64_t *ret_id);
int model_execution_create(struct model *m, int64_t stage_id,
			   const char *name, const struct exec_origin *origin,
			   int64_t *ret_id);
int model_execution_list(struct model *m, int64_t stage_id, model_name_cb cb,
			 void *ud);
/* Remove an execution that has logged nothing.  -ENOTEMPTY otherwise. */
int model_execution_remove(struct model *m, int64_t id);

/* MLMD Execution.State values (last_known_state) */
enum exec_state {
	EXEC_UNKNOWN = 0,
	EXEC_NEW = 1,
	EXEC_RUNNING = 2,
	EXEC_COMPLETE = 3,
	EXEC_FAILED = 4,
	EXEC_CACHED = 5,
	EXEC_CANCELED = 6,
};

/* "RUNNING" etc.; NULL for a value out of range. */
const char *exec_state_name(int state);
/* Parse a state name, case-insensitive, "completed" = COMPLETE.  -EINVAL. */
int exec_state_parse(const char *s, int *ret_state);
/* -1 in *ret_state when unset. */
int model_execution_state(struct model *m, int64_t id, int *ret_state);
/*
 * Set last_known_state; with @git_end_commit (may be "") also the
 * Git_End_Commit property, as CMF's finalize() does.
 */
int model_execution_set_state(struct model *m, int64_t id, int state,
			      const char *git_end_commit);

/* --- execution metrics (doc/cmf-upstream.md §6.1) --------------------------- */

struct metric {
	const char *key;
	struct value v;
};

/*
 * Log execution metrics @name of execution @id: a Metrics artifact named
 * "NAME:UUID:EXECUTION_ID" (uri = a fresh uuid1, property metrics_name =
 * that name), the values as its custom properties, an OUTPUT event and an
 * attribution to the stage.  Writing the same NAME again logs a new one,
 * as upstream's log_execution_metrics does.
 */
int model_metrics_log(struct model *m, int64_t id, const char *name,
		      const struct metric *values, size_t n);
/*
 * Parse @text (one JSON object) and log it as above, each value stored as
 * upstream's value_to_mlmd_value() stores what json.loads() gives: an
 * integer (or a bool) as an int, a real as a double, a string as a string,
 * an object or an array as the string Python's str() makes of it
 * (pyrepr.h).  -EINVAL with an owned message in *ret_err saying where the
 * text is wrong: not JSON, not an object, an integer beyond int64
 * (anywhere), a top-level null, "\u0000" in a key or a top-level string.
 */
int model_metrics_log_json(struct model *m, int64_t id, const char *name,
			   const char *text, size_t len, char **ret_err);
/* The metrics names logged by execution @id, once each. */
int model_metrics_list(struct model *m, int64_t id, model_name_cb cb,
		       void *ud);
/* The latest values of metrics @name of execution @id as a JSON object
 * (owned text with a final newline); -ENOENT if none. */
int model_metrics_json(struct model *m, int64_t id, const char *name,
		       char **ret_text, size_t *ret_len);

int model_context_times(struct model *m, int64_t id, struct node_times *ret);
int model_execution_times(struct model *m, int64_t id,
			  struct node_times *ret);

/* --- custom properties -------------------------------------------------- */

enum model_owner {
	OWNER_ARTIFACT = 0,
	OWNER_EXECUTION = 1,
	OWNER_CONTEXT = 2,
};

/* Custom properties of a node, in name order; @id of the callback is a
 * number stable while the property is unchanged. */
int model_prop_list(struct model *m, enum model_owner owner, int64_t id,
		    model_name_cb cb, void *ud);
/* Value as text (owned), as a user reads it back. */
int model_prop_get(struct model *m, enum model_owner owner, int64_t id,
		   const char *name, char **ret_text);
int model_prop_set(struct model *m, enum model_owner owner, int64_t id,
		   const char *name, const struct value *v);
int model_prop_delete(struct model *m, enum model_owner owner, int64_t id,
		      const char *name);
/* Rename, keeping the typed value, in one transaction (mv of a property
 * file); an existing @to is replaced.  -ENOENT without @from. */
int model_prop_rename(struct model *m, enum model_owner owner, int64_t id,
		      const char *from, const char *to);

/* --- the file tree of an execution ------------------------------------- */

enum entry_side {
	SIDE_INPUTS = 0,
	SIDE_OUTPUTS = 1,
	/*
	 * E/tensorboard/: files kept in the content store and uploaded to
	 * the server's TensorBoard endpoint, but not logged as artifacts
	 * (upstream's `cmf metadata push -t`); they may be removed.
	 */
	SIDE_TENSORBOARD = 2,
	/*
	 * E/metrics/NAME.csv: step metrics (one row per step), each closed
	 * version logged as a Step_Metrics artifact named
	 * cmf_artifacts/<execution uuid>/metrics/NAME:<md5>:<execution id>:<uuid1>
	 * (cmflib's commit_metrics; CSV instead of parquet).
	 */
	SIDE_STEP_METRICS = 3,
	/*
	 * E/dataslices/NAME/: a named subset of datasets' files, linked (or
	 * copied) in, with per-file properties (xattrs); `touch .commit` logs
	 * it as one Dataslice artifact (doc/cmf-upstream.md §6.3).  Members are
	 * not artifacts of their own and may be removed before a commit.
	 */
	SIDE_DATASLICE = 4,
};

/*
 * The size stored for a file whose bytes came by a pull or an import and
 * whose size is not known yet (-1 in cmffs_entry.size): the sync code
 * learns it from the storage (syncstate_unknown_sizes()) so that stat is
 * right before the first read.  Pass it as @size where one is asked for.
 */
#define ENTRY_SIZE_UNKNOWN UINT64_MAX

struct entry {
	int64_t id;
	int64_t execution_id;
	int side;		/* enum entry_side */
	int64_t parent_id;	/* 0: top of the side */
	bool is_dir;
	int64_t artifact_id;	/* current version; 0 while unlogged */
	char md5[MD5_HEX_LEN + 5];	/* "" while unlogged; "<md5>.dir"
					 * for a committed directory */
	uint64_t size;		/* 0 while unknown (below) */
	bool size_known;	/* false: pulled, size not yet learnt */
	mode_t mode;		/* permission bits only */
	uid_t uid;
	gid_t gid;
	int64_t mtime_ns;
	int64_t ctime_ns;
	/*
	 * Files: the names sharing this file's inode (hard links made with
	 * link(); identical bytes written twice are two files), and the
	 * inode's identity, the same for the file's whole life: every
	 * version it logs, before and after its first close.
	 */
	uint32_t nlink;
	int64_t inode_id;
	char name[256];
};

typedef int (*model_entry_cb)(void *ud, const struct entry *e);

int model_entry_get(struct model *m, int64_t id, struct entry *ret);
int model_entry_lookup(struct model *m, int64_t execution_id, int side,
		       int64_t parent_id, const char *name, struct entry *ret);
int model_entry_list(struct model *m, int64_t execution_id, int side,
		     int64_t parent_id, model_entry_cb cb, void *ud);
/* Number of subdirectories of a directory (for its link count). */
int model_entry_subdirs(struct model *m, int64_t execution_id, int side,
			int64_t parent_id);

/* A directory, or a file whose first version is not written yet. */
int model_entry_mkdir(struct model *m, int64_t execution_id, int side,
		      int64_t parent_id, const char *name, mode_t mode,
		      uid_t uid, gid_t gid, struct entry *ret);
int model_entry_create(struct model *m, int64_t execution_id, int side,
		       int64_t parent_id, const char *name, mode_t mode,
		       uid_t uid, gid_t gid, struct entry *ret);

/*
 * Log @md5 (the bytes, already in the content store) as the current version
 * of file entry @id: find or create the artifact (a new one attributed to
 * the stage), add the event, and point the entry at it, in one transaction.  Logging the
 * version an entry already has only updates size and mtime.  On success
 * *ret_logged (if not NULL) says whether a new event was recorded.
 */
int model_entry_log(struct model *m, int64_t id, const char *md5,
		    uint64_t size, int64_t mtime_ns, bool *ret_logged);

/*
 * Hard link: a new entry for the artifact of file entry @src_id in another
 * (or the same) place, logged with an event of that side.  -EPERM if @src_id
 * is not logged yet.
 */
int model_entry_link(struct model *m, int64_t src_id, int64_t execution_id,
		     int side, int64_t parent_id, const char *name,
		     struct entry *ret);

/*
 * Move entry @id (within its execution and side) to @new_parent/@new_name.
 * An existing target file is replaced (its artifact stays in the lineage); a
 * target directory must be empty.  @noreplace: -EEXIST if the target exists.
 * A file whose artifact was created by this entry alone and is used nowhere
 * else is re-logged under its new path, so rename-into-place writers leave
 * the artifact known by its final name.
 */
int model_entry_rename(struct model *m, int64_t id, int64_t new_parent,
		       const char *new_name, bool noreplace);

/*
 * Remove a file or an empty directory (-ENOTEMPTY) of the tree, as rm and
 * rmdir do on a disk.  What was logged stays in the history (artifacts,
 * events, what a server has), except a scratch file's: a file of inputs/
 * or outputs/ whose current version was logged by this execution alone (no
 * event of another execution, no other file showing it, no push to a
 * server since) leaves no artifact, and neither do its earlier versions
 * that never left the execution either.  Removing a file whose artifact
 * is named after it, logged by this execution alone and shown by exactly
 * one other file of the same tree (a link() then unlink(): git's
 * tmp_obj_XXXX), names that artifact after the other file, as a rename
 * would.  -EPERM for a committed (.dir)
 * directory and its members, and for step-metrics files: every commit of
 * those is history.
 */
int model_entry_remove(struct model *m, int64_t id);

enum entry_set {
	ENTRY_SET_MODE = 1 << 0,
	ENTRY_SET_OWNER = 1 << 1,
	ENTRY_SET_MTIME = 1 << 2,
};
int model_entry_setattr(struct model *m, int64_t id, unsigned what,
			mode_t mode, uid_t uid, gid_t gid, int64_t mtime_ns);

struct manifest_entry;

/*
 * The files below directory entry @dir_id, recursively, with paths
 * relative to it, as DVC manifest entries (owned; free with
 * manifest_free()).  -EBUSY if one of them is still being written.
 */
int model_entry_tree(struct model *m, int64_t dir_id,
		     struct manifest_entry **ret_entries, size_t *ret_n);

/*
 * Log directory entry @dir_id as one artifact (DVC's directory tracking):
 * its bytes are the manifest object @oid ("<md5>.dir", already in the
 * content store) of @size bytes; named "<dir path>:<oid>".  A committed
 * directory cannot be removed.
 */
int model_entry_log_dir(struct model *m, int64_t dir_id, const char *oid,
			uint64_t size);

/*
 * Per-file properties of dataslice members (and of the slice directory:
 * the Dataslice artifact's custom properties).  get: owned text, -ENOENT.
 */
int model_entry_prop_set(struct model *m, int64_t id, const char *key,
			 const char *value);
int model_entry_prop_get(struct model *m, int64_t id, const char *key,
			 char **ret_value);
int model_entry_prop_delete(struct model *m, int64_t id, const char *key);
/* "prop.K\0..." for listxattr; owned. */
int model_entry_prop_keys(struct model *m, int64_t id, char **ret_keys,
			  size_t *ret_len);

/*
 * The manifest of dataslice directory @dir_id: a CSV "path,hash,<props>"
 * with one row per member (path: the dataset file's path for linked
 * members, else the path in the slice), sorted.  Owned.  -EBUSY if a
 * member is still being written.
 */
int model_dataslice_manifest(struct model *m, int64_t dir_id, char **ret_csv,
			     size_t *ret_len);
/*
 * Log dataslice @dir_id with manifest bytes @md5 (in the content store):
 * a Dataslice artifact "cmf_artifacts/<execution uuid>/dataslice/NAME:md5"
 * with an OUTPUT event; the slice directory's properties become its
 * custom properties.
 */
int model_dataslice_log(struct model *m, int64_t dir_id, const char *md5,
			uint64_t size);

/* Path of entry @id below its side ("a/b.csv"); owned. */
int model_entry_path(struct model *m, int64_t id, char **ret_path);

/* Remove file entries whose first version never finished (after a crash).
 * Returns the number removed or -errno. */
int model_entry_drop_unlogged(struct model *m);

/* --- attributes of fixed directories ----------------------------------- */

struct dir_attr {
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int64_t mtime_ns;
};
/*
 * The directories whose chmod, chown and utimens are remembered, named by
 * what they show: the mount's root, pipelines/, a pipeline or stage (its
 * context id), an execution (its id).  @id is 0 for the first two.
 */
enum dirattr_owner {
	DIRATTR_ROOT = 1,
	DIRATTR_PIPELINES = 2,
	DIRATTR_CONTEXT = 3,
	DIRATTR_EXECUTION = 4,
};
/* -ENOENT when nothing was set for that directory. */
int model_dirattr_get(struct model *m, enum dirattr_owner owner, int64_t id,
		      struct dir_attr *ret);
int model_dirattr_set(struct model *m, enum dirattr_owner owner, int64_t id,
		      const struct dir_attr *a);

/* --- artifacts ----------------------------------------------------------- */

/*
 * Extended attribute @key of artifact @id: "hash", "type", "name", "url",
 * "prop.<custom property>".  *ret_value owned.  -ENODATA if absent.
 */
int model_artifact_attr(struct model *m, int64_t id, const char *key,
			char **ret_value);
/* All keys of model_artifact_attr() for @id, each NUL-terminated, in one
 * owned buffer of *ret_len bytes. */
int model_artifact_attr_keys(struct model *m, int64_t id, char **ret_keys,
			     size_t *ret_len);

/* --- documents ------------------------------------------------------------ */

/* execution.json: the whole record of execution @id, pretty JSON, owned. */
int model_execution_json(struct model *m, int64_t id, char **ret_text,
			 size_t *ret_len);
/* A short text summary of the store for .cmf/status; owned. */
int model_status_text(struct model *m, char **ret_text, size_t *ret_len);

#endif
