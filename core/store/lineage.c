/* SPDX-License-Identifier: MIT */
/* Lineage through events, with recursive SQL; see lineage.h. */
#include "lineage.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_i.h"
#include "sb.h"

/*
 * Nodes reachable from execution ?1 against (@in = 3, @out = 4: upstream)
 * or along (@in = 4, @out = 3: downstream) the flow of data.
 */
#define WALK(START, IN, OUT)                                                 \
	"WITH RECURSIVE walk(kind, id) AS (SELECT '" START "', ?1"           \
	" UNION SELECT 'a', ev.`artifact_id` FROM walk JOIN `Event` ev"      \
	"  ON walk.kind = 'e' AND ev.`execution_id` = walk.id"               \
	"  AND ev.`type` = " IN                                              \
	" UNION SELECT 'e', ev.`execution_id` FROM walk JOIN `Event` ev"     \
	"  ON walk.kind = 'a' AND ev.`artifact_id` = walk.id"                \
	"  AND ev.`type` = " OUT ")"                                         \
	" SELECT w.kind, CASE w.kind WHEN 'e' THEN"                          \
	"  (SELECT ifnull(p.`string_value`, t.`name`) || '/' ||"             \
	"   CASE WHEN ifnull(e.`name`, '') = '' THEN 'execution-' || e.`id`" \
	"   ELSE e.`name` END FROM `Execution` e JOIN `Type` t"              \
	"   ON t.`id` = e.`type_id` LEFT JOIN `ExecutionProperty` p"         \
	"   ON p.`execution_id` = e.`id` AND p.`name` = 'Context_Type'"      \
	"   AND p.`is_custom_property` = 0 WHERE e.`id` = w.id)"             \
	" ELSE (SELECT a.`name` || ' (' || t.`name` || ')' FROM `Artifact` a" \
	"  JOIN `Type` t ON t.`id` = a.`type_id` WHERE a.`id` = w.id) END"   \
	" FROM walk w WHERE NOT (w.kind = '" START "' AND w.id = ?1)"        \
	" ORDER BY w.kind DESC, 2"

STORE_SQL(sql_upstream, WALK("e", "3", "4"));
STORE_SQL(sql_downstream, WALK("e", "4", "3"));
/* from an artifact: upstream are the executions that output it, ... */
STORE_SQL(sql_art_upstream, WALK("a", "3", "4"));
STORE_SQL(sql_art_downstream, WALK("a", "4", "3"));

/* executions of a pipeline's stages, and all their events */
STORE_SQL(sql_pipeline_executions,
	"SELECT e.`id`, c.`name` || '/' || CASE WHEN ifnull(e.`name`, '') = ''"
	" THEN 'execution-' || e.`id` ELSE e.`name` END"
	" FROM `ParentContext` pc JOIN `Context` c ON c.`id` = pc.`context_id`"
	" JOIN `Association` x ON x.`context_id` = c.`id`"
	" JOIN `Execution` e ON e.`id` = x.`execution_id`"
	" WHERE pc.`parent_context_id` = ?1 ORDER BY e.`id`");
STORE_SQL(sql_pipeline_events,
	"SELECT DISTINCT ev.`execution_id`, ev.`artifact_id`, ev.`type`,"
	" a.`name`, t.`name` FROM `ParentContext` pc"
	" JOIN `Association` x ON x.`context_id` = pc.`context_id`"
	" JOIN `Event` ev ON ev.`execution_id` = x.`execution_id`"
	" JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"
	" JOIN `Type` t ON t.`id` = a.`type_id`"
	" WHERE pc.`parent_context_id` = ?1 ORDER BY ev.`id`");

