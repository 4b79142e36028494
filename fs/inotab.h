/* SPDX-License-Identifier: MIT */
/*
 * Inode numbers for nodes that have no id of their own in the store (the
 * artifacts/ views' directories, metrics/NAME.json): each distinct key
 * gets the next number of a counter the first time it is asked for, and
 * keeps it for the life of the mount.  No two keys share a number (a hash
 * of the key could collide); the table grows with the keys seen, one small
 * allocation each.  Thread-safe.
 */
#ifndef CMFFS_INOTAB_H
#define CMFFS_INOTAB_H

#include <stddef.h>
#include <stdint.h>

struct inotab;

struct inotab *inotab_new(void);	/* NULL on ENOMEM */
void inotab_free(struct inotab *t);	/* NULL-safe */

/*
 * The number of key @key[0..len) (any bytes), from 1 up: the same number
 * for the same key every time.  0 only when a new key cannot be stored
 * (ENOMEM).
 */
uint64_t inotab_get(struct inotab *t, const void *key, size_t len);

/*
 * The key of number @ino, copied into @buf (at most @size bytes); its
 * length, or 0 if no key has that number.
 */
size_t inotab_key(struct inotab *t, uint64_t ino, void *buf, size_t size);

#endif
