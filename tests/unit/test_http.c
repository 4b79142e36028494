/* SPDX-License-Identifier: MIT */
/*
 * sync/http.c, the layer every libcurl transfer goes through, and the
 * cmf-server client on top of it: the upload body (file ranges, memory,
 * short files, read errors, rewinds), the response sink, URL parsing,
 * joining and encoding, and core/hash.c's SHA-256.  Real transfers go to
 * a small HTTP/1.1 server on 127.0.0.1 run by this program in a thread
 * (one request per connection), which records what it received.
 */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hash.h"
#include "server.h"

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define REQ_MAX 8
#define BODY_MAX (1 << 20)

static char tmp_dir[] = "/tmp/cmffs-test-http.XXXXXX";

/* ---- a small HTTP server ------------------------------------------ */

struct request {
	char method[16];
	char target[512];	/* path and query, as sent */
	char head[2048];	/* the request line and headers, cut */
	char *body;		/* what arrived (malloc) */
	size_t len;		/* bytes of it */
	size_t announced;	/* Content-Length */
};

/* How the server answers: by the request's path. */
enum answer {
	ANSWER_OK,		/* 200 {"message": "ok"} */
	ANSWER_REDIRECT,	/* 307 to /after-redirect, once */
	ANSWER_NOT_FOUND,	/* 404 with a text body */
	ANSWER_BIG,		/* 200 with 5000 bytes of 'x' */
};

