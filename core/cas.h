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
 * A struct cas is immutable after cas_open() and may be used from any thread.
 * A struct cas_tmp belongs to one caller at a time.
 */
#ifndef CMFFS_CAS_H
#define CMFFS_CAS_H

#include <stdbool.h>
#include <stdint.h>

#include "hash.h"

struct cas;

/* Below the workspace; directories are made 0700 (the workspace is private) */
#define CAS_OBJECTS_DIR ".cmf/cache/files/md5"
#define CAS_TMP_DIR ".cmf/tmp"
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
 * removed.  0 or -errno.
 */
int cas_open(const char *ws, struct cas **ret_cas);
void cas_close(struct cas *cas);	/* NULL-safe */

/* A new empty temporary file. */
int cas_tmp_create(struct cas *cas, struct cas_tmp *ret_tmp);

/*
 * Give @tmp the final name of @md5 (which must be the MD5 of its bytes), or,
 * if that object exists already, drop @tmp's name.  Either way @tmp->fd stays
 * open and still reads the same bytes, but it must not be written again (it
 * may now be the object itself): the caller closes it.  0 or -errno.
 */
int cas_commit(struct cas *cas, struct cas_tmp *tmp, const char *md5);

/* Close and remove @tmp. */
void cas_tmp_discard(struct cas *cas, struct cas_tmp *tmp);

/*
 * Open object @md5 read-only.  -ENOENT when it is not in the cache; a link
 * or a non-regular file in its place is refused (safefs.h), never followed.
 */
int cas_open_object(struct cas *cas, const char *md5, int *ret_fd);
bool cas_has(struct cas *cas, const char *md5);

/* Absolute path of object @md5 (owned), whether present or not. */
int cas_object_path(struct cas *cas, const char *md5, char **ret_path);

#endif
