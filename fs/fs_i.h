/* SPDX-License-Identifier: MIT */
/*
 * Internals of the FUSE adapter.
 *
 * Locking model: the model (core/store/model.h) serializes store access itself.
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
#include "inotab.h"
#include "model.h"
#include "syncer.h"

struct ofile;

/* Slots of struct fs's table of rendered sizes (a power of two). */
#define RENDERED_SIZES 16384

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
	struct inotab *inos;	/* numbers of nodes known by a key */
	/*
	 * Sizes of files rendered from the store, by inode number, valid
	 * while model_version() is what it was (attr.c): ls -l of pages
	 * and tables renders each once, not at every stat.
	 */
	pthread_mutex_t sizes_lock;
	struct rendered_size {
		uint64_t ino;
		uint64_t version;
		off_t size;
	} sizes[RENDERED_SIZES];	/* protected by sizes_lock */
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
	NODE_STEP_PLOT,		/* E/metrics/NAME.svg of NAME.csv */
	NODE_STAGE_METRICS,	/* /pipelines/P/S/metrics */
	NODE_STAGE_PLOT,	/* S/metrics/NAME.svg */
	NODE_PIPELINE_OPENLINEAGE,	/* P/openlineage.jsonl */
	/* the report and the comparisons (core/report.h, compare.h, diff.h) */
	NODE_ROOT_INDEX,	/* /index.html */
	NODE_PIPELINE_INDEX,	/* P/index.html */
	NODE_PIPELINE_COMPARE,	/* P/compare.tsv */
	NODE_STAGE_COMPARE_TSV,	/* S/compare.tsv */
	NODE_STAGE_COMPARE_MD,	/* S/compare.md */
	NODE_EXEC_INDEX,	/* E/index.html */
	NODE_EXEC_DIFF,		/* E/diff */
	NODE_EXEC_DIFF_FILE,	/* E/diff/OTHER */
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
	int64_t other_exec_id;	/* NODE_EXEC_DIFF_FILE: OTHER */
};

/*
 * Resolve @path.  -ENOENT if it names nothing; -ENOTDIR if a component
 * other than the last is not a directory.
 */
int fs_resolve(struct fs *fs, const char *path, struct node *ret);

/*
 * The fixed layout of the mount: every name the mount itself makes (not a
 * pipeline, stage, execution, property, artifact or file a user made), in
 * the order a listing shows it.  path.c resolves with it, readdir lists it,
 * getattr counts its directories for nlink; nothing else spells a fixed
 * name.
 */
struct layout_child {
	enum node_kind parent;
	const char *name;
	enum node_kind kind;
	int side;		/* NODE_SIDE: which (enum entry_side) */
};

/* The fixed child @name of a node of kind @parent, or NULL. */
const struct layout_child *fs_layout_find(enum node_kind parent,
					  const char *name);

/*
 * Call @cb for each fixed child of a node of kind @parent, in listing
 * order; a non-zero return stops and is returned.
 */
int fs_layout_each(enum node_kind parent,
		   int (*cb)(void *ud, const struct layout_child *c), void *ud);

/*
 * Is a node of kind @kind a directory?  NODE_ENTRY depends on the entry
 * (entry.is_dir); this says true for it.
 */
bool fs_kind_is_dir(enum node_kind kind);

/*
 * The nlink of a directory of kind @kind whose children are all fixed
 * (2 + its fixed subdirectories), or 0 when it has children of the model.
 */
unsigned fs_layout_nlink(enum node_kind kind);

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


/* Stable inode number of a node. */
uint64_t fs_ino(struct fs *fs, const struct node *n);

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

/* --- the FUSE operations (ops.c has the table) ------------------------- */

#define PROP_MAX_BYTES (1 << 20)
#define XATTR_PREFIX "user.cmf."

enum handle_kind {
	H_OBJECT,	/* a logged file opened read-only: a cache object fd */
	H_OFILE,	/* a file opened for writing, or being written */
	H_TEXT,		/* a generated read-only text (snapshot at open) */
	H_PROP,		/* a property file: text read or written whole */
	H_CONTROL,	/* state, metrics/NAME.json: applied when closed */
};

