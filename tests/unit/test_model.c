/* SPDX-License-Identifier: MIT */
/*
 * CMF semantics of the model: context and execution shapes, artifact types
 * by path, de-duplication, lineage through links, versions, the
 * append-only rule and rename-into-place.
 */
#include "model.h"
#include "syncstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testdb.h"

#include "document.h"

#define MD5_A "0cc175b9c0f1b6a831c399e269772661"	/* "a" */
#define MD5_B "92eb5ffee6ae2fec3ad71c777531578f"	/* "b" */
#define MD5_C "4a8a08f09d37b73795649038408b5f33"	/* "c" */
#define MD5_D "8277e0910d750195b448797616e091ad"	/* "d" */

struct fixture {
	char dir[64];
	char path[128];
	struct model *m;
	int64_t pipeline, prep, train, e1, e2;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *err = NULL;

	if (!f)
		return -1;
	if (testdb_dir(f->dir, sizeof(f->dir), f->path, sizeof(f->path),
		       "model") < 0)
		return -1;
	if (model_open(f->path, MODEL_CREATE, &f->m, &err) < 0)
		return -1;
	if (model_set_remote(f->m, "/remote") < 0 ||
	    model_pipeline_create(f->m, "p", &f->pipeline) < 0 ||
	    model_stage_create(f->m, f->pipeline, "p", "prep", &f->prep) < 0 ||
	    model_stage_create(f->m, f->pipeline, "p", "train", &f->train) < 0 ||
	    model_execution_create(f->m, f->prep, "r1", NULL, &f->e1) < 0 ||
	    model_execution_create(f->m, f->train, "r1", NULL, &f->e2) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int r;

	model_close(f->m);
	r = testdb_remove(f->dir);
	free(f);
	return r;
}

static int64_t q(struct fixture *f, const char *sql)
{
	return testdb_int(f->path, sql);
}

static int64_t logged_file(struct fixture *f, int64_t exec, int side,
			   int64_t parent, const char *name, const char *md5)
{
	struct entry e;

	assert_int_equal(model_entry_create(f->m, exec, side, parent, name,
					    0644, 0, 0, &e), 0);
	assert_int_equal(model_entry_log(f->m, e.id, md5, 1, 1, NULL), 0);
	return e.id;
}

static void test_contexts_and_execution(void **state)
{
	struct fixture *f = *state;
	int64_t id;

	assert_int_equal(model_pipeline_create(f->m, "p", &id), -EEXIST);
	assert_int_equal(model_stage_find(f->m, "p", "prep", &id), 0);
	assert_int_equal(id, f->prep);
	assert_int_equal(model_execution_find(f->m, f->prep, "r1", &id), 0);
	assert_int_equal(id, f->e1);
	assert_int_equal(model_execution_create(f->m, f->prep, "r1", NULL, &id), -EEXIST);
	assert_int_equal(q(f, "SELECT count(*) FROM Context c JOIN Type t ON t.id=c.type_id"
			      " WHERE t.name='Pipeline_Stage' AND c.name='p/prep'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM ParentContext WHERE context_id=2 AND parent_context_id=1"), 1);
	/* the ten CMF properties, typed as upstream declares them */
	assert_int_equal(q(f, "SELECT count(*) FROM ExecutionProperty WHERE execution_id=1"
			      " AND is_custom_property=0"), 10);
	assert_int_equal(q(f, "SELECT count(*) FROM ExecutionProperty WHERE execution_id=1"
			      " AND name IN ('Context_ID','Pipeline_id') AND typeof(int_value)='integer'"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM ExecutionProperty WHERE execution_id=1"
			      " AND name='Context_Type' AND string_value='p/prep'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM Execution e JOIN Type t ON t.id=e.type_id"
			      " WHERE t.name='p/prep' AND t.type_kind=0 AND e.name='r1'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM Association WHERE context_id=2 AND execution_id=1"), 1);
	assert_int_equal(q(f, "SELECT length(string_value) FROM ExecutionProperty WHERE"
			      " execution_id=1 AND name='Execution_uuid'"), 36);
}

/* Names found once are cached; a removal must never leave a stale id. */
static void test_found_names_follow_removals(void **state)
{
	struct fixture *f = *state;
	int64_t id, again, st;

	/* found (and cached) ... */
	assert_int_equal(model_execution_find(f->m, f->prep, "r1", &id), 0);
	assert_int_equal(model_stage_find(f->m, "p", "train", &st), 0);
	/* ... removed: gone for find too */
	assert_int_equal(model_execution_remove(f->m, f->e1), 0);
	assert_int_equal(model_execution_find(f->m, f->prep, "r1", &id), -ENOENT);
	assert_int_equal(model_execution_remove(f->m, f->e2), 0);
	assert_int_equal(model_stage_remove(f->m, f->train), 0);
	assert_int_equal(model_stage_find(f->m, "p", "train", &st), -ENOENT);
	/* made again under the same names: the new ids are found */
	assert_int_equal(model_stage_create(f->m, f->pipeline, "p", "train", &st), 0);
	assert_int_equal(model_stage_find(f->m, "p", "train", &again), 0);
	assert_int_equal(again, st);
	assert_int_equal(model_execution_create(f->m, f->prep, "r1", NULL, &id), 0);
	assert_int_equal(model_execution_find(f->m, f->prep, "r1", &again), 0);
	assert_int_equal(again, id);
	/* an execution of the same name in another stage is another one */
	assert_int_equal(model_execution_find(f->m, st, "r1", &again), -ENOENT);
}

static void test_types_by_path_and_dedup(void **state)
{
	struct fixture *f = *state;
	struct entry models, e;

	assert_int_equal(model_entry_mkdir(f->m, f->e1, SIDE_OUTPUTS, 0, "models", 0755, 0, 0, &models), 0);
	logged_file(f, f->e1, SIDE_OUTPUTS, models.id, "m.bin", MD5_A);
	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "a.txt", MD5_A);	/* same bytes, Dataset */
	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "copy.txt", MD5_A);	/* same again */
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact WHERE uri='" MD5_A "'"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact a JOIN Type t ON t.id=a.type_id"
			      " WHERE t.name='Model' AND a.name='models/m.bin:" MD5_A ":1'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact a JOIN Type t ON t.id=a.type_id"
			      " WHERE t.name='Dataset' AND a.name='a.txt:" MD5_A "'"), 1);
	/* one event per (artifact, execution, type) */
	assert_int_equal(q(f, "SELECT count(*) FROM Event"), 2);
	/* two files with the same bytes are two files: no shared inode */
	assert_int_equal(model_entry_lookup(f->m, f->e1, SIDE_OUTPUTS, 0, "copy.txt", &e), 0);
	assert_int_equal(e.nlink, 1);
	assert_int_equal(e.inode_id, e.id);
}

