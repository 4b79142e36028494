/* SPDX-License-Identifier: MIT */
/* URL text; see urltext.h. */
#include "urltext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *url_redact(const char *url)
{
	const char *auth, *end, *at, *colon;
	char *out = NULL;

	if (!url)
		return NULL;
	auth = strstr(url, "://");
	if (!auth)
		return strdup(url);
	auth += 3;
	end = auth + strcspn(auth, "/?#");	/* the authority */
	at = NULL;
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;	/* the last '@': userinfo may hold more */
	if (!at)
		return strdup(url);
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (!colon)
		return strdup(url);	/* a user name alone is no secret */
	if (asprintf(&out, "%.*s***%s", (int)(colon + 1 - url), url, at) < 0)
		return NULL;
	return out;
}
