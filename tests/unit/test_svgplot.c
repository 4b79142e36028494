/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for core/svgplot.c and core/stepplot.c: round ticks, the
 * downsampling that keeps each pixel column's lowest and highest point
 * (so a spike in a million points survives), bounded output, escaping of
 * untrusted labels, and step-metrics CSV read into charts (the step
 * column, the row number without one, which columns are drawn, the
 * overlay of several executions).
 */
#include "svgplot.h"
#include "stepplot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* cmocka 1.1 has no assert_double_equal */
#define assert_near(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

static size_t count(const char *text, const char *what)
{
	size_t n = 0;
	const char *p = text;

	while ((p = strstr(p, what))) {
		n++;
		p += strlen(what);
	}
	return n;
}

/* Is @v a multiple of @step (to rounding)? */
static bool multiple(double v, double step)
{
	double q = v / step;

	return fabs(q - round(q)) < 1e-6;
}

static bool round_step(double step)
{
	double m = step / pow(10.0, floor(log10(step) + 1e-12));

	return fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9;
}

static void check_ticks(double lo, double hi, int want, double step,
			double first, double last)
{
	struct plot_ticks t;

	plot_ticks(lo, hi, want, &t);
	assert_near(t.step, step, step * 1e-9);
	assert_near(t.lo, first, step * 1e-9);
	assert_near(t.hi, last, step * 1e-9);
	assert_int_equal(t.n, (int)round((last - first) / step) + 1);
}

static void test_ticks(void **state)
{
	(void)state;
	check_ticks(0, 1, 6, 0.2, 0, 1);
	check_ticks(0.13, 97.2, 6, 20, 0, 100);
	check_ticks(-3.7, 12.1, 5, 5, -5, 15);
	check_ticks(1, 1000000, 6, 200000, 0, 1000000);
	check_ticks(97.2, 0.13, 6, 20, 0, 100);	/* either order */
	check_ticks(2e-9, 9e-9, 8, 1e-9, 2e-9, 9e-9);
	/* not a number: a unit range */
	check_ticks(NAN, 3, 6, 0.2, 0, 1);
}

/* Whatever the range: round steps, the data inside, few ticks. */
static void test_ticks_cover(void **state)
{
	static const double ranges[][2] = {
		{ 0, 0 }, { 5, 5 }, { -5, -5 }, { 0.001, 0.0011 },
		{ -1e300, 1e300 }, { 1e-300, 2e-300 }, { 3, 3.0000001 },
		{ -0.5, 0.5 }, { 1700000000000.0, 1700000086400.0 },
	};
	struct plot_ticks t;
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		double lo = ranges[i][0], hi = ranges[i][1];

		plot_ticks(lo, hi, 6, &t);
		assert_true(t.n >= 2 && t.n <= PLOT_TICKS_MAX);
		assert_true(t.lo <= lo && t.hi >= hi);
		assert_true(t.hi > t.lo);
		assert_true(round_step(t.step));
		for (k = 0; k < t.n; k++)
			assert_true(multiple(t.v[k], t.step));
	}
}

