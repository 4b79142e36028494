/* SPDX-License-Identifier: MIT */
/*
 * The comparison tables (core/compare.h) and diffs (core/diff.h) on a
 * store built through core/model.h: the final row of step-metrics CSVs in
 * its awkward shapes (quoted fields, CRLF, no final newline, a header
 * only, a row longer than what is read, parquet bytes, bytes not in the
 * cache), cells that would break a TSV or a Markdown table, the newest
 * first order, and diffs of manifests that are not manifests.
 */
#include "compare.h"

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

#include "diff.h"
#include "hash.h"
#include "model.h"
#include "runs.h"

struct fixture {
	char dir[64];
	struct model *m;
	struct cas *cas;
	int64_t pipeline, stage;
	int64_t e1, e2;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128], *err = NULL;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/cmffs-test-compare-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(path, sizeof(path), "%s/mlmd", f->dir);
	if (model_open(path, MODEL_CREATE, &f->m, &err) < 0 ||
	    cas_open(f->dir, &f->cas) < 0 ||
	    model_pipeline_create(f->m, "p", &f->pipeline) < 0 ||
	    model_stage_create(f->m, f->pipeline, "p", "s", &f->stage) < 0 ||
	    model_execution_create(f->m, f->stage, "e1", NULL, &f->e1) < 0 ||
	    model_execution_create(f->m, f->stage, "e2", NULL, &f->e2) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	cas_close(f->cas);
	model_close(f->m);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd) == 0 ? 0 : -1;
}

/* Log @len bytes of @data as E/metrics/NAME.csv; in the cache if @local. */
static void put_csv(struct fixture *f, int64_t exec, const char *name,
		    const char *data, size_t len, bool local)
{
	struct cas_tmp tmp = { .fd = -1 };
	char md5[MD5_HEX_LEN + 1];
	struct entry e;

	assert_int_equal(hash_buf(data, len, md5), 0);
	if (local) {
		assert_int_equal(cas_tmp_create(f->cas, &tmp), 0);
		assert_int_equal(write(tmp.fd, data, len), (ssize_t)len);
		assert_int_equal(cas_commit(f->cas, &tmp, md5), 0);
		cas_tmp_discard(f->cas, &tmp);
	}
	if (model_entry_lookup(f->m, exec, SIDE_STEP_METRICS, 0, name, &e) < 0)
		assert_int_equal(model_entry_create(f->m, exec, SIDE_STEP_METRICS,
						    0, name, 0644, 0, 0, &e),
				 0);
	assert_int_equal(model_entry_log(f->m, e.id, md5, len, 1, NULL), 0);
}

/* The metrics of the one execution @id, steps read, as "k=v;..." text. */
static char *metrics_of(struct fixture *f, int64_t id)
{
	struct runs runs;
	char *out = NULL;
	size_t len = 0, i;
	FILE *s = open_memstream(&out, &len);

	assert_int_equal(runs_load(f->m, RUNS_EXECUTION, id, 0, &runs), 0);
	assert_int_equal(compare_add_steps(&runs, f->cas), 0);
	for (i = 0; i < runs.v->nmetrics; i++)
		fprintf(s, "%s=%s%s;", runs.v->metrics[i].key,
			runs.v->metrics[i].text,
			runs.v->metrics[i].is_num ? "#" : "");
	fclose(s);
	runs_release(&runs);
	return out;
}

static void check_metrics(struct fixture *f, int64_t id, const char *want)
{
	char *got = metrics_of(f, id);

	assert_string_equal(got, want);
	free(got);
}

#define PUT(f, e, name, lit, local) \
	put_csv(f, e, name, lit, sizeof(lit) - 1, local)

static void test_last_row_of_step_metrics(void **state)
{
	struct fixture *f = *state;
	char *got;

	PUT(f, f->e1, "a.csv", "step,loss\n1,0.5\n2,0.25\n", true);
	check_metrics(f, f->e1, "a.csv:loss=0.25#;a.csv:step=2#;");
	/* a new version counts; CRLF, no final newline, quoted fields */
	PUT(f, f->e1, "a.csv",
	    "step,loss,\"note, quoted\"\r\n1,0.5,x\r\n2,0.125,\"say \"\"hi\"\"\"",
	    true);
	check_metrics(f, f->e1, "a.csv:loss=0.125#;"
				"a.csv:note, quoted=say \"hi\";a.csv:step=2#;");
	/* a last row that begins exactly 64 KiB before the end */
	{
		size_t n = 100 << 10, row = 64 << 10, i;
		char *csv = malloc(n);

		assert_non_null(csv);
		memset(csv, '#', n);
		memcpy(csv, "v\n", 2);
		csv[n - row - 1] = '\n';
		for (i = n - row; i < n - 1; i++)
			csv[i] = '9';
		csv[n - 1] = '\n';
		put_csv(f, f->e2, "edge.csv", csv, n, true);
		free(csv);
		got = metrics_of(f, f->e2);
		/* 65,535 nines: read whole; too large to be a number */
		assert_int_equal(strlen(got), strlen("edge.csv:v=;") + row - 1);
		assert_int_equal(strspn(got + 11, "9"), row - 1);
		free(got);
	}
	/* blank lines at the end are no row */
	PUT(f, f->e1, "b.csv", "x\n7\n\n\n", true);
	check_metrics(f, f->e1, "a.csv:loss=0.125#;"
				"a.csv:note, quoted=say \"hi\";a.csv:step=2#;"
				"b.csv:x=7#;");
}

