/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for fs/path.c and fs/nodeid.c: path to node resolution
 * against a real store, without a mount.  Every fixed name of the layout
 * table resolves to its kind, model names resolve below them, a fixed name
 * shadows nothing it should not, and what is not there is ENOENT (ENOTDIR
 * below a file).  Every kind of node comes back whole from its node id
 * (what the kernel sends in each call) and names its own path.
 */
#include "fs_i.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

struct fixture {
	char dir[64];
	struct fs fs;
	int64_t e1;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct entry e;
	int64_t p, s;
	char path[128], *err = NULL;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/cmffs-test-path-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(path, sizeof(path), "%s/mlmd", f->dir);
	pthread_mutex_init(&f->fs.ofiles_lock, NULL);
	f->fs.inos = inotab_new();
	if (!f->fs.inos)
		return -1;
	if (model_open(path, MODEL_CREATE, &f->fs.model, &err) < 0 ||
	    model_pipeline_create(f->fs.model, "p", &p) < 0 ||
	    model_stage_create(f->fs.model, p, "p", "prep", &s) < 0 ||
	    model_execution_create(f->fs.model, s, "r1", NULL, &f->e1) < 0 ||
	    model_entry_mkdir(f->fs.model, f->e1, SIDE_OUTPUTS, 0, "data",
			      0755, 0, 0, &e) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	model_close(f->fs.model);
	inotab_free(f->fs.inos);
	pthread_mutex_destroy(&f->fs.ofiles_lock);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd) == 0 ? 0 : -1;
}

static enum node_kind kind_of(struct fixture *f, const char *path, int *ret_r)
{
	struct node n;

	*ret_r = fs_resolve(&f->fs, path, &n);
	return n.kind;
}

static void check(struct fixture *f, const char *path, enum node_kind want)
{
	int r;
	enum node_kind got = kind_of(f, path, &r);

	if (r != 0)
		fail_msg("%s: %s", path, strerror(-r));
	if (got != want)
		fail_msg("%s: kind %d, want %d", path, got, want);
}

static void check_err(struct fixture *f, const char *path, int want)
{
	int r;

	(void)kind_of(f, path, &r);
	if (r != want)
		fail_msg("%s: %d, want %d", path, r, want);
}

static void test_fixed_layout(void **state)
{
	struct fixture *f = *state;

	check(f, "/", NODE_ROOT);
	check(f, "/pipelines", NODE_PIPELINES);
	check(f, "/.cmf/status", NODE_CMF_STATUS);
	check(f, "/.cmf/log", NODE_CMF_LOG);
	check(f, "/artifacts/by-hash", NODE_ART_BYHASH);
	check(f, "/artifacts/by-type", NODE_ART_BYTYPE);
	check(f, "/artifacts/by-name", NODE_ART_NAMES);
	check(f, "/pipelines/p", NODE_PIPELINE);
	check(f, "/pipelines/p/lineage.svg", NODE_PIPELINE_SVG);
	check(f, "/pipelines/p/lineage.dot", NODE_PIPELINE_DOT);
	check(f, "/pipelines/p/lineage.cypher", NODE_PIPELINE_CYPHER);
	check(f, "/pipelines/p/openlineage.jsonl", NODE_PIPELINE_OPENLINEAGE);
	check(f, "/pipelines/p/prep/metrics", NODE_STAGE_METRICS);
	check(f, "/pipelines/p/.properties", NODE_CTX_PROPS);
	check(f, "/pipelines/p/prep", NODE_STAGE);
	check(f, "/pipelines/p/prep/.properties", NODE_CTX_PROPS);
	check(f, "/pipelines/p/prep/r1", NODE_EXEC);
	check(f, "/pipelines/p/prep/r1/execution.json", NODE_EXEC_JSON);
	check(f, "/pipelines/p/prep/r1/state", NODE_EXEC_STATE);
	check(f, "/pipelines/p/prep/r1/lineage", NODE_EXEC_LINEAGE);
	check(f, "/pipelines/p/prep/r1/metrics", NODE_METRICS);
	check(f, "/pipelines/p/prep/r1/properties", NODE_EXEC_PROPS);
	check(f, "/index.html", NODE_ROOT_INDEX);
	check(f, "/pipelines/p/index.html", NODE_PIPELINE_INDEX);
	check(f, "/pipelines/p/compare.tsv", NODE_PIPELINE_COMPARE);
	check(f, "/pipelines/p/prep/compare.tsv", NODE_STAGE_COMPARE_TSV);
	check(f, "/pipelines/p/prep/compare.md", NODE_STAGE_COMPARE_MD);
	check(f, "/pipelines/p/prep/r1/index.html", NODE_EXEC_INDEX);
	check(f, "/pipelines/p/prep/r1/diff", NODE_EXEC_DIFF);
	check(f, "//pipelines///p/prep/r1/outputs/", NODE_SIDE);
	check(f, "/pipelines/p/prep/r1/outputs/data", NODE_ENTRY);
}

