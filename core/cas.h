/* SPDX-License-Identifier: MIT */
/*
 * The content-addressed store: artifact bytes under
 * WS/.cmf/cache/files/md5/ab/cdef... (DVC 3's cache layout), read-only.
 *
 * Bytes being written live in a temporary file in WS/.cmf/tmp/ (an unnamed
 * O_TMPFILE where the filesystem supports it) and reach their final name by
 * one atomic link or rename once the writer is done and the hash is known,
 * so a crash at any instant leaves no partial file under a final name.
 * Identical content is stored once.  Objects are named by their md5, or
 * "<md5>.dir" for DVC directory manifests (dirmanifest.h).
 *
 * Objects may leave the cache again: cache.h evicts those the storage has
 * confirmed, and `cmffs gc` removes those nothing refers to.  Whoever opens
 * an object must therefore expect -ENOENT even after cas_has() said yes,
 * and fetch it (again) from the storage.
 *
 * A struct cas may be used from any thread (its only mutable state, the
 * hold count, has its own lock).  A struct cas_tmp belongs to one caller
 * at a time.
 */
#ifndef CMFFS_CAS_H
#define CMFFS_CAS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "hash.h"

struct cas;

/* Below the workspace; directories are made 0700 (the workspace is private) */
#define CAS_OBJECTS_DIR ".cmf/cache/files/md5"
#define CAS_TMP_DIR ".cmf/tmp"
#define CAS_LOCK_FILE ".cmf/cache.lock"	/* see cas_hold() */
#define CAS_DIR_MODE 0700

struct cas_tmp {
	int fd;		/* read-write; owned */
	char name[32];	/* "" for an O_TMPFILE, else the name in tmp/ */
};

/*
 * Open the store below workspace @ws, creating its directories if needed
 * (mode 0700; owned by the owner of @ws when running as root).  No link
 * below @ws is followed: a link, or a file where a directory belongs, is
 * -ELOOP or -ENOTDIR (safefs.h).  Temporary files left by a crash are
 * removed (not the named temporaries of a process still running, where
 * there is no O_TMPFILE).  WS/.cmf/cache.lock is made too (cas_hold()).
 * 0 or -errno.
 */
int cas_open(const char *ws, struct cas **ret_cas);
void cas_close(struct cas *cas);	/* NULL-safe */

/* A new empty temporary file. */
int cas_tmp_create(struct cas *cas, struct cas_tmp *ret_tmp);

/*
 * Give @tmp the final name of @md5 (which must be the MD5 of its bytes), or,
 * if that object exists already, drop @tmp's name.  Either way @tmp->fd stays
 * open and still reads the same bytes, but it must not be written again (it
 * may now be the object itself): the caller closes it.  Hold the cache
 * (cas_hold()) until the store refers to the object.  0 or -errno.
 */
int cas_commit(struct cas *cas, struct cas_tmp *tmp, const char *md5);

/* Close and remove @tmp. */
void cas_tmp_discard(struct cas *cas, struct cas_tmp *tmp);

/*
 * Open object @md5 read-only.  -ENOENT when it is not in the cache; a link
 * or a non-regular file in its place is refused (safefs.h), never followed.
 * The object is opened O_NOATIME where the kernel allows it, so reading it
 * (an upload, a hash) does not count as a read in the cache's order of
 * eviction; readers of the mount use cas_read_object().
 */
int cas_open_object(struct cas *cas, const char *md5, int *ret_fd);

/*
 * cas_open_object() for a reader of the mount: the object's atime is set
 * to now (futimens, whatever the filesystem's atime options), which is the
 * cache's record of its last read: least recently read objects are evicted
 * first (cache.h).  No SQL, one system call more than an open.
 */
int cas_read_object(struct cas *cas, const char *md5, int *ret_fd);

bool cas_has(struct cas *cas, const char *md5);

/* Absolute path of object @md5 (owned), whether present or not. */
int cas_object_path(struct cas *cas, const char *md5, char **ret_path);

/* An object in the cache, as cas_list() finds it. */
struct cas_object {
	char oid[MD5_HEX_LEN + 5];	/* "<md5>" or "<md5>.dir" */
	uint64_t size;			/* st_size */
	struct timespec atime;		/* its last read (cas_read_object) */
};

typedef int (*cas_object_fn)(void *ud, const struct cas_object *o);

/*
 * Call @fn (@o borrowed for the call) for every object in the cache: every
 * regular file of a fan-out directory "ab/" whose name makes an object id
 * (anything else is left alone and not counted), in no particular order.
 * Stops at the first nonzero return of @fn and returns it.  0 or -errno.
 */
int cas_list(struct cas *cas, cas_object_fn fn, void *ud);

/*
 * Remove object @oid from the cache.  With @atime not NULL only if its
 * atime is still that (it was not read since it was listed): -ESTALE
 * otherwise.  -ENOENT when it is gone already.  0 or -errno.  Readers
 * holding it open keep reading it; the next open fetches it again.
 */
int cas_remove(struct cas *cas, const char *oid, const struct timespec *atime);

/*
 * Commits against `cmffs gc`.  Between linking an object (cas_commit())
 * and recording in the store what refers to it, an object looks
 * unreferenced, and so does an object that cas_commit() found in place
 * already (identical content).  Whoever commits holds the cache shared
 * from before cas_commit() until the record is committed (cas_hold(),
 * cas_unhold(): counted, any thread, nested); a sweep of unreferenced
 * objects holds it exclusively (cas_sweep_lock()), so each waits for the
 * other, in this process or another one.  The lock is flock(2) on
 * WS/.cmf/cache.lock (a lock of its own: WS/.cmf/lock is the mount's).
 * Holding never fails: where that file cannot be opened (a read-only
 * workspace) or locked (NFS without locks) holds are free, and a sweep is
 * refused (-ENOLCK) instead.
 */
void cas_hold(struct cas *cas);
void cas_unhold(struct cas *cas);

/*
 * Hold the cache exclusively, waiting up to @timeout_s seconds for the
 * commits under way (of every process): -EBUSY after that; -EDEADLK if
 * this struct cas holds it itself.  0 or -errno.
 */
int cas_sweep_lock(struct cas *cas, unsigned timeout_s);
void cas_sweep_unlock(struct cas *cas);

#endif
