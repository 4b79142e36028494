/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for core/pyrepr.c: Python's str() of JSON values, first
 * against fixed strings, then against CPython itself (/usr/bin/python3,
 * the 3.11 whose Unicode table core/pyrepr_table.c holds) on a corpus of
 * tricky values: nesting, repeated keys, quotes, controls, every code
 * point, every power of two, random doubles and short decimals.
 */
#include "pyrepr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define PYTHON "/usr/bin/python3"

/* str() of the JSON text @json as pyrepr renders it (owned), or NULL if
 * jansson refuses the text. */
static char *render(const char *json)
{
	json_error_t jerr;
	json_t *v = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	char *text = NULL;
	int r;

	if (!v)
		return NULL;
	r = pyrepr_json_text(v, &text, NULL);
	json_decref(v);
	return r == 0 ? text : NULL;
}

static void check(const char *json, const char *want)
{
	char *got = render(json);

	if (!got)
		fail_msg("cannot render %s", json);
	if (strcmp(got, want))
		fail_msg("%s: got %s, want %s", json, got, want);
	free(got);
}

static void check_float(double d, const char *want)
{
	struct sb sb;

	sb_init(&sb, 0);
	pyrepr_float(&sb, d);
	assert_int_equal(sb_err(&sb), 0);
	if (strcmp(sb.buf, want))
		fail_msg("%.17g: got %s, want %s", d, sb.buf, want);
	sb_release(&sb);
}

static void test_containers(void **state)
{
	(void)state;
	check("{\"cm\": [[1, 2], [3, 4]], \"report\": {\"a\": 0.5, \"b\": \"x'y\"},"
	      " \"acc\": 0.9}",
	      "{'cm': [[1, 2], [3, 4]], 'report': {'a': 0.5, 'b': \"x'y\"},"
	      " 'acc': 0.9}");
	check("[[1, 2], [3, 4]]", "[[1, 2], [3, 4]]");
	check("{}", "{}");
	check("[]", "[]");
	check("[{}, [], [[]], {\"\": {}}]", "[{}, [], [[]], {'': {}}]");
	check("[true, false, null, 0, -1]", "[True, False, None, 0, -1]");
	check("[9223372036854775807, -9223372036854775808]",
	      "[9223372036854775807, -9223372036854775808]");
	/* a repeated key keeps its first place and its last value */
	check("{\"a\": 1, \"b\": 2, \"a\": 3}", "{'a': 3, 'b': 2}");
	check("{\"z\": {\"y\": 1, \"x\": 2, \"y\": [3]}}",
	      "{'z': {'y': [3], 'x': 2}}");
	/* document order, not sorted */
	check("{\"b\": 1, \"a\": 2}", "{'b': 1, 'a': 2}");
}

static void test_strings(void **state)
{
	(void)state;
	check("[\"plain\"]", "['plain']");
	check("[\"x'y\"]", "[\"x'y\"]");
	check("[\"x\\\"y\"]", "['x\"y']");
	check("[\"x'y\\\"z\"]", "['x\\'y\"z']");
	check("[\"back\\\\slash\"]", "['back\\\\slash']");
	check("[\"\\t\\n\\r\\b\\f\\u0000\\u001f\\u007f\"]",
	      "['\\t\\n\\r\\x08\\x0c\\x00\\x1f\\x7f']");
	/* printable non-ASCII stays; C1, NBSP, soft hyphen, format
	 * characters, line separators, wide spaces, private use and
	 * unassigned code points are escaped */
	check("[\"\\u00e9\\u4e2d\\ud83d\\ude00\"]",
	      "['\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80']");
	check("[\"\\u0085\\u00a0\\u00ad\\u200b\\u2028\\u3000\\ufeff\"]",
	      "['\\x85\\xa0\\xad\\u200b\\u2028\\u3000\\ufeff']");
	check("[\"\\ue000\\uffff\\udbff\\udfff\\udb40\\udc01\"]",
	      "['\\ue000\\uffff\\U0010ffff\\U000e0001']");
	check("[\" \"]", "[' ']");
	check("{\"k'\": \"v\"}", "{\"k'\": 'v'}");
}

static void test_str_bytes(void **state)
{
	struct sb sb;

	(void)state;
	/* not UTF-8: each byte as Python's surrogateescape sees it */
	sb_init(&sb, 0);
	pyrepr_str(&sb, "a\xff\xe2\x82z\xed\xa0\x80", 8);
	assert_int_equal(sb_err(&sb), 0);
	assert_string_equal(sb.buf,
			    "'a\\udcff\\udce2\\udc82z\\udced\\udca0\\udc80'");
	sb_release(&sb);
	/* NUL bytes are characters like any other */
	sb_init(&sb, 0);
	pyrepr_str(&sb, "a\0b", 3);
	assert_string_equal(sb.buf, "'a\\x00b'");
	sb_release(&sb);
	assert_true(pyrepr_printable(' '));
	assert_true(pyrepr_printable(0xe9));
	assert_false(pyrepr_printable(0xa0));
	assert_false(pyrepr_printable(0x110000));
	assert_false(pyrepr_printable(0xd800));
}

