/* SPDX-License-Identifier: MIT */
/*
 * Progress of a long transfer (cmffs fetch, push, pull) as one line of
 * text: objects done of all, bytes done of all, the rate, and the time
 * left, e.g. "fetch: 12/40 objects, 1.2 GiB of 3.4 GiB, 45.6 MiB/s,
 * 0:32 left".  Pure formatting: the caller measures and prints.
 */
#ifndef CMFFS_METER_H
#define CMFFS_METER_H

#include <stddef.h>
#include <stdint.h>

struct meter {
	const char *verb;	/* "fetch", "push", ... borrowed */
	unsigned done;		/* objects finished (failed ones included) */
	unsigned total;
	unsigned failed;
	uint64_t bytes_done;
	uint64_t bytes_total;	/* 0: unknown, no byte figures shown */
	double elapsed;		/* seconds since the transfer started */
};

/*
 * @n bytes for a person: "512 B", "1.5 KiB", "12.0 MiB", "3.4 GiB", ...
 * into @buf (at least 16 bytes).
 */
void meter_bytes(uint64_t n, char *buf, size_t len);

/*
 * The progress line of @m into @buf (truncated to @len - 1 bytes).  The
 * rate is bytes done over elapsed time, shown once a tenth of a second
 * has passed; the time left (H:MM:SS or M:SS) follows from the rate and
 * the bytes left, or from the objects left when no byte total is known.
 */
void meter_format(const struct meter *m, char *buf, size_t len);

#endif
