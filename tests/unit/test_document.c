/* SPDX-License-Identifier: MIT */
/*
 * Merging CMF documents (document_import): what a merge may add, what it
 * never changes, the names it refuses, and the shapes of JSON it reads;
 * what a server's document holds of one execution; a push's export.
 * The export of a store built through model.h against a golden file
 * (tests/unit/golden/), upstream's shape of it (doc/cmf-upstream.md §2),
 * and imports of the golden file and of an upstream document.
 */
#include "document.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testdb.h"

#define U1 "11111111-8b99-11ef-abea-ddaa7ef0aa99"
#define U2 "22222222-8b99-11ef-abea-ddaa7ef0aa99"
#define U3 "33333333-8b99-11ef-abea-ddaa7ef0aa99"
#define MD5_A "0cc175b9c0f1b6a831c399e269772661"

struct fixture {
	char dir[64];
	char path[128];
	struct model *m;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *err = NULL;

	if (!f)
		return -1;
	if (testdb_dir(f->dir, sizeof(f->dir), f->path, sizeof(f->path),
		       "document") < 0)
		return -1;
	if (model_open(f->path, MODEL_CREATE, &f->m, &err) < 0)
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

/* Import @text; the error (owned) in *ret_err if @ret_err. */
static int import(struct fixture *f, const char *text, char **ret_err)
{
	struct import_stats st;
	char *err = NULL;
	int r = document_import(f->m, text, strlen(text), NULL, &st, &err);

	if (r < 0) {
		assert_non_null(err);
		assert_null(strchr(err, '\n'));
	}
	if (ret_err)
		*ret_err = err;
	else
		free(err);
	return r;
}

/*
 * A document of pipeline @p with one execution @e of stage @p/s, with
 * Execution_uuid @uuid, custom properties @cp and events @events.
 */
static char *doc(const char *p, const char *e, const char *uuid,
		 const char *cp, const char *events)
{
	char *t = NULL;

	if (asprintf(&t,
		     "{\"Pipeline\": [{\"name\": \"%s\", \"custom_properties\": {},"
		     " \"stages\": [{\"name\": \"%s/s\", \"custom_properties\": {},"
		     " \"executions\": [{\"name\": \"%s\", \"type\": \"%s/s\","
		     " \"properties\": {\"Execution_uuid\": \"%s\","
		     " \"Context_Type\": \"%s/s\"}, \"custom_properties\": %s,"
		     " \"events\": [%s]}]}]}]}",
		     p, p, e, p, uuid, p, cp, events) < 0)
		fail();
	return t;
}

#define METRICS(uri, values)                                                  \
	"{\"type\": 4, \"artifact\": {\"type\": \"Metrics\", \"name\": \"m:" uri \
	":1\", \"uri\": \"" uri "\", \"properties\": {}, \"custom_properties\": " \
	values "}}"
#define DATASET(name, md5)                                                    \
	"{\"type\": 4, \"artifact\": {\"type\": \"Dataset\", \"name\": \"" name  \
	":" md5 "\", \"uri\": \"" md5 "\", \"properties\": {},"                   \
	" \"custom_properties\": {}}}"

static void test_another_pipeline_is_never_changed(void **state)
{
	struct fixture *f = *state;
	char *t = doc("base", "r1", U1, "{\"lr\": 0.1}", METRICS(U3, "{\"acc\": 0.9}"));
	char *err = NULL;
	int64_t events;

	assert_int_equal(import(f, t, NULL), 0);
	free(t);
	events = q(f, "SELECT count(*) FROM Event");
	/* its execution, by uuid */
	t = doc("intruder", "x", U1, "{\"lr\": 99}", DATASET("evil", MD5_A));
	assert_int_equal(import(f, t, &err), -EINVAL);
	assert_non_null(strstr(err, "base/s"));
	free(err);
	free(t);
	/* by one uuid of a list */
	t = doc("intruder", "x", U2 "," U1, "{}", "");
	assert_int_equal(import(f, t, &err), -EINVAL);
	free(err);
	free(t);
	assert_int_equal(q(f, "SELECT count(*) FROM Context"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM Event"), events);
	assert_int_equal(q(f, "SELECT count(*) FROM Execution"), 1);
	assert_int_equal(q(f, "SELECT double_value = 0.1 FROM ExecutionProperty"
			      " WHERE name = 'lr'"), 1);
	/* its metrics, linked from an execution of its own */
	t = doc("intruder", "x", U2, "{}", METRICS(U3, "{\"acc\": 0.0, \"new\": 1}"));
	assert_int_equal(import(f, t, NULL), 0);
	free(t);
	assert_int_equal(q(f, "SELECT double_value = 0.9 FROM ArtifactProperty"
			      " WHERE name = 'acc'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM ArtifactProperty WHERE name = 'new'"), 0);
}

static void test_same_pipeline_adds_and_keeps(void **state)
{
	struct fixture *f = *state;
	char *t = doc("base", "r1", U1, "{\"lr\": 0.1}", "");
	char *err = NULL;

	assert_int_equal(import(f, t, NULL), 0);
	free(t);
	t = doc("base", "r1", U1, "{\"lr\": 99, \"epochs\": 5}", DATASET("d.csv", MD5_A));
	assert_int_equal(import(f, t, NULL), 0);
	free(t);
	assert_int_equal(q(f, "SELECT double_value = 0.1 FROM ExecutionProperty"
			      " WHERE name = 'lr'"), 1);
	assert_int_equal(q(f, "SELECT int_value FROM ExecutionProperty"
			      " WHERE name = 'epochs'"), 5);
	assert_int_equal(q(f, "SELECT count(*) FROM Event"), 1);
	/* a named execution found by name, whatever its uuid */
	t = doc("base", "r1", U2, "{}", "");
	assert_int_equal(import(f, t, NULL), 0);
	free(t);
	assert_int_equal(q(f, "SELECT count(*) FROM Execution"), 1);
	/* another name with its uuid is another execution's claim */
	t = doc("base", "r2", U1, "{}", "");
	assert_int_equal(import(f, t, &err), -EINVAL);
	assert_non_null(strstr(err, "r1"));
	free(err);
	free(t);
	assert_int_equal(q(f, "SELECT count(*) FROM Execution"), 1);
}

static void test_names_are_those_the_mount_takes(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {
		"../x:1", "/etc/x:1", "a//b:1", "\\n:1", "a\\u001b[2J:1", "",
	};
	char events[512], *t, *err = NULL;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(events, sizeof(events),
			 "{\"type\": 4, \"artifact\": {\"type\": \"Metrics\","
			 " \"name\": \"%s\", \"uri\": \"" U3 "\"}}", names[i]);
		t = doc("p", "e", U1, "{}", events);
		assert_int_equal(import(f, t, &err), -EINVAL);
		assert_non_null(strstr(err, "artifact name"));
		free(err);
		free(t);
	}
	t = doc("p", "e", U1, "{\"a\\nb\": 1}", "");
	assert_int_equal(import(f, t, &err), -EINVAL);
	assert_non_null(strstr(err, "a\\nb"));	/* one line, escaped */
	free(err);
	free(t);
	t = doc("p", "e\\u0007", U1, "{}", "");
	assert_int_equal(import(f, t, NULL), -EINVAL);
	free(t);
	assert_int_equal(q(f, "SELECT count(*) FROM Execution"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact"), 0);
	/* upstream's forms */
	t = doc("p", "e", U1, "{\"val:loss\": 1}",
		METRICS(U3, "{}") ", " DATASET("data/x.csv", MD5_A)
		", {\"type\": 4, \"artifact\": {\"type\": \"Step_Metrics\", \"name\":"
		" \"cmf_artifacts/" U1 "/metrics/loss:" MD5_A ":1:" U2 "\", \"uri\": \""
		MD5_A "\"}}");
	assert_int_equal(import(f, t, NULL), 0);
	free(t);
	assert_int_equal(q(f, "SELECT count(*) FROM Artifact"), 3);
}

/* The document is walked, not built: the shapes of JSON it must read. */
static void test_documents_are_walked(void **state)
{
	static const char *const bad[] = {
		"{\"Pipeline\": [], \"x\": [1,]}", "{\"Pipeline\": []} x",
		"{\"Pipeline\": [], \"x\": \"\\q\"}", "{\"Pipeline\": [], \"x\": 01}",
		"{\"Pipeline\": [], \"x\": \"\xff\"}", "{\"Pipeline\": [], \"x\": tru}",
		"{\"Pipeline\": [", "", "[]", "{\"Pipeline\": {}}",
	};
	struct fixture *f = *state;
	char *err = NULL, deep[2000];
	size_t i;

	/* any key order; unknown members of any shape skipped */
	assert_int_equal(import(f,
		" {\"x\": [[], {}, \"\\u00e9\", -1.5e3, true, null], \"Pipeline\": [{\"stages\":"
		" [{\"executions\": [{\"events\": [{\"artifact\": {\"uri\": \"" U3 "\","
		" \"zz\": {\"a\": [1]}, \"name\": \"m:" U3 ":1\", \"type\": \"Metrics\"},"
		" \"type\": 4}], \"properties\": {\"Execution_uuid\": \"" U1 "\"},"
		" \"name\": \"e\"}], \"name\": \"p/s\"}], \"n\\u0061me\": \"p\"}]}\n", NULL), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM Event"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM Context WHERE name = 'p'"), 1);
	/* a member twice, even spelt with an escape */
	assert_int_equal(import(f, "{\"Pipeline\": [{\"name\": \"p\", \"n\\u0061me\": \"q\","
				   " \"stages\": []}]}", &err), -EINVAL);
	assert_non_null(strstr(err, "two 'name'"));
	free(err);
	/* malformed anywhere, even where nothing is read */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (import(f, bad[i], &err) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		free(err);
	}
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "{\"Pipeline\": [], \"x\": ", 22);
	deep[sizeof(deep) - 1] = '\0';
	assert_int_equal(import(f, deep, &err), -EINVAL);
	assert_non_null(strstr(err, "nested too deeply"));
	free(err);
	/* properties are flat */
	assert_int_equal(import(f, "{\"Pipeline\": [{\"name\": \"p\", \"custom_properties\":"
				   " {\"a\": [1]}, \"stages\": []}]}", &err), -EINVAL);
	free(err);
	assert_int_equal(q(f, "SELECT count(*) FROM Context"), 2);
}

static void test_size_limits(void **state)
{
	struct fixture *f = *state;
	struct import_stats st;
	char *big, *err = NULL;
	size_t n = (size_t)2 << 20, i;

	/* one node's properties over 1 MiB */
	big = malloc(n + 200);
	if (!big)
		abort();	/* noreturn: gcc -O2 with ASan then sees the size */
	i = (size_t)sprintf(big, "{\"Pipeline\": [{\"name\": \"p\", \"stages\": [],"
			    " \"custom_properties\": {\"a\": \"");
	memset(big + i, 'x', n);
	strcpy(big + i + n, "\"}}]}");
	assert_int_equal(import(f, big, &err), -EFBIG);
	assert_non_null(strstr(err, "larger than 1 MiB"));
	free(err);
	free(big);
	/* a document over the limit is not looked at */
	assert_int_equal(document_import(f->m, "{}", DOCUMENT_MAX_BYTES + 1, NULL,
					 &st, &err), -EFBIG);
	assert_non_null(strstr(err, "128 MiB"));
	free(err);
	assert_int_equal(q(f, "SELECT count(*) FROM Context"), 0);
}

/* document_execution_uris() collects into a comma list */
static int collect_uri(void *ud, const char *uri)
{
	char *list = ud;

	if (strlen(list) + strlen(uri) + 2 > 256)
		return -E2BIG;
	if (*list)
		strcat(list, ",");
	strcat(list, uri);
	return 0;
}

static int stop_at_first(void *ud, const char *uri)
{
	(void)ud;
	(void)uri;
	return 1;
}

/* What a server's answer holds of one execution: its events' uris. */
static void test_execution_uris(void **state)
{
	static const char *const bad[] = {
		"{\"Pipeline\": {}}", "{\"x\": 1}", "[]", "{\"Pipeline\": [1]}",
		"{\"Pipeline\": [{\"stages\": {}}]}",
		"{\"Pipeline\": [{\"stages\": [{\"executions\": [{\"properties\":"
		" {\"Execution_uuid\": \"" U1 "\"}, \"events\": {}}]}]}]}",
		"{\"Pipeline\": [{\"stages\": [{\"executions\": [{\"properties\":"
		" {\"Execution_uuid\": \"" U1 "\"}, \"events\": [{\"type\": 3}]}]}]}]}",
		"{\"Pipeline\": [{\"stages\": [{\"executions\": [{\"properties\":"
		" {\"Execution_uuid\": \"" U1 "\"}, \"events\": [{\"artifact\":"
		" {\"uri\": \"a\", \"uri\": \"b\"}}]}]}]}]}",
		"{\"Pipeline\": [{\"stages\": [{\"executions\": [{\"properties\":"
		" {\"Execution_uuid\": \"" U1 "\"}, \"events\": [{\"artifact\":"
		" {\"uri\": 7}}]}]}]}]}",
		"{\"Pipeline\": [", "no_exec_uuid",
	};
	const char *text =
		" {\"Pipeline\": [{\"name\": \"p\", \"stages\": [{\"executions\": ["
		"{\"events\": [{\"type\": 4, \"artifact\": {\"uri\": \"" U3 "\"}}],"
		" \"properties\": {\"Execution_uuid\": \"" U3 "\"}},"
		"{\"name\": \"e\", \"events\": [{\"type\": 3, \"artifact\":"
		" {\"type\": \"Dataset\", \"uri\": \"" MD5_A "\"}},"
		" {\"type\": 4, \"artifact\": {\"type\": \"Dataslice\", \"ur\\u0069\":"
		" \"b\\u0062\"}}, {\"type\": 4, \"artifact\": {\"name\": \"m\"}}],"
		" \"properties\": {\"Execution_uuid\": \"" U2 "," U1 "\"}},"
		"{\"properties\": {\"Execution_uuid\": 5}, \"events\": 7},"
		"{\"events\": []}]}]}, {\"stages\": []}]}\n";
	char got[256] = "";
	size_t i;

	(void)state;
	assert_int_equal(document_execution_uris(text, strlen(text), U1,
						 collect_uri, got), 0);
	assert_string_equal(got, MD5_A ",bb");
	got[0] = '\0';
	assert_int_equal(document_execution_uris(text, strlen(text), U3,
						 collect_uri, got), 0);
	assert_string_equal(got, U3);
	/* a uuid is a whole item of the list */
	got[0] = '\0';
	assert_int_equal(document_execution_uris(text, strlen(text), "22222222",
						 collect_uri, got), 0);
	assert_string_equal(got, "");
	assert_int_equal(document_execution_uris(text, strlen(text), U1,
						 stop_at_first, NULL), 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (document_execution_uris(bad[i], strlen(bad[i]), U1,
					    collect_uri, got) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(document_execution_uris("{}", DOCUMENT_MAX_BYTES + 1, U1,
						 collect_uri, got), -EFBIG);
	/* absent lists are empty, as a merge reads them */
	text = "{\"Pipeline\": [{\"stages\": [{\"name\": \"p/s\"}, {\"executions\":"
	       " [{\"properties\": {\"Execution_uuid\": \"" U1 "\"}}]}]}, {}]}";
	got[0] = '\0';
	assert_int_equal(document_execution_uris(text, strlen(text), U1,
						 collect_uri, got), 0);
	assert_string_equal(got, "");
}

/* A push leaves out the events it is told to; an export lists them all. */
static void test_export_leaves_out_events(void **state)
{
	struct fixture *f = *state;
	struct document_event omit;
	char *t, *all = NULL, *part = NULL;
	size_t len;
	int64_t ids[1];

	t = doc("p", "e", U1, "{}", DATASET("a.csv", MD5_A) ", "
		DATASET("b.csv", "92eb5ffee6ae2fec3ad71c777531578f"));
	assert_int_equal(import(f, t, NULL), 0);
	free(t);
	ids[0] = q(f, "SELECT id FROM Execution");
	omit.execution_id = ids[0];
	omit.artifact_id = q(f, "SELECT id FROM Artifact WHERE uri = '" MD5_A "'");
	assert_int_equal(document_export(f->m, "p", 0, &all, &len), 0);
	assert_int_equal(document_export_executions(f->m, "p", ids, 1, &omit, 1,
						    0, &part, &len), 0);
	assert_non_null(strstr(all, "a.csv:" MD5_A));
	assert_non_null(strstr(all, "b.csv:"));
	assert_null(strstr(part, "a.csv:"));
	assert_non_null(strstr(part, "b.csv:"));
	free(all);
	free(part);
	/* another execution's event on that artifact is not left out */
	omit.execution_id = ids[0] + 1;
	assert_int_equal(document_export_executions(f->m, "p", ids, 1, &omit, 1,
						    0, &part, &len), 0);
	assert_non_null(strstr(part, "a.csv:" MD5_A));
	free(part);
}

/* --- golden documents ----------------------------------------------------- */

#define G_REMOTE "/srv/cmf-remote"
#define G_REPO "https://example.org/team/golden.git"
#define G_START "44bf2ad09d89e24693c8e98b8da8fcecb248fb77"
#define G_END "9f2c6d0e41b4d1c6b1e2f3a4b5c6d7e8f9a0b1c2"
#define MD5_RAW "6a204bd89f3c8348afd5c77c717a097a"
#define MD5_CLEAN "0cc175b9c0f1b6a831c399e269772661"
#define MD5_LABELS "4a8a08f09d37b73795649038408b5f33"
#define MD5_MODEL "e1671797c52e15f763380b45e841ec32"
#define MD5_LOSS "8277e0910d750195b448797616e091ad"
#define MD5_SLICE "9dd4e461268c8034f5c8564e155c67a6"

static int64_t g_file(struct model *m, int64_t exec, int side, int64_t parent,
		      const char *name, const char *md5)
{
	struct entry e;

	assert_int_equal(model_entry_create(m, exec, side, parent, name, 0644,
					    0, 0, &e), 0);
	assert_int_equal(model_entry_log(m, e.id, md5, 1, 1, NULL), 0);
	return e.id;
}

static int64_t g_dir(struct model *m, int64_t exec, int side, int64_t parent,
		     const char *name)
{
	struct entry e;

	assert_int_equal(model_entry_mkdir(m, exec, side, parent, name, 0755, 0,
					   0, &e), 0);
	return e.id;
}

static void g_prop(struct model *m, enum model_owner owner, int64_t id,
		   const char *name, const char *text)
{
	struct value v;

	value_parse(text, &v);
	assert_int_equal(model_prop_set(m, owner, id, name, &v), 0);
}

static int64_t g_artifact(struct model *m, int64_t entry)
{
	struct entry e;

	assert_int_equal(model_entry_get(m, entry, &e), 0);
	return e.artifact_id;
}

/*
 * Pipeline "golden", built as a user of the mount would: stage prepare
 * (raw.csv with its label in, clean.csv out, typed properties), stage
 * train (clean.csv in, a model, execution metrics, step metrics and a
 * dataslice out, finalized).
 */
static void build_golden(struct model *m)
{
	const struct exec_origin prep_origin = {
		.cmdline = "['prepare.py', 'raw.csv']", .git_repo = G_REPO,
		.git_commit = G_START, .git_dirty = 0, .user = "alice",
		.host = "node1",
	};
	const struct exec_origin train_origin = {
		.cmdline = "['train.py', '--epochs', '5']", .git_repo = G_REPO,
		.git_commit = G_START, .git_dirty = -1,
	};
	const struct metric eval[] = {
		{ "accuracy", { .kind = VALUE_DOUBLE, .d = 0.93 } },
		{ "epochs", { .kind = VALUE_INT, .i = 5 } },
		{ "optimizer", { .kind = VALUE_STRING, .s = "adam" } },
	};
	int64_t pipeline, prepare, train, e1, e2, clean, slice, dir;
	struct entry link;

	assert_int_equal(model_set_remote(m, G_REMOTE), 0);
	assert_int_equal(model_pipeline_create(m, "golden", &pipeline), 0);
	g_prop(m, OWNER_CONTEXT, pipeline, "team", "vision");
	assert_int_equal(model_stage_create(m, pipeline, "golden", "prepare",
					    &prepare), 0);
	assert_int_equal(model_stage_create(m, pipeline, "golden", "train",
					    &train), 0);
	g_prop(m, OWNER_CONTEXT, train, "gpu", "1");
	assert_int_equal(model_execution_create(m, prepare, "run1",
						&prep_origin, &e1), 0);
	g_prop(m, OWNER_EXECUTION, e1, "split", "0.2");
	g_prop(m, OWNER_EXECUTION, e1, "seed", "20170428");
	g_file(m, e1, SIDE_INPUTS, 0, "raw.csv", MD5_RAW);
	dir = g_dir(m, e1, SIDE_INPUTS, 0, "labels");
	dir = g_dir(m, e1, SIDE_INPUTS, dir, "raw.csv");
	g_file(m, e1, SIDE_INPUTS, dir, "labels.csv", MD5_LABELS);
	clean = g_file(m, e1, SIDE_OUTPUTS, 0, "clean.csv", MD5_CLEAN);
	g_prop(m, OWNER_ARTIFACT, g_artifact(m, clean), "rows", "1000");
	g_prop(m, OWNER_ARTIFACT, g_artifact(m, clean), "source",
	       "survey \xc3\xa9t\xc3\xa9");
	assert_int_equal(model_execution_set_state(m, e1, EXEC_COMPLETE, G_END), 0);

	assert_int_equal(model_execution_create(m, train, "run1", &train_origin,
						&e2), 0);
	assert_int_equal(model_entry_link(m, clean, e2, SIDE_INPUTS, 0,
					  "clean.csv", &link), 0);
	dir = g_dir(m, e2, SIDE_OUTPUTS, 0, "models");
	g_file(m, e2, SIDE_OUTPUTS, dir, "model.pt", MD5_MODEL);
	assert_int_equal(model_metrics_log(m, e2, "eval", eval, 3), 0);
	g_file(m, e2, SIDE_STEP_METRICS, 0, "loss.csv", MD5_LOSS);
	slice = g_dir(m, e2, SIDE_DATASLICE, 0, "val");
	assert_int_equal(model_entry_link(m, clean, e2, SIDE_DATASLICE, slice,
					  "clean.csv", &link), 0);
	assert_int_equal(model_entry_prop_set(m, slice, "fraction", "0.1"), 0);
	assert_int_equal(model_dataslice_log(m, slice, MD5_SLICE, 40), 0);
	assert_int_equal(model_execution_set_state(m, e2, EXEC_COMPLETE, G_END), 0);
}

/* uuids seen, in order: the n-th becomes 00000000-0000-1000-8000-<n> */
struct uuid_map {
	char seen[32][37];
	size_t n;
};

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool uuid_at(const char *s)
{
	size_t i;

	for (i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (!s[i] || (dash ? s[i] != '-' : !is_hex(s[i])))
			return false;
	}
	return true;
}

/* @s with every uuid in it replaced by its stand-in (owned). */
static char *normal_text(const char *s, struct uuid_map *map)
{
	char *out = strdup(s), *p;
	size_t i;

	assert_non_null(out);
	for (p = out; strlen(p) >= 36; p++) {
		if (!uuid_at(p))
			continue;
		for (i = 0; i < map->n && strncmp(map->seen[i], p, 36); i++)
			;
		if (i == map->n) {
			assert_true(map->n < 32);
			memcpy(map->seen[map->n++], p, 36);
		}
		snprintf(map->seen[31], 37, "00000000-0000-1000-8000-%012zx", i + 1);
		if (i == 31)
			fail_msg("too many uuids");
		memcpy(p, map->seen[31], 36);
		p += 35;
	}
	return out;
}

/*
 * What varies from one run to the next, made constant: times (0) and
 * uuids (stand-ins numbered in order of appearance, so that two mentions
 * of one uuid stay one).  Ids and paths are the same in every run: the
 * store is new and the remote is G_REMOTE.
 */
static void normalize(json_t *v, struct uuid_map *map)
{
	void *it;
	size_t i;

	if (json_is_object(v)) {
		for (it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			const char *k = json_object_iter_key(it);
			json_t *x = json_object_iter_value(it);

			if (!strcmp(k, "create_time_since_epoch") ||
			    !strcmp(k, "last_update_time_since_epoch")) {
				/* milliseconds: now, or the 0 of a golden
				 * file that was imported */
				assert_true(json_is_integer(x));
				assert_true(json_integer_value(x) == 0 ||
					    llabs(json_integer_value(x) -
						  (json_int_t)time(NULL) * 1000) <
						    3600 * 1000);
				json_object_iter_set_new(v, it, json_integer(0));
			} else if (json_is_string(x)) {
				char *t = normal_text(json_string_value(x), map);

				json_object_iter_set_new(v, it, json_string(t));
				free(t);
			} else {
				normalize(x, map);
			}
		}
	} else if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			json_t *x = json_array_get(v, i);

			if (json_is_string(x)) {
				char *t = normal_text(json_string_value(x), map);

				json_array_set_new(v, i, json_string(t));
				free(t);
			} else {
				normalize(x, map);
			}
		}
	}
}

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (!v)
		fail_msg("not JSON: %s (line %d)", jerr.text, jerr.line);
	return v;
}

/* @doc as the golden files hold it (owned): indented, a final newline. */
static char *golden_text(json_t *doc)
{
	char *t = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII |
					  JSON_PRESERVE_ORDER), *out = NULL;

