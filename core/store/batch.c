/* SPDX-License-Identifier: MIT */
/*
 * Batched writes: group commit with a redo log (store.h, redo.h).
 *
 * A batch is one write transaction (BEGIN IMMEDIATE) holding many changes,
 * each under a savepoint of its own so that a change that fails undoes only
 * itself.  A change is acknowledged once its redo record is in the log; the
 * commit, later, writes the last sequence number to cmffs_redo in the same
 * transaction and then empties the log.  After a crash, the records above
 * that number are applied again, each exactly once.  doc/design.md §6
 * says why (and what it costs).
 *
 * Everything here runs under the store lock; the flusher thread waits on
 * @cond with that lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "redo.h"
#include "store_i.h"
#include "threads.h"

struct batch {
	struct redo *log;
	store_replay_fn replay;
	void *ud;
	bool open;		/* the batch transaction is open */
	unsigned changes;	/* in it */
	int64_t opened_ms;	/* CLOCK_MONOTONIC */
	uint64_t seq;		/* the last sequence number given */
	bool replay_due;	/* a commit failed: the log holds its records */
	pthread_cond_t cond;	/* wakes the flusher (with the store lock) */
	pthread_t flusher;
	bool flusher_started;	/* at the first batch: after a daemon forks */
	bool flusher_failed;	/* no thread: every change commits at once */
	bool stop;
};

STORE_SQL(sql_batch_begin, "BEGIN IMMEDIATE");
STORE_SQL(sql_batch_commit, "COMMIT");
STORE_SQL(sql_batch_rollback, "ROLLBACK");
STORE_SQL(sql_change_begin, "SAVEPOINT change");
STORE_SQL(sql_change_keep, "RELEASE change");
STORE_SQL(sql_change_undo, "ROLLBACK TO change");
STORE_SQL(sql_applied_get, "SELECT applied FROM cmffs_redo WHERE id = 1");
STORE_SQL(sql_applied_set,
	"INSERT INTO cmffs_redo(id, applied) VALUES (1, ?1)"
	" ON CONFLICT(id) DO UPDATE SET applied = excluded.applied");

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Undo the current change's savepoint (its work), keeping the batch. */
static void undo_change(struct store *st)
{
	(void)step_cached(st, sql_change_undo);
	(void)step_cached(st, sql_change_keep);
}

