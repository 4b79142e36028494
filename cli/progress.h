/* SPDX-License-Identifier: MIT */
/*
 * The progress line of the transfer commands (cmffs fetch, push, pull):
 * when stderr is a terminal, one line redrawn in place at most ten times a
 * second (core/meter.h words it); otherwise nothing, so logs stay clean.
 * The command prints its own summary line when done.
 */
#ifndef CMFFS_PROGRESS_H
#define CMFFS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct progress_view {
	const char *verb;	/* borrowed */
	bool tty;
	bool shown;		/* a line is on the terminal */
	struct timespec start;
	double last;		/* elapsed seconds at the last redraw */
};

void progress_view_init(struct progress_view *v, const char *verb);

/* Redraw (throttled; the final count, done == total, always shows). */
void progress_view_show(struct progress_view *v, unsigned done,
			unsigned total, unsigned failed, uint64_t bytes_done,
			uint64_t bytes_total);

/* End the line on the terminal, if one was drawn. */
void progress_view_end(struct progress_view *v);

/* Seconds since progress_view_init(). */
double progress_view_elapsed(const struct progress_view *v);

#endif
