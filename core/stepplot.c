/* SPDX-License-Identifier: MIT */
/* Step metrics CSV to SVG charts; see stepplot.h. */
#include "stepplot.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "svgplot.h"

#define NOTES_MAX 8		/* sources without bytes named one by one */

/* --- reading CSV: RFC 4180 fields, pulled one by one ---------------------- */

struct field {
	char text[STEPPLOT_FIELD_MAX + 1];	/* NUL-terminated */
	size_t len;
	bool cut;		/* longer than STEPPLOT_FIELD_MAX */
	bool quoted;
};

struct csvr {
	int fd;
	off_t off;		/* where the next pread starts */
	size_t pos, len;	/* in buf */
	bool eof;
	int err;		/* pread's -errno, sticky */
	struct field f;		/* the field just read */
	char buf[65536];
};

enum { FIELD_NONE, FIELD_MORE, FIELD_LAST };

/* The next byte, or -1 at the end of the bytes or on an error (r->err). */
static inline int csvr_byte(struct csvr *r)
{
	ssize_t n;

	if (r->pos < r->len)
		return (unsigned char)r->buf[r->pos++];
	while (!r->eof) {
		n = pread(r->fd, r->buf, sizeof(r->buf), r->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->err = n < 0 ? -errno : 0;
			r->eof = true;
			break;
		}
		r->off += n;
		r->len = (size_t)n;
		r->pos = 1;
		return (unsigned char)r->buf[0];
	}
	return -1;
}

static void field_put(struct field *f, int c)
{
	if (f->len < STEPPLOT_FIELD_MAX)
		f->text[f->len++] = (char)c;
	else
		f->cut = true;
}

/*
 * The next field into r->f: FIELD_MORE if more fields of its record
 * follow, FIELD_LAST if it ends the record, FIELD_NONE at the end of the
 * bytes; -errno if they cannot be read.
 */
static int csvr_field(struct csvr *r)
{
	struct field *f = &r->f;
	bool in_quotes = false, after_quote = false, any = false;
	int c;

	f->len = 0;
	f->cut = false;
	f->quoted = false;
	for (;;) {
		f->text[f->len] = '\0';
		c = csvr_byte(r);
		if (c < 0) {
			if (r->err)
				return r->err;
			return any ? FIELD_LAST : FIELD_NONE;
		}
		any = true;
		if (in_quotes) {
			if (c == '"') {
				in_quotes = false;
				after_quote = true;
			} else {
				field_put(f, c);
			}
			continue;
		}
		if (after_quote) {
			after_quote = false;
			if (c == '"') {		/* "" inside quotes */
				field_put(f, c);
				in_quotes = true;
				continue;
			}
		}
		if (c == ',')
			return FIELD_MORE;
		if (c == '\n')
			return FIELD_LAST;
		if (c == '\r')
			continue;
		if (c == '"' && f->len == 0 && !f->quoted) {
			in_quotes = true;
			f->quoted = true;
			continue;
		}
		field_put(f, c);
	}
}

typedef void (*field_fn)(void *ud, size_t col, const struct field *f);

/*
 * Read the next record (blank lines are skipped), calling @fn for each of
 * its fields with its column number.  1 when a record was read, 0 at the
 * end of the bytes, -errno.
 */
static int csvr_record(struct csvr *r, field_fn fn, void *ud)
{
	size_t col;
	int k;

	do {
		k = csvr_field(r);
		if (k <= FIELD_NONE)
			return k;
	} while (k == FIELD_LAST && r->f.len == 0 && !r->f.quoted);
	for (col = 0;; col++) {
		fn(ud, col, &r->f);
		if (k == FIELD_LAST)
			return 1;
		k = csvr_field(r);
		if (k < 0)
			return k;
		if (k == FIELD_NONE)
			return 1;
	}
}

static struct csvr *csvr_new(int fd)
{
	struct csvr *r = calloc(1, sizeof(*r));

	if (r)
		r->fd = fd;
	return r;
}

enum num_kind {
	NUM_EMPTY,	/* nothing but blanks */
	NUM_FINITE,
	NUM_OTHER,	/* nan, inf: a number, not drawn */
	NUM_NOT,	/* not a number */
};

static enum num_kind parse_num(const struct field *f, double *ret)
{
	const char *s = f->text;
	char *end;
	double v;

	if (f->cut)
		return NUM_NOT;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NUM_EMPTY;
	v = strtod(s, &end);
	if (end == s)
		return NUM_NOT;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end)
		return NUM_NOT;
	if (!isfinite(v))
		return NUM_OTHER;
	*ret = v;
	return NUM_FINITE;
}

/* --- what the first pass learns of one CSV -------------------------------- */

