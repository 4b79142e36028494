/* SPDX-License-Identifier: MIT */
/*
 * The SQLite connection, its statement cache and its transactions; see
 * store.h.  The schema (MLMD's and cmffs' own) is schema.c's, batched
 * writes batch.c's.
 */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "safefs.h"
#include "store_i.h"



int store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_TOOBIG:
		return -EFBIG;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EPROTO;
	default:
		return -EIO;
	}
}

int64_t store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_lock(struct store *st)
{
	pthread_mutex_lock(&st->lock);
}

void store_unlock(struct store *st)
{
	pthread_mutex_unlock(&st->lock);
}

sqlite3 *store_db(struct store *st)
{
	return st->db;
}

int store_exec(struct store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		log_msg(LOG_DEBUG, "sql failed: %s", sqlite3_errmsg(st->db));
	return store_errno(rc);
}

STORE_SQL(sql_begin, "BEGIN IMMEDIATE");
STORE_SQL(sql_commit, "COMMIT");
STORE_SQL(sql_rollback, "ROLLBACK");

int step_cached(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int rc, r = store_stmt(st, sql, &s);

	if (r < 0)
		return r;
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		log_msg(LOG_DEBUG, "sql failed: %s", sqlite3_errmsg(st->db));
	store_stmt_done(s);
	return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

static void bind_va(sqlite3_stmt *s, const char *types, va_list ap)
{
	int i;

	for (i = 0; types[i]; i++) {
		switch (types[i]) {
		case 'i':
			sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
			break;
		case 't':
			sqlite3_bind_text(s, i + 1, va_arg(ap, const char *), -1,
					  SQLITE_STATIC);
			break;
		case 'd':
			sqlite3_bind_double(s, i + 1, va_arg(ap, double));
			break;
		}
	}
}

void store_bind(sqlite3_stmt *s, const char *types, ...)
{
	va_list ap;

	va_start(ap, types);
	bind_va(s, types, ap);
	va_end(ap);
}

/* store_run_locked() with a va_list. */
static int run_va(struct store *st, const char *sql, const char *types,
		  va_list ap)
{
	sqlite3_stmt *s;
	int rc, r;

	r = store_stmt(st, sql, &s);
	if (r < 0)
		return r;
	bind_va(s, types, ap);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

int store_run_locked(struct store *st, const char *sql, const char *types,
		     ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = run_va(st, sql, types, ap);
	va_end(ap);
	return r;
}

int store_run(struct store *st, const char *sql, const char *types, ...)
{
	va_list ap;
	int r;

	store_lock(st);
	va_start(ap, types);
	r = run_va(st, sql, types, ap);
	va_end(ap);
	store_unlock(st);
	return r;
}

int store_begin(struct store *st)
{
	int r;

	/* a write of its own comes after the batched ones (batch.c) */
	r = batch_commit_locked(st);
	if (r == 0)
		r = step_cached(st, sql_begin);
	st->own_txn = r == 0;
	return r;
}

int store_commit(struct store *st)
{
	int r = step_cached(st, sql_commit);

	if (r < 0)
		store_rollback(st);
	else
		store_commit_hook(st, true);
	st->own_txn = false;
	return r;
}

int store_end(struct store *st, int r)
{
	if (r == 0)
		return store_commit(st);
	store_rollback(st);
	return r;
}

void store_set_commit_hook(struct store *st, store_commit_hook_fn fn,
			   void *ud)
{
	st->commit_hook = fn;
	st->commit_hook_ud = ud;
}

void store_commit_hook(struct store *st, bool committed)
{
	st->changes++;
	if (st->commit_hook)
		st->commit_hook(st->commit_hook_ud, committed);
}

STORE_SQL(sql_data_version, "PRAGMA data_version");

uint64_t store_version(struct store *st)
{
	sqlite3_stmt *s;
	uint64_t dv = 0;

	store_lock(st);
	if (store_stmt(st, sql_data_version, &s) == 0) {
		if (sqlite3_step(s) == SQLITE_ROW)
			dv = (uint64_t)sqlite3_column_int64(s, 0);
		store_stmt_done(s);
	}
	/* every row changed here, in a transaction or not */
	dv = dv << 40 ^ (uint64_t)sqlite3_total_changes64(st->db) << 8;
	store_unlock(st);
	return dv ^ st->changes;
}

int store_write_begin(struct store *st)
{
	int r;

	store_lock(st);
	r = store_begin(st);
	if (r < 0)
		store_unlock(st);
	return r;
}

int store_write_end(struct store *st, int r)
{
	r = store_end(st, r);
	store_unlock(st);
	return r;
}

void store_rollback(struct store *st)
{
	/* an open batch is batch.c's to end, never a stray rollback's */
	if (batch_is_open(st) && !st->own_txn)
		return;
	st->own_txn = false;
	if (!sqlite3_get_autocommit(st->db)) {
		(void)step_cached(st, sql_rollback);
		store_commit_hook(st, false);
	}
}

static size_t slot_of(const char *sql)
{
	uintptr_t p = (uintptr_t)sql;

	p ^= p >> 17;
	p *= 0x9e3779b97f4a7c15ull;
	return (size_t)(p >> 40) & (STMT_CACHE_SIZE - 1);
}

int store_stmt(struct store *st, const char *sql, sqlite3_stmt **ret_stmt)
{
	size_t i = slot_of(sql), n;
	int rc;

	for (n = 0; n < STMT_CACHE_SIZE; n++, i = (i + 1) & (STMT_CACHE_SIZE - 1)) {
		if (st->cache[i].sql == sql) {
			*ret_stmt = st->cache[i].stmt;
			return 0;
		}
		if (!st->cache[i].sql)
			break;
	}
	if (n == STMT_CACHE_SIZE)
		return -ENOSPC;
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				&st->cache[i].stmt, NULL);
	if (rc != SQLITE_OK) {
		log_msg(LOG_ERR, "cannot prepare '%s': %s", sql,
			sqlite3_errmsg(st->db));
		return store_errno(rc);
	}
	st->cache[i].sql = sql;
	*ret_stmt = st->cache[i].stmt;
	return 0;
}

void store_stmt_done(sqlite3_stmt *stmt)
{
	if (!stmt)
		return;
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

int store_set_err(char **ret_err, const char *fmt, ...)
{
	va_list ap;

	if (!ret_err)
		return 0;
	va_start(ap, fmt);
	if (vasprintf(ret_err, fmt, ap) < 0)
		*ret_err = NULL;
	va_end(ap);
	return 0;
}

/*
 * SQLite opens @path, @path-wal and @path-shm by name, following links:
 * each must be a regular file or absent.  A plain path only (not
 * ":memory:" or a "file:" URI).  0, or -errno with a message.
 */
static int check_db_files(const char *path, char **ret_err)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char name[PATH_MAX];
	const char *base;
	size_t i;
	int dfd, r = 0;

	if (!strcmp(path, ":memory:") || !strncmp(path, "file:", 5))
		return 0;
	dfd = safefs_open_parent(path, &base);
	if (dfd < 0)
		return 0;	/* sqlite3_open_v2() says what is wrong */
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]) && !r; i++) {
		snprintf(name, sizeof(name), "%s%s", base, suffix[i]);
		r = safefs_check_file(dfd, name);
		if (r == -ENOENT)
			r = 0;
		else if (r < 0)
			store_set_err(ret_err, "cannot open '%s%s': %s", path,
				suffix[i], safefs_strerror(r));
	}
	close(dfd);
	return r;
}

