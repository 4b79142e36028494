/* SPDX-License-Identifier: MIT */
/* CSV shape check; see csvcheck.h. */
#include "csvcheck.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>


struct csv {
	long line;		/* 1-based line of the current record */
	long fields;		/* fields in the current record */
	long header;		/* fields in the header; 0 before it ends */
	bool quoted;		/* inside "..." */
	bool after_quote;	/* just saw a " inside quotes */
	bool empty_record;	/* nothing but the line end so far */
	bool field_empty;	/* the current field has no character yet */
	bool header_named;	/* every header field has a name */
};

static int fail(char **ret_err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(char **ret_err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(ret_err, fmt, ap) < 0)
		*ret_err = NULL;
	va_end(ap);
	return -EINVAL;
}

/* End of a record at a line end or at EOF. */
static int end_record(struct csv *c, char **ret_err)
{
	if (c->empty_record) {
		c->line++;
		return 0;	/* blank lines are allowed */
	}
	c->fields++;
	if (c->field_empty && !c->header)
		c->header_named = false;
	if (!c->header) {
		if (!c->header_named)
			return fail(ret_err,
				    "line %ld: every column of the header needs a name",
				    c->line);
		c->header = c->fields;
	} else if (c->fields != c->header) {
		return fail(ret_err, "line %ld: %ld fields, the header has %ld",
			    c->line, c->fields, c->header);
	}
	c->line++;
	c->fields = 0;
	c->empty_record = true;
	c->field_empty = true;
	return 0;
}

int csv_check(int fd, char **ret_err)
{
	struct csv c = { .line = 1, .empty_record = true, .field_empty = true,
			 .header_named = true };
	char buf[65536];
	off_t off = 0;
	ssize_t n, i;
	int r;

	*ret_err = NULL;
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (i = 0; i < n; i++) {
			char ch = buf[i];

			if (c.quoted) {
				if (c.after_quote) {
					c.after_quote = false;
					if (ch == '"')
						continue;	/* "" */
					c.quoted = false;	/* closing */
				} else {
					if (ch == '"')
						c.after_quote = true;
					else if (ch == '\n')
						c.line++;
					continue;
				}
			}
			if (ch == '"') {
				if (!c.field_empty)
					return fail(ret_err,
						    "line %ld: a quote inside an unquoted field",
						    c.line);
				c.quoted = true;
				c.field_empty = false;
				c.empty_record = false;
			} else if (ch == ',') {
				if (c.field_empty && !c.header)
					c.header_named = false;
				c.fields++;
				c.field_empty = true;
				c.empty_record = false;
			} else if (ch == '\n') {
				r = end_record(&c, ret_err);
				if (r < 0)
					return r;
			} else if (ch != '\r') {
				c.field_empty = false;
				c.empty_record = false;
			}
		}
		off += n;
	}
	if (n < 0)
		return -errno;
	if (c.quoted && !c.after_quote)
		return fail(ret_err, "line %ld: a quoted field is not closed",
			    c.line);
	r = end_record(&c, ret_err);
	if (r < 0)
		return r;
	if (!c.header)
		return fail(ret_err, "line 1: no header line");
	return 0;
}
