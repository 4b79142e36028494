/* SPDX-License-Identifier: MIT */
/*
 * Which names can be stored.
 *
 * A name given by a user (a pipeline, stage, execution, property or file name)
 * ends up inside MLMD names such as "path:md5" and in the CMF JSON document, so
 * it must be valid UTF-8, at most NAME_MAX_BYTES bytes, free of ':' (the server
 * splits artifact names at the first ':'), free of control characters (they
 * break logs and line-oriented tools), and not "." or "..".
 *
 * Names that come in a CMF document (cmffs import, pull) are held to the same
 * rules: each component of an artifact's path is a name the mount would
 * accept below inputs/ or outputs/, so that every artifact can be shown in
 * MOUNT/artifacts/ and in an execution's tree, and printed in one line.
 */
#ifndef CMFFS_NAMES_H
#define CMFFS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define NAME_MAX_BYTES 255
/* An artifact name ("PATH:SUFFIX"), a property key, a uri: whole, in bytes. */
#define ARTIFACT_NAME_MAX_BYTES 4096

/* True if @s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);

/*
 * 0 if @name may be stored, else -EINVAL and *ret_why (static text, e.g.
 * "contains ':'") says why.
 */
int name_check(const char *name, const char **ret_why);

/*
 * 0 if @path[0..n) is a relative path of names ("a/b.csv"): components
 * separated by one '/', each passing name_check(); so not empty, not
 * absolute, no "//", no trailing '/', no "." or ".." component.  Else
 * -EINVAL and *ret_why (static text, "is absolute", "has a component
 * '.' or '..'", ...).
 */
int name_check_path(const char *path, size_t n, const char **ret_why);

/*
 * 0 if @name is an artifact name CMF and the mount can both show:
 * "PATH" or "PATH:SUFFIX", PATH passing name_check_path() and SUFFIX (the
 * md5, execution id, uuid... that CMF appends) free of '/' and of control
 * characters; valid UTF-8, at most ARTIFACT_NAME_MAX_BYTES bytes.  Upstream
 * forms pass: "data/x.csv:MD5", "models/m.pkl:MD5:7", "metrics:UUID:7",
 * "cmf_artifacts/UUID/metrics/loss:MD5:7:UUID", a bare UUID.  Else -EINVAL
 * and *ret_why (static text).
 */
int name_check_artifact(const char *name, const char **ret_why);

/*
 * 0 if @key may be a property key: what name_check() accepts, and ':'
 * (metric names such as "val:loss" are keys, never split).  Else -EINVAL
 * and *ret_why (static text).
 */
int name_check_key(const char *key, const char **ret_why);

/*
 * 0 if @uri may be an artifact's uri: an object id ("MD5", "MD5.dir", a
 * uuid, a hash of another kind): 1 to 255 printable ASCII characters, no
 * '/', no space, not starting with '.' (the first two characters name a
 * directory of MOUNT/artifacts/by-hash/).  Else -EINVAL and *ret_why.
 */
int name_check_uri(const char *uri, const char **ret_why);

#endif
