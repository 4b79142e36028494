/* SPDX-License-Identifier: MIT */
/* Differences between executions and between manifests; see diff.h. */
#include "diff.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compare.h"
#include "log.h"
#include "runs.h"
#include "sb.h"

/* One keyed value of a section, borrowed from its owner. */
struct ditem {
	const char *key;
	const char *text;
	bool is_num;
	double num;
};

/* Where the differences go: lines of text or a JSON array per section. */
struct dout {
	bool json;
	struct sb body;		/* text */
	json_t *doc;		/* JSON: the whole object */
	bool differs;
	int err;		/* sticky -ENOMEM of the JSON side */
};

/* A value as JSON: a number where it is one. */
static json_t *value_json(const struct ditem *d)
{
	char *end;
	long long i;

	if (!d->is_num)
		return json_string(d->text);
	i = strtoll(d->text, &end, 10);
	if (!*end && *d->text)
		return json_integer(i);
	return json_real(d->num);
}

static void json_put(struct dout *o, json_t *obj, const char *k, json_t *v)
{
	if (!v || json_object_set_new(obj, k, v) < 0)
		o->err = -ENOMEM;
}

/* One difference of @section: @a only, @b only, or both (changed). */
static void emit(struct dout *o, const char *section, const char *prefix,
		 const struct ditem *a, const struct ditem *b)
{
	const struct ditem *one = a ? a : b;
	bool delta = a && b && a->is_num && b->is_num;
	double d = delta ? b->num - a->num : 0;
	bool rel = delta && a->num != 0;
	double pct = rel ? d / fabs(a->num) * 100 : 0;

	o->differs = true;
	if (o->json) {
		json_t *arr = json_object_get(o->doc, section);
		json_t *c = json_object();

		if (!c || json_array_append_new(arr, c) < 0) {
			o->err = -ENOMEM;
			return;
		}
		json_put(o, c, "name", json_string(one->key));
		json_put(o, c, "change",
			 json_string(a && b ? "changed" : a ? "removed"
						       : "added"));
		if (a)
			json_put(o, c, "a", value_json(a));
		if (b)
			json_put(o, c, "b", value_json(b));
		if (delta)
			json_put(o, c, "delta", json_real(d));
		if (rel)
			json_put(o, c, "relative", json_real(pct));
		return;
	}
	sb_putc(&o->body, a && b ? '~' : a ? '-' : '+');
	sb_putc(&o->body, ' ');
	sb_puts(&o->body, prefix);
	sb_put_escaped(&o->body, one->key, LOG_LINE_MAX);
	sb_puts(&o->body, ": ");
	sb_put_escaped(&o->body, a ? a->text : b->text, LOG_LINE_MAX);
	if (a && b) {
		sb_puts(&o->body, " -> ");
		sb_put_escaped(&o->body, b->text, LOG_LINE_MAX);
	}
	if (delta) {
		sb_appendf(&o->body, " (%+.6g", d);
		if (rel)
			sb_appendf(&o->body, ", %+.4g%%", pct);
		sb_putc(&o->body, ')');
	}
	sb_putc(&o->body, '\n');
}

/* Merge-walk two key-sorted lists, emitting what differs. */
static void diff_lists(struct dout *o, const char *section,
		       const char *prefix, const struct ditem *a, size_t na,
		       const struct ditem *b, size_t nb)
{
	size_t i = 0, j = 0;

	if (o->json) {
		json_t *arr = json_array();

		if (!arr || json_object_set_new(o->doc, section, arr) < 0)
			o->err = -ENOMEM;
	}
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i].key, b[j].key);

		if (c < 0) {
			emit(o, section, prefix, &a[i++], NULL);
		} else if (c > 0) {
			emit(o, section, prefix, NULL, &b[j++]);
		} else {
			if (strcmp(a[i].text, b[j].text))
				emit(o, section, prefix, &a[i], &b[j]);
			i++;
			j++;
		}
	}
}

