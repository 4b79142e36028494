/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for core/sb.c: appends, the size cap and its sticky error, and
 * sb_put_escaped(), which makes untrusted text one printable line.
 */
#include "sb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static void check_escape(const char *in, size_t max, const char *want)
{
	char *got = text_escape(in, max);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_append_and_detach(void **state)
{
	struct sb sb;
	size_t len = 0;
	char *s;

	(void)state;
	sb_init(&sb, 100);
	assert_string_equal(sb.buf, "");
	sb_puts(&sb, "ab");
	sb_putc(&sb, 'c');
	sb_appendf(&sb, "-%d-", 42);
	sb_append(&sb, "xyz", 2);
	assert_int_equal(sb_err(&sb), 0);
	s = sb_detach(&sb, &len);
	assert_string_equal(s, "abc-42-xy");
	assert_int_equal(len, 9);
	assert_string_equal(sb.buf, "");	/* re-initialized */
	free(s);
	sb_release(&sb);
}

static void test_cap_is_sticky(void **state)
{
	struct sb sb;

	(void)state;
	sb_init(&sb, 4);
	sb_puts(&sb, "abcd");
	assert_int_equal(sb_err(&sb), 0);
	sb_putc(&sb, 'e');
	assert_int_equal(sb_err(&sb), -E2BIG);
	sb_reset(&sb);
	sb_puts(&sb, "a");	/* the error stays, appends do nothing */
	assert_int_equal(sb_err(&sb), -E2BIG);
	assert_null(sb_detach(&sb, NULL));
	sb_release(&sb);
}

static void test_escape_controls(void **state)
{
	(void)state;
	check_escape("plain text", 100, "plain text");
	check_escape("a\nb\tc", 100, "a\\nb\\tc");
	check_escape("\x1b[31mred\x1b[0m", 100, "\\x1b[31mred\\x1b[0m");
	check_escape("del\x7f", 100, "del\\x7f");
	check_escape("cr\r", 100, "cr\\x0d");
	/* a forged journal line stays on the first one */
	check_escape("x\n2026-01-01T00:00:00Z forged", 100,
		     "x\\n2026-01-01T00:00:00Z forged");
	check_escape("back\\slash", 100, "back\\slash");
}

static void test_escape_utf8(void **state)
{
	(void)state;
	check_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 100,
		     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	check_escape("bad \xff\xfe", 100, "bad \\xff\\xfe");
	check_escape("trunc \xe2\x82", 100, "trunc \\xe2\\x82");
	check_escape("overlong \xc0\xaf", 100, "overlong \\xc0\\xaf");
	check_escape("surrogate \xed\xa0\x80", 100, "surrogate \\xed\\xa0\\x80");
	/* C1 control U+009B (CSI) is escaped like an invalid byte */
	check_escape("c1 \xc2\x9b", 100, "c1 \\xc2\\x9b");
}

static void test_escape_cap(void **state)
{
	(void)state;
	check_escape("abcdef", 3, "abc...");
	check_escape("abc", 3, "abc");
	/* never cut inside a character */
	check_escape("ab\xc3\xa9", 3, "ab...");
	check_escape("", 3, "");
}

static void check_xml(const char *in, size_t max, const char *want)
{
	struct sb sb;
	char *got;

	sb_init(&sb, 0);
	sb_put_xml(&sb, in, max);
	got = sb_detach(&sb, NULL);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_xml(void **state)
{
	(void)state;
	check_xml("a<b>&\"c'", SIZE_MAX, "a&lt;b&gt;&amp;&quot;c'");
	check_xml("abcdef", 3, "abc...");
	check_xml("abc", 3, "abc");
	/* never half a character: "\xc3\xa9" is one */
	check_xml("ab\xc3\xa9z", 3, "ab...");
	check_xml("ab\xc3\xa9z", 4, "ab\xc3\xa9...");
	check_xml("\xe2\x82\xac", 1, "...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml),
		cmocka_unit_test(test_append_and_detach),
		cmocka_unit_test(test_cap_is_sticky),
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_escape_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
