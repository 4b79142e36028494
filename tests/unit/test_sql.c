/* SPDX-License-Identifier: MIT */
/*
 * Every SQL statement of core/store/ (each STORE_SQL / STORE_SQL_TABLE,
 * store.h) prepares against a fresh store: a statement naming a table or
 * column the schema lacks, or a typo, fails here rather than in a user's
 * mount.  Each is one statement (no trailing text SQLite would ignore), and
 * every source file of core/store/ that speaks SQL is represented, so a
 * module whose statements stopped registering is noticed.
 *
 * STORE_FILES (from tests/meson.build) lists the files of core/store/.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* the bounds of the linker section the STORE_SQL macros fill */
extern const struct store_sql_entry __start_cmffs_store_sql[];
extern const struct store_sql_entry __stop_cmffs_store_sql[];

static char dir[] = "/tmp/cmffs-test-sql-XXXXXX";

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void every_statement_prepares(void **state)
{
	const struct store_sql_entry *e;
	struct store *st = NULL;
	char path[300], *err = NULL;
	size_t i, total = 0, bad = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mlmd", dir);
	assert_int_equal(store_open(path, STORE_CREATE, &st, &err), 0);
	for (e = __start_cmffs_store_sql; e < __stop_cmffs_store_sql; e++) {
		for (i = 0; i < e->n; i++) {
			sqlite3_stmt *s = NULL;
			const char *tail = NULL;
			int rc;

			total++;
			rc = sqlite3_prepare_v2(store_db(st), e->sql[i], -1,
						&s, &tail);
			if (rc != SQLITE_OK || !s ||
			    tail[strspn(tail, " \t\n")] != '\0') {
				fprintf(stderr, "%s: %s[%zu]: %s\n",
					base_name(e->file), e->name, i,
					rc != SQLITE_OK
						? sqlite3_errmsg(store_db(st))
						: "more than one statement");
				bad++;
			}
			sqlite3_finalize(s);
		}
	}
	fprintf(stderr, "%zu statements prepared\n", total);
	store_close(st);
	assert_int_equal(bad, 0);
	/* the section is there at all: well over a hundred statements */
	assert_true(total > 100);
}

static bool registered(const char *file)
{
	const struct store_sql_entry *e;

	for (e = __start_cmffs_store_sql; e < __stop_cmffs_store_sql; e++)
		if (!strcmp(base_name(e->file), file))
			return true;
	return false;
}

static void every_sql_file_is_registered(void **state)
{
	char files[] = STORE_FILES, *save = NULL, *f;
	size_t missing = 0;

	(void)state;
	for (f = strtok_r(files, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
		char src[512], *text = NULL;
		size_t len = 0;
		FILE *fp;

		/* a file that defines statements must have them registered */
		snprintf(src, sizeof(src), "%s/%s", STORE_DIR, f);
		fp = fopen(src, "r");
		assert_non_null(fp);
		assert_true(getdelim(&text, &len, '\0', fp) > 0);
		fclose(fp);
		if (strstr(text, "STORE_SQL") && !registered(f)) {
			fprintf(stderr, "%s: statements not in the section\n",
				f);
			missing++;
		}
		free(text);
	}
	assert_int_equal(missing, 0);
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_statement_prepares),
		cmocka_unit_test(every_sql_file_is_registered),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
