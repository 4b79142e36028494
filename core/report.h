/* SPDX-License-Identifier: MIT */
/*
 * The HTML report of the mount, rendered from the store on each read:
 *   index.html                 the workspace: pipelines, last activity,
 *                              sync state (.cmf/status)
 *   pipelines/P/index.html     a pipeline: its lineage graph
 *                              (lineage.svg), per stage a table of its
 *                              executions (compare.h's columns) and the
 *                              step-metric plots (S/metrics/NAME.svg), its
 *                              artifacts with size, hash and url
 *   pipelines/P/S/E/index.html an execution: provenance, properties,
 *                              metrics, plots (metrics/NAME.svg), inputs
 *                              and outputs, the other executions of S
 * Pages link to one another and to the mount's files by relative paths
 * (names percent-encoded), so they open from file:// in any browser that
 * reads the mount.  Plain HTML and CSS; one small self-contained script
 * sorts a table by the column whose header is clicked.  No network.
 * Every value is HTML-escaped (names are user input) and cut at
 * REPORT_CELL_MAX bytes; a table shows at most REPORT_MAX_ROWS rows and
 * REPORT_MAX_COLS value columns (the page says what it left out; the
 * compare tables have everything), so a page's size and time are bounded
 * by the store's size, linearly.
 * Pure rendering: the facts come from runs.h and model.h.
 */
#ifndef CMFFS_REPORT_H
#define CMFFS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cas.h"
#include "model.h"

#define REPORT_MAX_ROWS 1000
#define REPORT_MAX_COLS 100
#define REPORT_CELL_MAX 1000

/* index.html; @status: the text of .cmf/status (borrowed).  Owned text. */
int report_index_html(struct model *m, const char *status, char **ret_text,
		      size_t *ret_len);

/* pipelines/P/index.html of pipeline @pipeline_id.  Owned text. */
int report_pipeline_html(struct model *m, struct cas *cas,
			 int64_t pipeline_id, char **ret_text,
			 size_t *ret_len);

/* E/index.html of execution @exec_id.  Owned text. */
int report_execution_html(struct model *m, struct cas *cas, int64_t exec_id,
			  char **ret_text, size_t *ret_len);

#endif
