/* SPDX-License-Identifier: MIT */
/*
 * The metadata store: one SQLite connection to WS/mlmd, an ML Metadata
 * (MLMD) schema-10 database that ml_metadata 1.15 (cmflib's pin) opens as its
 * own, plus cmffs' own tables (prefixed cmffs_, which MLMD ignores).
 *
 * Threading: a struct store is one connection.  Every use of it, including
 * statements obtained from store_stmt(), happens between store_lock() and
 * store_unlock(); model.h functions take the lock themselves.  Threads that
 * need parallelism (the sync thread) open their own store.  The file is in
 * WAL mode so that readers on other connections never block the writer.
 *
 * Only core/ modules include this header: fs/ and sync/ go through model.h.
 */
#ifndef CMFFS_STORE_H
#define CMFFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define MLMD_SCHEMA_VERSION 10

struct store;

enum store_flags {
	STORE_CREATE = 1 << 0,	/* create the file and the schema if absent */
	STORE_READONLY = 1 << 1,
};

/*
 * Open the store at @path.  A new or empty file gets the full MLMD schema
 * (15 tables, 24 indexes, MLMDEnv = 10, the 9 simple types) and cmffs'
 * tables in one transaction.  An existing file must be an MLMD schema-10
 * store; anything else is refused (-EPROTO), never rewritten.  The file
 * and its -wal and -shm must be regular files or absent, never links
 * (-ELOOP) or FIFOs (safefs.h); the file is opened SQLITE_OPEN_NOFOLLOW.
 *
 * On failure *ret_err, if @ret_err is not NULL, receives an owned one-line
 * explanation (or NULL on ENOMEM).  Returns 0 or -errno.
 */
int store_open(const char *path, unsigned flags, struct store **ret_store,
	       char **ret_err);

/*
 * For tests and fuzzers: empty the store to what a new file gets from
 * store_open(STORE_CREATE): every row of every table deleted (the
 * AUTOINCREMENT counters of sqlite_sequence included, so ids count from 1
 * again), then MLMDEnv and the simple types seeded, in one transaction.
 * The schema and the cached statements stay (the tables are those the
 * first reset found).  Caller holds the lock and has no transaction open:
 * otherwise -EIO, as a BEGIN inside a transaction.  0 or -errno (then
 * nothing changed).
 */
int store_reset(struct store *st);

/* Finalize cached statements and close.  NULL-safe. */
void store_close(struct store *st);

void store_lock(struct store *st);
void store_unlock(struct store *st);

/*
 * Every SQL statement of core/store/ is defined at file scope with one of
 * these, which also registers it in the linker section cmffs_store_sql, so
 * that one unit test (tests/unit/test_sql.c) prepares them all against a
 * fresh store:
 *
 *	STORE_SQL(sql_find, "SELECT ... WHERE `id` = ?1");
 *
 *	static const char *const sql_touch[N] = { "UPDATE ...", ... };
 *	STORE_SQL_TABLE(sql_touch);
 *
 * The name is what store_stmt() is given (its address is the cache key).
 */
struct store_sql_entry {
	const char *file;		/* __FILE__ of the definition */
	const char *name;
	const char *const *sql;		/* @n statements */
	size_t n;
};

#define STORE_SQL_SECTION_ \
	__attribute__((used, section("cmffs_store_sql"), \
		       aligned(sizeof(void *))))
