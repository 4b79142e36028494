/* SPDX-License-Identifier: MIT */
/*
 * Typed property values (core/value.h): the kind a text gets and the value
 * it parses to, as a Python user of cmflib would expect from json.loads of
 * the same text; and value_trim().
 */
#include "value.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static void check_int(const char *text, int64_t want)
{
	struct value v;

	value_parse(text, &v);
	if (v.kind != VALUE_INT)
		fail_msg("'%s': kind %d, not an int", text, (int)v.kind);
	if (v.i != want)
		fail_msg("'%s': %lld, not %lld", text, (long long)v.i,
			 (long long)want);
}

static void check_double(const char *text, double want)
{
	struct value v;

	value_parse(text, &v);
	if (v.kind != VALUE_DOUBLE)
		fail_msg("'%s': kind %d, not a double", text, (int)v.kind);
	/* the nearest double to the decimal text: exactly what strtod and
	 * Python's float() give, so equality is the right test */
	if (v.d != want || signbit(v.d) != signbit(want))
		fail_msg("'%s': %.17g, not %.17g", text, v.d, want);
}

/* A string keeps the caller's text: the same pointer, not a copy. */
static void check_string(const char *text)
{
	struct value v;

	value_parse(text, &v);
	if (v.kind != VALUE_STRING)
		fail_msg("'%s': kind %d, not a string", text, (int)v.kind);
	assert_ptr_equal(v.s, text);
	assert_string_equal(v.s, text);
}

static void test_integers(void **state)
{
	(void)state;
	check_int("0", 0);
	check_int("42", 42);
	check_int("-7", -7);
	check_int("-0", 0);
	check_int("20170428", 20170428);
	check_int("007", 7);	/* decimal, never octal */
	check_int("9223372036854775807", INT64_MAX);
	check_int("-9223372036854775808", INT64_MIN);
}

static void test_doubles(void **state)
{
	(void)state;
	check_double("0.5", 0.5);
	check_double("0.2", 0.2);
	check_double("-2.5E-3", -0.0025);
	check_double("1e3", 1000.0);
	check_double(".5", 0.5);
	check_double("5.", 5.0);
	check_double("-0.0", -0.0);
	check_double("0.1234567890123456789", 0.1234567890123456789);
	check_double("1.7976931348623157e308", DBL_MAX);
	/* past int64: still a number, as json.loads reads it (a float there
	 * is what MLMD can hold) */
	check_double("9223372036854775808", 9223372036854775808.0);
	check_double("99999999999999999999", 1e20);
	check_double("-9223372036854775809", -9223372036854775809.0);
	/* a finite number too small for a normal double is what Python's
	 * float() makes of it: 0.0 or a subnormal, never a string */
	check_double("1e-400", 0.0);
	check_double("4e-320", 4e-320);
	check_double("-1e-400", -0.0);
}

static void test_strings(void **state)
{
	static const char *const strings[] = {
		"", "adam", "nan", "NaN", "-nan", "inf", "-inf", "Infinity",
		"1e400", "-1e400", "0x10", "0X1p3", "1e", "e5", "-", ".", "+",
		"+5", "+0.5", " 5", "\t5", "5 ", "5\n", "1,5", "1_000",
		"12abc", "1.2.3", "--1", "0.5f", "1e3.5", "true", "null",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		check_string(strings[i]);
}

/* Every field is written: nothing is left from an earlier parse. */
static void test_fields_are_reset(void **state)
{
	struct value v;

	(void)state;
	value_parse("0.5", &v);
	value_parse("3", &v);
	assert_int_equal(v.kind, VALUE_INT);
	assert_int_equal(v.i, 3);
	assert_true(v.d == 0.0);
	value_parse("x", &v);
	assert_int_equal(v.kind, VALUE_STRING);
	assert_int_equal(v.i, 0);
	assert_true(v.d == 0.0);
	value_parse("2.5", &v);
	assert_int_equal(v.kind, VALUE_DOUBLE);
	assert_int_equal(v.i, 0);
}

/* Trim the first @len bytes of @in (strlen when -1). */
static void check_trim(const char *in, size_t len, const char *want)
{
	char buf[64];
	size_t n = len;
	char *t;

	if (len == (size_t)-1)
		len = n = strlen(in);
	assert_true(len < sizeof(buf));
	memset(buf, 'Z', sizeof(buf));
	memcpy(buf, in, len);
	t = value_trim(buf, &n);
	assert_string_equal(t, want);
	assert_int_equal(n, strlen(want));
	/* in place: a pointer into the buffer, NUL-terminated there */
	assert_true(t >= buf && t + n < buf + sizeof(buf));
	assert_int_equal(t[n], '\0');
}

static void test_trim(void **state)
{
	(void)state;
	check_trim("  0.5\n", (size_t)-1, "0.5");
	check_trim("0.5", (size_t)-1, "0.5");
	check_trim("\r\n\v\f\t x \t\r\n", (size_t)-1, "x");
	check_trim("a b", (size_t)-1, "a b");	/* inner spaces stay */
	check_trim("   ", (size_t)-1, "");
	check_trim("", 0, "");
	/* only buf[0..len) is looked at: no NUL needed after it */
	check_trim("abc  def", 5, "abc");
	check_trim("  ab", 3, "a");
	/* what a property file holds once trimmed is typed as its text */
	{
		char buf[] = "  42 \n";
		size_t n = strlen(buf);
		struct value v;

		value_parse(value_trim(buf, &n), &v);
		assert_int_equal(v.kind, VALUE_INT);
		assert_int_equal(v.i, 42);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_fields_are_reset),
		cmocka_unit_test(test_trim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
