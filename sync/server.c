/* SPDX-License-Identifier: MIT */
/* The cmf-server client over libcurl; see server.h. */
#include "server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "curlerr.h"
#include "document.h"
#include "sb.h"
#include "urltext.h"

struct server {
	CURL *curl;
	char *base;		/* "http://host:8080", what requests go to */
	char *shown;		/* base redacted (url_redact): for messages */
	char *ca_file;
	long stall_s;		/* a request moving no byte this long fails */
	char error[512];
};

static int fail(struct server *srv, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct server *srv, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(srv->error, sizeof(srv->error), fmt, ap);
	va_end(ap);
	return r;
}

int server_open(const char *url, const char *ca_file, unsigned stall_s,
		struct server **ret)
{
	struct server *srv = calloc(1, sizeof(*srv));
	size_t n;

	if (!srv)
		return -ENOMEM;
	srv->stall_s = stall_s ? (long)stall_s : 120L;
	srv->base = strdup(url);
	srv->ca_file = ca_file ? strdup(ca_file) : NULL;
	srv->curl = curl_easy_init();
	if (!srv->base || (ca_file && !srv->ca_file) || !srv->curl) {
		server_close(srv);
		return -ENOMEM;
	}
	n = strlen(srv->base);
	while (n && srv->base[n - 1] == '/')
		srv->base[--n] = '\0';
	if (n >= 4 && !strcmp(srv->base + n - 4, "/api"))
		srv->base[n - 4] = '\0';
	srv->shown = url_redact(srv->base);
	if (!srv->shown) {
		server_close(srv);
		return -ENOMEM;
	}
	*ret = srv;
	return 0;
}

void server_close(struct server *srv)
{
	if (!srv)
		return;
	if (srv->curl)
		curl_easy_cleanup(srv->curl);
	free(srv->base);
	free(srv->shown);
	free(srv->ca_file);
	free(srv);
}

const char *server_error(const struct server *srv)
{
	return srv->error[0] ? srv->error : "no error";
}

const char *server_url(const struct server *srv)
{
	return srv->shown;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	struct sb *sb = ud;

	sb_append(sb, p, size * n);
	return sb_err(sb) ? 0 : size * n;
}

/* A failed transfer to @route: one line saying what happened. */
static int transfer_failed(struct server *srv, CURLcode c, const char *route)
{
	if (c == CURLE_OPERATION_TIMEDOUT)
		return fail(srv, -ETIMEDOUT,
			    "cmf-server %s/api/%s: the server stopped answering ([sync] stall-timeout = %ld s); retried later",
			    srv->shown, route, srv->stall_s);
	/* the answer's callback stops past the size limit of an answer */
	return fail(srv, c == CURLE_WRITE_ERROR ? -EFBIG
						 : curl_to_errno(srv->curl, c),
		    "cmf-server %s/api/%s: %s",
		    srv->shown, route, curl_easy_strerror(c));
}

/* "detail" of a FastAPI error body, or the body itself, shortened */
static void detail_of(const char *body, char *out, size_t len)
{
	json_t *j = json_loads(body, 0, NULL);
	json_t *d = json_object_get(j, "detail");

	if (json_is_string(d))
		snprintf(out, len, "%s", json_string_value(d));
	else if (d) {
		char *t = json_dumps(d, JSON_COMPACT);

		snprintf(out, len, "%s", t ? t : "?");
		free(t);
	} else {
		snprintf(out, len, "%.200s", body);
	}
	json_decref(j);
}

/*
 * POST @body (JSON) to @route; the answer in *ret_answer (owned).
 * Returns the HTTP status (>= 100) or -errno for transport failures.
 */
static long post_json(struct server *srv, const char *route, const char *body,
		      struct sb *answer)
{
	struct curl_slist *hdr = NULL;
	char url[1024];
	long status = 0;
	CURLcode c;