static int applied_get(struct store *st, uint64_t *ret)
{
	sqlite3_stmt *s;
	int rc, r = store_stmt(st, sql_applied_get, &s);

	if (r < 0)
		return r;
	rc = sqlite3_step(s);
	*ret = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	store_stmt_done(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_errno(rc);
}

static int applied_set(struct store *st, uint64_t seq)
{
	sqlite3_stmt *s;
	int rc, r = store_stmt(st, sql_applied_set, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, (int64_t)seq);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

struct reapply {
	struct store *st;
	store_replay_fn replay;
	void *ud;
	uint64_t applied;	/* records up to this one are in the store */
	uint64_t last;
	unsigned applied_now, skipped;
};

/* redo_each() callback: apply one record not yet in the store. */
static int reapply_one(void *ud, uint64_t seq, const void *rec, size_t len)
{
	struct reapply *ra = ud;
	struct store *st = ra->st;
	int r;

	if (seq <= ra->applied)
		return 0;
	ra->last = seq;
	r = step_cached(st, sql_change_begin);
	if (r < 0)
		return r;
	r = ra->replay(ra->ud, rec, len);
	if (r < 0) {
		undo_change(st);
		log_errno(LOG_ERR, r, "redo record %llu cannot be applied; skipped",
			  (unsigned long long)seq);
		ra->skipped++;
		return 0;
	}
	ra->applied_now++;
	return step_cached(st, sql_change_keep);
}

/*
 * Apply the records of @log the store lacks (above cmffs_redo.applied, read
 * inside the write transaction: a live owner commits its batch before
 * anyone else can begin) in one transaction, and commit.  No batch is
 * open.  *@ret_last gets the highest sequence number applied or seen
 * applied.  0 or -errno (everything rolled back).
 */
static int apply_log_locked(struct store *st, struct redo *log,
			    store_replay_fn replay, void *ud,
			    uint64_t *ret_last)
{
	struct reapply ra = { .st = st, .replay = replay, .ud = ud };
	int r;

	r = step_cached(st, sql_batch_begin);
	if (r < 0)
		return r;
	r = applied_get(st, &ra.applied);
	if (r == 0)
		r = redo_each(log, reapply_one, &ra, NULL);
	if (r == 0 && ra.last > ra.applied)
		r = applied_set(st, ra.last);
	if (r == 0)
		r = step_cached(st, sql_batch_commit);
	if (r < 0) {
		(void)step_cached(st, sql_batch_rollback);
		return r;
	}
	if (ra.applied_now)
		log_msg(LOG_NOTICE, "applied %u logged changes from the redo log%s",
			ra.applied_now, ra.skipped ? " (some skipped)" : "");
	*ret_last = ra.last > ra.applied ? ra.last : ra.applied;
	return 0;
}

/*
 * The batch's own log, again (after a failed commit, or at enable): apply
 * what the store lacks, then empty the log.  0 or -errno (the records then
 * stay in the log and replay_due is set).
 */
static int reapply_locked(struct store *st)
{
	struct batch *b = st->batch;
	uint64_t last = 0;
	int r;

	r = apply_log_locked(st, b->log, b->replay, b->ud, &last);
	b->replay_due = r < 0;
	store_commit_hook(st, r == 0);
	if (r < 0)
		return r;
	if (last > b->seq)
		b->seq = last;
	r = redo_reset(b->log);
	if (r < 0)	/* harmless: cmffs_redo says they are applied */
		log_errno(LOG_WARNING, r, "cannot empty the redo log");
	return 0;
}

int batch_commit_locked(struct store *st)
{
	struct batch *b = st->batch;
	int r;

	if (!b)
		return 0;
	if (!b->open)	/* a commit failed before: its records wait in the log */
		return b->replay_due ? reapply_locked(st) : 0;
	r = applied_set(st, b->seq);
	if (r == 0)
		r = step_cached(st, sql_batch_commit);
	b->open = false;
	b->changes = 0;
	if (r == 0) {
		store_commit_hook(st, true);
		r = redo_reset(b->log);
		if (r < 0)	/* harmless: cmffs_redo says they are applied */
			log_errno(LOG_WARNING, r, "cannot empty the redo log");
		return 0;
	}
	/* the changes are in the log: roll back and apply them again */
	log_errno(LOG_ERR, r, "cannot commit a batch of logged changes; applying them again from the redo log");
	(void)step_cached(st, sql_batch_rollback);
	store_commit_hook(st, false);
	return reapply_locked(st);
}

bool batch_is_open(struct store *st)
{
	return st->batch && st->batch->open;
}

/* The flusher: commit a batch STORE_BATCH_AGE_MS after it began. */
static void *flusher_main(void *arg)
{
	struct store *st = arg;
	struct batch *b = st->batch;

	store_lock(st);
	while (!b->stop) {
		int64_t due = b->opened_ms + STORE_BATCH_AGE_MS;
		struct timespec ts;

		if (!b->open) {
			pthread_cond_wait(&b->cond, &st->lock);
			continue;
		}
		if (monotonic_ms() >= due) {
			(void)batch_commit_locked(st);
			continue;
		}
		ts.tv_sec = due / 1000;
		ts.tv_nsec = (long)(due % 1000) * 1000000;
		pthread_cond_timedwait(&b->cond, &st->lock, &ts);
	}
	store_unlock(st);
	return NULL;
}

int store_batch_enable(struct store *st, int dirfd, const char *name,
		       store_replay_fn replay, void *ud, char **ret_err)
{
	pthread_condattr_t ca;
	struct batch *b;
	int r;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->replay = replay;
	b->ud = ud;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	r = -pthread_cond_init(&b->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (r < 0) {
		free(b);
		return r;
	}
	r = redo_open(dirfd, name, true, &b->log);
	if (r < 0) {
		if (ret_err && asprintf(ret_err, "cannot open the redo log '%s': %s",
					name, strerrordesc_np(-r)) < 0)
			*ret_err = NULL;
		pthread_cond_destroy(&b->cond);
		free(b);
		return r;
	}
	store_lock(st);
	st->batch = b;
	r = applied_get(st, &b->seq);
	if (r == 0)
		r = reapply_locked(st);
	store_unlock(st);
	if (r < 0) {
		if (ret_err && asprintf(ret_err, "cannot apply the redo log '%s': %s",
					name, strerrordesc_np(-r)) < 0)
			*ret_err = NULL;
		batch_stop(st);
	}
	return r;
}

int store_redo_apply(struct store *st, int dirfd, const char *name,
		     store_replay_fn replay, void *ud, char **ret_err)
{
	struct redo *log = NULL;
	uint64_t last;
	int r;

	r = redo_open(dirfd, name, false, &log);
	if (r == -ENOENT)
		return 0;
	if (r == 0 && redo_size(log) > 0) {
		store_lock(st);
		r = apply_log_locked(st, log, replay, ud, &last);
		store_commit_hook(st, r == 0);
		store_unlock(st);
		if (r == 0)
			r = redo_reset(log);
	}
	redo_close(log);
	if (r < 0 && ret_err &&
	    asprintf(ret_err, "cannot apply the redo log '%s': %s", name,
		     strerrordesc_np(-r)) < 0)
		*ret_err = NULL;
	return r;
}

int store_batch_begin(struct store *st)
{
	struct batch *b = st->batch;
	int r;

	if (!b)
		return store_write_begin(st);
	store_lock(st);
	r = b->replay_due ? reapply_locked(st) : 0;
	if (r == 0 && !b->open) {
		r = step_cached(st, sql_batch_begin);
		if (r == 0) {
			b->open = true;
			b->opened_ms = monotonic_ms();
			pthread_cond_signal(&b->cond);
		}
	}
	/*
	 * The flusher starts with the first batch, not at enable: a daemon
	 * forks (libfuse daemonizes) after opening its store, and a thread
	 * does not survive a fork.
	 */
	if (r == 0 && !b->flusher_started && !b->flusher_failed) {
		if (thread_start(&b->flusher, 0, flusher_main, st) == 0) {
			b->flusher_started = true;
		} else {
			b->flusher_failed = true;
			log_msg(LOG_WARNING, "no thread to commit batches: each logged change commits on its own");
		}
	}
	if (r == 0)
		r = step_cached(st, sql_change_begin);
	if (r < 0)
		store_unlock(st);
	return r;
}

int store_batch_end(struct store *st, int r, const void *rec, size_t len)
{
	struct batch *b = st->batch;

	if (!b)
		return store_end(st, r);
	if (r == 0) {
		r = redo_append(b->log, b->seq + 1, rec, len);
		if (r == 0)
			b->seq++;
	}
	if (r == 0) {
		r = step_cached(st, sql_change_keep);
		if (r < 0)	/* not kept: the record must not be applied */
			(void)redo_drop_last(b->log);
	}
	if (r < 0)
		undo_change(st);
	else
		st->changes++;	/* store_version(): seen by this connection */
	if (r == 0 && (++b->changes >= STORE_BATCH_MAX || b->flusher_failed))
		(void)batch_commit_locked(st);	/* the log keeps them anyway */
	return r;
}

int store_flush(struct store *st)
{
	int r;

	store_lock(st);
	r = batch_commit_locked(st);
	store_unlock(st);
	return r;
}

void batch_stop(struct store *st)
{
	struct batch *b = st->batch;

	if (!b)
		return;
	store_lock(st);
	(void)batch_commit_locked(st);
	b->stop = true;
	pthread_cond_signal(&b->cond);
	store_unlock(st);
	if (b->flusher_started)
		pthread_join(b->flusher, NULL);
	st->batch = NULL;
	redo_close(b->log);
	pthread_cond_destroy(&b->cond);
	free(b);
}
