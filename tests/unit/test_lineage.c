/* SPDX-License-Identifier: MIT */
/*
 * Lineage queries (core/lineage.h) on graphs built through core/model.h:
 * a chain, a diamond (each node once however many paths reach it), a
 * cycle (the walk ends), a long chain (no depth limit), and the pipeline
 * graph as Graphviz, SVG and Cypher, with names that need escaping.
 */
#include "lineage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testdb.h"

#include "hash.h"
#include "model.h"
#include "syncstate.h"

#define MD5_R "6a204bd89f3c8348afd5c77c717a097a"	/* raw */
#define MD5_A "0cc175b9c0f1b6a831c399e269772661"
#define MD5_B "92eb5ffee6ae2fec3ad71c777531578f"
#define MD5_C "4a8a08f09d37b73795649038408b5f33"
#define MD5_D "8277e0910d750195b448797616e091ad"
#define MD5_M "e1671797c52e15f763380b45e841ec32"
#define MD5_X "9dd4e461268c8034f5c8564e155c67a6"

/*
 * The diamond, pipeline p:
 *   raw.csv -> prep/r1 -> a.csv -> left/r1  -> c.csv -> join/r1 -> models/m.pt
 *                      -> b.csv -> right/r1 -> d.csv ->
 */
struct fixture {
	char dir[64];
	char path[128];
	struct model *m;
	int64_t pipeline;
	int64_t prep, left, right, join;	/* executions */
	int64_t raw, a, b, c, d, model;		/* their files' entries */
};

static int64_t stage_execution(struct model *m, int64_t pipeline,
			       const char *pname, const char *stage)
{
	int64_t sid, eid;

	if (model_stage_create(m, pipeline, pname, stage, &sid) < 0 ||
	    model_execution_create(m, sid, "r1", NULL, &eid) < 0)
		return -1;
	return eid;
}

static int64_t put(struct model *m, int64_t exec, int side, int64_t parent,
		   const char *name, const char *md5)
{
	struct entry e;

	if (model_entry_create(m, exec, side, parent, name, 0644, 0, 0, &e) < 0 ||
	    model_entry_log(m, e.id, md5, 1, 1, NULL) < 0)
		return -1;
	return e.id;
}

