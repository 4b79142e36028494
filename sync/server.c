/* SPDX-License-Identifier: MIT */
/*
 * The cmf-server client over libcurl; see server.h.  Requests are set up,
 * sent and received through http.h like the storage backends': http and
 * https only, redirects not followed, and a request that moves no byte
 * for stall-timeout seconds fails.
 */
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
#include "http.h"
#include "sb.h"
#include "urltext.h"

#define SERVER_STALL_DEFAULT 120L	/* seconds, when none is given */
#define SERVER_ANSWER_MAX ((size_t)1 << 20)	/* but a pulled document */

struct server {
	CURL *curl;
	CURLU *base;		/* "http://host:8080": requests go below it */
	char *shown;		/* the URL redacted (url_redact): for messages
				 * and sync-state keys */
	char *ca_file;
	struct http_opts opts;	/* http,https; ca_file; stall-timeout */
	char errbuf[CURL_ERROR_SIZE];
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
		struct server **ret, char **ret_err)
{
	struct server *srv = calloc(1, sizeof(*srv));
	const char *why = NULL;
	char *text = NULL;
	size_t n;
	int r = -ENOMEM;

	if (ret_err)
		*ret_err = NULL;
	if (!url) {
		r = -EINVAL;
		goto out;
	}
	text = strdup(url);
	if (!srv || !text)
		goto out;
	/* what the user wrote, less a trailing "/" or "/api": also the key
	 * of the sync state, so it stays as it was */
	n = strlen(text);
	while (n && text[n - 1] == '/')
		text[--n] = '\0';
	if (n >= 4 && !strcmp(text + n - 4, "/api"))
		text[n - 4] = '\0';
	srv->shown = url_redact(text);
	srv->ca_file = ca_file ? strdup(ca_file) : NULL;
	srv->curl = curl_easy_init();
	if (!srv->shown || (ca_file && !srv->ca_file) || !srv->curl)
		goto out;
	r = http_url_parse(text, "http,https",
			   HTTP_URL_NO_QUERY | HTTP_URL_NO_FRAGMENT, &srv->base,
			   &why);
	if (r == -EINVAL && ret_err &&
	    asprintf(ret_err, "the server URL '%s' %s", srv->shown, why) < 0)
		*ret_err = NULL;
	if (r < 0)
		goto out;
	srv->opts.protocols = "http,https";
	srv->opts.ca_file = srv->ca_file;
	srv->opts.stall_s = stall_s ? (long)stall_s : SERVER_STALL_DEFAULT;
	*ret = srv;
	srv = NULL;
out:
	free(text);
	server_close(srv);
	return r;
}

void server_close(struct server *srv)
{
	if (!srv)
		return;
	if (srv->curl)
		curl_easy_cleanup(srv->curl);
	curl_url_cleanup(srv->base);
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

/*
 * <url>/api/@route, with "?@name=@value" (@value percent-encoded) when
 * @name is not NULL; owned (curl_free()) in *ret_url.
 */
static int route_url(struct server *srv, const char *route, const char *name,
		     const char *value, char **ret_url)
{
	struct sb path, query;
	int r;

	sb_init(&path, 0);
	sb_init(&query, 0);
	sb_puts(&path, "api/");
	sb_puts(&path, route);
	if (name) {
		sb_puts(&query, name);
		sb_putc(&query, '=');
		http_encode(&query, value, false);
	}
	r = sb_err(&path) ? sb_err(&path) : sb_err(&query);
	if (r == 0)
		r = http_url_join(srv->base, path.buf, name ? query.buf : NULL,
				  ret_url);
	sb_release(&path);
	sb_release(&query);
	return r;
}

/*
 * Reset the handle for a request to @route (and the query @name=@value,
 * as route_url()) whose answer goes into @answer, which it may not
 * outgrow.  0 or -errno with a message.
 */
static int prepare(struct server *srv, const char *route, const char *name,
		   const char *value, struct http_sink *sink,
		   struct sb *answer)
{
	char *url = NULL, ebuf[128];
	CURLcode c = CURLE_OK;
	int r;

	r = route_url(srv, route, name, value, &url);
	if (r == 0)
		r = http_reset(srv->curl, &srv->opts, url, srv->errbuf);
	if (r == 0)
		r = http_receive(srv->curl, sink, -1, answer, HTTP_SINK_WHOLE);
	/* an answer announced larger than @answer may hold: refused unread;
	 * one that grows past it while it streams: the sink stops it */
	HTTP_SETOPT(c, srv->curl, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)answer->max);
	if (r == 0 && c != CURLE_OK)
		r = http_opt_errno(c);
	curl_free(url);
	if (r < 0)
		return fail(srv, r, "cmf-server %s/api/%s: cannot set up the request: %s",
			    srv->shown, route, strerror_r(-r, ebuf, sizeof(ebuf)));
	return 0;
}