struct column {
	char *name;		/* owned */
	bool not_numeric;	/* a field that is not a number */
	uint64_t finite;	/* finite values */
	double lo, hi;		/* their range */
};

struct table {
	struct column *cols;	/* ncols, at most STEPPLOT_COLUMNS_MAX */
	size_t ncols;
	size_t dropped;		/* columns past STEPPLOT_COLUMNS_MAX */
	bool header_done;
	uint64_t rows;		/* records after the header */
	long step;		/* the step column, or -1: the row number */
	int err;		/* -ENOMEM while reading the header */
};

static void table_release(struct table *t)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	free(t->cols);
	memset(t, 0, sizeof(*t));
}

static void header_field(void *ud, size_t col, const struct field *f)
{
	struct table *t = ud;
	struct column *c;

	if (col >= STEPPLOT_COLUMNS_MAX) {
		t->dropped++;
		return;
	}
	if (col != t->ncols)
		return;
	c = &t->cols[t->ncols];
	c->name = strdup(f->text);
	if (!c->name) {
		t->err = -ENOMEM;
		return;
	}
	t->ncols++;
}

static void scan_field(void *ud, size_t col, const struct field *f)
{
	struct table *t = ud;
	struct column *c;
	double v;

	if (col >= t->ncols)
		return;
	c = &t->cols[col];
	switch (parse_num(f, &v)) {
	case NUM_FINITE:
		if (!c->finite || v < c->lo)
			c->lo = v;
		if (!c->finite || v > c->hi)
			c->hi = v;
		c->finite++;
		break;
	case NUM_NOT:
		c->not_numeric = true;
		break;
	default:
		break;
	}
}

static bool numeric(const struct column *c)
{
	return !c->not_numeric && c->finite > 0;
}

/* Is @name the step column's name (blanks around it do not count)? */
static bool step_name(const char *name)
{
	size_t n;

	while (*name == ' ')
		name++;
	n = strlen(name);
	while (n && name[n - 1] == ' ')
		n--;
	return (n == 14 && !strncmp(name, "SequenceNumber", 14)) ||
	       (n == 4 && !strncasecmp(name, "step", 4));
}

/* First pass over @fd: the columns, their kinds and ranges.  0/-errno. */
static int table_scan(int fd, struct table *t)
{
	struct csvr *r = csvr_new(fd);
	size_t i;
	int k;

	memset(t, 0, sizeof(*t));
	t->step = -1;
	t->cols = calloc(STEPPLOT_COLUMNS_MAX, sizeof(*t->cols));
	if (!r || !t->cols) {
		free(r);
		return -ENOMEM;
	}
	while ((k = csvr_record(r, t->header_done ? scan_field : header_field,
				t)) == 1) {
		if (t->err)
			break;
		if (t->header_done)
			t->rows++;
		t->header_done = true;
	}
	free(r);
	if (t->err)
		return t->err;
	if (k < 0)
		return k;
	for (i = 0; i < t->ncols && t->step < 0; i++)
		if (step_name(t->cols[i].name) && numeric(&t->cols[i]))
			t->step = (long)i;
	return 0;
}

/* Is column @i of @t drawn as a line? */
static bool drawn(const struct table *t, size_t i)
{
	return (long)i != t->step && numeric(&t->cols[i]);
}

/* The x range of @t's rows; false if it has none. */
static bool table_xrange(const struct table *t, double *lo, double *hi)
{
	if (t->step >= 0) {
		*lo = t->cols[t->step].lo;
		*hi = t->cols[t->step].hi;
		return true;
	}
	if (!t->rows)
		return false;
	*lo = 1.0;
	*hi = (double)t->rows;
	return true;
}

/* --- the second pass: points into series ---------------------------------- */

struct pass {
	const struct table *t;
	struct plot *p;
	const size_t *series;	/* per column: a series, or SIZE_MAX */
	double *row;		/* per column: this row's value, NAN if none */
	double x;		/* this row's step; NAN if none */
};

static void point_field(void *ud, size_t col, const struct field *f)
{
	struct pass *ps = ud;
	double v;

	if (col >= ps->t->ncols)
		return;
	if ((long)col == ps->t->step) {
		if (parse_num(f, &v) == NUM_FINITE)
			ps->x = v;
		return;
	}
	if (ps->series[col] != SIZE_MAX && parse_num(f, &v) == NUM_FINITE)
		ps->row[col] = v;
}

