/* SPDX-License-Identifier: MIT */
/*
 * Times as text: ISO 8601 in UTC ("2024-05-01T12:00:00Z"), the one spelling
 * the journal, the status, the comparison tables, the report and the
 * OpenLineage events use.
 */
#ifndef CMFFS_UTCTIME_H
#define CMFFS_UTCTIME_H

#include <stdbool.h>
#include <stdint.h>

#define UTC_ISO_MAX 32	/* bytes a buffer for utc_iso() needs */

/*
 * @ms milliseconds since the epoch (before it too) into @buf:
 * "YYYY-MM-DDTHH:MM:SSZ", or with @millis "YYYY-MM-DDTHH:MM:SS.mmmZ".
 * Returns @buf; "" if the time cannot be written.
 */
char *utc_iso(int64_t ms, bool millis, char buf[UTC_ISO_MAX]);

#endif
