/* SPDX-License-Identifier: MIT */
/*
 * The charts of step metrics: E/metrics/NAME.svg (one execution's
 * NAME.csv) and S/metrics/NAME.svg (every execution of a stage that has
 * one), drawn by stepplot.h from the bytes of the files' current
 * versions, which are fetched if the cache lacks them.
 */
#include "fs_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "plots.h"
#include "stepplot.h"

/*
 * Open the bytes of step metrics version @md5 for a chart: from the
 * cache, else fetched (fetch.h).  A failure is said in the chart (@why),
 * not in the journal: a stat renders charts too.  0 or -errno.
 */
static int chart_bytes(struct fs *fs, const char *md5, int *ret_fd,
		       const char **why)
{
	char *err = NULL;
	int r;

	*why = "no version of this file yet";
	if (!md5[0])
		return -ENOENT;
	r = cas_read_object(fs->cas, md5, ret_fd);
	if (r == -ENOENT && fs->fetcher) {
		r = fetcher_get(fs->fetcher, md5, &err);
		free(err);
		if (r == 0)
			r = cas_read_object(fs->cas, md5, ret_fd);
	}
	if (r < 0)
		*why = "the bytes of this version cannot be read or fetched here";
	return r;
}

/* E/metrics/NAME.svg: the chart of the current version of NAME.csv. */
static int step_chart(struct fs *fs, const struct node *n, char **ret,
		      size_t *ret_len)
{
	char name[256];
	const char *why;
	int fd = -1, r;

	snprintf(name, sizeof(name), "%.*s", (int)(strlen(n->name) - 4),
		 n->name);
	if (chart_bytes(fs, n->entry.md5, &fd, &why) < 0)
		fd = -1;
	r = stepplot_columns_svg(name, fd, why, ret, ret_len);
	if (fd >= 0)
		close(fd);
	return r;
}

/* The executions' files of a stage chart, opened (plots_file_cb). */
struct stage_chart {
	struct fs *fs;
	struct stepplot_src *src;	/* n, labels owned */
	size_t n, cap;
};

static int stage_chart_file(void *ud, const char *execution, const char *md5)
{
	struct stage_chart *c = ud;
	struct stepplot_src *s;

	if (array_reserve(&c->src, &c->cap, c->n + 1, sizeof(*c->src)) < 0)
		return -ENOMEM;
	s = &c->src[c->n];
	s->label = strdup(execution);
	if (!s->label)
		return -ENOMEM;
	if (chart_bytes(c->fs, md5, &s->fd, &s->why) < 0)
		s->fd = -1;
	c->n++;
	return 0;
}

/* S/metrics/NAME.svg: NAME.csv of every execution of the stage. */
static int stage_chart(struct fs *fs, const struct node *n, char **ret,
		       size_t *ret_len)
{
	struct stage_chart c = { .fs = fs };
	char name[256];
	size_t i;
	int r;

	snprintf(name, sizeof(name), "%.*s", (int)(strlen(n->name) - 4),
		 n->name);
	r = plots_stage_files(fs->model, n->stage_id, name, stage_chart_file,
			      &c);
	if (r == 0)
		r = stepplot_overlay_svg(name, c.src, c.n, ret, ret_len);
	for (i = 0; i < c.n; i++) {
		if (c.src[i].fd >= 0)
			close(c.src[i].fd);
		free((char *)c.src[i].label);
	}
	free(c.src);
	return r;
}

int plot_text(struct fs *fs, const struct node *n, char **ret,
	      size_t *ret_len)
{
	if (n->kind == NODE_STEP_PLOT)
		return step_chart(fs, n, ret, ret_len);
	if (n->kind == NODE_STAGE_PLOT)
		return stage_chart(fs, n, ret, ret_len);
	return -EINVAL;
}