static void test_step_metrics_that_give_nothing(void **state)
{
	struct fixture *f = *state;
	char *big;
	size_t n = 200 << 10, i;

	PUT(f, f->e1, "header.csv", "step,loss\n", true);
	PUT(f, f->e1, "parquet.csv", "PAR1\0\0\1", true);
	PUT(f, f->e1, "ragged.csv", "a,b\n1,2,3\n", true);
	PUT(f, f->e1, "open.csv", "a,b\n1,\"2\n", true);
	PUT(f, f->e1, "remote.csv", "a\n1\n", false);
	/* a last row longer than the 64 KiB read from the end */
	big = malloc(n);
	assert_non_null(big);
	memcpy(big, "a\n1\n", 4);
	for (i = 4; i < n; i++)
		big[i] = 'x';
	put_csv(f, f->e1, "long.csv", big, n, true);
	free(big);
	check_metrics(f, f->e1, "");
}

static void test_numbers_and_text(void **state)
{
	struct fixture *f = *state;

	PUT(f, f->e2, "m.csv", "a,b,c,d,e\n1e-3, 2,nan,inf,0x10\n", true);
	/* whole finite decimal numbers only: " 2", nan, inf, hex are text */
	check_metrics(f, f->e2, "m.csv:a=1e-3#;m.csv:b= 2;m.csv:c=nan;"
				"m.csv:d=inf;m.csv:e=0x10;");
}

static char *table(struct fixture *f, enum compare_format fmt)
{
	char *text = NULL;
	size_t len;

	assert_int_equal(compare_text(f->m, f->cas, RUNS_STAGE, f->stage, fmt,
				      &text, &len),
			 0);
	assert_int_equal(strlen(text), len);
	return text;
}

/* The line of the table (0: the header) that begins with @start. */
static const char *line_of(const char *text, const char *start)
{
	const char *p = text;

	while (p && strncmp(p, start, strlen(start))) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return p;
}

static void test_cells_cannot_break_a_table(void **state)
{
	struct fixture *f = *state;
	struct value v = { .kind = VALUE_STRING,
			   .s = "a\tb\nc\r|d\\ <b>&" };
	char *tsv, *md;

	assert_int_equal(model_prop_set(f->m, OWNER_EXECUTION, f->e1, "k", &v),
			 0);
	tsv = table(f, COMPARE_TSV);
	md = table(f, COMPARE_MD);
	/* e2 was made last: first */
	assert_non_null(strstr(tsv, "\ne2\t"));
	assert_true(strstr(tsv, "\ne2\t") < strstr(tsv, "\ne1\t"));
	assert_non_null(strstr(line_of(tsv, "e1\t"),
			       "\ta\\tb\\nc\\r|d\\\\ <b>&\n"));
	assert_non_null(strstr(line_of(md, "| e1 |"),
			       " | a\\tb\\nc\\r\\|d\\\\ &lt;b&gt;&amp; |\n"));
	assert_non_null(strstr(tsv, "\tproperties/k\n"));
	/* e2 has no k: an empty last cell */
	assert_non_null(strstr(line_of(tsv, "e2\t"), "\t\n"));
	free(tsv);
	free(md);
}

static void test_diff_of_manifests_that_are_not(void **state)
{
	static const char good[] =
		"[{\"md5\": \"0cc175b9c0f1b6a831c399e269772661\", \"relpath\": \"a\"}]";
	static const char *const bad[] = {
		"", "{}", "[{\"md5\": \"x\", \"relpath\": \"a\"}]",
		"[{\"md5\": \"0cc175b9c0f1b6a831c399e269772661\", \"relpath\": \"../a\"}]",
	};
	char *text = NULL, *err = NULL;
	size_t len, i;
	bool same = false;

	(void)state;
	assert_int_equal(diff_manifests("A", good, strlen(good), "B", good,
					strlen(good), 0, &text, &len, &same,
					&err),
			 0);
	assert_true(same);
	assert_string_equal(text, "");
	free(text);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		text = NULL;
		assert_int_equal(diff_manifests("A", good, strlen(good), "B",
						bad[i], strlen(bad[i]), 0,
						&text, &len, &same, &err),
				 -EINVAL);
		assert_null(text);
		assert_non_null(err);
		assert_non_null(strstr(err, "B is not a DVC directory manifest"));
		free(err);
		err = NULL;
	}
}

static void test_find(void **state)
{
	struct fixture *f = *state;
	char oid[DIR_OID_LEN + 1];
	int64_t id;

	assert_int_equal(diff_find_execution(f->m, "p/s/e2", &id), 0);
	assert_int_equal(id, f->e2);
	assert_int_equal(diff_find_execution(f->m, "p/s/e2/", &id), 0);
	assert_int_equal(diff_find_execution(f->m, "p/s/e3", &id), -ENOENT);
	assert_int_equal(diff_find_execution(f->m, "p/s", &id), -EINVAL);
	assert_int_equal(diff_find_execution(f->m, "p//s/e2", &id), -EINVAL);
	assert_int_equal(diff_find_execution(f->m, "/p/s/e2", &id), -EINVAL);
	assert_int_equal(diff_find_dir(f->m, "p/s/e2/outputs/d", oid), -ENOENT);
	assert_int_equal(diff_find_dir(f->m, "p/s/e2/metrics/d", oid), -EINVAL);
	assert_int_equal(diff_find_dir(f->m, "p/s/e2/outputs", oid), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_last_row_of_step_metrics,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_metrics_that_give_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers_and_text, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cells_cannot_break_a_table,
						setup, teardown),
		cmocka_unit_test(test_diff_of_manifests_that_are_not),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
