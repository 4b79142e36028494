/* SPDX-License-Identifier: MIT */
/*
 * The redo log: the records of changes a store made in a write transaction
 * that is not committed yet, so that a crash of the process loses none of
 * them (store.h: batched writes).  One small append per change makes it
 * durable against the death of the daemon (the bytes are in the kernel's
 * page cache the moment write() returns; like the store in WAL mode with
 * synchronous=NORMAL, a power cut may lose the last changes, never the
 * store's consistency).
 *
 * A record is opaque bytes with a sequence number; the file is a series of
 * frames (doc/design.md §6):
 *
 *	u32 magic "CMR1"   u32 length   u64 seq   u64 check   length bytes
 *
 * little-endian, check an FNV-1a 64 of seq and the bytes.  A frame that is
 * cut short or does not check (a disk that filled up mid-write; someone
 * who edited the file) ends the log: it and what follows are ignored.
 *
 * Not thread-safe: the store calls it under its lock.
 */
#ifndef CMFFS_REDO_H
#define CMFFS_REDO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest record redo_append() takes. */
#define REDO_RECORD_MAX 4096

struct redo;

/*
 * Open the log @name below directory @dirfd without following links
 * (safefs.h; a link, FIFO or device there is refused): to write, creating
 * it (mode 0600) if @create (else -ENOENT if absent).
 * 0 or -errno.
 */
int redo_open(int dirfd, const char *name, bool create, struct redo **ret);
void redo_close(struct redo *rl);	/* NULL-safe */

/*
 * Append one record of @len bytes (at most REDO_RECORD_MAX) with sequence
 * number @seq, in one write().  A partial write is cut off again, so the
 * log never ends in a torn frame this process wrote.  0 or -errno (-ENOSPC
 * on a full disk: the change must then be refused).
 */
int redo_append(struct redo *rl, uint64_t seq, const void *rec, size_t len);

/*
 * Take back the record the last redo_append() added (its change was not
 * kept after all).  Once only: 0 if there is nothing to take back.
 * 0 or -errno.
 */
int redo_drop_last(struct redo *rl);

/*
 * Called for each intact record in order; a negative return stops the
 * walk and is returned by redo_each(), a positive one stops it (0).
 */
typedef int (*redo_record_fn)(void *ud, uint64_t seq, const void *rec,
			      size_t len);

/*
 * Read the log from its start and call @fn (may be NULL: only scan) for
 * every intact record, up to the first torn or corrupt frame.  *@ret_last (may be NULL) receives the
 * highest sequence number seen (0 if none).  0 or -errno.
 */
int redo_each(struct redo *rl, redo_record_fn fn, void *ud,
	      uint64_t *ret_last);

/* Empty the log (after the records were committed).  0 or -errno. */
int redo_reset(struct redo *rl);

/* Bytes in the log. */
uint64_t redo_size(const struct redo *rl);

#endif
