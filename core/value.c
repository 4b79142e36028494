/* SPDX-License-Identifier: MIT */
/* Typed property values; see value.h. */
#include "value.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void value_parse(const char *text, struct value *ret)
{
	char *end;
	long long ll;
	double d;

	memset(ret, 0, sizeof(*ret));
	ret->kind = VALUE_STRING;
	ret->s = text;
	if (!*text)
		return;
	/* reject forms strtoll/strtod accept but a user would not mean */
	if (text[0] == ' ' || text[0] == '\t' || text[0] == '+')
		return;
	errno = 0;
	ll = strtoll(text, &end, 10);
	if (!errno && *end == '\0') {
		ret->kind = VALUE_INT;
		ret->i = ll;
		return;
	}
	/* decimal only: no hex floats, no inf/nan */
	if (strpbrk(text, "xXnNiI"))
		return;
	/* an underflow (ERANGE, 0 or a subnormal) is a number, as Python's
	 * float() reads it; an overflow gives inf */
	d = strtod(text, &end);
	if (*end == '\0' && isfinite(d)) {
		ret->kind = VALUE_DOUBLE;
		ret->d = d;
	}
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

char *value_trim(char *buf, size_t *len)
{
	size_t start = 0, end = *len;

	while (start < end && is_space(buf[start]))
		start++;
	while (end > start && is_space(buf[end - 1]))
		end--;
	buf[end] = '\0';
	*len = end - start;
	return buf + start;
}
