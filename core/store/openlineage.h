/* SPDX-License-Identifier: MIT */
/*
 * A pipeline's runs as OpenLineage RunEvents (spec 2-0-2,
 * https://openlineage.io/spec/2-0-2/OpenLineage.json), one JSON object a
 * line (P/openlineage.jsonl, `cmffs export --format openlineage`).
 *
 * The mapping:
 *  - each execution is a run: runId its Execution_uuid (the first of the
 *    list; an execution without a valid one gets a name-based UUID, v3, of
 *    its pipeline, stage, name, id and creation time); job namespace the
 *    pipeline's name, job name the stage's context name "P/S".  A START
 *    event at its creation time, then at its last update COMPLETE (state
 *    COMPLETE or CACHED), FAIL (FAILED) or ABORT (CANCELED); a RUNNING or
 *    NEW execution has only its START.
 *  - the pipeline is a run of its own, the parent of those (each carries
 *    a ParentRunFacet naming it): job namespace and name the pipeline's
 *    name, runId a name-based UUID (v3) of its name and creation time.  A
 *    START at its first execution's start (or its creation, if earlier),
 *    and, once no execution is RUNNING or NEW, FAIL if one failed, ABORT
 *    if one was canceled, else COMPLETE, at the last execution's update.
 *    A pipeline without executions has no events.
 *  - inputs and outputs (both events carry them): the artifacts of the
 *    execution's INPUT and OUTPUT events that have bytes (not Metrics),
 *    namespace the storage URL ("file://PATH" for a local storage, "file"
 *    without one), name the artifact's path (its name before the first
 *    ':'), a DatasetVersionDatasetFacet whose datasetVersion is its MD5
 *    ("<md5>.dir" for a directory).
 *  - eventTime in UTC, ISO-8601 with milliseconds and "Z"; producer
 *    OPENLINEAGE_PRODUCER; every facet has _producer and _schemaURL.
 * Events are in time order, a run's START before its end.
 */
#ifndef CMFFS_OPENLINEAGE_H
#define CMFFS_OPENLINEAGE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define OPENLINEAGE_SCHEMA \
	"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

/* The events of pipeline @pipeline_id, each line ending in "\n".  Owned. */
int openlineage_pipeline(struct model *m, int64_t pipeline_id,
			 char **ret_text, size_t *ret_len);

/*
 * The events of pipeline @name, or of every pipeline (in name order) when
 * @name is NULL.  Owned.  -ENOENT: no pipeline @name.
 */
int openlineage_export(struct model *m, const char *name, char **ret_text,
		       size_t *ret_len);

#endif
