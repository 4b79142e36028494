/* SPDX-License-Identifier: MIT */
/*
 * Which names a document may bring: artifact names (the path before the
 * first ':' and what CMF appends after it), property keys and uris.
 */
#include "names.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static void upstream_artifact_names_pass(void **state)
{
	static const char *const ok[] = {
		"data/x.csv:236d9502e0283d91f689d7038b8508a2",
		"models/m.pkl:4c48f23acd14d20ebba0352f4b5f55e8:9",
		"metrics:7bea36fc-8b99-11ef-abea-ddaa7ef0aa99:13",
		"cmf_artifacts/7bea36fc-8b99-11ef-abea-ddaa7ef0aa99/metrics/loss:46fd:15:744a",
		"cmf_artifacts/python_env_5d41402abc4b2a76b9719d911017c592.txt:7b8b",
		"7bea36fc-8b99-11ef-abea-ddaa7ef0aa99",
		"dir.d:cdf3bd6fcaedc8948f7610566fc7785f.dir",
		"caf\xc3\xa9/r\xc3\xa9sum\xc3\xa9.txt:00",
		".hidden/x:00",
	};
	const char *why = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int r = name_check_artifact(ok[i], &why);

		if (r != 0)
			fail_msg("'%s' refused: %s", ok[i], why);
	}
}

static void hostile_artifact_names_are_refused(void **state)
{
	static const char *const bad[] = {
		"../x:00", "a/../x:00", "./x:00", "a/./x:00", "..:00", ".:00",
		"/etc/passwd:00", "a//b:00", "a/:00", ":00", "", "a\nb:00",
		"a:00\n", "a\x1b[31mb:00", "a:0\x7f", "x:00/../../y",
		"a\xff:00", "a:\xc3", "a\tb",
	};
	const char *why = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (name_check_artifact(bad[i], &why) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(why);
		assert_null(strchr(why, '\n'));
	}
}

static void long_names(void **state)
{
	char comp[300], name[5000];
	const char *why;
	size_t i;

	(void)state;
	memset(comp, 'a', 256);
	comp[256] = '\0';
	snprintf(name, sizeof(name), "d/%s:00", comp);
	assert_int_equal(name_check_artifact(name, &why), -EINVAL);
	assert_string_equal(why, "has a component longer than 255 bytes");
	comp[255] = '\0';
	snprintf(name, sizeof(name), "d/%s:00", comp);
	assert_int_equal(name_check_artifact(name, &why), 0);
	memset(name, 'a', 4097);
	name[1] = '/';
	name[4097] = '\0';
	for (i = 200; i < 4097; i += 200)
		name[i] = '/';
	assert_int_equal(name_check_artifact(name, &why), -EINVAL);
	assert_string_equal(why, "is longer than 4096 bytes");
}

static void paths(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(name_check_path("a/b/c.csv", 9, &why), 0);
	assert_int_equal(name_check_path("a/b/c.csv", 1, &why), 0);
	assert_int_equal(name_check_path("/a", 2, &why), -EINVAL);
	assert_string_equal(why, "is absolute");
	assert_int_equal(name_check_path("a/..", 4, &why), -EINVAL);
	assert_string_equal(why, "has a component '.' or '..'");
	assert_int_equal(name_check_path("a/b:c", 5, &why), -EINVAL);
	assert_int_equal(name_check_path("", 0, &why), -EINVAL);
}

static void keys_and_uris(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(name_check_key("val:loss", &why), 0);
	assert_int_equal(name_check_key("Execution_uuid", &why), 0);
	assert_int_equal(name_check_key("a\nb", &why), -EINVAL);
	assert_int_equal(name_check_key("a/b", &why), -EINVAL);
	assert_int_equal(name_check_key("..", &why), -EINVAL);
	assert_int_equal(name_check_key("", &why), -EINVAL);
	assert_int_equal(name_check_uri("236d9502e0283d91f689d7038b8508a2", &why), 0);
	assert_int_equal(name_check_uri("cdf3bd6fcaedc8948f7610566fc7785f.dir", &why), 0);
	assert_int_equal(name_check_uri("7bea36fc-8b99-11ef-abea-ddaa7ef0aa99", &why), 0);
	assert_int_equal(name_check_uri("..3bd6fcaedc8948f7610566fc7785f0", &why), -EINVAL);
	assert_int_equal(name_check_uri("../../etc/passwd", &why), -EINVAL);
	assert_int_equal(name_check_uri("a b", &why), -EINVAL);
	assert_int_equal(name_check_uri("a\n", &why), -EINVAL);
	assert_int_equal(name_check_uri("", &why), -EINVAL);
}

static void plain_names_unchanged(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(name_check("run1", &why), 0);
	assert_int_equal(name_check("a:b", &why), -EINVAL);
	assert_string_equal(why, "contains ':' (CMF splits artifact names at ':')");
	assert_int_equal(name_check("a/b", &why), -EINVAL);
	assert_string_equal(why, "contains '/'");
	assert_int_equal(name_check("..", &why), -EINVAL);
	assert_int_equal(name_check("", &why), -EINVAL);
	assert_string_equal(why, "is empty");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(upstream_artifact_names_pass),
		cmocka_unit_test(hostile_artifact_names_are_refused),
		cmocka_unit_test(long_names),
		cmocka_unit_test(paths),
		cmocka_unit_test(keys_and_uris),
		cmocka_unit_test(plain_names_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