/* executions with their uuid, for Cypher */
STORE_SQL(sql_pipeline_exec_uuids,
	"SELECT e.`id`, ifnull(u.`string_value`, '') FROM `ParentContext` pc"
	" JOIN `Association` x ON x.`context_id` = pc.`context_id`"
	" JOIN `Execution` e ON e.`id` = x.`execution_id`"
	" LEFT JOIN `ExecutionProperty` u ON u.`execution_id` = e.`id`"
	" AND u.`name` = 'Execution_uuid' AND u.`is_custom_property` = 0"
	" WHERE pc.`parent_context_id` = ?1");
STORE_SQL(sql_pipeline_artifact_uris,
	"SELECT DISTINCT a.`id`, ifnull(a.`uri`, '') FROM `ParentContext` pc"
	" JOIN `Association` x ON x.`context_id` = pc.`context_id`"
	" JOIN `Event` ev ON ev.`execution_id` = x.`execution_id`"
	" JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"
	" WHERE pc.`parent_context_id` = ?1");

/* The pipeline's graph in memory. */
struct gnode {
	bool exec;
	int64_t id;
	char *label;	/* owned */
	char *type;	/* owned: artifact type, "" for executions */
	char *key;	/* owned: uuid or uri */
	int layer;
	int row;
};

struct gedge {
	size_t from, to;	/* indexes into nodes */
	bool input;		/* artifact -> execution */
};

struct graph {
	struct gnode *nodes;
	size_t n, cap;
	struct gedge *edges;
	size_t ne, ecap;
	/* index of nodes by (exec, id): open addressing, -1 = empty */
	long *slots;
	size_t nslots;		/* a power of two, > 2 n */
	size_t max;		/* at most this many nodes (0: any); then -E2BIG */
};

/* SVG: a pipeline with more nodes than this is named, not drawn. */
#define GRAPH_DRAW_MAX 5000

static void graph_free(struct graph *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		free(g->nodes[i].label);
		free(g->nodes[i].type);
		free(g->nodes[i].key);
	}
	free(g->nodes);
	free(g->edges);
	free(g->slots);
}

static size_t graph_slot(const struct graph *g, bool exec, int64_t id)
{
	uint64_t h = ((uint64_t)id << 1 | exec) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 20) & (g->nslots - 1);
}

static long graph_find(struct graph *g, bool exec, int64_t id)
{
	size_t i;

	if (!g->nslots)
		return -1;
	for (i = graph_slot(g, exec, id); g->slots[i] >= 0;
	     i = (i + 1) & (g->nslots - 1)) {
		const struct gnode *n = &g->nodes[g->slots[i]];

		if (n->exec == exec && n->id == id)
			return g->slots[i];
	}
	return -1;
}

/* Make room in the index for one node more.  0 or -ENOMEM. */
static int graph_index_grow(struct graph *g)
{
	size_t want = g->nslots ? g->nslots : 64, i, j;
	long *slots;

	while (want <= 2 * (g->n + 1))
		want *= 2;
	if (want == g->nslots)
		return 0;
	slots = malloc(want * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < want; i++)
		slots[i] = -1;
	free(g->slots);
	g->slots = slots;
	g->nslots = want;
	for (i = 0; i < g->n; i++) {
		j = graph_slot(g, g->nodes[i].exec, g->nodes[i].id);
		while (g->slots[j] >= 0)
			j = (j + 1) & (g->nslots - 1);
		g->slots[j] = (long)i;
	}
	return 0;
}

static long graph_add(struct graph *g, bool exec, int64_t id,
		      const char *label, const char *type)
{
	long at = graph_find(g, exec, id);
	struct gnode *nn;

	if (at >= 0)
		return at;
	if (g->max && g->n >= g->max)
		return -E2BIG;
	if (graph_index_grow(g) < 0)
		return -ENOMEM;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 32;

		nn = reallocarray(g->nodes, cap, sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		g->nodes = nn;
		g->cap = cap;
	}
	nn = &g->nodes[g->n];
	memset(nn, 0, sizeof(*nn));
	nn->exec = exec;
	nn->id = id;
	nn->label = strdup(label ? label : "?");
	nn->type = strdup(type ? type : "");
	nn->key = strdup("");
	if (!nn->label || !nn->type || !nn->key) {
		free(nn->label);
		free(nn->type);
		free(nn->key);
		return -ENOMEM;
	}
	at = (long)graph_slot(g, exec, id);
	while (g->slots[at] >= 0)
		at = (at + 1) & (long)(g->nslots - 1);
	g->slots[at] = (long)g->n;
	return (long)g->n++;
}

