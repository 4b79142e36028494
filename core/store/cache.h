/* SPDX-License-Identifier: MIT */
/*
 * The bounded cache.  WS/.cmf/cache (cas.h) holds the bytes of every
 * artifact logged or read in the workspace; with [cache] max-size
 * (config.h) it is kept at most that large by evicting objects that can be
 * fetched again.
 *
 * Evictable: an object the current storage remote has confirmed (a row of
 * cmffs_remote_object for config_remote_url(), redacted as the sync pass
 * writes it: syncstate.h) that no upload to a cmf-server still reads from
 * the cache (Label and Environment files and TensorBoard logs stay until a
 * server has received them) and that is not a manifest (of a `.dir`
 * directory or a dataslice: small, and cache_gc() reads them for the
 * hashes they name).  Nothing else is ever evicted, whatever the limit:
 * objects not yet pushed stay, and the cache may then be larger than its
 * limit until they are.  The least recently read go first: a read
 * through the mount stamps the object's atime (cas_read_object()), so the
 * read path costs no SQL.  An evicted object is fetched again, MD5-checked,
 * on its next read.
 *
 * Every function lists the whole cache (a readdir and an fstatat per
 * object) and looks the objects up in the store through @m in batches, so
 * the store's lock is never held for long; they may run in any process,
 * next to a mount, and at the same time as each other (a second trim may
 * then evict a little more than needed, never an object that is not
 * evictable).  The model @m is used under its own lock (model.h).
 */
#ifndef CMFFS_CACHE_H
#define CMFFS_CACHE_H

#include <stdint.h>

#include "cas.h"
#include "config.h"
#include "model.h"

/* How long cache_gc() waits for commits under way, in seconds. */
#define CACHE_GC_WAIT_S 60U

struct cache_usage {
	uint64_t objects;		/* in the cache */
	uint64_t bytes;
	uint64_t evictable_objects;	/* of those, evictable (above) */
	uint64_t evictable_bytes;
};

/* What the cache holds now.  0 or -errno. */
int cache_usage(struct cas *cas, struct model *m, const struct config *cfg,
		struct cache_usage *ret);

/*
 * The cache's lines of a status report (owned text), e.g.
 *	cache: 12 object(s), 3145728 bytes
 *	cache limit: 2M (2097152 bytes)		("cache limit: none")
 *	cache evictable: 10 object(s), 2097152 bytes (at the storage)
 * 0 or -errno.
 */
int cache_status_text(struct cas *cas, struct model *m,
		      const struct config *cfg, char **ret_text);

struct cache_result {
	uint64_t removed_objects;	/* unreferenced (cache_gc() only) */
	uint64_t removed_bytes;
	uint64_t evicted_objects;	/* evictable, over the limit */
	uint64_t evicted_bytes;
	uint64_t objects;		/* left in the cache */
	uint64_t bytes;
};

/*
 * Bring the cache under cfg->cache_max_size: evict evictable objects,
 * least recently read first (an object read since the listing is skipped),
 * until the cache holds at most that many bytes or nothing evictable is
 * left.  Without a limit it returns at once (*@ret zeroed, no listing).
 * The sync pass calls it at its end; call it after a fetch too.
 * *@ret is filled in either way; 0 or the first error (-errno), after
 * evicting what could be.
 */
int cache_trim(struct cas *cas, struct model *m, const struct config *cfg,
	       struct cache_result *ret);

/*
 * `cmffs gc`: remove every object nothing refers to, then cache_trim().
 * Referenced are: the uri of every artifact (every version ever logged),
 * the bytes of every file of the tree (cmffs_entry.md5: inputs, outputs,
 * step metrics, TensorBoard logs, dataslices), and every hash named in a
 * referenced DVC `.dir` manifest or Dataslice manifest that is in the
 * cache.  The referenced set is read in one snapshot of the store while
 * the cache is held exclusively (cas_sweep_lock(), waiting up to
 * CACHE_GC_WAIT_S for commits under way, in a mount or elsewhere), so an
 * object being committed right now is never taken.  0 or -errno
 * (-EBUSY: commits never paused; -ENOLCK: the cache cannot be locked).
 */
int cache_gc(struct cas *cas, struct model *m, const struct config *cfg,
	     struct cache_result *ret);

#endif
