/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by model.c, model_entry.c and model_doc.c.  Functions
 * named *_locked require the store lock and, for writes, an open
 * transaction.
 */
#ifndef CMFFS_MODEL_I_H
#define CMFFS_MODEL_I_H

#include "hash.h"
#include "mlmd.h"
#include "model.h"
#include "redo.h"
#include "rows.h"
#include "store.h"

enum artifact_kind {
	ART_DATASET,
	ART_MODEL,
	ART_LABEL,
	ART_ENVIRONMENT,
	_ART_MAX,
};

/*
 * Pipelines, stages and executions found by name, so that resolving a path
 * does not query the store for every component.  Only hits are kept, and
 * removing a context or execution empties the cache (a bump of @gen), so a
 * cached id is always one the store would return.
 */
#define NAME_CACHE_SLOTS 256
#define NAME_CACHE_NAME_MAX 96	/* longer names are not cached */

struct name_cache_slot {
	uint64_t gen;		/* valid while equal to model.names_gen */
	int64_t parent_id;
	int64_t id;
	char kind;		/* 'p' pipeline, 's' stage, 'e' execution */
	char name[NAME_CACHE_NAME_MAX];
};

/* Stage of an execution (via Association) and pipeline facts. */
struct exec_ctx {
	int64_t stage_id;
	char *pipeline;		/* owned: Pipeline_Type */
	char *git_repo;		/* owned: Git_Repo, "" if none */
};

/*
 * The last execution's exec_ctx, valid while gen == model.names_gen: an
 * execution's stage, pipeline and git repository change only by removal
 * (which bumps names_gen) or an import (which bumps it too).
 */
struct ctx_cache {
	int64_t execution_id;	/* 0: empty */
	uint64_t gen;
	struct exec_ctx c;
};

/*
 * Places of executions (model_place_execution()) by id, valid while gen ==
 * model.names_gen: every call of the mount names its node by id, and the
 * files of one execution ask for the same place again and again.
 */
#define PLACE_CACHE_SLOTS 64

struct place_slot {
	uint64_t gen;
	struct model_place pl;
};

struct model {
	struct store *st;
	char *remote;			/* protected by the store lock */
	int64_t art_type[_ART_MAX];	/* cached type ids; 0 = not yet */
	int64_t art_type_seen[_ART_MAX];	/* found in the open transaction */
	uint64_t names_gen;		/* protected by the store lock */
	/*
	 * The time of the batched change being made (or replayed from its
	 * redo record), so that a replay writes the same times; 0 outside
	 * one.  Protected by the store lock.
	 */
	int64_t change_ns;
	struct ctx_cache ctx_cache;	/* protected by the store lock */
	int redo_dirfd;			/* model_redo_attach(), or -1 */
	char *redo_name;
	struct name_cache_slot names[NAME_CACHE_SLOTS];	/* likewise */
	struct place_slot places[PLACE_CACHE_SLOTS];	/* likewise */
};

/* CMF's type names and the context type names */
#define TYPE_PIPELINE "Parent_Context"
#define TYPE_STAGE "Pipeline_Stage"

/*
 * (name, id) rows for store_rows (rows.h): column 0 is the name (NULL rows
 * are skipped), column 1, if the query has one, the id.  @arg of
 * name_row_copy is NULL or a struct name_rule.  name_row_call's context is
 * a struct name_call.
 */
struct name_row {
	char *name;	/* owned */
	int64_t id;
};
struct name_rule {
	bool strip_first;		/* drop up to the first '/' ("P/S") */
	bool (*keep)(const char *name);	/* NULL keeps every row */
};
struct name_call {
	model_name_cb cb;
	void *ud;
};
#define NAME_ROWS_INIT STORE_ROWS_INIT(struct name_row, name_row_release)
int name_row_copy(void *elem, sqlite3_stmt *s, void *arg);
void name_row_release(void *elem);
int name_row_call(void *ctx, void *elem);

/* The store lock's holder's idea of now: change_ns, else the clock. */
int64_t model_clock_ns(struct model *m);
int64_t model_clock_ms(struct model *m);

/*
 * Redo records (model_redo.c): the record of creating entry @e (as read
 * back after its insert) and of logging version @md5 of entry @id, made at
 * @time_ns, into @rec (*@ret_len bytes); 0 or -errno (a name too long).
 */
int entry_record_create(const struct entry *e, int64_t time_ns,
			unsigned char rec[REDO_RECORD_MAX], size_t *ret_len);
int entry_record_log(int64_t id, uint64_t size, int64_t mtime_ns,
		     int64_t time_ns, const char *md5,
		     unsigned char rec[REDO_RECORD_MAX], size_t *ret_len);
/* Apply one redo record (a store_replay_fn). */
int entry_replay_locked(void *ud, const void *rec, size_t len);
/* The object a redo record names, into @md5: 1, or 0 if it names none. */
int entry_record_object(const void *rec, size_t len,
			char md5[MD5_HEX_LEN + 1]);

int exec_ctx_load_locked(struct model *m, int64_t execution_id,
			 struct exec_ctx *ret);
void exec_ctx_release(struct exec_ctx *c);

/*
 * Object @oid reached the remote: each artifact with those bytes gets
 * "<pipeline>:<object url>" in its url if it lacks it (artifacts logged
 * before a remote was configured), and then it and the executions with
 * events on it count as updated, so that a CMF server learns the url.
 * Caller holds the store lock, in a write transaction.  0 or -errno.
 */
int entry_object_pushed_locked(struct model *m, const char *oid);

/* Entry rows (model_entry.c). */
int entry_get_locked(struct model *m, int64_t id, struct entry *ret);
/* The path of entry @id below its side ("a/b.csv"); owned. */
int entry_path_locked(struct model *m, int64_t id, char **ret_path);
/* Logging (model_log.c): version @md5 of file @e; see model_entry_log(). */
int entry_log_locked(struct model *m, const struct entry *e,
		     const char *md5, uint64_t size, int64_t mtime_ns,
		     bool *ret_logged);
/*
 * Add "<pipeline>:<object url>" to artifact @artifact_id's url unless
 * present: 0, 1 when it changed, or -errno.
 */
int url_append_locked(struct model *m, int64_t artifact_id,
		      const char *pipeline, const char *md5);
int entry_lookup_locked(struct model *m, int64_t execution_id, int side,
			int64_t parent_id, const char *name, struct entry *ret);
/* @want_id: the new row's id (a replayed redo record), or 0: the next. */
int entry_insert_locked(struct model *m, int64_t execution_id, int side,
			int64_t parent_id, const char *name, bool is_dir,
			int64_t artifact_id, const char *md5, uint64_t size,
			mode_t mode, uid_t uid, gid_t gid, int64_t want_id,
			int64_t *ret_id);

#endif