static int graph_load(struct store *st, int64_t pipeline_id, struct graph *g)
{
	sqlite3_stmt *s;
	long added = 0;
	int rc, r;

	r = store_stmt(st, sql_pipeline_executions, &s);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, pipeline_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		added = graph_add(g, true, sqlite3_column_int64(s, 0),
				  (const char *)sqlite3_column_text(s, 1), "");
		if (added < 0)
			break;
	}
	store_stmt_done(s);
	if (added < 0)
		return (int)added;
	if (rc != SQLITE_DONE)
		return store_errno(rc);
	r = store_stmt(st, sql_pipeline_events, &s);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, pipeline_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		long e = graph_find(g, true, sqlite3_column_int64(s, 0));
		long a = graph_add(g, false, sqlite3_column_int64(s, 1),
				   (const char *)sqlite3_column_text(s, 3),
				   (const char *)sqlite3_column_text(s, 4));
		struct gedge *ge;

		if (a < 0) {
			added = a;
			break;
		}
		if (e < 0)
			continue;
		if (g->ne == g->ecap) {
			size_t cap = g->ecap ? g->ecap * 2 : 64;

			ge = reallocarray(g->edges, cap, sizeof(*ge));
			if (!ge) {
				rc = SQLITE_NOMEM;
				break;
			}
			g->edges = ge;
			g->ecap = cap;
		}
		ge = &g->edges[g->ne++];
		ge->input = sqlite3_column_int(s, 2) == 3;
		ge->from = (size_t)(ge->input ? a : e);
		ge->to = (size_t)(ge->input ? e : a);
	}
	store_stmt_done(s);
	if (added < 0)
		return (int)added;
	return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

/* Fill the uuid / uri keys of the nodes. */
static int graph_keys(struct store *st, int64_t pipeline_id, struct graph *g)
{
	const char *const sqls[] = { sql_pipeline_exec_uuids,
				     sql_pipeline_artifact_uris };
	size_t k;

	for (k = 0; k < 2; k++) {
		sqlite3_stmt *s;
		int rc, r = store_stmt(st, sqls[k], &s);

		if (r < 0)
			return r;
		sqlite3_bind_int64(s, 1, pipeline_id);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			long i = graph_find(g, k == 0, sqlite3_column_int64(s, 0));
			char *key;

			if (i < 0)
				continue;
			key = strdup((const char *)sqlite3_column_text(s, 1));
			if (!key) {
				rc = SQLITE_NOMEM;
				break;
			}
			free(g->nodes[i].key);
			g->nodes[i].key = key;
		}
		store_stmt_done(s);
		if (rc != SQLITE_DONE)
			return store_errno(rc);
	}
	return 0;
}

/* Columns by longest path from a source; rows in order within a column. */
static void graph_layout(struct graph *g)
{
	size_t i, pass;
	int *rows;
	bool changed = true;

	for (pass = 0; changed && pass <= g->n; pass++) {
		changed = false;
		for (i = 0; i < g->ne; i++) {
			struct gnode *a = &g->nodes[g->edges[i].from];
			struct gnode *b = &g->nodes[g->edges[i].to];

			if (b->layer < a->layer + 1) {
				b->layer = a->layer + 1;
				changed = true;
			}
		}
	}
	rows = calloc(g->n + 1, sizeof(*rows));
	for (i = 0; rows && i < g->n; i++) {
		int l = g->nodes[i].layer;

		if (l > (int)g->n)
			l = (int)g->n;	/* a cycle: keep it on the page */
		g->nodes[i].layer = l;
		g->nodes[i].row = rows[l]++;
	}
	free(rows);
}

