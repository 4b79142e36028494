/* SPDX-License-Identifier: MIT */
/* libFuzzer: DVC .dir manifests from a remote (untrusted).  A manifest
 * that parses must serialize and parse back to the same entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dirmanifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest_entry *v = NULL, *w = NULL;
	char *err = NULL, *bytes = NULL, oid[DIR_OID_LEN + 1];
	size_t n = 0, m = 0, len = 0, i;

	if (manifest_parse((const char *)data, size, &v, &n, &err) == 0) {
		if (manifest_build(v, n, &bytes, &len, oid) == 0) {
			if (manifest_parse(bytes, len, &w, &m, &err) != 0 || m != n)
				abort();
			for (i = 0; i < n; i++)
				if (strcmp(v[i].relpath, w[i].relpath) ||
				    strcmp(v[i].md5, w[i].md5))
					abort();
		}
	}
	manifest_free(v, n);
	manifest_free(w, m);
	free(bytes);
	free(err);
	return 0;
}
