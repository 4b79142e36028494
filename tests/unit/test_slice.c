/* SPDX-License-Identifier: MIT */
/*
 * Dataslices through core/model.h (doc/cmf-upstream.md §6.3): members
 * linked or copied into E/dataslices/NAME/, their per-file properties, the
 * manifest (upstream's parquet table as CSV), and the commit as one
 * Dataslice artifact of upstream's shape; what is refused.
 */
#include "model.h"

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

#define MD5_A "0cc175b9c0f1b6a831c399e269772661"	/* "a" */
#define MD5_B "92eb5ffee6ae2fec3ad71c777531578f"	/* "b" */
#define MD5_C "4a8a08f09d37b73795649038408b5f33"	/* "c" */
#define MD5_M "d41d8cd98f00b204e9800998ecf8427e"	/* a manifest */
#define MD5_N "8277e0910d750195b448797616e091ad"	/* another */

struct fixture {
	char dir[64];
	char path[128];
	struct model *m;
	int64_t pipeline, prep, select, e1, e2;
	int64_t a, b;		/* e1's outputs data/a.csv, data/b.csv */
	struct entry slice;	/* e2's dataslices/s1 */
};

static int64_t logged_file(struct model *m, int64_t exec, int side,
			   int64_t parent, const char *name, const char *md5)
{
	struct entry e;

	if (model_entry_create(m, exec, side, parent, name, 0644, 0, 0, &e) < 0 ||
	    model_entry_log(m, e.id, md5, 1, 1, NULL) < 0)
		return -1;
	return e.id;
}

