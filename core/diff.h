/* SPDX-License-Identifier: MIT */
/*
 * Differences between two executions (`cmffs diff WS A B`, E/diff/OTHER)
 * and between two DVC directory manifests (`cmffs diff WS --dir A B`).
 *
 * Text: nothing when there is no difference (as diff(1)); else a header
 * "--- A (STATE, START, commit C)" / "+++ B (...)", then one line per
 * difference, sorted by section then name, each named as compare.h names
 * columns (the file of the execution it comes from):
 *   ~ properties/KEY: OLD -> NEW
 *   + properties/KEY: NEW			(only B has it)
 *   - properties/KEY: OLD			(only A has it)
 *   ~ metrics/NAME.json:KEY: OLD -> NEW (+DELTA, +PCT%)
 *   ~ inputs/PATH: MD5 -> MD5		(outputs/PATH likewise)
 * DELTA is B - A, PCT is DELTA / |A| in percent (left out when A is 0).
 * Compared: custom properties but Pid (the pid of the process that made
 * the execution differs between any two), final metrics (compare.h),
 * inputs and outputs by name and hash (the last version of each name).
 * Manifests: "--- A" / "+++ B", then "+ PATH: MD5", "- PATH: MD5",
 * "~ PATH: MD5 -> MD5" by path.  Untrusted text (values, names) is
 * escaped to one line (sb_put_escaped()).
 *
 * JSON (DIFF_JSON): one object {"a", "b", "same", then per section
 * ("properties", "metrics", "inputs", "outputs"; "files" for manifests) an
 * array of {"name", "change": "added"|"removed"|"changed", "a", "b"}, with
 * "delta" and "relative" (percent) for numbers that changed}; values are
 * JSON numbers where they are numbers.
 */
#ifndef CMFFS_DIFF_H
#define CMFFS_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas.h"
#include "dirmanifest.h"
#include "model.h"

enum diff_flags {
	DIFF_JSON = 1 << 0,
};

/*
 * The differences from execution @a to execution @b (B - A), in text or
 * JSON.  *@ret_text owned; *@ret_same says whether there are none.
 * -ENOENT if either execution does not exist.  0 or -errno.
 */
int diff_executions(struct model *m, struct cas *cas, int64_t a, int64_t b,
		    unsigned flags, char **ret_text, size_t *ret_len,
		    bool *ret_same);

/*
 * The differences between the DVC manifests @bytes_a and @bytes_b
 * (dirmanifest.h, untrusted), labelled @label_a and @label_b.  -EINVAL
 * with an owned reason in *@ret_err when one is not a manifest.
 */
int diff_manifests(const char *label_a, const char *bytes_a, size_t len_a,
		   const char *label_b, const char *bytes_b, size_t len_b,
		   unsigned flags, char **ret_text, size_t *ret_len,
		   bool *ret_same, char **ret_err);

/*
 * The execution "P/S/E" names (as below the mount's pipelines/).
 * -EINVAL if @path is not three names, -ENOENT if it names nothing.
 */
int diff_find_execution(struct model *m, const char *path, int64_t *ret_id);

/*
 * The object of the committed directory "P/S/E/inputs/PATH" (or outputs/):
 * "<md5>.dir" into @ret_oid.  -ENOENT, -ENOTDIR (a file, or a directory not
 * committed with DIR/.commit), -EINVAL (not such a path).
 */
int diff_find_dir(struct model *m, const char *path,
		  char ret_oid[DIR_OID_LEN + 1]);

#endif