/*
 * Run the prepared request, which sends @body (or NULL) and receives into
 * @sink.  Returns the HTTP status (>= 100) of the answer, or -errno with
 * one line saying what happened.
 */
static long perform(struct server *srv, const char *route,
		    const struct http_body *body, const struct http_sink *sink)
{
	char why[160];
	long status = 0;
	CURLcode c;
	int r;

	c = curl_easy_perform(srv->curl);
	r = http_local_error(body, sink, why, sizeof(why));
	if (r < 0)
		return fail(srv, r, "cmf-server %s/api/%s: %s", srv->shown,
			    route, why);
	if (c == CURLE_OPERATION_TIMEDOUT)
		return fail(srv, -ETIMEDOUT,
			    "cmf-server %s/api/%s: the server stopped answering ([sync] stall-timeout = %ld s); retried later",
			    srv->shown, route, srv->opts.stall_s);
	if (c != CURLE_OK)
		return fail(srv, curl_to_errno(srv->curl, c),
			    "cmf-server %s/api/%s: %s", srv->shown, route,
			    srv->errbuf[0] ? srv->errbuf :
			    curl_easy_strerror(c));
	if (curl_easy_getinfo(srv->curl, CURLINFO_RESPONSE_CODE, &status) !=
		    CURLE_OK || status < 100)
		return fail(srv, -EPROTO, "cmf-server %s/api/%s: no HTTP status",
			    srv->shown, route);
	return status;
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
 * POST @json to @route; the answer in @answer, which it may not outgrow.
 * Returns the HTTP status (>= 100), or -errno with a message.
 */
static long post_json(struct server *srv, const char *route, const char *json,
		      struct sb *answer)
{
	struct curl_slist *hdr = NULL;
	struct http_body body;
	struct http_sink sink;
	CURLcode c = CURLE_OK;
	long r;

	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (!hdr)
		return -ENOMEM;
	http_body_mem(&body, json, strlen(json));
	r = prepare(srv, route, NULL, NULL, &sink, answer);
	if (r < 0)
		goto out;
	r = http_post(srv->curl, &body);
	HTTP_SETOPT(c, srv->curl, CURLOPT_HTTPHEADER, hdr);
	if (r == 0 && c != CURLE_OK)
		r = http_opt_errno(c);
	if (r < 0) {
		r = fail(srv, (int)r, "cmf-server %s/api/%s: cannot set up the request",
			 srv->shown, route);
		goto out;
	}
	r = perform(srv, route, &body, &sink);
out:
	/* the handle must not keep pointers to what we free */
	(void)curl_easy_setopt(srv->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdr);
	return r;
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

	sb_init(&answer, SERVER_ANSWER_MAX);
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

int server_upload(struct server *srv, const char *route, const char *pipeline,
		  const char *filename, int fd, uint64_t size)
{
	struct http_body body;
	struct http_sink sink;
	curl_mime *mime = NULL;
	curl_mimepart *part;
	struct sb answer;
	json_t *ans = NULL;
	CURLcode c = CURLE_OK;
	long status;
	int r;

	sb_init(&answer, SERVER_ANSWER_MAX);
	http_body_fd(&body, fd, 0, size);
	r = prepare(srv, route, pipeline ? "pipeline_name" : NULL, pipeline,
		    &sink, &answer);
	if (r < 0)
		goto out;
	mime = curl_mime_init(srv->curl);
	part = mime ? curl_mime_addpart(mime) : NULL;
	if (!part)
		c = CURLE_OUT_OF_MEMORY;
	if (c == CURLE_OK)
		c = curl_mime_name(part, "file");
	if (c == CURLE_OK)
		c = curl_mime_filename(part, filename);
	if (c == CURLE_OK)
		c = curl_mime_type(part, "application/octet-stream");
	r = c == CURLE_OK ? http_mime_body(part, &body) : http_opt_errno(c);
	if (r == 0)
		r = http_opt_errno(curl_easy_setopt(srv->curl,
						    CURLOPT_MIMEPOST, mime));
	if (r < 0) {
		r = fail(srv, r, "cmf-server %s/api/%s: cannot set up the upload of '%s'",
			 srv->shown, route, filename);
		goto out;
	}
	status = perform(srv, route, &body, &sink);
	if (status < 0) {
		r = (int)status;
		goto out;
	}
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
	/* the handle must not keep pointers to what we free */
	(void)curl_easy_setopt(srv->curl, CURLOPT_MIMEPOST, NULL);
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