#define BOX_W 230
#define BOX_H 40
#define COL_W 300
#define ROW_H 64
#define MARGIN 20

static int node_x(const struct gnode *n)
{
	return MARGIN + n->layer * COL_W;
}

static int node_y(const struct gnode *n)
{
	return MARGIN + n->row * ROW_H;
}

int lineage_pipeline_svg(struct model *m, int64_t pipeline_id,
			 char **ret_text, size_t *ret_len)
{
	struct graph g = { 0 };
	int width = 0, height = 0, r;
	struct sb sb;
	size_t i;

	sb_init(&sb, 0);
	g.max = GRAPH_DRAW_MAX;
	store_lock(m->st);
	r = graph_load(m->st, pipeline_id, &g);
	store_unlock(m->st);
	if (r == -E2BIG) {
		/* bounded work: a graph this large is unreadable drawn */
		sb_appendf(&sb,
			   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"520\" height=\"60\" viewBox=\"0 0 520 60\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"13\">\n"
			   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
			   "<text x=\"10\" y=\"34\">more than %d executions and artifacts: too many to draw (see lineage.dot)</text>\n"
			   "</svg>\n", GRAPH_DRAW_MAX);
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	graph_layout(&g);
	for (i = 0; i < g.n; i++) {
		if (node_x(&g.nodes[i]) + BOX_W + MARGIN > width)
			width = node_x(&g.nodes[i]) + BOX_W + MARGIN;
		if (node_y(&g.nodes[i]) + BOX_H + MARGIN > height)
			height = node_y(&g.nodes[i]) + BOX_H + MARGIN;
	}
	sb_appendf(&sb,
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n"
		   "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		   width ? width : 200, height ? height : 60,
		   width ? width : 200, height ? height : 60);
	for (i = 0; i < g.ne; i++) {
		const struct gnode *a = &g.nodes[g.edges[i].from];
		const struct gnode *b = &g.nodes[g.edges[i].to];
		int x1 = node_x(a) + BOX_W, y1 = node_y(a) + BOX_H / 2;
		int x2 = node_x(b), y2 = node_y(b) + BOX_H / 2;

		sb_appendf(&sb,
			   "<path d=\"M%d,%d C%d,%d %d,%d %d,%d\" fill=\"none\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>\n",
			   x1, y1, (x1 + x2) / 2, y1, (x1 + x2) / 2, y2, x2, y2);
	}
	for (i = 0; i < g.n; i++) {
		const struct gnode *n = &g.nodes[i];
		const char *colon = strchr(n->label, ':');

		sb_appendf(&sb,
			   "<g><title>%s</title><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"%d\" fill=\"%s\" stroke=\"#345\"/>\n",
			   n->exec ? "execution" : "artifact", node_x(n),
			   node_y(n), BOX_W, BOX_H, n->exec ? 2 : 14,
			   n->exec ? "#dbe9f6" : "#f6efdb");
		sb_appendf(&sb, "<text x=\"%d\" y=\"%d\">", node_x(n) + 8,
			   node_y(n) + 16);
		if (n->exec) {
			sb_put_xml(&sb, n->label, 36);
		} else {
			/* path, then type and the first hex digits */
			char path[512];

			snprintf(path, sizeof(path), "%.*s",
				 (int)(colon ? colon - n->label
					     : (long)strlen(n->label)),
				 n->label);
			sb_put_xml(&sb, path, 36);
		}
		sb_appendf(&sb, "</text><text x=\"%d\" y=\"%d\" fill=\"#666\">",
			   node_x(n) + 8, node_y(n) + 31);
		if (n->exec) {
			sb_puts(&sb, "execution");
		} else {
			sb_put_xml(&sb, n->type, 20);
			sb_putc(&sb, ' ');
			sb_put_xml(&sb, colon ? colon + 1 : "", 8);
		}
		sb_puts(&sb, "</text></g>\n");
	}
	sb_puts(&sb, "</svg>\n");
out:
	graph_free(&g);
	if (r == 0 && sb_err(&sb))
		r = sb_err(&sb);
	if (r == 0) {
		*ret_text = sb_detach(&sb, ret_len);
		r = *ret_text ? 0 : -ENOMEM;
	}
	sb_release(&sb);
	return r;
}

/* A Cypher string literal. */
static void cypher_str(struct sb *sb, const char *s)
{
	sb_putc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			sb_putc(sb, '\\');
		sb_putc(sb, *s);
	}
	sb_putc(sb, '\'');
}

