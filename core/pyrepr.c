/* SPDX-License-Identifier: MIT */
/*
 * Python's str() of JSON values; see pyrepr.h.
 *
 * repr(float) is found by trying 1, 2, ... 17 significant digits: glibc's
 * printf rounds correctly, so "%.*e" gives the p-digit decimal nearest the
 * double; if that does not read back, the only other p-digit candidate
 * that may (the rounding interval of a power of two is lopsided) is its
 * neighbour on the other side of the double.  The first p that reads back
 * gives CPython's shortest digits (David Gay's mode 0).
 */
#include "pyrepr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pyrepr_i.h"

bool pyrepr_printable(uint32_t cp)
{
	size_t lo = 0, hi = pyrepr_unprintable_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < pyrepr_unprintable[mid][0])
			hi = mid;
		else if (cp > pyrepr_unprintable[mid][1])
			lo = mid + 1;
		else
			return false;
	}
	return cp <= 0x10ffff;
}

/*
 * Decode one UTF-8 character at @s[0..n) (n >= 1) into *ret_cp.  Returns
 * its length, or 0 if the bytes there are not a valid character
 * (overlong, surrogate, beyond U+10FFFF, cut short).
 */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	uint32_t cp, min;
	size_t len, i;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return len;
}

static void put_escape(struct sb *sb, uint32_t cp)
{
	if (cp <= 0xff)
		sb_appendf(sb, "\\x%02x", (unsigned)cp);
	else if (cp <= 0xffff)
		sb_appendf(sb, "\\u%04x", (unsigned)cp);
	else
		sb_appendf(sb, "\\U%08x", (unsigned)cp);
}

void pyrepr_str(struct sb *sb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char quote = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
	size_t i = 0, k;
	uint32_t cp;

	sb_putc(sb, quote);
	while (i < n) {
		k = utf8_next(p + i, n - i, &cp);
		if (!k) {		/* surrogateescape */
			put_escape(sb, 0xdc00u + p[i]);
			i++;
			continue;
		}
		if (cp == (uint32_t)quote || cp == '\\') {
			sb_putc(sb, '\\');
			sb_putc(sb, (char)cp);
		} else if (cp == '\t') {
			sb_puts(sb, "\\t");
		} else if (cp == '\n') {
			sb_puts(sb, "\\n");
		} else if (cp == '\r') {
			sb_puts(sb, "\\r");
		} else if (!pyrepr_printable(cp)) {
			put_escape(sb, cp);
		} else {
			sb_append(sb, p + i, k);
		}
		i += k;
	}
	sb_putc(sb, quote);
}

void pyrepr_argv(struct sb *sb, const char *buf, size_t len)
{
	const char *end;
	size_t pos = 0, n;

	sb_putc(sb, '[');
	while (pos < len) {
		end = memchr(buf + pos, '\0', len - pos);
		n = end ? (size_t)(end - (buf + pos)) : len - pos;
		if (pos)
			sb_puts(sb, ", ");
		pyrepr_str(sb, buf + pos, n);
		pos += n + (end ? 1 : 0);
	}
	sb_putc(sb, ']');
}

/*
 * A decimal of at most 17 significant digits: digits[0..n) (digits[0] is
 * not '0') times 10^(exp - n + 1), i.e. d.ddd × 10^exp.
 */
struct decimal {
	char digits[18];
	int n;
	int exp;
};

/* The nearest decimal of @p digits to @d (> 0, finite), from printf. */
static void decimal_nearest(double d, int p, struct decimal *ret)
{
	char buf[40];
	const char *e;
	int i;

	(void)snprintf(buf, sizeof(buf), "%.*e", p - 1, d);
	ret->n = 0;
	for (i = 0; buf[i] && buf[i] != 'e'; i++)
		if (buf[i] >= '0' && buf[i] <= '9')
			ret->digits[ret->n++] = buf[i];
	e = buf + i + 1;
	ret->exp = (int)strtol(e, NULL, 10);
}

/* Step @x by one unit in its last digit, up (@dir > 0) or down. */
static void decimal_step(struct decimal *x, int dir)
{
	int i = x->n - 1;

	if (dir > 0) {
		while (i >= 0 && x->digits[i] == '9')
			x->digits[i--] = '0';
		if (i >= 0) {
			x->digits[i]++;
		} else {		/* 9.99e5 + 0.01e5 = 1.00e6 */
			x->digits[0] = '1';
			x->exp++;
		}
	} else {
		while (i >= 0 && x->digits[i] == '0')
			x->digits[i--] = '9';
		x->digits[i]--;		/* digits[0] is not '0': i >= 0 */
		if (x->digits[0] == '0') {	/* 1.00e6 - 0.01e6 = 9.99e5 */
			memset(x->digits, '9', (size_t)x->n);
			x->exp--;
		}
	}
}