	assert_non_null(t);
	assert_true(asprintf(&out, "%s\n", t) > 0);
	free(t);
	return out;
}

/* The export of @pipeline, normalized, as golden text (owned). */
static char *normal_export(struct model *m, const char *pipeline)
{
	struct uuid_map map = { .n = 0 };
	char *text = NULL, *out;
	size_t len = 0;
	json_t *doc;

	assert_int_equal(document_export(m, pipeline, DOCUMENT_INDENT, &text,
					 &len), 0);
	assert_int_equal(len, strlen(text));
	doc = parse(text);
	free(text);
	normalize(doc, &map);
	out = golden_text(doc);
	json_decref(doc);
	return out;
}

static char *golden_path(const char *name)
{
	const char *dir = getenv("CMFFS_GOLDEN_DIR");
	char *path = NULL;

	if (!dir)
		fail_msg("CMFFS_GOLDEN_DIR is not set (meson test sets it)");
	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	return path;
}

static char *read_text(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		fail_msg("cannot read %s", path);
	text = calloc(1, 1 << 20);
	assert_non_null(text);
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(len > 0 && len < (1 << 20) - 1);
	return text;
}

/*
 * @text must be golden file @name, byte for byte.  With @source (the test
 * that makes the file), CMFFS_UPDATE_GOLDEN=1 writes it instead (review
 * the diff before committing it).  A mismatch leaves what was made in
 * /tmp/cmffs-golden-NAME for a diff.
 */
