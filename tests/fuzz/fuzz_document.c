/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: a CMF JSON document from a server (mlmd_pull), merged into a
 * fresh store.  Whatever merges must export again, and that export must
 * merge into another fresh store: a pulled pipeline can always be pushed.
 * The same text is also read as a server's answer about one execution
 * (document_execution_uris): a document that merges is one it reads.
 *
 * The two stores are made once per process and emptied with model_reset()
 * before each use, so that a run sees no row of the run before it (and a
 * transaction an import left open makes the reset, and the run, fail).
 */
#include <stdint.h>
#include <stdlib.h>

#include "document.h"
#include "model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct model *pulled;	/* the document merged */
static struct model *again;	/* one pipeline of it exported and merged */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *err = NULL;

	(void)argc;
	(void)argv;
	if (model_open(":memory:", MODEL_CREATE, &pulled, &err) < 0 ||
	    model_open(":memory:", MODEL_CREATE, &again, &err) < 0)
		abort();
	return 0;
}

/* Export pipeline @name of the store @ud into the fresh store @again. */
static int round_trip(void *ud, const char *name, int64_t id)
{
	struct import_stats st;
	char *text = NULL, *err = NULL;
	size_t len;

	(void)id;
	if (document_export(ud, name, 0, &text, &len) < 0 ||
	    model_reset(again) < 0 ||
	    document_import(again, text, len, NULL, &st, &err) < 0)
		abort();
	free(text);
	return 0;
}

/* Every uri handed out is a string of the text (jansson decoded it). */
static int check_uri(void *ud, const char *uri)
{
	(void)ud;
	if (!uri)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_stats st;
	char *err = NULL;
	int uris;

	if (model_reset(pulled) < 0)
		abort();
	/* the uuid of executions of the seeds, and the start of one */
	uris = document_execution_uris((const char *)data, size,
				       "eebe31bc-e6f8-11f1-ab11-02fc00000001",
				       check_uri, NULL);
	(void)document_execution_uris((const char *)data, size, "eebe",
				      check_uri, NULL);
	if (document_import(pulled, (const char *)data, size, NULL, &st,
			    &err) == 0) {
		(void)model_pipeline_list(pulled, round_trip, pulled);
		if (uris != 0)
			abort();
	}
	free(err);
	return 0;
}
