/* SPDX-License-Identifier: MIT */
/* DVC 3 .dir manifests, written as Python's json.dumps does; see .h. */
#include "dirmanifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "names.h"
#include "sb.h"

int manifest_is_oid(const char *oid)
{
	char md5[MD5_HEX_LEN + 1];

	if (strlen(oid) != DIR_OID_LEN || strcmp(oid + MD5_HEX_LEN, ".dir"))
		return 0;
	memcpy(md5, oid, MD5_HEX_LEN);
	md5[MD5_HEX_LEN] = '\0';
	return hash_is_md5(md5);
}

/* Decode one UTF-8 sequence at @s (valid input assumed); advance *i. */
static unsigned long utf8_next(const unsigned char *s, size_t *i)
{
	unsigned long cp = s[*i];
	size_t len = 1, k;

	if (cp >= 0xf0) {
		cp &= 0x07;
		len = 4;
	} else if (cp >= 0xe0) {
		cp &= 0x0f;
		len = 3;
	} else if (cp >= 0xc0) {
		cp &= 0x1f;
		len = 2;
	}
	for (k = 1; k < len; k++)
		cp = (cp << 6) | (s[*i + k] & 0x3f);
	*i += len;
	return cp;
}

/* A JSON string as Python's json.dumps(ensure_ascii=True) writes it. */
static void py_json_string(struct sb *sb, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	sb_putc(sb, '"');
	while (s[i]) {
		unsigned long cp;

		if (s[i] < 0x80) {
			char c = (char)s[i++];

			switch (c) {
			case '"':
				sb_puts(sb, "\\\"");
				break;
			case '\\':
				sb_puts(sb, "\\\\");
				break;
			case '\n':
				sb_puts(sb, "\\n");
				break;
			case '\r':
				sb_puts(sb, "\\r");
				break;
			case '\t':
				sb_puts(sb, "\\t");
				break;
			case '\b':
				sb_puts(sb, "\\b");
				break;
			case '\f':
				sb_puts(sb, "\\f");
				break;
			default:
				if ((unsigned char)c < 0x20)
					sb_appendf(sb, "\\u%04x", (unsigned)c);
				else
					sb_putc(sb, c);
			}
			continue;
		}
		cp = utf8_next(s, &i);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			sb_appendf(sb, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10),
				   0xdc00 + (cp & 0x3ff));
		} else {
			sb_appendf(sb, "\\u%04lx", cp);
		}
	}
	sb_putc(sb, '"');
}

static int by_relpath(const void *a, const void *b)
{
	return strcmp(((const struct manifest_entry *)a)->relpath,
		      ((const struct manifest_entry *)b)->relpath);
}

int manifest_build(struct manifest_entry *entries, size_t n, char **ret_bytes,
		   size_t *ret_len, char ret_oid[DIR_OID_LEN + 1])
{
	char md5[MD5_HEX_LEN + 1];
	struct sb sb;
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		if (!utf8_valid(entries[i].relpath, strlen(entries[i].relpath)))
			return -EINVAL;
	if (n)
		qsort(entries, n, sizeof(*entries), by_relpath);
	/* about 90 bytes a file: 90 MB for a million, past sb's default */
	sb_init(&sb, MANIFEST_MAX_BYTES);
	sb_putc(&sb, '[');
	for (i = 0; i < n; i++) {
		sb_appendf(&sb, "%s{\"md5\": ", i ? ", " : "");
		py_json_string(&sb, entries[i].md5);
		sb_puts(&sb, ", \"relpath\": ");
		py_json_string(&sb, entries[i].relpath);
		sb_putc(&sb, '}');
	}
	sb_putc(&sb, ']');
	r = sb_err(&sb);
	if (r == 0)
		r = hash_buf(sb.buf, sb.len, md5);
	if (r == 0) {
		snprintf(ret_oid, DIR_OID_LEN + 1, "%s.dir", md5);
		*ret_bytes = sb_detach(&sb, ret_len);
		r = *ret_bytes ? 0 : -ENOMEM;
	}
	sb_release(&sb);
	return r;
}

void manifest_free(struct manifest_entry *entries, size_t n)
{
	size_t i;

	for (i = 0; entries && i < n; i++)
		free(entries[i].relpath);
	free(entries);
}

/* Is @path a relative path of storable components? */
static int check_relpath(const char *path, const char **why)
{
	const char *p = path;
	char comp[NAME_MAX_BYTES + 1];

	if (!*path || *path == '/') {
		*why = "is absolute or empty";
		return -EINVAL;
	}
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || n > NAME_MAX_BYTES) {
			*why = "has an empty or too long component";
			return -EINVAL;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (name_check(comp, why) < 0)
			return -EINVAL;
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

int manifest_parse(const char *bytes, size_t len,
		   struct manifest_entry **ret_entries, size_t *ret_n,
		   char **ret_err)
{
	struct manifest_entry *v = NULL;
	json_error_t jerr;
	json_t *doc, *e;
	size_t i, n = 0;
	const char *why;
	int r = 0;

	*ret_err = NULL;
	doc = json_loadb(bytes, len, 0, &jerr);
	if (!json_is_array(doc)) {
		if (asprintf(ret_err, "not a DVC directory manifest (line %d: %s)",
			     jerr.line, doc ? "not a list" : jerr.text) < 0)
			*ret_err = NULL;
		json_decref(doc);
		return -EINVAL;
	}
	v = calloc(json_array_size(doc) + 1, sizeof(*v));
	if (!v) {
		json_decref(doc);
		return -ENOMEM;
	}
	json_array_foreach(doc, i, e) {
		const char *md5 = json_string_value(json_object_get(e, "md5"));
		const char *rel = json_string_value(json_object_get(e, "relpath"));

		if (!md5 || !rel || !hash_is_md5(md5)) {
			r = -EINVAL;
			if (asprintf(ret_err, "manifest entry %zu has no valid md5 and relpath", i) < 0)
				*ret_err = NULL;
			break;
		}
		if (check_relpath(rel, &why) < 0) {
			r = -EINVAL;
			if (asprintf(ret_err, "manifest path '%s' %s", rel, why) < 0)
				*ret_err = NULL;
			break;
		}
		v[n].relpath = strdup(rel);
		if (!v[n].relpath) {
			r = -ENOMEM;
			break;
		}
		memcpy(v[n].md5, md5, MD5_HEX_LEN + 1);
		n++;
	}
	json_decref(doc);
	if (r < 0) {
		manifest_free(v, n);
		return r;
	}
	*ret_entries = v;
	*ret_n = n;
	return 0;
}
