/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: step metrics CSV written by users, drawn as charts
 * (core/stepplot.c, core/svgplot.c).  Whatever the bytes, the chart of
 * one execution and the overlay of two (the input cut in two) are an SVG
 * document whose every '<' opens one of the renderer's own elements (a
 * column name never makes markup), with no control character but the
 * line end, and valid UTF-8.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "names.h"
#include "stepplot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tags[] = {
	"svg ", "/svg>", "rect ", "g ", "g>", "/g>", "text ", "/text>",
	"line ", "path ", "/path>", "title>", "/title>",
};

static void check(const char *svg, size_t len)
{
	size_t i, k;

	if (len < 12 || strncmp(svg, "<svg ", 5) ||
	    strcmp(svg + len - 7, "</svg>\n"))
		abort();
	if (!utf8_valid(svg, len))
		abort();
	for (i = 0; i < len; i++) {
		if ((unsigned char)svg[i] < 0x20 && svg[i] != '\n')
			abort();
		if (svg[i] != '<')
			continue;
		for (k = 0; k < sizeof(tags) / sizeof(tags[0]); k++)
			if (!strncmp(svg + i + 1, tags[k], strlen(tags[k])))
				break;
		if (k == sizeof(tags) / sizeof(tags[0]))
			abort();
	}
}

static int memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("csv", 0);

	if (fd >= 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stepplot_src src[2] = { { .fd = -1, .label = "a<&\"b" },
				       { .fd = -1, .label = "c\x01" } };
	size_t cut = size / 2, len;
	char *svg = NULL;
	int fd = memfd(data, size);

	if (fd < 0)
		return 0;
	if (stepplot_columns_svg("m<x>", fd, NULL, &svg, &len) == 0)
		check(svg, len);
	free(svg);
	svg = NULL;
	close(fd);
	src[0].fd = memfd(data, cut);
	src[1].fd = memfd(data + cut, size - cut);
	if (src[0].fd >= 0 && src[1].fd >= 0 &&
	    stepplot_overlay_svg("m", src, 2, &svg, &len) == 0)
		check(svg, len);
	free(svg);
	if (src[0].fd >= 0)
		close(src[0].fd);
	if (src[1].fd >= 0)
		close(src[1].fd);
	return 0;
}