#define STORE_SQL(name, text) \
	static const char name[] = text; \
	static const char *const name##_one_ = name; \
	static const struct store_sql_entry name##_entry_ STORE_SQL_SECTION_ = \
		{ __FILE__, #name, &name##_one_, 1 }
#define STORE_SQL_TABLE(name) \
	static const struct store_sql_entry name##_entry_ STORE_SQL_SECTION_ = \
		{ __FILE__, #name, name, sizeof(name) / sizeof(name[0]) }

/*
 * Cached prepared statement for @sql.  @sql must be a string with static
 * storage (its address is the cache key): keep each module's SQL in one
 * static table.  The statement is returned reset with no bindings.
 * Caller holds the lock.  Returns 0 or -errno.
 */
int store_stmt(struct store *st, const char *sql, sqlite3_stmt **ret_stmt);

/*
 * Bind the variadic arguments to parameters 1, 2, ... of @s as @types says,
 * one letter each: 'i' an int64_t (pass int64_t: cast narrower types),
 * 't' a const char * (NULL binds NULL; the text must outlive the step),
 * 'd' a double.
 */
void store_bind(sqlite3_stmt *s, const char *types, ...);
/*
 * Run the statement @sql (no result rows) once with arguments bound as in
 * store_bind(): store_run() takes the lock (the caller does not hold it),
 * store_run_locked() is for a caller that holds it (inside a transaction).
 * 0 or -errno.
 */
int store_run(struct store *st, const char *sql, const char *types, ...);
int store_run_locked(struct store *st, const char *sql, const char *types,
		     ...);

/* Reset and clear a statement from store_stmt(); NULL-safe. */
void store_stmt_done(sqlite3_stmt *stmt);

/*
 * Write transactions (BEGIN IMMEDIATE, so that SQLITE_BUSY appears at the
 * start, not halfway).  Caller holds the lock.  0 or -errno.
 */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/*
 * End the transaction a change began with store_begin(): COMMIT when @r
 * is 0, else ROLLBACK.  Returns @r, or the commit's error (the change is
 * then rolled back).  The store lock stays held.
 */
int store_end(struct store *st, int r);

/*
 * The write-transaction pair, for a change made under the lock in one
 * transaction: store_write_begin() takes the lock and begins; if the
 * BEGIN fails the lock is released again and -errno returned.
 * store_write_end() ends the transaction as store_end() does and releases
 * the lock; it returns @r or the commit's error.
 */
int store_write_begin(struct store *st);
int store_write_end(struct store *st, int r);

/*
 * Batched writes: group commit for changes that must be cheap (logging a
 * file).  Such a change runs between store_batch_begin() and
 * store_batch_end() inside one write transaction shared with the changes
 * before it, under a savepoint of its own, and its redo record is
 * appended to a redo log (redo.h) before store_batch_end() returns: from
 * then on a crash of the process cannot lose it.  Readers on this
 * connection (every model.h call of the process that made the change) see
 * it at once; other connections see it once the batch is committed:
 *  - when it holds STORE_BATCH_MAX changes;
 *  - STORE_BATCH_AGE_MS after it began (a flusher thread);
 *  - before any other write transaction of this connection (store_begin());
 *  - by store_flush(), and by store_close().
 * A commit also records the last redo sequence number in the store and
 * empties the log.  A commit that fails (a full disk) is rolled back (the
 * commit hook is told), and the log's records are applied again in a new
 * transaction; if that fails too they stay in the log, and the next
 * store_batch_begin() tries again first (and refuses the change if it
 * cannot).
 */
#define STORE_BATCH_MAX 1024
#define STORE_BATCH_AGE_MS 50

/*
 * Apply one redo record again, under the lock, in an open transaction
 * (under a savepoint: a negative return undoes the record's partial work,
 * the record is then skipped with a line in the log).
 */
typedef int (*store_replay_fn)(void *ud, const void *rec, size_t len);

/*
 * Told, under the lock, each time a write transaction (a batch, or a
 * transaction of its own) was committed (true) or rolled back (false):
 * what the store's user cached from it becomes safe to keep, or must be
 * forgotten.  NULL clears it.
 */
typedef void (*store_commit_hook_fn)(void *ud, bool committed);
void store_set_commit_hook(struct store *st, store_commit_hook_fn fn,
			   void *ud);

/*
 * Turn batched writes on, with the redo log @name below directory @dirfd
 * (opened without following links).  Records a crash left in the log,
 * those with a sequence number above the one the store last committed,
 * are first given to @replay in order and committed; then the flusher
 * thread starts.  Caller does not hold the lock.  0 or -errno (*@ret_err,
 * if not NULL, gets an owned explanation).
 */
int store_batch_enable(struct store *st, int dirfd, const char *name,
		       store_replay_fn replay, void *ud, char **ret_err);

/*
 * Without batching: apply the records of redo log @name the store lacks
 * (a mount died) in one transaction, then empty the log.  The caller must
 * own the log: no process may have it open for batching (the workspace
 * lock says so).  No log: 0.  Caller does not hold the lock.  0 or -errno
 * (*@ret_err as above).
 */
int store_redo_apply(struct store *st, int dirfd, const char *name,
		     store_replay_fn replay, void *ud, char **ret_err);

/*
 * Begin a batched change: take the lock and open a savepoint in the batch
 * (beginning the batch if none is open).  Without batching enabled it is
 * store_write_begin().  0, or -errno with the lock released.
 */
int store_batch_begin(struct store *st);
/*
 * End it: if @r is 0, append @rec (@len bytes, at most REDO_RECORD_MAX)
 * to the redo log and keep the change, else (or if the append fails) undo
 * it; commit if the batch is full.  The lock stays held: the caller
 * releases it (store_unlock()) after what it does with the result.
 * Returns @r or the append's error.  Without batching: store_end() and
 * the commit hook (@rec unused).
 */
int store_batch_end(struct store *st, int r, const void *rec, size_t len);

/* Commit the open batch now (nothing if none).  Takes the lock.  0/-errno. */
int store_flush(struct store *st);

/*
 * A number that changes whenever what this connection reads may have
 * changed: its own changes (each transaction committed or rolled back,
 * each batched change) and other connections' commits (SQLite's
 * data_version).  For caches of what is rendered from the store.  Takes
 * the lock.
 */
uint64_t store_version(struct store *st);

/* Run SQL without results (DDL, pragmas).  Caller holds the lock. */
int store_exec(struct store *st, const char *sql);

sqlite3 *store_db(struct store *st);

/* Map an SQLite result code to a negative errno (see the table in store.c). */
int store_errno(int rc);

/* Milliseconds since the epoch, as MLMD stores times. */
int64_t store_now_ms(void);

#endif