/* store_reset()'s statements for one table */
/* How long a connection waits for another's write lock (milliseconds). */
#define STORE_BUSY_MS 10000

/*
 * SQLite's own busy timeout sleeps longer and longer between tries (up to
 * 100 ms), but a mount logging continuously holds the write lock for its
 * batches and releases it for microseconds between them (batch.c): a
 * command beside it would seldom try in such a gap.  So poll every
 * millisecond, STORE_BUSY_MS times at most.
 */
static int busy_poll(void *ud, int count)
{
	(void)ud;
	if (count >= STORE_BUSY_MS)
		return 0;
	usleep(1000);
	return 1;
}

int store_open(const char *path, unsigned flags, struct store **ret_store,
	       char **ret_err)
{
	struct store *st = NULL;
	int oflags, rc, r;

	if (ret_err)
		*ret_err = NULL;
	r = check_db_files(path, ret_err);
	if (r < 0)
		return r;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	pthread_mutex_init(&st->lock, NULL);
	oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI | SQLITE_OPEN_NOFOLLOW;
	if (flags & STORE_READONLY)
		oflags |= SQLITE_OPEN_READONLY;
	else
		oflags |= SQLITE_OPEN_READWRITE;
	if (flags & STORE_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		r = store_errno(rc);
		store_set_err(ret_err, "cannot open '%s': %s", path,
			st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_handler(st->db, busy_poll, NULL);
	if (!(flags & STORE_READONLY)) {
		r = store_exec(st, "PRAGMA journal_mode=WAL");
		if (r == 0)
			r = store_exec(st, "PRAGMA synchronous=NORMAL");
		/*
		 * Logging a file dirties ~20 pages (MLMD's rows and their
		 * indexes).  Checkpoint every 8,192 pages (32 MiB of WAL)
		 * rather than every 1,000, so that a hot page is written back
		 * once per many files, with one fsync; and keep 8 MiB of pages
		 * cached rather than 2.
		 */
		if (r == 0)
			r = store_exec(st, "PRAGMA wal_autocheckpoint=8192");
		if (r == 0)
			r = store_exec(st, "PRAGMA cache_size=-8192");
		/*
		 * Each batched change has a savepoint (batch.c): keep its
		 * statement journal in memory rather than in a temporary
		 * file written page by page.
		 */
		if (r == 0)
			r = store_exec(st, "PRAGMA temp_store=MEMORY");
		if (r < 0) {
			store_set_err(ret_err, "cannot set WAL mode on '%s': %s",
				path, sqlite3_errmsg(st->db));
			goto out;
		}
	}
	r = schema_prepare(st, path, flags, ret_err);
	if (r < 0)
		goto out;
	*ret_store = st;
	st = NULL;
out:
	store_close(st);
	return r;
}

void store_close(struct store *st)
{
	size_t i;

	if (!st)
		return;
	batch_stop(st);
	for (i = 0; i < STMT_CACHE_SIZE; i++)
		sqlite3_finalize(st->cache[i].stmt);
	schema_free_clear(st);
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->lock);
	free(st);
}
