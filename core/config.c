/* SPDX-License-Identifier: MIT */
/*
 * Workspace configuration (WS/.cmfconfig): parsing with inih, validation
 * and atomic rewriting.  See config.h for the contract.
 *
 * inih is driven through ini_parse_stream() with our own line reader.  The
 * reader keeps the raw line and its number, which gives us line numbers for
 * error messages (the packaged inih is built without INI_HANDLER_LINENO),
 * lets us tell configparser continuation lines from new keys, and lets us
 * refuse lines longer than inih's buffer instead of having inih parse the
 * rest of such a line as a line of its own.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <ini.h>

#include "safefs.h"

enum key_kind {
	KEY_STRING,		/* a char * field of struct config */
	KEY_TYPE,		/* storage */
	KEY_INTERVAL,		/* sync_interval */
	KEY_JOBS,		/* storage_jobs */
	KEY_STALL,		/* stall_timeout */
	KEY_SIZE,		/* cache_max_size */
};

struct key_desc {
	const char *section;
	const char *name;	/* canonical spelling, written by save */
	enum key_kind kind;
	size_t offset;		/* of the char * field; KEY_STRING only */
};

#define STRING_KEY(sec, key, field) \
	{ sec, key, KEY_STRING, offsetof(struct config, field) }

/* Our keys, grouped by section, in the order config_save() writes them. */
static const struct key_desc config_keys[] = {
	STRING_KEY("cmf", "server-url", server_url),
	{ "storage", "type", KEY_TYPE, 0 },
	STRING_KEY("storage", "path", storage_path),
	STRING_KEY("storage", "url", storage_url),
	STRING_KEY("storage", "endpoint-url", endpoint_url),
	STRING_KEY("storage", "access-key-id", access_key_id),
	STRING_KEY("storage", "secret-key", secret_key),
	STRING_KEY("storage", "region", region),
	STRING_KEY("storage", "key", ssh_key),
	STRING_KEY("storage", "host-key-sha256", ssh_host_key_sha256),
	STRING_KEY("storage", "token", token_file),
	STRING_KEY("storage", "ca-file", ca_file),
	{ "storage", "jobs", KEY_JOBS, 0 },
	{ "sync", "interval", KEY_INTERVAL, 0 },
	{ "sync", "stall-timeout", KEY_STALL, 0 },
	{ "cache", "max-size", KEY_SIZE, 0 },
};

#define N_CONFIG_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

#define SYNTAX_ERROR "syntax error (expected '[section]' or 'key = value')"

static const char *const our_sections[] = { "cmf", "storage", "sync",
					    "cache" };

static const struct {
	const char *name;
	enum storage_type type;
} storage_type_names[] = {
	{ "none", STORAGE_NONE },
	{ "local", STORAGE_LOCAL },
	{ "s3", STORAGE_S3 },
	{ "minio", STORAGE_S3 },
	{ "minioS3", STORAGE_S3 },
	{ "amazonS3", STORAGE_S3 },
	{ "ssh", STORAGE_SSH },
	{ "sshremote", STORAGE_SSH },
	{ "osdf", STORAGE_OSDF },
	{ "osdfremote", STORAGE_OSDF },
};

/* State shared by the inih reader and handler during config_load(). */
struct load_state {
	struct config *cfg;
	FILE *f;
	char *line;		/* raw current line, from getline() */
	size_t line_alloc;
	unsigned lineno;	/* number of the current line, from 1 */
	char *prev_name;	/* last key since the last section header */
	bool seen[N_CONFIG_KEYS];
	int err;		/* first error, 0 if none */
	unsigned err_line;	/* line of err */
	char *msg;		/* message for err, without the location */
};

