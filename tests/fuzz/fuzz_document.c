/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: a CMF JSON document from a server (mlmd_pull), merged into a
 * fresh store.  Whatever merges must export again, and that export must
 * merge into another fresh store: a pulled pipeline can always be pushed.
 */
#include <stdint.h>
#include <stdlib.h>

#include "document.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Export pipeline @name of the store @ud into a fresh store. */
static int round_trip(void *ud, const char *name, int64_t id)
{
	struct import_stats st;
	struct model *again = NULL;
	char *text = NULL, *err = NULL;
	size_t len;

	(void)id;
	if (document_export(ud, name, 0, &text, &len) < 0 ||
	    model_open(":memory:", MODEL_CREATE, &again, &err) < 0 ||
	    document_import(again, text, len, NULL, &st, &err) < 0)
		abort();
	model_close(again);
	free(text);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_stats st;
	struct model *m = NULL;
	char *err = NULL;

	if (model_open(":memory:", MODEL_CREATE, &m, &err) < 0)
		abort();
	if (document_import(m, (const char *)data, size, NULL, &st, &err) == 0)
		(void)model_pipeline_list(m, round_trip, m);
	free(err);
	model_close(m);
	return 0;
}
