/* SPDX-License-Identifier: MIT */
/*
 * The store's insides, shared by store.c (the connection, the schema, the
 * statement cache, transactions) and batch.c (batched writes and their
 * redo log).  Nothing else includes this.
 */
#ifndef CMFFS_STORE_I_H
#define CMFFS_STORE_I_H

#include <pthread.h>
#include <stdbool.h>

#include "store.h"

#define STMT_CACHE_SIZE 512	/* power of two */

struct stmt_slot {
	const char *sql;	/* key: address of a static string */
	sqlite3_stmt *stmt;
};

struct clear_stmt;
struct batch;

struct store {
	sqlite3 *db;
	pthread_mutex_t lock;	/* serializes db and cache */
	struct stmt_slot cache[STMT_CACHE_SIZE];	/* protected by lock */
	struct clear_stmt *clear;	/* store_reset(): per table */
	size_t nclear;		/* 0 until the first store_reset() */
	bool own_txn;		/* store_begin()'s transaction is open */
	struct batch *batch;	/* NULL until store_batch_enable() */
	_Atomic uint64_t changes;	/* store_version(): this connection's */
	store_commit_hook_fn commit_hook;	/* may be NULL */
	void *commit_hook_ud;
};

/*
 * Call the commit hook, if any (under the lock), and count a change for
 * store_version().
 */
void store_commit_hook(struct store *st, bool committed);

/* *@ret_err (if not NULL) = the formatted message, owned; returns 0. */
int store_set_err(char **ret_err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * schema.c: bring the open file to a usable state inside one write
 * transaction (create the whole schema if it is empty, else check it is
 * MLMD v10, add what MLMD adds on open and cmffs' tables); 0 or -errno
 * with *@ret_err.  schema_free_clear() frees store_reset()'s statements.
 */
int schema_prepare(struct store *st, const char *path, unsigned flags,
		   char **ret_err);
void schema_free_clear(struct store *st);

/* Run the cached statement @sql (no results) once; 0 or -errno. */
int step_cached(struct store *st, const char *sql);

/*
 * batch.c, for store.c, under the lock.  batch_commit_locked() commits an
 * open batch (0 if none), batch_is_open() tells whether one is open, and
 * batch_stop() commits what is open, stops the flusher thread and closes
 * the redo log (store_close()).  All are no-ops without batching.
 */
int batch_commit_locked(struct store *st);
bool batch_is_open(struct store *st);
void batch_stop(struct store *st);

#endif
