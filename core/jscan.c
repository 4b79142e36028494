/* SPDX-License-Identifier: MIT */
/* A JSON syntax walker; see jscan.h. */
#include "jscan.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "names.h"

struct cursor {
	const char *s;
	size_t n, pos;
	const char *why;	/* static, set with the first error */
};

static int bad(struct cursor *c, const char *why)
{
	if (!c->why)
		c->why = why;
	return -EINVAL;
}

static void skip_ws(struct cursor *c)
{
	while (c->pos < c->n && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' ||
				 c->s[c->pos] == '\n' || c->s[c->pos] == '\r'))
		c->pos++;
}

static bool is_hex(char x)
{
	return (x >= '0' && x <= '9') || (x >= 'a' && x <= 'f') ||
	       (x >= 'A' && x <= 'F');
}

static bool is_digit(char x)
{
	return x >= '0' && x <= '9';
}

static int scan_string(struct cursor *c)
{
	size_t start = ++c->pos;

	while (c->pos < c->n) {
		unsigned char x = (unsigned char)c->s[c->pos];

		if (x == '"') {
			if (!utf8_valid(c->s + start, c->pos - start))
				return bad(c, "a string is not valid UTF-8");
			c->pos++;
			return 0;
		}
		if (x < 0x20)
			return bad(c, "a control character in a string");
		if (x == '\\') {
			char e;

			if (++c->pos >= c->n)
				break;
			e = c->s[c->pos];
			if (e == 'u') {
				size_t k;

				if (c->n - c->pos < 5)
					break;
				for (k = 1; k <= 4; k++)
					if (!is_hex(c->s[c->pos + k]))
						return bad(c, "a bad \\u escape");
				c->pos += 4;
			} else if (!strchr("\"\\/bfnrt", e) || !e) {
				return bad(c, "a bad escape in a string");
			}
		}
		c->pos++;
	}
	return bad(c, "a string does not end");
}

static int scan_number(struct cursor *c)
{
	size_t digits;

	if (c->pos < c->n && c->s[c->pos] == '-')
		c->pos++;
	if (c->pos >= c->n || !is_digit(c->s[c->pos]))
		return bad(c, "a bad number");
	if (c->s[c->pos] == '0')
		c->pos++;
	else
		while (c->pos < c->n && is_digit(c->s[c->pos]))
			c->pos++;
	if (c->pos < c->n && c->s[c->pos] == '.') {
		c->pos++;
		for (digits = 0; c->pos < c->n && is_digit(c->s[c->pos]); digits++)
			c->pos++;
		if (!digits)
			return bad(c, "a bad number");
	}
	if (c->pos < c->n && (c->s[c->pos] == 'e' || c->s[c->pos] == 'E')) {
		c->pos++;
		if (c->pos < c->n && (c->s[c->pos] == '+' || c->s[c->pos] == '-'))
			c->pos++;
		for (digits = 0; c->pos < c->n && is_digit(c->s[c->pos]); digits++)
			c->pos++;
		if (!digits)
			return bad(c, "a bad number");
	}
	return 0;
}

static int scan_literal(struct cursor *c, const char *word)
{
	size_t len = strlen(word);

	if (c->n - c->pos < len || memcmp(c->s + c->pos, word, len))
		return bad(c, "an unexpected character");
	c->pos += len;
	return 0;
}

static int scan_value(struct cursor *c, unsigned depth);

