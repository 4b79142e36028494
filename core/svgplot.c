/* SPDX-License-Identifier: MIT */
/* Line charts as SVG text; see svgplot.h. */
#include "svgplot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "sb.h"

/* Geometry of a panel, in px (the plot area is PLOT_BINS wide). */
#define MARGIN_LEFT 72
#define TITLE_Y 22
#define AREA_TOP 36
#define AREA_H 260
#define LEGEND_TOP (AREA_TOP + AREA_H + 52)
#define LEGEND_ROW 18
#define LEGEND_COLS 3
#define LEGEND_COL_W (PLOT_BINS / LEGEND_COLS)
#define LEGEND_CHARS 30		/* bytes of a label shown in the legend */
#define TITLE_CHARS 90
#define NOTE_ROW 16

/* One kept point of a pixel column; @seq orders points as they came. */
struct kept {
	double x, y;
	uint64_t seq;
};

/* A pixel column of a series: M4's first, last, lowest and highest. */
struct bin {
	struct kept first, last, low, high;
	bool used;
};

struct series {
	char *label;
	size_t panel;
	unsigned color;
	uint64_t count;		/* finite points added */
	struct bin *bins;	/* PLOT_BINS, allocated with the first point */
	bool lost;		/* no memory for the bins: drawn empty */
};

struct panel {
	char *title;
};

struct plot {
	struct plot_ticks xt;
	char *xlabel;
	struct panel panels[PLOT_PANELS_MAX];
	size_t npanels;
	struct series series[PLOT_SERIES_MAX];
	size_t nseries;
	char **notes;
	size_t nnotes, notes_cap;
};

/* --- ticks --------------------------------------------------------------- */

/* 1, 2, 5 or 10 times the power of ten at or below @raw (> 0). */
static double round_step(double raw)
{
	double p = pow(10.0, floor(log10(raw)));
	double f = raw / p;

	if (f <= 1.0)
		return p;
	if (f <= 2.0)
		return 2.0 * p;
	if (f <= 5.0)
		return 5.0 * p;
	return 10.0 * p;
}

/* The round step after @step (1 -> 2 -> 5 -> 10). */
static double next_step(double step)
{
	return round_step(step * 1.0001);
}

void plot_ticks(double lo, double hi, int want, struct plot_ticks *ret)
{
	double step, first, last, t;
	int i, n;

	memset(ret, 0, sizeof(*ret));
	if (!isfinite(lo) || !isfinite(hi)) {
		lo = 0.0;
		hi = 1.0;
	}
	if (lo > hi) {
		t = lo;
		lo = hi;
		hi = t;
	}
	if (hi - lo <= fabs(hi) * 1e-12) {
		/* one value: a range around it */
		t = fabs(lo) > 0.0 ? fabs(lo) * 0.1 : 1.0;
		lo -= t;
		hi += t;
	}
	if (!isfinite(hi - lo)) {
		/* beyond double's range: halves fit */
		lo /= 2.0;
		hi /= 2.0;
	}
	if (want < 2)
		want = 2;
	if (want > PLOT_TICKS_MAX - 2)
		want = PLOT_TICKS_MAX - 2;
	step = round_step((hi - lo) / (want - 1));
	for (;;) {
		first = floor(lo / step);
		last = ceil(hi / step);
		if (last - first + 1 <= PLOT_TICKS_MAX)
			break;
		step = next_step(step);
	}
	n = (int)(last - first) + 1;
	for (i = 0; i < n; i++) {
		t = (first + i) * step;
		/* never a "-0" tick, nor 1e-17 for 0 */
		ret->v[i] = fabs(t) < step * 1e-9 ? 0.0 : t;
	}
	ret->n = n;
	ret->lo = ret->v[0];
	ret->hi = ret->v[n - 1];
	ret->step = step;
	t = -floor(log10(step) + 1e-9);
	ret->decimals = t > 0 ? (int)t : 0;
}

