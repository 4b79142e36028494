/* SPDX-License-Identifier: MIT */
/* String builder; see sb.h. */
#include "sb.h"

#include <errno.h>
#include <stdarg.h>
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
	want = sb->len + extra + 1;
	if (want <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < want)
		cap *= 2;
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
