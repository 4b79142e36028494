/* SPDX-License-Identifier: MIT */
/*
 * Backend interface: each backend (storage_local.c, storage_s3.c,
 * storage_ssh.c, storage_osdf.c) fills one struct storage_ops.  The
 * dispatcher (storage.c) checks object ids and builds keys; a backend gets
 * the key "files/md5/ab/cdef..." relative to its remote root.
 */
#ifndef CMFFS_STORAGE_I_H
#define CMFFS_STORAGE_I_H

#include <stdarg.h>
#include <stdint.h>

#include "storage.h"

struct storage_ops {
	const char *name;
	/* set s->priv; may use storage_fail() for the message */
	int (*open)(struct storage *s, const struct config *cfg);
	void (*close)(struct storage *s);
	/* 0 and the object's size in *ret_size (if not NULL) when @key
	 * exists, -ENOENT when it does not */
	int (*stat)(struct storage *s, const char *key, uint64_t *ret_size);
	int (*put)(struct storage *s, const char *key, int fd, uint64_t size);
	int (*get)(struct storage *s, const char *key, int fd);
};

struct storage {
	const struct storage_ops *ops;
	void *priv;		/* the backend's */
	char error[512];	/* last error message */
};

/* Record a message for storage_error() and return @r. */
int storage_fail(struct storage *s, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

extern const struct storage_ops storage_local_ops;
extern const struct storage_ops storage_s3_ops;
extern const struct storage_ops storage_ssh_ops;
extern const struct storage_ops storage_osdf_ops;

#endif