/* Second pass over @fd: every row's values to the series of @series. */
static int table_points(int fd, const struct table *t, struct plot *p,
			const size_t *series)
{
	struct pass ps = { .t = t, .p = p, .series = series };
	struct csvr *r = csvr_new(fd);
	uint64_t rowno = 0;
	bool header = true;
	size_t i;
	int k;

	ps.row = calloc(t->ncols ? t->ncols : 1, sizeof(*ps.row));
	if (!r || !ps.row) {
		free(r);
		free(ps.row);
		return -ENOMEM;
	}
	for (;;) {
		for (i = 0; i < t->ncols; i++)
			ps.row[i] = NAN;
		ps.x = NAN;
		k = csvr_record(r, point_field, &ps);
		if (k <= 0)
			break;
		if (header) {
			header = false;
			continue;
		}
		rowno++;
		if (t->step < 0)
			ps.x = (double)rowno;
		for (i = 0; i < t->ncols; i++)
			if (series[i] != SIZE_MAX)
				plot_point(p, series[i], ps.x, ps.row[i]);
	}
	free(r);
	free(ps.row);
	return k;
}

/* The x axis's label: the step column's name, or "row". */
static const char *x_label(const struct table *t)
{
	return t && t->step >= 0 ? t->cols[t->step].name : "row";
}

static int finish(struct plot *p, int r, char **ret_text, size_t *ret_len)
{
	if (r == 0)
		r = plot_svg(p, ret_text, ret_len);
	plot_free(p);
	return r;
}

/* --- E/metrics/NAME.svg --------------------------------------------------- */

int stepplot_columns_svg(const char *name, int fd, const char *why,
			 char **ret_text, size_t *ret_len)
{
	struct table t = { .step = -1 };
	struct plot *p = NULL;
	double lo = 0.0, hi = 1.0;
	size_t *series = NULL, panel, i, wanted = 0;
	char note[128];
	int r = 0;

	if (fd >= 0) {
		r = table_scan(fd, &t);
		if (r < 0)
			goto out;
		table_xrange(&t, &lo, &hi);
	}
	r = plot_new(lo, hi, x_label(fd >= 0 ? &t : NULL), &p);
	if (r == 0)
		r = plot_panel(p, name, &panel);
	if (r == 0 && fd < 0)
		r = plot_note(p, why ? why : "no version of this file yet");
	if (r < 0 || fd < 0)
		goto out;
	series = calloc(t.ncols ? t.ncols : 1, sizeof(*series));
	if (!series) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < t.ncols; i++) {
		series[i] = SIZE_MAX;
		if (!drawn(&t, i))
			continue;
		r = plot_series(p, panel, t.cols[i].name, (unsigned)wanted++,
				&series[i]);
		if (r == -ENOSPC)
			series[i] = SIZE_MAX;
		else if (r < 0)
			goto out;
	}
	r = 0;
	if (wanted > PLOT_SERIES_MAX || t.dropped) {
		snprintf(note, sizeof(note),
			 "only the first %d numeric columns of %zu are drawn",
			 PLOT_SERIES_MAX, t.ncols + t.dropped);
		r = plot_note(p, note);
	}
	if (r == 0)
		r = table_points(fd, &t, p, series);
out:
	free(series);
	table_release(&t);
	return finish(p, r, ret_text, ret_len);
}

/* --- S/metrics/NAME.svg --------------------------------------------------- */

struct overlay {
	const struct stepplot_src *src;
	size_t n;
	struct table *t;	/* per source; ncols 0 when it has no bytes */
	size_t **series;	/* per source, per column */
	struct plot *p;
	const char *cols[PLOT_PANELS_MAX];	/* panel -> column name */
	size_t npanels;
	size_t dropped_cols, dropped_lines, silent;
};

static void overlay_release(struct overlay *o)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		if (o->t)
			table_release(&o->t[i]);
		if (o->series)
			free(o->series[i]);
	}
	free(o->t);
	free(o->series);
}

/* Panel of column @name, made if there is room; SIZE_MAX if none. */
static size_t overlay_panel(struct overlay *o, const char *name,
			    const char *metric, int *r)
{
	char title[600];
	size_t i, panel;

	for (i = 0; i < o->npanels; i++)
		if (!strcmp(o->cols[i], name))
			return i;
	if (o->npanels == PLOT_PANELS_MAX) {
		o->dropped_cols++;
		return SIZE_MAX;
	}
	snprintf(title, sizeof(title), "%.250s: %.250s", metric, name);
	*r = plot_panel(o->p, title, &panel);
	if (*r < 0)
		return SIZE_MAX;
	o->cols[o->npanels++] = name;
	return panel;
}

