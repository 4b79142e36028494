/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: metrics/NAME.json as a user writes it.  Whatever is accepted
 * must render again (cat metrics/NAME.json), and that rendering must be
 * accepted in turn: a logged metric can always be read back.
 *
 * The store is made once per process and emptied with model_reset() before
 * each run, so that a run sees no row of the run before it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct model *m;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *err = NULL;

	(void)argc;
	(void)argv;
	if (model_open(":memory:", MODEL_CREATE, &m, &err) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t pipeline, stage, exec;
	char *err = NULL, *text = NULL;
	size_t len;

	if (model_reset(m) < 0 ||
	    model_pipeline_create(m, "p", &pipeline) < 0 ||
	    model_stage_create(m, pipeline, "p", "s", &stage) < 0 ||
	    model_execution_create(m, stage, "e", NULL, &exec) < 0)
		abort();
	if (model_metrics_log_json(m, exec, "m", (const char *)data, size,
				   &err) == 0) {
		if (model_metrics_json(m, exec, "m", &text, &len) < 0)
			abort();
		free(err);
		err = NULL;
		if (model_metrics_log_json(m, exec, "again", text, len,
					   &err) < 0)
			abort();
	}
	free(text);
	free(err);
	return 0;
}