/* An artifact type as a Cypher label: letters, digits and _ only. */
static void cypher_label(struct sb *sb, const char *type)
{
	for (; *type; type++)
		sb_putc(sb, (*type >= 'a' && *type <= 'z') ||
				    (*type >= 'A' && *type <= 'Z') ||
				    (*type >= '0' && *type <= '9')
			    ? *type
			    : '_');
}

int lineage_pipeline_cypher(struct model *m, int64_t pipeline_id,
			    char **ret_text, size_t *ret_len)
{
	struct graph g = { 0 };
	struct sb sb;
	size_t i;
	int r;

	sb_init(&sb, 0);
	store_lock(m->st);
	r = graph_load(m->st, pipeline_id, &g);
	if (r == 0)
		r = graph_keys(m->st, pipeline_id, &g);
	store_unlock(m->st);
	if (r < 0)
		goto out;
	for (i = 0; i < g.n; i++) {
		const struct gnode *n = &g.nodes[i];

		if (n->exec) {
			sb_puts(&sb, "MERGE (n:Execution {uuid: ");
			cypher_str(&sb, n->key);
			sb_puts(&sb, "}) SET n.name = ");
		} else {
			sb_puts(&sb, "MERGE (n:Artifact:");
			cypher_label(&sb, n->type);
			sb_puts(&sb, " {uri: ");
			cypher_str(&sb, n->key);
			sb_puts(&sb, "}) SET n.name = ");
		}
		cypher_str(&sb, n->label);
		sb_puts(&sb, ";\n");
	}
	for (i = 0; i < g.ne; i++) {
		const struct gnode *a = &g.nodes[g.edges[i].from];
		const struct gnode *b = &g.nodes[g.edges[i].to];
		const struct gnode *art = g.edges[i].input ? a : b;
		const struct gnode *ex = g.edges[i].input ? b : a;

		sb_puts(&sb, "MATCH (a:Artifact {uri: ");
		cypher_str(&sb, art->key);
		sb_puts(&sb, "}), (e:Execution {uuid: ");
		cypher_str(&sb, ex->key);
		sb_puts(&sb, g.edges[i].input ? "}) MERGE (a)-[:INPUT]->(e);\n"
					      : "}) MERGE (e)-[:OUTPUT]->(a);\n");
	}
out:
	graph_free(&g);
	if (r == 0 && sb_err(&sb))
		r = sb_err(&sb);
	if (r == 0) {
		*ret_text = sb_detach(&sb, ret_len);
		r = *ret_text ? 0 : -ENOMEM;
	}
	sb_release(&sb);
	return r;
}

static int walk(struct store *st, const char *sql, const char *dir,
		int64_t id, struct sb *sb)
{
	sqlite3_stmt *s;
	int rc, r = store_stmt(st, sql, &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 0);
		const char *what = (const char *)sqlite3_column_text(s, 1);

		sb_appendf(sb, "%s %s %s\n", dir,
			   kind[0] == 'e' ? "execution" : "artifact",
			   what ? what : "?");
	}
	store_stmt_done(s);
	return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

