/* SPDX-License-Identifier: MIT */
/*
 * Execution metrics through core/model.h (doc/cmf-upstream.md §6.1): the
 * values recorded are the values read back, typed as upstream's
 * value_to_mlmd_value() types what json.loads() gives; a Metrics artifact
 * of upstream's shape per log; what is refused, and that a refusal records
 * nothing.
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testdb.h"

struct fixture {
	char dir[64];
	char path[128];
	struct model *m;
	int64_t pipeline, stage, e1, e2;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *err = NULL;

	if (!f)
		return -1;
	if (testdb_dir(f->dir, sizeof(f->dir), f->path, sizeof(f->path),
		       "metrics") < 0)
		return -1;
	if (model_open(f->path, MODEL_CREATE, &f->m, &err) < 0 ||
	    model_pipeline_create(f->m, "p", &f->pipeline) < 0 ||
	    model_stage_create(f->m, f->pipeline, "p", "train", &f->stage) < 0 ||
	    model_execution_create(f->m, f->stage, "r1", NULL, &f->e1) < 0 ||
	    model_execution_create(f->m, f->stage, "r2", NULL, &f->e2) < 0)
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

/* The first column of the first row of @sql on the store, as text (owned;
 * "NULL" for NULL, NULL for no row). */
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

/* metrics/NAME.json of execution @id, parsed (owned). */
static json_t *read_metrics(struct fixture *f, int64_t id, const char *name)
{
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	json_t *v;

	assert_int_equal(model_metrics_json(f->m, id, name, &text, &len), 0);
	assert_int_equal(len, strlen(text));
	assert_int_equal(text[len - 1], '\n');
	v = json_loads(text, 0, &jerr);
	if (!v)
		fail_msg("not JSON (%s): %s", jerr.text, text);
	free(text);
	assert_true(json_is_object(v));
	return v;
}

/* There are no metrics @name of execution @id. */
static void check_none(struct fixture *f, int64_t id, const char *name)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(model_metrics_json(f->m, id, name, &text, &len),
			 -ENOENT);
	assert_null(text);
}

/* comma list of names */
static int collect_name(void *ud, const char *name, int64_t id)
{
	char *list = ud;

	(void)id;
	if (*list)
		strcat(list, ",");
	strcat(list, name);
	return 0;
}

static int stop_now(void *ud, const char *name, int64_t id)
{
	(void)name;
	(void)id;
	(*(int *)ud)++;
	return 1;
}

static void test_values_read_back(void **state)
{
	struct fixture *f = *state;
	const struct metric values[] = {
		{ "acc", { .kind = VALUE_DOUBLE, .d = 0.93 } },
		{ "epochs", { .kind = VALUE_INT, .i = 5 } },
		{ "big", { .kind = VALUE_INT, .i = INT64_MIN } },
		{ "optimizer", { .kind = VALUE_STRING, .s = "adam" } },
		{ "tiny", { .kind = VALUE_DOUBLE, .d = 4.9e-324 } },
	};
	char names[256] = "";
	json_t *v;

	assert_int_equal(model_metrics_log(f->m, f->e1, "eval", values, 5), 0);
	v = read_metrics(f, f->e1, "eval");
	assert_int_equal(json_object_size(v), 5);
	assert_true(json_is_real(json_object_get(v, "acc")));
	assert_true(json_real_value(json_object_get(v, "acc")) == 0.93);
	assert_true(json_is_integer(json_object_get(v, "epochs")));
	assert_int_equal(json_integer_value(json_object_get(v, "epochs")), 5);
	assert_true(json_integer_value(json_object_get(v, "big")) == INT64_MIN);
	assert_string_equal(json_string_value(json_object_get(v, "optimizer")),
			    "adam");
	assert_true(json_real_value(json_object_get(v, "tiny")) == 4.9e-324);
	json_decref(v);
	assert_int_equal(model_metrics_list(f->m, f->e1, collect_name, names), 0);
	assert_string_equal(names, "eval");
	/* another execution has none */
	names[0] = '\0';
	assert_int_equal(model_metrics_list(f->m, f->e2, collect_name, names), 0);
	assert_string_equal(names, "");
	check_none(f, f->e2, "eval");
	/* a prefix of a name is not that name */
	check_none(f, f->e1, "eva");
	check_none(f, f->e1, "eval:");
}

/* Upstream's shape: "NAME:UUID1:EXECUTION_ID", uri the uuid1, metrics_name
 * the full name, an OUTPUT event, an attribution to the stage. */
