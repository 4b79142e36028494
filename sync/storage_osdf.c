/* SPDX-License-Identifier: MIT */
/*
 * OSDF storage backend: objects are HTTPS resources below storage_url,
 * written with PUT, read with GET and probed with HEAD, each request
 * carrying "Authorization: Bearer <token>".
 *
 * OSDF origins (XRootD, Pelican) create missing parent collections on PUT;
 * so does nginx's dav module with "create_full_put_path on".  Whether a
 * reader can see a partial PUT is up to the server (nginx and XRootD write
 * to a temporary file and rename it); this backend only never sends a
 * short body.
 *
 * The token is read from token_file at open, with surrounding whitespace
 * (and an optional "Bearer " prefix) stripped, and read again before a
 * request whenever the file changed (inode, size or mtime), so that a
 * token refresher can replace it while we run.  Tokens are wiped from
 * memory when dropped.
 *
 * Only https:// is accepted.  Certificates are verified against ca_file
 * when it is set, else against the system's CAs.  Redirects are not
 * followed: a director's redirect would otherwise carry the token to
 * another host (libcurl strips it, and the request then fails as if the
 * token were wrong); point the url at the origin instead.
 *
 * One CURL handle per storage, reset before every request (connections
 * stay open), set up by http_reset(): no total timeout, 10 s to connect,
 * and a transfer without progress for [sync] stall-timeout is abandoned.
 */
#include "storage_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "curlerr.h"
#include "http.h"
#include "sb.h"

#define OSDF_TOKEN_MAX		(64 * 1024)	/* bytes in a token file */
#define OSDF_BODY_KEEP		160	/* bytes of an error body kept */
#define AUTH_PREFIX		"Authorization: Bearer "

struct osdf_priv {
	struct http_opts opts;	/* https only; ca_file; stall-timeout */
	CURL *curl;
	CURLU *url;		/* storage_url, parsed */
	char *base;		/* storage_url without trailing '/', for
				 * messages */
	char *token_file;
	char *ca_file;		/* NULL: system CAs */
	char *auth;		/* "Authorization: Bearer <token>" */
	/* identity of the token file when it was read */
	dev_t tok_dev;
	ino_t tok_ino;
	off_t tok_size;
	struct timespec tok_mtime;
	char errbuf[CURL_ERROR_SIZE];
};

static void wipe_free(char *p)
{
	if (!p)
		return;
	explicit_bzero(p, strlen(p));
	free(p);
}

static int read_fail(struct storage *s, int r, const char *path)
{
	char buf[128];

	if (r == -ENOMEM)
		return r;
	/* never -ENOENT: callers would take it for a missing object */
	return storage_fail(s, -EINVAL, "cannot read token file '%s': %s",
			    path, strerror_r(-r, buf, sizeof(buf)));
}

/*
 * (Re)read the token file into p->auth.  On failure p->auth is unchanged.
 * Errors are -EINVAL (with a message) or -ENOMEM.
 */
static int token_load(struct storage *s, struct osdf_priv *p)
{
	char *buf = NULL, *auth = NULL, *t;
	struct stat st;
	size_t len = 0, i;
	ssize_t n;
	int fd, r;

	fd = open(p->token_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return read_fail(s, -errno, p->token_file);
	if (fstat(fd, &st) < 0) {
		r = read_fail(s, -errno, p->token_file);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > OSDF_TOKEN_MAX) {
		r = storage_fail(s, -EINVAL,
				 "token file '%s' is not a regular file of at most %d bytes",
				 p->token_file, OSDF_TOKEN_MAX);
		goto out;
	}
	buf = malloc(OSDF_TOKEN_MAX + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		n = read(fd, buf + len, OSDF_TOKEN_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = read_fail(s, -errno, p->token_file);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > OSDF_TOKEN_MAX) {
			r = storage_fail(s, -EINVAL,
					 "token file '%s' is larger than %d bytes",
					 p->token_file, OSDF_TOKEN_MAX);
			goto out;
		}
	}
	buf[len] = '\0';

	t = buf;
	while (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n')
		t++;
	if (strncasecmp(t, "Bearer ", 7) == 0)
		t += 7;
	while (*t == ' ' || *t == '\t')
		t++;
	len = strlen(t);
	while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t' ||
			   t[len - 1] == '\r' || t[len - 1] == '\n'))
		len--;
	if (len == 0) {
		r = storage_fail(s, -EINVAL, "token file '%s' is empty",
				 p->token_file);
		goto out;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c < 0x21 || c == 0x7f) {
			r = storage_fail(s, -EINVAL,
					 "token file '%s' holds more than one token (whitespace or control characters inside)",
					 p->token_file);
			goto out;
		}
	}
	auth = malloc(sizeof(AUTH_PREFIX) + len);
	if (!auth) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(auth, AUTH_PREFIX, sizeof(AUTH_PREFIX) - 1);
	memcpy(auth + sizeof(AUTH_PREFIX) - 1, t, len);
	auth[sizeof(AUTH_PREFIX) - 1 + len] = '\0';

	wipe_free(p->auth);
	p->auth = auth;
	auth = NULL;
	p->tok_dev = st.st_dev;
	p->tok_ino = st.st_ino;
	p->tok_size = st.st_size;
	p->tok_mtime = st.st_mtim;
	r = 0;
