/* SPDX-License-Identifier: MIT */
/* The HTML report of the mount; see report.h. */
#include "report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "runs.h"
#include "sb.h"

static const char page_css[] =
	"body{font-family:Helvetica,Arial,sans-serif;font-size:14px;"
	"margin:1.5em;color:#222}\n"
	"nav{margin-bottom:1em;color:#555}\n"
	"table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
	"div.table{overflow-x:auto}\n"
	"th,td{border:1px solid #ccd;padding:3px 8px;text-align:left;"
	"vertical-align:top;white-space:nowrap}\n"
	"td.long{white-space:normal;min-width:16em;max-width:40em;"
	"overflow-wrap:anywhere}\n"
	"th{background:#eef2f7}\n"
	"table.sortable th{cursor:pointer;user-select:none}\n"
	"th[aria-sort=ascending]::after{content:\" \\25B2\"}\n"
	"th[aria-sort=descending]::after{content:\" \\25BC\"}\n"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"code,pre{font-family:monospace;font-size:12px}\n"
	"pre{background:#f6f6f6;padding:.5em;overflow:auto}\n"
	"div.lineage{max-height:36em;overflow:auto;border:1px solid #ccd}\n"
	"img.lineage{max-width:100%}\n"
	"figure{display:inline-block;margin:0 1em 1em 0}\n"
	"img.plot{max-width:480px;border:1px solid #ccd}\n"
	"p.note{color:#666;font-style:italic}\n";

/*
 * Sort a table.sortable by the column whose header is clicked (or gets
 * Enter): numbers as numbers when every cell of the column is one, else
 * text; again reverses; empty cells last.  aria-sort says the order.
 */
static const char sort_js[] =
	"(function(){\n"
	"function val(r,c){var x=r.cells[c];return x?x.textContent.trim():'';}\n"
	"function sortBy(t,th,c){\n"
	" var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);\n"
	" var asc=th.getAttribute('aria-sort')!=='ascending';\n"
	" var hs=t.tHead.rows[0].cells;\n"
	" for(var i=0;i<hs.length;i++)hs[i].removeAttribute('aria-sort');\n"
	" th.setAttribute('aria-sort',asc?'ascending':'descending');\n"
	" var num=rows.every(function(r){var v=val(r,c);"
	"return v===''||isFinite(Number(v));});\n"
	" rows.sort(function(x,y){var a=val(x,c),z=val(y,c);\n"
	"  if(a===''||z==='')return (a==='')-(z==='');\n"
	"  var d=num?Number(a)-Number(z):a.localeCompare(z);\n"
	"  return asc?d:-d;});\n"
	" rows.forEach(function(r){b.appendChild(r);});\n"
	"}\n"
	"var ts=document.querySelectorAll('table.sortable');\n"
	"for(var i=0;i<ts.length;i++)(function(t){\n"
	" if(!t.tHead||!t.tBodies.length)return;\n"
	" var hs=t.tHead.rows[0].cells;\n"
	" for(var j=0;j<hs.length;j++)(function(th,c){\n"
	"  th.tabIndex=0;\n"
	"  th.addEventListener('click',function(){sortBy(t,th,c);});\n"
	"  th.addEventListener('keydown',function(e){"
	"if(e.key==='Enter')sortBy(t,th,c);});\n"
	" })(hs[j],j);\n"
	"})(ts[i]);\n"
	"})();\n";

/* --- building blocks ------------------------------------------------- */

/* Text or attribute value, escaped and cut at REPORT_CELL_MAX. */
static void html(struct sb *sb, const char *s)
{
	sb_put_xml(sb, s, REPORT_CELL_MAX);
}

/*
 * @s as part of a relative URL: every byte but letters, digits and
 * "-._~" percent-encoded ("/" too unless @keep_slash), so any name is
 * one path component (or one path) and the result is attribute-safe.
 */
static void url(struct sb *sb, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (keep_slash && c == '/')) {
			sb_putc(sb, (char)c);
		} else {
			sb_putc(sb, '%');
			sb_putc(sb, hex[c >> 4]);
			sb_putc(sb, hex[c & 15]);
		}
	}
}