static void test_artifact_shape(void **state)
{
	struct fixture *f = *state;
	const struct metric one = { "loss", { .kind = VALUE_DOUBLE, .d = 0.25 } };
	char sql[256], want[64], *name, *uri;

	assert_int_equal(model_metrics_log(f->m, f->e2, "train", &one, 1), 0);
	check_q(f, "SELECT t.name FROM Artifact a JOIN Type t ON t.id = a.type_id",
		"Metrics");
	name = q(f, "SELECT name FROM Artifact");
	uri = q(f, "SELECT uri FROM Artifact");
	assert_non_null(name);
	assert_non_null(uri);
	assert_int_equal(strlen(uri), 36);
	assert_int_equal(uri[14], '1');	/* uuid1, time-based */
	snprintf(sql, sizeof(sql), "train:%s:%lld", uri, (long long)f->e2);
	assert_string_equal(name, sql);
	snprintf(sql, sizeof(sql), "SELECT string_value FROM ArtifactProperty"
		 " WHERE name = 'metrics_name' AND is_custom_property = 0");
	check_q(f, sql, name);
	check_q(f, "SELECT double_value FROM ArtifactProperty WHERE name = 'loss'"
		   " AND is_custom_property = 1", "0.25");
	snprintf(want, sizeof(want), "4/%lld", (long long)f->e2);	/* OUTPUT */
	check_q(f, "SELECT type || '/' || execution_id FROM Event", want);
	snprintf(want, sizeof(want), "%lld", (long long)f->stage);
	check_q(f, "SELECT context_id FROM Attribution", want);
	free(name);
	free(uri);
}

/* Each log is a new artifact; the latest is what is read; a name once. */
static void test_logged_again(void **state)
{
	struct fixture *f = *state;
	const struct metric a = { "acc", { .kind = VALUE_DOUBLE, .d = 0.5 } };
	const struct metric b[] = {
		{ "acc", { .kind = VALUE_DOUBLE, .d = 0.75 } },
		{ "n", { .kind = VALUE_INT, .i = 3 } },
	};
	const struct metric c = { "x", { .kind = VALUE_INT, .i = 1 } };
	char names[256] = "";
	int calls = 0;
	json_t *v;

	assert_int_equal(model_metrics_log(f->m, f->e1, "eval", &a, 1), 0);
	assert_int_equal(model_metrics_log(f->m, f->e1, "eval", b, 2), 0);
	assert_int_equal(model_metrics_log(f->m, f->e1, "aaa", &c, 1), 0);
	check_q(f, "SELECT count(*) FROM Artifact", "3");
	check_q(f, "SELECT count(DISTINCT uri) FROM Artifact", "3");
	v = read_metrics(f, f->e1, "eval");
	assert_int_equal(json_object_size(v), 2);
	assert_true(json_real_value(json_object_get(v, "acc")) == 0.75);
	assert_int_equal(json_integer_value(json_object_get(v, "n")), 3);
	json_decref(v);
	/* the first log's values are kept in its own artifact */
	check_q(f, "SELECT double_value FROM ArtifactProperty WHERE name = 'acc'"
		   " ORDER BY artifact_id LIMIT 1", "0.5");
	assert_int_equal(model_metrics_list(f->m, f->e1, collect_name, names), 0);
	assert_string_equal(names, "aaa,eval");	/* name order, each once */
	/* a non-zero return stops the walk */
	assert_int_equal(model_metrics_list(f->m, f->e1, stop_now, &calls), 0);
	assert_int_equal(calls, 1);
}

/* Typed as json.loads() then value_to_mlmd_value() would. */
static void test_json_typed_as_upstream(void **state)
{
	static const char text[] =
		"{\"acc\": 0.93, \"epochs\": 5, \"neg\": -12, \"flag\": true,"
		" \"off\": false, \"opt\": \"adam\", \"e\": 1e3,"
		" \"uni\": \"caf\\u00e9\", \"nested\": {\"a\": [1, 2.5, \"x\","
		" true, null]}, \"list\": [], \"max\": 9223372036854775807}";
	struct fixture *f = *state;
	char *err = NULL;
	json_t *v;

	assert_int_equal(model_metrics_log_json(f->m, f->e1, "eval", text,
						strlen(text), &err), 0);
	assert_null(err);
	v = read_metrics(f, f->e1, "eval");
	assert_int_equal(json_object_size(v), 11);
	assert_true(json_real_value(json_object_get(v, "acc")) == 0.93);
	assert_int_equal(json_integer_value(json_object_get(v, "epochs")), 5);
	assert_int_equal(json_integer_value(json_object_get(v, "neg")), -12);
	/* a bool is an int, as Python's int(True) */
	assert_true(json_is_integer(json_object_get(v, "flag")));
	assert_int_equal(json_integer_value(json_object_get(v, "flag")), 1);
	assert_int_equal(json_integer_value(json_object_get(v, "off")), 0);
	assert_string_equal(json_string_value(json_object_get(v, "opt")), "adam");
	/* 1e3 is a float in Python: a double, not an int */
	assert_true(json_is_real(json_object_get(v, "e")));
	assert_true(json_real_value(json_object_get(v, "e")) == 1000.0);
	assert_string_equal(json_string_value(json_object_get(v, "uni")),
			    "caf\xc3\xa9");
	/* objects and lists: the string Python's str() makes of them */
	assert_string_equal(json_string_value(json_object_get(v, "nested")),
			    "{'a': [1, 2.5, 'x', True, None]}");
	assert_string_equal(json_string_value(json_object_get(v, "list")), "[]");
	assert_true(json_integer_value(json_object_get(v, "max")) == INT64_MAX);
	json_decref(v);
	/* in the store: MLMD's int, double and string columns */
	check_q(f, "SELECT typeof(int_value) FROM ArtifactProperty WHERE name = 'flag'",
		"integer");
	check_q(f, "SELECT typeof(double_value) FROM ArtifactProperty WHERE name = 'e'",
		"real");
	check_q(f, "SELECT string_value FROM ArtifactProperty WHERE name = 'nested'",
		"{'a': [1, 2.5, 'x', True, None]}");
}