static void check_golden(const char *name, const char *text, bool source)
{
	char *path = golden_path(name), *want, actual[256];
	const char *update = getenv("CMFFS_UPDATE_GOLDEN");
	size_t line = 1, i;
	FILE *f;

	if (source && update && !strcmp(update, "1")) {
		f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fputs(text, f) < 0, 0);
		assert_int_equal(fclose(f), 0);
		print_message("wrote %s\n", path);
	}
	want = read_text(path);
	if (strcmp(want, text)) {
		for (i = 0; want[i] && want[i] == text[i]; i++)
			line += want[i] == '\n';
		snprintf(actual, sizeof(actual), "/tmp/cmffs-golden-%s", name);
		f = fopen(actual, "w");
		if (f) {
			fputs(text, f);
			fclose(f);
		}
		fail_msg("%s differs from the golden file at line %zu"
			 " (diff %s %s)", name, line, path, actual);
	}
	free(want);
	free(path);
}

/* The keys of object @o, sorted, comma-separated, into @buf. */
static const char *keys_of(json_t *o, char *buf, size_t size)
{
	const char *k[64];
	size_t n = 0, i, j, len = 0;
	void *it;

	assert_true(json_is_object(o));
	for (it = json_object_iter(o); it && n < 64; it = json_object_iter_next(o, it))
		k[n++] = json_object_iter_key(it);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(k[j - 1], k[j]) > 0; j--) {
			const char *t = k[j];

			k[j] = k[j - 1];
			k[j - 1] = t;
		}
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "",
					k[i]);
	return buf;
}

