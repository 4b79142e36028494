/* SPDX-License-Identifier: MIT */
/*
 * Where bytes enter the machine: fetching the objects of artifacts that are
 * not in the local content store (pulled or imported, never read here), and
 * learning their sizes before anyone reads them.
 *
 * An object's bytes are looked for, in this order:
 *  1. the workspace's DVC cache, WS/.dvc/cache/files/md5/ab/cdef... (where
 *     `dvc add`, run by upstream cmflib, keeps the bytes it logged);
 *  2. the working-tree file an artifact with that hash is named after,
 *     WS/PATH for the name "PATH:HASH..." (upstream's working tree);
 *  3. the storage remote of .cmfconfig.
 * The first two are looked at only in a workspace that upstream made (it
 * has a .dvc directory), and like every workspace path they are opened
 * without following a link (safefs.h).  Whatever the source, the bytes are
 * copied into a temporary file, their MD5 checked, and only then committed
 * to the content store: a mismatch is never stored (-EIO).
 *
 * A struct fetcher serves many threads at once.  Fetches of different
 * objects run in parallel, up to [storage] jobs connections to the remote;
 * however many callers ask for one object, it is fetched once and all of
 * them get the outcome.  Nothing here holds a lock while it waits for the
 * network, so a caller who needs only local bytes never waits for a slow
 * remote.
 */
#ifndef CMFFS_FETCH_H
#define CMFFS_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "model.h"

struct fetcher;

/*
 * A fetcher for workspace @ws (resolved path), with its own store
 * connection and content store.  @cfg is borrowed and must outlive it.
 * On failure *ret_err (owned, may be NULL) explains.
 */
int fetcher_open(const char *ws, const struct config *cfg,
		 struct fetcher **ret, char **ret_err);
void fetcher_close(struct fetcher *f);	/* NULL-safe; no fetch may run */

/*
 * Make object @oid ("<md5>" or "<md5>.dir") local: 0 at once if it is,
 * else fetched from the sources above and verified.  On failure *ret_err
 * (owned) says why, naming each source tried, and the store keeps that
 * line for .cmf/status until the object is read (fetch_status_line()).
 * -ENOENT: no source has it; -EIO: bytes with another hash; another
 * -errno: the storage failed.
 */
int fetcher_get(struct fetcher *f, const char *oid, char **ret_err);

/* What a bulk fetch or a size survey has done so far. */
struct fetch_progress {
	unsigned objects_done;	/* fetched, or already local */
	unsigned objects_total;
	unsigned objects_failed;
	unsigned objects_local;	/* of done: local before */
	uint64_t bytes_done;	/* of sizes known */
	uint64_t bytes_total;	/* of sizes known */
};

/*
 * Called after each object, from whichever thread handled it, one call at
 * a time; @p is borrowed for the call.
 */
typedef void (*fetch_progress_fn)(void *ud, const struct fetch_progress *p);

/*
 * Fetch every object of the files of pipeline @pipeline (of its stage
 * @stage, of that stage's execution @execution, when not NULL) that is not
 * local, [storage] jobs at once.  Goes on past a failed object; returns 0
 * if all are local at the end, else the first failure, with *ret_err
 * (owned) naming the object.  *ret (if not NULL) gets the totals.
 * -ENOENT with a message if the pipeline, stage or execution does not
 * exist.  Ends with a cache_trim() (cache.h): with [cache] max-size set,
 * what was fetched may evict what was read longest ago.
 */
int fetcher_get_scope(struct fetcher *f, const char *pipeline,
		      const char *stage, const char *execution,
		      fetch_progress_fn progress, void *ud,
		      struct fetch_progress *ret, char **ret_err);

/*
 * Learn the size of every object of a file whose size is not known yet
 * (a pull or an import brought it): from the local content store or the
 * DVC cache when the bytes are there, else one request to the storage per
 * object, [storage] jobs at once, and record it in the store, so that a
 * mount never asks the network for a stat.  An object the storage does not
 * have keeps its unknown size (it is read, if ever, from elsewhere).
 * Returns 0, or the first failure of the storage with *ret_err (owned);
 * what was learnt is recorded either way.  *ret (if not NULL) counts.
 */
int fetcher_learn_sizes(struct fetcher *f, fetch_progress_fn progress,
			void *ud, struct fetch_progress *ret, char **ret_err);

/*
 * The line .cmf/status and `cmffs status` show about objects that could
 * not be read: "unreadable: none\n" or "unreadable: OID: WHY\n", escaped
 * (it may quote a server's answer).  Owned.
 */
int fetch_status_line(struct model *m, char **ret_line);

#endif
