/* SPDX-License-Identifier: MIT */
/* String builder; see sb.h. */
#include "sb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char sb_empty[1];

void sb_init(struct sb *sb, size_t max)
{
	sb->buf = sb_empty;
	sb->len = 0;
	sb->cap = 0;
	sb->max = max ? max : SB_MAX_DEFAULT;
	sb->err = 0;
}

static int sb_grow(struct sb *sb, size_t extra)
{
	size_t want, cap;
	char *p;

	if (sb->err)
		return sb->err;
	if (extra > sb->max - sb->len) {
		sb->err = -E2BIG;
		return sb->err;
	}
	/* no object is larger than PTRDIFF_MAX: len + extra + 1 and the
	 * doubling below stay under it, and so never wrap around */
	if (extra >= PTRDIFF_MAX - sb->len) {
		sb->err = -ENOMEM;
		return sb->err;
	}
	want = sb->len + extra + 1;
	if (want <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < want)
		cap = cap > PTRDIFF_MAX / 2 ? want : cap * 2;
	p = realloc(sb->cap ? sb->buf : NULL, cap);
	if (!p) {
		sb->err = -ENOMEM;
		return sb->err;
	}
	if (!sb->cap)
		p[0] = '\0';
	sb->buf = p;
	sb->cap = cap;
	return 0;
}

void sb_append(struct sb *sb, const void *p, size_t n)
{
	if (sb_grow(sb, n) < 0)
		return;
	if (n)
		memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_puts(struct sb *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

void sb_putc(struct sb *sb, char c)
{
	sb_append(sb, &c, 1);
}

void sb_appendf(struct sb *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->err = -EINVAL;
		return;
	}
	if (sb_grow(sb, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at @s (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;	/* overlong, out of range, surrogate */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;	/* C1 controls: escaped like invalid bytes */
	return n;
}

void sb_put_xml(struct sb *sb, const char *s, size_t max)
{
	size_t len = strlen(s), i;

	if (len > max) {
		len = max;
		/* not inside a character: back up over continuation bytes */
		while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&':
			sb_puts(sb, "&amp;");
			break;
		case '<':
			sb_puts(sb, "&lt;");
			break;
		case '>':
			sb_puts(sb, "&gt;");
			break;
		case '"':
			sb_puts(sb, "&quot;");
			break;
		default:
			sb_putc(sb, s[i]);
		}
	}
	if (s[len])
		sb_puts(sb, "...");
}

void sb_put_escaped(struct sb *sb, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;

	while (i < len) {
		if (i >= max) {
			sb_puts(sb, "...");
			return;
		}
		n = utf8_seq_len(p + i, len - i);
		if (n == 1 && p[i] >= 0x20 && p[i] != 0x7f) {
			sb_putc(sb, (char)p[i]);
		} else if (p[i] == '\n') {
			sb_puts(sb, "\\n");
		} else if (p[i] == '\t') {
			sb_puts(sb, "\\t");
		} else if (n <= 1) {
			sb_appendf(sb, "\\x%02x", p[i]);
			n = 1;
		} else {
			if (i + n > max) {
				sb_puts(sb, "...");
				return;
			}
			sb_append(sb, p + i, n);
		}
		i += n;
	}
}

char *text_escape(const char *s, size_t max)
{
	struct sb sb;

	sb_init(&sb, SB_MAX_DEFAULT);
	sb_put_escaped(&sb, s, max);
	return sb_detach(&sb, NULL);
}

void sb_reset(struct sb *sb)
{
	sb->len = 0;
	if (sb->cap)
		sb->buf[0] = '\0';
}

char *sb_detach(struct sb *sb, size_t *ret_len)
{
	size_t max = sb->max;
	char *p;

	if (sb->err) {
		sb_release(sb);
		return NULL;
	}
	p = sb->cap ? sb->buf : strdup("");
	if (p && ret_len)
		*ret_len = sb->len;
	sb_init(sb, max);
	return p;
}

void sb_release(struct sb *sb)
{
	size_t max = sb->max;

	if (sb->cap)
		free(sb->buf);
	sb_init(sb, max);
}