/* upstream's node attributes (CONTEXT_LIST), sorted */
#define NODE_KEYS(x, y) "create_time_since_epoch,custom_properties," x "id," \
			"last_update_time_since_epoch,name,properties," y \
			"type,type_id"

/* Property values keep their MLMD types: strings and numbers only. */
static void check_values(json_t *props)
{
	const char *k;
	json_t *v;

	assert_true(json_is_object(props));
	json_object_foreach(props, k, v)
		if (!json_is_string(v) && !json_is_number(v))
			fail_msg("property '%s' is neither string nor number", k);
}

static const char *str_of(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (!v)
		fail_msg("no string '%s'", key);
	return v;
}

static json_int_t int_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("no integer '%s'", key);
	return json_integer_value(v);
}

/* An artifact's properties by type (doc/cmf-upstream.md §1.5, §2.2). */
static const char *artifact_props(const char *type)
{
	static const char *const props[][2] = {
		{ "Dataset", "Commit,git_repo,url" },
		{ "Label", "Commit,git_repo,url" },
		{ "Environment", "Commit,git_repo,url" },
		{ "Dataslice", "Commit,git_repo,url" },
		{ "Model", "Commit,model_framework,model_name,model_type,url" },
		{ "Metrics", "metrics_name" },
		{ "Step_Metrics", "Commit,url" },
	};
	size_t i;

	for (i = 0; i < sizeof(props) / sizeof(props[0]); i++)
		if (!strcmp(type, props[i][0]))
			return props[i][1];
	fail_msg("artifact type '%s'", type);
	return "";
}

