/* SPDX-License-Identifier: MIT */
/*
 * What every libcurl transfer in sync/ shares: the cmf-server client
 * (server.c) and the S3, OSDF and SSH (SFTP) storage backends set up
 * their easy handles, send request bodies, receive answers and build URLs
 * through this one layer; curlerr.h translates libcurl's result codes.
 *
 * A request starts with http_reset() on a handle that is reused for every
 * request of its client (connections stay open) and gets:
 *	- the protocols its client speaks (struct http_opts), for the URL and
 *	  for redirects; no client follows redirects (a 3xx is an answer the
 *	  caller reports: S3 and OSDF say where it pointed);
 *	- CURLOPT_NOSIGNAL (we run in threads), TCP keep-alive and 256 KiB
 *	  receive and send buffers;
 *	- HTTP_CONNECT_TIMEOUT to connect, and [sync] stall-timeout seconds
 *	  below 1 byte/s before the transfer fails with -ETIMEDOUT (README:
 *	  "without progress"); no total timeout, since objects may be large;
 *	- the configured CA file, else the system's CAs; peer and host name
 *	  are always verified;
 *	- curl's detail for a failure in the caller's error buffer;
 *	- "User-Agent: cmffs/VERSION" (HTTP only).
 * Proxies come from libcurl's environment variables (https_proxy,
 * no_proxy, ...), as for upstream CMF's Python clients.
 *
 * A struct http_body is the one upload body (PUT, POST, an SFTP upload or
 * a multipart form part), a struct http_sink the one place a response
 * body goes; both record a local failure that http_local_error() reports
 * after curl returns, before anything curl says.
 *
 * URLs are parsed and built with curl's URL API (http_url_parse(),
 * http_url_join()); paths and query values are percent-encoded by
 * http_encode() as RFC 3986 and S3's SigV4 want them.
 *
 * Nothing here keeps state between calls; a handle, body or sink is used
 * by one thread at a time.
 */
#ifndef CMFFS_HTTP_H
#define CMFFS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "sb.h"

#define HTTP_CONNECT_TIMEOUT 10L	/* seconds, TCP (+ TLS or SSH) */

/* What every request of one client shares; the strings are borrowed. */
struct http_opts {
	const char *protocols;	/* CURLOPT_PROTOCOLS_STR: "http,https",
				 * "https" or "sftp" */
	const char *ca_file;	/* NULL: the system's CAs */
	long stall_s;		/* [sync] stall-timeout, seconds */
};

/* Set a curl option unless an earlier one failed: the first error sticks. */
#define HTTP_SETOPT(cc, h, opt, val)                                    \
	do {                                                            \
		if ((cc) == CURLE_OK)                                   \
			(cc) = curl_easy_setopt((h), (opt), (val));     \
	} while (0)

/*
 * 0 for CURLE_OK, else the -errno of an option or a part libcurl refused:
 * -ENOMEM when it ran out of memory, else -EINVAL.
 */
int http_opt_errno(CURLcode cc);

/*
 * Reset @curl (its connections stay open) and set what every request
 * needs (above), @url (borrowed; curl copies it) and @errbuf
 * (CURL_ERROR_SIZE bytes, emptied here; curl writes its detail of a
 * failure there until the next reset).  Returns 0, -ENOMEM, or -EINVAL
 * when libcurl refuses an option (a libcurl built without the protocol).
 */
int http_reset(CURL *curl, const struct http_opts *o, const char *url,
	       char *errbuf);

/* ------------------------------------------------------------------ */
/* Request bodies                                                      */
/* ------------------------------------------------------------------ */

/*
 * A request body: @len bytes of a file, read with pread() from @off on
 * (the fd's offset is not used), or @len bytes of memory.  curl pulls it
 * through http_body_read() and rewinds it through http_body_seek() when it
 * must send it again (a resend on a fresh connection, a redirect or an
 * authentication round).  A file that ends before @len bytes or fails to
 * read aborts the transfer, so that the body is never sent short; err then
 * holds -EIO with ended set (pos says after how many bytes) or pread()'s
 * -errno.  Fields may be read; set them only with the functions below.
 */
struct http_body {
	int fd;			/* the file, or -1: mem */
	const char *mem;	/* when fd < 0; borrowed */
	uint64_t off;		/* file offset of the body's first byte */
	uint64_t len;		/* body length */
	uint64_t pos;		/* bytes handed to curl so far */
	int err;		/* 0, or the -errno that aborted the body */
	bool ended;		/* the file ended before len bytes */
};

/* A body of bytes [@off, @off + @len) of @fd (borrowed). */
void http_body_fd(struct http_body *b, int fd, uint64_t off, uint64_t len);
/* A body of the @len bytes at @p (borrowed; NULL only with @len 0). */
void http_body_mem(struct http_body *b, const void *p, size_t len);

/* CURLOPT_READFUNCTION and CURLOPT_SEEKFUNCTION for a struct http_body. */
size_t http_body_read(char *buf, size_t size, size_t nitems, void *body);
int http_body_seek(void *body, curl_off_t offset, int origin);

