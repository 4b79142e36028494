/* SPDX-License-Identifier: MIT */
/*
 * Lineage: what an execution came from and what came from it, following
 * events transitively (an execution's INPUT artifacts, the executions that
 * output them, their inputs, ...), and a pipeline's whole graph in
 * Graphviz's language.
 */
#ifndef CMFFS_LINEAGE_H
#define CMFFS_LINEAGE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/*
 * Text for E/lineage: one line per node, "upstream execution P/S/E",
 * "upstream artifact NAME (TYPE)", then the downstream ones.  Owned.
 */
int lineage_execution_text(struct model *m, int64_t execution_id,
			   char **ret_text, size_t *ret_len);

/* The same for artifact @artifact_id (its user.cmf.lineage attribute). */
int lineage_artifact_text(struct model *m, int64_t artifact_id,
			  char **ret_text, size_t *ret_len);

/* The graph of pipeline @pipeline_id as a Graphviz digraph.  Owned. */
int lineage_pipeline_dot(struct model *m, int64_t pipeline_id,
			 char **ret_text, size_t *ret_len);

/*
 * The same graph drawn as SVG: executions as boxes, artifacts as rounded
 * boxes, in columns by their depth in the data flow.  Owned.
 */
int lineage_pipeline_svg(struct model *m, int64_t pipeline_id,
			 char **ret_text, size_t *ret_len);

/*
 * Cypher statements that load the graph into Neo4j (upstream's optional
 * graph layer): MERGE of Execution nodes by uuid, artifact nodes (labelled
 * with their type) by uri, and INPUT/OUTPUT relationships.  Owned.
 */
int lineage_pipeline_cypher(struct model *m, int64_t pipeline_id,
			    char **ret_text, size_t *ret_len);

#endif