out:
	if (buf) {
		explicit_bzero(buf, OSDF_TOKEN_MAX + 1);
		free(buf);
	}
	wipe_free(auth);
	close(fd);
	return r;
}

/* Re-read the token if its file was replaced or changed since. */
static int token_refresh(struct storage *s, struct osdf_priv *p)
{
	struct stat st;

	if (stat(p->token_file, &st) < 0)
		return read_fail(s, -errno, p->token_file);
	if (st.st_dev == p->tok_dev && st.st_ino == p->tok_ino &&
	    st.st_size == p->tok_size &&
	    st.st_mtim.tv_sec == p->tok_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == p->tok_mtime.tv_nsec)
		return 0;
	return token_load(s, p);
}

static void osdf_free(struct osdf_priv *p)
{
	if (!p)
		return;
	curl_easy_cleanup(p->curl);
	curl_url_cleanup(p->url);
	free(p->base);
	free(p->token_file);
	free(p->ca_file);
	wipe_free(p->auth);
	free(p);
}

static int osdf_open(struct storage *s, const struct config *cfg)
{
	struct osdf_priv *p;
	const char *url = cfg->storage_url, *why = "is not set";
	size_t len;
	int r;

	if (!cfg->token_file || !cfg->token_file[0])
		return storage_fail(s, -EINVAL,
				    "osdf storage needs token = /path/to/token/file");
	if (cfg->ca_file && access(cfg->ca_file, R_OK) < 0) {
		char buf[128];

		return storage_fail(s, -EINVAL, "cannot read ca-file '%s': %s",
				    cfg->ca_file,
				    strerror_r(errno, buf, sizeof(buf)));
	}

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = -EINVAL;
	if (url)
		r = http_url_parse(url, "https",
				   HTTP_URL_NO_QUERY | HTTP_URL_NO_FRAGMENT,
				   &p->url, &why);
	if (r < 0) {
		if (r == -EINVAL)
			r = storage_fail(s, r,
					 "osdf storage url '%s' %s: it must be https://HOST[:PORT]/PATH, without query, fragment or spaces",
					 url ? url : "", why);
		goto out;
	}
	len = strlen(url);
	while (len > 8 && url[len - 1] == '/')
		len--;
	p->base = strndup(url, len);
	p->token_file = strdup(cfg->token_file);
	p->ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
	p->curl = curl_easy_init();
	if (!p->base || !p->token_file || (cfg->ca_file && !p->ca_file) ||
	    !p->curl) {
		r = -ENOMEM;
		goto out;
	}
	p->opts.protocols = "https";
	p->opts.ca_file = p->ca_file;
	p->opts.stall_s = (long)config_stall_timeout(cfg);
	r = token_load(s, p);
	if (r < 0)
		goto out;
	s->priv = p;
	p = NULL;
	r = 0;
out:
	osdf_free(p);
	return r;
}

static void osdf_close(struct storage *s)
{
	osdf_free(s->priv);
	s->priv = NULL;
}

