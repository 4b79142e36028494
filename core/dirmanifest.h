/* SPDX-License-Identifier: MIT */
/*
 * DVC 3 directory manifests (doc/cmf-upstream.md §1.7): the bytes of a `.dir`
 * object are Python's
 *   json.dumps(sorted(entries, key=relpath), sort_keys=True)
 * of entries {"md5": "<file md5>", "relpath": "<posix path>"}, with default
 * separators and ensure_ascii; the directory's hash is md5(bytes) + ".dir".
 * These functions write and read exactly that, byte for byte.
 */
#ifndef CMFFS_DIRMANIFEST_H
#define CMFFS_DIRMANIFEST_H

#include <stddef.h>

#include "hash.h"

#define DIR_OID_LEN (MD5_HEX_LEN + 4)	/* "<md5>.dir" */

struct manifest_entry {
	char *relpath;	/* "a/b.csv" */
	char md5[MD5_HEX_LEN + 1];
};

/* The largest manifest made: 2 GiB, some 20 million files. */
#define MANIFEST_MAX_BYTES ((size_t)2 << 30)

/*
 * Serialize @entries (sorted in place by relpath) into *ret_bytes (owned)
 * and give the object id "<md5>.dir" in @ret_oid.  -EINVAL for a relpath
 * that is not valid UTF-8.
 */
int manifest_build(struct manifest_entry *entries, size_t n, char **ret_bytes,
		   size_t *ret_len, char ret_oid[DIR_OID_LEN + 1]);

/*
 * Parse manifest bytes (from a remote: untrusted).  Every relpath must be a
 * relative path whose components can be stored (names.h) - no "..", no
 * absolute path - and every md5 32 lowercase hex digits; else -EINVAL with
 * an owned reason in *ret_err.  *ret_entries (owned, free with
 * manifest_free) has *ret_n entries.
 */
int manifest_parse(const char *bytes, size_t len,
		   struct manifest_entry **ret_entries, size_t *ret_n,
		   char **ret_err);
void manifest_free(struct manifest_entry *entries, size_t n);

/* True if @oid is "<32 hex>.dir". */
int manifest_is_oid(const char *oid);

#endif