/* Read every source's columns; the x range of them all into @lo, @hi. */
static int overlay_scan(struct overlay *o, double *lo, double *hi,
			const char **xlabel)
{
	bool any = false;
	double a, b;
	size_t i;
	int r;

	for (i = 0; i < o->n; i++) {
		o->t[i].step = -1;
		if (o->src[i].fd < 0)
			continue;
		r = table_scan(o->src[i].fd, &o->t[i]);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			/* unreadable: like a source without bytes */
			table_release(&o->t[i]);
			o->t[i].step = -1;
			continue;
		}
		if (!table_xrange(&o->t[i], &a, &b))
			continue;
		if (!any || a < *lo)
			*lo = a;
		if (!any || b > *hi)
			*hi = b;
		if (!any)
			*xlabel = x_label(&o->t[i]);
		any = true;
	}
	return 0;
}

/* Panels per column, then one series per (panel, source having it). */
static int overlay_series(struct overlay *o, const char *metric)
{
	size_t i, c, panel;
	int r = 0;

	for (i = 0; i < o->n; i++) {
		o->series[i] = malloc((o->t[i].ncols ? o->t[i].ncols : 1) *
				      sizeof(**o->series));
		if (!o->series[i])
			return -ENOMEM;
		for (c = 0; c < o->t[i].ncols; c++) {
			o->series[i][c] = SIZE_MAX;
			if (drawn(&o->t[i], c))
				overlay_panel(o, o->t[i].cols[c].name, metric,
					      &r);
			if (r < 0)
				return r;
		}
	}
	for (panel = 0; panel < o->npanels; panel++)
		for (i = 0; i < o->n; i++)
			for (c = 0; c < o->t[i].ncols; c++) {
				if (!drawn(&o->t[i], c) ||
				    strcmp(o->t[i].cols[c].name, o->cols[panel]))
					continue;
				r = plot_series(o->p, panel, o->src[i].label,
						(unsigned)i, &o->series[i][c]);
				if (r == -ENOSPC) {
					o->series[i][c] = SIZE_MAX;
					o->dropped_lines++;
					r = 0;
				}
				if (r < 0)
					return r;
				break;	/* a column name counts once */
			}
	return 0;
}

static int overlay_notes(struct overlay *o)
{
	char note[400];
	size_t i, named = 0;
	int r = 0;

	for (i = 0; i < o->n && r == 0; i++) {
		if (o->t[i].header_done)
			continue;
		if (named == NOTES_MAX) {
			o->silent++;
			continue;
		}
		named++;
		snprintf(note, sizeof(note), "%.120s: %.250s", o->src[i].label,
			 o->src[i].why ? o->src[i].why
				       : "its bytes cannot be read here");
		r = plot_note(o->p, note);
	}
	if (r == 0 && o->silent) {
		snprintf(note, sizeof(note),
			 "and %zu more executions without readable bytes",
			 o->silent);
		r = plot_note(o->p, note);
	}
	if (r == 0 && o->dropped_cols) {
		snprintf(note, sizeof(note),
			 "only the first %d numeric columns are drawn",
			 PLOT_PANELS_MAX);
		r = plot_note(o->p, note);
	}
	if (r == 0 && o->dropped_lines) {
		snprintf(note, sizeof(note),
			 "%zu lines are not drawn: a chart holds at most %d",
			 o->dropped_lines, PLOT_SERIES_MAX);
		r = plot_note(o->p, note);
	}
	return r;
}

int stepplot_overlay_svg(const char *name, const struct stepplot_src *src,
			 size_t n, char **ret_text, size_t *ret_len)
{
	struct overlay o = { .src = src, .n = n };
	const char *xlabel = "row";
	double lo = 0.0, hi = 1.0;
	size_t i, panel;
	int r;

	o.t = calloc(n ? n : 1, sizeof(*o.t));
	o.series = calloc(n ? n : 1, sizeof(*o.series));
	if (!o.t || !o.series) {
		r = -ENOMEM;
		goto out;
	}
	r = overlay_scan(&o, &lo, &hi, &xlabel);
	if (r == 0)
		r = plot_new(lo, hi, xlabel, &o.p);
	if (r == 0)
		r = overlay_series(&o, name);
	/* nothing to draw: one empty panel says so */
	if (r == 0 && o.npanels == 0)
		r = plot_panel(o.p, name, &panel);
	if (r == 0)
		r = overlay_notes(&o);
	for (i = 0; r == 0 && i < n; i++) {
		if (!o.t[i].header_done)
			continue;
		r = table_points(src[i].fd, &o.t[i], o.p, o.series[i]);
		/* one that fails now is drawn as far as it was read */
		if (r < 0 && r != -ENOMEM)
			r = 0;
	}
	if (o.p) {
		r = finish(o.p, r, ret_text, ret_len);
		o.p = NULL;
	}
out:
	overlay_release(&o);
	return r;
}
