/* SPDX-License-Identifier: MIT */
/*
 * Typed property values, as MLMD stores them (one of int, double, string).
 *
 * Text written by a user into a property file is typed the way a Python user
 * of cmflib would expect from `{"k": 5}` vs `{"k": 0.5}` vs `{"k": "x"}`:
 * a whole decimal integer that fits int64 is an int, a finite decimal
 * floating-point number is a double, anything else a string.  (Upstream's
 * update_execution turns doubles into strings; we keep them doubles.)
 */
#ifndef CMFFS_VALUE_H
#define CMFFS_VALUE_H

#include <stddef.h>
#include <stdint.h>

enum value_kind {
	VALUE_INT,
	VALUE_DOUBLE,
	VALUE_STRING,
};

struct value {
	enum value_kind kind;
	int64_t i;
	double d;
	const char *s;	/* borrowed; NUL-terminated */
};

/*
 * Type @text (NUL-terminated; surrounding whitespace is the caller's to
 * strip).  For VALUE_STRING, ret->s points into @text.
 */
void value_parse(const char *text, struct value *ret);

/*
 * Strip leading and trailing ASCII whitespace of @buf[0..*len) in place and
 * NUL-terminate it (buf must have room for len + 1 bytes).  Returns buf + skip.
 */
char *value_trim(char *buf, size_t *len);

#endif
