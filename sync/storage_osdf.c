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
 * stay open).  No total timeout: connecting has 10 s, and a transfer
 * without progress for 60 s is abandoned.
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

#define OSDF_CONNECT_TIMEOUT	10L	/* seconds */
#define OSDF_BUFFER_SIZE	(256L * 1024)
#define OSDF_TOKEN_MAX		(64 * 1024)	/* bytes in a token file */
#define OSDF_BODY_KEEP		160	/* bytes of an error body kept */
#define AUTH_PREFIX		"Authorization: Bearer "

struct osdf_priv {
	long stall_s;		/* [sync] stall-timeout */
	CURL *curl;
	char *base;		/* storage_url without trailing '/' */
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

/* One request's transfer state, shared with the callbacks. */
struct osdf_xfer {
	CURL *curl;
	struct file_body file;	/* PUT: the body (fd -1 otherwise); GET:
				 * off is where the next byte lands */
	int out_fd;		/* GET: where a 200 body goes, else -1 */
	int status;		/* 0 unknown, 1 success body, -1 error body */
	char body[OSDF_BODY_KEEP + 1];	/* start of an error body */
	size_t body_len;
};

/* Set a curl option unless an earlier one failed: the first error sticks. */
#define SETOPT(cc, h, opt, val)                                         \
	do {                                                            \
		if ((cc) == CURLE_OK)                                   \
			(cc) = curl_easy_setopt((h), (opt), (val));     \
	} while (0)

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
	free(p->base);
	free(p->token_file);
	free(p->ca_file);
	wipe_free(p->auth);
	free(p);
}