static int64_t take(struct model *m, int64_t src, int64_t exec,
		    const char *name)
{
	struct entry e;

	if (model_entry_link(m, src, exec, SIDE_INPUTS, 0, name, &e) < 0)
		return -1;
	return e.id;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct entry models;
	char *err = NULL;
	struct model *m;

	if (!f)
		return -1;
	if (testdb_dir(f->dir, sizeof(f->dir), f->path, sizeof(f->path),
		       "lineage") < 0)
		return -1;
	if (model_open(f->path, MODEL_CREATE, &f->m, &err) < 0 ||
	    model_pipeline_create(f->m, "p", &f->pipeline) < 0)
		return -1;
	m = f->m;
	f->prep = stage_execution(m, f->pipeline, "p", "prep");
	f->left = stage_execution(m, f->pipeline, "p", "left");
	f->right = stage_execution(m, f->pipeline, "p", "right");
	f->join = stage_execution(m, f->pipeline, "p", "join");
	if (f->prep < 0 || f->left < 0 || f->right < 0 || f->join < 0)
		return -1;
	f->raw = put(m, f->prep, SIDE_INPUTS, 0, "raw.csv", MD5_R);
	f->a = put(m, f->prep, SIDE_OUTPUTS, 0, "a.csv", MD5_A);
	f->b = put(m, f->prep, SIDE_OUTPUTS, 0, "b.csv", MD5_B);
	if (take(m, f->a, f->left, "a.csv") < 0 ||
	    take(m, f->b, f->right, "b.csv") < 0)
		return -1;
	f->c = put(m, f->left, SIDE_OUTPUTS, 0, "c.csv", MD5_C);
	f->d = put(m, f->right, SIDE_OUTPUTS, 0, "d.csv", MD5_D);
	if (take(m, f->c, f->join, "c.csv") < 0 ||
	    take(m, f->d, f->join, "d.csv") < 0 ||
	    model_entry_mkdir(m, f->join, SIDE_OUTPUTS, 0, "models", 0755, 0, 0,
			      &models) < 0)
		return -1;
	f->model = put(m, f->join, SIDE_OUTPUTS, models.id, "m.pt", MD5_M);
	if (f->raw < 0 || f->a < 0 || f->b < 0 || f->c < 0 || f->d < 0 ||
	    f->model < 0)
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

static int64_t artifact_of(struct fixture *f, int64_t entry)
{
	struct entry e;

	assert_int_equal(model_entry_get(f->m, entry, &e), 0);
	assert_true(e.artifact_id > 0);
	return e.artifact_id;
}

static void check_text(int r, char *text, size_t len, const char *want)
{
	assert_int_equal(r, 0);
	assert_int_equal(len, strlen(text));
	assert_string_equal(text, want);
	free(text);
}

static void check_execution(struct fixture *f, int64_t id, const char *want)
{
	char *text = NULL;
	size_t len = 0;
	int r = lineage_execution_text(f->m, id, &text, &len);

	check_text(r, text, len, want);
}

static void check_artifact(struct fixture *f, int64_t id, const char *want)
{
	char *text = NULL;
	size_t len = 0;
	int r = lineage_artifact_text(f->m, id, &text, &len);

	check_text(r, text, len, want);
}

#define RAW "raw.csv:" MD5_R " (Dataset)\n"
#define A "a.csv:" MD5_A " (Dataset)\n"
#define B "b.csv:" MD5_B " (Dataset)\n"
#define C "c.csv:" MD5_C " (Dataset)\n"
#define D "d.csv:" MD5_D " (Dataset)\n"
#define M "models/m.pt:" MD5_M ":4 (Model)\n"

/* Both ways of the diamond lead to the same nodes: each is listed once. */
static void test_diamond(void **state)
{
	struct fixture *f = *state;

	check_execution(f, f->join,
			"upstream execution p/left/r1\n"
			"upstream execution p/prep/r1\n"
			"upstream execution p/right/r1\n"
			"upstream artifact " A
			"upstream artifact " B
			"upstream artifact " C
			"upstream artifact " D
			"upstream artifact " RAW
			"downstream artifact " M);
	check_execution(f, f->prep,
			"upstream artifact " RAW
			"downstream execution p/join/r1\n"
			"downstream execution p/left/r1\n"
			"downstream execution p/right/r1\n"
			"downstream artifact " A
			"downstream artifact " B
			"downstream artifact " C
			"downstream artifact " D
			"downstream artifact " M);
	/* one side of the diamond only: not its sibling's branch */
	check_execution(f, f->left,
			"upstream execution p/prep/r1\n"
			"upstream artifact " A
			"upstream artifact " RAW
			"downstream execution p/join/r1\n"
			"downstream artifact " C
			"downstream artifact " M);
}

static void test_artifacts(void **state)
{
	struct fixture *f = *state;

	check_artifact(f, artifact_of(f, f->a),
		       "upstream execution p/prep/r1\n"
		       "upstream artifact " RAW
		       "downstream execution p/join/r1\n"
		       "downstream execution p/left/r1\n"
		       "downstream artifact " C
		       "downstream artifact " M);
	/* the ends of the graph */
	check_artifact(f, artifact_of(f, f->raw),
		       "downstream execution p/join/r1\n"
		       "downstream execution p/left/r1\n"
		       "downstream execution p/prep/r1\n"
		       "downstream execution p/right/r1\n"
		       "downstream artifact " A
		       "downstream artifact " B
		       "downstream artifact " C
		       "downstream artifact " D
		       "downstream artifact " M);
	check_artifact(f, artifact_of(f, f->model),
		       "upstream execution p/join/r1\n"
		       "upstream execution p/left/r1\n"
		       "upstream execution p/prep/r1\n"
		       "upstream execution p/right/r1\n"
		       "upstream artifact " A
		       "upstream artifact " B
		       "upstream artifact " C
		       "upstream artifact " D
		       "upstream artifact " RAW);
	/* nothing known, or nothing there: an empty text */
	check_artifact(f, 9999, "");
	check_execution(f, 9999, "");
}

/* A new version of an input is another artifact: the old one stays in the
 * lineage of what used it. */
static void test_versions(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(model_entry_log(f->m, f->c, MD5_X, 1, 2, NULL), 0);
	check_execution(f, f->left,
			"upstream execution p/prep/r1\n"
			"upstream artifact " A
			"upstream artifact " RAW
			"downstream execution p/join/r1\n"
			"downstream artifact " C
			"downstream artifact c.csv:" MD5_X " (Dataset)\n"
			"downstream artifact " M);
}

/* A cycle (an output fed back as an input upstream) ends the walk. */
static void test_cycle(void **state)
{
	struct fixture *f = *state;

	/* prep takes join's model: prep -> ... -> join -> m.pt -> prep */
	assert_true(take(f->m, f->model, f->prep, "m.pt") > 0);
	check_execution(f, f->prep,
			"upstream execution p/join/r1\n"
			"upstream execution p/left/r1\n"
			"upstream execution p/right/r1\n"
			"upstream artifact " A
			"upstream artifact " B
			"upstream artifact " C
			"upstream artifact " D
			"upstream artifact " M
			"upstream artifact " RAW
			"downstream execution p/join/r1\n"
			"downstream execution p/left/r1\n"
			"downstream execution p/right/r1\n"
			"downstream artifact " A
			"downstream artifact " B
			"downstream artifact " C
			"downstream artifact " D
			"downstream artifact " M);
	/* an execution that reads its own output */
	assert_true(take(f->m, f->c, f->left, "c-again.csv") > 0);
	check_execution(f, f->left,
			"upstream execution p/join/r1\n"
			"upstream execution p/prep/r1\n"
			"upstream execution p/right/r1\n"
			"upstream artifact " A
			"upstream artifact " B
			"upstream artifact " C
			"upstream artifact " D
			"upstream artifact " M
			"upstream artifact " RAW
			"downstream execution p/join/r1\n"
			"downstream execution p/prep/r1\n"
			"downstream execution p/right/r1\n"
			"downstream artifact " A
			"downstream artifact " B
			"downstream artifact " C
			"downstream artifact " D
			"downstream artifact " M);
}

/* No depth limit: a chain of 60 executions is followed to its start. */
static void test_long_chain(void **state)
{
	struct fixture *f = *state;
	int64_t q, prev = -1, exec, first = 0, entry;
	char stage[16], md5[33], *text = NULL;
	size_t len = 0;
	int i, lines = 0;

	assert_int_equal(model_pipeline_create(f->m, "chain", &q), 0);
	for (i = 0; i < 60; i++) {
		snprintf(stage, sizeof(stage), "s%02d", i);
		snprintf(md5, sizeof(md5), "%032x", i + 1);
		exec = stage_execution(f->m, q, "chain", stage);
		assert_true(exec > 0);
		if (!first)
			first = exec;
		if (prev > 0)
			assert_true(take(f->m, prev, exec, "in.csv") > 0);
		entry = put(f->m, exec, SIDE_OUTPUTS, 0, "out.csv", md5);
		assert_true(entry > 0);
		prev = entry;
	}
	assert_int_equal(lineage_execution_text(f->m, exec, &text, &len), 0);
	for (i = 0; i < (int)len; i++)
		lines += text[i] == '\n';
	assert_int_equal(lines, 59 + 59 + 1);	/* executions, inputs, output */
	assert_non_null(strstr(text, "upstream execution chain/s00/r1\n"));
	assert_non_null(strstr(text, "upstream artifact out.csv:"
				     "00000000000000000000000000000001 (Dataset)\n"));
	free(text);
	assert_int_equal(lineage_execution_text(f->m, first, &text, &len), 0);
	assert_non_null(strstr(text, "downstream execution chain/s59/r1\n"));
	assert_null(strstr(text, "upstream"));
	/* the chain is another pipeline's: none of p's nodes */
	assert_null(strstr(text, "p/"));
	free(text);
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;

	for (; (text = strstr(text, what)); text += strlen(what))
		n++;
	return n;
}

static char *find_line(char *text, const char *line)
{
	char *at = strstr(text, line);

	if (!at)
		fail_msg("no '%s' in:\n%s", line, text);
	return at;
}

static void test_dot(void **state)
{
	struct fixture *f = *state;
	int64_t other, exec, a = artifact_of(f, f->a), raw = artifact_of(f, f->raw);
	char line[256], *text = NULL;
	size_t len = 0;

	/* another pipeline's nodes stay out */
	assert_int_equal(model_pipeline_create(f->m, "q", &other), 0);
	exec = stage_execution(f->m, other, "q", "s");
	assert_true(take(f->m, f->model, exec, "m.pt") > 0);
	assert_int_equal(lineage_pipeline_dot(f->m, f->pipeline, &text, &len), 0);
	assert_int_equal(len, strlen(text));
	assert_true(!strncmp(text, "digraph lineage {\n", 18));
	assert_string_equal(text + len - 2, "}\n");
	snprintf(line, sizeof(line), "\te%lld [shape=box, style=filled,"
		 " fillcolor=\"#dbe9f6\", label=\"p/prep/r1\"];\n", (long long)f->prep);
	find_line(text, line);
	snprintf(line, sizeof(line), "\ta%lld [shape=ellipse, label=\"a.csv\\n"
		 "Dataset 0cc1\"];\n", (long long)a);
	find_line(text, line);
	/* INPUT: artifact -> execution; OUTPUT: execution -> artifact */
	snprintf(line, sizeof(line), "\ta%lld -> e%lld;\n", (long long)raw,
		 (long long)f->prep);
	find_line(text, line);
	snprintf(line, sizeof(line), "\te%lld -> a%lld;\n", (long long)f->prep,
		 (long long)a);
	find_line(text, line);
	snprintf(line, sizeof(line), "\ta%lld -> e%lld;\n", (long long)a,
		 (long long)f->left);
	find_line(text, line);
	/* one edge per event: 5 outputs, 5 inputs */
	assert_int_equal(count(text, " -> "), 10);
	assert_int_equal(count(text, "shape=box"), 4);
	assert_null(strstr(text, "q/s/r1"));
	free(text);
	/* a pipeline with nothing: an empty graph */
	assert_int_equal(lineage_pipeline_dot(f->m, 9999, &text, &len), 0);
	assert_string_equal(text, "digraph lineage {\n\trankdir=LR;\n"
				  "\tnode [fontname=\"Helvetica\", fontsize=10];\n}\n");
	free(text);
}

/*
 * A file name may hold '"' and '\' (names.h refuses neither): an artifact's
 * Graphviz label escapes both, as an execution's does (unescaped, Graphviz
 * showed q\"x\.csv as q"x.csv and a name "a\nb" on two lines).
 */
static void test_dot_escapes_names(void **state)
{
	struct fixture *f = *state;
	int64_t id = put(f->m, f->left, SIDE_OUTPUTS, 0, "q\\\"x\\.csv", MD5_X);
	char line[256], *text = NULL;
	size_t len = 0;

	assert_true(id > 0);
	assert_int_equal(lineage_pipeline_dot(f->m, f->pipeline, &text, &len), 0);
	snprintf(line, sizeof(line), "\ta%lld [shape=ellipse, label=\"q\\\\\\\"x\\\\.csv\\n"
		 "Dataset 9dd4\"];\n", (long long)artifact_of(f, id));
	find_line(text, line);
	free(text);
}

static void test_svg(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t len = 0;

	assert_true(put(f->m, f->right, SIDE_OUTPUTS, 0, "<b>&\".csv", MD5_X) > 0);
	assert_int_equal(lineage_pipeline_svg(f->m, f->pipeline, &text, &len), 0);
	assert_int_equal(len, strlen(text));
	/* a box per node, an arrow per event */
	assert_int_equal(count(text, "<title>execution</title>"), 4);
	assert_int_equal(count(text, "<title>artifact</title>"), 7);
	assert_int_equal(count(text, "marker-end="), 11);
	/* columns by depth: raw.csv 0 ... models/m.pt 6, so 7 columns of
	 * 300 and a box of 230 between margins of 20 */
	assert_non_null(strstr(text, "width=\"2070\""));
	/* every text is XML-escaped */
	assert_null(strstr(text, "<b>"));
	assert_non_null(strstr(text, ">&lt;b&gt;&amp;&quot;.csv</text>"));
	assert_string_equal(text + len - 7, "</svg>\n");
	free(text);
	/* a cycle is drawn too */
	assert_true(take(f->m, f->model, f->prep, "m.pt") > 0);
	assert_int_equal(lineage_pipeline_svg(f->m, f->pipeline, &text, &len), 0);
	assert_int_equal(count(text, "marker-end="), 12);
	free(text);
}

/*
 * A pipeline too large to draw is named, not drawn: bounded work and
 * size (the lineage.svg of a million artifacts was quadratic), while
 * lineage.dot still has every node.
 */
static void test_svg_of_a_large_pipeline(void **state)
{
	struct fixture *f = *state;
	char name[32], md5[MD5_HEX_LEN + 1];
	char *text = NULL;
	size_t len = 0;
	int i;

	for (i = 0; i < 5100; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(hash_buf(name, strlen(name), md5), 0);
		assert_true(put(f->m, f->join, SIDE_OUTPUTS, 0, name, md5) > 0);
	}
	assert_int_equal(lineage_pipeline_svg(f->m, f->pipeline, &text, &len), 0);
	assert_non_null(strstr(text, "too many to draw"));
	assert_true(len < 1000);
	assert_string_equal(text + len - 7, "</svg>\n");
	free(text);
	assert_int_equal(lineage_pipeline_dot(f->m, f->pipeline, &text, &len), 0);
	assert_non_null(strstr(text, "f5099"));
	free(text);
}

static void test_cypher(void **state)
{
	struct fixture *f = *state;
	char line[256], *uuid = NULL, *text = NULL;
	size_t len = 0;

	assert_true(put(f->m, f->right, SIDE_OUTPUTS, 0, "it's.csv", MD5_X) > 0);
	assert_int_equal(syncstate_execution_uuid(f->m, f->prep, &uuid), 0);
	assert_int_equal(lineage_pipeline_cypher(f->m, f->pipeline, &text, &len), 0);
	snprintf(line, sizeof(line), "MERGE (n:Execution {uuid: '%s'}) SET n.name"
		 " = 'p/prep/r1';\n", uuid);
	find_line(text, line);
	find_line(text, "MERGE (n:Artifact:Dataset {uri: '" MD5_A "'}) SET n.name"
			" = 'a.csv:" MD5_A "';\n");
	find_line(text, "MERGE (n:Artifact:Model {uri: '" MD5_M "'})");
	find_line(text, "MERGE (n:Artifact:Dataset {uri: '" MD5_X "'}) SET n.name"
			" = 'it\\'s.csv:" MD5_X "';\n");
	snprintf(line, sizeof(line), "MATCH (a:Artifact {uri: '" MD5_R "'}),"
		 " (e:Execution {uuid: '%s'}) MERGE (a)-[:INPUT]->(e);\n", uuid);
	find_line(text, line);
	snprintf(line, sizeof(line), "MATCH (a:Artifact {uri: '" MD5_A "'}),"
		 " (e:Execution {uuid: '%s'}) MERGE (e)-[:OUTPUT]->(a);\n", uuid);
	find_line(text, line);
	assert_int_equal(count(text, "[:INPUT]"), 5);
	assert_int_equal(count(text, "[:OUTPUT]"), 6);
	assert_int_equal(count(text, "MERGE (n:Execution"), 4);
	free(uuid);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_diamond, setup, teardown),
		cmocka_unit_test_setup_teardown(test_artifacts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dot_escapes_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_svg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_svg_of_a_large_pipeline,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cypher, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
