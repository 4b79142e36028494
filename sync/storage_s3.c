/* SPDX-License-Identifier: MIT */
/*
 * S3 storage backend: objects live at ENDPOINT/BUCKET/PREFIX/KEY
 * (path-style URLs), signed with libcurl's SigV4 (CURLOPT_AWS_SIGV4).
 *
 * libcurl 7.88 leaves parts of SigV4 to the caller, and strict servers
 * (Swift, Ceph RGW, AWS) check them; every request here therefore:
 *	- carries x-amz-content-sha256 with the hex SHA-256 of its body (the
 *	  empty-body hash for GET, HEAD and DELETE), which libcurl signs;
 *	- has its path encoded per RFC 3986 (uppercase hex, '/' kept), and
 *	  its query parameters sorted by name, encoded the same way, and
 *	  written "name=" when they have no value ("?uploads="): libcurl
 *	  signs the path and query as sent (http_encode(), and
 *	  http_url_join(), which keeps them byte for byte).
 * See doc/test-servers.md section 0.
 *
 * Objects below S3_MULTIPART_THRESHOLD go up in one PUT streamed from the
 * fd; larger ones as a multipart upload of S3_PART_SIZE parts, up to
 * `jobs` ([storage] in .cmfconfig) parts in flight at once.  Bodies are
 * never held in memory: each body is read twice from the fd with pread(),
 * once to hash it (sha256_fd_range(), 256 KiB at a time) and once while
 * curl sends it (a struct http_body, through curl's 256 KiB upload
 * buffer), so memory stays at about 0.5 MiB per part in flight, whatever
 * the object size.  S3 makes an object visible only once its PUT
 * or its CompleteMultipartUpload succeeded, which gives storage_put() its
 * all-or-nothing guarantee; a failed multipart upload is aborted so that
 * its parts do not linger.
 *
 * Parts in flight: a few threads, each with its own easy handle, rather
 * than one curl multi handle.  Each part must be hashed (SHA-256 of 16
 * MiB) before its request can be signed; with threads the hashing of one
 * part runs on another core while the others send, where a multi loop
 * would stall every transfer during each hash.  Threads also keep the one
 * blocking request path (s3_perform) for everything.  See
 * s3_put_multipart() for how they share the work and a failure.
 *
 * Objects are content-addressed (same key, same bytes): a large object is
 * first asked for with HEAD and not uploaded again when it is there; a
 * small one (below S3_HEAD_FROM) is simply PUT, one request instead of two,
 * since rewriting identical bytes under their own key changes nothing.
 *
 * One CURL easy handle per struct storage, reset and reused for every
 * request so that the connection is kept alive, and jobs - 1 more for the
 * part threads, kept likewise; a struct storage is used by one thread at a
 * time (storage.h), the part threads only inside its s3_put().  libcurl must have been initialized
 * (curl_global_init()) before threads start, or curl_easy_init() does it.
 *
 * Secrets (secret-key) are copied at open, handed only to libcurl, wiped at
 * close and never written to a message.
 */
#include "storage_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "curlerr.h"
#include "hash.h"
#include "http.h"
#include "sb.h"
#include "threads.h"

/* Objects of this size and more are looked for (HEAD) before an upload. */
#define S3_HEAD_FROM ((uint64_t)1 << 20)
/* Objects of this size and more go up as multipart uploads. */
#define S3_MULTIPART_THRESHOLD ((uint64_t)64 << 20)
/* Part size; raised (in whole MiB) when 10000 parts would not suffice. */
#define S3_PART_SIZE ((uint64_t)16 << 20)
#define S3_MAX_PARTS 10000U
#define S3_MAX_OBJECT_SIZE ((uint64_t)5 << 40)	/* S3's limit, 5 TiB */
/* Response bodies other than GET data (errors, XML) are kept up to this. */
#define S3_BODY_MAX ((size_t)64 << 10)
#define S3_ETAG_MAX 200
/* Longest S3 error Code or Message quoted in a message. */
#define S3_TEXT_MAX 200

#define S3_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3 {
	struct http_opts opts;	/* http,https; ca_file; stall-timeout */
	CURL *curl;		/* reused for every request */
	CURL **part_curl;	/* [jobs - 1] for the part threads; each NULL
				 * until first used, then reused */
	unsigned jobs;		/* parts of one upload in flight, >= 1 */
	char *bucket;		/* bucket name, raw (needs no encoding) */
	CURLU *endpoint;	/* endpoint-url, parsed */
	char *prefix;		/* "" or "dir/sub/" (raw, ends in '/') */
	char *sigv4;		/* "aws:amz:REGION:s3" */
	char *access_key;	/* may contain ':' (Swift's "test:tester") */
	char *secret_key;	/* wiped before it is freed */
	char *ca_file;		/* NULL: the system's CA bundle */
	char errbuf[CURL_ERROR_SIZE];	/* curl's detail for the last failure */
};

/* One HTTP exchange: what to send, and what came back. */
struct s3_xfer {
	/* in */
	const char *method;	/* GET HEAD PUT POST DELETE */
	const char *url;	/* borrowed, fully encoded */
	const char *sha256;	/* payload hash hex; NULL: empty body */
	const char *content_type;	/* NULL: none sent */
	const char *range;	/* CURLOPT_RANGE, or NULL */
	struct http_body *src;	/* body for PUT/POST, or NULL */
	int out_fd;		/* GET: where a 2xx body goes; -1: none */
	/* out */
	long status;		/* HTTP status of the final response */
	struct sb body;		/* non-2xx-GET body, up to S3_BODY_MAX */
	struct http_sink sink;	/* writes out_fd or body */
	char etag[S3_ETAG_MAX + 1];	/* ETag header, "" when absent */
	/* in: when not NULL, polled during the transfer; true stops it */
	bool (*cancelled)(void *ud);
	void *cancel_ud;
};

