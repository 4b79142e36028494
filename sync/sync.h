/* SPDX-License-Identifier: MIT */
/*
 * Sync: reconcile the workspace with its storage remote and its CMF server.
 *
 * A pass pushes every object whose bytes are not confirmed at the remote,
 * then every execution whose current version the server has not
 * acknowledged, in documents of bounded size, objects always before the
 * metadata that names them.  What is pending is derived from the store
 * (syncstate.h), so a crash, a kill or an outage loses nothing: the next
 * pass finds what is left.  `cmffs push` runs one pass; the mount runs
 * passes on a background thread (struct syncer) after changes, every
 * sync interval, and with exponential backoff after failures.
 */
#ifndef CMFFS_SYNC_H
#define CMFFS_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "fetch.h"

struct sync_env;

/* Once per process, before any thread starts (libcurl's global state). */
int sync_global_init(void);
void sync_global_cleanup(void);

/*
 * Open the workspace @ws for syncing with its own store connection.
 * @cfg is copied by reference: it must outlive the env.
 */
int sync_env_open(const char *ws, const struct config *cfg,
		  struct sync_env **ret, char **ret_err);
void sync_env_close(struct sync_env *env);	/* NULL-safe */

struct sync_report {
	unsigned objects;	/* uploaded or confirmed present */
	uint64_t bytes;		/* uploaded */
	unsigned executions;	/* acknowledged by the server */
	unsigned objects_left;
	unsigned executions_left;
	unsigned objects_total;	/* pending when the object pass began */
	uint64_t bytes_total;	/* their sizes, where known */
	char message[512];	/* the failure, or "" */
};

/*
 * Called as a pass goes, one call at a time, with a line saying what
 * happens; the pass's struct sync_report is up to date and may be read
 * during the call (a progress meter: objects + objects_left of
 * objects_total done).
 */
typedef void (*sync_progress_fn)(void *ud, const char *line);

/*
 * One pass, restricted to @pipeline when not NULL.  Returns 0 when
 * everything pending was pushed, else the first error (-errno) with
 * rep->message; the state of what succeeded is recorded either way.
 */
int sync_pass(struct sync_env *env, const char *pipeline,
	      sync_progress_fn progress, void *ud, struct sync_report *rep);

/*
 * Fetch object @md5 into the local content store, verifying its hash
 * (fetcher_get() of fetch.h, with this env's fetcher).  -EIO on a
 * mismatch (nothing is stored), -ENOENT if no source has it; *ret_err
 * (owned) explains.
 */
int sync_fetch(struct sync_env *env, const char *md5, char **ret_err);

/* fetcher_learn_sizes() and fetcher_get_scope() with this env's fetcher. */
int sync_learn_sizes(struct sync_env *env, fetch_progress_fn progress,
		     void *ud, char **ret_err);
int sync_fetch_scope(struct sync_env *env, const char *pipeline,
		     const char *stage, const char *execution,
		     fetch_progress_fn progress, void *ud,
		     struct fetch_progress *ret, char **ret_err);

/*
 * Pull @pipeline from the server and merge it, then learn the size of
 * every file it brought (sync_learn_sizes(), reported to @progress, which
 * may be NULL).  The bytes themselves come on first read.
 */
int sync_pull(struct sync_env *env, const char *pipeline,
	      fetch_progress_fn progress, void *ud, char **ret_err,
	      unsigned *ret_executions, unsigned *ret_artifacts);

/* The sync part of a status report (owned text). */
int sync_status_text(struct sync_env *env, char **ret_text);

#endif