static char *msg_format(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static int fail(char **ret_msg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Returns a new string (owned by the caller) or NULL on ENOMEM. */
static char *msg_format(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

/*
 * Store a formatted message in *@ret_msg (which must be NULL; @ret_msg
 * itself may be NULL) and return -EINVAL.
 */
static int fail(char **ret_msg, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (!ret_msg)
		return -EINVAL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	*ret_msg = s;
	return -EINVAL;
}

static void free_wiped(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static char **string_field(struct config *c, const struct key_desc *d)
{
	return (char **)((char *)c + d->offset);
}

static const char *string_value(const struct config *c,
				const struct key_desc *d)
{
	return *(char *const *)((const char *)c + d->offset);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return true;
	return false;
}

static bool has_value(const char *s)
{
	return s && *s;
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool is_our_section(const char *section)
{
	size_t i;

	for (i = 0; i < sizeof(our_sections) / sizeof(our_sections[0]); i++)
		if (!strcmp(section, our_sections[i]))
			return true;
	return false;
}

const char *storage_type_name(enum storage_type t)
{
	switch (t) {
	case STORAGE_NONE:
		return "none";
	case STORAGE_LOCAL:
		return "local";
	case STORAGE_S3:
		return "s3";
	case STORAGE_SSH:
		return "ssh";
	case STORAGE_OSDF:
		return "osdf";
	}
	return "unknown";
}

unsigned config_stall_timeout(const struct config *c)
{
	if (!c->stall_timeout)
		return CONFIG_DEFAULT_STALL_TIMEOUT;
	return c->stall_timeout < CONFIG_MAX_STALL_TIMEOUT
		       ? c->stall_timeout : CONFIG_MAX_STALL_TIMEOUT;
}

/* The suffixes of a size, each 1024 times the one before. */
static const char size_units[] = "KMGT";

int config_parse_size(const char *s, uint64_t *ret)
{
	unsigned long long v;
	const char *unit;
	char *end;
	int shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		unit = strchr(size_units, toupper((unsigned char)*end));
		if (!unit || !*unit)
			return -EINVAL;
		shift = 10 * (int)(unit - size_units + 1);
		end++;
		if (!strcasecmp(end, "iB"))
			end += 2;
		else if (!strcasecmp(end, "B"))
			end++;
		if (*end)
			return -EINVAL;
	}
	if (!v || v > (CONFIG_MAX_CACHE_SIZE >> shift))
		return -EINVAL;
	*ret = (uint64_t)v << shift;
	return 0;
}

void config_format_size(uint64_t bytes, char *buf, size_t size)
{
	int i = 0;

	while (bytes && size_units[i] && !(bytes & 1023)) {
		bytes >>= 10;
		i++;
	}
	if (i)
		snprintf(buf, size, "%llu%c", (unsigned long long)bytes,
			 size_units[i - 1]);
	else
		snprintf(buf, size, "%llu", (unsigned long long)bytes);
}

unsigned config_storage_jobs(const struct config *c)
{
	if (!c->storage_jobs)
		return CONFIG_DEFAULT_JOBS;
	return c->storage_jobs < CONFIG_MAX_JOBS ? c->storage_jobs
						 : CONFIG_MAX_JOBS;
}

int storage_type_parse(const char *s, enum storage_type *ret)
{
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < sizeof(storage_type_names) /
			sizeof(storage_type_names[0]); i++) {
		if (!strcasecmp(s, storage_type_names[i].name)) {
			*ret = storage_type_names[i].type;
			return 0;
		}
	}
	return -EINVAL;
}

struct config *config_new(void)
{
	struct config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->storage = STORAGE_NONE;
	c->sync_interval = CONFIG_DEFAULT_SYNC_INTERVAL;
	c->storage_jobs = CONFIG_DEFAULT_JOBS;
	c->stall_timeout = CONFIG_DEFAULT_STALL_TIMEOUT;
	return c;
}

static void section_free(struct config_section *s)
{
	size_t i;

	for (i = 0; i < s->n_entries; i++) {
		free(s->entries[i].key);
		free_wiped(s->entries[i].value);
	}
	free(s->entries);
	free(s->name);
}

void config_free(struct config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < N_CONFIG_KEYS; i++)
		if (config_keys[i].kind == KEY_STRING)
			free_wiped(*string_field(c, &config_keys[i]));
	for (i = 0; i < c->n_foreign; i++)
		section_free(&c->foreign[i]);
	free(c->foreign);
	free(c);
}

static struct config_section *foreign_find(const struct config *c,
					   const char *name)
{
	size_t i;

	for (i = 0; i < c->n_foreign; i++)
		if (!strcmp(c->foreign[i].name, name))
			return &c->foreign[i];
	return NULL;
}

/* Find or append the foreign section @name.  NULL on ENOMEM. */
static struct config_section *foreign_get(struct config *c, const char *name)
{
	struct config_section *s = foreign_find(c, name);
	size_t alloc;

	if (s)
		return s;
	if (c->n_foreign == c->alloc_foreign) {
		alloc = c->alloc_foreign ? 2 * c->alloc_foreign : 4;
		s = reallocarray(c->foreign, alloc, sizeof(*s));
		if (!s)
			return NULL;
		c->foreign = s;
		c->alloc_foreign = alloc;
	}
	s = &c->foreign[c->n_foreign];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	if (!s->name)
		return NULL;
	c->n_foreign++;
	return s;
}

/* Append "@key = @value" (@value may be NULL) to @s.  0 or -ENOMEM. */
static int section_append(struct config_section *s, const char *key,
			  const char *value)
{
	struct config_entry *e;
	size_t alloc;
	int r = -ENOMEM;

	if (s->n_entries == s->alloc_entries) {
		alloc = s->alloc_entries ? 2 * s->alloc_entries : 8;
		e = reallocarray(s->entries, alloc, sizeof(*e));
		if (!e)
			goto out;
		s->entries = e;
		s->alloc_entries = alloc;
	}
	e = &s->entries[s->n_entries];
	e->key = strdup(key);
	e->value = value ? strdup(value) : NULL;
	if (!e->key || (value && !e->value)) {
		free(e->key);
		free(e->value);
		goto out;
	}
	s->n_entries++;
	r = 0;
out:
	return r;
}

/* Append a continuation line to @e's value.  0 or -ENOMEM. */
static int entry_continue(struct config_entry *e, const char *more)
{
	char *v;

	if (e->value)
		v = msg_format("%s\n%s", e->value, more);
	else
		v = strdup(more);
	if (!v)
		return -ENOMEM;
	free_wiped(e->value);
	e->value = v;
	return 0;
}

static int handle_foreign(struct load_state *st, const char *section,
			  const char *name, const char *value, bool cont)
{
	struct config_section *s = foreign_get(st->cfg, section);

	if (!s)
		return -ENOMEM;
	if (cont && s->n_entries)
		return entry_continue(&s->entries[s->n_entries - 1],
				      value ? value : "");
	return section_append(s, name, value);
}

/* Parse a decimal integer in [0, @max] without sign or spaces. */
static int parse_uint(const char *s, unsigned long max, unsigned *ret)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static int handle_pair(struct load_state *st, const char *section,
		       const char *name, const char *value, bool cont)
{
	const struct key_desc *d = NULL;
	char **field;
	size_t i;

	if (!*section)
		return fail(&st->msg, "key '%s' outside of any section", name);
	if (!is_our_section(section))
		return handle_foreign(st, section, name, value, cont);
	if (cont)
		return fail(&st->msg, "continuation line for '%s' in [%s]",
			    name, section);
	for (i = 0; i < N_CONFIG_KEYS; i++) {
		if (!strcmp(config_keys[i].section, section) &&
		    !strcasecmp(config_keys[i].name, name)) {
			d = &config_keys[i];
			break;
		}
	}
	if (!d)
		return fail(&st->msg, "unknown key '%s' in [%s]", name,
			    section);
	if (st->seen[i])
		return fail(&st->msg, "duplicate key '%s' in [%s]", d->name,
			    section);
	st->seen[i] = true;
	if (!value)
		return fail(&st->msg, "key '%s' in [%s] has no value",
			    d->name, section);

	switch (d->kind) {
	case KEY_STRING:
		if (!*value)
			return 0;	/* "key =" means unset */
		field = string_field(st->cfg, d);
		*field = strdup(value);
		return *field ? 0 : -ENOMEM;
	case KEY_TYPE:
		if (storage_type_parse(value, &st->cfg->storage) < 0)
			return fail(&st->msg, "unknown storage type '%s'",
				    value);
		return 0;
	case KEY_INTERVAL:
		if (parse_uint(value, CONFIG_MAX_SYNC_INTERVAL,
			       &st->cfg->sync_interval) < 0)
			return fail(&st->msg,
				    "invalid interval '%s' (0 to %u seconds)",
				    value, CONFIG_MAX_SYNC_INTERVAL);
		return 0;
	case KEY_JOBS:
		if (parse_uint(value, CONFIG_MAX_JOBS,
			       &st->cfg->storage_jobs) < 0 ||
		    !st->cfg->storage_jobs)
			return fail(&st->msg, "invalid jobs '%s' (1 to %u)",
				    value, CONFIG_MAX_JOBS);
		return 0;
	case KEY_STALL:
		if (parse_uint(value, CONFIG_MAX_STALL_TIMEOUT,
			       &st->cfg->stall_timeout) < 0 ||
		    !st->cfg->stall_timeout)
			return fail(&st->msg,
				    "invalid stall-timeout '%s' (1 to %u seconds)",
				    value, CONFIG_MAX_STALL_TIMEOUT);
		return 0;
	case KEY_SIZE:
		if (!*value)
			return 0;	/* "max-size =": no limit */
		if (config_parse_size(value, &st->cfg->cache_max_size) < 0)
			return fail(&st->msg,
				    "invalid max-size '%s' (bytes, or a number with K, M, G or T, e.g. 50G)",
				    value);
		return 0;
	}
	return -EINVAL;
}

/*
 * inih keeps the previous key in a buffer of 50 bytes (MAX_NAME in ini.c,
 * not in ini.h), so a continuation of a longer key comes with its first 49.
 */
#define INIH_PREV_NAME_MAX 49

/* Whether @name, given with a continuation line, is the key @prev. */
static bool is_prev_name(const char *prev, const char *name)
{
	size_t n = strlen(name);

	return !strcmp(prev, name) ||
	       (n == INIH_PREV_NAME_MAX && strlen(prev) > n &&
		!strncmp(prev, name, n));
}

/* inih handler: returns 1 to go on, 0 on error (recorded in @user). */
static int on_pair(void *user, const char *section, const char *name,
		   const char *value)
{
	struct load_state *st = user;
	bool cont;
	int r;

	if (st->err)
		return 1;	/* only the first error is reported */
	if (!name)
		return 1;	/* new-section callback, if inih makes it */

	/*
	 * inih hands continuation lines (indented, after a key of the same
	 * section) to us as the previous key again; only the raw line tells
	 * them apart from a repeated key.
	 */
	cont = st->prev_name && isspace((unsigned char)st->line[0]) &&
	       is_prev_name(st->prev_name, name);
	/* what could not be written back the same is refused on reading */
	if (!*name || has_control(name) || (value && has_control(value))) {
		st->err = fail(&st->msg, !*name ? "a key has no name"
						: "control character in a key or value");
		st->err_line = st->lineno;
		return 0;
	}
	r = handle_pair(st, section, name, value, cont);
	if (!cont) {
		free(st->prev_name);
		st->prev_name = strdup(name);
		if (!st->prev_name && !r)
			r = -ENOMEM;
	}
	if (r < 0) {
		st->err = r;
		st->err_line = st->lineno;
		return 0;
	}
	return 1;
}

/* inih reader: one whole line per call, NULL at the end or on error. */
static char *read_line(char *str, int num, void *stream)
{
	struct load_state *st = stream;
	ssize_t len;

	if (st->err)
		return NULL;
	errno = 0;
	len = getline(&st->line, &st->line_alloc, st->f);
	if (len < 0) {
		if (!feof(st->f)) {
			st->err = errno ? -errno : -EIO;
			st->err_line = st->lineno + 1;
		}
		return NULL;
	}
	st->lineno++;
	if (strlen(st->line) != (size_t)len) {
		st->err = fail(&st->msg, "NUL byte in line");
		st->err_line = st->lineno;
		return NULL;
	}
	if (num < 1 || (size_t)len >= (size_t)num) {
		st->err = fail(&st->msg, "line too long (limit %d bytes)",
			       num - 1);
		st->err_line = st->lineno;
		return NULL;
	}
	if (st->line[0] == '[') {
		/* A section header: inih forgets the previous key. */
		free(st->prev_name);
		st->prev_name = NULL;
	}
	memcpy(str, st->line, (size_t)len + 1);
	return str;
}

int config_load(const char *path, struct config **ret_cfg, char **ret_err)
{
	const char *name;
	int dfd, fd, r;

	*ret_cfg = NULL;
	if (ret_err)
		*ret_err = NULL;
	dfd = safefs_open_parent(path, &name);
	fd = dfd < 0 ? dfd : safefs_open_file(dfd, name, O_RDONLY, 0, 0, NULL);
	if (dfd >= 0)
		close(dfd);
	if (fd < 0) {
		if (fd != -ENOENT && ret_err)
			*ret_err = msg_format("cannot open '%s': %s", path,
					      safefs_strerror(fd));
		return fd;
	}
	r = config_load_fd(fd, path, ret_cfg, ret_err);
	close(fd);
	return r;
}

int config_load_fd(int fd, const char *path, struct config **ret_cfg,
		   char **ret_err)
{
	struct load_state st = { 0 };
	char *err_msg = NULL;
	int dfd = -1, r;

	*ret_cfg = NULL;
	if (ret_err)
		*ret_err = NULL;

	st.cfg = config_new();
	if (!st.cfg) {
		r = -ENOMEM;
		goto out;
	}
	dfd = dup(fd);
	st.f = dfd < 0 ? NULL : fdopen(dfd, "r");
	if (!st.f) {
		r = -errno;
		if (dfd >= 0)
			close(dfd);
		err_msg = msg_format("cannot read '%s': %s", path,
				     strerrordesc_np(-r));
		goto out;
	}

	r = ini_parse_stream(read_line, &st, on_pair, &st);
	if (r == -2) {
		r = -ENOMEM;
		goto out;
	}
	if (r > 0 && (!st.err || (unsigned)r < st.err_line)) {
		/* inih found a bad line before anything we objected to. */
		free(st.msg);
		st.err = fail(&st.msg, SYNTAX_ERROR);
		st.err_line = (unsigned)r;
	}
	if (st.err) {
		r = st.err;
		if (r == -EINVAL && st.msg)
			err_msg = msg_format("'%s' line %u: %s", path,
					     st.err_line, st.msg);
		else if (r != -EINVAL && r != -ENOMEM)
			err_msg = msg_format("'%s' line %u: read error", path,
					     st.err_line);
		goto out;
	}
	if (r) {
		r = -EINVAL;	/* not reached: inih has no other errors */
		goto out;
	}

	if (st.cfg->storage == STORAGE_S3 && !st.cfg->region) {
		st.cfg->region = strdup(CONFIG_DEFAULT_REGION);
		if (!st.cfg->region) {
			r = -ENOMEM;
			goto out;
		}
	}
	/* what cmffs init refuses is refused wherever a config is read */
	r = config_validate(st.cfg, &st.msg);
	if (r < 0) {
		if (st.msg)
			err_msg = msg_format("'%s': %s", path, st.msg);
		goto out;
	}
	*ret_cfg = st.cfg;
	st.cfg = NULL;
	r = 0;
out:
	if (st.f)
		fclose(st.f);
	if (st.line) {
		explicit_bzero(st.line, st.line_alloc);
		free(st.line);
	}
	free(st.prev_name);
	free(st.msg);
	config_free(st.cfg);
	if (ret_err)
		*ret_err = err_msg;
	else
		free(err_msg);
	return r;
}

/*
 * Whether inih reads back exactly the @n bytes at @v from "key = @v": no
 * line breaks or other control characters but tab, no leading or trailing
 * whitespace (stripped), no ';' after whitespace (an inline comment).
 */
static bool span_writable(const char *v, size_t n)
{
	size_t i;

	if (!n)
		return true;
	if (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]))
		return false;
	for (i = 0; i < n; i++) {
		if (iscntrl((unsigned char)v[i]) && v[i] != '\t')
			return false;
		if (v[i] == ';' && i && isspace((unsigned char)v[i - 1]))
			return false;
	}
	return true;
}

