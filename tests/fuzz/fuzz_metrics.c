/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: metrics/NAME.json as a user writes it.  Whatever is accepted
 * must render again (cat metrics/NAME.json), and that rendering must be
 * accepted in turn: a logged metric can always be read back.
 *
 * A value that is an object or a list is stored as Python's str() of it
 * (core/pyrepr.c); the renderer is also tried alone on every input: the
 * bytes as a str (not necessarily UTF-8), whose repr() must be one line
 * with every control character escaped, and the first 8 bytes as a
 * double, whose repr() must read back as that double.
 *
 * The store is made once per process and emptied with model_reset() before
 * each run, so that a run sees no row of the run before it.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "pyrepr.h"

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

/* No C0 control, DEL or C1 control (UTF-8 C2 80..C2 9F) in @s[0..n). */
static bool escaped_controls(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0))
			return false;
	return true;
}

static void check_pyrepr(const uint8_t *data, size_t size)
{
	struct sb sb;
	double d;

	sb_init(&sb, 0);
	pyrepr_str(&sb, (const char *)data, size);
	if (sb_err(&sb) < 0 || sb.len < 2 || !escaped_controls(sb.buf, sb.len))
		abort();
	if (size >= sizeof(d)) {
		memcpy(&d, data, sizeof(d));
		sb_reset(&sb);
		pyrepr_float(&sb, d);
		if (sb_err(&sb) < 0 || sb.len > 24 ||
		    (isfinite(d) && strtod(sb.buf, NULL) != d))
			abort();
	}
	sb_release(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t pipeline, stage, exec;
	char *err = NULL, *text = NULL;
	size_t len;

	check_pyrepr(data, size);
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
