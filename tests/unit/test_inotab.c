/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for fs/inotab.c: inode numbers by key are distinct for
 * distinct keys (no hash collisions), stable for a key, and survive the
 * table's growth; keys are bytes (a NUL inside counts); each number gives
 * its key back (the node of a number the kernel sends).
 */
#include "inotab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void test_same_and_distinct(void **state)
{
	struct inotab *t = inotab_new();
	uint64_t a, b, c;

	(void)state;
	assert_non_null(t);
	a = inotab_get(t, "v\0Dataset", 9);
	b = inotab_get(t, "v\0Dataset/", 10);
	c = inotab_get(t, "v\0Datase", 8);
	assert_true(a && b && c);
	assert_true(a != b && b != c && a != c);
	assert_int_equal(inotab_get(t, "v\0Dataset", 9), a);
	/* the bytes after a NUL count */
	assert_true(inotab_get(t, "m\0x", 3) != inotab_get(t, "m\0y", 3));
	inotab_free(t);
	inotab_free(NULL);
}

/* 100,000 keys: all distinct numbers, the same ones asked again. */
static void test_many_keys(void **state)
{
	struct inotab *t = inotab_new();
	const unsigned n = 100000;
	uint64_t *got = calloc(n, sizeof(*got));
	char *seen = calloc(n + 1, 1);
	char key[32];
	unsigned i;

	(void)state;
	assert_non_null(t);
	assert_non_null(got);
	assert_non_null(seen);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "key-%u", i);
		got[i] = inotab_get(t, key, strlen(key));
		assert_true(got[i] >= 1 && got[i] <= n);
		assert_false(seen[got[i]]);
		seen[got[i]] = 1;
	}
	for (i = 0; i < n; i += 7) {
		char back[32];
		size_t len;

		snprintf(key, sizeof(key), "key-%u", i);
		assert_int_equal(inotab_get(t, key, strlen(key)), got[i]);
		len = inotab_key(t, got[i], back, sizeof(back));
		assert_int_equal(len, strlen(key));
		assert_memory_equal(back, key, len);
		/* a buffer too small gets nothing */
		assert_int_equal(inotab_key(t, got[i], back, len - 1), 0);
	}
	assert_int_equal(inotab_key(t, 0, key, sizeof(key)), 0);
	assert_int_equal(inotab_key(t, n + 1, key, sizeof(key)), 0);
	free(got);
	free(seen);
	inotab_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_and_distinct),
		cmocka_unit_test(test_many_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