static void test_sides(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *name;
		int side;
	} sides[] = {
		{ "inputs", SIDE_INPUTS }, { "outputs", SIDE_OUTPUTS },
		{ "tensorboard", SIDE_TENSORBOARD },
		{ "dataslices", SIDE_DATASLICE },
	};
	char path[128];
	struct node n;
	size_t i;

	for (i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
		snprintf(path, sizeof(path), "/pipelines/p/prep/r1/%s",
			 sides[i].name);
		assert_int_equal(fs_resolve(&f->fs, path, &n), 0);
		assert_int_equal(n.kind, NODE_SIDE);
		assert_int_equal(n.side, sides[i].side);
		assert_true(n.entry.is_dir);
		assert_int_equal(n.exec_id, f->e1);
	}
}

/* E/diff/OTHER names another execution of the stage, never E itself. */
static void test_diff_names_the_others(void **state)
{
	struct fixture *f = *state;
	struct node n;
	int64_t s, e2;

	check_err(f, "/pipelines/p/prep/r1/diff/r1", -ENOENT);
	check_err(f, "/pipelines/p/prep/r1/diff/r2", -ENOENT);
	assert_int_equal(model_stage_find(f->fs.model, "p", "prep", &s), 0);
	assert_int_equal(model_execution_create(f->fs.model, s, "r2", NULL,
						&e2), 0);
	assert_int_equal(fs_resolve(&f->fs, "/pipelines/p/prep/r1/diff/r2", &n),
			 0);
	assert_int_equal(n.kind, NODE_EXEC_DIFF_FILE);
	assert_int_equal(n.exec_id, f->e1);
	assert_int_equal(n.other_exec_id, e2);
	assert_false(fs_kind_is_dir(NODE_EXEC_DIFF_FILE));
	assert_true(fs_kind_is_dir(NODE_EXEC_DIFF));
	check_err(f, "/pipelines/p/prep/r1/diff/r1", -ENOENT);
	assert_int_equal(model_execution_remove(f->fs.model, e2), 0);
}

static void test_missing(void **state)
{
	struct fixture *f = *state;

	check_err(f, "/nothing", -ENOENT);
	check_err(f, "/.cmf/other", -ENOENT);
	check_err(f, "/artifacts/by-size", -ENOENT);
	check_err(f, "/pipelines/q", -ENOENT);
	check_err(f, "/pipelines/p/train", -ENOENT);
	check_err(f, "/pipelines/p/prep/r2", -ENOENT);
	check_err(f, "/pipelines/p/prep/r1/other", -ENOENT);
	check_err(f, "/pipelines/p/prep/r1/outputs/none", -ENOENT);
	/* charts of step metrics nothing has */
	check_err(f, "/pipelines/p/prep/metrics/none.svg", -ENOENT);
	check_err(f, "/pipelines/p/prep/r1/metrics/none.svg", -ENOENT);
	check_err(f, "/.cmf/status/x", -ENOTDIR);
	check_err(f, "/pipelines/p/prep/r1/state/x", -ENOTDIR);
}

