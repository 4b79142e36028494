/* SPDX-License-Identifier: MIT */
/*
 * Line charts as standalone SVG text: pure rendering, no I/O and no SQL.
 *
 * A figure is one or more panels stacked top to bottom, 800 px wide, all
 * sharing one x range (fixed when the figure is made, so that points can be
 * binned as they arrive); each panel has its own y range, axes with round
 * ticks, a title and a legend, and draws each of its series as exactly one
 * <path> (nothing else in the figure is a <path>: grid and legend swatches
 * are <line>s).  Every text that comes from outside (titles, labels) is
 * XML-escaped.
 *
 * Bounded work: a series keeps, per pixel column of the plot area, at most
 * four points (the first, the last, the lowest and the highest that fell
 * into it: what a line drawn through all of them would show at that
 * width), so memory, rendering time and the SVG's size do not grow with
 * the number of points added.
 *
 * A struct plot belongs to one caller at a time.
 */
#ifndef CMFFS_SVGPLOT_H
#define CMFFS_SVGPLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLOT_WIDTH 800		/* px, the figure's width and viewBox */
#define PLOT_BINS 700		/* px, the width of a panel's plot area */
#define PLOT_SERIES_MAX 128	/* series of a figure, all panels */
#define PLOT_PANELS_MAX 32
#define PLOT_TICKS_MAX 16

/* Round tick values covering [lo, hi]. */
struct plot_ticks {
	double lo, hi;		/* the axis range: the first and last tick */
	double step;		/* 1, 2 or 5 times a power of ten */
	int n;			/* ticks in v */
	int decimals;		/* digits after the point a label needs */
	double v[PLOT_TICKS_MAX];
};

/*
 * Ticks for data in [@lo, @hi] (any order; equal values get a range
 * around them; non-finite values give [0, 1]): about @want of them (2 to
 * PLOT_TICKS_MAX - 2), at multiples of a round step, the first at or below
 * the lowest value and the last at or above the highest.
 */
void plot_ticks(double lo, double hi, int want, struct plot_ticks *ret);

/*
 * The label of tick value @v of @t into @buf (at most @size bytes):
 * fixed point with t->decimals digits; with a step of 1000 or more a
 * short one with k, M, G or T ("200k", "1.5M"); %g for very large or
 * very small ranges; never "-0".
 */
void plot_tick_label(const struct plot_ticks *t, double v, char *buf,
		     size_t size);

struct plot;

/*
 * A new figure whose x axis covers [@xmin, @xmax] (the data's range; the
 * axis is widened to round ticks), labelled @xlabel (borrowed; copied).
 * Points outside the range are drawn at its edges.  *ret owned: free with
 * plot_free().  0 or -ENOMEM.
 */
int plot_new(double xmin, double xmax, const char *xlabel,
	     struct plot **ret);
void plot_free(struct plot *p);		/* NULL-safe */

/*
 * Add a panel titled @title (copied) below the others: its index in
 * *ret_panel.  -ENOSPC past PLOT_PANELS_MAX, -ENOMEM.
 */
int plot_panel(struct plot *p, const char *title, size_t *ret_panel);

/*
 * Add a series named @label (copied; the legend's text) to panel @panel,
 * drawn in colour number @color (a palette of ten, then the same with
 * dashes): its index in *ret_series.  -ENOSPC past PLOT_SERIES_MAX,
 * -EINVAL for a panel that does not exist, -ENOMEM.
 */
int plot_series(struct plot *p, size_t panel, const char *label,
		unsigned color, size_t *ret_series);

/*
 * Add point (@x, @y) to series @series, in order: a point that is not
 * finite is ignored.  Cannot fail.
 */
void plot_point(struct plot *p, size_t series, double x, double y);

/* Points added to @series so far (finite ones), before downsampling. */
uint64_t plot_series_count(const struct plot *p, size_t series);

/* A point as drawn, after downsampling. */
struct plot_point {
	double x, y;
};

/*
 * The points series @series keeps, in the order the line joins them
 * (left to right, and within a pixel column in the order they were
 * added): at most 4 * PLOT_BINS.  Up to @cap of them into @out; returns
 * how many it keeps.
 */
size_t plot_series_points(const struct plot *p, size_t series,
			  struct plot_point *out, size_t cap);

/*
 * Add a line of text (copied) shown at the bottom of the figure: what was
 * left out, why a panel is empty.  -ENOMEM.
 */
int plot_note(struct plot *p, const char *text);

/*
 * The figure as a standalone SVG document (xmlns, viewBox, width 800;
 * no XML declaration, so that the text may also be put inline in HTML),
 * one <g class="panel"> per panel; a panel without points says so.
 * *ret_text owned.  0 or -ENOMEM.
 */
int plot_svg(const struct plot *p, char **ret_text, size_t *ret_len);

#endif