/* The items of values @v[0..n), @skip (if not NULL) left out. */
static struct ditem *value_items(const struct run_value *v, size_t n,
				 const char *skip, size_t *ret_n)
{
	struct ditem *d = calloc(n + 1, sizeof(*d));
	size_t i, k = 0;

	for (i = 0; d && i < n; i++) {
		if (skip && !strcmp(v[i].key, skip))
			continue;
		d[k].key = v[i].key;
		d[k].text = v[i].text;
		d[k].is_num = v[i].is_num;
		d[k++].num = v[i].num;
	}
	*ret_n = k;
	return d;
}

/* The items of @run's inputs (@input) or outputs: name and hash. */
static struct ditem *file_items(const struct run *run, bool input,
				size_t *ret_n)
{
	struct ditem *d = calloc(run->nfiles + 1, sizeof(*d));
	size_t i, k = 0;

	for (i = 0; d && i < run->nfiles; i++) {
		if (run->files[i].input != input)
			continue;
		d[k].key = run->files[i].name;
		d[k++].text = run->files[i].hash;
	}
	*ret_n = k;
	return d;
}

/* "P/S/E" of @run into @sb. */
static void run_label(struct sb *sb, const struct run *run)
{
	sb_put_escaped(sb, run->pipeline, LOG_LINE_MAX);
	sb_putc(sb, '/');
	sb_put_escaped(sb, run->stage, LOG_LINE_MAX);
	sb_putc(sb, '/');
	sb_put_escaped(sb, run->name, LOG_LINE_MAX);
}

static void run_header(struct sb *sb, const char *mark, const struct run *run)
{
	const char *state = exec_state_name(run->state);
	char when[32], commit[16];

	compare_time_iso(run->create_ms, when);
	compare_commit_short(run, commit);
	sb_puts(sb, mark);
	run_label(sb, run);
	sb_appendf(sb, " (%s, %s", state ? state : "no state",
		   when[0] ? when : "no time");
	if (commit[0]) {
		sb_puts(sb, ", commit ");
		sb_put_escaped(sb, commit, 16);
	}
	sb_puts(sb, ")\n");
}

static int dout_init(struct dout *o, unsigned flags)
{
	memset(o, 0, sizeof(*o));
	o->json = flags & DIFF_JSON;
	sb_init(&o->body, SB_MAX_DEFAULT);
	if (o->json && !(o->doc = json_object()))
		return -ENOMEM;
	return 0;
}

/*
 * The result: JSON with "a", "b" and "same" first, or the text (the
 * headers in @head, the lines after) when something differs.
 */
static int dout_finish(struct dout *o, const char *a, const char *b,
		       const char *head, char **ret_text, size_t *ret_len,
		       bool *ret_same)
{
	struct sb out;
	int r = o->err ? o->err : sb_err(&o->body);

	sb_init(&out, SB_MAX_DEFAULT);
	if (r == 0 && o->json) {
		json_t *top = json_pack("{s:s, s:s, s:b}", "a", a, "b", b,
					"same", !o->differs);
		char *text = NULL;

		if (!top || json_object_update(top, o->doc) < 0)
			r = -ENOMEM;
		else
			text = json_dumps(top, JSON_INDENT(2) |
						       JSON_PRESERVE_ORDER |
						       JSON_REAL_PRECISION(17));
		json_decref(top);
		if (r == 0 && !text)
			r = -ENOMEM;
		sb_puts(&out, text ? text : "");
		sb_putc(&out, '\n');
		free(text);
	} else if (r == 0 && o->differs) {
		sb_puts(&out, head);
		sb_append(&out, o->body.buf, o->body.len);
	}
	if (r == 0)
		r = sb_err(&out);
	if (r == 0) {
		*ret_text = sb_detach(&out, ret_len);
		r = *ret_text ? 0 : -ENOMEM;
	}
	if (r == 0)
		*ret_same = !o->differs;
	sb_release(&out);
	return r;
}

static void dout_release(struct dout *o)
{
	sb_release(&o->body);
	json_decref(o->doc);
	o->doc = NULL;
}

/* Load execution @id with its files and final metrics into @runs. */
static int load_one(struct model *m, struct cas *cas, int64_t id,
		    struct runs *runs)
{
	int r = runs_load(m, RUNS_EXECUTION, id, RUNS_FILES, runs);

	if (r == 0)
		r = compare_add_steps(runs, cas);
	return r;
}

