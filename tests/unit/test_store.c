/* SPDX-License-Identifier: MIT */
/*
 * The metadata store is an MLMD schema-10 file: tables, indexes, MLMDEnv,
 * simple types; a store of another version is refused, never rewritten;
 * after CMF-shaped writes the compatibility lint of doc/mlmd-schema.md §5
 * finds nothing.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "model.h"

static char dir[] = "/tmp/cmffs-test-store-XXXXXX";
static char path[256];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/mlmd", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int64_t count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static sqlite3 *raw_open(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

static void test_fresh_schema(void **state)
{
	struct store *st = NULL;
	char *err = NULL;
	sqlite3 *db;

	(void)state;
	unlink(path);
	assert_int_equal(store_open(path, STORE_CREATE, &st, &err), 0);
	store_close(st);
	db = raw_open();
	/* 15 MLMD tables + our 2, sqlite_sequence excluded */
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE type='table'"
				   " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'cmffs_%'"),
			 15);
	/* 24 named + 16 automatic indexes on MLMD's tables */
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE type='index'"
				   " AND tbl_name NOT LIKE 'cmffs_%'"),
			 40);
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE type='index'"
				   " AND name LIKE 'idx_%'"),
			 24);
	assert_int_equal(count(db, "SELECT count(*) FROM MLMDEnv"), 1);
	assert_int_equal(count(db, "SELECT schema_version FROM MLMDEnv"), 10);
	assert_int_equal(count(db, "SELECT count(*) FROM Type WHERE id BETWEEN 1 AND 9"
				   " AND version IS NULL AND name LIKE 'mlmd.%'"),
			 9);
	assert_int_equal(count(db, "SELECT type_kind FROM Type WHERE name='mlmd.Deploy'"), 0);
	assert_int_equal(count(db, "SELECT type_kind FROM Type WHERE name='mlmd.Statistics'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode='wal'"), 1);
	sqlite3_close(db);
	/* reopening adds nothing */
	assert_int_equal(store_open(path, 0, &st, &err), 0);
	store_close(st);
	db = raw_open();
	assert_int_equal(count(db, "SELECT count(*) FROM Type"), 9);
	sqlite3_close(db);
}

static void test_refuses_other_versions(void **state)
{
	struct store *st = NULL;
	char *err = NULL;
	sqlite3 *db;

	(void)state;
	unlink(path);
	assert_int_equal(store_open(path, STORE_CREATE, &st, &err), 0);
	store_close(st);
	db = raw_open();
	assert_int_equal(sqlite3_exec(db, "UPDATE MLMDEnv SET schema_version=8",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(path, STORE_CREATE, &st, &err), -EPROTO);
	assert_non_null(err);
	assert_non_null(strstr(err, "schema version 8"));
	free(err);
	err = NULL;
	/* untouched: still 8 */
	db = raw_open();
	assert_int_equal(count(db, "SELECT schema_version FROM MLMDEnv"), 8);
	sqlite3_close(db);

	/* a database of something else */
	unlink(path);
	db = raw_open();
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(path, STORE_CREATE, &st, &err), -EPROTO);
	assert_non_null(strstr(err, "not an ML Metadata store"));
	free(err);
	err = NULL;

	/* not a database at all */
	unlink(path);
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs("this is not sqlite, just text that is long enough to be a header........\n", f);
		fclose(f);
	}
	assert_true(store_open(path, STORE_CREATE, &st, &err) < 0);
	assert_non_null(err);
	free(err);
	unlink(path);
}

/* mlmd, mlmd-wal or mlmd-shm as a link or a FIFO: refused, not followed */
static void test_refuses_links(void **state)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char victim[300], name[300];
	struct store *st = NULL;
	char *err = NULL;
	struct stat sb;
	size_t i;

	(void)state;
	snprintf(victim, sizeof(victim), "%s.victim", path);
	for (i = 0; i < 3; i++) {
		unlink(path);
		unlink(victim);
		snprintf(name, sizeof(name), "%s%s", path, suffix[i]);
		assert_int_equal(symlink(victim, name), 0);
		assert_int_equal(store_open(path, STORE_CREATE, &st, &err), -ELOOP);
		assert_non_null(err);
		assert_non_null(strstr(err, "symbolic link"));
		free(err);
		err = NULL;
		assert_int_equal(lstat(victim, &sb), -1);	/* not created */
		assert_int_equal(unlink(name), 0);

		assert_int_equal(mkfifo(name, 0600), 0);
		alarm(10);
		assert_int_equal(store_open(path, STORE_CREATE, &st, &err), -EMEDIUMTYPE);
		alarm(0);
		free(err);
		err = NULL;
		assert_int_equal(unlink(name), 0);
	}
	unlink(path);
}

