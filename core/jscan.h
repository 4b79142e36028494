/* SPDX-License-Identifier: MIT */
/*
 * Walking a JSON text without building it: the syntax of a whole document
 * is checked in one pass with no allocation, and the members of an object
 * and the elements of an array are handed out as spans of the text.  A
 * caller builds a tree (jansson) only of the small values it reads, so a
 * document's size bounds the memory its merge needs (document_import).
 *
 * The grammar is RFC 8259's; strings must be valid UTF-8 without raw
 * control characters; nesting is limited to JSCAN_MAX_DEPTH.
 */
#ifndef CMFFS_JSCAN_H
#define CMFFS_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define JSCAN_MAX_DEPTH 256

/* A piece of the text: one JSON value (or a key, quotes included). */
struct jspan {
	const char *p;	/* NULL: absent */
	size_t n;
};

/*
 * 0 if @s[0..n) is one JSON value with only whitespace around it.  Else
 * -EINVAL, with *ret_off the byte offset of the error and *ret_why
 * (static text) what is wrong there.
 */
int jscan_check(const char *s, size_t n, size_t *ret_off,
		const char **ret_why);

/* The first character of a span's value: '{', '[', '"', 't', '-', ... */
static inline char jspan_kind(struct jspan v)
{
	return v.p && v.n ? v.p[0] : '\0';
}

/*
 * Next member of object @obj (a span checked by jscan_check(), starting
 * with '{'): *off is 0 before the first call.  1 with *ret_key (the key,
 * quotes included) and *ret_val, 0 at the end, -EINVAL if @obj is not an
 * object.
 */
int jscan_member(struct jspan obj, size_t *off, struct jspan *ret_key,
		 struct jspan *ret_val);
/* Next element of array @arr, the same way. */
int jscan_element(struct jspan arr, size_t *off, struct jspan *ret_val);

/* Is key span @key (quotes included, escapes allowed) the string @s? */
bool jscan_key_is(struct jspan key, const char *s);

#endif