static int setup(void **state)
{
	const struct exec_origin origin = {
		.git_repo = "https://example.org/team/repo.git",
		.git_commit = "44bf2ad09d89e24693c8e98b8da8fcecb248fb77",
		.git_dirty = -1,
	};
	struct fixture *f = calloc(1, sizeof(*f));
	struct entry data;
	char *err = NULL;

	if (!f)
		return -1;
	if (testdb_dir(f->dir, sizeof(f->dir), f->path, sizeof(f->path),
		       "slice") < 0)
		return -1;
	if (model_open(f->path, MODEL_CREATE, &f->m, &err) < 0 ||
	    model_set_remote(f->m, "/srv/remote") < 0 ||
	    model_pipeline_create(f->m, "p", &f->pipeline) < 0 ||
	    model_stage_create(f->m, f->pipeline, "p", "prep", &f->prep) < 0 ||
	    model_stage_create(f->m, f->pipeline, "p", "select", &f->select) < 0 ||
	    model_execution_create(f->m, f->prep, "r1", NULL, &f->e1) < 0 ||
	    model_execution_create(f->m, f->select, "r1", &origin, &f->e2) < 0 ||
	    model_entry_mkdir(f->m, f->e1, SIDE_OUTPUTS, 0, "data", 0755, 0, 0,
			      &data) < 0 ||
	    (f->a = logged_file(f->m, f->e1, SIDE_OUTPUTS, data.id, "a.csv",
				MD5_A)) < 0 ||
	    (f->b = logged_file(f->m, f->e1, SIDE_OUTPUTS, data.id, "b.csv",
				MD5_B)) < 0 ||
	    model_entry_mkdir(f->m, f->e2, SIDE_DATASLICE, 0, "s1", 0755, 0, 0,
			      &f->slice) < 0)
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

/* The first column of the first row of @sql, as text (owned; NULL: none). */
static char *q(struct fixture *f, const char *sql)
{
	return testdb_text(f->path, sql);
}

static void check_q(struct fixture *f, const char *sql, const char *want)
{
	char *got = q(f, sql);

	if (!got || strcmp(got, want))
		fail_msg("%s: '%s', not '%s'", sql, got ? got : "(no row)",
			 want);
	free(got);
}

static void check_manifest(struct fixture *f, int64_t dir, const char *want)
{
	char *csv = NULL;
	size_t len = 0;

	assert_int_equal(model_dataslice_manifest(f->m, dir, &csv, &len), 0);
	assert_int_equal(len, strlen(csv));
	assert_string_equal(csv, want);
	free(csv);
}

/* A member linked from dataset file @src. */
static int64_t link_member(struct fixture *f, int64_t src, int64_t parent,
			   const char *name)
{
	struct entry e;

	assert_int_equal(model_entry_link(f->m, src, f->e2, SIDE_DATASLICE,
					  parent, name, &e), 0);
	return e.id;
}

static void test_member_properties(void **state)
{
	struct fixture *f = *state;
	int64_t id = link_member(f, f->a, f->slice.id, "a.csv");
	char *v = NULL, *keys = NULL;
	size_t len = 0;

	assert_int_equal(model_entry_prop_get(f->m, id, "label", &v), -ENOENT);
	assert_int_equal(model_entry_prop_set(f->m, id, "label", "cat"), 0);
	assert_int_equal(model_entry_prop_set(f->m, id, "confidence", "0.9"), 0);
	assert_int_equal(model_entry_prop_get(f->m, id, "label", &v), 0);
	assert_string_equal(v, "cat");
	free(v);
	/* set again: replaced */
	assert_int_equal(model_entry_prop_set(f->m, id, "label", "dog"), 0);
	assert_int_equal(model_entry_prop_get(f->m, id, "label", &v), 0);
	assert_string_equal(v, "dog");
	free(v);
	/* keys for listxattr, in name order, each NUL-terminated */
	assert_int_equal(model_entry_prop_keys(f->m, id, &keys, &len), 0);
	assert_int_equal(len, sizeof("prop.confidence") + sizeof("prop.label"));
	assert_memory_equal(keys, "prop.confidence\0prop.label\0", len);
	free(keys);
	assert_int_equal(model_entry_prop_delete(f->m, id, "label"), 0);
	assert_int_equal(model_entry_prop_delete(f->m, id, "label"), -ENOENT);
	assert_int_equal(model_entry_prop_get(f->m, id, "label", &v), -ENOENT);
	assert_int_equal(model_entry_prop_delete(f->m, id, "confidence"), 0);
	assert_int_equal(model_entry_prop_keys(f->m, id, &keys, &len), 0);
	assert_int_equal(len, 0);
	free(keys);
}

static void test_manifest(void **state)
{
	struct fixture *f = *state;
	struct entry sub, busy;
	char *csv = NULL;
	size_t len = 0;
	int64_t a, b, c;

	check_manifest(f, f->slice.id, "path,hash\n");
	b = link_member(f, f->b, f->slice.id, "b.csv");
	a = link_member(f, f->a, f->slice.id, "renamed.csv");
	/* a member copied in has no artifact: its path in the slice */
	assert_int_equal(model_entry_mkdir(f->m, f->e2, SIDE_DATASLICE,
					   f->slice.id, "extra", 0755, 0, 0,
					   &sub), 0);
	c = logged_file(f->m, f->e2, SIDE_DATASLICE, sub.id, "c.csv", MD5_C);
	assert_true(c > 0);
	/* members are no artifacts of their own, and log no event */
	check_q(f, "SELECT count(*) FROM Artifact", "2");
	check_q(f, "SELECT count(*) FROM Event", "2");
	check_manifest(f, f->slice.id,
		       "path,hash\n"
		       "data/a.csv," MD5_A "\n"
		       "data/b.csv," MD5_B "\n"
		       "extra/c.csv," MD5_C "\n");
	/* property columns: every key any member has, sorted; quoted as
	 * RFC 4180 wants when needed */
	assert_int_equal(model_entry_prop_set(f->m, b, "label", "dog"), 0);
	assert_int_equal(model_entry_prop_set(f->m, a, "label", "cat, big"), 0);
	assert_int_equal(model_entry_prop_set(f->m, a, "conf", "0.9"), 0);
	assert_int_equal(model_entry_prop_set(f->m, c, "note", "say \"hi\""), 0);
	check_manifest(f, f->slice.id,
		       "path,hash,conf,label,note\n"
		       "data/a.csv," MD5_A ",0.9,\"cat, big\",\n"
		       "data/b.csv," MD5_B ",,dog,\n"
		       "extra/c.csv," MD5_C ",,,\"say \"\"hi\"\"\"\n");
	/* a member being written: no manifest yet */
	assert_int_equal(model_entry_create(f->m, f->e2, SIDE_DATASLICE,
					    f->slice.id, "partial.csv", 0644,
					    0, 0, &busy), 0);
	assert_int_equal(model_dataslice_manifest(f->m, f->slice.id, &csv,
						  &len), -EBUSY);
	assert_null(csv);
	/* members may go before a commit */
	assert_int_equal(model_entry_remove(f->m, busy.id), 0);
	assert_int_equal(model_entry_remove(f->m, c), 0);
	check_manifest(f, f->slice.id,
		       "path,hash,conf,label\n"
		       "data/a.csv," MD5_A ",0.9,\"cat, big\"\n"
		       "data/b.csv," MD5_B ",,dog\n");
}

static void test_commit(void **state)
{
	struct fixture *f = *state;
	char sql[512], want[512], *uuid;
	struct entry e;

	link_member(f, f->a, f->slice.id, "a.csv");
	/* the slice directory's properties become custom properties, typed */
	assert_int_equal(model_entry_prop_set(f->m, f->slice.id, "split", "0.2"), 0);
	assert_int_equal(model_entry_prop_set(f->m, f->slice.id, "rows", "5"), 0);
	assert_int_equal(model_entry_prop_set(f->m, f->slice.id, "owner", "ann"), 0);
	assert_int_equal(model_dataslice_log(f->m, f->slice.id, MD5_M, 42), 0);
	uuid = q(f, "SELECT string_value FROM ExecutionProperty WHERE"
		    " execution_id = 2 AND name = 'Execution_uuid'");
	assert_non_null(uuid);
	snprintf(want, sizeof(want), "cmf_artifacts/%s/dataslice/s1:" MD5_M, uuid);
	free(uuid);
	check_q(f, "SELECT a.name FROM Artifact a JOIN Type t ON t.id = a.type_id"
		   " WHERE t.name = 'Dataslice'", want);
	check_q(f, "SELECT a.uri FROM Artifact a JOIN Type t ON t.id = a.type_id"
		   " WHERE t.name = 'Dataslice'", MD5_M);
#define SLICE_PROP(col, k)                                                 \
	"SELECT " col " FROM ArtifactProperty p JOIN Artifact a"            \
	" ON a.id = p.artifact_id JOIN Type t ON t.id = a.type_id"          \
	" WHERE t.name = 'Dataslice' AND p.name = '" k "'"
	check_q(f, SLICE_PROP("string_value", "Commit"), MD5_M);
	check_q(f, SLICE_PROP("string_value", "git_repo"),
		"https://example.org/team/repo.git");
	check_q(f, SLICE_PROP("string_value", "url"),
		"p:/srv/remote/files/md5/d4/1d8cd98f00b204e9800998ecf8427e");
	check_q(f, SLICE_PROP("is_custom_property || typeof(double_value) || double_value",
			      "split"), "1real0.2");
	check_q(f, SLICE_PROP("is_custom_property || typeof(int_value) || int_value",
			      "rows"), "1integer5");
	check_q(f, SLICE_PROP("is_custom_property || string_value", "owner"),
		"1ann");
	/* an OUTPUT event of the execution, attributed to its stage */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM Event ev JOIN Artifact a"
		 " ON a.id = ev.artifact_id WHERE a.uri = '" MD5_M "'"
		 " AND ev.type = 4 AND ev.execution_id = %lld", (long long)f->e2);
	check_q(f, sql, "1");
	snprintf(sql, sizeof(sql), "SELECT at.context_id FROM Attribution at"
		 " JOIN Artifact a ON a.id = at.artifact_id WHERE a.uri = '" MD5_M "'");
	snprintf(want, sizeof(want), "%lld", (long long)f->select);
	check_q(f, sql, want);
	/* the directory shows the commit */
	assert_int_equal(model_entry_get(f->m, f->slice.id, &e), 0);
	assert_string_equal(e.md5, MD5_M);
	assert_true(e.artifact_id > 0);
	assert_int_equal(e.size, 42);
	/* committed again unchanged: the same artifact, no second event */
	assert_int_equal(model_dataslice_log(f->m, f->slice.id, MD5_M, 42), 0);
	check_q(f, "SELECT count(*) FROM Artifact WHERE uri = '" MD5_M "'", "1");
	check_q(f, "SELECT count(*) FROM Event ev JOIN Artifact a ON"
		   " a.id = ev.artifact_id WHERE a.uri = '" MD5_M "'", "1");
	/* changed: a new artifact, the directory shows it */
	link_member(f, f->b, f->slice.id, "b.csv");
	assert_int_equal(model_dataslice_log(f->m, f->slice.id, MD5_N, 50), 0);
	check_q(f, "SELECT count(*) FROM Artifact a JOIN Type t ON t.id = a.type_id"
		   " WHERE t.name = 'Dataslice'", "2");
	assert_int_equal(model_entry_get(f->m, f->slice.id, &e), 0);
	assert_string_equal(e.md5, MD5_N);
}