/* ------------------------------------------------------------------ */
/* Small helpers: XML, error mapping                                   */
/* ------------------------------------------------------------------ */

/*
 * Find the text of the first <@tag> element in @xml (NUL-terminated),
 * decode the five predefined XML entities, and store it in *@ret (owned).
 * Returns 0, -ENOENT if there is no such element, or -ENOMEM.  This is
 * not an XML parser: S3's answers are flat and we only need leaf values.
 */
static int xml_element_text(const char *xml, const char *tag, char **ret)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	const char *start, *end;
	size_t tlen = strlen(tag);
	struct sb sb;
	size_t i;

	start = xml;
	for (;;) {
		start = strchr(start, '<');
		if (!start)
			return -ENOENT;
		start++;
		if (!strncmp(start, tag, tlen) && start[tlen] == '>')
			break;
	}
	start += tlen + 1;
	end = strstr(start, "</");
	if (!end)
		return -ENOENT;

	sb_init(&sb, S3_BODY_MAX);
	while (start < end) {
		bool matched = false;

		if (*start == '&') {
			for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
				size_t n = strlen(ents[i].ent);

				if ((size_t)(end - start) >= n &&
				    !strncmp(start, ents[i].ent, n)) {
					sb_putc(&sb, ents[i].c);
					start += n;
					matched = true;
					break;
				}
			}
		}
		if (!matched)
			sb_putc(&sb, *start++);
	}
	*ret = sb_detach(&sb, NULL);
	return *ret ? 0 : -ENOMEM;
}

static bool status_transient(long st)
{
	return st == 429 || (st >= 500 && st <= 599);
}

static int http_status_to_errno(long st)
{
	if (st == 404)
		return -ENOENT;
	if (st == 401 || st == 403)
		return -EACCES;
	if (st == 408)
		return -ETIMEDOUT;
	if (status_transient(st))
		return -EAGAIN;
	return -EPROTO;
}

/*
 * Some S3 error codes say more than the status: RequestTimeout comes as
 * 400, and errors inside a 200 CompleteMultipartUpload answer have no
 * status of their own.
 */
static int code_to_errno(const char *code, int r)
{
	if (!code)
		return r;
	if (!strcmp(code, "RequestTimeout"))
		return -ETIMEDOUT;
	if (!strcmp(code, "SlowDown") || !strcmp(code, "InternalError") ||
	    !strcmp(code, "ServiceUnavailable"))
		return -EAGAIN;
	if (!strcmp(code, "AccessDenied") ||
	    !strcmp(code, "SignatureDoesNotMatch") ||
	    !strcmp(code, "InvalidAccessKeyId"))
		return -EACCES;
	return r;
}

/* Recognize a response header we keep (only ETag). */
static size_t header_cb(char *line, size_t size, size_t nmemb, void *ud)
{
	struct s3_xfer *x = ud;
	size_t n = size * nmemb, vlen;
	const char *v;

	/* a new status line (after "100 Continue") starts a new header set */
	if (n >= 5 && !strncmp(line, "HTTP/", 5)) {
		x->etag[0] = '\0';
		return n;
	}
	if (n < 5 || strncasecmp(line, "ETag:", 5))
		return n;
	v = line + 5;
	vlen = n - 5;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
			v[vlen - 1] == ' '))
		vlen--;
	if (vlen > S3_ETAG_MAX)
		vlen = 0;	/* not an ETag we could use; treat as absent */
	memcpy(x->etag, v, vlen);
	x->etag[vlen] = '\0';
	return n;
}

/* Stop the transfer (CURLE_ABORTED_BY_CALLBACK) once x->cancelled says so. */
static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct s3_xfer *x = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return x->cancelled(x->cancel_ud) ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static void xfer_init(struct s3_xfer *x, const char *method,
		      const char *url)
{
	memset(x, 0, sizeof(*x));
	x->method = method;
	x->url = url;
	x->out_fd = -1;
	sb_init(&x->body, S3_BODY_MAX);
}

static void xfer_release(struct s3_xfer *x)
{
	sb_release(&x->body);
}

/* Reset the handle and set up @x on it.  0, -ENOMEM or -EINVAL. */
static int s3_setopts(struct s3 *p, struct s3_xfer *x,
		      struct curl_slist *hdrs)
{
	CURL *c = p->curl;
	CURLcode cc = CURLE_OK;
	int r;

