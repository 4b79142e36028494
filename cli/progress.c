/* SPDX-License-Identifier: MIT */
/* The transfer commands' progress line; see progress.h. */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "meter.h"

void progress_view_init(struct progress_view *v, const char *verb)
{
	v->verb = verb;
	v->tty = isatty(STDERR_FILENO) == 1;
	v->shown = false;
	v->last = -1;
	clock_gettime(CLOCK_MONOTONIC, &v->start);
}

double progress_view_elapsed(const struct progress_view *v)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - v->start.tv_sec) +
	       (double)(now.tv_nsec - v->start.tv_nsec) / 1e9;
}

void progress_view_show(struct progress_view *v, unsigned done,
			unsigned total, unsigned failed, uint64_t bytes_done,
			uint64_t bytes_total)
{
	struct meter m = {
		.verb = v->verb, .done = done, .total = total,
		.failed = failed, .bytes_done = bytes_done,
		.bytes_total = bytes_total,
	};
	char line[256];

	if (!v->tty)
		return;
	m.elapsed = progress_view_elapsed(v);
	if (done < total && v->last >= 0 && m.elapsed - v->last < 0.1)
		return;
	v->last = m.elapsed;
	meter_format(&m, line, sizeof(line));
	/* carriage return, the line, erase to its end */
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	v->shown = true;
}

void progress_view_end(struct progress_view *v)
{
	if (v->shown)
		fputc('\n', stderr);
	v->shown = false;
}