/* An event: {"type": 3 | 4, "artifact": {...}}. */
static void check_event_shape(json_t *ev)
{
	json_t *a = json_object_get(ev, "artifact");
	json_int_t type = int_of(ev, "type");
	char buf[512];

	assert_string_equal(keys_of(ev, buf, sizeof(buf)), "artifact,type");
	assert_true(type == 3 || type == 4);
	assert_string_equal(keys_of(a, buf, sizeof(buf)),
			    NODE_KEYS("", "") ",uri");
	assert_string_equal(keys_of(json_object_get(a, "properties"), buf,
				    sizeof(buf)),
			    artifact_props(str_of(a, "type")));
	check_values(json_object_get(a, "properties"));
	check_values(json_object_get(a, "custom_properties"));
}

/* An execution of stage @st of pipeline @p: the ten CMF properties. */
static size_t check_execution_shape(json_t *ex, json_t *st, json_t *p)
{
	json_t *xp = json_object_get(ex, "properties"), *ev;
	char buf[512];
	size_t i;

	assert_string_equal(keys_of(ex, buf, sizeof(buf)),
			    "create_time_since_epoch,custom_properties,events,"
			    "id,last_update_time_since_epoch,name,properties,"
			    "type,type_id");
	assert_string_equal(keys_of(xp, buf, sizeof(buf)),
			    "Context_ID,Context_Type,Execution,"
			    "Execution_type_name,Execution_uuid,Git_End_Commit,"
			    "Git_Repo,Git_Start_Commit,Pipeline_Type,Pipeline_id");
	assert_int_equal(int_of(xp, "Context_ID"), int_of(st, "id"));
	assert_int_equal(int_of(xp, "Pipeline_id"), int_of(p, "id"));
	assert_string_equal(str_of(xp, "Context_Type"), str_of(st, "name"));
	assert_string_equal(str_of(xp, "Execution_type_name"),
			    str_of(st, "name"));
	assert_string_equal(str_of(xp, "Pipeline_Type"), str_of(p, "name"));
	check_values(xp);
	check_values(json_object_get(ex, "custom_properties"));
	json_array_foreach(json_object_get(ex, "events"), i, ev)
		check_event_shape(ev);
	return json_array_size(json_object_get(ex, "events"));
}