/* <a href="PREFIX URL(NAME) SUFFIX">TEXT</a> */
static void link(struct sb *sb, const char *prefix, const char *name,
		 const char *suffix, const char *text)
{
	sb_puts(sb, "<a href=\"");
	sb_puts(sb, prefix);
	url(sb, name, false);
	sb_puts(sb, suffix);
	sb_puts(sb, "\">");
	html(sb, text);
	sb_puts(sb, "</a>");
}

static void page_begin(struct sb *sb, const char *title)
{
	sb_puts(sb, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
		    "<meta charset=\"utf-8\">\n<title>");
	html(sb, title);
	sb_puts(sb, "</title>\n<style>\n");
	sb_puts(sb, page_css);
	sb_puts(sb, "</style></head>\n<body>\n");
}

static void page_end(struct sb *sb)
{
	sb_puts(sb, "<script>\n");
	sb_puts(sb, sort_js);
	sb_puts(sb, "</script>\n</body></html>\n");
}

static void th(struct sb *sb, const char *text)
{
	sb_puts(sb, "<th>");
	html(sb, text);
	sb_puts(sb, "</th>");
}

/* Longer values may wrap (class long); numbers align right. */
#define TD_SHORT 40

static void td(struct sb *sb, const char *text, bool num)
{
	sb_puts(sb, num ? "<td class=\"num\">"
			: strlen(text) > TD_SHORT ? "<td class=\"long\">"
						  : "<td>");
	html(sb, text);
	sb_puts(sb, "</td>");
}

static void td_code(struct sb *sb, const char *text)
{
	sb_puts(sb, "<td><code>");
	html(sb, text);
	sb_puts(sb, "</code></td>");
}

static void td_size(struct sb *sb, int64_t size)
{
	char buf[32] = "";

	if (size >= 0)
		snprintf(buf, sizeof(buf), "%lld", (long long)size);
	td(sb, buf, true);
}

static void td_time(struct sb *sb, int64_t ms)
{
	char when[32];

	compare_time_iso(ms, when);
	td(sb, when, false);
}

/* A table's head: <table class="sortable ..."><thead><tr> ... */
static void table_begin(struct sb *sb, const char *cls)
{
	sb_puts(sb, "<div class=\"table\"><table class=\"sortable");
	if (cls) {
		sb_putc(sb, ' ');
		sb_puts(sb, cls);
	}
	sb_puts(sb, "\"><thead><tr>");
}

static void table_body(struct sb *sb)
{
	sb_puts(sb, "</tr></thead>\n<tbody>\n");
}

static void table_end(struct sb *sb)
{
	sb_puts(sb, "</tbody></table></div>\n");
}

/* "<p>SHOWN of ALL WHAT are shown; WHERE.</p>" when some are left out. */
static void note(struct sb *sb, size_t shown, size_t all, const char *what,
		 const char *where)
{
	if (shown >= all)
		return;
	sb_appendf(sb, "<p class=\"note\">%zu of %zu %s are shown", shown,
		   all, what);
	if (where)
		sb_appendf(sb, "; %s", where);
	sb_puts(sb, ".</p>\n");
}

/* Finish: the text of @sb into *ret, or the first error. */
static int page_done(struct sb *sb, int r, char **ret_text, size_t *ret_len)
{
	if (r == 0)
		r = sb_err(sb);
	if (r == 0) {
		*ret_text = sb_detach(sb, ret_len);
		r = *ret_text ? 0 : -ENOMEM;
	}
	sb_release(sb);
	return r;
}

/* --- the workspace -------------------------------------------------- */