int diff_executions(struct model *m, struct cas *cas, int64_t a, int64_t b,
		    unsigned flags, char **ret_text, size_t *ret_len,
		    bool *ret_same)
{
	struct runs ra = { 0 }, rb = { 0 };
	struct ditem *da[4] = { 0 }, *db[4] = { 0 };
	size_t na[4] = { 0 }, nb[4] = { 0 }, k;
	struct sb head, la, lb;
	struct dout o;
	int r;

	sb_init(&head, 0);
	sb_init(&la, 0);
	sb_init(&lb, 0);
	r = dout_init(&o, flags);
	if (r == 0)
		r = load_one(m, cas, a, &ra);
	if (r == 0)
		r = load_one(m, cas, b, &rb);
	if (r < 0)
		goto out;
	da[0] = value_items(ra.v->props, ra.v->nprops, "Pid", &na[0]);
	db[0] = value_items(rb.v->props, rb.v->nprops, "Pid", &nb[0]);
	da[1] = value_items(ra.v->metrics, ra.v->nmetrics, NULL, &na[1]);
	db[1] = value_items(rb.v->metrics, rb.v->nmetrics, NULL, &nb[1]);
	da[2] = file_items(ra.v, true, &na[2]);
	db[2] = file_items(rb.v, true, &nb[2]);
	da[3] = file_items(ra.v, false, &na[3]);
	db[3] = file_items(rb.v, false, &nb[3]);
	for (k = 0; k < 4; k++)
		if (!da[k] || !db[k])
			r = -ENOMEM;
	if (r < 0)
		goto out;
	diff_lists(&o, "properties", "properties/", da[0], na[0], db[0], nb[0]);
	diff_lists(&o, "metrics", "metrics/", da[1], na[1], db[1], nb[1]);
	diff_lists(&o, "inputs", "inputs/", da[2], na[2], db[2], nb[2]);
	diff_lists(&o, "outputs", "outputs/", da[3], na[3], db[3], nb[3]);
	run_header(&head, "--- ", ra.v);
	run_header(&head, "+++ ", rb.v);
	run_label(&la, ra.v);
	run_label(&lb, rb.v);
	r = sb_err(&head) ? sb_err(&head) : sb_err(&la) ? sb_err(&la)
							: sb_err(&lb);
	if (r < 0)
		goto out;
	r = dout_finish(&o, la.buf, lb.buf, head.buf, ret_text, ret_len,
			ret_same);
out:
	for (k = 0; k < 4; k++) {
		free(da[k]);
		free(db[k]);
	}
	dout_release(&o);
	runs_release(&ra);
	runs_release(&rb);
	sb_release(&head);
	sb_release(&la);
	sb_release(&lb);
	return r;
}

static int cmp_entry(const void *x, const void *y)
{
	return strcmp(((const struct manifest_entry *)x)->relpath,
		      ((const struct manifest_entry *)y)->relpath);
}

/* The items of a manifest, sorted by path. */
static struct ditem *manifest_items(struct manifest_entry *e, size_t n)
{
	struct ditem *d = calloc(n + 1, sizeof(*d));
	size_t i;

	if (n)
		qsort(e, n, sizeof(*e), cmp_entry);
	for (i = 0; d && i < n; i++) {
		d[i].key = e[i].relpath;
		d[i].text = e[i].md5;
	}
	return d;
}

