/* SPDX-License-Identifier: MIT */
/* Collect-then-call (rows.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "rows.h"
#include "store.h"

int store_rows_collect(struct store_rows *rows, sqlite3_stmt *s,
		       store_row_copy_fn copy, void *arg)
{
	void *elem;
	int rc, r = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = array_reserve(&rows->v, &rows->cap, rows->n + 1,
				  rows->size);
		if (r < 0)
			break;
		elem = store_rows_at(rows, rows->n);
		memset(elem, 0, rows->size);
		r = copy(elem, s, arg);
		if (r < 0 || r == 1) {
			if (rows->release)
				rows->release(elem);
			if (r < 0)
				break;
			r = 0;
			continue;
		}
		rows->n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
	return r;
}

int store_rows_each(struct store_rows *rows, int r, store_row_call_fn call,
		    void *ctx)
{
	size_t i;
	int x;

	for (i = 0; r == 0 && i < rows->n; i++) {
		x = call(ctx, store_rows_at(rows, i));
		if (x < 0)
			r = x;
		else if (x > 0)
			break;
	}
	if (rows->release)
		for (i = 0; i < rows->n; i++)
			rows->release(store_rows_at(rows, i));
	free(rows->v);
	rows->v = NULL;
	rows->n = rows->cap = 0;
	return r;
}

void store_rows_free(struct store_rows *rows)
{
	(void)store_rows_each(rows, -ECANCELED, NULL, NULL);
}
