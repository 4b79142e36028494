/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for core/meter.c: the progress line of cmffs fetch, push and
 * pull (byte units, rate, time left, failures).
 */
#include "meter.h"

#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static void check_bytes(uint64_t n, const char *want)
{
	char buf[32];

	meter_bytes(n, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_bytes(void **state)
{
	(void)state;
	check_bytes(0, "0 B");
	check_bytes(1023, "1023 B");
	check_bytes(1024, "1.0 KiB");
	check_bytes(1536, "1.5 KiB");
	check_bytes((uint64_t)12 << 20, "12.0 MiB");
	check_bytes((uint64_t)3 << 30 | (uint64_t)400 << 20, "3.4 GiB");
	check_bytes(UINT64_MAX, "16.0 EiB");
}

static void test_line_with_bytes(void **state)
{
	struct meter m = {
		.verb = "fetch", .done = 12, .total = 40,
		.bytes_done = (uint64_t)100 << 20,
		.bytes_total = (uint64_t)400 << 20, .elapsed = 10,
	};
	char buf[160];

	(void)state;
	meter_format(&m, buf, sizeof(buf));
	/* 10 MiB/s, 300 MiB left: 30 s */
	assert_string_equal(buf, "fetch: 12/40 objects, 100.0 MiB of 400.0 MiB, 10.0 MiB/s, 0:30 left");
}

static void test_line_done_and_failed(void **state)
{
	struct meter m = {
		.verb = "push", .done = 5, .total = 5, .failed = 2,
		.bytes_done = 2048, .bytes_total = 2048, .elapsed = 2,
	};
	char buf[160];

	(void)state;
	meter_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, "push: 5/5 objects (2 failed), 2.0 KiB of 2.0 KiB, 1.0 KiB/s");
}

static void test_line_without_sizes(void **state)
{
	struct meter m = {
		.verb = "sizes", .done = 10, .total = 4010, .elapsed = 1,
	};
	char buf[160];

	(void)state;
	/* by objects: 0.1 s each, 4000 left */
	meter_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, "sizes: 10/4010 objects, 6:40 left");
	m.elapsed = 0.05;	/* too early for a rate */
	m.done = 0;
	meter_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, "sizes: 0/4010 objects");
	m.done = 1;
	m.elapsed = 36000;	/* hours */
	meter_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, "sizes: 1/4010 objects, 40090:00:00 left");
}

static void test_truncated(void **state)
{
	struct meter m = {
		.verb = "fetch", .done = 1, .total = 2,
		.bytes_done = 1, .bytes_total = 2, .elapsed = 1,
	};
	char buf[12];

	(void)state;
	meter_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, "fetch: 1/2 ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_line_with_bytes),
		cmocka_unit_test(test_line_done_and_failed),
		cmocka_unit_test(test_line_without_sizes),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