/*
 * The shape doc/cmf-upstream.md §2.1 and §1.5 give the document: the keys
 * of every node, the properties of each kind of node, event types 3 or 4.
 */
static void check_upstream_shape(json_t *doc, const char *pipeline)
{
	char buf[512], prefix[300];
	json_t *p, *st, *ex;
	size_t i, j, events = 0;

	assert_int_equal(json_object_size(doc), 1);
	assert_int_equal(json_array_size(json_object_get(doc, "Pipeline")), 1);
	p = json_array_get(json_object_get(doc, "Pipeline"), 0);
	assert_string_equal(keys_of(p, buf, sizeof(buf)),
			    NODE_KEYS("", "stages,"));
	assert_string_equal(str_of(p, "type"), "Parent_Context");
	assert_string_equal(str_of(p, "name"), pipeline);
	assert_string_equal(keys_of(json_object_get(p, "properties"), buf,
				    sizeof(buf)), "Pipeline");
	assert_string_equal(str_of(json_object_get(p, "properties"),
				   "Pipeline"), pipeline);
	check_values(json_object_get(p, "custom_properties"));
	snprintf(prefix, sizeof(prefix), "%s/", pipeline);
	json_array_foreach(json_object_get(p, "stages"), i, st) {
		const char *name = str_of(st, "name");

		assert_string_equal(keys_of(st, buf, sizeof(buf)),
				    NODE_KEYS("executions,", ""));
		assert_string_equal(str_of(st, "type"), "Pipeline_Stage");
		assert_true(!strncmp(name, prefix, strlen(prefix)));
		assert_string_equal(str_of(json_object_get(st, "properties"),
					   "Pipeline_Stage"), name);
		check_values(json_object_get(st, "custom_properties"));
		json_array_foreach(json_object_get(st, "executions"), j, ex)
			events += check_execution_shape(ex, st, p);
	}
	assert_true(events > 0);
}