static double decimal_value(const struct decimal *x)
{
	char buf[40];

	(void)snprintf(buf, sizeof(buf), "%c.%.*se%d", x->digits[0],
		       x->n - 1, x->digits + 1, x->exp);
	return strtod(buf, NULL);
}

/* The shortest decimal that reads back as @d (> 0, finite). */
static void decimal_shortest(double d, struct decimal *ret)
{
	struct decimal x;
	double back;
	int p;

	for (p = 1; p <= 17; p++) {
		decimal_nearest(d, p, &x);
		back = decimal_value(&x);
		if (back == d)
			break;
		decimal_step(&x, back < d ? 1 : -1);
		if (decimal_value(&x) == d)
			break;
	}
	/* 17 digits always read back; a step may leave trailing zeros */
	while (x.n > 1 && x.digits[x.n - 1] == '0')
		x.n--;
	*ret = x;
}

void pyrepr_float(struct sb *sb, double d)
{
	struct decimal x;
	int i;

	if (isnan(d)) {
		sb_puts(sb, "nan");
		return;
	}
	if (signbit(d))
		sb_putc(sb, '-');
	d = fabs(d);
	if (isinf(d)) {
		sb_puts(sb, "inf");
		return;
	}
	if (d == 0) {
		sb_puts(sb, "0.0");
		return;
	}
	decimal_shortest(d, &x);
	if (x.exp < -4 || x.exp >= 16) {
		sb_putc(sb, x.digits[0]);
		if (x.n > 1) {
			sb_putc(sb, '.');
			sb_append(sb, x.digits + 1, (size_t)x.n - 1);
		}
		sb_appendf(sb, "e%c%02d", x.exp < 0 ? '-' : '+', abs(x.exp));
	} else if (x.exp < 0) {
		sb_puts(sb, "0.");
		for (i = -1; i > x.exp; i--)
			sb_putc(sb, '0');
		sb_append(sb, x.digits, (size_t)x.n);
	} else {
		/* digits before the point, zero-padded; at least one after */
		for (i = 0; i <= x.exp; i++)
			sb_putc(sb, i < x.n ? x.digits[i] : '0');
		sb_putc(sb, '.');
		if (x.n > x.exp + 1)
			sb_append(sb, x.digits + x.exp + 1,
				  (size_t)(x.n - x.exp - 1));
		else
			sb_putc(sb, '0');
	}
}

static int json_repr(struct sb *sb, const json_t *v, int depth)
{
	const char *k;
	json_t *item;
	size_t i;
	void *it;
	int r = 0;

	if (depth > PYREPR_MAX_DEPTH)
		return -EINVAL;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		sb_putc(sb, '{');
		/* jansson's iterators want a non-const object; none changes */
		it = json_object_iter((json_t *)(uintptr_t)v);
		for (i = 0; r == 0 && it; i++) {
			k = json_object_iter_key(it);
			if (i)
				sb_puts(sb, ", ");
			pyrepr_str(sb, k, json_object_iter_key_len(it));
			sb_puts(sb, ": ");
			r = json_repr(sb, json_object_iter_value(it), depth + 1);
			it = json_object_iter_next((json_t *)(uintptr_t)v, it);
		}
		sb_putc(sb, '}');
		break;
	case JSON_ARRAY:
		sb_putc(sb, '[');
		json_array_foreach(v, i, item) {
			if (i)
				sb_puts(sb, ", ");
			r = json_repr(sb, item, depth + 1);
			if (r < 0)
				break;
		}
		sb_putc(sb, ']');
		break;
	case JSON_STRING:
		pyrepr_str(sb, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		sb_appendf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		pyrepr_float(sb, json_real_value(v));
		break;
	case JSON_TRUE:
		sb_puts(sb, "True");
		break;
	case JSON_FALSE:
		sb_puts(sb, "False");
		break;
	case JSON_NULL:
		sb_puts(sb, "None");
		break;
	}
	return r < 0 ? r : sb_err(sb);
}

int pyrepr_json(struct sb *sb, const struct json_t *v)
{
	return json_repr(sb, v, 0);
}

int pyrepr_json_text(const struct json_t *v, char **ret_text,
		     size_t *ret_len)
{
	struct sb sb;
	size_t len;
	char *text;
	int r;

	sb_init(&sb, 0);
	r = pyrepr_json(&sb, v);
	if (r < 0) {
		sb_release(&sb);
		return r;
	}
	text = sb_detach(&sb, &len);
	if (!text)
		return -ENOMEM;
	*ret_text = text;
	if (ret_len)
		*ret_len = len;
	return 0;
}
