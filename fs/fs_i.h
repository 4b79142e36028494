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

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "cas.h"
#include "inotab.h"
#include "model.h"
#include "syncer.h"

struct ofile;

/* Slots of struct fs's table of rendered sizes: 2^14 (attr.c hashes to 14 bits). */
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
	int64_t prop_id;	/* NODE_*_PROP: its row now (not its number) */
	char pipeline[256];
	char stage[256];
	char exec[256];		/* from NODE_EXEC down */
	char name[256];		/* last component */
	/* artifact views */
	char art_type[128];	/* NODE_ART_NAMES: type filter, "" = all */
	char art_prefix[1024];	/* NODE_ART_NAMES: "a/b/"; HASHDIR: "ab" */
	int64_t artifact_id;	/* NODE_ART_FILE */
	int64_t other_exec_id;	/* NODE_EXEC_DIFF_FILE: OTHER */
	/*
	 * The times of execution or context @times_id, read once by a
	 * listing for all its children (dir.c); NULL otherwise.
	 */
	const struct node_times *times;
	bool times_exec;
	int64_t times_id;
};

/*
 * Resolve @path: fs_resolve_child() from the root, component by
 * component.  -ENOENT if it names nothing; -ENOTDIR if a component other
 * than the last is not a directory.  The kernel's calls name nodes by id
 * (fs_node_of_ino()); this is for callers that hold a path (the tests).
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

/* The fixed child of kind @kind (NODE_SIDE: and @side) of @parent, or NULL. */
const struct layout_child *fs_layout_child_of(enum node_kind parent,
					      enum node_kind kind, int side);

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

/* Is metrics file @name of @exec_id created and not yet written? */
bool fs_metrics_pending(struct fs *fs, int64_t exec_id, const char *name);


/* --- node ids (nodeid.c) ---------------------------------------------- */

/*
 * The inode number of node @n (st_ino).  0 only if a node with no id of
 * its own cannot be numbered (out of memory).
 */
uint64_t fs_ino(struct fs *fs, const struct node *n);

/*
 * The node id the kernel names @n by: its inode number, but for each name
 * of a hard-linked file its own.  0 as fs_ino().
 */
uint64_t fs_node_id(struct fs *fs, const struct node *n);

/*
 * The node of node id @ino, as fs_resolve() of its path would give it.
 * -ENOENT if what it named is gone; -ESTALE if no node has that number.
 */
int fs_node_of_ino(struct fs *fs, uint64_t ino, struct node *n);

/* The path of @n in the mount, into @buf of @size; 0 or -errno. */
int fs_node_path(struct fs *fs, const struct node *n, char *buf, size_t size);

/* Write a refusal to the journal and return @r (negative errno). */
int fs_refuse(int r, const char *op, const char *path, const char *why);

/*
 * fs_refuse() naming node @n, or its child @name when @name is not NULL
 * (calls that make a name: create, mkdir, link, rename's target).
 */
int fs_refuse_node(struct fs *fs, int r, const char *op,
		   const struct node *n, const char *name, const char *why);

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
	uint64_t ino;		/* node id of what was opened (for its path) */
};

/*
 * What the operation files share.  Each op_* serves the FUSE request of
 * its name; ops.c decodes the kernel's node ids into nodes (nodeid.c),
 * calls them and replies.  The file that holds each is named in the
 * comment above its group.
 */

/* The process a request comes from (set by ops.c for each request). */
struct caller {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* handle.c */
struct fs *get_fs(void);
const struct caller *fs_caller(void);
void fs_call_begin(struct fs *fs, const struct caller *c);
struct handle *handle_of(struct fuse_file_info *fi);
void handle_free(struct handle *h);
struct handle *handle_new(enum handle_kind kind, const struct node *n);
/*
 * The path the file of @h has now (for journal lines and /proc), into
 * @buf of @size; with the mountpoint in front if @mounted.  0 or -errno
 * (-ENOENT once its name is gone).
 */
int handle_path(struct fs *fs, const struct handle *h, bool mounted,
		char *buf, size_t size);
/* fs_refuse() naming the file of @h. */
int handle_refuse(struct fs *fs, const struct handle *h, int r,
		  const char *op, const char *why);
void ns_to_ts(int64_t ns, struct timespec *ts);

/* attr.c */
bool is_dir_node(const struct node *n);
int node_stat(struct fs *fs, const struct node *n, struct stat *st);
/* fstat of an open file whose name is gone (H_OFILE only, else -ENOENT) */
int handle_stat(struct fs *fs, const struct handle *h, struct stat *st);
int op_chmod(const struct node *n, mode_t mode);
int op_chown(const struct node *n, uid_t uid, gid_t gid);
/* @mtime NULL: now */
int op_utimens(const struct node *n, const struct timespec *mtime);
int op_statfs(struct statvfs *st);

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
/*
 * A directory's listing, taken when it is read from its start and served
 * from that snapshot with offsets (stable while the directory changes).
 */
struct dir_item {
	char *name;
	uint64_t node_id;	/* 0: attributes unknown */
	struct stat st;
};
struct dir_snapshot {
	struct dir_item *items;
	size_t n, cap;
	int err;	/* sticky -ENOMEM while collecting */
};
/* Take the listing of directory @n into @ds (emptied first). */
int dir_snapshot_take(struct fs *fs, const struct node *n,
		      struct dir_snapshot *ds);
void dir_snapshot_clear(struct dir_snapshot *ds);
int op_mkdir(const struct node *parent, const char *name, mode_t mode);
int op_rmdir(const struct node *parent, const char *name);

/* file.c */
int op_open(const struct node *n, struct fuse_file_info *fi);
/* Makes @name in @parent and opens it; *@ret is what was made. */
int op_create(const struct node *parent, const char *name, mode_t mode,
	      struct fuse_file_info *fi, struct node *ret);
int op_read(char *buf, size_t size, off_t off, struct fuse_file_info *fi);
int op_write(const char *buf, size_t size, off_t off,
	     struct fuse_file_info *fi);
int op_flush(struct fuse_file_info *fi);
int op_release(struct fuse_file_info *fi);
int op_fsync(void);
/* @n may be NULL when @fi is an open handle (ftruncate) */
int op_truncate(const struct node *n, off_t size, struct fuse_file_info *fi);

/* namespace.c */
int op_unlink(const struct node *parent, const char *name);
int op_rename(const struct node *parent, const char *name,
	      const struct node *newparent, const char *newname,
	      unsigned int flags);
int op_link(const struct node *src, const struct node *newparent,
	    const char *newname);
int op_symlink(const struct node *parent, const char *name);
int op_mknod(const struct node *parent, const char *name);

/* xattr.c: the length of the value or list (@size 0: only that), -errno */
int op_getxattr(const struct node *n, const char *name, char *value,
		size_t size);
int op_listxattr(const struct node *n, char *list, size_t size);
int op_setxattr(const struct node *n, const char *name, const char *value,
		size_t size, int flags);
int op_removexattr(const struct node *n, const char *name);

#endif