/* The export of a store built through model.h is the golden file. */
static void test_export_golden(void **state)
{
	struct fixture *f = *state;
	char *text = NULL, *again;
	size_t len = 0;
	json_t *doc;

	build_golden(f->m);
	again = normal_export(f->m, "golden");
	check_golden("golden-pipeline.json", again, true);
	/* the golden file has upstream's shape */
	doc = parse(again);
	check_upstream_shape(doc, "golden");
	json_decref(doc);
	free(again);
	/* not indented: the same document on one line, as upstream's
	 * json.dumps() separators and ensure_ascii write it */
	assert_int_equal(document_export(f->m, "golden", 0, &text, &len), 0);
	assert_null(strchr(text, '\n'));
	assert_true(!strncmp(text, "{\"Pipeline\": [{\"type\": \"Parent_Context\","
			     " ", 41));
	/* non-ASCII as \\u escapes (jansson's hex digits are upper case,
	 * Python's lower case: the same JSON) */
	assert_non_null(strcasestr(text, "\"source\": \"survey \\u00e9t\\u00e9\"}"));
	assert_non_null(strstr(text, "\"events\": [{\"type\": 3, \"artifact\": {"));
	free(text);
	assert_int_equal(document_export(f->m, "nope", 0, &text, &len), -ENOENT);
}

/*
 * Importing the golden file into a new store makes the same pipeline:
 * exported again, it is the golden file (ids, names and values alike).
 */
static void test_import_golden_round_trip(void **state)
{
	struct fixture *f = *state;
	char *path = golden_path("golden-pipeline.json");
	char *text = read_text(path), *err = NULL, *again;
	struct import_stats st;
	int64_t pid, sid, eid;
	char *v = NULL;

	assert_int_equal(document_import(f->m, text, strlen(text), NULL, &st,
					 &err), 0);
	assert_null(err);
	assert_int_equal(st.pipelines, 1);
	assert_int_equal(st.stages, 2);
	assert_int_equal(st.executions, 2);
	assert_int_equal(st.artifacts, 7);
	assert_int_equal(st.events, 8);
	/* through the model: the pipeline, its stages, executions and files */
	assert_int_equal(model_pipeline_find(f->m, "golden", &pid), 0);
	assert_int_equal(model_stage_find(f->m, "golden", "prepare", &sid), 0);
	assert_int_equal(model_execution_find(f->m, sid, "run1", &eid), 0);
	assert_int_equal(model_prop_get(f->m, OWNER_EXECUTION, eid, "split", &v), 0);
	assert_string_equal(v, "0.2");
	free(v);
	assert_int_equal(model_prop_get(f->m, OWNER_CONTEXT, pid, "team", &v), 0);
	assert_string_equal(v, "vision");
	free(v);
	{
		struct entry e;

		assert_int_equal(model_entry_lookup(f->m, eid, SIDE_OUTPUTS, 0,
						    "clean.csv", &e), 0);
		assert_string_equal(e.md5, MD5_CLEAN);
		assert_false(e.size_known);	/* fetched on first read */
		assert_int_equal(model_artifact_attr(f->m, e.artifact_id,
						     "prop.rows", &v), 0);
		assert_string_equal(v, "1000");
		free(v);
	}
	again = normal_export(f->m, "golden");
	check_golden("golden-pipeline.json", again, false);
	free(again);
	/* importing it again changes nothing */
	assert_int_equal(document_import(f->m, text, strlen(text), NULL, &st,
					 &err), 0);
	assert_int_equal(st.executions + st.artifacts + st.events, 0);
	again = normal_export(f->m, "golden");
	check_golden("golden-pipeline.json", again, false);
	free(again);
	free(text);
	free(path);
}

/* The id of the first name listed. */
static int collect_first(void *ud, const char *name, int64_t id)
{
	(void)name;
	*(int64_t *)ud = id;
	return 1;
}

/* The executions of @doc's first pipeline, each given to @cb until it
 * returns non-NULL; that is returned. */
static json_t *each_execution(json_t *doc,
			      json_t *(*cb)(json_t *st, json_t *ex,
					    const char *key),
			      const char *key)
{
	json_t *p = json_array_get(json_object_get(doc, "Pipeline"), 0);
	json_t *st, *ex, *found;
	size_t i, j;

	json_array_foreach(json_object_get(p, "stages"), i, st)
		json_array_foreach(json_object_get(st, "executions"), j, ex)
			if ((found = cb(st, ex, key)))
				return found;
	return NULL;
}

static json_t *artifact_named(json_t *st, json_t *ex, const char *name)
{
	json_t *ev, *a;
	size_t i;

	(void)st;
	json_array_foreach(json_object_get(ex, "events"), i, ev) {
		a = json_object_get(ev, "artifact");
		if (!strcmp(str_of(a, "name"), name))
			return a;
	}
	return NULL;
}

static json_t *execution_of(json_t *st, json_t *ex, const char *stage)
{
	return strcmp(str_of(st, "name"), stage) ? NULL : ex;
}

/* @name's artifact (of its first event) in @doc, or NULL. */
static json_t *find_artifact(json_t *doc, const char *name)
{
	return each_execution(doc, artifact_named, name);
}

/* The first execution of stage @stage in @doc, or NULL. */
static json_t *find_execution(json_t *doc, const char *stage)
{
	return each_execution(doc, execution_of, stage);
}

/*
 * A document as upstream's dumptojson writes it (doc/cmf-upstream.md §2.2,
 * with a second stage of §1.5's Model and Metrics) imports as what it
 * says: contexts, executions with their properties and custom properties,
 * artifacts with theirs, files in inputs/ and outputs/; exported again it
 * says the same of every artifact and execution.
 */