static void test_tick_labels(void **state)
{
	struct plot_ticks t;
	char buf[64];

	(void)state;
	plot_ticks(0, 1, 6, &t);
	plot_tick_label(&t, t.v[2], buf, sizeof(buf));
	assert_string_equal(buf, "0.4");
	plot_tick_label(&t, -1e-17, buf, sizeof(buf));
	assert_string_equal(buf, "0.0");	/* never -0.0 */
	plot_ticks(0.13, 97.2, 6, &t);
	plot_tick_label(&t, t.v[2], buf, sizeof(buf));
	assert_string_equal(buf, "40");
	plot_ticks(0, 0.25, 6, &t);	/* step 0.05 */
	plot_tick_label(&t, t.v[3], buf, sizeof(buf));
	assert_string_equal(buf, "0.15");
	/* large steps: short labels */
	plot_ticks(0, 1000000, 6, &t);		/* step 200000 */
	plot_tick_label(&t, 200000, buf, sizeof(buf));
	assert_string_equal(buf, "200k");
	plot_tick_label(&t, 1000000, buf, sizeof(buf));
	assert_string_equal(buf, "1M");
	plot_tick_label(&t, 1200000, buf, sizeof(buf));
	assert_string_equal(buf, "1.2M");
	plot_tick_label(&t, -400000, buf, sizeof(buf));
	assert_string_equal(buf, "-400k");
	plot_tick_label(&t, 0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	plot_ticks(0, 4e9, 5, &t);
	plot_tick_label(&t, 2e9, buf, sizeof(buf));
	assert_string_equal(buf, "2G");
	plot_ticks(0, 4e16, 5, &t);
	plot_tick_label(&t, 2e16, buf, sizeof(buf));
	assert_string_equal(buf, "2e+16");
}

/* A million points: at most four per pixel column, min and max kept. */
static void test_downsample_keeps_extremes(void **state)
{
	const size_t n = 1000000, spike_hi = 123457, spike_lo = 765432;
	struct plot_point *pts;
	struct plot *p;
	size_t panel, s, kept, i;
	bool hi = false, lo = false;
	char *svg;
	size_t len;

	(void)state;
	assert_int_equal(plot_new(0, (double)n - 1, "step", &p), 0);
	assert_int_equal(plot_panel(p, "loss", &panel), 0);
	assert_int_equal(plot_series(p, panel, "loss", 0, &s), 0);
	for (i = 0; i < n; i++) {
		double y = sin((double)i / 1000.0);

		if (i == spike_hi)
			y = 1000.0;
		if (i == spike_lo)
			y = -1000.0;
		plot_point(p, s, (double)i, y);
	}
	plot_point(p, s, 5, NAN);	/* not counted, not drawn */
	assert_int_equal(plot_series_count(p, s), n);
	pts = calloc(4 * PLOT_BINS, sizeof(*pts));
	assert_non_null(pts);
	kept = plot_series_points(p, s, pts, 4 * PLOT_BINS);
	assert_true(kept <= 4 * PLOT_BINS);
	assert_true(kept >= PLOT_BINS / 2);
	for (i = 0; i < kept; i++) {
		hi |= pts[i].x == (double)spike_hi && pts[i].y == 1000.0;
		lo |= pts[i].x == (double)spike_lo && pts[i].y == -1000.0;
		if (i)
			assert_true(pts[i].x >= pts[i - 1].x);
	}
	assert_true(hi);
	assert_true(lo);
	/* the first and the last point too */
	assert_true(pts[0].x == 0.0);
	assert_true(pts[kept - 1].x == (double)n - 1);
	free(pts);

	assert_int_equal(plot_svg(p, &svg, &len), 0);
	assert_true(len < 100000);
	assert_int_equal(count(svg, "<path"), 1);
	assert_non_null(strstr(svg, "1000"));	/* the y axis reaches it */
	free(svg);
	plot_free(p);
}

/* Fewer points than pixels: every one of them, in order. */
static void test_small_series_exact(void **state)
{
	struct plot_point pts[64];
	struct plot *p;
	size_t panel, s, i;

	(void)state;
	assert_int_equal(plot_new(1, 50, "step", &p), 0);
	assert_int_equal(plot_panel(p, "t", &panel), 0);
	assert_int_equal(plot_series(p, panel, "a", 0, &s), 0);
	for (i = 1; i <= 50; i++)
		plot_point(p, s, (double)i, 1.0 / (double)i);
	assert_int_equal(plot_series_points(p, s, pts, 64), 50);
	for (i = 0; i < 50; i++) {
		assert_true(pts[i].x == (double)(i + 1));
		assert_true(pts[i].y == 1.0 / (double)(i + 1));
	}
	plot_free(p);
}

static void test_svg_escapes_and_limits(void **state)
{
	struct plot *p;
	size_t panel, s, i;
	char *svg;
	size_t len;

	(void)state;
	assert_int_equal(plot_new(0, 10, "<x>", &p), 0);
	assert_int_equal(plot_panel(p, "a&b \"q\"", &panel), 0);
	assert_int_equal(plot_series(p, panel, "<script>alert(1)</script>",
				     0, &s), 0);
	assert_int_equal(plot_series(p, panel, "ctl\x01\xff", 1, &s), 0);
	plot_point(p, s, 1, 2);
	for (i = 2; i < PLOT_SERIES_MAX; i++)
		assert_int_equal(plot_series(p, panel, "more", (unsigned)i,
					     &s), 0);
	assert_int_equal(plot_series(p, panel, "one too many", 0, &s),
			 -ENOSPC);
	assert_int_equal(plot_series(p, 7, "no panel", 0, &s), -EINVAL);
	assert_int_equal(plot_svg(p, &svg, &len), 0);
	assert_non_null(strstr(svg, "xmlns=\"http://www.w3.org/2000/svg\""));
	assert_non_null(strstr(svg, "viewBox=\"0 0 800 "));
	assert_null(strstr(svg, "<script"));
	assert_non_null(strstr(svg, "&lt;script&gt;"));
	assert_non_null(strstr(svg, "a&amp;b &quot;q&quot;"));
	assert_non_null(strstr(svg, "ctl\\x01\\xff"));
	assert_non_null(strstr(svg, "&lt;x&gt;"));
	assert_int_equal(count(svg, "<path"), PLOT_SERIES_MAX);
	free(svg);
	plot_free(p);
}

/* A temporary file holding @text, open for reading. */
static int csv_fd(const char *text)
{
	char path[] = "/tmp/cmffs-test-svgplot-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

static char *columns_svg(const char *csv)
{
	int fd = csv_fd(csv);
	char *svg = NULL;
	size_t len;

	assert_int_equal(stepplot_columns_svg("m", fd, NULL, &svg, &len), 0);
	close(fd);
	assert_int_equal(strlen(svg), len);
	return svg;
}

/* The x axis's label of @svg is @want (the only text filled so). */
static void check_xlabel(const char *svg, const char *want)
{
	char text[128];

	snprintf(text, sizeof(text), "fill=\"#444\">%s</text>", want);
	assert_int_equal(count(svg, "class=\"xlabel\""), 1);
	assert_true(strstr(svg, text) != NULL);
}

static void test_csv_columns(void **state)
{
	static const struct {
		const char *csv;
		size_t lines;
		const char *x;
		const char *titles;	/* the lines', in order */
	} cases[] = {
		/* a step column, a quoted name, a text column, blank lines,
		 * CRLF, nan */
		{ "step,loss,\"a,b\",note\n1,0.5,3,x\n\n2,0.25,\"4\",y\r\n"
		  "3,nan,5,z\n", 2, "step",
		  "<title>loss</title><title>a,b</title>" },
		/* upstream's index name is the step column too */
		{ "SequenceNumber,acc\n1,0.5\n2,0.7\n", 1, "SequenceNumber",
		  "<title>acc</title>" },
		/* no step column: the row number */
		{ "loss,acc\n0.5,0.1\n0.4,0.2\n0.3,0.3\n", 2, "row",
		  "<title>loss</title><title>acc</title>" },
		/* a step column that is not numeric is not one */
		{ "Step,loss\nfirst,1\nsecond,2\n", 1, "row",
		  "<title>loss</title>" },
		/* a header only: an empty chart */
		{ "loss,acc\n", 0, "row", "" },
	};
	char titles[256], *svg;
	const char *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		svg = columns_svg(cases[i].csv);
		assert_int_equal(count(svg, "<path"), cases[i].lines);
		check_xlabel(svg, cases[i].x);
		titles[0] = '\0';
		for (p = svg; (p = strstr(p, "<title>")); p++)
			strncat(titles, p, strstr(p, "</title>") + 8 - p);
		assert_string_equal(titles, cases[i].titles);
		if (!cases[i].lines)
			assert_non_null(strstr(svg, "no numeric values yet"));
		free(svg);
	}
}

static void test_csv_no_bytes(void **state)
{
	char *svg;
	size_t len;

	(void)state;
	assert_int_equal(stepplot_columns_svg("m", -1, "gone <away>", &svg,
					      &len), 0);
	assert_int_equal(count(svg, "<path"), 0);
	assert_non_null(strstr(svg, "gone &lt;away&gt;"));
	free(svg);
}

static void test_overlay(void **state)
{
	struct stepplot_src src[4] = {
		{ .fd = csv_fd("step,loss,acc\n1,1,0.1\n2,0.5,0.2\n"),
		  .label = "run-a" },
		{ .fd = csv_fd("step,loss,acc\n1,2,0.3\n5,1,0.4\n"),
		  .label = "run-b" },
		{ .fd = csv_fd("step,acc,loss\n3,0.9,0.1\n"),
		  .label = "run<c>" },
		{ .fd = -1, .label = "run-d", .why = "not fetched" },
	};
	char *svg;
	size_t len, i;

	(void)state;
	assert_int_equal(stepplot_overlay_svg("m", src, 4, &svg, &len), 0);
	/* one panel per column, one line per execution in each */
	assert_int_equal(count(svg, "class=\"panel\""), 2);
	assert_int_equal(count(svg, "<path"), 6);
	assert_non_null(strstr(svg, ">m: loss</text>"));
	assert_non_null(strstr(svg, ">m: acc</text>"));
	assert_int_equal(count(svg, ">run-a</text>"), 2);
	assert_int_equal(count(svg, ">run&lt;c&gt;</text>"), 2);
	assert_non_null(strstr(svg, "run-d: not fetched"));
	/* x spans every execution's steps: 1 to 5 */
	assert_non_null(strstr(svg, "text-anchor=\"middle\">5</text>"));
	free(svg);
	for (i = 0; i < 3; i++)
		close(src[i].fd);
}

/* A large CSV: the chart's size does not follow the rows. */
static void test_csv_bounded(void **state)
{
	char path[] = "/tmp/cmffs-test-svgplot-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	char *svg;
	size_t len, i;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	f = fdopen(dup(fd), "w");
	assert_non_null(f);
	fputs("step,loss,acc\n", f);
	for (i = 0; i < 300000; i++)
		fprintf(f, "%zu,%g,%g\n", i, 1.0 / (double)(i + 1),
			sin((double)i));
	fclose(f);
	assert_int_equal(stepplot_columns_svg("m", fd, NULL, &svg, &len), 0);
	close(fd);
	assert_int_equal(count(svg, "<path"), 2);
	assert_true(len < 120000);
	free(svg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ticks),
		cmocka_unit_test(test_ticks_cover),
		cmocka_unit_test(test_tick_labels),
		cmocka_unit_test(test_downsample_keeps_extremes),
		cmocka_unit_test(test_small_series_exact),
		cmocka_unit_test(test_svg_escapes_and_limits),
		cmocka_unit_test(test_csv_columns),
		cmocka_unit_test(test_csv_no_bytes),
		cmocka_unit_test(test_overlay),
		cmocka_unit_test(test_csv_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