int report_index_html(struct model *m, const char *status, char **ret_text,
		      size_t *ret_len)
{
	struct run_pipeline *ps = NULL;
	size_t n = 0, i;
	struct sb sb;
	int r;

	sb_init(&sb, SB_MAX_DEFAULT);
	r = runs_pipelines(m, &ps, &n);
	if (r < 0)
		return page_done(&sb, r, ret_text, ret_len);
	page_begin(&sb, "cmffs workspace");
	sb_puts(&sb, "<h1>cmffs workspace</h1>\n<h2>Pipelines</h2>\n");
	if (!n)
		sb_puts(&sb, "<p>No pipeline yet: <code>mkdir pipelines/P</code> makes one.</p>\n");
	table_begin(&sb, "pipelines");
	th(&sb, "pipeline");
	th(&sb, "stages");
	th(&sb, "executions");
	th(&sb, "last activity");
	table_body(&sb);
	for (i = 0; i < n && i < REPORT_MAX_ROWS; i++) {
		char num[2][32];

		snprintf(num[0], sizeof(num[0]), "%lld", (long long)ps[i].stages);
		snprintf(num[1], sizeof(num[1]), "%lld",
			 (long long)ps[i].executions);
		sb_puts(&sb, "<tr><td>");
		link(&sb, "pipelines/", ps[i].name, "/index.html", ps[i].name);
		sb_puts(&sb, "</td>");
		td(&sb, num[0], true);
		td(&sb, num[1], true);
		td_time(&sb, ps[i].last_ms);
		sb_puts(&sb, "</tr>\n");
	}
	table_end(&sb);
	note(&sb, i, n, "pipelines", NULL);
	sb_puts(&sb, "<h2>Sync</h2>\n<pre class=\"status\">");
	sb_put_xml(&sb, status ? status : "", SIZE_MAX);
	sb_puts(&sb, "</pre>\n");
	page_end(&sb);
	runs_pipelines_free(ps, n);
	return page_done(&sb, 0, ret_text, ret_len);
}

/* --- a table of executions ------------------------------------------ */

/*
 * The comparison table of @runs (one stage's, newest first): the
 * execution (a link to PREFIX E/index.html), state, start, commit and
 * compare.h's value columns.
 */
static int runs_table(struct sb *sb, const struct runs *runs,
		      const char *prefix)
{
	struct compare_cols cols;
	struct sb name;
	size_t i, j, ncols;
	int r = compare_cols_build(runs, &cols);

	if (r < 0) {
		compare_cols_release(&cols);
		return r;
	}
	ncols = cols.n < REPORT_MAX_COLS ? cols.n : REPORT_MAX_COLS;
	sb_init(&name, 0);
	table_begin(sb, "compare");
	th(sb, "execution");
	th(sb, "state");
	th(sb, "start");
	th(sb, "commit");
	for (j = 0; j < ncols; j++) {
		sb_reset(&name);
		compare_col_name(&cols, j, &name);
		th(sb, name.buf);
	}
	table_body(sb);
	for (i = 0; i < runs->n && i < REPORT_MAX_ROWS; i++) {
		const struct run *run = &runs->v[i];
		const char *state = exec_state_name(run->state);
		char commit[16];

		compare_commit_short(run, commit);
		sb_puts(sb, "<tr><td>");
		link(sb, prefix, run->name, "/index.html", run->name);
		sb_puts(sb, "</td>");
		td(sb, state ? state : "", false);
		td_time(sb, run->create_ms);
		td_code(sb, commit);
		for (j = 0; j < ncols; j++) {
			const struct run_value *v = compare_cell(run, &cols, j);

			td(sb, v ? v->text : "", v && v->is_num);
		}
		sb_puts(sb, "</tr>\n");
	}
	table_end(sb);
	note(sb, i, runs->n, "executions (the newest)",
	     "compare.tsv has them all");
	note(sb, ncols, cols.n, "value columns", "compare.tsv has them all");
	r = sb_err(&name);
	sb_release(&name);
	compare_cols_release(&cols);
	return r;
}

