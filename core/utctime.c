/* SPDX-License-Identifier: MIT */
/* Times as text (utctime.h). */
#include "utctime.h"

#include <stdio.h>
#include <time.h>

char *utc_iso(int64_t ms, bool millis, char buf[UTC_ISO_MAX])
{
	/* the second that holds @ms, rounding down before the epoch too */
	time_t sec = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	char base[UTC_ISO_MAX];
	struct tm tm;

	buf[0] = '\0';
	if (!gmtime_r(&sec, &tm) ||
	    !strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm))
		return buf;
	/* base is 19 bytes for the years 0 to 9999, more only beyond */
	if (millis)
		snprintf(buf, UTC_ISO_MAX, "%.19s.%03uZ", base,
			 (unsigned)(ms - (int64_t)sec * 1000) % 1000u);
	else
		snprintf(buf, UTC_ISO_MAX, "%.19sZ", base);
	return buf;
}
