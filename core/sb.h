/* SPDX-License-Identifier: MIT */
/*
 * A growable string with a sticky error and a size cap.
 *
 * After sb_init() `buf` is never NULL and always NUL-terminated.  The first
 * failure (-ENOMEM, or -E2BIG past `max`) is remembered in `err`; later appends
 * do nothing, so a caller appends freely and checks sb_err() once at the end.
 * Fields may be read directly; change them only through these functions.
 */
#ifndef CMFFS_SB_H
#define CMFFS_SB_H

#include <stddef.h>

struct sb {
	char *buf;	/* never NULL after sb_init(); NUL-terminated */
	size_t len;	/* bytes used, excluding the NUL */
	size_t cap;	/* bytes allocated; 0 while buf is the static "" */
	size_t max;	/* appends that would grow len beyond it fail */
	int err;	/* first error (negative errno), sticky */
};

#define SB_MAX_DEFAULT ((size_t)64 << 20)

void sb_init(struct sb *sb, size_t max);
void sb_append(struct sb *sb, const void *p, size_t n);
void sb_puts(struct sb *sb, const char *s);
void sb_putc(struct sb *sb, char c);
void sb_appendf(struct sb *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Append untrusted text @s so that it prints as one line on a terminal:
 * newline and tab become "\n" and "\t", every other C0 control, DEL, a
 * C1 control (U+0080..U+009F) and every byte that is not part of valid
 * UTF-8 become "\xNN".  At most @max bytes of @s are taken, cut at a
 * character boundary; "..." marks a cut.  Everything else is kept as is.
 */
void sb_put_escaped(struct sb *sb, const char *s, size_t max);

/*
 * Append @s as XML character data or attribute text: '&', '<', '>' and
 * '"' as entities.  At most @max bytes of @s are taken (SIZE_MAX: all),
 * cut at a UTF-8 character boundary; "..." marks a cut.
 */
void sb_put_xml(struct sb *sb, const char *s, size_t max);

/*
 * sb_put_escaped() into a new string (owned), capped at @max input bytes;
 * NULL on ENOMEM.
 */
char *text_escape(const char *s, size_t max);

/* Forget the contents, keep the allocation and the error. */
void sb_reset(struct sb *sb);
static inline int sb_err(const struct sb *sb)
{
	return sb->err;
}
/*
 * Hand the buffer to the caller (owned, free()) and re-initialize @sb.
 * Returns NULL if an error happened (the buffer is then released).
 */
char *sb_detach(struct sb *sb, size_t *ret_len);
void sb_release(struct sb *sb);

#endif