/* Plots of step metrics: <img src="PREFIX NAME.svg"> per distinct name. */
static void plots(struct sb *sb, const struct runs *runs, const char *prefix)
{
	const char **names = NULL;
	size_t n = 0, total = 0, i, j;

	for (i = 0; i < runs->n; i++)
		total += runs->v[i].nsteps;
	if (!total)
		return;
	names = calloc(total, sizeof(*names));
	if (!names) {
		sb->err = sb->err ? sb->err : -ENOMEM;
		return;
	}
	for (i = 0; i < runs->n; i++)
		for (j = 0; j < runs->v[i].nsteps; j++) {
			const char *s = runs->v[i].steps[j].name;
			size_t k;

			for (k = 0; k < n && strcmp(names[k], s); k++)
				;
			if (k == n && n < REPORT_MAX_COLS)
				names[n++] = s;
		}
	sb_puts(sb, "<div class=\"plots\">\n");
	for (i = 0; i < n; i++) {
		sb_puts(sb, "<figure><img class=\"plot\" src=\"");
		sb_puts(sb, prefix);
		url(sb, names[i], false);
		sb_puts(sb, ".svg\" alt=\"");
		html(sb, names[i]);
		sb_puts(sb, "\"><figcaption>");
		html(sb, names[i]);
		sb_puts(sb, "</figcaption></figure>\n");
	}
	sb_puts(sb, "</div>\n");
	free(names);
}

/* --- a pipeline ------------------------------------------------------ */

struct stage_item {
	char *name;
	int64_t id;
};

struct stage_list {
	struct stage_item *v;
	size_t n;
};