static void test_floats(void **state)
{
	(void)state;
	check_float(0.1, "0.1");
	check_float(0.5, "0.5");
	check_float(100.0, "100.0");
	check_float(1e-7, "1e-07");
	check_float(1e-5, "1e-05");
	check_float(1e-4, "0.0001");
	check_float(0.00012, "0.00012");
	check_float(1e15, "1000000000000000.0");
	check_float(1234567890123456.0, "1234567890123456.0");
	check_float(1e16, "1e+16");
	check_float(123456789012345678.0, "1.2345678901234568e+17");
	check_float(5e-324, "5e-324");
	check_float(2.2250738585072014e-308, "2.2250738585072014e-308");
	check_float(1.7976931348623157e308, "1.7976931348623157e+308");
	check_float(-0.0, "-0.0");
	check_float(0.0, "0.0");
	check_float(-2.5, "-2.5");
	check_float(1.0 / 3, "0.3333333333333333");
	check_float(9007199254740993.0, "9007199254740992.0");
	check_float(1e22, "1e+22");
	check_float(1e23, "1e+23");
	check_float(INFINITY, "inf");
	check_float(-INFINITY, "-inf");
	check_float(NAN, "nan");
	check("[1E2, 1e-400, -0, 5e-324]", "[100.0, 0.0, 0, 5e-324]");
}

static void test_depth_and_cap(void **state)
{
	json_t *v = json_array(), *inner;
	struct sb sb;
	char *text = NULL;
	int i;

	(void)state;
	assert_non_null(v);
	for (i = 0; i < PYREPR_MAX_DEPTH; i++) {
		inner = json_array();
		assert_non_null(inner);
		assert_int_equal(json_array_append_new(inner, v), 0);
		v = inner;
	}
	assert_int_equal(pyrepr_json_text(v, &text, NULL), 0);
	assert_int_equal(strlen(text), 2 * (PYREPR_MAX_DEPTH + 1));
	free(text);
	text = NULL;
	inner = json_array();
	assert_int_equal(json_array_append_new(inner, v), 0);
	assert_int_equal(pyrepr_json_text(inner, &text, NULL), -EINVAL);
	assert_null(text);
	json_decref(inner);
	/* the builder's cap is the caller's */
	v = json_pack("[i, i, i, i, i]", 1, 2, 3, 4, 5);
	assert_non_null(v);
	sb_init(&sb, 10);
	assert_int_equal(pyrepr_json(&sb, v), -E2BIG);
	sb_release(&sb);
	json_decref(v);
}

/* --- against CPython ------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* One corpus line: the JSON text @json, wrapped in a list so that str()
 * shows a top-level string as repr() too. */
static void put_line(FILE *f, const char *json)
{
	json_error_t jerr;
	json_t *v;

	/* only what jansson accepts: the metrics parser's input */
	v = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!v)
		return;
	json_decref(v);
	fprintf(f, "[%s]\n", json);
}

static void put_double(FILE *f, double d)
{
	char buf[40];

	if (!isfinite(d))
		return;
	/* "e0" keeps a whole number a real, not an integer */
	snprintf(buf, sizeof(buf), "%.17ge0", d);
	if (strchr(buf, 'e') != strrchr(buf, 'e'))
		snprintf(buf, sizeof(buf), "%.17g", d);
	put_line(f, buf);
}

/* Every code point but the surrogates, 256 to a string. */
static void put_all_code_points(FILE *f)
{
	uint32_t base, cp, hi, lo;

	for (base = 0; base < 0x110000; base += 256) {
		fputs("[\"", f);
		for (cp = base; cp < base + 256; cp++) {
			if (cp >= 0xd800 && cp <= 0xdfff)
				continue;
			if (cp < 0x10000) {
				fprintf(f, "\\u%04x", (unsigned)cp);
				continue;
			}
			hi = 0xd800 + ((cp - 0x10000) >> 10);
			lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);
			fprintf(f, "\\u%04x\\u%04x", (unsigned)hi, (unsigned)lo);
		}
		fputs("\"]\n", f);
	}
}