/* An object or an array, the cursor on its '{' or '['. */
static int scan_container(struct cursor *c, unsigned depth)
{
	char close = c->s[c->pos] == '{' ? '}' : ']';
	bool first = true;
	int r;

	if (depth >= JSCAN_MAX_DEPTH)
		return bad(c, "nested too deeply");
	c->pos++;
	for (;;) {
		skip_ws(c);
		if (c->pos >= c->n)
			return bad(c, "the document ends inside an object or array");
		if (c->s[c->pos] == close && first) {
			c->pos++;
			return 0;
		}
		if (close == '}') {
			if (c->s[c->pos] != '"')
				return bad(c, "an object key is not a string");
			r = scan_string(c);
			if (r < 0)
				return r;
			skip_ws(c);
			if (c->pos >= c->n || c->s[c->pos] != ':')
				return bad(c, "':' expected after an object key");
			c->pos++;
		}
		r = scan_value(c, depth + 1);
		if (r < 0)
			return r;
		skip_ws(c);
		if (c->pos < c->n && c->s[c->pos] == close) {
			c->pos++;
			return 0;
		}
		if (c->pos >= c->n || c->s[c->pos] != ',')
			return bad(c, "',' or the end of an object or array expected");
		c->pos++;
		first = false;
	}
}

static int scan_value(struct cursor *c, unsigned depth)
{
	skip_ws(c);
	if (c->pos >= c->n)
		return bad(c, "a value expected");
	switch (c->s[c->pos]) {
	case '{':
	case '[':
		return scan_container(c, depth);
	case '"':
		return scan_string(c);
	case 't':
		return scan_literal(c, "true");
	case 'f':
		return scan_literal(c, "false");
	case 'n':
		return scan_literal(c, "null");
	default:
		return scan_number(c);
	}
}

int jscan_check(const char *s, size_t n, size_t *ret_off, const char **ret_why)
{
	struct cursor c = { .s = s, .n = n };
	int r = scan_value(&c, 0);

	if (r == 0) {
		skip_ws(&c);
		if (c.pos < n)
			r = bad(&c, "text after the document");
	}
	if (r < 0) {
		*ret_off = c.pos;
		*ret_why = c.why;
	}
	return r;
}

/* One step through a checked container: a member (with key) or element. */
static int next(struct jspan v, char open, size_t *off, struct jspan *ret_key,
		struct jspan *ret_val)
{
	struct cursor c = { .s = v.p, .n = v.n, .pos = *off };
	size_t start;

	if (!v.p || !v.n || v.p[0] != open)
		return -EINVAL;
	if (c.pos == 0)
		c.pos = 1;
	skip_ws(&c);
	if (c.pos < c.n && c.s[c.pos] == ',') {
		c.pos++;
		skip_ws(&c);
	}
	if (c.pos >= c.n || c.s[c.pos] == '}' || c.s[c.pos] == ']') {
		*off = c.n;
		return 0;
	}
	if (ret_key) {
		start = c.pos;
		if (c.s[c.pos] != '"' || scan_string(&c) < 0)
			return -EINVAL;
		ret_key->p = c.s + start;
		ret_key->n = c.pos - start;
		skip_ws(&c);
		if (c.pos >= c.n || c.s[c.pos] != ':')
			return -EINVAL;
		c.pos++;
		skip_ws(&c);
	}
	start = c.pos;
	if (scan_value(&c, 0) < 0)
		return -EINVAL;
	ret_val->p = c.s + start;
	ret_val->n = c.pos - start;
	*off = c.pos;
	return 1;
}

int jscan_member(struct jspan obj, size_t *off, struct jspan *ret_key,
		 struct jspan *ret_val)
{
	return next(obj, '{', off, ret_key, ret_val);
}

int jscan_element(struct jspan arr, size_t *off, struct jspan *ret_val)
{
	return next(arr, '[', off, NULL, ret_val);
}

bool jscan_key_is(struct jspan key, const char *s)
{
	size_t n = strlen(s);
	json_t *k;
	bool same;

	if (key.n < 2)
		return false;
	if (!memchr(key.p, '\\', key.n))
		return key.n == n + 2 && !memcmp(key.p + 1, s, n);
	k = json_loadb(key.p, key.n, JSON_DECODE_ANY, NULL);
	same = json_is_string(k) && json_string_length(k) == n &&
	       !memcmp(json_string_value(k), s, n);
	json_decref(k);
	return same;
}