	r = http_reset(c, &p->opts, x->url, p->errbuf);
	if (r == 0)
		r = http_receive(c, &x->sink, x->out_fd, &x->body, 0);
	if (r < 0)
		return r;
	HTTP_SETOPT(cc, c, CURLOPT_AWS_SIGV4, p->sigv4);
	HTTP_SETOPT(cc, c, CURLOPT_USERNAME, p->access_key);
	HTTP_SETOPT(cc, c, CURLOPT_PASSWORD, p->secret_key);
	HTTP_SETOPT(cc, c, CURLOPT_HTTPHEADER, hdrs);
	HTTP_SETOPT(cc, c, CURLOPT_HEADERFUNCTION, header_cb);
	HTTP_SETOPT(cc, c, CURLOPT_HEADERDATA, x);
	if (x->range)
		HTTP_SETOPT(cc, c, CURLOPT_RANGE, x->range);
	if (x->cancelled) {
		HTTP_SETOPT(cc, c, CURLOPT_NOPROGRESS, 0L);
		HTTP_SETOPT(cc, c, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
		HTTP_SETOPT(cc, c, CURLOPT_XFERINFODATA, x);
	}
	if (!strcmp(x->method, "HEAD"))
		HTTP_SETOPT(cc, c, CURLOPT_NOBODY, 1L);
	else if (!strcmp(x->method, "DELETE"))
		HTTP_SETOPT(cc, c, CURLOPT_CUSTOMREQUEST, "DELETE");
	if (cc != CURLE_OK)
		return http_opt_errno(cc);
	if (!strcmp(x->method, "PUT"))
		return http_send(c, x->src);
	if (!strcmp(x->method, "POST"))
		return http_post(c, x->src);
	return 0;
}

/*
 * Perform @x on @s's handle.  @what (borrowed) names the object in
 * messages.  Returns 0 when an HTTP response arrived, whatever its status
 * (then in x->status), or -errno with a message for a transport or local
 * I/O failure.
 */
static int s3_perform(struct storage *s, struct s3_xfer *x, const char *what)
{
	struct s3 *p = s->priv;
	struct curl_slist *hdrs = NULL, *tmp;
	char line[128], why[160] = "";
	CURLcode cc;
	int r;

	x->status = 0;
	x->etag[0] = '\0';
	sb_reset(&x->body);

	(void)snprintf(line, sizeof(line), "x-amz-content-sha256: %s",
		       x->sha256 ? x->sha256 : S3_EMPTY_SHA256);
	hdrs = curl_slist_append(NULL, line);
	if (!hdrs)
		return storage_fail(s, -ENOMEM, "S3 %s %s: out of memory",
				    x->method, what);
	if (x->content_type) {
		(void)snprintf(line, sizeof(line), "Content-Type: %s",
			       x->content_type);
		tmp = curl_slist_append(hdrs, line);
		if (!tmp) {
			r = storage_fail(s, -ENOMEM, "S3 %s %s: out of memory",
					 x->method, what);
			goto out;
		}
		hdrs = tmp;
	}

	r = s3_setopts(p, x, hdrs);
	if (r < 0) {
		r = storage_fail(s, r, "S3 %s %s: cannot set up the request: %s",
				 x->method, what,
				 strerror_r(-r, why, sizeof(why)));
		goto out;
	}
	cc = curl_easy_perform(p->curl);
	if (cc != CURLE_OK) {
		r = http_local_error(x->src, &x->sink, why, sizeof(why));
		if (r == 0)
			r = curl_to_errno(p->curl, cc);
		r = storage_fail(s, r, "S3 %s %s: %s", x->method, what,
				 why[0] ? why : p->errbuf[0] ? p->errbuf :
				 curl_easy_strerror(cc));
		goto out;
	}
	cc = curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (cc != CURLE_OK || x->status < 100) {
		r = storage_fail(s, -EPROTO, "S3 %s %s: no HTTP status",
				 x->method, what);
		goto out;
	}
	r = 0;
out:
	/* the handle must not keep pointers to what we free */
	(void)curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return r;
}

/*
 * Record the failure of a request that answered @status with @body (an S3
 * error document, possibly empty) and return its -errno:
 *	"S3 PUT files/md5/ab/cd...: 403 SignatureDoesNotMatch (message)"
 * When @ret_code is not NULL it gets the error Code (owned), or NULL.
 */
static int s3_fail_status(struct storage *s, const char *method,
			  const char *what, long status, const char *body,
			  char **ret_code)
{
	char *code = NULL, *msg = NULL;
	int r;

	if (xml_element_text(body, "Code", &code) == 0)
		http_text_line(code, S3_TEXT_MAX);
	if (xml_element_text(body, "Message", &msg) == 0)
		http_text_line(msg, S3_TEXT_MAX);
	r = code_to_errno(code, http_status_to_errno(status));
	r = storage_fail(s, r, "S3 %s %s: %ld%s%s%s%s%s", method, what, status,
			 code ? " " : "", code ? code : "",
			 msg && *msg ? " (" : "", msg && *msg ? msg : "",
			 msg && *msg ? ")" : "");
	if (ret_code) {
		*ret_code = code;
		code = NULL;
	}
	free(code);
	free(msg);
	return r;
}

/*
 * The URL of the bucket, ENDPOINT/BUCKET, or with @key of the object,
 * ENDPOINT/BUCKET/PREFIXKEY with prefix and key percent-encoded as SigV4
 * signs them; @query (borrowed, already sorted and encoded) when not
 * NULL.  Owned (curl_free()), or NULL on ENOMEM.
 */
static char *s3_url(const struct s3 *p, const char *key, const char *query)
{
	char *url = NULL;
	struct sb path;

	sb_init(&path, 0);
	sb_puts(&path, p->bucket);	/* checked: needs no encoding */
	if (key) {
		sb_putc(&path, '/');
		http_encode(&path, p->prefix, true);
		http_encode(&path, key, true);
	}
	if (sb_err(&path) ||
	    http_url_join(p->endpoint, path.buf, query, &url) < 0)
		url = NULL;
	sb_release(&path);
	return url;
}

/*
 * HEAD responses carry no body, hence no S3 error Code.  When a HEAD is
 * refused with a 4xx other than 404, ask the same question with a GET
 * (one byte of the object, or the bucket's location) and report the Code
 * of that answer; it tells a wrong secret (SignatureDoesNotMatch) from a
 * wrong region (AuthorizationHeaderMalformed) or a policy (AccessDenied).
 * Returns the -errno for @head_status; *@ret_code as s3_fail_status().
 */
static int s3_head_diagnose(struct storage *s, const char *key,
			    const char *what, long head_status,
			    char **ret_code)
{
	struct s3 *p = s->priv;
	struct s3_xfer x;
	char *url;
	int r;

	url = s3_url(p, key, key ? NULL : "location=");
	if (!url)
		return storage_fail(s, http_status_to_errno(head_status),
				    "S3 HEAD %s: %ld", what, head_status);
	xfer_init(&x, "GET", url);
	if (key)
		x.range = "0-0";
	r = s3_perform(s, &x, what);
	/* a different answer (say 416 for an empty object) explains nothing */
	if (r < 0 || x.status != head_status || sb_err(&x.body))
		r = storage_fail(s, http_status_to_errno(head_status),
				 "S3 HEAD %s: %ld", what, head_status);
	else
		r = s3_fail_status(s, "HEAD", what, head_status, x.body.buf,
				   ret_code);
	xfer_release(&x);
	curl_free(url);
	return r;
}

/*
 * HEAD the object @key, or the bucket when @key is NULL; @what names it
 * in messages.  Returns 0 if it exists, -ENOENT if not, or another -errno,
 * with a message in every failure.  When @ret_code is not NULL it gets the
 * S3 error Code found for a failure (owned), or NULL.
 */
static int s3_head(struct storage *s, const char *key, const char *what,
		   char **ret_code)
{
	struct s3 *p = s->priv;
	struct s3_xfer x;
	char *url;
	int r;

	if (ret_code)
		*ret_code = NULL;
	url = s3_url(p, key, NULL);
	if (!url)
		return storage_fail(s, -ENOMEM, "S3 HEAD %s: out of memory",
				    what);
	xfer_init(&x, "HEAD", url);
	r = s3_perform(s, &x, what);
	if (r < 0)
		goto out;
	if (x.status >= 200 && x.status <= 299)
		r = 0;
	else if (x.status == 404)
		r = storage_fail(s, -ENOENT, "S3 HEAD %s: 404 not found",
				 what);
	else if (x.status >= 400 && x.status <= 499)
		r = s3_head_diagnose(s, key, what, x.status, ret_code);
	else
		r = s3_fail_status(s, "HEAD", what, x.status, "", NULL);
out:
	xfer_release(&x);
	curl_free(url);
	return r;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                      */
/* ------------------------------------------------------------------ */

static void s3_free(struct s3 *p)
{
	if (!p)
		return;
	if (p->curl)
		curl_easy_cleanup(p->curl);
	if (p->part_curl) {
		unsigned i;

		for (i = 0; i + 1 < p->jobs; i++)
			if (p->part_curl[i])
				curl_easy_cleanup(p->part_curl[i]);
		free(p->part_curl);
	}
	free(p->bucket);
	curl_url_cleanup(p->endpoint);
	free(p->prefix);
	free(p->sigv4);
	free(p->access_key);
	if (p->secret_key) {
		explicit_bzero(p->secret_key, strlen(p->secret_key));
		free(p->secret_key);
	}
	free(p->ca_file);
	free(p);
}

static bool bucket_name_ok(const char *b, size_t n)
{
	size_t i;

	if (n < 1 || n > 255)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (!http_unreserved(c) || c == '~')
			return false;
	}
	/* "." and "..": a URL path would lose them */
	return strspn(b, ".") < n;
}

/*
 * Split "s3://BUCKET[/PREFIX]" into p->bucket and p->prefix ("" or
 * "PREFIX/", without leading, trailing or doubled slashes).  The prefix
 * may not have "." or ".." segments: URL normalization would move them.
 * 0 or -EINVAL/-ENOMEM with a message.
 */
static int parse_storage_url(struct storage *s, struct s3 *p,
			     const char *url)
{
	const char *b, *slash, *seg;
	struct sb sb;
	size_t blen;

	if (!url || strncmp(url, "s3://", 5))
		return storage_fail(s, -EINVAL,
				    "S3: url must be s3://BUCKET[/PREFIX]");
	b = url + 5;
	slash = strchr(b, '/');
	blen = slash ? (size_t)(slash - b) : strlen(b);
	if (!bucket_name_ok(b, blen))
		return storage_fail(s, -EINVAL,
				    "S3: invalid bucket name in url '%s'", url);
	p->bucket = strndup(b, blen);
	if (!p->bucket)
		return storage_fail(s, -ENOMEM, "S3: out of memory");

	sb_init(&sb, 0);
	seg = slash;
	while (seg && *seg) {
		size_t n;

		while (*seg == '/')
			seg++;
		n = strcspn(seg, "/");
		if (!n)
			break;
		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.')) {
			sb_release(&sb);
			return storage_fail(s, -EINVAL,
					    "S3: '.' or '..' in the prefix of url '%s'",
					    url);
		}
		sb_append(&sb, seg, n);
		sb_putc(&sb, '/');
		seg += n;
	}
	p->prefix = sb_detach(&sb, NULL);
	if (!p->prefix)
		return storage_fail(s, -ENOMEM, "S3: out of memory");
	return 0;
}