/* The lint of doc/mlmd-schema.md §5: every query must return no rows. */
static const char *const lint[] = {
	"SELECT 'mlmdenv_rows!=1', count(*) FROM MLMDEnv HAVING count(*) != 1",
	"SELECT 1 FROM MLMDEnv WHERE schema_version != 10",
	"SELECT 1 FROM Type WHERE type_kind NOT IN (0,1,2) OR typeof(type_kind)!='integer'",
	"SELECT 1 FROM Type WHERE version = ''",
	"SELECT 1 FROM Artifact WHERE external_id='' UNION ALL SELECT 1 FROM Execution WHERE external_id='' UNION ALL SELECT 1 FROM Context WHERE external_id=''",
	"SELECT name FROM Type GROUP BY name, ifnull(version,''), type_kind HAVING count(*)>1",
	"SELECT 1 FROM TypeProperty WHERE data_type NOT BETWEEN 1 AND 6 OR typeof(data_type)!='integer'",
	"SELECT 1 FROM Artifact WHERE typeof(type_id)!='integer' OR typeof(create_time_since_epoch)!='integer' OR typeof(last_update_time_since_epoch)!='integer' OR (state IS NOT NULL AND (typeof(state)!='integer' OR state NOT BETWEEN 0 AND 6))",
	"SELECT 1 FROM Execution WHERE typeof(type_id)!='integer' OR typeof(create_time_since_epoch)!='integer' OR typeof(last_update_time_since_epoch)!='integer' OR (last_known_state IS NOT NULL AND (typeof(last_known_state)!='integer' OR last_known_state NOT BETWEEN 0 AND 6))",
	"SELECT 1 FROM Context WHERE typeof(type_id)!='integer' OR typeof(create_time_since_epoch)!='integer' OR typeof(last_update_time_since_epoch)!='integer' OR name=''",
	"SELECT 1 FROM Artifact a LEFT JOIN Type t ON t.id=a.type_id WHERE t.id IS NULL OR t.type_kind!=1",
	"SELECT 1 FROM Execution e LEFT JOIN Type t ON t.id=e.type_id WHERE t.id IS NULL OR t.type_kind!=0",
	"SELECT 1 FROM Context c LEFT JOIN Type t ON t.id=c.type_id WHERE t.id IS NULL OR t.type_kind!=2",
	"SELECT 1 FROM ArtifactProperty WHERE (int_value IS NOT NULL)+(double_value IS NOT NULL)+(string_value IS NOT NULL)+(proto_value IS NOT NULL)+(bool_value IS NOT NULL) != 1",
	"SELECT 1 FROM ExecutionProperty WHERE (int_value IS NOT NULL)+(double_value IS NOT NULL)+(string_value IS NOT NULL)+(proto_value IS NOT NULL)+(bool_value IS NOT NULL) != 1",
	"SELECT 1 FROM ContextProperty WHERE (int_value IS NOT NULL)+(double_value IS NOT NULL)+(string_value IS NOT NULL)+(proto_value IS NOT NULL)+(bool_value IS NOT NULL) != 1",
	"SELECT 1 FROM ArtifactProperty WHERE is_custom_property NOT IN (0,1) OR (int_value IS NOT NULL AND typeof(int_value)!='integer') OR (string_value IS NOT NULL AND typeof(string_value)!='text')",
	"SELECT 1 FROM ExecutionProperty WHERE is_custom_property NOT IN (0,1) OR (int_value IS NOT NULL AND typeof(int_value)!='integer') OR (string_value IS NOT NULL AND typeof(string_value)!='text')",
	"SELECT 1 FROM ContextProperty WHERE is_custom_property NOT IN (0,1) OR (int_value IS NOT NULL AND typeof(int_value)!='integer') OR (string_value IS NOT NULL AND typeof(string_value)!='text')",
	"SELECT 1 FROM Event WHERE type NOT BETWEEN 0 AND 7 OR typeof(type)!='integer' OR (milliseconds_since_epoch IS NOT NULL AND typeof(milliseconds_since_epoch)!='integer')",
	"SELECT 1 FROM EventPath WHERE is_index_step NOT IN (0,1) OR (is_index_step=0 AND step_key IS NULL)",
	"SELECT 1 FROM EventPath WHERE event_id NOT IN (SELECT id FROM Event)",
	/* declared properties have TypeProperty rows */
	"SELECT 1 FROM ExecutionProperty p JOIN Execution e ON e.id=p.execution_id WHERE p.is_custom_property=0 AND NOT EXISTS (SELECT 1 FROM TypeProperty tp WHERE tp.type_id=e.type_id AND tp.name=p.name)",
	"SELECT 1 FROM ArtifactProperty p JOIN Artifact a ON a.id=p.artifact_id WHERE p.is_custom_property=0 AND NOT EXISTS (SELECT 1 FROM TypeProperty tp WHERE tp.type_id=a.type_id AND tp.name=p.name)",
	"SELECT 1 FROM ContextProperty p JOIN Context c ON c.id=p.context_id WHERE p.is_custom_property=0 AND NOT EXISTS (SELECT 1 FROM TypeProperty tp WHERE tp.type_id=c.type_id AND tp.name=p.name)",
};