/* Every directory kind is a directory; nlink of fixed-only directories. */
static void test_kinds_and_nlink(void **state)
{
	(void)state;
	assert_true(fs_kind_is_dir(NODE_ROOT));
	assert_true(fs_kind_is_dir(NODE_EXEC));
	assert_true(fs_kind_is_dir(NODE_METRICS));
	assert_false(fs_kind_is_dir(NODE_EXEC_JSON));
	assert_false(fs_kind_is_dir(NODE_ART_FILE));
	assert_true(fs_kind_is_dir(NODE_STAGE_METRICS));
	assert_false(fs_kind_is_dir(NODE_STAGE_PLOT));
	assert_false(fs_kind_is_dir(NODE_STEP_PLOT));
	assert_false(fs_kind_is_dir(NODE_PIPELINE_OPENLINEAGE));
	assert_int_equal(fs_layout_nlink(NODE_ROOT), 5);
	/* inputs, outputs, properties, metrics, tensorboard, dataslices,
	 * diff */
	assert_int_equal(fs_layout_nlink(NODE_EXEC), 9);
	assert_int_equal(fs_layout_nlink(NODE_ARTIFACTS), 5);
	assert_int_equal(fs_layout_nlink(NODE_CMF_DIR), 2);
	assert_int_equal(fs_layout_nlink(NODE_PIPELINE), 0);
	assert_null(fs_layout_find(NODE_STAGE, "lineage.svg"));
	assert_non_null(fs_layout_find(NODE_PIPELINE, "lineage.svg"));
}

static int count_cb(void *ud, const struct layout_child *c)
{
	(void)c;
	(*(int *)ud)++;
	return 0;
}

static void test_each(void **state)
{
	int n = 0;

	(void)state;
	assert_int_equal(fs_layout_each(NODE_EXEC, count_cb, &n), 0);
	assert_int_equal(n, 11);
	n = 0;
	assert_int_equal(fs_layout_each(NODE_SIDE, count_cb, &n), 0);
	assert_int_equal(n, 0);
}

/*
 * Node ids: each node comes back from its id as its path resolved it,
 * with the same id, and names that path; ids of distinct nodes differ.
 */