static const char *const tricky[] = {
	"{\"cm\": [[1, 2], [3, 4]], \"report\": {\"a\": 0.5, \"b\": \"x'y\"}}",
	"{\"a\": {\"b\": {\"c\": [1, [2, [3, {\"d\": null}]]]}}}",
	"{\"a\": 1, \"b\": 2, \"a\": {\"x\": 1, \"x\": 2}, \"c\": [], \"b\": {}}",
	"[\"it's\", \"say \\\"hi\\\"\", \"both ' and \\\"\", \"\\\\\", \"'\"]",
	"[\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001b\\u007f\"]",
	"[\"\\u0080\\u009f\\u00a0\\u00a1\\u00ad\\u00ff\\u0100\"]",
	"[\"caf\\u00e9\", \"\\u65e5\\u672c\", \"\\ud83d\\ude00\", \"\\u200d\"]",
	"[\"\\u2028\\u2029\\u202e\\u2066\\u3000\\u1680\\ufeff\\ufffd\"]",
	"[\"\\ue000\\uf8ff\\udb80\\udc00\\udbff\\udffd\\ud834\\udd73\"]",
	"[\"\\u0378\\u0530\\u08b5\\ufdd0\\ufffe\\ud83f\\udffe\"]",
	"[\"tab\\there\", \"\\r\\n\", \"x\\u0085y\"]",
	"{\"\\u00e9'\": \"k\", \"\\\"\": 1, \"\": \"\"}",
	"[0.1, 0.2, 0.30000000000000004, 1e-7, 1e16, 1e15, 1e-4, 1e-5]",
	"[123456789012345678.0, 5e-324, -0.0, 0.0, 1.5e300, 2.5e-300]",
	"[1e22, 1e23, 9007199254740993.0, 4.35, 0.000123456789]",
	"[2.2250738585072011e-308, 2.2250738585072014e-308]",
	"[1.7976931348623157e308, 4.9406564584124654e-324, 1e-400]",
	"[9223372036854775807, -9223372036854775808, 0, -0, 1, -1]",
	"[true, false, null, [true], {\"n\": null}]",
	"[1E2, 1e+2, 1.0E-2, -1.25e-3, 100, 100.0]",
};

/*
 * Writes the corpus to @dir/in, has CPython print str() of each line into
 * @dir/out, and compares line by line.
 */
static void test_against_cpython(void **state)
{
	char dir[] = "/tmp/test_pyrepr.XXXXXX", in[64], out[64], cmd[512];
	char *want = NULL, *line, *nl, *got;
	size_t i, cap = 0, n = 0, bad = 0;
	FILE *f;
	int k;

	(void)state;
	if (access(PYTHON, X_OK) != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	f = fopen(in, "w");
	assert_non_null(f);
	for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++)
		put_line(f, tricky[i]);
	for (k = -1074; k <= 1023; k++) {
		put_double(f, ldexp(1, k));
		put_double(f, -ldexp(1, k));
		put_double(f, nextafter(ldexp(1, k), 0));
		put_double(f, nextafter(ldexp(1, k), INFINITY));
	}
	for (i = 0; i < 20000; i++) {
		uint64_t bits = next_random();
		double d;

		memcpy(&d, &bits, sizeof(d));
		put_double(f, d);
	}
	for (i = 0; i < 20000; i++) {
		/* a short decimal: 1 to 17 random digits, any exponent */
		char buf[64];
		uint64_t r = next_random(), mod = 10;
		int digits = 1 + (int)(r % 17), e = (int)((r >> 8) % 660) - 340;

		while (--digits > 0)
			mod *= 10;
		snprintf(buf, sizeof(buf), "%llue%d",
			 (unsigned long long)(next_random() % mod), e);
		put_double(f, strtod(buf, NULL));
		put_line(f, buf);	/* as written: jansson rounds it */
	}
	put_all_code_points(f);
	assert_int_equal(fclose(f), 0);

	snprintf(cmd, sizeof(cmd),
		 "PYTHONIOENCODING=utf-8 " PYTHON " -c 'import json, sys; "
		 "[print(str(json.loads(l))) for l in sys.stdin]' < %s > %s",
		 in, out);
	assert_int_equal(system(cmd), 0);

	/* read CPython's answers */
	f = fopen(out, "r");
	assert_non_null(f);
	{
		char buf[65536];
		size_t got_n;

		while ((got_n = fread(buf, 1, sizeof(buf), f)) > 0) {
			if (n + got_n + 1 > cap) {
				cap = (n + got_n + 1) * 2;
				want = realloc(want, cap);
				assert_non_null(want);
			}
			memcpy(want + n, buf, got_n);
			n += got_n;
		}
	}
	fclose(f);
	assert_non_null(want);
	want[n] = '\0';

	f = fopen(in, "r");
	assert_non_null(f);
	line = want;
	i = 0;
	{
		char *json = NULL;
		size_t jcap = 0;
		ssize_t jlen;

		while ((jlen = getline(&json, &jcap, f)) > 0) {
			if (json[jlen - 1] == '\n')
				json[jlen - 1] = '\0';
			nl = strchr(line, '\n');
			assert_non_null(nl);
			*nl = '\0';
			got = render(json);
			assert_non_null(got);
			if (strcmp(got, line) && bad++ < 10)
				print_error("line %zu %.200s:\n  got  %.300s\n"
					    "  want %.300s\n", i + 1, json, got,
					    line);
			free(got);
			line = nl + 1;
			i++;
		}
		free(json);
	}
	fclose(f);
	assert_string_equal(line, "");
	print_message("compared %zu values with CPython, %zu differ\n", i, bad);
	assert_true(i > 40000);
	assert_int_equal(bad, 0);
	free(want);
	(void)unlink(in);
	(void)unlink(out);
	(void)rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_str_bytes),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_depth_and_cap),
		cmocka_unit_test(test_against_cpython),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
