/* SPDX-License-Identifier: MIT */
/*
 * Which names can be stored.
 *
 * A name given by a user (a pipeline, stage, execution, property or file name)
 * ends up inside MLMD names such as "path:md5" and in the CMF JSON document, so
 * it must be valid UTF-8, at most NAME_MAX_BYTES bytes, free of ':' (the server
 * splits artifact names at the first ':'), free of control characters (they
 * break logs and line-oriented tools), and not "." or "..".
 */
#ifndef CMFFS_NAMES_H
#define CMFFS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define NAME_MAX_BYTES 255

/* True if @s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);

/*
 * 0 if @name may be stored, else -EINVAL and *ret_why (static text, e.g.
 * "contains ':'") says why.
 */
int name_check(const char *name, const char **ret_why);

#endif