static void test_import_upstream_document(void **state)
{
	static const char *const names[] = {
		"cmf_artifacts/python_env_5d41402abc4b2a76b9719d911017c592.txt:"
		"7b8b965ad4bca0e41ab51de7b31363a1",
		"artifacts/data.xml.gz:236d9502e0283d91f689d7038b8508a2",
		"artifacts/labels.csv:1f3870be274f6c49b3e31a0c6728957f",
		"artifacts/parsed/train.tsv:32b715ef0d71ff4c9e61f55b09c15e75",
		"metrics:7bea36fc-8b99-11ef-abea-ddaa7ef0aa99:2",
	};
	struct fixture *f = *state;
	char *path = golden_path("upstream-test-env.json");
	char *text = read_text(path), *err = NULL, *out = NULL, *v = NULL;
	json_t *in = parse(text), *back, *x, *y;
	struct import_stats st;
	int64_t pid, prep, train, e1 = 0;
	struct entry e;
	size_t len = 0, i;

	/* the file is upstream's shape, as doc/cmf-upstream.md says */
	check_upstream_shape(in, "Test-env");
	assert_int_equal(document_import(f->m, text, strlen(text), NULL, &st,
					 &err), 0);
	assert_null(err);
	assert_int_equal(st.pipelines, 1);
	assert_int_equal(st.stages, 2);
	assert_int_equal(st.executions, 2);
	assert_int_equal(st.artifacts, 6);
	assert_int_equal(st.events, 7);
	assert_int_equal(model_pipeline_find(f->m, "Test-env", &pid), 0);
	assert_int_equal(model_stage_find(f->m, "Test-env", "Prepare", &prep), 0);
	assert_int_equal(model_stage_find(f->m, "Test-env", "Train", &train), 0);
	/* an unnamed execution, found by its uuid's property */
	assert_int_equal(model_execution_list(f->m, prep, collect_first, &e1), 0);
	assert_true(e1 > 0);
	assert_int_equal(model_prop_get(f->m, OWNER_EXECUTION, e1, "seed", &v), 0);
	assert_string_equal(v, "20170428");
	free(v);
	assert_int_equal(model_prop_get(f->m, OWNER_EXECUTION, e1, "split", &v), 0);
	assert_string_equal(v, "0.2");
	free(v);
	assert_int_equal(model_prop_get(f->m, OWNER_CONTEXT, prep,
					"user-metadata1", &v), 0);
	assert_string_equal(v, "metadata_value");
	free(v);
	/* files where the artifacts' names put them */
	{
		int64_t dir;

		assert_int_equal(model_entry_lookup(f->m, e1, SIDE_INPUTS, 0,
						    "artifacts", &e), 0);
		dir = e.id;
		assert_true(e.is_dir);
		assert_int_equal(model_entry_lookup(f->m, e1, SIDE_INPUTS, dir,
						    "data.xml.gz", &e), 0);
		assert_string_equal(e.md5, "236d9502e0283d91f689d7038b8508a2");
		assert_int_equal(model_artifact_attr(f->m, e.artifact_id,
						     "prop.labels_uri", &v), 0);
		assert_string_equal(v, "artifacts/labels.csv:"
				       "1f3870be274f6c49b3e31a0c6728957f");
		free(v);
		assert_int_equal(model_artifact_attr(f->m, e.artifact_id, "type",
						     &v), 0);
		assert_string_equal(v, "Dataset");
		free(v);
		assert_int_equal(model_entry_lookup(f->m, e1, SIDE_OUTPUTS, 0,
						    "artifacts", &e), 0);
		assert_int_equal(model_entry_lookup(f->m, e1, SIDE_OUTPUTS, e.id,
						    "parsed", &e), 0);
		assert_int_equal(model_entry_lookup(f->m, e1, SIDE_OUTPUTS, e.id,
						    "train.tsv", &e), 0);
		assert_string_equal(e.md5, "32b715ef0d71ff4c9e61f55b09c15e75");
	}
	/* exported again: every artifact as it came, every execution's
	 * properties (but the ids, which are this store's) and custom ones */
	assert_int_equal(document_export(f->m, "Test-env", 0, &out, &len), 0);
	back = parse(out);
	free(out);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		static const char *const same[] = {
			"type", "uri", "properties", "custom_properties",
			"create_time_since_epoch",
		};
		size_t k;

		x = find_artifact(in, names[i]);
		y = find_artifact(back, names[i]);
		if (!x || !y)
			fail_msg("artifact %s: not found", names[i]);
		for (k = 0; k < sizeof(same) / sizeof(same[0]); k++)
			if (!json_equal(json_object_get(x, same[k]),
					json_object_get(y, same[k])))
				fail_msg("artifact %s: '%s' differs", names[i],
					 same[k]);
	}
	/* a Model's name carries the execution id of the store that has it */
	assert_non_null(find_artifact(back, "artifacts/model/model.pkl:"
					    "4c48f23acd14d20ebba0352f4b5f55e8:2"));
	for (i = 0; i < 2; i++) {
		const char *stage = i ? "Test-env/Train" : "Test-env/Prepare";
		json_t *xp, *yp;

		x = find_execution(in, stage);
		y = find_execution(back, stage);
		assert_non_null(x);
		assert_non_null(y);
		assert_true(json_equal(json_object_get(x, "custom_properties"),
				       json_object_get(y, "custom_properties")));
		xp = json_deep_copy(json_object_get(x, "properties"));
		yp = json_deep_copy(json_object_get(y, "properties"));
		json_object_del(xp, "Context_ID");
		json_object_del(xp, "Pipeline_id");
		json_object_del(yp, "Context_ID");
		json_object_del(yp, "Pipeline_id");
		if (!json_equal(xp, yp))
			fail_msg("execution of %s: properties differ", stage);
		json_decref(xp);
		json_decref(yp);
		assert_int_equal(json_array_size(json_object_get(x, "events")),
				 json_array_size(json_object_get(y, "events")));
		/* an execution's type is its stage, as the server names it
		 * (doc/cmf-upstream.md §2.4) */
		assert_string_equal(json_string_value(json_object_get(y, "type")),
				    stage);
	}
	check_upstream_shape(back, "Test-env");
	json_decref(back);
	json_decref(in);
	free(text);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_another_pipeline_is_never_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_pipeline_adds_and_keeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_are_those_the_mount_takes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_documents_are_walked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limits, setup, teardown),
		cmocka_unit_test(test_execution_uris),
		cmocka_unit_test_setup_teardown(test_export_leaves_out_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_golden_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_upstream_document, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