static void test_node_ids(void **state)
{
	struct fixture *f = *state;
	static const char *const paths[] = {
		"/", "/pipelines", "/.cmf", "/.cmf/status", "/.cmf/log",
		"/artifacts", "/artifacts/by-hash", "/artifacts/by-type",
		"/artifacts/by-name", "/artifacts/by-type/Dataset",
		"/artifacts/by-hash/ab", "/index.html",
		"/pipelines/p", "/pipelines/p/.properties",
		"/pipelines/p/.properties/owner", "/pipelines/p/lineage.dot",
		"/pipelines/p/lineage.svg", "/pipelines/p/lineage.cypher",
		"/pipelines/p/openlineage.jsonl", "/pipelines/p/index.html",
		"/pipelines/p/compare.tsv",
		"/pipelines/p/prep", "/pipelines/p/prep/.properties",
		"/pipelines/p/prep/metrics", "/pipelines/p/prep/compare.tsv",
		"/pipelines/p/prep/compare.md",
		"/pipelines/p/prep/r1", "/pipelines/p/prep/r1/inputs",
		"/pipelines/p/prep/r1/outputs", "/pipelines/p/prep/r1/tensorboard",
		"/pipelines/p/prep/r1/dataslices",
		"/pipelines/p/prep/r1/properties",
		"/pipelines/p/prep/r1/properties/seed",
		"/pipelines/p/prep/r1/execution.json",
		"/pipelines/p/prep/r1/state", "/pipelines/p/prep/r1/lineage",
		"/pipelines/p/prep/r1/index.html", "/pipelines/p/prep/r1/diff",
		"/pipelines/p/prep/r1/diff/r2",
		"/pipelines/p/prep/r1/metrics",
		"/pipelines/p/prep/r1/metrics/acc.json",
		"/pipelines/p/prep/r1/metrics/loss.csv",
		"/pipelines/p/prep/r1/metrics/loss.svg",
		"/pipelines/p/prep/r1/outputs/data",
		"/pipelines/p/prep/r1/outputs/data/x.bin",
		"/pipelines/p/prep/r1/outputs/data/.commit",
	};
	const size_t n_paths = sizeof(paths) / sizeof(paths[0]);
	struct value owner = { .kind = VALUE_STRING, .s = "me" };
	struct value seed = { .kind = VALUE_INT, .i = 42 };
	uint64_t ids[sizeof(paths) / sizeof(paths[0])];
	char *err = NULL, back[PATH_MAX];
	struct entry data, file;
	int64_t p, s, e2;
	size_t i, j;

	assert_int_equal(model_pipeline_find(f->fs.model, "p", &p), 0);
	assert_int_equal(model_stage_find(f->fs.model, "p", "prep", &s), 0);
	assert_int_equal(model_execution_create(f->fs.model, s, "r2", NULL,
						&e2), 0);
	assert_int_equal(model_prop_set(f->fs.model, OWNER_CONTEXT, p, "owner",
					&owner), 0);
	assert_int_equal(model_prop_set(f->fs.model, OWNER_EXECUTION, f->e1,
					"seed", &seed), 0);
	assert_int_equal(model_metrics_log_json(f->fs.model, f->e1, "acc",
						"{\"acc\": 1}", 10, &err), 0);
	assert_int_equal(model_entry_create(f->fs.model, f->e1,
					    SIDE_STEP_METRICS, 0, "loss.csv",
					    0644, 0, 0, &file), 0);
	assert_int_equal(model_entry_lookup(f->fs.model, f->e1, SIDE_OUTPUTS,
					    0, "data", &data), 0);
	assert_int_equal(model_entry_create(f->fs.model, f->e1, SIDE_OUTPUTS,
					    data.id, "x.bin", 0644, 0, 0,
					    &file), 0);
	for (i = 0; i < n_paths; i++) {
		struct node n, m;
		int r;

		r = fs_resolve(&f->fs, paths[i], &n);
		if (r < 0)
			fail_msg("%s: %s", paths[i], strerror(-r));
		ids[i] = fs_node_id(&f->fs, &n);
		assert_true(ids[i] != 0);
		r = fs_node_of_ino(&f->fs, ids[i], &m);
		if (r < 0)
			fail_msg("%s: node id %llx: %s", paths[i],
				 (unsigned long long)ids[i], strerror(-r));
		if (m.kind != n.kind || m.exec_id != n.exec_id ||
		    m.stage_id != n.stage_id ||
		    m.pipeline_id != n.pipeline_id ||
		    m.entry.id != n.entry.id || strcmp(m.name, n.name))
			fail_msg("%s: came back as kind %d (%s), want %d (%s)",
				 paths[i], m.kind, m.name, n.kind, n.name);
		assert_int_equal(fs_node_id(&f->fs, &m), ids[i]);
		assert_int_equal(fs_node_path(&f->fs, &m, back, sizeof(back)),
				 0);
		if (strcmp(back, paths[i]))
			fail_msg("%s: named %s", paths[i], back);
		for (j = 0; j < i; j++)
			if (ids[j] == ids[i])
				fail_msg("%s and %s: the same node id", paths[j],
					 paths[i]);
	}
	{
		struct node n;

		/* gone: its id names nothing */
		assert_int_equal(fs_resolve(&f->fs,
					    "/pipelines/p/prep/r1/outputs/data/x.bin",
					    &n), 0);
		assert_int_equal(model_entry_remove(f->fs.model, file.id), 0);
		assert_int_equal(fs_node_of_ino(&f->fs, fs_node_id(&f->fs, &n),
						&n), -ENOENT);
		/* numbers nothing was given */
		assert_int_equal(fs_node_of_ino(&f->fs, 9, &n), -ESTALE);
		assert_int_equal(fs_node_of_ino(&f->fs, 0xff00000000000001ull,
						&n), -ESTALE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fixed_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_names_the_others, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_ids, setup, teardown),
		cmocka_unit_test(test_kinds_and_nlink),
		cmocka_unit_test(test_each),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