static void test_link_forms_lineage(void **state)
{
	struct fixture *f = *state;
	struct entry e;
	int64_t src = logged_file(f, f->e1, SIDE_OUTPUTS, 0, "data.csv", MD5_B);

	assert_int_equal(model_entry_link(f->m, src, f->e2, SIDE_INPUTS, 0, "data.csv", &e), 0);
	assert_int_equal(e.artifact_id, q(f, "SELECT id FROM Artifact WHERE uri='" MD5_B "'"));
	assert_int_equal(q(f, "SELECT count(*) FROM Event WHERE execution_id=2 AND type=3"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM Event WHERE execution_id=1 AND type=4"), 1);
	/* attributed to the creating stage only: upstream's rule */
	assert_int_equal(q(f, "SELECT count(*) FROM Attribution"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM EventPath WHERE step_key='data.csv:" MD5_B "'"), 1);
	assert_int_equal(e.nlink, 2);
	/* a hard link shares its source's inode, whatever either logs next */
	assert_int_equal(e.inode_id, src);
	assert_int_equal(model_entry_log(f->m, src, MD5_A, 1, 5, NULL), 0);
	assert_int_equal(model_entry_get(f->m, src, &e), 0);
	assert_int_equal(e.inode_id, src);
	assert_int_equal(e.nlink, 2);
}

static void test_versions_and_append_only(void **state)
{
	struct fixture *f = *state;
	int64_t id = logged_file(f, f->e1, SIDE_OUTPUTS, 0, "x", MD5_A);
	bool logged = true;
	struct entry e;

	assert_int_equal(model_entry_log(f->m, id, MD5_A, 1, 2, &logged), 0);
	assert_false(logged);	/* same bytes: no new version */
	assert_int_equal(model_entry_log(f->m, id, MD5_B, 1, 3, &logged), 0);
	assert_true(logged);
	assert_int_equal(q(f, "SELECT count(*) FROM Event WHERE execution_id=1"), 2);
	assert_int_equal(model_entry_get(f->m, id, &e), 0);
	assert_string_equal(e.md5, MD5_B);
	/* used by another execution: removing the name keeps the history */
	assert_int_equal(model_entry_link(f->m, id, f->e2, SIDE_INPUTS, 0, "x", &e), 0);
	assert_int_equal(model_entry_remove(f->m, id), 0);
	assert_int_equal(model_entry_get(f->m, id, &e), -ENOENT);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM Event"), 3);
	/* a scratch file: every version it had goes with it */
	id = logged_file(f, f->e1, SIDE_OUTPUTS, 0, "s", MD5_C);
	assert_int_equal(model_entry_log(f->m, id, MD5_D, 1, 4, &logged), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact"), 4);
	assert_int_equal(model_entry_remove(f->m, id), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM Event"), 3);
	/* after a push of the execution, a removal keeps the history */
	id = logged_file(f, f->e1, SIDE_OUTPUTS, 0, "p", MD5_C);
	assert_int_equal(syncstate_execution_done(f->m, "http://s", f->e1, INT64_MAX), 0);
	assert_int_equal(model_entry_remove(f->m, id), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact"), 3);
	/* an unlogged file can go */
	assert_int_equal(model_entry_create(f->m, f->e1, SIDE_OUTPUTS, 0, "tmp", 0644, 0, 0, &e), 0);
	assert_int_equal(model_entry_remove(f->m, e.id), 0);
	/* the earlier versions of x stay: the execution has logged something */
	assert_int_equal(model_execution_remove(f->m, f->e1), -ENOTEMPTY);
}

static void test_rename_into_place(void **state)
{
	struct fixture *f = *state;
	struct entry models;
	int64_t tmp = logged_file(f, f->e1, SIDE_OUTPUTS, 0, ".ckpt.tmp", MD5_A);
	int64_t shared;

	assert_int_equal(model_entry_mkdir(f->m, f->e1, SIDE_OUTPUTS, 0, "models", 0755, 0, 0, &models), 0);
	assert_int_equal(model_entry_rename(f->m, tmp, models.id, "ckpt.pt", false), 0);
	/* known by its final name and type only */
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact WHERE name LIKE '.ckpt.tmp%'"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact a JOIN Type t ON t.id=a.type_id"
			      " WHERE t.name='Model' AND a.name='models/ckpt.pt:" MD5_A ":1'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM Event"), 1);
	/* a shared artifact keeps its name: history is not rewritten */
	shared = logged_file(f, f->e1, SIDE_OUTPUTS, 0, "b1", MD5_B);
	{
		struct entry e;

		assert_int_equal(model_entry_link(f->m, shared, f->e2, SIDE_INPUTS, 0, "b1", &e), 0);
	}
	assert_int_equal(model_entry_rename(f->m, shared, 0, "b2", false), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact WHERE name='b1:" MD5_B "'"), 1);
	/* directories cannot move below themselves */
	assert_int_equal(model_entry_rename(f->m, models.id, models.id, "x", false), -EINVAL);
	tmp = logged_file(f, f->e1, SIDE_OUTPUTS, 0, "c", MD5_A);
	assert_int_equal(model_entry_rename(f->m, tmp, 0, "b2", true), -EEXIST);
	/* replacing a file keeps the replaced version in the lineage */
	assert_int_equal(model_entry_rename(f->m, tmp, 0, "b2", false), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact WHERE uri='" MD5_B "'"), 1);
}

/* Every row of every table as text, table by table: the store's contents. */
static char *dump(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *t, *s;
	char *out = NULL, sql[300];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int i;

	assert_non_null(f);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master"
					    " WHERE type = 'table' ORDER BY name",
					    -1, &t, NULL), SQLITE_OK);
	while (sqlite3_step(t) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(t, 0);

		fprintf(f, "[%s]\n", name);
		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY rowid", name);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
		while (sqlite3_step(s) == SQLITE_ROW) {
			for (i = 0; i < sqlite3_column_count(s); i++)
				fprintf(f, "%s|", sqlite3_column_type(s, i) == SQLITE_NULL
					? "NULL" : (const char *)sqlite3_column_text(s, i));
			fputc('\n', f);
		}
		sqlite3_finalize(s);
	}
	sqlite3_finalize(t);
	sqlite3_close(db);
	fclose(f);
	return out;
}

/*
 * model_reset() (for fuzzers) leaves exactly what a new store holds, ids
 * counted from 1 again, and forgets the ids it had cached: names and
 * artifact types found before the reset are not found after it.
 */
static void test_reset_is_a_fresh_store(void **state)
{
	struct fixture *f = *state;
	struct model *fresh = NULL;
	char fresh_path[160], *err = NULL, *a, *b;
	int64_t id, pipeline, stage, exec;

	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "a.txt", MD5_A);	/* Dataset cached */
	assert_int_equal(model_pipeline_find(f->m, "p", &id), 0);	/* name cached */
	assert_int_equal(model_reset(f->m), 0);
	snprintf(fresh_path, sizeof(fresh_path), "%s/fresh", f->dir);
	assert_int_equal(model_open(fresh_path, MODEL_CREATE, &fresh, &err), 0);
	model_close(fresh);
	a = dump(f->path);
	b = dump(fresh_path);
	assert_string_equal(a, b);
	free(a);
	free(b);
	assert_int_equal(model_pipeline_find(f->m, "p", &id), -ENOENT);
	assert_int_equal(model_stage_find(f->m, "p", "prep", &id), -ENOENT);
	/* other types in other order: a stale Dataset type id would dangle */
	assert_int_equal(model_pipeline_create(f->m, "q", &pipeline), 0);
	assert_int_equal(pipeline, 1);
	assert_int_equal(model_stage_create(f->m, pipeline, "q", "s", &stage), 0);
	assert_int_equal(model_execution_create(f->m, stage, "r", NULL, &exec), 0);
	logged_file(f, exec, SIDE_OUTPUTS, 0, "b.txt", MD5_B);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact a JOIN Type t ON t.id=a.type_id"
			      " WHERE t.name='Dataset' AND a.name='b.txt:" MD5_B "'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact"), 1);
}

/*
 * An Execution_uuid names one execution: a document whose executions of
 * two stages share one is refused (found by fuzz_document: it merged the
 * second into the first, whose export then named the wrong stage).
 */
static void test_import_refuses_an_uuid_of_two_stages(void **state)
{
	static const char doc[] =
		"{\"Pipeline\": [{\"name\": \"d\", \"stages\": ["
		"{\"name\": \"d/a\", \"executions\": [{\"name\": \"r\","
		" \"properties\": {\"Execution_uuid\": \"u-1\"}}]},"
		"{\"name\": \"d/b\", \"executions\": [{\"name\": \"r\","
		" \"properties\": {\"Execution_uuid\": \"u-1\"}}]}]}]}";
	static const char ok[] =
		"{\"Pipeline\": [{\"name\": \"d\", \"stages\": ["
		"{\"name\": \"d/a\", \"executions\": [{\"name\": \"r\","
		" \"properties\": {\"Execution_uuid\": \"u-1\"}}]},"
		"{\"name\": \"d/b\", \"executions\": [{\"name\": \"r\","
		" \"properties\": {\"Execution_uuid\": \"u-2\"}}]}]}]}";
	struct fixture *f = *state;
	struct import_stats st;
	char *err = NULL;

	assert_int_equal(document_import(f->m, doc, strlen(doc), NULL, &st, &err), -EINVAL);
	assert_non_null(err);
	assert_non_null(strstr(err, "would change execution 'r'"));
	assert_null(strchr(err, '\n'));
	free(err);
	err = NULL;
	assert_int_equal(q(f, "SELECT count(*) FROM Context WHERE name = 'd'"), 0);
	/* distinct uuids: two executions, imported twice as once */
	assert_int_equal(document_import(f->m, ok, strlen(ok), NULL, &st, &err), 0);
	assert_int_equal(document_import(f->m, ok, strlen(ok), NULL, &st, &err), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM Association a JOIN Context c"
			      " ON c.id = a.context_id WHERE c.name IN ('d/a', 'd/b')"), 2);
}

/*
 * An artifact that can become a file (an md5 uri) must have a name that can
 * be stored as a path, whatever the type of the event that brings it: an
 * export lists it under that name with its other events (found by
 * fuzz_document: a name with a DEL, brought by an event of type 0, was
 * kept, and the export was refused on import).
 */
static void test_import_refuses_unstorable_artifact_names(void **state)
{
	static const char doc[] =
		"{\"Pipeline\": [{\"name\": \"d\", \"stages\": ["
		"{\"name\": \"d/a\", \"executions\": [{\"name\": \"r\","
		" \"properties\": {\"Execution_uuid\": \"u-1\"}, \"events\": ["
		"{\"type\": 0, \"artifact\": {\"type\": \"Dataset\", \"uri\": \"" MD5_A "\","
		" \"name\": \"x.\\u007fcsv:" MD5_A "\"}},"
		"{\"type\": 4, \"artifact\": {\"type\": \"Dataset\", \"uri\": \"" MD5_A "\","
		" \"name\": \"x.csv:" MD5_A "\"}}]}]}]}]}";
	struct fixture *f = *state;
	struct import_stats st;
	char *err = NULL;

	assert_int_equal(document_import(f->m, doc, strlen(doc), NULL, &st, &err), -EINVAL);
	assert_non_null(err);
	assert_non_null(strstr(err, "control character"));
	free(err);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact"), 0);
}

/*
 * A store whose directory attributes were keyed by the mount's inode
 * numbers (cmffs_dirattr) is moved to keys of what the directory shows,
 * once; rows of other inode classes are dropped.
 */
static void test_dirattr_moves_off_inode_numbers(void **state)
{
	struct fixture *f = *state;
	struct dir_attr a = { .mode = 0700, .uid = 5, .gid = 6, .mtime_ns = 7 };
	struct dir_attr got;
	char *err = NULL, sql[512];
	sqlite3 *db;

	assert_int_equal(model_dirattr_set(f->m, DIRATTR_EXECUTION, f->e1, &a), 0);
	assert_int_equal(model_dirattr_get(f->m, DIRATTR_EXECUTION, f->e1, &got), 0);
	assert_int_equal(got.mode, 0700);
	assert_int_equal(model_dirattr_get(f->m, DIRATTR_EXECUTION, f->e2, &got),
			 -ENOENT);
	model_close(f->m);
	f->m = NULL;

	/* the older layout: 1 root, 2 pipelines/, 1<<56|context, 4<<56|exec */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "DELETE FROM cmffs_dir_attr;"
		 "CREATE TABLE cmffs_dirattr (ino INTEGER PRIMARY KEY,"
		 " mode INTEGER NOT NULL, uid INTEGER NOT NULL,"
		 " gid INTEGER NOT NULL, mtime_ns INTEGER NOT NULL) STRICT;"
		 "INSERT INTO cmffs_dirattr VALUES (1, 448, 1, 1, 11),"
		 " (2, 488, 2, 2, 22), (%lld, 456, 3, 3, 33),"
		 " (%lld, 493, 4, 4, 44), (%lld, 420, 9, 9, 99);",
		 (long long)((1ll << 56) | f->prep),
		 (long long)((4ll << 56) | f->e2),
		 (long long)((7ll << 56) | 3));
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(model_open(f->path, 0, &f->m, &err), 0);
	assert_int_equal(model_dirattr_get(f->m, DIRATTR_ROOT, 0, &got), 0);
	assert_int_equal(got.mode, 448);
	assert_int_equal(model_dirattr_get(f->m, DIRATTR_PIPELINES, 0, &got), 0);
	assert_int_equal(got.mtime_ns, 22);
	assert_int_equal(model_dirattr_get(f->m, DIRATTR_CONTEXT, f->prep, &got), 0);
	assert_int_equal(got.uid, 3);
	assert_int_equal(model_dirattr_get(f->m, DIRATTR_EXECUTION, f->e2, &got), 0);
	assert_int_equal(got.gid, 4);
	assert_int_equal(q(f, "SELECT count(*) FROM cmffs_dir_attr"), 4);
	assert_int_equal(q(f, "SELECT count(*) FROM sqlite_master"
			      " WHERE name = 'cmffs_dirattr'"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_contexts_and_execution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirattr_moves_off_inode_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_found_names_follow_removals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_types_by_path_and_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_forms_lineage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions_and_append_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_into_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_is_a_fresh_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_refuses_an_uuid_of_two_stages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_refuses_unstorable_artifact_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
