/* SPDX-License-Identifier: MIT */
/* Comparison tables of executions; see compare.h. */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "utctime.h"

/* Bytes read from each end of a step-metrics file: its header, its last row. */
#define STEPS_READ_MAX ((size_t)64 << 10)

/* --- step metrics: the last row of NAME.csv ---------------------------- */

struct fields {
	char **v;	/* owned */
	size_t n;
};

static void fields_release(struct fields *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

/*
 * Split the CSV record @s[0..len) (no line end) into fields, quoted as RFC
 * 4180 says ("a,b", "say ""hi""").  -EINVAL for a quote left open,
 * -ENOMEM.
 */
static int csv_split(const char *s, size_t len, struct fields *ret)
{
	struct sb field;
	size_t i = 0;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	sb_init(&field, STEPS_READ_MAX);
	for (;;) {
		char **v;

		sb_reset(&field);
		if (i < len && s[i] == '"') {
			for (i++;; i++) {
				if (i >= len) {
					r = -EINVAL;
					goto out;
				}
				if (s[i] == '"') {
					if (i + 1 < len && s[i + 1] == '"') {
						sb_putc(&field, '"');
						i++;
						continue;
					}
					i++;
					break;
				}
				sb_putc(&field, s[i]);
			}
		}
		for (; i < len && s[i] != ','; i++)
			sb_putc(&field, s[i]);
		r = sb_err(&field);
		if (r < 0)
			goto out;
		v = reallocarray(ret->v, ret->n + 1, sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		ret->v = v;
		ret->v[ret->n] = strdup(field.buf);
		if (!ret->v[ret->n]) {
			r = -ENOMEM;
			goto out;
		}
		ret->n++;
		if (i >= len)
			break;
		i++;	/* the comma */
	}
out:
	sb_release(&field);
	if (r < 0)
		fields_release(ret);
	return r;
}

/* Is @s a whole finite decimal number?  Then *ret is it. */
static bool parse_number(const char *s, double *ret)
{
	char *end;
	double d;

	/* decimal only: no leading space, no hex, no inf or nan */
	if (!*s || !strchr("+-.0123456789", *s) || strpbrk(s, "xXpP"))
		return false;
	d = strtod(s, &end);
	if (*end || !isfinite(d))
		return false;
	*ret = d;
	return true;
}

/* The record ending at @buf[len] (line ends stripped), in place: its start. */
static size_t last_line_start(const char *buf, size_t *len)
{
	size_t i;

	while (*len && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
		(*len)--;
	for (i = *len; i > 0; i--)
		if (buf[i - 1] == '\n')
			return i;
	return 0;
}

/*
 * The header and the last row of the CSV object @fd of @size bytes, split;
 * 1 when there is no such pair (no line end within STEPS_READ_MAX, only a
 * header, not text), 0 or -errno.
 */
static int csv_ends(int fd, size_t size, struct fields *head,
		    struct fields *last)
{
	size_t n = size < STEPS_READ_MAX ? size : STEPS_READ_MAX;
	size_t off = size - n, len, start, hlen;
	char *buf = malloc(n + 1);
	bool line_at_off = false;
	ssize_t got;
	int r = 1;

	if (!buf)
		return -ENOMEM;
	got = pread(fd, buf, n, 0);
	if (got != (ssize_t)n || memchr(buf, '\0', n) ||
	    (n >= 4 && !memcmp(buf, "PAR1", 4)))
		goto out;
	buf[n] = '\0';
	hlen = strcspn(buf, "\n");
	if (hlen == n)
		goto out;
	if (hlen && buf[hlen - 1] == '\r')
		hlen--;
	r = csv_split(buf, hlen, head);
	if (r < 0)
		goto out;
	r = 1;
	if (off) {
		/* the byte before too: does a line begin where we read? */
		char before = 0;

		got = pread(fd, buf, n, (off_t)off);
		if (got != (ssize_t)n || memchr(buf, '\0', n) ||
		    pread(fd, &before, 1, (off_t)off - 1) != 1)
			goto out;
		line_at_off = before == '\n';
	}
	len = n;
	start = last_line_start(buf, &len);
	/* the header itself, or a last row longer than what was read */
	if (off + start == 0 || (start == 0 && off && !line_at_off))
		goto out;
	r = csv_split(buf + start, len - start, last);
	if (r == -EINVAL)
		r = 1;
out:
	free(buf);
	if (r)
		fields_release(head);
	return r;
}

/* Add the last row of step-metrics file @st of @run, if local and CSV. */
static int add_steps_file(struct run *run, const struct run_steps *st,
			  struct cas *cas)
{
	struct fields head = { 0 }, last = { 0 };
	struct stat sbuf;
	struct sb key;
	size_t i;
	int fd = -1, r;

	if (cas_open_object(cas, st->hash, &fd) < 0)
		return 0;	/* not local: no values */
	if (fstat(fd, &sbuf) < 0 || sbuf.st_size <= 0) {
		close(fd);
		return 0;
	}
	r = csv_ends(fd, (size_t)sbuf.st_size, &head, &last);
	close(fd);
	if (r)
		return r < 0 ? r : 0;
	sb_init(&key, 0);
	for (i = 0; r == 0 && head.n == last.n && i < head.n; i++) {
		double d = 0;
		bool num = parse_number(last.v[i], &d);

		if (!head.v[i][0])
			continue;
		sb_reset(&key);
		sb_appendf(&key, "%s.csv:%s", st->name, head.v[i]);
		r = sb_err(&key);
		if (r == 0)
			r = run_add_metric(run, key.buf, last.v[i], num, d);
	}
	sb_release(&key);
	fields_release(&head);
	fields_release(&last);
	return r;
}

static int cmp_value(const void *a, const void *b)
{
	return strcmp(((const struct run_value *)a)->key,
		      ((const struct run_value *)b)->key);
}

/* bsearch(): a key against a run_value. */
static int cmp_key_value(const void *key, const void *v)
{
	return strcmp(key, ((const struct run_value *)v)->key);
}

int compare_add_steps(struct runs *runs, struct cas *cas)
{
	size_t i, j;
	int r = 0;

	for (i = 0; r == 0 && i < runs->n; i++) {
		struct run *run = &runs->v[i];

		for (j = 0; r == 0 && cas && j < run->nsteps; j++)
			r = add_steps_file(run, &run->steps[j], cas);
		if (run->nmetrics)
			qsort(run->metrics, run->nmetrics,
			      sizeof(*run->metrics), cmp_value);
	}
	return r;
}

/* --- columns --------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool compare_is_provenance(const char *key)
{
	static const char *const keys[] = {
		"Git_Dirty", "Host", "Pid", "Python_Env", "User",
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* Which keys a group of columns takes. */
enum col_group {
	COLS_PROPS,		/* properties a user set */
	COLS_METRICS,
	COLS_PROVENANCE,	/* compare_is_provenance() properties */
};

/* Append the distinct keys of @group of every run, sorted, to @c. */
static int cols_add(const struct runs *runs, enum col_group group,
		    struct compare_cols *c)
{
	bool prop = group != COLS_METRICS;
	const char **all = NULL;
	size_t n = 0, total = 0, i, j, first = c->n;
	char **keys;
	bool *isprop;
	int r = 0;

	for (i = 0; i < runs->n; i++)
		total += prop ? runs->v[i].nprops : runs->v[i].nmetrics;
	if (!total)
		return 0;
	all = calloc(total, sizeof(*all));
	keys = reallocarray(c->keys, c->n + total, sizeof(*keys));
	if (keys)
		c->keys = keys;
	isprop = reallocarray(c->prop, c->n + total, sizeof(*isprop));
	if (isprop)
		c->prop = isprop;
	if (!all || !keys || !isprop) {
		free(all);
		return -ENOMEM;
	}
	for (i = 0; i < runs->n; i++) {
		const struct run *run = &runs->v[i];
		size_t k = prop ? run->nprops : run->nmetrics;

		for (j = 0; j < k; j++) {
			const char *key = prop ? run->props[j].key
					       : run->metrics[j].key;

			if (prop && compare_is_provenance(key) !=
					    (group == COLS_PROVENANCE))
				continue;
			all[n++] = key;
		}
	}
	qsort(all, n, sizeof(*all), cmp_str);
	for (i = 0; i < n && r == 0; i++) {
		if (c->n > first && !strcmp(c->keys[c->n - 1], all[i]))
			continue;
		c->keys[c->n] = strdup(all[i]);
		c->prop[c->n] = prop;
		if (!c->keys[c->n])
			r = -ENOMEM;
		else
			c->n++;
	}
	free(all);
	return r;
}

int compare_cols_build(const struct runs *runs, struct compare_cols *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	r = cols_add(runs, COLS_PROPS, ret);
	if (r == 0)
		r = cols_add(runs, COLS_METRICS, ret);
	if (r == 0)
		r = cols_add(runs, COLS_PROVENANCE, ret);
	return r;
}

void compare_cols_release(struct compare_cols *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->prop);
	memset(c, 0, sizeof(*c));
}

void compare_col_name(const struct compare_cols *c, size_t i, struct sb *sb)
{
	sb_puts(sb, c->prop[i] ? "properties/" : "metrics/");
	sb_puts(sb, c->keys[i]);
}

const struct run_value *run_value_find(const struct run *run, bool prop,
				       const char *key)
{
	if (!(prop ? run->nprops : run->nmetrics))
		return NULL;
	return bsearch(key, prop ? run->props : run->metrics,
		       prop ? run->nprops : run->nmetrics,
		       sizeof(struct run_value), cmp_key_value);
}

const struct run_value *compare_cell(const struct run *run,
				     const struct compare_cols *c, size_t i)
{
	return run_value_find(run, c->prop[i], c->keys[i]);
}

void compare_time_iso(int64_t ms, char buf[32])
{
	if (ms <= 0)
		buf[0] = '\0';	/* no time recorded */
	else
		utc_iso(ms, false, buf);
}

void compare_commit_short(const struct run *run, char buf[16])
{
	const char *c = run->git_commit[0] ? run->git_commit
					   : run->git_end_commit;
	size_t hex = strspn(c, "0123456789abcdefABCDEF");

	snprintf(buf, 16, "%.*s", hex >= 7 ? 7 : 15, c);
}

/* --- the tables ------------------------------------------------------ */

/* What each character of a cell that needs it becomes, per format. */
static const struct {
	char c;
	const char *tsv;	/* NULL: itself */
	const char *md;
} cell_escapes[] = {
	{ '\\', "\\\\", "\\\\" }, { '\t', "\\t", "\\t" },
	{ '\n', "\\n", "\\n" }, { '\r', "\\r", "\\r" },
	{ '|', NULL, "\\|" }, { '&', NULL, "&amp;" },
	{ '<', NULL, "&lt;" }, { '>', NULL, "&gt;" },
};

static void put_cell(struct sb *sb, enum compare_format fmt, const char *s)
{
	size_t i;

	for (; *s; s++) {
		const char *esc = NULL;

		for (i = 0; i < sizeof(cell_escapes) / sizeof(cell_escapes[0]);
		     i++)
			if (cell_escapes[i].c == *s)
				esc = fmt == COMPARE_MD ? cell_escapes[i].md
							: cell_escapes[i].tsv;
		if (esc)
			sb_puts(sb, esc);
		else
			sb_putc(sb, *s);
	}
}

/* Start a cell (@first: of a row), then its text. */
static void cell(struct sb *sb, enum compare_format fmt, bool first,
		 const char *s)
{
	if (fmt == COMPARE_MD)
		sb_puts(sb, first ? "| " : " | ");
	else if (!first)
		sb_putc(sb, '\t');
	put_cell(sb, fmt, s);
}

static void row_end(struct sb *sb, enum compare_format fmt)
{
	sb_puts(sb, fmt == COMPARE_MD ? " |\n" : "\n");
}

static const char *const fixed_cols[] = {
	"stage", "execution", "state", "start", "commit",
};

static void table_header(struct sb *sb, enum compare_format fmt,
			 bool with_stage, const struct compare_cols *c)
{
	struct sb name;
	size_t i, ncols = 0;

	for (i = with_stage ? 0 : 1; i < 5; i++, ncols++)
		cell(sb, fmt, ncols == 0, fixed_cols[i]);
	sb_init(&name, 0);
	for (i = 0; i < c->n; i++, ncols++) {
		sb_reset(&name);
		compare_col_name(c, i, &name);
		cell(sb, fmt, false, name.buf);
	}
	if (sb_err(&name))
		sb->err = sb->err ? sb->err : sb_err(&name);
	sb_release(&name);
	row_end(sb, fmt);
	if (fmt != COMPARE_MD)
		return;
	for (i = 0; i < ncols; i++)
		sb_puts(sb, "|---");
	sb_puts(sb, "|\n");
}

static void table_row(struct sb *sb, enum compare_format fmt,
		      bool with_stage, const struct run *run,
		      const struct compare_cols *c)
{
	const char *state = exec_state_name(run->state);
	char when[32], commit[16];
	size_t i;

	compare_time_iso(run->create_ms, when);
	compare_commit_short(run, commit);
	if (with_stage)
		cell(sb, fmt, true, run->stage);
	cell(sb, fmt, !with_stage, run->name);
	cell(sb, fmt, false, state ? state : "");
	cell(sb, fmt, false, when);
	cell(sb, fmt, false, commit);
	for (i = 0; i < c->n; i++) {
		const struct run_value *v = compare_cell(run, c, i);

		cell(sb, fmt, false, v ? v->text : "");
	}
	row_end(sb, fmt);
}

int compare_text(struct model *m, struct cas *cas, enum runs_scope scope,
		 int64_t id, enum compare_format fmt, char **ret_text,
		 size_t *ret_len)
{
	struct compare_cols cols = { 0 };
	struct runs runs;
	struct sb sb;
	size_t i;
	int r;

	sb_init(&sb, SB_MAX_DEFAULT);
	r = runs_load(m, scope, id, 0, &runs);
	if (r == 0)
		r = compare_add_steps(&runs, cas);
	if (r == 0)
		r = compare_cols_build(&runs, &cols);
	if (r < 0)
		goto out;
	table_header(&sb, fmt, scope == RUNS_PIPELINE, &cols);
	for (i = 0; i < runs.n; i++)
		table_row(&sb, fmt, scope == RUNS_PIPELINE, &runs.v[i], &cols);
	r = sb_err(&sb);
	if (r == 0) {
		*ret_text = sb_detach(&sb, ret_len);
		r = *ret_text ? 0 : -ENOMEM;
	}
out:
	compare_cols_release(&cols);
	runs_release(&runs);
	sb_release(&sb);
	return r;
}
