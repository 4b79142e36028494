/* SPDX-License-Identifier: MIT */
/* Lineage through events, with recursive SQL; see lineage.h. */
#include "lineage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_i.h"
#include "sb.h"

/*
 * Nodes reachable from execution ?1 against (@in = 3, @out = 4: upstream)
 * or along (@in = 4, @out = 3: downstream) the flow of data.
 */
#define WALK(IN, OUT)                                                        \
	"WITH RECURSIVE walk(kind, id) AS (SELECT 'e', ?1"                   \
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
	" FROM walk w WHERE NOT (w.kind = 'e' AND w.id = ?1)"                \
	" ORDER BY w.kind DESC, 2"

static const char sql_upstream[] = WALK("3", "4");
static const char sql_downstream[] = WALK("4", "3");

/* executions of a pipeline's stages, and all their events */
static const char sql_pipeline_executions[] =
	"SELECT e.`id`, c.`name` || '/' || CASE WHEN ifnull(e.`name`, '') = ''"
	" THEN 'execution-' || e.`id` ELSE e.`name` END"
	" FROM `ParentContext` pc JOIN `Context` c ON c.`id` = pc.`context_id`"
	" JOIN `Association` x ON x.`context_id` = c.`id`"
	" JOIN `Execution` e ON e.`id` = x.`execution_id`"
	" WHERE pc.`parent_context_id` = ?1 ORDER BY e.`id`";
static const char sql_pipeline_events[] =
	"SELECT DISTINCT ev.`execution_id`, ev.`artifact_id`, ev.`type`,"
	" a.`name`, t.`name` FROM `ParentContext` pc"
	" JOIN `Association` x ON x.`context_id` = pc.`context_id`"
	" JOIN `Event` ev ON ev.`execution_id` = x.`execution_id`"
	" JOIN `Artifact` a ON a.`id` = ev.`artifact_id`"
	" JOIN `Type` t ON t.`id` = a.`type_id`"
	" WHERE pc.`parent_context_id` = ?1 ORDER BY ev.`id`";

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

int lineage_execution_text(struct model *m, int64_t execution_id,
			   char **ret_text, size_t *ret_len)
{
	struct sb sb;
	int r;

	sb_init(&sb, 0);
	store_lock(m->st);
	r = walk(m->st, sql_upstream, "upstream", execution_id, &sb);
	if (r == 0)
		r = walk(m->st, sql_downstream, "downstream", execution_id, &sb);
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

/* A Graphviz ID string: quoted, with " and \ escaped. */
static void dot_quote(struct sb *sb, const char *s)
{
	sb_putc(sb, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sb_putc(sb, '\\');
		sb_putc(sb, *s);
	}
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
		char label[512];

		/* short label: path and 4 hex digits, as the CMF UI shows */
		snprintf(label, sizeof(label), "%.*s\\n%s %.4s",
			 (int)strcspn(name, ":"), name, type,
			 strchr(name, ':') ? strchr(name, ':') + 1 : "");
		sb_appendf(&sb, "\ta%lld [shape=ellipse, label=\"", a);
		for (const char *c = label; *c; c++) {
			if (*c == '"')
				sb_putc(&sb, '\\');
			sb_putc(&sb, *c);
		}
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