/*
 * Make @b (borrowed until the transfer ends) the body of the next request
 * on @curl, from its first byte: as an upload (HTTP PUT, SFTP upload) or
 * as a POST body.  Returns 0, -EFBIG for more than INT64_MAX bytes,
 * -ENOMEM or -EINVAL (libcurl refused).
 */
int http_send(CURL *curl, struct http_body *b);
int http_post(CURL *curl, struct http_body *b);
/* The same for the data of a multipart form part. */
int http_mime_body(curl_mimepart *part, struct http_body *b);

/* ------------------------------------------------------------------ */
/* Response bodies                                                     */
/* ------------------------------------------------------------------ */

/*
 * Where a response body goes.  With an fd, the bytes of a 2xx answer (of
 * any answer, with HTTP_SINK_ANY_STATUS: SFTP has no status) are written
 * there with pwrite() from offset 0 on; anything else (an error document,
 * or every answer without an fd) is appended to keep, up to its max:
 * beyond that the rest is dropped, or, with HTTP_SINK_WHOLE, the transfer
 * fails with -EFBIG.  A failed write aborts the transfer with its -errno
 * in err.  Fields may be read; set them only with http_receive().
 */
struct http_sink {
	CURL *curl;		/* whose status decides */
	int fd;			/* -1: none */
	struct sb *keep;	/* NULL: drop what is not written to fd;
				 * borrowed */
	unsigned flags;		/* enum http_sink_flags */
	uint64_t written;	/* bytes written to fd */
	int err;		/* 0, or the -errno that aborted the answer */
};

enum http_sink_flags {
	HTTP_SINK_ANY_STATUS = 1 << 0,	/* every answer's bytes go to fd */
	HTTP_SINK_WHOLE = 1 << 1,	/* more than keep holds: -EFBIG */
};

/*
 * Make @k the sink of the next request on @curl (CURLOPT_WRITEFUNCTION
 * and CURLOPT_WRITEDATA): @fd (-1: none) and @keep (may be NULL) are
 * borrowed until the transfer ends.  Returns 0, -ENOMEM or -EINVAL.
 */
int http_receive(CURL *curl, struct http_sink *k, int fd, struct sb *keep,
		 unsigned flags);
size_t http_sink_write(char *p, size_t size, size_t nmemb, void *sink);

/*
 * After curl returns: the -errno of a local failure of @body or @sink
 * (either may be NULL), with one line in @why ("the data ended after N of
 * M bytes", "cannot read the data: ...", "cannot write the download: ...",
 * "the answer is larger than N bytes"), or 0 when there was none and
 * curl's result decides.
 */
int http_local_error(const struct http_body *body,
		     const struct http_sink *sink, char *why, size_t why_len);

/*
 * The size of the last answer on @curl as it announced it (a HEAD's
 * Content-Length: the object's size; for SFTP, the file's once a download
 * began) into *ret_size.  0, or -EPROTO when it announced none.
 */
int http_content_length(CURL *curl, uint64_t *ret_size);

/*
 * Make server-supplied text safe for a one-line message, in place: cut at
 * @max bytes, control characters replaced by spaces.
 */
void http_text_line(char *s, size_t max);

/* ------------------------------------------------------------------ */
/* URLs                                                                */
/* ------------------------------------------------------------------ */

enum http_url_flags {
	HTTP_URL_NO_USER = 1 << 0,	/* refuse a user (and a password) */
	HTTP_URL_NO_PASSWORD = 1 << 1,	/* refuse a password */
	HTTP_URL_NO_QUERY = 1 << 2,	/* refuse a query */
	HTTP_URL_NO_FRAGMENT = 1 << 3,	/* refuse a fragment */
};

/*
 * Parse @url (borrowed) with curl's URL API into *ret (owned:
 * curl_url_cleanup()).  Its scheme must be one of @schemes
 * (comma-separated, lowercase; "ssh" too, which curl does not speak), it
 * must name a host, and it may not have what @flags refuse.  Returns 0,
 * -ENOMEM, or -EINVAL with *ret_why set to a static phrase for a message
 * ("has a password", "is not an https:// URL", ...).
 */
int http_url_parse(const char *url, const char *schemes, unsigned flags,
		   CURLU **ret, const char **ret_why);

/*
 * The URL of @base (borrowed; its query and fragment dropped) with @path
 * appended to its path after one '/' (slashes where they meet are
 * folded), and with @query as its query when not NULL.  @path and @query
 * are percent-encoded already (http_encode()) and kept byte for byte:
 * the whole URL goes through curl's URL parser as text, because curl
 * 7.88 lowercases %XX in a path or query set on their own, and SigV4
 * signs the path as sent, with uppercase hex.  *ret_url is owned
 * (curl_free()).  Returns 0, -ENOMEM, or -EINVAL for what curl refuses.
 */
int http_url_join(CURLU *base, const char *path, const char *query,
		  char **ret_url);

/*
 * Append @s to @sb percent-encoded as RFC 3986 and SigV4 want it: letters,
 * digits and "-._~" as they are, '/' as it is when @keep_slash (a path),
 * every other byte as %XX with uppercase hex.
 */
void http_encode(struct sb *sb, const char *s, bool keep_slash);

/* True for the bytes http_encode() keeps: letters, digits and "-._~". */
bool http_unreserved(unsigned char c);

#endif