static bool value_writable(const char *v)
{
	return span_writable(v, strlen(v));
}

/*
 * Whether a foreign value (lines joined by '\n', written as configparser
 * continuation lines "\tline") reads back the same: each line as above,
 * and no continuation line empty or starting with ';' or '#' (inih would
 * skip it as blank or as a comment).
 */
static bool foreign_writable(const char *v)
{
	const char *nl;

	for (;;) {
		nl = strchr(v, '\n');
		if (!span_writable(v, nl ? (size_t)(nl - v) : strlen(v)))
			return false;
		if (!nl)
			return true;
		v = nl + 1;
		if (!*v || *v == '\n' || *v == ';' || *v == '#')
			return false;
	}
}

/*
 * What goes between a key and its value @v: " = ", or " =" before a value
 * that starts with ';', which after a space inih takes for a comment.
 */
static const char *separator(const char *v)
{
	return v[0] == ';' ? " =" : " = ";
}

/* The value config_save() writes for @d, or NULL to omit the key. */
static const char *key_output(const struct config *c,
			      const struct key_desc *d, char *num, size_t size)
{
	const char *v;

	switch (d->kind) {
	case KEY_STRING:
		v = string_value(c, d);
		return has_value(v) ? v : NULL;
	case KEY_TYPE:
		if (c->storage == STORAGE_NONE)
			return NULL;
		return storage_type_name(c->storage);
	case KEY_INTERVAL:
		snprintf(num, size, "%u", c->sync_interval);
		return num;
	case KEY_JOBS:
		if (!c->storage_jobs || c->storage_jobs == CONFIG_DEFAULT_JOBS)
			return NULL;
		snprintf(num, size, "%u", c->storage_jobs);
		return num;
	case KEY_STALL:
		if (!c->stall_timeout ||
		    c->stall_timeout == CONFIG_DEFAULT_STALL_TIMEOUT)
			return NULL;
		snprintf(num, size, "%u", c->stall_timeout);
		return num;
	case KEY_SIZE:
		if (!c->cache_max_size)
			return NULL;
		config_format_size(c->cache_max_size, num, size);
		return num;
	}
	return NULL;
}

