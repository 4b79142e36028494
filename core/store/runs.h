/* SPDX-License-Identifier: MIT */
/*
 * Executions as rows to compare: what compare.h, diff.h and report.h
 * render.  For one stage, one pipeline or one execution, each execution's
 * name, state, times, git facts, custom properties, the last logged values
 * of its execution metrics (E/metrics/NAME.json: the latest Metrics
 * artifact of each NAME, as model_metrics_json() shows it), its step
 * metrics files (E/metrics/NAME.csv: the latest Step_Metrics artifact of
 * each NAME) and, on request, its inputs and outputs.
 *
 * The store is read in a fixed number of queries whatever the number of
 * executions (one per kind of fact), under the lock, and copied out: no
 * callback runs under the lock and nothing here renders text.
 */
#ifndef CMFFS_RUNS_H
#define CMFFS_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* One value of a property or a metric. */
struct run_value {
	char *key;	/* owned: "lr"; a metric "NAME.json:KEY" or
			 * "NAME.csv:COLUMN" (the file below E/metrics/) */
	char *text;	/* owned: as a user reads it back (properties/KEY) */
	bool is_num;	/* an int or a double (a CSV field that parses) */
	double num;	/* its value when is_num */
};

/* An input or an output of an execution, or an artifact of a pipeline. */
struct run_file {
	int64_t execution_id;	/* whose event this is */
	int64_t artifact_id;
	int64_t event_id;	/* later events are later versions */
	bool input;		/* an INPUT event, else OUTPUT */
	char *name;		/* owned: the path the event names (below
				 * inputs/ or outputs/: EventPath's key, else
				 * the artifact's name), before its first ':' */
	char *type;		/* owned: Dataset, Model, Label, ... */
	char *hash;		/* owned: the artifact's uri (md5, md5.dir) */
	char *url;		/* owned: its url property, "" if none */
	int64_t size;		/* bytes, from a file of the tree; -1 unknown */
};

/* The latest step-metrics file NAME.csv of an execution. */
struct run_steps {
	char *name;	/* owned: NAME, without .csv */
	char *hash;	/* owned: md5 of the CSV bytes (the artifact's uri) */
};

struct run {
	int64_t id;
	int64_t stage_id;	/* the stage's context id */
	char *pipeline;		/* owned: P */
	char *stage;		/* owned: S (short name) */
	char *name;		/* owned: E; "execution-ID" when unnamed, as
				 * the mount lists it */
	int state;		/* enum exec_state; -1 unset */
	int64_t create_ms;
	int64_t update_ms;
	char *git_commit;	/* owned: Git_Start_Commit, "" */
	char *git_end_commit;	/* owned: Git_End_Commit, "" */
	char *git_repo;		/* owned: Git_Repo, "" */
	char *command;		/* owned: the Execution property, "" */
	char *uuid;		/* owned: Execution_uuid, "" */
	struct run_value *props;	/* custom properties, by key */
	size_t nprops;
	struct run_value *metrics;	/* NAME.json:KEY, by NAME then KEY;
					 * compare.h adds NAME.csv:COLUMN */
	size_t nmetrics;
	size_t metrics_cap;
	struct run_steps *steps;	/* by NAME */
	size_t nsteps;
	struct run_file *files;	/* RUNS_FILES: inputs, then outputs, each
				 * by name; the last version of each name */
	size_t nfiles;
};

/* Executions newest first (create time, then id, descending). */
struct runs {
	struct run *v;
	size_t n;
	size_t cap;
};

enum runs_scope {
	RUNS_STAGE,		/* @id: the stage's context id */
	RUNS_PIPELINE,		/* @id: the pipeline's context id */
	RUNS_EXECUTION,		/* @id: the execution's id */
};

enum runs_flags {
	RUNS_FILES = 1 << 0,	/* load each execution's inputs and outputs */
};

/*
 * Load the executions of @scope @id into *@ret (initialized here; release
 * it with runs_release() whatever the result).  An id that names nothing
 * gives no rows (RUNS_EXECUTION: -ENOENT).  0 or -errno.
 */
int runs_load(struct model *m, enum runs_scope scope, int64_t id,
	      unsigned flags, struct runs *ret);
void runs_release(struct runs *runs);

/* Append value @key = @text (copied) to @run's metrics.  0 or -ENOMEM. */
int run_add_metric(struct run *run, const char *key, const char *text,
		   bool is_num, double num);

/* A pipeline as the workspace's index lists it. */
struct run_pipeline {
	int64_t id;
	char *name;		/* owned */
	int64_t stages;
	int64_t executions;
	int64_t last_ms;	/* the latest update of it or of an execution
				 * of it; 0 if none */
};

/* Every pipeline, by name, into *@ret (owned, *@ret_n of them). */
int runs_pipelines(struct model *m, struct run_pipeline **ret,
		   size_t *ret_n);
void runs_pipelines_free(struct run_pipeline *v, size_t n);	/* NULL-safe */

#endif
