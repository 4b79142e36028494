/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for core/sb.c: appends, growth, the size cap and its sticky
 * error, failures (-E2BIG, -ENOMEM, -EINVAL), sb_put_escaped(), which makes
 * untrusted text one printable line, and sb_put_xml(), cut at a character
 * boundary.
 */
#include "sb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/*
 * The failure tests ask for more memory than there is: under ASan that
 * must be a NULL from the allocator, as from glibc, not a report.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

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

/* The invariants of sb.h after every append: NUL-terminated, in room. */
static void check_sb(const struct sb *sb, const char *want, size_t want_len)
{
	assert_int_equal(sb_err(sb), 0);
	assert_int_equal(sb->len, want_len);
	assert_true(sb->cap >= sb->len + 1);
	assert_int_equal(sb->buf[sb->len], '\0');
	assert_memory_equal(sb->buf, want, want_len);
}

static void test_growth(void **state)
{
	struct sb sb;
	char *want = malloc(100001), *s;
	size_t i, len = 0, grew = 0, cap = 0;

	(void)state;
	assert_non_null(want);
	sb_init(&sb, 0);
	assert_int_equal(sb.max, SB_MAX_DEFAULT);	/* 0: the default cap */
	assert_int_equal(sb.cap, 0);
	/* byte by byte across many doublings: nothing lost or moved wrong */
	for (i = 0; i < 100000; i++) {
		want[i] = (char)('a' + i % 26);
		sb_putc(&sb, want[i]);
		if (sb.cap != cap) {
			grew++;
			cap = sb.cap;
		}
		if (i % 4999 == 0)
			check_sb(&sb, want, i + 1);
	}
	check_sb(&sb, want, 100000);
	/* doubling: a few reallocations, not one per append */
	assert_in_range(grew, 2, 20);
	/* one append much larger than the buffer */
	sb_reset(&sb);
	sb_append(&sb, want, 10);
	memset(want + 10, 'q', 90000);
	sb_append(&sb, want + 10, 90000);
	check_sb(&sb, want, 90010);
	/* a formatted append longer than the first buffer */
	sb_release(&sb);
	sb_appendf(&sb, "%s|%0200d|%s", "x", 7, "y");
	assert_int_equal(sb.len, 204);
	assert_int_equal(sb.buf[0], 'x');
	assert_int_equal(sb.buf[201], '7');
	assert_string_equal(sb.buf + 202, "|y");
	/* zero bytes: nothing changes, no error */
	sb_append(&sb, NULL, 0);
	sb_puts(&sb, "");
	assert_int_equal(sb.len, 204);
	assert_int_equal(sb_err(&sb), 0);
	s = sb_detach(&sb, &len);
	assert_int_equal(len, 204);
	assert_int_equal(strlen(s), 204);
	free(s);
	free(want);
	sb_release(&sb);
}

/* reset keeps the allocation; detach of an empty builder is a real "" */
static void test_reset_and_empty_detach(void **state)
{
	struct sb sb;
	char *buf, *s;
	size_t cap, len = 99;

	(void)state;
	sb_init(&sb, 0);
	s = sb_detach(&sb, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);	/* owned, even though nothing was appended */
	sb_puts(&sb, "hello");
	buf = sb.buf;
	cap = sb.cap;
	sb_reset(&sb);
	assert_ptr_equal(sb.buf, buf);
	assert_int_equal(sb.cap, cap);
	check_sb(&sb, "", 0);
	sb_puts(&sb, "again");
	check_sb(&sb, "again", 5);
	sb_release(&sb);
	assert_int_equal(sb.cap, 0);
	assert_string_equal(sb.buf, "");
	assert_int_equal(sb.max, SB_MAX_DEFAULT);	/* the cap stays */
}

static void test_cap_every_append(void **state)
{
	struct sb sb;
	size_t len = 77;

	(void)state;
	/* each kind of append refuses to pass the cap, and appends nothing */
	sb_init(&sb, 8);
	sb_puts(&sb, "1234");
	sb_appendf(&sb, "%d", 123456);
	assert_int_equal(sb_err(&sb), -E2BIG);
	assert_string_equal(sb.buf, "1234");
	sb_release(&sb);
	sb_init(&sb, 8);
	sb_put_xml(&sb, "a&b", SIZE_MAX);	/* 7 bytes: fits */
	assert_int_equal(sb_err(&sb), 0);
	assert_string_equal(sb.buf, "a&amp;b");
	sb_put_xml(&sb, "<", SIZE_MAX);
	assert_int_equal(sb_err(&sb), -E2BIG);
	assert_string_equal(sb.buf, "a&amp;b");
	sb_release(&sb);
	sb_init(&sb, 8);
	sb_put_escaped(&sb, "\x01\x02\x03", 100);	/* 12 bytes escaped */
	assert_int_equal(sb_err(&sb), -E2BIG);
	assert_true(sb.len <= 8);
	/* the error is the detach's answer, and len is not written */
	assert_null(sb_detach(&sb, &len));
	assert_int_equal(len, 77);
	/* after a failed detach the builder is empty and usable again */
	assert_int_equal(sb_err(&sb), 0);
	sb_puts(&sb, "ok");
	check_sb(&sb, "ok", 2);
	sb_release(&sb);
}