/* Free a header list, wiping the token in it. */
static void osdf_hdrs_free(struct curl_slist *hdrs)
{
	struct curl_slist *l;

	for (l = hdrs; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
}

/* Map a failed transfer (libcurl error) to -errno and a message. */
static int osdf_curl_fail(struct storage *s, CURLcode cc, const char *method,
			  const char *key)
{
	struct osdf_priv *p = s->priv;
	const char *detail = p->errbuf[0] ? p->errbuf : curl_easy_strerror(cc);
	int r = curl_to_errno(p->curl, cc);

	if (r == -ENOMEM)
		return r;
	if (cc == CURLE_PEER_FAILED_VERIFICATION)
		return storage_fail(s, -EACCES,
				    "TLS certificate of %s is not trusted%s: %s",
				    p->base,
				    p->ca_file ? " by ca-file" :
				    " by the system CAs (set ca-file?)",
				    detail);
	return storage_fail(s, r, "%s %s/%s: %s", method, p->base, key, detail);
}

/*
 * Map an HTTP status other than success to -errno and a message; @body
 * is the start of the answer (one line).
 */
static int osdf_http_fail(struct storage *s, long code, const char *method,
			  const char *key, const char *body)
{
	struct osdf_priv *p = s->priv;
	bool put = strcmp(method, "PUT") == 0;
	const char *why = "";
	char *loc = NULL;
	int r;

	if (code == 401 || code == 403) {
		r = -EACCES;
		why = " (token refused: check the token file)";
	} else if (put && (code == 404 || code == 405 || code == 409)) {
		/* not -ENOENT: that would mean "no such object" */
		r = -EPROTO;
		why = " (cannot create it: the server must create parent directories on PUT, e.g. nginx's dav module with create_full_put_path on)";
	} else if (code == 404 || code == 410) {
		r = -ENOENT;
	} else if (code == 408) {
		r = -ETIMEDOUT;
	} else if (code == 429 || code == 502 || code == 503 || code == 504) {
		r = -EAGAIN;
	} else if (code == 507) {
		r = -ENOSPC;
	} else if (code == 413) {
		r = -EFBIG;
	} else if (code >= 300 && code < 400) {
		r = -EPROTO;
		(void)curl_easy_getinfo(p->curl, CURLINFO_REDIRECT_URL, &loc);
		why = " (redirects are not followed: set url to the origin)";
	} else if (code >= 500 && code != 501 && code != 505) {
		r = -EAGAIN;
	} else {
		r = -EPROTO;
	}
	return storage_fail(s, r, "%s %s/%s: HTTP %ld%s%s%s%s%s", method,
			    p->base, key, code, why,
			    loc ? " to " : "", loc ? loc : "",
			    *body ? ": " : "", body);
}

/*
 * One request on @key: HEAD, PUT of @body, or GET into @out_fd (-1:
 * none), with the token refreshed first.  0 for a 2xx answer (200 for
 * HEAD and GET), else -errno with a message.
 */
static int osdf_request(struct storage *s, const char *method,
			const char *key, struct http_body *body, int out_fd)
{
	struct osdf_priv *p = s->priv;
	struct curl_slist *hdrs = NULL;
	char *url = NULL, why[160], text[OSDF_BODY_KEEP + 1];
	CURLcode cc = CURLE_OK;
	struct http_sink sink;
	struct sb keep, path;
	long code = 0;
	int r;

	sb_init(&keep, OSDF_BODY_KEEP);
	sb_init(&path, 0);
	r = token_refresh(s, p);
	if (r < 0)
		goto out;
	http_encode(&path, key, true);
	hdrs = curl_slist_append(NULL, p->auth);
	r = hdrs ? sb_err(&path) : -ENOMEM;
	if (r == 0)
		r = http_url_join(p->url, path.buf, NULL, &url);
	if (r == 0)
		r = http_reset(p->curl, &p->opts, url, p->errbuf);
	if (r == 0)
		r = http_receive(p->curl, &sink, out_fd, &keep, 0);
	if (r == 0 && body)
		r = http_send(p->curl, body);
	HTTP_SETOPT(cc, p->curl, CURLOPT_HTTPHEADER, hdrs);
	if (!strcmp(method, "HEAD"))
		HTTP_SETOPT(cc, p->curl, CURLOPT_NOBODY, 1L);
	if (r == 0 && cc != CURLE_OK)
		r = http_opt_errno(cc);
	if (r < 0) {
		if (r != -ENOMEM)
			r = storage_fail(s, r, "%s %s/%s: cannot set up the request: %s",
					 method, p->base, key,
					 strerror_r(-r, why, sizeof(why)));
		goto out;
	}
	cc = curl_easy_perform(p->curl);
	r = http_local_error(body, &sink, why, sizeof(why));
	if (r < 0) {
		r = storage_fail(s, r, "%s %s/%s: %s", method, p->base, key,
				 why);
		goto out;
	}
	if (cc != CURLE_OK) {
		r = osdf_curl_fail(s, cc, method, key);
		goto out;
	}
	(void)curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code);
	if (body ? code >= 200 && code < 300 : code == 200) {
		r = 0;
		goto out;
	}
	(void)snprintf(text, sizeof(text), "%s", keep.buf);
	http_text_line(text, OSDF_BODY_KEEP);
	r = osdf_http_fail(s, code, method, key, text);
out:
	/* the handle must not keep pointers to what we free */
	(void)curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, NULL);
	osdf_hdrs_free(hdrs);
	curl_free(url);
	sb_release(&path);
	sb_release(&keep);
	return r;
}

static int osdf_stat(struct storage *s, const char *key, uint64_t *ret_size)
{
	struct osdf_priv *p = s->priv;
	int r = osdf_request(s, "HEAD", key, NULL, -1);

	if (r < 0 || !ret_size)
		return r;
	if (http_content_length(p->curl, ret_size) < 0)
		return storage_fail(s, -EPROTO,
				    "HEAD %s/%s: no Content-Length in the answer",
				    p->base, key);
	return 0;
}

static int osdf_put(struct storage *s, const char *key, int fd, uint64_t size)
{
	struct http_body body;
	int r;

	r = osdf_stat(s, key, NULL);
	if (r != -ENOENT)
		return r;	/* 0: already there (same bytes), or an error */
	http_body_fd(&body, fd, 0, size);
	return osdf_request(s, "PUT", key, &body, -1);
}

static int osdf_get(struct storage *s, const char *key, int fd)
{
	return osdf_request(s, "GET", key, NULL, fd);
}

const struct storage_ops storage_osdf_ops = {
	.name = "osdf",
	.open = osdf_open,
	.close = osdf_close,
	.stat = osdf_stat,
	.put = osdf_put,
	.get = osdf_get,
};
