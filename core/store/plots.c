/* SPDX-License-Identifier: MIT */
/* The step-metrics files of a stage; see plots.h. */
#include "plots.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_i.h"

/* step-metrics files of the executions of stage ?1 (?2 = the side) */
#define STAGE_FILES							\
	" FROM `Association` a JOIN `Execution` e"			\
	" ON e.`id` = a.`execution_id` JOIN cmffs_entry f"		\
	" ON f.execution_id = e.`id` AND f.side = ?2"			\
	" AND f.parent_id = 0 AND f.is_dir = 0"			\
	" WHERE a.`context_id` = ?1"

STORE_SQL(sql_stage_metrics,
	"SELECT DISTINCT substr(f.name, 1, length(f.name) - 4) AS n"
	STAGE_FILES " AND substr(f.name, -4) = '.csv' ORDER BY n");
STORE_SQL(sql_stage_has,
	"SELECT 1" STAGE_FILES " AND f.name = ?3 LIMIT 1");
/* executions named as model.c's listing names them */
STORE_SQL(sql_stage_files,
	"SELECT CASE WHEN ifnull(e.`name`, '') = '' THEN 'execution-' || e.`id`"
	" ELSE e.`name` END AS n, ifnull(f.md5, '')" STAGE_FILES
	" AND f.name = ?3 ORDER BY n");

/* "NAME.csv" into @buf; false if it does not fit (no such file). */
static bool csv_name(const char *name, char *buf, size_t size)
{
	return snprintf(buf, size, "%s.csv", name) < (int)size;
}

/*
 * Collect the rows of @sql over stage @stage_id's step-metrics files (and
 * only NAME.csv with @name) into @rows through @copy.  0 or -errno.
 */
static int stage_rows(struct model *m, const char *sql, int64_t stage_id,
		      const char *name, struct store_rows *rows,
		      store_row_copy_fn copy)
{
	char file[300];
	sqlite3_stmt *s;
	int r;

	if (name && !csv_name(name, file, sizeof(file)))
		return 0;	/* no such file: no rows */
	store_lock(m->st);
	r = store_stmt(m->st, sql, &s);
	if (r == 0) {
		store_bind(s, name ? "iit" : "ii", stage_id,
			   (int64_t)SIDE_STEP_METRICS, file);
		r = store_rows_collect(rows, s, copy, NULL);
	}
	store_unlock(m->st);
	return r;
}

int plots_stage_metrics(struct model *m, int64_t stage_id, model_name_cb cb,
			void *ud)
{
	struct store_rows rows = NAME_ROWS_INIT;
	struct name_call call = { cb, ud };
	int r = stage_rows(m, sql_stage_metrics, stage_id, NULL, &rows,
			   name_row_copy);

	return store_rows_each(&rows, r, name_row_call, &call);
}

/* A row that is only counted (store_rows: elements of one byte). */
static int count_row(void *elem, sqlite3_stmt *s, void *arg)
{
	(void)elem;
	(void)s;
	(void)arg;
	return 0;
}

static int stop_call(void *ctx, void *elem)
{
	(void)ctx;
	(void)elem;
	return 1;
}

int plots_stage_has(struct model *m, int64_t stage_id, const char *name)
{
	struct store_rows rows = STORE_ROWS_INIT(char, NULL);
	int r = stage_rows(m, sql_stage_has, stage_id, name, &rows, count_row);
	size_t n = rows.n;

	r = store_rows_each(&rows, r, stop_call, NULL);
	return r < 0 ? r : n ? 0 : -ENOENT;
}

struct file_row {
	char *execution;
	char *md5;
};

static int file_row_copy(void *elem, sqlite3_stmt *s, void *arg)
{
	struct file_row *row = elem;

	(void)arg;
	row->execution = strdup((const char *)sqlite3_column_text(s, 0));
	row->md5 = strdup((const char *)sqlite3_column_text(s, 1));
	return row->execution && row->md5 ? 0 : -ENOMEM;
}

static void file_row_release(void *elem)
{
	struct file_row *row = elem;

	free(row->execution);
	free(row->md5);
}

struct file_call {
	plots_file_cb cb;
	void *ud;
};

static int file_row_call(void *ctx, void *elem)
{
	const struct file_call *c = ctx;
	const struct file_row *row = elem;

	return c->cb(c->ud, row->execution, row->md5);
}

int plots_stage_files(struct model *m, int64_t stage_id, const char *name,
		      plots_file_cb cb, void *ud)
{
	struct store_rows rows =
		STORE_ROWS_INIT(struct file_row, file_row_release);
	struct file_call call = { cb, ud };
	int r = stage_rows(m, sql_stage_files, stage_id, name, &rows,
			   file_row_copy);

	return store_rows_each(&rows, r, file_row_call, &call);
}