static void test_enomem_is_sticky(void **state)
{
	struct sb sb;

	(void)state;
	/* a cap far beyond memory: the allocation fails, not the cap */
	sb_init(&sb, (size_t)1 << 62);
	sb_puts(&sb, "kept");
	sb_append(&sb, "x", (size_t)1 << 61);	/* not read: it fails first */
	assert_int_equal(sb_err(&sb), -ENOMEM);
	assert_int_equal(sb.len, 4);
	assert_string_equal(sb.buf, "kept");
	sb_puts(&sb, "more");
	sb_appendf(&sb, "%d", 1);
	assert_string_equal(sb.buf, "kept");
	assert_int_equal(sb_err(&sb), -ENOMEM);
	assert_null(sb_detach(&sb, NULL));
	sb_release(&sb);
}

/*
 * With no cap to speak of (SIZE_MAX), a length that would wrap len + n + 1
 * around, or double the buffer past SIZE_MAX, fails: it must neither write
 * past the buffer nor loop.
 */
static void test_no_cap_never_wraps(void **state)
{
	static const size_t huge[] = { SIZE_MAX - 2, SIZE_MAX, SIZE_MAX - 4, SIZE_MAX - 100,
				       SIZE_MAX / 2 + 2 };
	struct sb sb;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		sb_init(&sb, SIZE_MAX);
		sb_puts(&sb, "ab");
		sb_append(&sb, "x", huge[i]);	/* not read: it fails first */
		assert_int_not_equal(sb_err(&sb), 0);
		assert_int_equal(sb.len, 2);
		assert_string_equal(sb.buf, "ab");
		sb_release(&sb);
	}
}

/* a format that cannot be converted: -EINVAL, sticky like the others */
static void test_bad_format_conversion(void **state)
{
	static const wchar_t wide[] = { 0x4e2d, 0 };	/* not in the C locale */
	struct sb sb;

	(void)state;
	sb_init(&sb, 0);
	sb_puts(&sb, "a");
	sb_appendf(&sb, "%ls", wide);
	assert_int_equal(sb_err(&sb), -EINVAL);
	sb_puts(&sb, "b");
	assert_string_equal(sb.buf, "a");
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
	/* every cut of a 4-byte character: all of it or none */
	check_xml("a\xf0\x9f\x98\x80" "b", 1, "a...");
	check_xml("a\xf0\x9f\x98\x80" "b", 2, "a...");
	check_xml("a\xf0\x9f\x98\x80" "b", 4, "a...");
	check_xml("a\xf0\x9f\x98\x80" "b", 5, "a\xf0\x9f\x98\x80...");
	check_xml("a\xf0\x9f\x98\x80" "b", 6, "a\xf0\x9f\x98\x80" "b");
	/* a 3-byte one at every cut */
	check_xml("\xe2\x82\xac\xe2\x82\xac", 2, "...");
	check_xml("\xe2\x82\xac\xe2\x82\xac", 3, "\xe2\x82\xac...");
	check_xml("\xe2\x82\xac\xe2\x82\xac", 5, "\xe2\x82\xac...");
	/* the cap counts bytes of the text, not of the entities made */
	check_xml("&&&&", 2, "&amp;&amp;...");
	check_xml("<>", 2, "&lt;&gt;");
	check_xml("x", 0, "...");
	check_xml("", 0, "");
	/* bytes that are no character's start are never a cut point either */
	check_xml("\x80\x80\x80z", 2, "...");
	/* an error already there: nothing is appended */
	{
		struct sb sb;

		sb_init(&sb, 2);
		sb_puts(&sb, "abc");
		sb_put_xml(&sb, "z", SIZE_MAX);
		assert_int_equal(sb.len, 0);
		assert_int_equal(sb_err(&sb), -E2BIG);
		sb_release(&sb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml),
		cmocka_unit_test(test_append_and_detach),
		cmocka_unit_test(test_cap_is_sticky),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_reset_and_empty_detach),
		cmocka_unit_test(test_cap_every_append),
		cmocka_unit_test(test_enomem_is_sticky),
		cmocka_unit_test(test_no_cap_never_wraps),
		cmocka_unit_test(test_bad_format_conversion),
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_escape_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