static void test_commit_refused(void **state)
{
	struct fixture *f = *state;
	struct entry in_outputs;

	/* not an md5 */
	assert_int_equal(model_dataslice_log(f->m, f->slice.id, "xyz", 1), -EINVAL);
	assert_int_equal(model_dataslice_log(f->m, f->slice.id,
					     MD5_M "0", 1), -EINVAL);
	assert_int_equal(model_dataslice_log(f->m, f->slice.id,
					     "D41D8CD98F00B204E9800998ECF8427E", 1),
			 -EINVAL);
	/* no such directory: none at all, or a file */
	assert_int_equal(model_dataslice_log(f->m, 9999, MD5_M, 1), -ENOENT);
	assert_int_equal(model_dataslice_log(f->m, f->a, MD5_M, 1), -ENOENT);
	/* a directory of another side is no slice */
	assert_int_equal(model_entry_mkdir(f->m, f->e2, SIDE_OUTPUTS, 0, "d",
					   0755, 0, 0, &in_outputs), 0);
	assert_int_equal(model_dataslice_log(f->m, in_outputs.id, MD5_M, 1),
			 -EINVAL);
	/* none of them recorded anything */
	check_q(f, "SELECT count(*) FROM Artifact a JOIN Type t ON t.id = a.type_id"
		   " WHERE t.name = 'Dataslice'", "0");
	check_q(f, "SELECT count(*) FROM Event", "2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_member_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
