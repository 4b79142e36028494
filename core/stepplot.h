/* SPDX-License-Identifier: MIT */
/*
 * Charts of step metrics (E/metrics/NAME.csv: a header of column names,
 * then one row per step; csvcheck.h) as SVG (svgplot.h).  Reads the CSV
 * bytes from file descriptors the caller opened; no SQL, no FUSE.
 *
 * The step column is the x axis: the column upstream's commit_metrics()
 * names SequenceNumber (the index of the metrics it writes), or one named
 * "step" in any case; without one (or if it is not numeric) the row
 * number, 1 for the first row after the header (upstream numbers steps
 * from 1).  A column is numeric when every non-empty field of it parses
 * as a number (nan and inf count, and are not drawn) and at least one is
 * finite; every other column is left out.  Rows whose step is empty are
 * left out too.
 *
 * Work and memory are bounded whatever the size of the CSV: two passes
 * over its bytes (the first finds the columns and the x range, the second
 * bins the points per pixel column: svgplot.h), fields of at most
 * STEPPLOT_FIELD_MAX bytes (longer ones are not numbers), and at most
 * STEPPLOT_COLUMNS_MAX columns (the rest are left out, with a note).
 */
#ifndef CMFFS_STEPPLOT_H
#define CMFFS_STEPPLOT_H

#include <stddef.h>

#define STEPPLOT_FIELD_MAX 1024
#define STEPPLOT_COLUMNS_MAX 1024

/*
 * E/metrics/NAME.svg: one panel titled @name (borrowed), one line per
 * numeric column of the CSV read from @fd (borrowed; read with pread from
 * offset 0), named after the column.  @fd -1: no bytes (the file has no
 * version yet, or they cannot be read here): an empty chart that says
 * @why (borrowed; may be NULL).  *ret_text owned.  0, -ENOMEM, or the
 * read's -errno.
 */
int stepplot_columns_svg(const char *name, int fd, const char *why,
			 char **ret_text, size_t *ret_len);

/* One CSV of an overlay: an execution's version of NAME.csv. */
struct stepplot_src {
	int fd;			/* borrowed; -1: no bytes (@why says why) */
	const char *label;	/* the execution's name, for the legend */
	const char *why;	/* NULL, or why there are no bytes */
};

/*
 * S/metrics/NAME.svg: every execution of a stage overlaid, as TensorBoard
 * shows one chart per scalar with one line per run: one panel per numeric
 * column (titled "NAME: COLUMN"; columns in the order they first appear),
 * in each one line per source that has that column, named @src[i].label
 * and coloured by i, so an execution keeps its colour in every panel.
 * Sources without bytes, and what did not fit (PLOT_PANELS_MAX,
 * PLOT_SERIES_MAX), are named in notes.  *ret_text owned.  0 or -errno as
 * above (a source that cannot be read is a note, not an error).
 */
int stepplot_overlay_svg(const char *name, const struct stepplot_src *src,
			 size_t n, char **ret_text, size_t *ret_len);

#endif
