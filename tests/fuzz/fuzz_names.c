/* SPDX-License-Identifier: MIT */
/* libFuzzer: names and property values given by users. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *why;
	struct value v;
	size_t len = size;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)utf8_valid(s, size);
	if (name_check(s, &why) == 0 && (!utf8_valid(s, strlen(s)) || strchr(s, ':')))
		abort();	/* accepted a name that cannot be stored */
	value_parse(value_trim(s, &len), &v);
	free(s);
	return 0;
}