struct handle {
	enum handle_kind kind;
	int fd;			/* H_OBJECT */
	struct ofile *of;	/* H_OFILE */
	bool writer;		/* opened for writing */
	char *buf;		/* H_TEXT, H_PROP */
	size_t len;
	size_t cap;
	bool written;		/* H_PROP, H_CONTROL: content to apply */
	bool emptied;		/* H_CONTROL: truncated, or never logged */
	pid_t opener;		/* H_OFILE: the thread that opened it */
	bool rdwr;		/* H_OFILE: opened O_RDWR (may be mmapped) */
	enum node_kind node;	/* H_CONTROL: which file */
	int64_t exec_id;	/* H_CONTROL */
	enum model_owner owner;	/* H_PROP */
	int64_t owner_id;
	char name[256];
	char path[512];		/* for journal lines */
};

/*
 * What the operation files share.  Each op_* is the fuse_operations
 * member of its name; the file that holds it is named in the comment
 * above its group.
 */
/* handle.c */
struct fs *get_fs(void);
struct handle *handle_of(struct fuse_file_info *fi);
void handle_free(struct handle *h);
struct handle *handle_new(enum handle_kind kind, const char *path);
void ns_to_ts(int64_t ns, struct timespec *ts);

/* attr.c */
bool is_dir_node(const struct node *n);
int node_stat(struct fs *fs, const struct node *n, struct stat *st);
int op_getattr(const char *path, struct stat *st,
	       struct fuse_file_info *fi);
int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi);
int op_chown(const char *path, uid_t uid, gid_t gid,
	     struct fuse_file_info *fi);
int op_utimens(const char *path, const struct timespec tv[2],
	       struct fuse_file_info *fi);
int op_statfs(const char *path, struct statvfs *st);

/* text.c */
int prop_owner(const struct node *n, enum model_owner *owner,
	       int64_t *id);
int node_text(struct fs *fs, const struct node *n, char **ret,
	      size_t *ret_len);

/* plot.c: the text of a NODE_STEP_PLOT or NODE_STAGE_PLOT; *ret owned */
int plot_text(struct fs *fs, const struct node *n, char **ret,
	      size_t *ret_len);

/* dir.c */
int pending_add(struct fs *fs, int64_t exec_id, const char *name);
void pending_remove(struct fs *fs, int64_t exec_id, const char *name);
int op_opendir(const char *path, struct fuse_file_info *fi);
int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
	       off_t off, struct fuse_file_info *fi,
	       enum fuse_readdir_flags flags);
int op_releasedir(const char *path, struct fuse_file_info *fi);
int op_mkdir(const char *path, mode_t mode);
int op_rmdir(const char *path);

/* file.c */
int op_open(const char *path, struct fuse_file_info *fi);
int op_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int op_read(const char *path, char *buf, size_t size, off_t off,
	    struct fuse_file_info *fi);
int op_write(const char *path, const char *buf, size_t size, off_t off,
	     struct fuse_file_info *fi);
int op_flush(const char *path, struct fuse_file_info *fi);
int op_release(const char *path, struct fuse_file_info *fi);
int op_fsync(const char *path, int datasync, struct fuse_file_info *fi);
int op_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi);
int op_truncate(const char *path, off_t size, struct fuse_file_info *fi);

/* namespace.c */
int op_unlink(const char *path);
int op_rename(const char *from, const char *to, unsigned int flags);
int op_link(const char *from, const char *to);
int op_symlink(const char *target, const char *path);
int op_mknod(const char *path, mode_t mode, dev_t dev);

/* xattr.c */
int op_getxattr(const char *path, const char *name, char *value,
		size_t size);
int op_listxattr(const char *path, char *list, size_t size);
int op_setxattr(const char *path, const char *name, const char *value,
		size_t size, int flags);
int op_removexattr(const char *path, const char *name);

#endif