/* A key given twice: the last value wins, at the first key's place. */
static void test_json_repeated_key(void **state)
{
	static const char text[] = "{\"a\": 1, \"b\": 2, \"a\": \"last\"}";
	struct fixture *f = *state;
	char *err = NULL;
	json_t *v;

	assert_int_equal(model_metrics_log_json(f->m, f->e1, "m", text,
						strlen(text), &err), 0);
	v = read_metrics(f, f->e1, "m");
	assert_int_equal(json_object_size(v), 2);
	assert_string_equal(json_string_value(json_object_get(v, "a")), "last");
	json_decref(v);
	/* an empty object is a log with no values */
	assert_int_equal(model_metrics_log_json(f->m, f->e1, "empty", "{}", 2,
						&err), 0);
	v = read_metrics(f, f->e1, "empty");
	assert_int_equal(json_object_size(v), 0);
	json_decref(v);
}

static void test_json_refused(void **state)
{
	static const struct {
		const char *text;
		const char *why;	/* in the message */
	} bad[] = {
		{ "", "invalid JSON" },
		{ "{\"a\": 1", "invalid JSON" },
		{ "{\"a\": 1} x", "invalid JSON" },
		{ "{'a': 1}", "invalid JSON" },
		{ "{\"a\": NaN}", "invalid JSON" },
		{ "[1, 2]", "expected one JSON object" },
		{ "5", "invalid JSON" },	/* an object or a list at the top */
		{ "{\"a\": 99999999999999999999}", "invalid JSON" },
		{ "{\"a\": [1, {\"b\": -99999999999999999999}]}", "invalid JSON" },
		{ "{\"a\": null}", "'a' is null" },
		{ "{\"ok\": 1, \"s\": \"x\\u0000y\"}", "'s' holds a NUL" },
		{ "{\"k\\u0000\": 1}", "invalid JSON" },
	};
	struct fixture *f = *state;
	char names[256] = "", *err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (model_metrics_log_json(f->m, f->e1, "m", bad[i].text,
					   strlen(bad[i].text), &err) != -EINVAL)
			fail_msg("'%s' accepted", bad[i].text);
		if (!err || !strstr(err, bad[i].why))
			fail_msg("'%s': message '%s', not '%s'", bad[i].text,
				 err ? err : "(none)", bad[i].why);
		assert_null(strchr(err, '\n'));
		free(err);
	}
	/* nothing was recorded by any of them */
	assert_int_equal(model_metrics_list(f->m, f->e1, collect_name, names), 0);
	assert_string_equal(names, "");
	check_q(f, "SELECT count(*) FROM Artifact", "0");
	/* only @len bytes are read: what follows is not the text */
	err = NULL;
	assert_int_equal(model_metrics_log_json(f->m, f->e1, "m", "{\"a\": 1}xyz",
						8, &err), 0);
	assert_null(err);
}

/* An execution that is not there. */
static void test_no_execution(void **state)
{
	struct fixture *f = *state;
	const struct metric one = { "a", { .kind = VALUE_INT, .i = 1 } };
	char names[64] = "", *err = NULL;

	assert_int_equal(model_metrics_log(f->m, 999, "m", &one, 1), -ENOENT);
	assert_int_equal(model_metrics_log_json(f->m, 999, "m", "{\"a\": 1}", 8,
						&err), -ENOENT);
	free(err);
	check_q(f, "SELECT count(*) FROM Artifact", "0");
	assert_int_equal(model_metrics_list(f->m, 999, collect_name, names), 0);
	assert_string_equal(names, "");
	check_none(f, 999, "m");
}

/* A log is a change of the execution: its version grows. */
static void test_log_updates_execution(void **state)
{
	struct fixture *f = *state;
	const struct metric one = { "a", { .kind = VALUE_INT, .i = 1 } };
	struct node_times before, after;

	assert_int_equal(model_execution_times(f->m, f->e1, &before), 0);
	assert_int_equal(model_metrics_log(f->m, f->e1, "m", &one, 1), 0);
	assert_int_equal(model_execution_times(f->m, f->e1, &after), 0);
	assert_true(after.update_ms > before.update_ms);
	assert_int_equal(after.create_ms, before.create_ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_values_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_artifact_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logged_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_typed_as_upstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_repeated_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_execution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_updates_execution, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