static void write_foreign(FILE *ms, const struct config_section *s)
{
	const struct config_entry *e;
	const char *p;
	size_t i;

	fprintf(ms, "[%s]\n", s->name);
	for (i = 0; i < s->n_entries; i++) {
		e = &s->entries[i];
		if (!e->value) {
			fprintf(ms, "%s\n", e->key);
			continue;
		}
		fprintf(ms, "%s%s", e->key, separator(e->value));
		/* configparser style continuation lines */
		for (p = e->value; *p; p++) {
			if (*p == '\n')
				fputs("\n\t", ms);
			else
				fputc(*p, ms);
		}
		fputc('\n', ms);
	}
	fputc('\n', ms);
}

/* Render @c into a new buffer (owned by the caller).  0 or -errno. */
static int format_config(const struct config *c, char **ret_buf,
			 size_t *ret_len)
{
	const struct key_desc *d;
	const char *section = NULL;
	const char *v;
	char num[32];
	char *buf = NULL;
	size_t len = 0;
	FILE *ms;
	bool failed;
	size_t i, j;
	int r = -EINVAL;

	if ((unsigned)c->storage > STORAGE_OSDF ||
	    c->sync_interval > CONFIG_MAX_SYNC_INTERVAL ||
	    c->storage_jobs > CONFIG_MAX_JOBS ||
	    c->stall_timeout > CONFIG_MAX_STALL_TIMEOUT ||
	    c->cache_max_size > CONFIG_MAX_CACHE_SIZE)
		goto out;
	for (i = 0; i < N_CONFIG_KEYS; i++) {
		d = &config_keys[i];
		if (d->kind == KEY_STRING && string_value(c, d) &&
		    !value_writable(string_value(c, d)))
			goto out;
	}
	for (i = 0; i < c->n_foreign; i++)
		for (j = 0; j < c->foreign[i].n_entries; j++)
			if (c->foreign[i].entries[j].value &&
			    !foreign_writable(c->foreign[i].entries[j].value))
				goto out;

	r = -ENOMEM;
	ms = open_memstream(&buf, &len);
	if (!ms)
		goto out;
	for (i = 0; i < N_CONFIG_KEYS; i++) {
		d = &config_keys[i];
		v = key_output(c, d, num, sizeof(num));
		if (!v)
			continue;
		if (!section || strcmp(section, d->section)) {
			if (section)
				fputc('\n', ms);
			fprintf(ms, "[%s]\n", d->section);
			section = d->section;
		}
		fprintf(ms, "%s%s%s\n", d->name, separator(v), v);
	}
	if (section)
		fputc('\n', ms);
	for (i = 0; i < c->n_foreign; i++)
		write_foreign(ms, &c->foreign[i]);

	failed = ferror(ms) != 0;
	if (fclose(ms) || failed)
		goto out;
	/* a line inih cannot read back whole would not load again */
	for (i = 0, v = buf; i < len; i++)
		if (buf[i] == '\n') {
			if ((size_t)(buf + i - v) >= INI_MAX_LINE - 1) {
				r = -EINVAL;
				goto out;
			}
			v = buf + i + 1;
		}
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	if (buf) {
		explicit_bzero(buf, len);
		free(buf);
	}
	return r;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync() the directory holding @path, so that a rename is durable. */
static int sync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;
	int r = 0;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	/* Some file systems cannot sync directories; that is fine. */
	if (fsync(fd) < 0 && errno != EINVAL)
		r = -errno;
	close(fd);
out:
	free(dir);
	return r;
}

