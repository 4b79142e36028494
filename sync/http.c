/* SPDX-License-Identifier: MIT */
/* libcurl handles, bodies, sinks and URLs for sync/; see http.h. */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmffs_version.h"

#define HTTP_BUFFER_SIZE (256L << 10)	/* receive and send buffers */

int http_opt_errno(CURLcode cc)
{
	if (cc == CURLE_OK)
		return 0;
	return cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

int http_reset(CURL *curl, const struct http_opts *o, const char *url,
	       char *errbuf)
{
	CURLcode cc = CURLE_OK;

	curl_easy_reset(curl);
	errbuf[0] = '\0';
	HTTP_SETOPT(cc, curl, CURLOPT_ERRORBUFFER, errbuf);
	HTTP_SETOPT(cc, curl, CURLOPT_URL, url);
	HTTP_SETOPT(cc, curl, CURLOPT_PROTOCOLS_STR, o->protocols);
	HTTP_SETOPT(cc, curl, CURLOPT_REDIR_PROTOCOLS_STR, o->protocols);
	HTTP_SETOPT(cc, curl, CURLOPT_NOSIGNAL, 1L);
	HTTP_SETOPT(cc, curl, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT);
	HTTP_SETOPT(cc, curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	HTTP_SETOPT(cc, curl, CURLOPT_LOW_SPEED_TIME, o->stall_s);
	HTTP_SETOPT(cc, curl, CURLOPT_TCP_KEEPALIVE, 1L);
	HTTP_SETOPT(cc, curl, CURLOPT_BUFFERSIZE, HTTP_BUFFER_SIZE);
	HTTP_SETOPT(cc, curl, CURLOPT_UPLOAD_BUFFERSIZE, HTTP_BUFFER_SIZE);
	HTTP_SETOPT(cc, curl, CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_SETOPT(cc, curl, CURLOPT_SSL_VERIFYHOST, 2L);
	HTTP_SETOPT(cc, curl, CURLOPT_USERAGENT, "cmffs/" PACKAGE_VERSION);
	if (o->ca_file)
		HTTP_SETOPT(cc, curl, CURLOPT_CAINFO, o->ca_file);
	return http_opt_errno(cc);
}

/* ------------------------------------------------------------------ */
/* Request bodies                                                      */
/* ------------------------------------------------------------------ */

void http_body_fd(struct http_body *b, int fd, uint64_t off, uint64_t len)
{
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->off = off;
	b->len = len;
}

void http_body_mem(struct http_body *b, const void *p, size_t len)
{
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->mem = p;
	b->len = len;
}

size_t http_body_read(char *buf, size_t size, size_t nitems, void *body)
{
	struct http_body *b = body;
	size_t want = size * nitems;
	ssize_t n;

	if (b->len - b->pos < want)
		want = (size_t)(b->len - b->pos);
	if (!want)
		return 0;
	if (b->fd < 0) {
		memcpy(buf, b->mem + b->pos, want);
		b->pos += want;
		return want;
	}
	do
		n = pread(b->fd, buf, want, (off_t)(b->off + b->pos));
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		/* 0: the file is shorter than the body said */
		b->ended = n == 0;
		b->err = n < 0 ? -errno : -EIO;
		return CURL_READFUNC_ABORT;
	}
	b->pos += (uint64_t)n;
	return (size_t)n;
}

int http_body_seek(void *body, curl_off_t offset, int origin)
{
	struct http_body *b = body;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > b->len)
		return CURL_SEEKFUNC_CANTSEEK;
	b->pos = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* Start @b over: from its first byte, no failure yet. */
static void body_start(struct http_body *b)
{
	b->pos = 0;
	b->err = 0;
	b->ended = false;
}

/* Start @b over and hand it to @curl's read and seek callbacks. */
static CURLcode body_callbacks(CURL *curl, struct http_body *b)
{
	CURLcode cc = CURLE_OK;

	body_start(b);
	HTTP_SETOPT(cc, curl, CURLOPT_READFUNCTION, http_body_read);
	HTTP_SETOPT(cc, curl, CURLOPT_READDATA, b);
	HTTP_SETOPT(cc, curl, CURLOPT_SEEKFUNCTION, http_body_seek);
	HTTP_SETOPT(cc, curl, CURLOPT_SEEKDATA, b);
	return cc;
}

/* @b as the body of an upload (HTTP PUT, SFTP) or, with @post, a POST. */
static int body_attach(CURL *curl, struct http_body *b, bool post)
{
	CURLcode cc;

	if (b->len > (uint64_t)INT64_MAX)
		return -EFBIG;
	cc = body_callbacks(curl, b);
	HTTP_SETOPT(cc, curl, post ? CURLOPT_POST : CURLOPT_UPLOAD, 1L);
	HTTP_SETOPT(cc, curl, post ? CURLOPT_POSTFIELDSIZE_LARGE :
		    CURLOPT_INFILESIZE_LARGE, (curl_off_t)b->len);
	return http_opt_errno(cc);
}

int http_send(CURL *curl, struct http_body *b)
{
	return body_attach(curl, b, false);
}

int http_post(CURL *curl, struct http_body *b)
{
	return body_attach(curl, b, true);
}

int http_mime_body(curl_mimepart *part, struct http_body *b)
{
	if (b->len > (uint64_t)INT64_MAX)
		return -EFBIG;
	body_start(b);
	return http_opt_errno(curl_mime_data_cb(part, (curl_off_t)b->len,
					      http_body_read, http_body_seek,
					      NULL, b));
}

/* ------------------------------------------------------------------ */
/* Response bodies                                                     */
/* ------------------------------------------------------------------ */

int http_receive(CURL *curl, struct http_sink *k, int fd, struct sb *keep,
		 unsigned flags)
{
	CURLcode cc = CURLE_OK;

	memset(k, 0, sizeof(*k));
	k->curl = curl;
	k->fd = fd;
	k->keep = keep;
	k->flags = flags;
	HTTP_SETOPT(cc, curl, CURLOPT_WRITEFUNCTION, http_sink_write);
	HTTP_SETOPT(cc, curl, CURLOPT_WRITEDATA, k);
	return http_opt_errno(cc);
}

/* Do the bytes of the answer on k->curl go to k->fd? */
static bool sink_to_fd(const struct http_sink *k)
{
	long st = 0;

	if (k->fd < 0)
		return false;
	if (k->flags & HTTP_SINK_ANY_STATUS)
		return true;
	return curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &st) ==
		       CURLE_OK && st >= 200 && st <= 299;
}

size_t http_sink_write(char *p, size_t size, size_t nmemb, void *sink)
{
	struct http_sink *k = sink;
	size_t n = size * nmemb, done = 0, room;
	ssize_t w;

	if (sink_to_fd(k)) {
		while (done < n) {
			w = pwrite(k->fd, p + done, n - done,
				   (off_t)k->written);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				k->err = w < 0 ? -errno : -EIO;
				return 0;	/* CURLE_WRITE_ERROR */
			}
			done += (size_t)w;
			k->written += (uint64_t)w;
		}
		return n;
	}
	if (!k->keep)
		return n;
	room = k->keep->max > k->keep->len ? k->keep->max - k->keep->len : 0;
	if (n > room && (k->flags & HTTP_SINK_WHOLE)) {
		k->err = -EFBIG;
		return 0;
	}
	sb_append(k->keep, p, n < room ? n : room);
	if (sb_err(k->keep)) {
		k->err = sb_err(k->keep);
		return 0;
	}
	return n;
}

