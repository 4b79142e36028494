/* SPDX-License-Identifier: MIT */
/*
 * What the unit tests of the store share: a temporary directory for a store
 * and queries of that store through a connection of their own (as another
 * process reading WS/mlmd would).  Include after <cmocka.h>.
 */
#ifndef CMFFS_TESTDB_H
#define CMFFS_TESTDB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/*
 * Make "/tmp/cmffs-test-TAG-XXXXXX" into @dir (@dn bytes) and @path (@pn
 * bytes) DIR/mlmd in it.  0, or -1 if the directory cannot be made.
 */
static inline int testdb_dir(char *dir, size_t dn, char *path, size_t pn,
			     const char *tag)
{
	snprintf(dir, dn, "/tmp/cmffs-test-%s-XXXXXX", tag);
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, pn, "%s/mlmd", dir);
	return 0;
}

/* Remove @dir and everything in it: 0, or -1. */
static inline int testdb_remove(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Run @sql on the store at @path; the first column of its first row. */
static inline sqlite3_stmt *testdb_first_row(const char *path, const char *sql,
					     sqlite3 **db)
{
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_open(path, db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(*db, sql, -1, &s, NULL), SQLITE_OK);
	return s;
}

/* ... as an integer, -1 when there is no row. */
static inline int64_t testdb_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s = testdb_first_row(path, sql, &db);
	int64_t n = -1;

	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/*
 * ... as text (owned; "NULL" for NULL), NULL when there is no row.  Not
 * inlined: callers check the result with cmocka's asserts, which the
 * compiler does not know never return.
 */
static __attribute__((noinline, unused)) char *
testdb_text(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s = testdb_first_row(path, sql, &db);
	char *v = NULL;

	if (sqlite3_step(s) == SQLITE_ROW)
		v = strdup(sqlite3_column_type(s, 0) == SQLITE_NULL
				   ? "NULL"
				   : (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

#endif