int config_save(const struct config *c, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	char *tmp = NULL;
	int fd = -1;
	int r;

	r = format_config(c, &buf, &len);
	if (r < 0)
		goto out;

	tmp = msg_format("%s.tmp.XXXXXX", path);
	if (!tmp) {
		r = -ENOMEM;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		tmp = NULL;	/* nothing to unlink */
		goto out;
	}
	/* mkostemp() uses 0600, but the umask may have taken bits away. */
	if (fchmod(fd, S_IRUSR | S_IWUSR) < 0) {
		r = -errno;
		goto out;
	}
	r = write_all(fd, buf, len);
	if (r < 0)
		goto out;
	if (fsync(fd) < 0) {
		r = -errno;
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r < 0) {
		r = -errno;
		goto out;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto out;
	}
	free(tmp);
	tmp = NULL;	/* renamed: nothing to unlink */
	r = sync_parent_dir(path);
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	if (buf) {
		explicit_bzero(buf, len);
		free(buf);
	}
	return r;
}

/* Whether @url is @scheme followed by a non-empty authority/bucket. */
static bool url_has_host(const char *url, const char *scheme)
{
	const char *p, *at, *slash;

	if (!has_value(url) || !starts_with(url, scheme))
		return false;
	p = url + strlen(scheme);
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at && (!slash || at < slash))
		p = at + 1;
	return *p && *p != '/' && *p != ':' && *p != '@';
}

