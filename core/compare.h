/* SPDX-License-Identifier: MIT */
/*
 * Comparison tables of executions (S/compare.tsv, S/compare.md,
 * P/compare.tsv): one row per execution, newest first, with its name,
 * state, start time, git commit, and one column per custom property and
 * per final metric, the union over the rows, an empty cell where a row
 * has none.  What `dvc exp show` and MLflow's compare view give.
 *
 * A column is named by the file of the execution its value is read from:
 *   properties/KEY             E/properties/KEY
 *   metrics/NAME.json:KEY      KEY of E/metrics/NAME.json (the last
 *                              values logged under NAME)
 *   metrics/NAME.csv:COLUMN    COLUMN of the last row of the last version
 *                              of E/metrics/NAME.csv (step metrics), when
 *                              its bytes are in the local cache
 * Keys and names cannot hold '/' or ':' (names.h), so a column name says
 * unambiguously where its value is.  The columns come in three groups, each
 * sorted: the properties a user set, the metrics, then the properties that
 * say where the execution ran (compare_is_provenance()).
 *
 * Cells are escaped so that no value can break the table:
 *  - TSV: a backslash, tab, newline and carriage return in a value are
 *    written \\, \t, \n and \r (the "linear TSV" convention); every line is
 *    one row.
 *  - Markdown: '|' is written \|, a backslash \\, a newline, tab and
 *    carriage return \n, \t, \r; '&', '<' and '>' as HTML entities, so no
 *    value becomes markup.
 * Pure rendering: the rows come from runs.h, no SQL here.
 */
#ifndef CMFFS_COMPARE_H
#define CMFFS_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas.h"
#include "runs.h"
#include "sb.h"

/*
 * Add to each run of @runs the last row of its step-metrics files as
 * metrics "NAME.csv:COLUMN" (a field that is a number counts as one), from
 * the bytes in @cas; a file whose bytes are not local, or that is not a
 * CSV with a header (upstream's parquet), adds nothing.  At most 64 KiB
 * are read from each end of a file.  Then each run's metrics are sorted by
 * key.  0 or -ENOMEM.
 */
int compare_add_steps(struct runs *runs, struct cas *cas);

/*
 * The value columns of a table: the properties a user set, then the
 * metrics, then the properties that record where the execution ran
 * (compare_is_provenance()).
 */
struct compare_cols {
	char **keys;	/* owned: the key in run_value (without prefix) */
	bool *prop;	/* owned: keys[i] is a property (else a metric) */
	size_t n;
};

/*
 * The custom properties cmffs (and cmflib) record about where and how an
 * execution ran, not what it was given: Git_Dirty, Host, Pid, User
 * (recorded at mkdir), Python_Env (cmflib's).
 */
bool compare_is_provenance(const char *key);

/*
 * The union of the property and metric keys of @runs, each group sorted.
 * Release with compare_cols_release() whatever the result.  0 or -ENOMEM.
 */
int compare_cols_build(const struct runs *runs, struct compare_cols *ret);
void compare_cols_release(struct compare_cols *c);

/* Column @i's name: "properties/KEY" or "metrics/KEY", appended to @sb. */
void compare_col_name(const struct compare_cols *c, size_t i, struct sb *sb);

/* The value of column @i in @run (borrowed), or NULL when it has none. */
const struct run_value *compare_cell(const struct run *run,
				     const struct compare_cols *c, size_t i);

/* The value of property (@prop true) or metric @key of @run, or NULL. */
const struct run_value *run_value_find(const struct run *run, bool prop,
				       const char *key);

/* @ms since the epoch as ISO 8601 in UTC, "2024-05-01T12:00:00Z"; "" for 0. */
void compare_time_iso(int64_t ms, char buf[32]);

/* The commit of @run, short: its first 7 characters if they are hex. */
void compare_commit_short(const struct run *run, char buf[16]);

enum compare_format {
	COMPARE_TSV,
	COMPARE_MD,
};

/*
 * The table of the executions of @scope @id (RUNS_STAGE or RUNS_PIPELINE;
 * a pipeline's table has a first column "stage") in @fmt: a header row,
 * then one row per execution (Markdown: and the delimiter row).  Owned
 * text.  0 or -errno.
 */
int compare_text(struct model *m, struct cas *cas, enum runs_scope scope,
		 int64_t id, enum compare_format fmt, char **ret_text,
		 size_t *ret_len);

#endif
