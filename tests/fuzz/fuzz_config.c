/* SPDX-License-Identifier: MIT */
/* libFuzzer: .cmfconfig (and what cmffs writes back). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[] = "/tmp/cmffs-fuzz-cfg-XXXXXX", out[64];
	struct config *c = NULL, *d = NULL;
	char *err = NULL;
	int fd = mkstemp(in);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size &&
	    config_load(in, &c, &err) == 0) {
		snprintf(out, sizeof(out), "%s.out", in);
		/* what loads and saves must load again */
		if (config_save(c, out) == 0) {
			free(err);
			err = NULL;
			if (config_load(out, &d, &err) != 0)
				abort();
		}
		unlink(out);
	}
	close(fd);
	unlink(in);
	config_free(c);
	config_free(d);
	free(err);
	return 0;
}