void plot_tick_label(const struct plot_ticks *t, double v, char *buf,
		     size_t size)
{
	static const struct {
		double unit;
		char suffix;
	} units[] = { { 1e12, 'T' }, { 1e9, 'G' }, { 1e6, 'M' }, { 1e3, 'k' } };
	double big = fmax(fabs(t->lo), fabs(t->hi)), d;
	size_t i, n;
	int decimals;

	if (fabs(v) < t->step * 1e-9)
		v = 0.0;
	if (big >= 1e15 || t->decimals > 6) {
		snprintf(buf, size, "%.4g", v);
		return;
	}
	if (t->step < 1000.0 || v == 0.0) {
		snprintf(buf, size, "%.*f", t->decimals, v);
		return;
	}
	/* 200k, 1.5M: as short as the step allows */
	for (i = 0; i < 3 && fabs(v) < units[i].unit; i++)
		;
	d = -floor(log10(t->step / units[i].unit) + 1e-9);
	decimals = d > 0 ? (int)d : 0;
	snprintf(buf, size, "%.*f", decimals, v / units[i].unit);
	n = strlen(buf);
	if (strchr(buf, '.')) {
		while (n && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (n && buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	if (n + 1 < size) {
		buf[n] = units[i].suffix;
		buf[n + 1] = '\0';
	}
}

/* --- the figure ------------------------------------------------------------ */

int plot_new(double xmin, double xmax, const char *xlabel,
	     struct plot **ret)
{
	struct plot *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->xlabel = strdup(xlabel ? xlabel : "");
	if (!p->xlabel) {
		free(p);
		return -ENOMEM;
	}
	plot_ticks(xmin, xmax, 8, &p->xt);
	*ret = p;
	return 0;
}

void plot_free(struct plot *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->npanels; i++)
		free(p->panels[i].title);
	for (i = 0; i < p->nseries; i++) {
		free(p->series[i].label);
		free(p->series[i].bins);
	}
	for (i = 0; i < p->nnotes; i++)
		free(p->notes[i]);
	free(p->notes);
	free(p->xlabel);
	free(p);
}

int plot_panel(struct plot *p, const char *title, size_t *ret_panel)
{
	char *copy;

	if (p->npanels == PLOT_PANELS_MAX)
		return -ENOSPC;
	copy = strdup(title ? title : "");
	if (!copy)
		return -ENOMEM;
	p->panels[p->npanels].title = copy;
	*ret_panel = p->npanels++;
	return 0;
}

int plot_series(struct plot *p, size_t panel, const char *label,
		unsigned color, size_t *ret_series)
{
	struct series *s;

	if (panel >= p->npanels)
		return -EINVAL;
	if (p->nseries == PLOT_SERIES_MAX)
		return -ENOSPC;
	s = &p->series[p->nseries];
	memset(s, 0, sizeof(*s));
	s->label = strdup(label ? label : "");
	if (!s->label)
		return -ENOMEM;
	s->panel = panel;
	s->color = color;
	*ret_series = p->nseries++;
	return 0;
}

/* The pixel column of @x: 0 .. PLOT_BINS - 1. */
static size_t column_of(const struct plot *p, double x)
{
	double f = (x - p->xt.lo) / (p->xt.hi - p->xt.lo) * PLOT_BINS;

	if (!(f > 0.0))
		return 0;
	if (f >= PLOT_BINS)
		return PLOT_BINS - 1;
	return (size_t)f;
}

void plot_point(struct plot *p, size_t series, double x, double y)
{
	struct series *s;
	struct kept k;
	struct bin *b;

	if (series >= p->nseries || !isfinite(x) || !isfinite(y))
		return;
	s = &p->series[series];
	if (!s->bins && !s->lost) {
		s->bins = calloc(PLOT_BINS, sizeof(*s->bins));
		s->lost = !s->bins;
	}
	if (!s->bins)
		return;
	k.x = x;
	k.y = y;
	k.seq = s->count++;
	b = &s->bins[column_of(p, x)];
	if (!b->used) {
		b->first = b->last = b->low = b->high = k;
		b->used = true;
		return;
	}
	b->last = k;
	if (y < b->low.y)
		b->low = k;
	if (y > b->high.y)
		b->high = k;
}

uint64_t plot_series_count(const struct plot *p, size_t series)
{
	return series < p->nseries ? p->series[series].count : 0;
}

/*
 * The distinct points of @b in the order they came (at most 4) into
 * @out; returns how many.
 */
static size_t bin_points(const struct bin *b, struct kept out[4])
{
	struct kept all[4] = { b->first, b->low, b->high, b->last };
	size_t n = 0, i, j;

	for (i = 0; i < 4; i++) {
		for (j = 0; j < n && out[j].seq != all[i].seq; j++)
			;
		if (j < n)
			continue;
		/* insertion by seq */
		for (j = n; j > 0 && out[j - 1].seq > all[i].seq; j--)
			out[j] = out[j - 1];
		out[j] = all[i];
		n++;
	}
	return n;
}

size_t plot_series_points(const struct plot *p, size_t series,
			  struct plot_point *out, size_t cap)
{
	const struct series *s;
	struct kept k[4];
	size_t n = 0, i, j, m;

	if (series >= p->nseries || !p->series[series].bins)
		return 0;
	s = &p->series[series];
	for (i = 0; i < PLOT_BINS; i++) {
		if (!s->bins[i].used)
			continue;
		m = bin_points(&s->bins[i], k);
		for (j = 0; j < m; j++, n++)
			if (n < cap) {
				out[n].x = k[j].x;
				out[n].y = k[j].y;
			}
	}
	return n;
}

int plot_note(struct plot *p, const char *text)
{
	char *copy = strdup(text);

	if (!copy || array_reserve(&p->notes, &p->notes_cap, p->nnotes + 1,
				   sizeof(*p->notes)) < 0) {
		free(copy);
		return -ENOMEM;
	}
	p->notes[p->nnotes++] = copy;
	return 0;
}

/* --- rendering ------------------------------------------------------------ */

static const char *const palette[10] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};
static const char *const dashes[3] = { NULL, "6 3", "2 2" };

/* What a render needs besides the text. */
struct render {
	struct sb sb;
	int err;	/* -ENOMEM from escaping, sticky */
};

/*
 * Untrusted text as XML character data or attribute text: controls and
 * bytes that are not UTF-8 (which XML cannot carry) as \xNN first, then
 * & < > " as entities; at most @max bytes of it.
 */
static void put_text(struct render *rd, const char *s, size_t max)
{
	char *safe = text_escape(s, max);

	if (!safe) {
		rd->err = -ENOMEM;
		return;
	}
	sb_put_xml(&rd->sb, safe, SIZE_MAX);
	free(safe);
}

static double px_x(const struct plot *p, double x)
{
	return MARGIN_LEFT + (x - p->xt.lo) / (p->xt.hi - p->xt.lo) * PLOT_BINS;
}

static double px_y(const struct plot_ticks *yt, double top, double y)
{
	return top + AREA_TOP + AREA_H -
	       (y - yt->lo) / (yt->hi - yt->lo) * AREA_H;
}

/* The y range of panel @panel's kept points; false if it has none. */
static bool panel_range(const struct plot *p, size_t panel, double *lo,
			double *hi)
{
	bool any = false;
	size_t i, b;

	for (i = 0; i < p->nseries; i++) {
		const struct series *s = &p->series[i];

		if (s->panel != panel || !s->bins)
			continue;
		for (b = 0; b < PLOT_BINS; b++) {
			if (!s->bins[b].used)
				continue;
			if (!any || s->bins[b].low.y < *lo)
				*lo = s->bins[b].low.y;
			if (!any || s->bins[b].high.y > *hi)
				*hi = s->bins[b].high.y;
			any = true;
		}
	}
	return any;
}

static size_t panel_series(const struct plot *p, size_t panel)
{
	size_t i, n = 0;

	for (i = 0; i < p->nseries; i++)
		n += p->series[i].panel == panel;
	return n;
}

static int panel_height(const struct plot *p, size_t panel)
{
	size_t rows = (panel_series(p, panel) + LEGEND_COLS - 1) / LEGEND_COLS;

	return LEGEND_TOP + (int)rows * LEGEND_ROW + 8;
}

/* Grid lines, the frame and the tick labels of a panel at @top. */
static void draw_axes(struct render *rd, const struct plot *p,
		      const struct plot_ticks *yt, double top)
{
	double bottom = top + AREA_TOP + AREA_H;
	char label[64];
	int i;

	sb_puts(&rd->sb, "<g class=\"grid\" stroke=\"#e3e3e3\">\n");
	for (i = 0; i < p->xt.n; i++)
		sb_appendf(&rd->sb,
			   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			   px_x(p, p->xt.v[i]), top + AREA_TOP,
			   px_x(p, p->xt.v[i]), bottom);
	for (i = 0; i < yt->n; i++)
		sb_appendf(&rd->sb,
			   "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n",
			   MARGIN_LEFT, px_y(yt, top, yt->v[i]),
			   MARGIN_LEFT + PLOT_BINS, px_y(yt, top, yt->v[i]));
	sb_puts(&rd->sb, "</g>\n");
	sb_appendf(&rd->sb,
		   "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n",
		   MARGIN_LEFT, top + AREA_TOP, PLOT_BINS, AREA_H);
	sb_puts(&rd->sb, "<g class=\"ticks\" fill=\"#444\">\n");
	for (i = 0; i < p->xt.n; i++) {
		plot_tick_label(&p->xt, p->xt.v[i], label, sizeof(label));
		sb_appendf(&rd->sb,
			   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			   px_x(p, p->xt.v[i]), bottom + 16, label);
	}
	for (i = 0; i < yt->n; i++) {
		plot_tick_label(yt, yt->v[i], label, sizeof(label));
		sb_appendf(&rd->sb,
			   "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			   MARGIN_LEFT - 6, px_y(yt, top, yt->v[i]) + 4, label);
	}
	sb_puts(&rd->sb, "</g>\n");
	sb_appendf(&rd->sb,
		   "<text class=\"xlabel\" x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#444\">",
		   MARGIN_LEFT + PLOT_BINS / 2, bottom + 36);
	put_text(rd, p->xlabel, TITLE_CHARS);
	sb_puts(&rd->sb, "</text>\n");
}

/* The stroke attributes of colour number @color. */
static void put_stroke(struct render *rd, unsigned color)
{
	const char *dash = dashes[(color / 10) % 3];

	sb_appendf(&rd->sb, " stroke=\"%s\"", palette[color % 10]);
	if (dash)
		sb_appendf(&rd->sb, " stroke-dasharray=\"%s\"", dash);
}

/* Series @i as one <path> (an empty one if it has no points). */
static void draw_series(struct render *rd, const struct plot *p, size_t i,
			const struct plot_ticks *yt, double top)
{
	const struct series *s = &p->series[i];
	double lx = NAN, ly = NAN;
	struct kept k[4];
	size_t b, j, m, drawn = 0;

	sb_puts(&rd->sb, "<path fill=\"none\" stroke-width=\"1.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\"");
	put_stroke(rd, s->color);
	sb_puts(&rd->sb, " d=\"");
	for (b = 0; s->bins && b < PLOT_BINS; b++) {
		if (!s->bins[b].used)
			continue;
		m = bin_points(&s->bins[b], k);
		for (j = 0; j < m; j++) {
			/* tenths of a pixel: what a screen can show */
			double x = round(px_x(p, k[j].x) * 10) / 10;
			double y = round(px_y(yt, top, k[j].y) * 10) / 10;

			if (x == lx && y == ly)
				continue;
			sb_appendf(&rd->sb, "%s%.1f,%.1f",
				   drawn == 0 ? "M" : drawn == 1 ? " L" : " ",
				   x, y);
			lx = x;
			ly = y;
			drawn++;
		}
	}
	if (drawn == 1)
		sb_puts(&rd->sb, " h0");	/* one point: a dot */
	sb_puts(&rd->sb, "\"><title>");
	put_text(rd, s->label, SIZE_MAX);
	sb_puts(&rd->sb, "</title></path>\n");
}

static void draw_legend(struct render *rd, const struct plot *p,
			size_t panel, double top)
{
	size_t i, at = 0;

	sb_puts(&rd->sb, "<g class=\"legend\">\n");
	for (i = 0; i < p->nseries; i++) {
		const struct series *s = &p->series[i];
		double x, y;

		if (s->panel != panel)
			continue;
		x = MARGIN_LEFT + (double)(at % LEGEND_COLS) * LEGEND_COL_W;
		y = top + LEGEND_TOP + (double)(at / LEGEND_COLS) * LEGEND_ROW;
		at++;
		sb_appendf(&rd->sb,
			   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke-width=\"3\"",
			   x, y - 4, x + 22, y - 4);
		put_stroke(rd, s->color);
		sb_appendf(&rd->sb, "/><text x=\"%.1f\" y=\"%.1f\">", x + 28,
			   y);
		put_text(rd, s->label, LEGEND_CHARS);
		sb_puts(&rd->sb, "</text>\n");
	}
	sb_puts(&rd->sb, "</g>\n");
}

static void draw_panel(struct render *rd, const struct plot *p, size_t panel,
		       double top)
{
	struct plot_ticks yt;
	double lo = 0.0, hi = 1.0;
	bool any = panel_range(p, panel, &lo, &hi);
	size_t i;

	plot_ticks(lo, hi, 6, &yt);
	sb_appendf(&rd->sb, "<g class=\"panel\">\n<text class=\"title\" x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">",
		   PLOT_WIDTH / 2, top + TITLE_Y);
	put_text(rd, p->panels[panel].title, TITLE_CHARS);
	sb_puts(&rd->sb, "</text>\n");
	draw_axes(rd, p, &yt, top);
	if (!any)
		sb_appendf(&rd->sb,
			   "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">no numeric values yet</text>\n",
			   MARGIN_LEFT + PLOT_BINS / 2,
			   top + AREA_TOP + AREA_H / 2);
	sb_puts(&rd->sb, "<g class=\"series\">\n");
	for (i = 0; i < p->nseries; i++)
		if (p->series[i].panel == panel)
			draw_series(rd, p, i, &yt, top);
	sb_puts(&rd->sb, "</g>\n");
	draw_legend(rd, p, panel, top);
	sb_puts(&rd->sb, "</g>\n");
}

int plot_svg(const struct plot *p, char **ret_text, size_t *ret_len)
{
	struct render rd = { .err = 0 };
	int height = 0, top = 0, r;
	size_t i;

	for (i = 0; i < p->npanels; i++)
		height += panel_height(p, i);
	height += (int)p->nnotes * NOTE_ROW + 8;
	sb_init(&rd.sb, 0);
	sb_appendf(&rd.sb,
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		   PLOT_WIDTH, height, PLOT_WIDTH, height);
	for (i = 0; i < p->npanels; i++) {
		draw_panel(&rd, p, i, top);
		top += panel_height(p, i);
	}
	for (i = 0; i < p->nnotes; i++) {
		sb_appendf(&rd.sb,
			   "<text class=\"note\" x=\"%d\" y=\"%d\" fill=\"#a33\">",
			   MARGIN_LEFT, top + (int)(i + 1) * NOTE_ROW);
		put_text(&rd, p->notes[i], 200);
		sb_puts(&rd.sb, "</text>\n");
	}
	sb_puts(&rd.sb, "</svg>\n");
	r = rd.err ? rd.err : sb_err(&rd.sb);
	if (r == 0) {
		*ret_text = sb_detach(&rd.sb, ret_len);
		r = *ret_text ? 0 : -ENOMEM;
	}
	sb_release(&rd.sb);
	return r;
}
