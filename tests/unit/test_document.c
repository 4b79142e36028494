/* SPDX-License-Identifier: MIT */
/*
 * Merging CMF documents (document_import): what a merge may add, what it
 * never changes, the names it refuses, and the shapes of JSON it reads;
 * what a server's document holds of one execution; a push's export.
 */
#include "document.h"

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
	snprintf(f->dir, sizeof(f->dir), "/tmp/cmffs-test-document-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/mlmd", f->dir);
	if (model_open(f->path, MODEL_CREATE, &f->m, &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	model_close(f->m);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd) == 0 ? 0 : -1;
}

static int64_t q(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t n = -1;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