static int osdf_open(struct storage *s, const struct config *cfg)
{
	struct osdf_priv *p;
	const char *url = cfg->storage_url;
	size_t len;
	int r;

	if (!url || strncasecmp(url, "https://", 8) != 0 || !url[8])
		return storage_fail(s, -EINVAL,
				    "osdf storage needs url = https://HOST/PATH (got '%s')",
				    url ? url : "");
	if (strpbrk(url, "?# \t\r\n"))
		return storage_fail(s, -EINVAL,
				    "osdf storage url '%s' must not contain a query, a fragment or whitespace",
				    url);
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
	p->stall_s = (long)config_stall_timeout(cfg);
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

/* Keep the start of an error body for the message; consume the rest. */
static void keep_body(struct osdf_xfer *x, const char *ptr, size_t len)
{
	size_t i;

	for (i = 0; i < len && x->body_len < OSDF_BODY_KEEP; i++) {
		char c = ptr[i];

		x->body[x->body_len++] = (c < 0x20 || c == 0x7f) ? ' ' : c;
	}
	x->body[x->body_len] = '\0';
}

static size_t osdf_write_cb(char *ptr, size_t size, size_t nmemb, void *data)
{
	struct osdf_xfer *x = data;
	size_t len = size * nmemb, done = 0;
	long code = 0;
	ssize_t n;

	if (x->status == 0) {
		(void)curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
		x->status = code == 200 ? 1 : -1;
	}
	if (x->status < 0 || x->out_fd < 0) {
		keep_body(x, ptr, len);
		return len;
	}
	while (done < len) {
		n = pwrite(x->out_fd, ptr + done, len - done,
			   (off_t)(x->file.off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			x->file.err = n < 0 ? -errno : -EIO;
			return 0;	/* CURLE_WRITE_ERROR */
		}
		done += (size_t)n;
	}
	x->file.off += len;
	return len;
}

/*
 * Refresh the token, reset the handle and set what every request needs;
 * *ret_hdrs gets the header list (owned by the caller: osdf_hdrs_free()).
 */
static int osdf_prepare(struct storage *s, const char *key,
			struct osdf_xfer *x, struct curl_slist **ret_hdrs)
{
	struct osdf_priv *p = s->priv;
	struct curl_slist *hdrs = NULL;
	CURL *h = p->curl;
	CURLcode cc = CURLE_OK;
	char *url = NULL;
	size_t lb = strlen(p->base), lk = strlen(key);
	int r;

	r = token_refresh(s, p);
	if (r < 0)
		return r;
	url = malloc(lb + 1 + lk + 1);
	hdrs = curl_slist_append(NULL, p->auth);
	if (!url || !hdrs) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(url, p->base, lb);
	url[lb] = '/';
	memcpy(url + lb + 1, key, lk + 1);

	curl_easy_reset(h);
	p->errbuf[0] = '\0';
	x->curl = h;
	SETOPT(cc, h, CURLOPT_ERRORBUFFER, p->errbuf);
	SETOPT(cc, h, CURLOPT_URL, url);
	SETOPT(cc, h, CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(cc, h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(cc, h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(cc, h, CURLOPT_CONNECTTIMEOUT, OSDF_CONNECT_TIMEOUT);
	SETOPT(cc, h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(cc, h, CURLOPT_LOW_SPEED_TIME, p->stall_s);
	SETOPT(cc, h, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(cc, h, CURLOPT_BUFFERSIZE, OSDF_BUFFER_SIZE);
	SETOPT(cc, h, CURLOPT_UPLOAD_BUFFERSIZE, OSDF_BUFFER_SIZE);
	SETOPT(cc, h, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(cc, h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (p->ca_file)
		SETOPT(cc, h, CURLOPT_CAINFO, p->ca_file);
	SETOPT(cc, h, CURLOPT_HTTPHEADER, hdrs);
	SETOPT(cc, h, CURLOPT_WRITEFUNCTION, osdf_write_cb);
	SETOPT(cc, h, CURLOPT_WRITEDATA, x);
	if (cc == CURLE_OUT_OF_MEMORY) {
		r = -ENOMEM;
		goto out;
	}
	if (cc != CURLE_OK) {
		r = storage_fail(s, -EINVAL, "libcurl refused an HTTPS option: %s",
				 curl_easy_strerror(cc));
		goto out;
	}
	*ret_hdrs = hdrs;
	hdrs = NULL;
	r = 0;
out:
	free(url);
	curl_slist_free_all(hdrs);
	return r;
}

/* Free a header list made by osdf_prepare(), wiping the token in it. */
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

/* Map an HTTP status other than success to -errno and a message. */
static int osdf_http_fail(struct storage *s, long code, const char *method,
			  const char *key, const struct osdf_xfer *x)
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
			    x->body_len ? ": " : "", x->body);
}

/*
 * Run the prepared request; 0 for a 2xx answer (200 only when @want200),
 * else -errno with a message.
 */
static int osdf_perform(struct storage *s, const char *method,
			const char *key, struct osdf_xfer *x, bool want200)
{
	struct osdf_priv *p = s->priv;
	CURLcode cc;
	long code = 0;
	char buf[128];

	cc = curl_easy_perform(p->curl);
	if (x->file.err == -EIO && x->file.fd >= 0 &&
	    x->file.off < x->file.size)
		return storage_fail(s, -EIO,
				    "%s %s/%s: the data ended after %llu of %llu bytes",
				    method, p->base, key,
				    (unsigned long long)x->file.off,
				    (unsigned long long)x->file.size);
	if (x->file.err)
		return storage_fail(s, x->file.err, "%s %s/%s: local file: %s",
				    method, p->base, key,
				    strerror_r(-x->file.err, buf, sizeof(buf)));
	if (cc != CURLE_OK)
		return osdf_curl_fail(s, cc, method, key);
	(void)curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code);
	if (want200 ? code == 200 : code >= 200 && code < 300)
		return 0;
	return osdf_http_fail(s, code, method, key, x);
}

static int osdf_stat(struct storage *s, const char *key, uint64_t *ret_size)
{
	struct osdf_priv *p = s->priv;
	struct osdf_xfer x = { .file = { .fd = -1 }, .out_fd = -1 };
	struct curl_slist *hdrs = NULL;
	CURLcode cc = CURLE_OK;
	int r;

	r = osdf_prepare(s, key, &x, &hdrs);
	if (r < 0)
		goto out;
	SETOPT(cc, p->curl, CURLOPT_NOBODY, 1L);
	if (cc != CURLE_OK) {
		r = cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
		goto out;
	}
	r = osdf_perform(s, "HEAD", key, &x, true);
	if (r == 0 && ret_size) {
		curl_off_t len = -1;

		/* a HEAD answers with the object's Content-Length */
		if (curl_easy_getinfo(p->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
				      &len) != CURLE_OK || len < 0)
			r = storage_fail(s, -EPROTO,
					 "HEAD %s/%s: no Content-Length in the answer",
					 p->base, key);
		else
			*ret_size = (uint64_t)len;
	}
out:
	osdf_hdrs_free(hdrs);
	return r;
}

static int osdf_put(struct storage *s, const char *key, int fd, uint64_t size)
{
	struct osdf_priv *p = s->priv;
	struct osdf_xfer x = {
		.file = { .fd = fd, .size = size }, .out_fd = -1
	};
	struct curl_slist *hdrs = NULL;
	CURLcode cc = CURLE_OK;
	int r;

	if (size > (uint64_t)INT64_MAX)
		return storage_fail(s, -EFBIG, "'%s' is too large", key);
	r = osdf_stat(s, key, NULL);
	if (r != -ENOENT)
		return r;	/* 0: already there (same bytes), or an error */

	r = osdf_prepare(s, key, &x, &hdrs);
	if (r < 0)
		goto out;
	SETOPT(cc, p->curl, CURLOPT_UPLOAD, 1L);
	SETOPT(cc, p->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	SETOPT(cc, p->curl, CURLOPT_READFUNCTION, file_body_read);
	SETOPT(cc, p->curl, CURLOPT_READDATA, &x.file);
	SETOPT(cc, p->curl, CURLOPT_SEEKFUNCTION, file_body_seek);
	SETOPT(cc, p->curl, CURLOPT_SEEKDATA, &x.file);
	if (cc != CURLE_OK) {
		r = cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
		goto out;
	}
	r = osdf_perform(s, "PUT", key, &x, false);
out:
	osdf_hdrs_free(hdrs);
	return r;
}

static int osdf_get(struct storage *s, const char *key, int fd)
{
	struct osdf_xfer x = { .file = { .fd = -1 }, .out_fd = fd };
	struct curl_slist *hdrs = NULL;
	int r;

	r = osdf_prepare(s, key, &x, &hdrs);
	if (r < 0)
		goto out;
	r = osdf_perform(s, "GET", key, &x, true);
out:
	osdf_hdrs_free(hdrs);
	return r;
}

const struct storage_ops storage_osdf_ops = {
	.name = "osdf",
	.open = osdf_open,
	.close = osdf_close,
	.stat = osdf_stat,
	.put = osdf_put,
	.get = osdf_get,
};