	snprintf(url, sizeof(url), "%s/api/%s", srv->base, route);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (!hdr)
		return -ENOMEM;
	curl_easy_reset(srv->curl);
	curl_easy_setopt(srv->curl, CURLOPT_URL, url);
	/* the server speaks http(s) only, whatever a config or a redirect says */
	curl_easy_setopt(srv->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(srv->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(srv->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(srv->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	/* a merge of a big document takes time; a dead server does not */
	curl_easy_setopt(srv->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(srv->curl, CURLOPT_LOW_SPEED_TIME, srv->stall_s);
	curl_easy_setopt(srv->curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(srv->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(srv->curl, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)strlen(body));
	curl_easy_setopt(srv->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(srv->curl, CURLOPT_WRITEDATA, answer);
	/* an answer announced larger than @answer may hold: refused unread;
	 * one that grows past it while it streams: collect() stops it */
	curl_easy_setopt(srv->curl, CURLOPT_MAXFILESIZE_LARGE,
			 (curl_off_t)answer->max);
	if (srv->ca_file)
		curl_easy_setopt(srv->curl, CURLOPT_CAINFO, srv->ca_file);
	c = curl_easy_perform(srv->curl);
	curl_slist_free_all(hdr);
	if (c != CURLE_OK)
		return transfer_failed(srv, c, route);
	curl_easy_getinfo(srv->curl, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* Map a non-200 answer to an errno and message. */
static int http_fail(struct server *srv, const char *what, long status,
		     const char *body)
{
	char detail[256];

	detail_of(body, detail, sizeof(detail));
	switch (status) {
	case 400:
		return fail(srv, -EINVAL, "cmf-server refused the %s (400): %s",
			    what, detail);
	case 404:
		return fail(srv, -ENOENT, "cmf-server %s: not found (404): %s",
			    what, detail);
	case 413:
		return fail(srv, -EFBIG, "cmf-server %s: request too large (413)",
			    what);
	case 422:
		if (!strcmp(detail, "version_update"))
			return fail(srv, -EPROTO,
				    "cmf-server %s: the server wants an Execution_uuid on every execution (422 version_update)",
				    what);
		return fail(srv, -EPROTO, "cmf-server %s: invalid request (422): %s",
			    what, detail);
	default:
		if (status >= 500 || status == 429 || status == 408)
			return fail(srv, -EAGAIN, "cmf-server %s: server error %ld: %s",
				    what, status, detail);
		return fail(srv, -EPROTO, "cmf-server %s: unexpected answer %ld: %s",
			    what, status, detail);
	}
}

int server_push(struct server *srv, const char *pipeline, const char *doc,
		size_t len, enum push_status *ret_status)
{
	json_t *req = NULL, *ans = NULL;
	struct sb answer;
	char *body = NULL;
	const char *st;
	long status;
	int r = 0;

	sb_init(&answer, 1 << 20);
	/* json_payload is the document as a JSON string: double encoded */
	req = json_pack("{s:n, s:s#, s:s}", "exec_uuid", "json_payload", doc,
			len, "pipeline_name", pipeline);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (!body) {
		r = -ENOMEM;
		goto out;
	}
	status = post_json(srv, "mlmd_push", body, &answer);
	if (status < 0) {
		r = (int)status;
		goto out;
	}
	if (status != 200) {
		r = http_fail(srv, "push", status, answer.buf);
		goto out;
	}
	ans = json_loads(answer.buf, 0, NULL);
	st = json_string_value(json_object_get(ans, "status"));
	if (st && !strcmp(st, "success"))
		*ret_status = PUSH_SUCCESS;
	else if (st && !strcmp(st, "exists"))
		*ret_status = PUSH_EXISTS;
	else if (st && !strcmp(st, "pipeline_not_exist"))
		r = fail(srv, -EPROTO, "cmf-server did not find pipeline '%s' in the pushed document",
			 pipeline);
	else
		r = fail(srv, -EPROTO, "cmf-server answered the push with something else than a status: %.120s",
			 answer.buf);
out:
	sb_release(&answer);
	json_decref(req);
	json_decref(ans);
	free(body);
	return r;
}

struct upload_src {
	int fd;
	curl_off_t off;
};

static size_t read_part(char *buf, size_t size, size_t n, void *ud)
{
	struct upload_src *u = ud;
	ssize_t got = pread(u->fd, buf, size * n, u->off);

	if (got < 0)
		return CURL_READFUNC_ABORT;
	u->off += got;
	return (size_t)got;
}

static int seek_part(void *ud, curl_off_t off, int origin)
{
	struct upload_src *u = ud;

	if (origin != SEEK_SET)
		return CURL_SEEKFUNC_CANTSEEK;
	u->off = off;
	return CURL_SEEKFUNC_OK;
}

char *server_escape(struct server *srv, const char *s)
{
	char *e = curl_easy_escape(srv->curl, s, 0);
	char *copy = e ? strdup(e) : NULL;

	curl_free(e);
	return copy;
}

int server_upload(struct server *srv, const char *route, const char *filename,
		  int fd, uint64_t size)
{
	struct upload_src src = { .fd = fd };
	struct sb answer;
	curl_mime *mime = NULL;
	curl_mimepart *part;
	json_t *ans = NULL;
	char url[2048];
	long status = 0;
	CURLcode c;
	int r = 0;

	sb_init(&answer, 1 << 20);
	snprintf(url, sizeof(url), "%s/api/%s", srv->base, route);
	curl_easy_reset(srv->curl);
	mime = curl_mime_init(srv->curl);
	part = mime ? curl_mime_addpart(mime) : NULL;
	if (!part) {
		r = -ENOMEM;
		goto out;
	}
	curl_mime_name(part, "file");
	curl_mime_filename(part, filename);
	curl_mime_type(part, "application/octet-stream");
	curl_mime_data_cb(part, (curl_off_t)size, read_part, seek_part, NULL,
			  &src);
	curl_easy_setopt(srv->curl, CURLOPT_URL, url);
	/* the server speaks http(s) only, whatever a config or a redirect says */
	curl_easy_setopt(srv->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(srv->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(srv->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(srv->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(srv->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(srv->curl, CURLOPT_LOW_SPEED_TIME, srv->stall_s);
	curl_easy_setopt(srv->curl, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(srv->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(srv->curl, CURLOPT_WRITEDATA, &answer);
	if (srv->ca_file)
		curl_easy_setopt(srv->curl, CURLOPT_CAINFO, srv->ca_file);
	c = curl_easy_perform(srv->curl);
	if (c != CURLE_OK) {
		r = transfer_failed(srv, c, route);
		goto out;
	}
	curl_easy_getinfo(srv->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		r = http_fail(srv, "upload", status, answer.buf);
		goto out;
	}
	ans = json_loads(answer.buf, 0, NULL);
	if (json_object_get(ans, "error")) {
		const char *e = json_string_value(json_object_get(ans, "error"));

		r = fail(srv, -EPROTO, "cmf-server refused '%s': %s", filename,
			 e ? e : "?");
	}
out:
	curl_mime_free(mime);
	json_decref(ans);
	sb_release(&answer);
	return r;
}

/* POST mlmd_pull for @pipeline, and @exec_uuid if not NULL. */
static int pull(struct server *srv, const char *pipeline,
		const char *exec_uuid, char **ret_text, size_t *ret_len)
{
	json_t *req;
	struct sb answer;
	char *body;
	long status;
	int r = 0;

	/* the document is read as it comes, up to the limit of a document */
	sb_init(&answer, DOCUMENT_MAX_BYTES);
	req = exec_uuid ? json_pack("{s:s, s:s}", "pipeline_name", pipeline,
				    "exec_uuid", exec_uuid)
			: json_pack("{s:s, s:n}", "pipeline_name", pipeline,
				    "exec_uuid");
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!body)
		return -ENOMEM;
	status = post_json(srv, "mlmd_pull", body, &answer);
	free(body);
	if (status == -EFBIG) {
		r = fail(srv, -EFBIG, "cmf-server's answer to the pull of '%s' is larger than %zu MiB, the limit of a CMF document; refused",
			 pipeline, DOCUMENT_MAX_BYTES >> 20);
		goto out;
	}
	if (status < 0) {
		r = (int)status;
		goto out;
	}
	if (status == 404) {
		r = fail(srv, -ENOENT, "pipeline '%s' is not on the cmf-server",
			 pipeline);
		goto out;
	}
	if (status != 200) {
		r = http_fail(srv, "pull", status, answer.buf);
		goto out;
	}
	if (!strcmp(answer.buf, "no_exec_uuid")) {
		r = fail(srv, -ENOENT, "cmf-server: no such execution");
		goto out;
	}
	*ret_text = sb_detach(&answer, ret_len);
	if (!*ret_text)
		r = -ENOMEM;
out:
	sb_release(&answer);
	return r;
}

int server_pull(struct server *srv, const char *pipeline, char **ret_text,
		size_t *ret_len)
{
	return pull(srv, pipeline, NULL, ret_text, ret_len);
}

int server_pull_execution(struct server *srv, const char *pipeline,
			  const char *exec_uuid, char **ret_text,
			  size_t *ret_len)
{
	return pull(srv, pipeline, exec_uuid, ret_text, ret_len);
}