/*
 * Parse @endpoint into p->endpoint: an http or https URL without
 * credentials, query or fragment; a path is kept.
 */
static int parse_endpoint(struct storage *s, struct s3 *p,
			  const char *endpoint)
{
	const char *why = "is not set";
	int r = -EINVAL;

	if (endpoint)
		r = http_url_parse(endpoint, "http,https",
				   HTTP_URL_NO_USER | HTTP_URL_NO_QUERY |
				   HTTP_URL_NO_FRAGMENT, &p->endpoint, &why);
	if (r == -ENOMEM)
		return storage_fail(s, r, "S3: out of memory");
	if (r < 0)
		return storage_fail(s, r,
				    "S3: endpoint-url '%s' %s: it must be http(s)://HOST[:PORT][/PATH], without user, query or spaces",
				    endpoint ? endpoint : "", why);
	return 0;
}

/*
 * Validate @cfg and set up s->priv; nothing is created remotely.  The
 * bucket is checked with one HEAD: open fails with -ENOENT if it does not
 * exist and with the server's -errno for refused credentials or a wrong
 * region.  It succeeds anyway when the server cannot be reached (the
 * operations will report that, and callers may open while offline) or
 * answers AccessDenied (a key limited to objects may not HEAD a bucket).
 */
static int s3_open(struct storage *s, const struct config *cfg)
{
	const char *region = cfg->region ? cfg->region : CONFIG_DEFAULT_REGION;
	char bwhat[300], *code = NULL;
	struct s3 *p;
	struct sb sb;
	int r;

	s->priv = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return storage_fail(s, -ENOMEM, "S3: out of memory");
	r = parse_storage_url(s, p, cfg->storage_url);
	if (r < 0)
		goto out;
	r = parse_endpoint(s, p, cfg->endpoint_url);
	if (r < 0)
		goto out;
	if (!cfg->access_key_id || !*cfg->access_key_id ||
	    !cfg->secret_key || !*cfg->secret_key) {
		r = storage_fail(s, -EINVAL,
				 "S3: access-key-id and secret-key must be set");
		goto out;
	}
	if (!*region || strpbrk(region, ": /\t\r\n")) {
		r = storage_fail(s, -EINVAL, "S3: invalid region '%s'",
				 region);
		goto out;
	}
	sb_init(&sb, 0);
	sb_appendf(&sb, "aws:amz:%s:s3", region);
	p->sigv4 = sb_detach(&sb, NULL);
	p->access_key = strdup(cfg->access_key_id);
	p->secret_key = strdup(cfg->secret_key);
	p->ca_file = cfg->ca_file && *cfg->ca_file ? strdup(cfg->ca_file) :
						    NULL;
	p->opts.protocols = "http,https";
	p->opts.ca_file = p->ca_file;
	p->opts.stall_s = (long)config_stall_timeout(cfg);
	p->curl = curl_easy_init();
	p->jobs = config_storage_jobs(cfg);
	if (p->jobs > 1)
		p->part_curl = calloc(p->jobs - 1, sizeof(*p->part_curl));
	if (!p->sigv4 || !p->access_key || !p->secret_key || !p->curl ||
	    (p->jobs > 1 && !p->part_curl) ||
	    (cfg->ca_file && *cfg->ca_file && !p->ca_file)) {
		r = storage_fail(s, -ENOMEM, "S3: out of memory");
		goto out;
	}

	s->priv = p;
	(void)snprintf(bwhat, sizeof(bwhat), "bucket '%s'", p->bucket);
	r = s3_head(s, NULL, bwhat, &code);
	if (r == -ENOENT) {
		r = storage_fail(s, -ENOENT,
				 "S3 bucket '%s' does not exist at %s",
				 p->bucket, cfg->endpoint_url);
	} else if (r < 0 && (storage_err_is_transient(r) ||
			     (code && !strcmp(code, "AccessDenied")))) {
		s->error[0] = '\0';
		r = 0;
	}
	if (r < 0)
		s->priv = NULL;
	else
		p = NULL;	/* owned by s now */
out:
	free(code);
	s3_free(p);
	return r;
}