int http_local_error(const struct http_body *body,
		     const struct http_sink *sink, char *why, size_t why_len)
{
	char ebuf[128];

	if (body && body->err && body->ended) {
		(void)snprintf(why, why_len,
			       "the data ended after %llu of %llu bytes",
			       (unsigned long long)body->pos,
			       (unsigned long long)body->len);
		return body->err;
	}
	if (body && body->err) {
		(void)snprintf(why, why_len, "cannot read the data: %s",
			       strerror_r(-body->err, ebuf, sizeof(ebuf)));
		return body->err;
	}
	if (sink && sink->err == -EFBIG && sink->keep) {
		(void)snprintf(why, why_len,
			       "the answer is larger than %zu bytes",
			       sink->keep->max);
		return sink->err;
	}
	if (sink && sink->err) {
		(void)snprintf(why, why_len, "cannot %s: %s",
			       sink->fd >= 0 ? "write the download" :
			       "keep the answer",
			       strerror_r(-sink->err, ebuf, sizeof(ebuf)));
		return sink->err;
	}
	return 0;
}

int http_content_length(CURL *curl, uint64_t *ret_size)
{
	curl_off_t len = -1;

	if (curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
			      &len) != CURLE_OK || len < 0)
		return -EPROTO;
	*ret_size = (uint64_t)len;
	return 0;
}

void http_text_line(char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i == max) {
			s[i] = '\0';
			break;
		}
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	}
}

