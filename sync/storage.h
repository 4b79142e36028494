/* SPDX-License-Identifier: MIT */
/*
 * Where artifact bytes leave the machine: storage backends addressed as DVC
 * 3 addresses a remote, REMOTE/files/md5/ab/cdef... (and ab/cdef....dir for
 * directory manifests), so that `dvc pull` and `cmf artifact pull` read what
 * cmffs pushed.
 *
 * Backends: local directory, S3 (libcurl SigV4), SSH (libcurl SFTP), OSDF
 * (HTTPS PUT/GET with a bearer token).  A struct storage is used by one
 * thread at a time (it owns a curl handle).  Functions return 0 or -errno;
 * storage_error() then gives a one-line explanation.
 *
 * Errno conventions: -ENOENT the object is absent; -EACCES credentials or
 * permissions refused; -EAGAIN / -ETIMEDOUT / -ECONNREFUSED /
 * -EHOSTUNREACH / -ECONNRESET transient (retry later); -EPROTO the server
 * answered something unexpected; -EINVAL a bad configuration.
 */
#ifndef CMFFS_STORAGE_H
#define CMFFS_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct storage;

/*
 * Open the backend configured in @cfg (borrowed; it must outlive the
 * storage).  -ENOTSUP when no storage is configured.  On failure *ret_err
 * (if not NULL) gets an owned message.
 */
int storage_open(const struct config *cfg, struct storage **ret,
		 char **ret_err);
void storage_close(struct storage *s);	/* NULL-safe */

/*
 * Object ids: "<32 hex>" for a file, "<32 hex>.dir" for a DVC directory
 * manifest.  The remote key is files/md5/<oid[0:2]>/<oid[2:]>.
 */

/* 0 if object @oid exists at the remote, -ENOENT if not. */
int storage_exists(struct storage *s, const char *oid);

/*
 * The size of object @oid at the remote in *ret_size: one request (HEAD,
 * SFTP stat, fstatat), no bytes read.  -ENOENT if it is absent.
 */
int storage_size(struct storage *s, const char *oid, uint64_t *ret_size);

/*
 * Upload @size bytes read from @fd (from offset 0, with pread; the fd's
 * offset is not used) as object @oid.  Uploads replace atomically or not
 * at all: a reader never sees a partial object under the final key.
 */
int storage_put(struct storage *s, const char *oid, int fd, uint64_t size);

/*
 * Download object @oid into @fd (which the caller has truncated; written
 * from offset 0).  The caller verifies the hash.
 */
int storage_get(struct storage *s, const char *oid, int fd);

/* The last error, one line; borrowed, valid until the next call. */
const char *storage_error(const struct storage *s);

/* True for errors worth retrying later (network, 5xx, timeouts). */
bool storage_err_is_transient(int r);

#endif