int diff_manifests(const char *label_a, const char *bytes_a, size_t len_a,
		   const char *label_b, const char *bytes_b, size_t len_b,
		   unsigned flags, char **ret_text, size_t *ret_len,
		   bool *ret_same, char **ret_err)
{
	struct manifest_entry *ea = NULL, *eb = NULL;
	struct ditem *da = NULL, *db = NULL;
	size_t na = 0, nb = 0;
	char *why = NULL;
	struct sb head;
	struct dout o;
	int r;

	*ret_err = NULL;
	sb_init(&head, 0);
	r = dout_init(&o, flags);
	if (r == 0) {
		r = manifest_parse(bytes_a, len_a, &ea, &na, &why);
		if (r == -EINVAL && asprintf(ret_err, "%s is not a DVC directory manifest: %s",
					     label_a, why ? why : "?") < 0)
			*ret_err = NULL;
	}
	free(why);
	why = NULL;
	if (r == 0) {
		r = manifest_parse(bytes_b, len_b, &eb, &nb, &why);
		if (r == -EINVAL && asprintf(ret_err, "%s is not a DVC directory manifest: %s",
					     label_b, why ? why : "?") < 0)
			*ret_err = NULL;
	}
	free(why);
	if (r < 0)
		goto out;
	da = manifest_items(ea, na);
	db = manifest_items(eb, nb);
	if (!da || !db) {
		r = -ENOMEM;
		goto out;
	}
	diff_lists(&o, "files", "", da, na, db, nb);
	sb_puts(&head, "--- ");
	sb_put_escaped(&head, label_a, LOG_LINE_MAX);
	sb_puts(&head, "\n+++ ");
	sb_put_escaped(&head, label_b, LOG_LINE_MAX);
	sb_putc(&head, '\n');
	r = sb_err(&head);
	if (r == 0)
		r = dout_finish(&o, label_a, label_b, head.buf, ret_text,
				ret_len, ret_same);
out:
	dout_release(&o);
	free(da);
	free(db);
	manifest_free(ea, na);
	manifest_free(eb, nb);
	sb_release(&head);
	return r;
}

/* The names of a path "a/b/c" (a trailing '/' ignored). */
struct path_names {
	char *buf;	/* owned: the copy the names point into */
	char **v;	/* owned array */
	size_t n;
};

static void path_names_release(struct path_names *pn)
{
	free(pn->buf);
	free(pn->v);
}

/* Split @path; -EINVAL for an empty name ("a//b", "/a"), or -ENOMEM. */
static int path_names_split(const char *path, struct path_names *ret)
{
	size_t len = strlen(path), i;
	char *p;

	memset(ret, 0, sizeof(*ret));
	while (len > 1 && path[len - 1] == '/')
		len--;
	ret->buf = strndup(path, len);
	ret->v = calloc(len + 1, sizeof(*ret->v));
	if (!ret->buf || !ret->v)
		return -ENOMEM;
	for (p = ret->buf;; p++) {
		ret->v[ret->n++] = p;
		p = strchr(p, '/');
		if (!p)
			break;
		*p = '\0';
	}
	for (i = 0; i < ret->n; i++)
		if (!ret->v[i][0])
			return -EINVAL;
	return 0;
}

/* The execution of names v[0..3). */
static int find_exec(struct model *m, char *const *v, int64_t *ret_id)
{
	int64_t stage;
	int r = model_stage_find(m, v[0], v[1], &stage);

	if (r == 0)
		r = model_execution_find(m, stage, v[2], ret_id);
	return r;
}

int diff_find_execution(struct model *m, const char *path, int64_t *ret_id)
{
	struct path_names pn;
	int r = path_names_split(path, &pn);

	if (r == 0 && pn.n != 3)
		r = -EINVAL;
	if (r == 0)
		r = find_exec(m, pn.v, ret_id);
	path_names_release(&pn);
	return r;
}

int diff_find_dir(struct model *m, const char *path,
		  char ret_oid[DIR_OID_LEN + 1])
{
	struct path_names pn;
	struct entry e = { 0 };
	int64_t exec;
	size_t i;
	int side = -1;
	int r = path_names_split(path, &pn);

	if (r == 0 && pn.n >= 5 && !strcmp(pn.v[3], "inputs"))
		side = SIDE_INPUTS;
	else if (r == 0 && pn.n >= 5 && !strcmp(pn.v[3], "outputs"))
		side = SIDE_OUTPUTS;
	if (r == 0 && side < 0)
		r = -EINVAL;
	if (r == 0)
		r = find_exec(m, pn.v, &exec);
	for (i = 4; r == 0 && i < pn.n; i++)
		r = model_entry_lookup(m, exec, side, e.id, pn.v[i], &e);
	if (r == 0 && (!e.is_dir || !manifest_is_oid(e.md5)))
		r = -ENOTDIR;
	if (r == 0)
		memcpy(ret_oid, e.md5, DIR_OID_LEN + 1);
	path_names_release(&pn);
	return r;
}