static struct {
	int listen_fd;
	int port;
	pthread_t thread;
	pthread_mutex_t lock;
	struct request req[REQ_MAX];	/* protected by lock */
	unsigned n_req;			/* protected by lock */
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

static enum answer answer_for(const char *target)
{
	if (strstr(target, "/redirect"))
		return ANSWER_REDIRECT;
	if (strstr(target, "/missing"))
		return ANSWER_NOT_FOUND;
	if (strstr(target, "/big"))
		return ANSWER_BIG;
	return ANSWER_OK;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void answer(int fd, enum answer a)
{
	static char big[5000];
	char head[256];
	const char *body = "{\"message\": \"ok\"}";
	int status = 200;
	size_t len;

	if (a == ANSWER_REDIRECT) {
		body = "HTTP/1.1 307 Temporary Redirect\r\n"
		       "Location: /after-redirect\r\n"
		       "Content-Length: 0\r\nConnection: close\r\n\r\n";
		send_all(fd, body, strlen(body));
		return;
	}
	if (a == ANSWER_NOT_FOUND) {
		status = 404;
		body = "no such thing";
	}
	len = strlen(body);
	if (a == ANSWER_BIG) {
		memset(big, 'x', sizeof(big));
		body = big;
		len = sizeof(big);
	}
	(void)snprintf(head, sizeof(head),
		       "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
		       "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		       status, len);
	send_all(fd, head, strlen(head));
	send_all(fd, body, len);
}

/* Read one request from @fd into @r; false if the peer gave up early. */
static bool read_request(int fd, struct request *r)
{
	char *buf = malloc(BODY_MAX + 8192), *end, *h;
	size_t got = 0, head_len;
	ssize_t n;

	if (!buf)
		return false;
	for (;;) {
		n = read(fd, buf + got, 8192 - 1 - got);
		if (n <= 0) {
			free(buf);
			return false;
		}
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
	}
	head_len = (size_t)(end + 4 - buf);
	*end = '\0';
	(void)sscanf(buf, "%15s %511s", r->method, r->target);
	(void)snprintf(r->head, sizeof(r->head), "%s", buf);
	for (h = strstr(buf, "\r\n"); h; h = strstr(h + 2, "\r\n")) {
		if (!strncasecmp(h + 2, "Content-Length:", 15))
			r->announced = strtoul(h + 17, NULL, 10);
		if (!strncasecmp(h + 2, "Expect: 100-continue", 20))
			send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	memmove(buf, buf + head_len, got - head_len);
	got -= head_len;
	while (got < r->announced && got < BODY_MAX) {
		n = read(fd, buf + got, BODY_MAX - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	r->body = buf;
	r->len = got;
	return got == r->announced;
}

static void *server_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct request r = { .len = 0 };
		int fd = accept(srv.listen_fd, NULL, NULL);
		bool whole;

		if (fd < 0)
			break;
		whole = read_request(fd, &r);
		pthread_mutex_lock(&srv.lock);
		if (srv.n_req < REQ_MAX)
			srv.req[srv.n_req++] = r;
		else
			free(r.body);
		pthread_mutex_unlock(&srv.lock);
		if (whole)
			answer(fd, answer_for(r.target));
		close(fd);
	}
	return NULL;
}

static void server_forget(void)
{
	unsigned i;

	pthread_mutex_lock(&srv.lock);
	for (i = 0; i < srv.n_req; i++)
		free(srv.req[i].body);
	memset(srv.req, 0, sizeof(srv.req));
	srv.n_req = 0;
	pthread_mutex_unlock(&srv.lock);
}

static unsigned n_received(void)
{
	unsigned n;

	pthread_mutex_lock(&srv.lock);
	n = srv.n_req;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

/*
 * The @i-th request received since server_forget().  A request is
 * recorded before it is answered; one that curl gave up on, when the
 * server has read to its end: wait for it (10 s at most).
 */
static struct request *received(unsigned i)
{
	int tries;

	for (tries = 0; tries < 1000 && i >= n_received(); tries++)
		usleep(10000);
	assert_true(i < n_received());
	return &srv.req[i];	/* written before n_req counted it */
}

static void url_of(char *buf, size_t n, const char *path)
{
	(void)snprintf(buf, n, "http://127.0.0.1:%d%s", srv.port, path);
}

/* ---- helpers ------------------------------------------------------ */

/* An unlinked file holding @n bytes: byte i is (i * 7 + 3) & 0xff. */
static int data_file(size_t n, unsigned char **ret_bytes)
{
	unsigned char *b = malloc(n ? n : 1);
	size_t i;
	int fd;

	assert_non_null(b);
	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(i * 7 + 3);
	fd = open(tmp_dir, O_TMPFILE | O_RDWR, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, b, n, 0), (ssize_t)n);
	if (ret_bytes)
		*ret_bytes = b;
	else
		free(b);
	return fd;
}

static const struct http_opts test_opts = {
	.protocols = "http", .ca_file = NULL, .stall_s = 10,
};

/* A handle set up by http_reset() for @path on the test server. */
static CURL *handle_for(const char *path, char *errbuf)
{
	CURL *c = curl_easy_init();
	char url[256];

	assert_non_null(c);
	url_of(url, sizeof(url), path);
	assert_int_equal(http_reset(c, &test_opts, url, errbuf), 0);
	return c;
}

/* ---- the upload body, without curl -------------------------------- */

static void test_body_file_range(void **state)
{
	unsigned char *bytes, buf[64];
	struct http_body b;
	size_t n, got = 0;
	char why[160];
	int fd = data_file(100, &bytes);

	(void)state;
	/* bytes [10, 50), handed out in pieces of at most 16 */
	http_body_fd(&b, fd, 10, 40);
	while ((n = http_body_read((char *)buf + got, 1, 16, &b)) > 0) {
		assert_true(n <= 16);
		got += n;
	}
	assert_int_equal(got, 40);
	assert_memory_equal(buf, bytes + 10, 40);
	assert_int_equal(b.err, 0);
	assert_int_equal(http_local_error(&b, NULL, why, sizeof(why)), 0);

	/* rewound to 30, the rest comes again */
	assert_int_equal(http_body_seek(&b, 30, SEEK_SET), CURL_SEEKFUNC_OK);
	assert_int_equal(http_body_read((char *)buf, 1, sizeof(buf), &b), 10);
	assert_memory_equal(buf, bytes + 40, 10);
	/* only absolute positions inside the body */
	assert_int_equal(http_body_seek(&b, 41, SEEK_SET),
			 CURL_SEEKFUNC_CANTSEEK);
	assert_int_equal(http_body_seek(&b, -1, SEEK_SET),
			 CURL_SEEKFUNC_CANTSEEK);
	assert_int_equal(http_body_seek(&b, 0, SEEK_CUR),
			 CURL_SEEKFUNC_CANTSEEK);
	free(bytes);
	close(fd);
}

static void test_body_memory(void **state)
{
	struct http_body b;
	char buf[8];

	(void)state;
	http_body_mem(&b, "hello world", 11);
	assert_int_equal(http_body_read(buf, 1, 5, &b), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(http_body_read(buf, 1, 8, &b), 6);
	assert_memory_equal(buf, " world", 6);
	assert_int_equal(http_body_read(buf, 1, 8, &b), 0);
	assert_int_equal(http_body_seek(&b, 6, SEEK_SET), CURL_SEEKFUNC_OK);
	assert_int_equal(http_body_read(buf, 1, 8, &b), 5);
	assert_memory_equal(buf, "world", 5);
}

/* A file shorter than the body: the read aborts, -EIO, and says where. */
static void test_body_short_file(void **state)
{
	struct http_body b;
	char buf[256], why[160];
	int fd = data_file(100, NULL);

	(void)state;
	http_body_fd(&b, fd, 0, 200);
	assert_int_equal(http_body_read(buf, 1, sizeof(buf), &b), 100);
	assert_int_equal(http_body_read(buf, 1, sizeof(buf), &b),
			 CURL_READFUNC_ABORT);
	assert_int_equal(http_local_error(&b, NULL, why, sizeof(why)), -EIO);
	assert_string_equal(why, "the data ended after 100 of 200 bytes");
	close(fd);
}

/* A read that fails: its errno, not a made-up one. */
static void test_body_read_error(void **state)
{
	char path[sizeof(tmp_dir) + 8], buf[16], why[160];
	struct http_body b;
	int fd;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/wo", tmp_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	http_body_fd(&b, fd, 0, 10);	/* not readable: EBADF */
	assert_int_equal(http_body_read(buf, 1, sizeof(buf), &b),
			 CURL_READFUNC_ABORT);
	assert_int_equal(http_local_error(&b, NULL, why, sizeof(why)),
			 -EBADF);
	assert_non_null(strstr(why, "cannot read the data: "));
	close(fd);
	(void)unlink(path);
}

/* ---- the upload body through curl --------------------------------- */

/* PUT of a file range: the server gets exactly those bytes. */
static void test_send_range(void **state)
{
	char errbuf[CURL_ERROR_SIZE], why[160];
	unsigned char *bytes;
	struct http_body b;
	struct http_sink k;
	struct request *r;
	struct sb keep;
	int fd = data_file(300000, &bytes);
	CURL *c;

	(void)state;
	server_forget();
	sb_init(&keep, 1000);
	c = handle_for("/put", errbuf);
	http_body_fd(&b, fd, 1000, 250000);
	assert_int_equal(http_send(c, &b), 0);
	assert_int_equal(http_receive(c, &k, -1, &keep, 0), 0);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	assert_int_equal(http_local_error(&b, &k, why, sizeof(why)), 0);
	r = received(0);
	assert_string_equal(r->method, "PUT");
	assert_non_null(strstr(r->head, "\r\nUser-Agent: cmffs/"));
	assert_int_equal(r->len, 250000);
	assert_memory_equal(r->body, bytes + 1000, 250000);
	assert_string_equal(keep.buf, "{\"message\": \"ok\"}");
	sb_release(&keep);
	curl_easy_cleanup(c);
	free(bytes);
	close(fd);
}

/*
 * A 307 redirect makes curl send the body again from its start: the seek
 * callback rewinds it (without one curl fails with CURLE_SEND_FAIL_REWIND),
 * and the second request carries the same bytes.  Our clients do not
 * follow redirects; authentication rounds and resends on a fresh
 * connection rewind the same way.
 */
static void test_send_rewinds(void **state)
{
	char errbuf[CURL_ERROR_SIZE];
	unsigned char *bytes;
	struct http_body b;
	struct http_sink k;
	struct request *r0, *r1;
	int fd = data_file(70000, &bytes);
	CURL *c;

	(void)state;
	server_forget();
	c = handle_for("/redirect", errbuf);
	assert_int_equal(curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L),
			 CURLE_OK);
	http_body_fd(&b, fd, 0, 70000);
	assert_int_equal(http_post(c, &b), 0);
	assert_int_equal(http_receive(c, &k, -1, NULL, 0), 0);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	assert_int_equal(b.err, 0);
	assert_int_equal(n_received(), 2);
	r0 = received(0);
	r1 = received(1);
	assert_string_equal(r1->target, "/after-redirect");
	assert_string_equal(r1->method, "POST");
	assert_int_equal(r0->len, 70000);
	assert_int_equal(r1->len, 70000);
	assert_memory_equal(r0->body, bytes, 70000);
	assert_memory_equal(r1->body, bytes, 70000);
	curl_easy_cleanup(c);
	free(bytes);
	close(fd);
}

/* A file that ends early: the transfer stops, never a short body. */
static void test_send_short_file(void **state)
{
	char errbuf[CURL_ERROR_SIZE], why[160];
	struct http_body b;
	struct request *r;
	int fd = data_file(5000, NULL);
	CURL *c;

	(void)state;
	server_forget();
	c = handle_for("/put", errbuf);
	http_body_fd(&b, fd, 0, 9000);
	assert_int_equal(http_send(c, &b), 0);
	assert_int_equal(curl_easy_perform(c), CURLE_ABORTED_BY_CALLBACK);
	assert_int_equal(http_local_error(&b, NULL, why, sizeof(why)), -EIO);
	assert_string_equal(why, "the data ended after 5000 of 9000 bytes");
	r = received(0);
	assert_int_equal(r->announced, 9000);
	assert_true(r->len < 9000);
	curl_easy_cleanup(c);
	close(fd);
}

/* ---- the response sink -------------------------------------------- */

/* A 2xx answer goes to the fd, anything else to keep only. */
static void test_sink(void **state)
{
	char errbuf[CURL_ERROR_SIZE], why[160], buf[64];
	struct http_sink k;
	struct sb keep;
	int fd = data_file(0, NULL);
	CURL *c;

	(void)state;
	sb_init(&keep, 1000);
	c = handle_for("/get", errbuf);
	assert_int_equal(http_receive(c, &k, fd, &keep, 0), 0);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	assert_int_equal(k.written, 17);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 17);
	assert_memory_equal(buf, "{\"message\": \"ok\"}", 17);
	assert_string_equal(keep.buf, "");
	curl_easy_cleanup(c);

	c = handle_for("/missing", errbuf);
	assert_int_equal(http_receive(c, &k, fd, &keep, 0), 0);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	assert_int_equal(k.written, 0);
	assert_string_equal(keep.buf, "no such thing");
	assert_int_equal(http_local_error(NULL, &k, why, sizeof(why)), 0);
	curl_easy_cleanup(c);
	sb_release(&keep);

	/* 5000 bytes into a keep of 100: cut, or refused when whole */
	sb_init(&keep, 100);
	c = handle_for("/big", errbuf);
	assert_int_equal(http_receive(c, &k, -1, &keep, 0), 0);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	assert_int_equal(keep.len, 100);
	sb_reset(&keep);
	assert_int_equal(http_receive(c, &k, -1, &keep, HTTP_SINK_WHOLE), 0);
	assert_int_equal(curl_easy_perform(c), CURLE_WRITE_ERROR);
	assert_int_equal(http_local_error(NULL, &k, why, sizeof(why)), -EFBIG);
	assert_string_equal(why, "the answer is larger than 100 bytes");
	curl_easy_cleanup(c);
	sb_release(&keep);
	close(fd);
}

/* ---- the cmf-server client's uploads ------------------------------- */

static struct server *open_server(void)
{
	struct server *s = NULL;
	char url[256];

	url_of(url, sizeof(url), "/");
	assert_int_equal(server_open(url, NULL, 10, &s, NULL), 0);
	return s;
}

/* The tensorboard route's query is encoded; the body is the file's. */
static void test_server_upload(void **state)
{
	unsigned char *bytes;
	struct server *s = open_server();
	struct request *r;
	int fd = data_file(3000, &bytes);

	(void)state;
	server_forget();
	assert_int_equal(server_upload(s, "tensorboard", "my pipe/+x", "run1/ev",
				       fd, 3000), 0);
	r = received(0);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->target,
			    "/api/tensorboard?pipeline_name=my%20pipe%2F%2Bx");
	assert_non_null(memmem(r->body, r->len, bytes, 3000));
	assert_non_null(memmem(r->body, r->len, "filename=\"run1/ev\"", 17));
	server_close(s);
	free(bytes);
	close(fd);
}

/* A redirect is an answer, not followed: one request, -EPROTO. */
static void test_server_no_redirect(void **state)
{
	struct server *s = open_server();
	int fd = data_file(10, NULL);

	(void)state;
	server_forget();
	assert_int_equal(server_upload(s, "redirect", NULL, "f", fd, 10),
			 -EPROTO);
	assert_non_null(strstr(server_error(s), "307"));
	assert_int_equal(n_received(), 1);
	server_close(s);
	close(fd);
}

/*
 * A file shorter than its size, or one that cannot be read: the upload
 * fails with -EIO or the read's errno and says so.  (The client used to
 * end the body early at the end of the file, which left the server
 * waiting for the rest until stall-timeout, and turned a read error into
 * -EPROTO "aborted by an application callback".)
 */
static void test_server_upload_bad_file(void **state)
{
	char path[sizeof(tmp_dir) + 8];
	struct server *s = open_server();
	int fd = data_file(100, NULL);

	(void)state;
	server_forget();
	assert_int_equal(server_upload(s, "label", NULL, "l.csv", fd, 200),
			 -EIO);
	assert_non_null(strstr(server_error(s),
			       "the data ended after 100 of 200 bytes"));
	close(fd);
	(void)snprintf(path, sizeof(path), "%s/wo", tmp_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	assert_int_equal(server_upload(s, "label", NULL, "l.csv", fd, 10),
			 -EBADF);
	assert_non_null(strstr(server_error(s), "cannot read the data"));
	/* the first was cut short: the server saw less than announced */
	assert_true(received(0)->len < received(0)->announced);
	(void)received(1);	/* seen: it cannot land in the next test */
	close(fd);
	(void)unlink(path);
	server_close(s);
}

static void test_server_bad_url(void **state)
{
	struct server *s = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(server_open("ftp://h/", NULL, 0, &s, &err), -EINVAL);
	assert_non_null(err);
	assert_non_null(strstr(err, "'ftp://h'"));
	free(err);
	assert_int_equal(server_open("http://u:secret@h:1/x?q=1", NULL, 0, &s,
				     &err), -EINVAL);
	assert_non_null(strstr(err, "has a query"));
	assert_null(strstr(err, "secret"));
	free(err);
	assert_null(s);
}

/* ---- URLs --------------------------------------------------------- */

static void check_encode(const char *in, bool keep_slash, const char *want)
{
	struct sb sb;

	sb_init(&sb, 0);
	http_encode(&sb, in, keep_slash);
	assert_int_equal(sb_err(&sb), 0);
	assert_string_equal(sb.buf, want);
	sb_release(&sb);
}

static void test_encode(void **state)
{
	(void)state;
	check_encode("files/md5/ab/cd", true, "files/md5/ab/cd");
	check_encode("a b+/~\xc3\xa9%41-._", true,
		     "a%20b%2B/~%C3%A9%2541-._");
	check_encode("a/b=c&d", false, "a%2Fb%3Dc%26d");
	check_encode("", false, "");
}

static void check_join(const char *base, const char *path, const char *query,
		       const char *want)
{
	const char *why = NULL;
	char *url = NULL;
	CURLU *u = NULL;

	assert_int_equal(http_url_parse(base, "http,https,sftp", 0, &u, &why),
			 0);
	assert_int_equal(http_url_join(u, path, query, &url), 0);
	assert_string_equal(url, want);
	curl_free(url);
	curl_url_cleanup(u);
}

/* The path and query are sent as given: %XX keeps its uppercase hex. */
static void test_join(void **state)
{
	(void)state;
	check_join("http://127.0.0.1:9000", "b/a%2Bb%C3%A9", "x=%2B&y=",
		   "http://127.0.0.1:9000/b/a%2Bb%C3%A9?x=%2B&y=");
	check_join("https://h/s3/", "/bucket", NULL, "https://h/s3/bucket");
	check_join("http://h/p?old=1#frag", "k", NULL, "http://h/p/k");
	check_join("http://u:p@h:8080", "api/mlmd_push", NULL,
		   "http://u:p@h:8080/api/mlmd_push");
	check_join("sftp://h:2222/", "/~/dir/files/x%20y", NULL,
		   "sftp://h:2222/~/dir/files/x%20y");
}

static void check_refused(const char *url, const char *schemes,
			  unsigned flags, const char *why_part)
{
	const char *why = NULL;
	CURLU *u = NULL;

	assert_int_equal(http_url_parse(url, schemes, flags, &u, &why),
			 -EINVAL);
	assert_null(u);
	assert_non_null(why);
	if (why_part)
		assert_non_null(strstr(why, why_part));
}

static void test_parse(void **state)
{
	const char *why = NULL;
	char *host = NULL;
	CURLU *u = NULL;

	(void)state;
	assert_int_equal(http_url_parse("ssh://me@h:22/~/x", "ssh",
					HTTP_URL_NO_PASSWORD, &u, &why), 0);
	assert_int_equal(curl_url_get(u, CURLUPART_HOST, &host, 0),
			 CURLUE_OK);
	assert_string_equal(host, "h");
	curl_free(host);
	curl_url_cleanup(u);

	check_refused("ftp://h/", "http,https", 0, "scheme");
	check_refused("https://h/", "http", 0, "scheme");
	check_refused("http://:8080/x", "http", 0, NULL);
	check_refused("no url", "http", 0, NULL);
	check_refused("http://h/a b", "http", 0, NULL);
	check_refused("http://u@h/", "http", HTTP_URL_NO_USER, "user");
	check_refused("http://u:p@h/", "http", HTTP_URL_NO_PASSWORD,
		      "password");
	check_refused("http://h/?q", "http", HTTP_URL_NO_QUERY, "query");
	check_refused("http://h/#f", "http", HTTP_URL_NO_FRAGMENT,
		      "fragment");
}

/* ---- SHA-256 (core/hash.c) ----------------------------------------- */

static void test_sha256(void **state)
{
	char a[SHA256_HEX_LEN + 1], b[SHA256_HEX_LEN + 1];
	unsigned char *bytes;
	int fd = data_file(600000, &bytes);

	(void)state;
	assert_int_equal(sha256_buf("", 0, a), 0);
	assert_string_equal(a, EMPTY_SHA256);
	assert_int_equal(sha256_buf("abc", 3, a), 0);
	assert_string_equal(a, "ba7816bf8f01cfea414140de5dae2223"
			       "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(sha256_fd_range(fd, 0, 0, a), 0);
	assert_string_equal(a, EMPTY_SHA256);
	/* more than one 256 KiB piece, from an offset */
	assert_int_equal(sha256_fd_range(fd, 12345, 550000, a), 0);
	assert_int_equal(sha256_buf(bytes + 12345, 550000, b), 0);
	assert_string_equal(a, b);
	/* past the end of the file */
	assert_int_equal(sha256_fd_range(fd, 100, 600000, a), -EIO);
	free(bytes);
	close(fd);
}

/* ---- fixture ------------------------------------------------------ */

static int setup(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	(void)state;
	if (!mkdtemp(tmp_dir))
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv.listen_fd < 0 ||
	    bind(srv.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(srv.listen_fd, 16) < 0 ||
	    getsockname(srv.listen_fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	srv.port = ntohs(sa.sin_port);
	return pthread_create(&srv.thread, NULL, server_main, NULL) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	shutdown(srv.listen_fd, SHUT_RDWR);
	close(srv.listen_fd);
	pthread_join(srv.thread, NULL);
	server_forget();
	curl_global_cleanup();
	(void)rmdir(tmp_dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_file_range),
		cmocka_unit_test(test_body_memory),
		cmocka_unit_test(test_body_short_file),
		cmocka_unit_test(test_body_read_error),
		cmocka_unit_test(test_send_range),
		cmocka_unit_test(test_send_rewinds),
		cmocka_unit_test(test_send_short_file),
		cmocka_unit_test(test_sink),
		cmocka_unit_test(test_server_upload),
		cmocka_unit_test(test_server_upload_bad_file),
		cmocka_unit_test(test_server_no_redirect),
		cmocka_unit_test(test_server_bad_url),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_sha256),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