static int lineage_text(struct model *m, const char *up, const char *down,
			int64_t id, char **ret_text, size_t *ret_len)
{
	struct sb sb;
	int r;

	sb_init(&sb, 0);
	store_lock(m->st);
	r = walk(m->st, up, "upstream", id, &sb);
	if (r == 0)
		r = walk(m->st, down, "downstream", id, &sb);
	store_unlock(m->st);
	if (r == 0 && sb_err(&sb))
		r = sb_err(&sb);
	if (r == 0) {
		*ret_text = sb_detach(&sb, ret_len);
		r = *ret_text ? 0 : -ENOMEM;
	}
	sb_release(&sb);
	return r;
}

int lineage_execution_text(struct model *m, int64_t execution_id,
			   char **ret_text, size_t *ret_len)
{
	return lineage_text(m, sql_upstream, sql_downstream, execution_id,
			    ret_text, ret_len);
}

int lineage_artifact_text(struct model *m, int64_t artifact_id,
			  char **ret_text, size_t *ret_len)
{
	return lineage_text(m, sql_art_upstream, sql_art_downstream,
			    artifact_id, ret_text, ret_len);
}

/* @s[0..n) inside a Graphviz string: " and \ escaped. */
static void dot_text(struct sb *sb, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i]; i++) {
		if (s[i] == '"' || s[i] == '\\')
			sb_putc(sb, '\\');
		sb_putc(sb, s[i]);
	}
}

/* A Graphviz ID string: quoted, with " and \ escaped. */
static void dot_quote(struct sb *sb, const char *s)
{
	sb_putc(sb, '"');
	dot_text(sb, s, strlen(s));
	sb_putc(sb, '"');
}

int lineage_pipeline_dot(struct model *m, int64_t pipeline_id,
			 char **ret_text, size_t *ret_len)
{
	sqlite3_stmt *s;
	struct sb sb;
	int rc, r;

	sb_init(&sb, 0);
	sb_puts(&sb, "digraph lineage {\n\trankdir=LR;\n"
		     "\tnode [fontname=\"Helvetica\", fontsize=10];\n");
	store_lock(m->st);
	r = store_stmt(m->st, sql_pipeline_executions, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, pipeline_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		sb_appendf(&sb, "\te%lld [shape=box, style=filled, fillcolor=\"#dbe9f6\", label=",
			   (long long)sqlite3_column_int64(s, 0));
		dot_quote(&sb, (const char *)sqlite3_column_text(s, 1));
		sb_puts(&sb, "];\n");
	}
	store_stmt_done(s);
	if (rc != SQLITE_DONE) {
		r = store_errno(rc);
		goto out;
	}
	r = store_stmt(m->st, sql_pipeline_events, &s);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(s, 1, pipeline_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		long long e = sqlite3_column_int64(s, 0);
		long long a = sqlite3_column_int64(s, 1);
		const char *name = (const char *)sqlite3_column_text(s, 3);
		const char *type = (const char *)sqlite3_column_text(s, 4);
		const char *colon = strchr(name, ':');

		/* short label: path and 4 hex digits, as the CMF UI shows */
		sb_appendf(&sb, "\ta%lld [shape=ellipse, label=\"", a);
		dot_text(&sb, name, strcspn(name, ":"));
		sb_puts(&sb, "\\n");
		dot_text(&sb, type, strlen(type));
		sb_putc(&sb, ' ');
		dot_text(&sb, colon ? colon + 1 : "", 4);
		sb_puts(&sb, "\"];\n");
		if (sqlite3_column_int(s, 2) == 3)
			sb_appendf(&sb, "\ta%lld -> e%lld;\n", a, e);
		else
			sb_appendf(&sb, "\te%lld -> a%lld;\n", e, a);
	}
	store_stmt_done(s);
	if (rc != SQLITE_DONE)
		r = store_errno(rc);
out:
	store_unlock(m->st);
	sb_puts(&sb, "}\n");
	if (r == 0 && sb_err(&sb))
		r = sb_err(&sb);
	if (r == 0) {
		*ret_text = sb_detach(&sb, ret_len);
		r = *ret_text ? 0 : -ENOMEM;
	}
	sb_release(&sb);
	return r;
}