static void test_lint_after_cmf_writes(void **state)
{
	struct model *m = NULL;
	struct entry dir_e, f, g;
	struct value v = { .kind = VALUE_DOUBLE, .d = 0.25 };
	int64_t p, s, e;
	char *err = NULL;
	sqlite3 *db;
	size_t i;

	(void)state;
	unlink(path);
	assert_int_equal(model_open(path, MODEL_CREATE, &m, &err), 0);
	assert_int_equal(model_set_remote(m, "/srv/remote/"), 0);
	assert_int_equal(model_pipeline_create(m, "pipe", &p), 0);
	assert_int_equal(model_stage_create(m, p, "pipe", "prep", &s), 0);
	assert_int_equal(model_execution_create(m, s, "run1", NULL, &e), 0);
	assert_int_equal(model_prop_set(m, OWNER_EXECUTION, e, "split", &v), 0);
	assert_int_equal(model_entry_mkdir(m, e, SIDE_OUTPUTS, 0, "models", 0755, 0, 0, &dir_e), 0);
	assert_int_equal(model_entry_create(m, e, SIDE_OUTPUTS, dir_e.id, "m.pkl", 0644, 0, 0, &f), 0);
	assert_int_equal(model_entry_log(m, f.id, "0cc175b9c0f1b6a831c399e269772661", 1, 1, NULL), 0);
	assert_int_equal(model_entry_create(m, e, SIDE_OUTPUTS, 0, "d.csv", 0644, 0, 0, &g), 0);
	assert_int_equal(model_entry_log(m, g.id, "92eb5ffee6ae2fec3ad71c777531578f", 1, 1, NULL), 0);
	model_close(m);

	db = raw_open();
	for (i = 0; i < sizeof(lint) / sizeof(lint[0]); i++) {
		sqlite3_stmt *st;
		int rc;

		assert_int_equal(sqlite3_prepare_v2(db, lint[i], -1, &st, NULL), SQLITE_OK);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			fail_msg("lint query returned rows: %s", lint[i]);
	}
	/* Model name and properties, url with the pipeline prefix */
	assert_int_equal(count(db, "SELECT count(*) FROM Artifact WHERE name="
				   "'models/m.pkl:0cc175b9c0f1b6a831c399e269772661:1'"
				   " AND uri='0cc175b9c0f1b6a831c399e269772661'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM ArtifactProperty WHERE name='url'"
				   " AND string_value='pipe:/srv/remote/files/md5/0c/c175b9c0f1b6a831c399e269772661'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM ArtifactProperty p JOIN Artifact a"
				   " ON a.id=p.artifact_id WHERE a.name LIKE 'models/%' AND"
				   " p.name IN ('model_framework','model_type','model_name')"
				   " AND p.string_value='Default'"), 3);
	assert_int_equal(count(db, "SELECT count(*) FROM ExecutionProperty WHERE name='split'"
				   " AND is_custom_property=1 AND typeof(double_value)='real'"
				   " AND double_value=0.25"), 1);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_schema),
		cmocka_unit_test(test_refuses_other_versions),
		cmocka_unit_test(test_refuses_links),
		cmocka_unit_test(test_lint_after_cmf_writes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