/* ------------------------------------------------------------------ */
/* URLs                                                                */
/* ------------------------------------------------------------------ */

bool http_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

void http_encode(struct sb *sb, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (http_unreserved(c) || (keep_slash && c == '/')) {
			sb_putc(sb, (char)c);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 0xf];
		sb_append(sb, esc, sizeof(esc));
	}
}

/* Is @scheme (lowercase) one of the comma-separated @schemes? */
static bool scheme_in(const char *scheme, const char *schemes)
{
	size_t n = strlen(scheme);

	while (*schemes) {
		size_t m = strcspn(schemes, ",");

		if (m == n && !strncmp(schemes, scheme, n))
			return true;
		schemes += m;
		if (*schemes == ',')
			schemes++;
	}
	return false;
}

/* Does @u have @what (curl answers CURLUE_OK with a non-empty part)? */
static bool url_has(CURLU *u, CURLUPart what)
{
	char *part = NULL;
	bool has = curl_url_get(u, what, &part, 0) == CURLUE_OK && part &&
		   part[0];

	curl_free(part);
	return has;
}

int http_url_parse(const char *url, const char *schemes, unsigned flags,
		   CURLU **ret, const char **ret_why)
{
	CURLU *u = NULL;
	char *scheme = NULL;
	const char *why = NULL;
	CURLUcode uc;
	int r = -EINVAL;

	u = curl_url();
	if (!u)
		return -ENOMEM;
	uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK) {
		if (uc == CURLUE_OUT_OF_MEMORY)
			r = -ENOMEM;
		why = curl_url_strerror(uc);
		goto out;
	}
	uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (uc == CURLUE_OUT_OF_MEMORY) {
		r = -ENOMEM;
		goto out;
	}
	if (uc != CURLUE_OK || !scheme_in(scheme, schemes))
		why = "has an unsupported scheme";
	else if (!url_has(u, CURLUPART_HOST))
		why = "has no host";
	else if ((flags & HTTP_URL_NO_USER) && url_has(u, CURLUPART_USER))
		why = "has a user name";
	else if ((flags & (HTTP_URL_NO_USER | HTTP_URL_NO_PASSWORD)) &&
		 url_has(u, CURLUPART_PASSWORD))
		why = "has a password";
	else if ((flags & HTTP_URL_NO_QUERY) && url_has(u, CURLUPART_QUERY))
		why = "has a query";
	else if ((flags & HTTP_URL_NO_FRAGMENT) &&
		 url_has(u, CURLUPART_FRAGMENT))
		why = "has a fragment";
	if (why)
		goto out;
	*ret = u;
	u = NULL;
	r = 0;
out:
	if (r < 0 && ret_why)
		*ret_why = why ? why : "cannot be parsed";
	curl_free(scheme);
	curl_url_cleanup(u);
	return r;
}

int http_url_join(CURLU *base, const char *path, const char *query,
		  char **ret_url)
{
	CURLU *u = NULL, *joined = NULL;
	char *text = NULL;
	CURLUcode uc;
	struct sb sb;
	size_t n;
	int r;

	sb_init(&sb, 0);
	u = curl_url_dup(base);
	joined = curl_url();
	if (!u || !joined) {
		r = -ENOMEM;
		goto out;
	}
	uc = curl_url_set(u, CURLUPART_QUERY, NULL, 0);
	if (uc == CURLUE_OK)
		uc = curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (uc == CURLUE_OK)
		uc = curl_url_get(u, CURLUPART_URL, &text, 0);
	if (uc != CURLUE_OK) {
		r = uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
		goto out;
	}
	n = strlen(text);
	while (n && text[n - 1] == '/')
		n--;
	sb_append(&sb, text, n);
	sb_putc(&sb, '/');
	while (*path == '/')
		path++;
	sb_puts(&sb, path);
	if (query) {
		sb_putc(&sb, '?');
		sb_puts(&sb, query);
	}
	if (sb_err(&sb)) {
		r = sb_err(&sb);
		goto out;
	}
	uc = curl_url_set(joined, CURLUPART_URL, sb.buf,
			  CURLU_NON_SUPPORT_SCHEME);
	if (uc == CURLUE_OK)
		uc = curl_url_get(joined, CURLUPART_URL, ret_url, 0);
	if (uc != CURLUE_OK) {
		r = uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
		goto out;
	}
	r = 0;
out:
	sb_release(&sb);
	curl_free(text);
	curl_url_cleanup(u);
	curl_url_cleanup(joined);
	return r;
}
