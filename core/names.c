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

/* Why a name is refused; the same causes, said of a name or of a component. */
enum why {
	WHY_EMPTY,
	WHY_LONG,
	WHY_DOT,
	WHY_COLON,
	WHY_SLASH,
	WHY_CONTROL,
	WHY_UTF8,
	_WHY_MAX,
};

static const char *const why_name[_WHY_MAX] = {
	[WHY_EMPTY] = "is empty",
	[WHY_LONG] = "is longer than 255 bytes",
	[WHY_DOT] = "is '.' or '..'",
	[WHY_COLON] = "contains ':' (CMF splits artifact names at ':')",
	[WHY_SLASH] = "contains '/'",
	[WHY_CONTROL] = "contains a control character",
	[WHY_UTF8] = "is not valid UTF-8",
};

static const char *const why_component[_WHY_MAX] = {
	[WHY_EMPTY] = "has an empty component (a doubled or trailing '/')",
	[WHY_LONG] = "has a component longer than 255 bytes",
	[WHY_DOT] = "has a component '.' or '..'",
	[WHY_COLON] = "has a component with ':'",
	[WHY_SLASH] = "contains '/'",
	[WHY_CONTROL] = "contains a control character",
	[WHY_UTF8] = "is not valid UTF-8",
};

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * -1 if @s[0..n) is a storable name, else the cause; ':' is allowed when
 * @colon_ok.
 */
static int component_why(const char *s, size_t n, bool colon_ok)
{
	size_t i;

	if (n == 0)
		return WHY_EMPTY;
	if (n > NAME_MAX_BYTES)
		return WHY_LONG;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return WHY_DOT;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ':' && !colon_ok)
			return WHY_COLON;
		if (c == '/')
			return WHY_SLASH;
		if (is_control(c))
			return WHY_CONTROL;
	}
	if (!utf8_valid(s, n))
		return WHY_UTF8;
	return -1;
}

int name_check(const char *name, const char **ret_why)
{
	int w = component_why(name, strlen(name), false);

	if (w < 0)
		return 0;
	*ret_why = why_name[w];
	return -EINVAL;
}

int name_check_key(const char *key, const char **ret_why)
{
	int w = component_why(key, strlen(key), true);

	if (w < 0)
		return 0;
	*ret_why = why_name[w];
	return -EINVAL;
}

int name_check_path(const char *path, size_t n, const char **ret_why)
{
	size_t i = 0;

	if (n == 0) {
		*ret_why = "is empty";
		return -EINVAL;
	}
	if (path[0] == '/') {
		*ret_why = "is absolute";
		return -EINVAL;
	}
	while (i <= n) {
		const char *slash = memchr(path + i, '/', n - i);
		size_t len = slash ? (size_t)(slash - (path + i)) : n - i;
		int w = component_why(path + i, len, false);

		if (w >= 0) {
			*ret_why = why_component[w];
			return -EINVAL;
		}
		i += len + 1;
	}
	return 0;
}

int name_check_artifact(const char *name, const char **ret_why)
{
	size_t n = strlen(name), plen = strcspn(name, ":"), i;

	if (n > ARTIFACT_NAME_MAX_BYTES) {
		*ret_why = "is longer than 4096 bytes";
		return -EINVAL;
	}
	if (name_check_path(name, plen, ret_why) < 0)
		return -EINVAL;
	for (i = plen; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/') {
			*ret_why = "has a '/' after its first ':'";
			return -EINVAL;
		}
		if (is_control(c)) {
			*ret_why = "contains a control character";
			return -EINVAL;
		}
	}
	if (!utf8_valid(name + plen, n - plen)) {
		*ret_why = "is not valid UTF-8";
		return -EINVAL;
	}
	return 0;
}

int name_check_uri(const char *uri, const char **ret_why)
{
	size_t n = strlen(uri), i;

	if (n == 0 || n > NAME_MAX_BYTES) {
		*ret_why = "is empty or longer than 255 bytes";
		return -EINVAL;
	}
	if (uri[0] == '.') {
		*ret_why = "starts with '.'";
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)uri[i];

		if (c <= 0x20 || c >= 0x7f || c == '/') {
			*ret_why = "is not an object id (printable ASCII without '/' or spaces)";
			return -EINVAL;
		}
	}
	return 0;
}