static bool is_http_url(const char *url)
{
	return url_has_host(url, "http://") || url_has_host(url, "https://");
}

static bool is_abs_path(const char *path)
{
	return path && path[0] == '/';
}

int config_validate(const struct config *c, char **ret_err)
{
	const char *need = NULL;

	if (ret_err)
		*ret_err = NULL;
	if (c->server_url && !is_http_url(c->server_url))
		return fail(ret_err,
			    "'server-url' in [cmf] is not an http(s):// URL");
	if (c->sync_interval > CONFIG_MAX_SYNC_INTERVAL)
		return fail(ret_err, "'interval' in [sync] is above %u",
			    CONFIG_MAX_SYNC_INTERVAL);
	if (c->storage_jobs > CONFIG_MAX_JOBS)
		return fail(ret_err, "'jobs' in [storage] is above %u",
			    CONFIG_MAX_JOBS);
	if (c->stall_timeout > CONFIG_MAX_STALL_TIMEOUT)
		return fail(ret_err, "'stall-timeout' in [sync] is above %u",
			    CONFIG_MAX_STALL_TIMEOUT);
	if (c->cache_max_size > CONFIG_MAX_CACHE_SIZE)
		return fail(ret_err, "'max-size' in [cache] is above 4 EiB");

	switch (c->storage) {
	case STORAGE_NONE:
		break;
	case STORAGE_LOCAL:
		if (!is_abs_path(c->storage_path))
			need = "an absolute 'path'";
		break;
	case STORAGE_S3:
		if (!url_has_host(c->storage_url, "s3://"))
			need = "'url = s3://BUCKET[/PREFIX]'";
		else if (!is_http_url(c->endpoint_url))
			need = "an http(s):// 'endpoint-url'";
		else if (!has_value(c->access_key_id))
			need = "'access-key-id'";
		else if (!has_value(c->secret_key))
			need = "'secret-key'";
		break;
	case STORAGE_SSH:
		if (!url_has_host(c->storage_url, "ssh://"))
			need = "'url = ssh://[USER@]HOST[:PORT][/PATH]'";
		else if (c->ssh_key && !is_abs_path(c->ssh_key))
			need = "an absolute 'key' path";
		else if (!has_value(c->ssh_host_key_sha256))
			/* a host key is never trusted blindly */
			need = "'host-key-sha256' (the server's key fingerprint: ssh-keyscan -p PORT HOST | ssh-keygen -lf -)";
		break;
	case STORAGE_OSDF:
		if (!url_has_host(c->storage_url, "https://"))
			need = "'url = https://HOST/PATH'";
		else if (!is_abs_path(c->token_file))
			need = "an absolute 'token' file path";
		break;
	default:
		return fail(ret_err, "invalid storage type %d",
			    (int)c->storage);
	}
	if (need)
		return fail(ret_err, "storage type '%s' needs %s in [storage]",
			    storage_type_name(c->storage), need);
	return 0;
}

const char *config_get_foreign(const struct config *c, const char *section,
			       const char *key)
{
	const struct config_section *s = foreign_find(c, section);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < s->n_entries; i++)
		if (!strcasecmp(s->entries[i].key, key))
			return s->entries[i].value;
	return NULL;
}
