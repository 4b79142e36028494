/* SPDX-License-Identifier: MIT */
/*
 * Generated content: the text of the read-only documents (execution.json,
 * lineage, the pipeline graphs, .cmf/status, .cmf/log) and property files.
 */
#include "fs_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "compare.h"
#include "diff.h"
#include "lineage.h"
#include "log.h"
#include "openlineage.h"
#include "report.h"

/* --- generated content ------------------------------------------------- */

int prop_owner(const struct node *n, enum model_owner *owner,
	       int64_t *id)
{
	if (n->kind == NODE_CTX_PROP || n->kind == NODE_CTX_PROPS) {
		*owner = OWNER_CONTEXT;
		*id = n->ctx_id;
		return 0;
	}
	if (n->kind == NODE_EXEC_PROP || n->kind == NODE_EXEC_PROPS) {
		*owner = OWNER_EXECUTION;
		*id = n->exec_id;
		return 0;
	}
	return -EINVAL;
}

/* The text of a generated file; *ret owned. */
int node_text(struct fs *fs, const struct node *n, char **ret,
	      size_t *ret_len)
{
	enum model_owner owner;
	int64_t id;
	char *v = NULL;
	int r;

	switch (n->kind) {
	case NODE_CMF_STATUS: {
		char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

		r = model_status_text(fs->model, &a, ret_len);
		if (r == 0)
			r = syncer_status_text(fs->syncer, &b);
		if (r == 0)
			r = fetch_status_line(fs->model, &c);
		/* without sync (no storage, no server) the cache's lines are
		 * not in the syncer's text */
		if (r == 0 && fs->cfg->storage == STORAGE_NONE &&
		    !fs->cfg->server_url)
			r = cache_status_text(fs->cas, fs->model, fs->cfg, &d);
		if (r == 0 && asprintf(ret, "%s%s%s%s", a, b, c, d ? d : "") < 0)
			r = -ENOMEM;
		if (r == 0)
			*ret_len = strlen(*ret);
		free(a);
		free(b);
		free(c);
		free(d);
		return r;
	}
	case NODE_CMF_LOG:
		return log_journal_snapshot(ret, ret_len);
	case NODE_EXEC_JSON:
		return model_execution_json(fs->model, n->exec_id, ret,
					    ret_len);
	case NODE_EXEC_LINEAGE:
		return lineage_execution_text(fs->model, n->exec_id, ret,
					      ret_len);
	case NODE_PIPELINE_DOT:
		return lineage_pipeline_dot(fs->model, n->pipeline_id, ret,
					    ret_len);
	case NODE_PIPELINE_SVG:
		return lineage_pipeline_svg(fs->model, n->pipeline_id, ret,
					    ret_len);
	case NODE_PIPELINE_CYPHER:
		return lineage_pipeline_cypher(fs->model, n->pipeline_id, ret,
					       ret_len);
	case NODE_PIPELINE_OPENLINEAGE:
		return openlineage_pipeline(fs->model, n->pipeline_id, ret,
					    ret_len);
	case NODE_STEP_PLOT:
	case NODE_STAGE_PLOT:
		return plot_text(fs, n, ret, ret_len);
	case NODE_EXEC_STATE: {
		int state = -1;

		r = model_execution_state(fs->model, n->exec_id, &state);
		if (r < 0)
			return r;
		if (asprintf(ret, "%s\n", exec_state_name(state) ? exec_state_name(state) : "UNKNOWN") < 0)
			return -ENOMEM;
		*ret_len = strlen(*ret);
		return 0;
	}
	case NODE_METRICS_FILE: {
		char base[256];
		size_t len = strlen(n->name);

		snprintf(base, sizeof(base), "%.*s", (int)(len - 5), n->name);
		r = model_metrics_json(fs->model, n->exec_id, base, ret, ret_len);
		if (r == -ENOENT) {
			*ret = strdup("");	/* created, not written yet */
			*ret_len = 0;
			r = *ret ? 0 : -ENOMEM;
		}
		return r;
	}
	case NODE_CTX_PROP:
	case NODE_EXEC_PROP:
		prop_owner(n, &owner, &id);
		r = model_prop_get(fs->model, owner, id, n->name, &v);
		if (r < 0)
			return r;
		/* a property reads back as one line */
		if (asprintf(ret, "%s%s", v, v[0] ? "\n" : "") < 0) {
			free(v);
			return -ENOMEM;
		}
		*ret_len = strlen(*ret);
		free(v);
		return 0;
	case NODE_ROOT_INDEX: {
		struct node status = { .kind = NODE_CMF_STATUS };
		char *text = NULL;
		size_t len;

		r = node_text(fs, &status, &text, &len);
		if (r == 0)
			r = report_index_html(fs->model, text, ret, ret_len);
		free(text);
		return r;
	}
	case NODE_PIPELINE_INDEX:
		return report_pipeline_html(fs->model, fs->cas, n->pipeline_id,
					    ret, ret_len);
	case NODE_PIPELINE_COMPARE:
		return compare_text(fs->model, fs->cas, RUNS_PIPELINE,
				    n->pipeline_id, COMPARE_TSV, ret, ret_len);
	case NODE_STAGE_COMPARE_TSV:
	case NODE_STAGE_COMPARE_MD:
		return compare_text(fs->model, fs->cas, RUNS_STAGE, n->stage_id,
				    n->kind == NODE_STAGE_COMPARE_MD ? COMPARE_MD
								     : COMPARE_TSV,
				    ret, ret_len);
	case NODE_EXEC_INDEX:
		return report_execution_html(fs->model, fs->cas, n->exec_id,
					     ret, ret_len);
	case NODE_EXEC_DIFF_FILE: {
		bool same;

		return diff_executions(fs->model, fs->cas, n->exec_id,
				       n->other_exec_id, 0, ret, ret_len, &same);
	}
	default:
		return -EISDIR;
	}
}
