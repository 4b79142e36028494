/* SPDX-License-Identifier: MIT */
/*
 * Internals of the FUSE adapter.
 *
 * Locking model: the model (core/model.h) serializes store access itself.
 * The open-file table has one lock (fs->ofiles_lock), each open file its own
 * (of->lock).  Order: ofiles_lock, then of->lock, then the cache's commit
 * hold (cas_hold(), which waits while a `cmffs gc` sweeps), then the store
 * lock inside model calls.  No lock is held across a reply to the kernel.
 */
#ifndef CMFFS_FS_I_H
#define CMFFS_FS_I_H

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 14)

#include <fuse.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cas.h"
#include "model.h"
#include "sync.h"

struct ofile;

struct fs {
	char *workspace;
	char *mountpoint;	/* absolute */
	struct model *model;
	struct cas *cas;
	uid_t owner_uid;	/* who mounted: owner of the fixed dirs */
	gid_t owner_gid;
	int64_t mount_time_ns;
	pthread_mutex_t ofiles_lock;
	struct ofile *ofiles;	/* protected by ofiles_lock */
	int hashers;		/* hasher threads running; ofiles_lock */
	struct pending_metrics *pending;	/* protected by ofiles_lock */
	const struct config *cfg;
	struct syncer *syncer;	/* background sync; started in init */
	struct fetcher *fetcher;	/* bytes of pulled files (fetch.h) */
};

/* What a path names.  Filled by fs_resolve(). */
enum node_kind {
	NODE_ROOT,
	NODE_PIPELINES,		/* /pipelines */
	NODE_CMF_DIR,		/* /.cmf */
	NODE_CMF_STATUS,	/* /.cmf/status */
	NODE_CMF_LOG,		/* /.cmf/log */
	NODE_PIPELINE,		/* /pipelines/P */
	NODE_STAGE,		/* /pipelines/P/S */
	NODE_CTX_PROPS,		/* .../.properties */
	NODE_CTX_PROP,		/* .../.properties/KEY */
	NODE_EXEC,		/* /pipelines/P/S/E */
	NODE_SIDE,		/* E/inputs, E/outputs */
	NODE_ENTRY,		/* a file or directory below a side */
	NODE_EXEC_PROPS,	/* E/properties */
	NODE_EXEC_PROP,		/* E/properties/KEY */
	NODE_EXEC_JSON,		/* E/execution.json */
	NODE_EXEC_STATE,	/* E/state */
	NODE_METRICS,		/* E/metrics */
	NODE_METRICS_FILE,	/* E/metrics/NAME.json */
	NODE_EXEC_LINEAGE,	/* E/lineage */
	NODE_PIPELINE_DOT,	/* P/lineage.dot */
	NODE_PIPELINE_SVG,	/* P/lineage.svg */
	NODE_PIPELINE_CYPHER,	/* P/lineage.cypher */
	NODE_COMMIT,		/* DIR/.commit below inputs/ or outputs/ */
	NODE_ARTIFACTS,		/* /artifacts */
	NODE_ART_BYHASH,	/* /artifacts/by-hash */
	NODE_ART_HASHDIR,	/* /artifacts/by-hash/ab */
	NODE_ART_BYTYPE,	/* /artifacts/by-type */
	NODE_ART_NAMES,		/* by-name/..., by-type/TYPE/...: name dirs */
	NODE_ART_FILE,		/* an artifact in a view */
};

/* A metrics file created but not yet written (so stat works until close). */
struct pending_metrics {
	int64_t exec_id;
	char name[256];		/* without .json */
	struct pending_metrics *next;
};

struct node {
	enum node_kind kind;
	int64_t pipeline_id;
	int64_t stage_id;
	int64_t exec_id;
	int64_t ctx_id;		/* owner of .properties: pipeline or stage */
	int side;		/* NODE_SIDE, NODE_ENTRY */
	struct entry entry;	/* NODE_ENTRY */
	int64_t prop_id;	/* NODE_*_PROP: stable number of the property */
	char pipeline[256];
	char stage[256];
	char name[256];		/* last component */
	/* artifact views */
	char art_type[128];	/* NODE_ART_NAMES: type filter, "" = all */
	char art_prefix[1024];	/* NODE_ART_NAMES: "a/b/"; HASHDIR: "ab" */
	int64_t artifact_id;	/* NODE_ART_FILE */
};

/*
 * Resolve @path.  -ENOENT if it names nothing; -ENOTDIR if a component
 * other than the last is not a directory.
 */
int fs_resolve(struct fs *fs, const char *path, struct node *ret);

/* Step from directory node @n (updated in place) into its child @name. */
int fs_resolve_child(struct fs *fs, struct node *n, const char *name);

/*
 * Split @path into its parent (resolved) and last component.  Fails with
 * -EINVAL and a journal line if the last component cannot be stored.
 */
int fs_resolve_parent(struct fs *fs, const char *path, const char *op,
		      struct node *ret_parent, const char **ret_name);

/* Is metrics file @name of @exec_id created and not yet written? */
bool fs_metrics_pending(struct fs *fs, int64_t exec_id, const char *name);

/*
 * Log the Python environment of process @pid (if it runs Python) as an
 * input of execution @exec_id (capture.c).  0 when there is none.
 */
int fs_capture_environment(struct fs *fs, int64_t exec_id, int pid);

/* Stable inode number of a node. */
uint64_t fs_ino(const struct node *n);

/* Write a refusal to the journal and return @r (negative errno). */
int fs_refuse(int r, const char *op, const char *path, const char *why);

/* --- open files being written (ofile.c) -------------------------------- */

struct handle;

/* Attach to (or create) the open file of entry @e.  @trunc: start empty. */
int ofile_open(struct fs *fs, const struct entry *e, bool trunc,
	       struct ofile **ret);
/* Find the open file of entry @id, taking a reference; NULL if none. */
struct ofile *ofile_find(struct fs *fs, int64_t entry_id);
int ofile_read(struct ofile *of, char *buf, size_t size, off_t off);
int ofile_write(struct fs *fs, struct ofile *of, const char *buf, size_t size,
		off_t off);
int ofile_truncate(struct fs *fs, struct ofile *of, off_t size);
/* Were bytes written since the last commit?  (A hint: unlocked after.) */
bool ofile_written(struct ofile *of);
/* Current size and mtime while open; never waits, not even while the file
 * is re-hashed or committed at close. */
void ofile_stat(struct ofile *of, uint64_t *ret_size, int64_t *ret_mtime_ns);
/* utimens on an open file: the time survives the logging at close. */
void ofile_set_mtime(struct ofile *of, int64_t mtime_ns);
/*
 * Log the current content if it changed (a close by a writer).  @killed: the
 * closing process was killed by a signal: the content is abandoned instead.
 * @shared: the closing process is not the one that opened the file, so the
 * description may still be held elsewhere: nothing is logged now, the last
 * close (ofile_release) logs the final bytes.  @more_fds: the closing
 * process still has the file open on another descriptor: a close without
 * writes then waits for that one.  A refusal may come with an owned
 * explanation in *ret_err (if not NULL).
 */
int ofile_flush(struct fs *fs, struct ofile *of, bool killed, bool shared,
		bool more_fds, char **ret_err);
/* Drop a reference; the last one logs or discards what is left. */
void ofile_release(struct fs *fs, struct ofile *of);

#endif