static void s3_close(struct storage *s)
{
	s3_free(s->priv);
	s->priv = NULL;
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */
/* ------------------------------------------------------------------ */

static int s3_stat(struct storage *s, const char *key, uint64_t *ret_size)
{
	struct s3 *p = s->priv;
	int r = s3_head(s, key, key, NULL);

	if (r < 0 || !ret_size)
		return r;
	if (http_content_length(p->curl, ret_size) < 0)
		return storage_fail(s, -EPROTO,
				    "S3 HEAD %s: no Content-Length in the answer",
				    key);
	return 0;
}

/* One PUT of [0, @size) of @fd.  0 or -errno with a message. */
static int s3_put_single(struct storage *s, const char *key, int fd,
			 uint64_t size)
{
	struct s3 *p = s->priv;
	char sha[SHA256_HEX_LEN + 1], ebuf[128];
	struct http_body src;
	struct s3_xfer x;
	char *url;
	int r;

	http_body_fd(&src, fd, 0, size);
	r = sha256_fd_range(fd, 0, size, sha);
	if (r < 0)
		return storage_fail(s, r, "S3 PUT %s: reading the file: %s",
				    key, strerror_r(-r, ebuf, sizeof(ebuf)));
	url = s3_url(p, key, NULL);
	if (!url)
		return storage_fail(s, -ENOMEM, "S3 PUT %s: out of memory",
				    key);
	xfer_init(&x, "PUT", url);
	x.sha256 = sha;
	x.src = &src;
	r = s3_perform(s, &x, key);
	if (r == 0 && x.status != 200)
		r = s3_fail_status(s, "PUT", key, x.status, x.body.buf, NULL);
	xfer_release(&x);
	curl_free(url);
	return r;
}

/* "NAME=ENCODED(VALUE)" appended to @sb (no separator). */
static void sb_put_param(struct sb *sb, const char *name, const char *value)
{
	sb_puts(sb, name);
	sb_putc(sb, '=');
	http_encode(sb, value, false);
}

/* Abort a multipart upload, keeping the message of the failure. */
static void s3_multipart_abort(struct storage *s, const char *key,
			       const char *upload_id)
{
	struct s3 *p = s->priv;
	char saved[sizeof(s->error)];
	struct s3_xfer x;
	char *url = NULL;
	struct sb q;

	memcpy(saved, s->error, sizeof(saved));
	sb_init(&q, 0);
	sb_put_param(&q, "uploadId", upload_id);
	if (!sb_err(&q))
		url = s3_url(p, key, q.buf);
	if (url) {
		xfer_init(&x, "DELETE", url);
		/* best effort: a leftover upload only costs space */
		(void)s3_perform(s, &x, key);
		xfer_release(&x);
	}
	curl_free(url);
	sb_release(&q);
	memcpy(s->error, saved, sizeof(saved));
}

/* POST ?uploads=; the UploadId into *@ret_id (owned). */
static int s3_multipart_initiate(struct storage *s, const char *key,
				 char **ret_id)
{
	struct s3 *p = s->priv;
	struct http_body src;
	struct s3_xfer x;
	char *url, *id = NULL;
	int r;

	http_body_mem(&src, "", 0);
	url = s3_url(p, key, "uploads=");
	if (!url)
		return storage_fail(s, -ENOMEM, "S3 POST %s: out of memory",
				    key);
	xfer_init(&x, "POST", url);
	x.src = &src;
	/* the object's type is set here; without it curl sends a form type */
	x.content_type = "application/octet-stream";
	r = s3_perform(s, &x, key);
	if (r < 0)
		goto out;
	if (x.status != 200) {
		r = s3_fail_status(s, "POST", key, x.status, x.body.buf, NULL);
		goto out;
	}
	r = xml_element_text(x.body.buf, "UploadId", &id);
	if (r == -ENOMEM) {
		r = storage_fail(s, r, "S3 POST %s: out of memory", key);
		goto out;
	}
	if (r < 0 || !*id || strpbrk(id, "\r\n")) {
		r = storage_fail(s, -EPROTO,
				 "S3 POST %s?uploads: no UploadId in the answer",
				 key);
		goto out;
	}
	*ret_id = id;
	id = NULL;
	r = 0;
out:
	free(id);
	xfer_release(&x);
	curl_free(url);
	return r;
}

/*
 * PUT part @num (1-based) = [@off, @off + @len) of @fd; its ETag owned.
 * @cancelled (or NULL) is polled while the body is sent; see s3_xfer.
 */
static int s3_multipart_part(struct storage *s, const char *key,
			     const char *upload_id, unsigned num, int fd,
			     uint64_t off, uint64_t len,
			     bool (*cancelled)(void *ud), void *cancel_ud,
			     char **ret_etag)
{
	struct s3 *p = s->priv;
	char sha[SHA256_HEX_LEN + 1], ebuf[128], what[128];
	struct http_body src;
	struct s3_xfer x;
	char *url = NULL;
	struct sb q;
	int r;

	http_body_fd(&src, fd, off, len);
	(void)snprintf(what, sizeof(what), "%s (part %u)", key, num);
	r = sha256_fd_range(fd, off, len, sha);
	if (r < 0)
		return storage_fail(s, r, "S3 PUT %s: reading the file: %s",
				    what, strerror_r(-r, ebuf, sizeof(ebuf)));
	/* sorted by name: partNumber < uploadId */
	sb_init(&q, 0);
	sb_appendf(&q, "partNumber=%u&", num);
	sb_put_param(&q, "uploadId", upload_id);
	if (!sb_err(&q))
		url = s3_url(p, key, q.buf);
	sb_release(&q);
	if (!url)
		return storage_fail(s, -ENOMEM, "S3 PUT %s: out of memory",
				    key);
	xfer_init(&x, "PUT", url);
	x.sha256 = sha;
	x.src = &src;
	x.cancelled = cancelled;
	x.cancel_ud = cancel_ud;
	r = s3_perform(s, &x, what);
	if (r < 0)
		goto out;
	if (x.status != 200) {
		r = s3_fail_status(s, "PUT", what, x.status, x.body.buf, NULL);
		goto out;
	}
	if (!x.etag[0]) {
		r = storage_fail(s, -EPROTO, "S3 PUT %s: no ETag", what);
		goto out;
	}
	*ret_etag = strdup(x.etag);
	r = *ret_etag ? 0 : storage_fail(s, -ENOMEM,
					 "S3 PUT %s: out of memory", key);
out:
	xfer_release(&x);
	curl_free(url);
	return r;
}

/*
 * POST ?uploadId= with the part list.  S3 may answer 200 and still fail:
 * the status is sent early (with whitespace to keep the connection alive)
 * and an <Error> document follows, so the body decides.
 */
static int s3_multipart_complete(struct storage *s, const char *key,
				 const char *upload_id, char **etags,
				 unsigned n_parts)
{
	struct s3 *p = s->priv;
	char sha[SHA256_HEX_LEN + 1];
	struct http_body src;
	struct s3_xfer x;
	struct sb xml, q;
	char *url = NULL;
	unsigned i;
	int r;

	sb_init(&xml, 0);
	sb_init(&q, 0);
	sb_puts(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<CompleteMultipartUpload>");
	for (i = 0; i < n_parts; i++) {
		sb_appendf(&xml, "<Part><PartNumber>%u</PartNumber><ETag>",
			   i + 1);
		sb_put_xml(&xml, etags[i], SIZE_MAX);
		sb_puts(&xml, "</ETag></Part>");
	}
	sb_puts(&xml, "</CompleteMultipartUpload>");
	sb_put_param(&q, "uploadId", upload_id);
	if (!sb_err(&xml) && !sb_err(&q))
		url = s3_url(p, key, q.buf);
	if (!url) {
		r = storage_fail(s, -ENOMEM, "S3 POST %s: out of memory", key);
		goto out_free;
	}
	r = sha256_buf(xml.buf, xml.len, sha);
	if (r < 0) {
		r = storage_fail(s, r, "S3 POST %s: hashing failed", key);
		goto out_free;
	}
	http_body_mem(&src, xml.buf, xml.len);
	xfer_init(&x, "POST", url);
	x.sha256 = sha;
	x.src = &src;
	x.content_type = "application/xml";
	r = s3_perform(s, &x, key);
	if (r == 0 && (x.status != 200 || strstr(x.body.buf, "<Error>")))
		r = s3_fail_status(s, "POST", key,
				   x.status, x.body.buf, NULL);
	else if (r == 0 && !strstr(x.body.buf, "CompleteMultipartUploadResult"))
		r = storage_fail(s, -EPROTO,
				 "S3 POST %s?uploadId: unexpected answer", key);
	xfer_release(&x);
out_free:
	curl_free(url);
	sb_release(&q);
	sb_release(&xml);
	return r;
}

/*
 * The parts of one multipart upload, shared by the threads that send them.
 * Parts are handed out in order, so when part k is taken every part below
 * k has been taken too.  A failed part stops the handing out; the parts in
 * flight above the lowest failed one are cancelled (they cannot change the
 * outcome), those below it run to their end, and the failure reported is
 * that of the lowest-numbered part that failed: the same one whatever the
 * timing, and never a cancellation.
 */
struct s3_parts {
	/* set before the threads start, read-only while they run */
	const char *key;
	const char *upload_id;
	int fd;
	uint64_t size;
	uint64_t part;		/* part size; the last part may be shorter */
	unsigned n_parts;
	char **etags;		/* [n_parts]; slot i written only by the
				 * thread that took part i + 1 */
	pthread_mutex_t lock;
	unsigned next;		/* protected by lock: next part, 1-based */
	unsigned failed;	/* protected by lock: lowest failed part, 0 */
	int r;			/* protected by lock: its -errno */
	char error[sizeof(((struct storage *)0)->error)];	/* and its
				 * message; protected by lock */
};

/*
 * One sender.  Its struct storage and struct s3 are its own, so that
 * messages (s->error, p->errbuf) and the handle are never shared: the s3
 * is a shallow copy of the upload's, whose strings it borrows (they are
 * not written while the upload runs) and whose handle it replaces.
 */
struct s3_part_worker {
	struct s3_parts *parts;
	struct storage st;
	struct s3 s3;
	unsigned num;		/* the part being sent; read by cancelled */
	pthread_t thread;
};

static bool s3_part_cancelled(void *ud)
{
	struct s3_part_worker *w = ud;
	bool stop;

	pthread_mutex_lock(&w->parts->lock);
	stop = w->parts->failed && w->parts->failed < w->num;
	pthread_mutex_unlock(&w->parts->lock);
	return stop;
}

/* Send parts until none is left or one failed. */
static void *s3_part_worker_main(void *arg)
{
	struct s3_part_worker *w = arg;
	struct s3_parts *ps = w->parts;
	uint64_t off, len;
	char *etag;
	int r;

	for (;;) {
		pthread_mutex_lock(&ps->lock);
		if (ps->failed || ps->next > ps->n_parts) {
			pthread_mutex_unlock(&ps->lock);
			break;
		}
		w->num = ps->next++;
		pthread_mutex_unlock(&ps->lock);

		off = (uint64_t)(w->num - 1) * ps->part;
		len = ps->size - off < ps->part ? ps->size - off : ps->part;
		etag = NULL;
		r = s3_multipart_part(&w->st, ps->key, ps->upload_id, w->num,
				      ps->fd, off, len, s3_part_cancelled, w,
				      &etag);
		if (r == 0) {
			ps->etags[w->num - 1] = etag;
			continue;
		}
		pthread_mutex_lock(&ps->lock);
		if (!ps->failed || w->num < ps->failed) {
			ps->failed = w->num;
			ps->r = r;
			memcpy(ps->error, w->st.error, sizeof(ps->error));
		}
		pthread_mutex_unlock(&ps->lock);
	}
	return NULL;
}

/*
 * Send the parts with up to p->jobs senders: the calling thread and
 * jobs - 1 threads, each on its own handle of p->part_curl.  A thread
 * or a handle that cannot be had leaves fewer senders, not a failure.
 * Returns 0 with every etags[] set, or the lowest failed part's -errno
 * with its message in s->error.
 */
static int s3_send_parts(struct storage *s, struct s3_parts *ps)
{
	struct s3 *p = s->priv;
	struct s3_part_worker *w;
	unsigned n, i, started = 0;
	int r;

	n = p->jobs < ps->n_parts ? p->jobs : ps->n_parts;
	w = calloc(n, sizeof(*w));
	if (!w)
		return storage_fail(s, -ENOMEM, "S3 PUT %s: out of memory",
				    ps->key);
	for (i = 0; i < n; i++) {
		w[i].parts = ps;
		w[i].s3 = *p;
		w[i].st.ops = s->ops;
		w[i].st.priv = &w[i].s3;
	}
	for (i = 1; i < n; i++) {
		CURL **c = &p->part_curl[i - 1];

		if (!*c)
			*c = curl_easy_init();
		if (!*c)
			break;
		w[i].s3.curl = *c;
		if (thread_start(&w[i].thread, 0, s3_part_worker_main,
				 &w[i]) < 0)
			break;
		started++;
	}
	(void)s3_part_worker_main(&w[0]);
	for (i = 1; i <= started; i++)
		pthread_join(w[i].thread, NULL);
	free(w);

	r = ps->r;	/* the threads are joined: no lock needed */
	if (r < 0)
		memcpy(s->error, ps->error, sizeof(s->error));
	return r;
}

static int s3_put_multipart(struct storage *s, const char *key, int fd,
			    uint64_t size)
{
	const uint64_t mib = (uint64_t)1 << 20;
	struct s3_parts ps = { .key = key, .fd = fd, .size = size,
			       .part = S3_PART_SIZE, .next = 1 };
	char *upload_id = NULL;
	unsigned i;
	int r;

	if (size > S3_MAX_OBJECT_SIZE)
		return storage_fail(s, -EFBIG,
				    "S3 PUT %s: %llu bytes is too large for S3",
				    key, (unsigned long long)size);
	if ((size + ps.part - 1) / ps.part > S3_MAX_PARTS) {
		/* whole MiB, enough for S3_MAX_PARTS parts */
		ps.part = (size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
		ps.part = (ps.part + mib - 1) / mib * mib;
	}
	ps.n_parts = (unsigned)((size + ps.part - 1) / ps.part);
	ps.etags = calloc(ps.n_parts, sizeof(*ps.etags));
	if (!ps.etags)
		return storage_fail(s, -ENOMEM, "S3 PUT %s: out of memory",
				    key);
	r = pthread_mutex_init(&ps.lock, NULL);
	if (r) {
		free(ps.etags);
		return storage_fail(s, -r, "S3 PUT %s: cannot make a lock",
				    key);
	}

	r = s3_multipart_initiate(s, key, &upload_id);
	if (r < 0)
		goto out;
	ps.upload_id = upload_id;
	r = s3_send_parts(s, &ps);
	if (r < 0)
		goto out;
	r = s3_multipart_complete(s, key, upload_id, ps.etags, ps.n_parts);
out:
	if (r < 0 && upload_id)
		s3_multipart_abort(s, key, upload_id);
	for (i = 0; i < ps.n_parts; i++)
		free(ps.etags[i]);
	free(ps.etags);
	free(upload_id);
	pthread_mutex_destroy(&ps.lock);
	return r;
}

/*
 * Content-addressed: an object already under @key has these bytes, so
 * there is nothing to send.  A key allowed to write but not to list gets
 * 403 AccessDenied rather than 404 for an absent object (AWS does this);
 * uploading again is harmless, so that case uploads too.
 */
static int s3_put(struct storage *s, const char *key, int fd, uint64_t size)
{
	char *code = NULL;
	int r;

	if (size < S3_HEAD_FROM)
		return s3_put_single(s, key, fd, size);
	r = s3_head(s, key, key, &code);
	if (r == -EACCES && code && !strcmp(code, "AccessDenied"))
		r = -ENOENT;
	free(code);
	if (r == 0)
		return 0;
	if (r != -ENOENT)
		return r;
	if (size < S3_MULTIPART_THRESHOLD)
		return s3_put_single(s, key, fd, size);
	return s3_put_multipart(s, key, fd, size);
}

static int s3_get(struct storage *s, const char *key, int fd)
{
	struct s3 *p = s->priv;
	struct s3_xfer x;
	char *url;
	int r;

	url = s3_url(p, key, NULL);
	if (!url)
		return storage_fail(s, -ENOMEM, "S3 GET %s: out of memory",
				    key);
	xfer_init(&x, "GET", url);
	x.out_fd = fd;
	r = s3_perform(s, &x, key);
	if (r == 0 && x.status != 200)
		r = s3_fail_status(s, "GET", key, x.status, x.body.buf, NULL);
	xfer_release(&x);
	curl_free(url);
	return r;
}

const struct storage_ops storage_s3_ops = {
	.name = "s3",
	.open = s3_open,
	.close = s3_close,
	.stat = s3_stat,
	.put = s3_put,
	.get = s3_get,
};