static int stage_cb(void *ud, const char *name, int64_t id)
{
	struct stage_list *l = ud;
	struct stage_item *v = reallocarray(l->v, l->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	v[l->n].name = strdup(name);
	v[l->n].id = id;
	if (!v[l->n].name)
		return -ENOMEM;
	l->n++;
	return 0;
}

struct find_name {
	int64_t id;
	char *name;	/* owned when found */
};

static int find_name_cb(void *ud, const char *name, int64_t id)
{
	struct find_name *f = ud;

	if (id != f->id)
		return 0;
	f->name = strdup(name);
	return f->name ? 1 : -ENOMEM;
}

/* Runs grouped by stage, each group newest first. */
static int cmp_run_stage(const void *a, const void *b)
{
	const struct run *x = a, *y = b;
	int c = strcmp(x->stage, y->stage);

	if (c)
		return c;
	if (x->create_ms != y->create_ms)
		return x->create_ms > y->create_ms ? -1 : 1;
	return x->id > y->id ? -1 : x->id < y->id;
}

/* An artifact of the pipeline: one of its events. */
struct art_ref {
	const struct run_file *f;
	const struct run *run;
};

static int cmp_art_id(const void *a, const void *b)
{
	const struct art_ref *x = a, *y = b;

	if (x->f->artifact_id != y->f->artifact_id)
		return x->f->artifact_id < y->f->artifact_id ? -1 : 1;
	/* the output event first: the execution that made it */
	if (x->f->input != y->f->input)
		return x->f->input ? 1 : -1;
	return x->run->id < y->run->id ? -1 : x->run->id > y->run->id;
}

static int cmp_art_name(const void *a, const void *b)
{
	const struct art_ref *x = a, *y = b;
	int c = strcmp(x->f->name, y->f->name);

	if (c)
		return c;
	return x->f->artifact_id < y->f->artifact_id ? -1
						    : x->f->artifact_id > y->f->artifact_id;
}

/* The artifacts of the pipeline's executions, once each, by name. */
static int artifacts_section(struct sb *sb, const struct runs *runs)
{
	struct art_ref *refs;
	size_t total = 0, n = 0, i, j;

	for (i = 0; i < runs->n; i++)
		total += runs->v[i].nfiles;
	refs = calloc(total + 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (i = 0; i < runs->n; i++)
		for (j = 0; j < runs->v[i].nfiles; j++) {
			refs[n].f = &runs->v[i].files[j];
			refs[n++].run = &runs->v[i];
		}
	qsort(refs, n, sizeof(*refs), cmp_art_id);
	for (i = j = 0; i < n; i++)
		if (!j || refs[j - 1].f->artifact_id != refs[i].f->artifact_id)
			refs[j++] = refs[i];
	n = j;
	qsort(refs, n, sizeof(*refs), cmp_art_name);
	sb_puts(sb, "<h2 id=\"artifacts\">Artifacts</h2>\n");
	table_begin(sb, "artifacts");
	th(sb, "name");
	th(sb, "type");
	th(sb, "size");
	th(sb, "hash");
	th(sb, "url");
	th(sb, "logged by");
	table_body(sb);
	for (i = 0; i < n && i < REPORT_MAX_ROWS; i++) {
		const struct run_file *f = refs[i].f;
		const struct run *run = refs[i].run;

		sb_puts(sb, "<tr>");
		td(sb, f->name, false);
		td(sb, f->type, false);
		td_size(sb, f->size);
		td_code(sb, f->hash);
		td(sb, f->url, false);
		sb_puts(sb, "<td>");
		sb_puts(sb, f->input ? "input of " : "output of ");
		sb_puts(sb, "<a href=\"");
		url(sb, run->stage, false);
		sb_putc(sb, '/');
		url(sb, run->name, false);
		sb_puts(sb, "/index.html\">");
		html(sb, run->stage);
		sb_putc(sb, '/');
		html(sb, run->name);
		sb_puts(sb, "</a></td></tr>\n");
	}
	table_end(sb);
	note(sb, i, n, "artifacts", "artifacts/by-name lists them all");
	free(refs);
	return 0;
}

int report_pipeline_html(struct model *m, struct cas *cas,
			 int64_t pipeline_id, char **ret_text,
			 size_t *ret_len)
{
	struct stage_list stages = { 0 };
	struct find_name pname = { .id = pipeline_id };
	struct runs runs = { 0 };
	struct sb sb, prefix;
	size_t i, at = 0;
	int r;

	sb_init(&sb, SB_MAX_DEFAULT);
	sb_init(&prefix, 0);
	r = model_pipeline_list(m, find_name_cb, &pname);
	if (r == 0 && !pname.name)
		r = -ENOENT;
	if (r == 0)
		r = model_stage_list(m, pipeline_id, stage_cb, &stages);
	if (r == 0)
		r = runs_load(m, RUNS_PIPELINE, pipeline_id, RUNS_FILES, &runs);
	if (r == 0)
		r = compare_add_steps(&runs, cas);
	if (r < 0)
		goto out;
	if (runs.n)
		qsort(runs.v, runs.n, sizeof(*runs.v), cmp_run_stage);
	sb_puts(&prefix, "Pipeline ");
	sb_puts(&prefix, pname.name);
	page_begin(&sb, prefix.buf);
	sb_puts(&sb, "<nav><a href=\"../../index.html\">workspace</a> &rsaquo; ");
	html(&sb, pname.name);
	sb_puts(&sb, "</nav>\n<h1>Pipeline ");
	html(&sb, pname.name);
	sb_appendf(&sb, "</h1>\n<p>%zu stage(s), %zu execution(s). "
			"<a href=\"compare.tsv\">compare.tsv</a> (every execution) "
			"&middot; <a href=\"lineage.svg\">lineage.svg</a> "
			"&middot; <a href=\"openlineage.jsonl\">openlineage.jsonl</a>"
			"</p>\n<ul class=\"stages\">\n",
		   stages.n, runs.n);
	for (i = 0; i < stages.n; i++) {
		sb_puts(&sb, "<li>");
		link(&sb, "#stage-", stages.v[i].name, "", stages.v[i].name);
		sb_puts(&sb, "</li>\n");
	}
	sb_puts(&sb, "</ul>\n<h2>Lineage</h2>\n<div class=\"lineage\">"
		     "<img class=\"lineage\" src=\"lineage.svg\" alt=\"the lineage graph of ");
	html(&sb, pname.name);
	sb_puts(&sb, "\"></div>\n");
	for (i = 0; r == 0 && i < stages.n; i++) {
		const char *s = stages.v[i].name;
		struct runs view = { 0 };

		while (at < runs.n && strcmp(runs.v[at].stage, s) < 0)
			at++;
		view.v = runs.v + at;
		while (at + view.n < runs.n && !strcmp(runs.v[at + view.n].stage, s))
			view.n++;
		at += view.n;
		sb_puts(&sb, "<section class=\"stage\" id=\"stage-");
		html(&sb, s);
		sb_puts(&sb, "\">\n<h2>Stage ");
		html(&sb, s);
		sb_appendf(&sb, "</h2>\n<p>%zu execution(s). ", view.n);
		link(&sb, "", s, "/compare.tsv", "compare.tsv");
		sb_puts(&sb, " &middot; ");
		link(&sb, "", s, "/compare.md", "compare.md");
		sb_puts(&sb, "</p>\n");
		sb_reset(&prefix);
		url(&prefix, s, false);
		sb_putc(&prefix, '/');
		r = runs_table(&sb, &view, prefix.buf);
		sb_puts(&prefix, "metrics/");
		plots(&sb, &view, prefix.buf);
		sb_puts(&sb, "</section>\n");
	}
	if (r == 0)
		r = artifacts_section(&sb, &runs);
	page_end(&sb);
	if (r == 0)
		r = sb_err(&prefix);
out:
	for (i = 0; i < stages.n; i++)
		free(stages.v[i].name);
	free(stages.v);
	free(pname.name);
	runs_release(&runs);
	sb_release(&prefix);
	return page_done(&sb, r, ret_text, ret_len);
}

/* --- an execution ---------------------------------------------------- */

/* A row "<tr><th>KEY</th><td>VALUE</td></tr>" of a facts table. */
static void fact(struct sb *sb, const char *key, const char *value)
{
	sb_puts(sb, "<tr>");
	th(sb, key);
	td(sb, value, false);
	sb_puts(sb, "</tr>\n");
}

static void fact_prop(struct sb *sb, const struct run *run, const char *key)
{
	const struct run_value *v = run_value_find(run, true, key);

	if (v)
		fact(sb, key, v->text);
}

/* Key / value table of @vals (prefix: how a key is named). */
static void values_table(struct sb *sb, const char *cls, const char *prefix,
			 const struct run_value *vals, size_t n)
{
	struct sb key;
	size_t i;

	sb_init(&key, 0);
	table_begin(sb, cls);
	th(sb, "name");
	th(sb, "value");
	table_body(sb);
	for (i = 0; i < n && i < REPORT_MAX_ROWS; i++) {
		sb_reset(&key);
		sb_puts(&key, prefix);
		sb_puts(&key, vals[i].key);
		sb_puts(sb, "<tr>");
		td(sb, key.buf, false);
		td(sb, vals[i].text, vals[i].is_num);
		sb_puts(sb, "</tr>\n");
	}
	table_end(sb);
	note(sb, i, n, "values", NULL);
	if (sb_err(&key))
		sb->err = sb->err ? sb->err : sb_err(&key);
	sb_release(&key);
}

/* Inputs (@input) or outputs: a table with a link to each file. */
static void files_table(struct sb *sb, const struct run *run, bool input)
{
	const char *side = input ? "inputs/" : "outputs/";
	size_t i, shown = 0, all = 0;

	table_begin(sb, input ? "inputs" : "outputs");
	th(sb, "name");
	th(sb, "type");
	th(sb, "size");
	th(sb, "hash");
	th(sb, "url");
	table_body(sb);
	for (i = 0; i < run->nfiles; i++) {
		const struct run_file *f = &run->files[i];

		if (f->input != input || all++ >= REPORT_MAX_ROWS)
			continue;
		shown++;
		sb_puts(sb, "<tr><td><a href=\"");
		if (!strcmp(f->type, "Dataslice") && strrchr(f->name, '/')) {
			/* cmf_artifacts/UUID/dataslice/NAME: E/dataslices/NAME */
			sb_puts(sb, "dataslices/");
			url(sb, strrchr(f->name, '/') + 1, false);
		} else {
			sb_puts(sb, side);
			url(sb, f->name, true);
		}
		sb_puts(sb, "\">");
		html(sb, f->name);
		sb_puts(sb, "</a></td>");
		td(sb, f->type, false);
		td_size(sb, f->size);
		td_code(sb, f->hash);
		td(sb, f->url, false);
		sb_puts(sb, "</tr>\n");
	}
	table_end(sb);
	note(sb, shown, all, "files", NULL);
}

struct others {
	struct sb *sb;
	int64_t self;
	size_t n;
};

static int other_cb(void *ud, const char *name, int64_t id)
{
	struct others *o = ud;

	if (id == o->self)
		return 0;
	if (o->n++ >= REPORT_MAX_ROWS)
		return 0;
	sb_puts(o->sb, "<li>");
	link(o->sb, "../", name, "/index.html", name);
	sb_puts(o->sb, "</li>\n");
	return 0;
}

int report_execution_html(struct model *m, struct cas *cas, int64_t exec_id,
			  char **ret_text, size_t *ret_len)
{
	struct runs runs = { 0 };
	struct others others = { 0 };
	const struct run *run;
	const char *state;
	struct sb sb, title;
	size_t i;
	int r;

	sb_init(&sb, SB_MAX_DEFAULT);
	sb_init(&title, 0);
	r = runs_load(m, RUNS_EXECUTION, exec_id, RUNS_FILES, &runs);
	if (r == 0)
		r = compare_add_steps(&runs, cas);
	if (r < 0)
		goto out;
	run = runs.v;
	state = exec_state_name(run->state);
	sb_appendf(&title, "Execution %s/%s/%s", run->pipeline, run->stage,
		   run->name);
	page_begin(&sb, title.buf);
	sb_puts(&sb, "<nav><a href=\"../../../../index.html\">workspace</a> &rsaquo; "
		     "<a href=\"../../index.html\">");
	html(&sb, run->pipeline);
	sb_puts(&sb, "</a> &rsaquo; ");
	link(&sb, "../../index.html#stage-", run->stage, "", run->stage);
	sb_puts(&sb, " &rsaquo; ");
	html(&sb, run->name);
	sb_puts(&sb, "</nav>\n<h1>");
	html(&sb, title.buf);
	sb_puts(&sb, "</h1>\n<h2>Provenance</h2>\n<table class=\"facts\">\n");
	fact(&sb, "state", state ? state : "");
	{
		char when[2][32];

		compare_time_iso(run->create_ms, when[0]);
		compare_time_iso(run->update_ms, when[1]);
		fact(&sb, "started", when[0]);
		fact(&sb, "last update", when[1]);
	}
	fact(&sb, "command", run->command);
	fact(&sb, "git repository", run->git_repo);
	fact(&sb, "git start commit", run->git_commit);
	fact(&sb, "git end commit", run->git_end_commit);
	fact_prop(&sb, run, "Git_Dirty");
	fact_prop(&sb, run, "User");
	fact_prop(&sb, run, "Host");
	fact_prop(&sb, run, "Pid");
	fact(&sb, "uuid", run->uuid);
	sb_puts(&sb, "</table>\n<h2>Properties</h2>\n");
	values_table(&sb, "properties", "properties/", run->props, run->nprops);
	sb_puts(&sb, "<h2>Metrics</h2>\n");
	values_table(&sb, "metrics", "metrics/", run->metrics, run->nmetrics);
	if (run->nsteps) {
		sb_puts(&sb, "<h2>Plots</h2>\n");
		plots(&sb, &runs, "metrics/");
		sb_puts(&sb, "<p>The steps:");
		for (i = 0; i < run->nsteps; i++) {
			sb_puts(&sb, " <a href=\"metrics/");
			url(&sb, run->steps[i].name, false);
			sb_puts(&sb, ".csv\">");
			html(&sb, run->steps[i].name);
			sb_puts(&sb, ".csv</a>");
		}
		sb_puts(&sb, "</p>\n");
	}
	sb_puts(&sb, "<h2>Inputs</h2>\n");
	files_table(&sb, run, true);
	sb_puts(&sb, "<h2>Outputs</h2>\n");
	files_table(&sb, run, false);
	sb_puts(&sb, "<h2>Other executions of ");
	html(&sb, run->stage);
	sb_puts(&sb, "</h2>\n<ul class=\"others\">\n");
	others.sb = &sb;
	others.self = run->id;
	r = model_execution_list(m, run->stage_id, other_cb, &others);
	sb_puts(&sb, "</ul>\n");
	note(&sb, others.n < REPORT_MAX_ROWS ? others.n : REPORT_MAX_ROWS,
	     others.n, "executions", NULL);
	page_end(&sb);
	if (r == 0)
		r = sb_err(&title);
out:
	runs_release(&runs);
	sb_release(&title);
	return page_done(&sb, r, ret_text, ret_len);
}
