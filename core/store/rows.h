/* SPDX-License-Identifier: MIT */
/*
 * Collect, then call: the one way a store module hands query rows to a
 * callback that may itself use the model.
 *
 * A callback must never run under the store lock (it would deadlock on its
 * first model call, and it would hold every other thread back while the
 * caller's filler does I/O).  So a listing runs in two halves:
 *
 *	struct store_rows rows = STORE_ROWS_INIT(struct my_row, release);
 *
 *	store_lock(st);
 *	r = store_stmt(st, sql, &s);
 *	if (r == 0) {
 *		sqlite3_bind_...(s, ...);
 *		r = store_rows_collect(&rows, s, copy_row, NULL);
 *	}
 *	store_unlock(st);
 *	return store_rows_each(&rows, r, call_row, &ctx);
 *
 * The callback contract, the same for every listing of the model: a
 * negative return stops the listing and is returned; a positive return
 * stops it and the listing returns 0 ("enough", e.g. a full readdir
 * buffer); 0 goes on.
 */
#ifndef CMFFS_ROWS_H
#define CMFFS_ROWS_H

#include <stddef.h>

#include <sqlite3.h>

struct store_rows {
	void *v;		/* the elements, @size bytes each */
	size_t n, cap, size;
	/* frees what an element owns (not the element itself); may be NULL */
	void (*release)(void *elem);
};

#define STORE_ROWS_INIT(type, release_fn) \
	{ .v = NULL, .n = 0, .cap = 0, .size = sizeof(type), \
	  .release = (release_fn) }

/*
 * Fills a zeroed element from the current row of @s.  Returns 0 to keep
 * the element, 1 to skip the row (the element is released), or -errno to
 * stop the collection.
 */
typedef int (*store_row_copy_fn)(void *elem, sqlite3_stmt *s, void *arg);

/*
 * Step @s (from store_stmt(), bound; the caller holds the lock) to the end,
 * appending one element per row through @copy.  @s is reset and its
 * bindings cleared (store_stmt_done) in every case.  0 or -errno; on error
 * the elements collected so far stay in @rows for store_rows_each() to
 * free.
 */
int store_rows_collect(struct store_rows *rows, sqlite3_stmt *s,
		       store_row_copy_fn copy, void *arg);

/* Calls the listing's callback for one element; the contract above. */
typedef int (*store_row_call_fn)(void *ctx, void *elem);

/*
 * The second half, without the lock: if @r (the first half's result) is
 * 0, call @call for each element in order under the callback contract;
 * then release every element and the array, leaving @rows empty.
 * Returns @r if it was negative, else the first negative callback
 * return, else 0.
 */
int store_rows_each(struct store_rows *rows, int r, store_row_call_fn call,
		    void *ctx);

/*
 * For a listing whose caller keeps the rows (an owned array): on success
 * rows->v with rows->n elements is the caller's; store_rows_free() releases
 * every element and the array (after a failed collection).
 */
void store_rows_free(struct store_rows *rows);

/* Element @i of @rows. */
static inline void *store_rows_at(const struct store_rows *rows, size_t i)
{
	return (char *)rows->v + i * rows->size;
}

#endif
