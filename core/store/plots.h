/* SPDX-License-Identifier: MIT */
/*
 * What the step-metrics charts of a stage (S/metrics/NAME.svg) are drawn
 * from: the step-metrics files (E/metrics/NAME.csv, SIDE_STEP_METRICS
 * entries) of the stage's executions.  stepplot.h draws them; the bytes
 * are the content store's (cas.h), named by the md5 given here.
 * Listings follow rows.h's callback contract.
 */
#ifndef CMFFS_PLOTS_H
#define CMFFS_PLOTS_H

#include <stdint.h>

#include "model.h"

/*
 * The NAMEs (without ".csv") of the step-metrics files that executions of
 * stage @stage_id have, each once, in name order (the callback's id is 0).
 */
int plots_stage_metrics(struct model *m, int64_t stage_id, model_name_cb cb,
			void *ud);

/* 0 if an execution of stage @stage_id has NAME.csv, else -ENOENT. */
int plots_stage_has(struct model *m, int64_t stage_id, const char *name);

/*
 * Called per execution: its name as the stage lists it, and the md5 of
 * its NAME.csv's current version ("" while it has none); both borrowed
 * for the call.
 */
typedef int (*plots_file_cb)(void *ud, const char *execution,
			     const char *md5);

/*
 * Each execution of stage @stage_id that has NAME.csv, in the order the
 * stage lists its executions (by name).
 */
int plots_stage_files(struct model *m, int64_t stage_id, const char *name,
		      plots_file_cb cb, void *ud);

#endif
