/* SPDX-License-Identifier: MIT */
/* Name validation; see names.h. */
#include "names.h"

#include <errno.h>
#include <string.h>

bool utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len, k;
		unsigned long cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

int name_check(const char *name, const char **ret_why)
{
	size_t n = strlen(name), i;

	if (n == 0) {
		*ret_why = "is empty";
		return -EINVAL;
	}
	if (n > NAME_MAX_BYTES) {
		*ret_why = "is longer than 255 bytes";
		return -EINVAL;
	}
	if (!strcmp(name, ".") || !strcmp(name, "..")) {
		*ret_why = "is '.' or '..'";
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == ':') {
			*ret_why = "contains ':' (CMF splits artifact names at ':')";
			return -EINVAL;
		}
		if (c == '/') {
			*ret_why = "contains '/'";
			return -EINVAL;
		}
		if (c < 0x20 || c == 0x7f) {
			*ret_why = "contains a control character";
			return -EINVAL;
		}
	}
	if (!utf8_valid(name, n)) {
		*ret_why = "is not valid UTF-8";
		return -EINVAL;
	}
	return 0;
}
