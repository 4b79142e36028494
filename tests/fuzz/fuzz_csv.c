/* SPDX-License-Identifier: MIT */
/* libFuzzer: step metrics CSV written by users. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "csvcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("csv", 0);
	char *err = NULL;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size)
		(void)csv_check(fd, &err);
	free(err);
	close(fd);
	return 0;
}
