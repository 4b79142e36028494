/* SPDX-License-Identifier: MIT */
/*
 * The S3 backend against a real, signature-checking S3 server (Swift with
 * s3api from tests/servers/swift.sh, or any other).  Skipped (exit 77)
 * unless CMFFS_S3_ENDPOINT is set; then CMFFS_S3_BUCKET, CMFFS_S3_KEY and
 * CMFFS_S3_SECRET (and optionally CMFFS_S3_REGION) say where and who:
 *
 *	tests/servers/swift.sh start /tmp/swift 18080
 *	CMFFS_S3_ENDPOINT=http://127.0.0.1:18080 CMFFS_S3_BUCKET=cmffs-test \
 *	CMFFS_S3_KEY=test:tester CMFFS_S3_SECRET=testing ./test_storage_s3
 *
 * The bucket is created if missing; every run writes under its own prefix
 * so that "absent" stays absent across runs.  The ops are called directly
 * through a local struct storage (storage_fail() comes from storage.c).
 */
#include "storage_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define BIG_SIZE ((uint64_t)70 << 20)	/* > the multipart threshold */
#define SMALL_SIZE ((uint64_t)100000)

static const char *endpoint, *bucket, *access_key, *secret, *region;
static char endpoint_buf[256];
static char prefix[128];	/* this run's, raw */
static char prefix_enc[128];	/* the same, encoded for a URL path */
static char tmpdir[] = "/tmp/cmffs-test-s3-XXXXXX";

/* ---- helpers ----------------------------------------------------- */

static void make_config(struct config *c, const char *url, const char *ep,
			const char *sec)
{
	memset(c, 0, sizeof(*c));
	c->storage = STORAGE_S3;
	c->storage_url = (char *)url;
	c->endpoint_url = (char *)ep;
	c->access_key_id = (char *)access_key;
	c->secret_key = (char *)sec;
	c->region = (char *)region;
}

/* s3://BUCKET/PREFIX of this run */
static const char *run_url(void)
{
	static char url[256];

	(void)snprintf(url, sizeof(url), "s3://%s/%s", bucket, prefix);
	return url;
}

static int open_s3(struct storage *st, const struct config *c)
{
	memset(st, 0, sizeof(*st));
	st->ops = &storage_s3_ops;
	return st->ops->open(st, c);
}

/* A temp file of @size pseudo-random bytes from @seed; returns its fd. */
static int make_file(uint64_t size, uint32_t seed)
{
	char path[sizeof(tmpdir) + 16];
	static unsigned n;
	uint32_t x = seed ? seed : 1;
	unsigned char *buf;
	uint64_t done = 0;
	int fd;

	(void)snprintf(path, sizeof(path), "%s/f%u", tmpdir, n++);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	buf = malloc(1 << 20);
	assert_non_null(buf);
	while (done < size) {
		size_t i, n_now = 1 << 20;

		if (size - done < n_now)
			n_now = (size_t)(size - done);
		for (i = 0; i < n_now; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (unsigned char)x;
		}
		assert_int_equal(pwrite(fd, buf, n_now, (off_t)done),
				 (ssize_t)n_now);
		done += n_now;
	}
	free(buf);
	return fd;
}

static int empty_file(void)
{
	return make_file(0, 1);
}

static void md5_fd(int fd, char hex[33])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	off_t off = 0;
	ssize_t got;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_md5(), NULL), 1);
	while ((got = pread(fd, buf, sizeof(buf), off)) > 0) {
		assert_int_equal(EVP_DigestUpdate(ctx, buf, (size_t)got), 1);
		off += got;
	}
	assert_int_equal(got, 0);
	assert_int_equal(EVP_DigestFinal_ex(ctx, md, &n), 1);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * n] = '\0';
}

static off_t fd_size(int fd)
{
	struct stat sb;

	assert_int_equal(fstat(fd, &sb), 0);
	return sb.st_size;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct raw_reply {
	char etag[128];
	char body[1 << 16];	/* NUL-terminated, truncated */
	size_t len;
};

static size_t raw_header(char *line, size_t size, size_t nmemb, void *ud)
{
	struct raw_reply *rep = ud;
	size_t n = size * nmemb, len;

	if (n > 5 && !strncasecmp(line, "ETag:", 5)) {
		len = n - 5;
		while (len && (line[5 + len - 1] == '\r' ||
			       line[5 + len - 1] == '\n'))
			len--;
		if (len >= sizeof(rep->etag))
			len = sizeof(rep->etag) - 1;
		memcpy(rep->etag, line + 5, len);
		rep->etag[len] = '\0';
	}
	return n;
}

static size_t raw_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct raw_reply *rep = ud;
	size_t n = size * nmemb, keep = sizeof(rep->body) - 1 - rep->len;

	if (n < keep)
		keep = n;
	memcpy(rep->body + rep->len, p, keep);
	rep->len += keep;
	rep->body[rep->len] = '\0';
	return n;
}

/*
 * A signed request with an empty body, outside the backend: @path is
 * "/BUCKET[/KEY][?QUERY]" already encoded.  Returns the HTTP status.
 */
static long raw_request(const char *method, const char *path,
			struct raw_reply *rep)
{
	char url[512], sigv4[64];
	struct curl_slist *h;
	CURL *c = curl_easy_init();
	long status = 0;

	assert_non_null(c);
	memset(rep, 0, sizeof(*rep));
	(void)snprintf(url, sizeof(url), "%s%s", endpoint, path);
	(void)snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", region);
	h = curl_slist_append(NULL, "x-amz-content-sha256: " EMPTY_SHA256);
	assert_non_null(h);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(c, CURLOPT_USERNAME, access_key);
	curl_easy_setopt(c, CURLOPT_PASSWORD, secret);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, raw_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, rep);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, raw_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rep);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

/* Upload @fd as @key, read it back and compare the MD5s. */
/* Object @key holds exactly the bytes of @fd. */
static void assert_object_holds(struct storage *st, const char *key, int fd)
{
	char want[33], got[33];
	int out = empty_file();

	assert_int_equal(st->ops->get(st, key, out), 0);
	assert_int_equal(fd_size(out), fd_size(fd));
	md5_fd(fd, want);
	md5_fd(out, got);
	assert_string_equal(got, want);
	close(out);
}

static void roundtrip(struct storage *st, const char *key, int fd)
{
	uint64_t size = UINT64_MAX;

	assert_int_equal(st->ops->put(st, key, fd, (uint64_t)fd_size(fd)), 0);
	assert_int_equal(st->ops->stat(st, key, &size), 0);
	assert_int_equal(size, (uint64_t)fd_size(fd));
	assert_object_holds(st, key, fd);
}

/* ---- tests ------------------------------------------------------- */

static void test_missing_key(void **state)
{
	struct storage *st = *state;
	int out = empty_file();

	assert_int_equal(st->ops->stat(st,
		"files/md5/00/00000000000000000000000000000000", NULL), -ENOENT);
	assert_int_equal(st->ops->get(st,
		"files/md5/00/00000000000000000000000000000000", out), -ENOENT);
	print_message("%s\n", st->error);
	assert_non_null(strstr(st->error, "404 NoSuchKey"));
	assert_int_equal(fd_size(out), 0);
	close(out);
}

static void test_small_roundtrip(void **state)
{
	struct storage *st = *state;
	int fd = make_file(SMALL_SIZE, 7);

	roundtrip(st, "files/md5/11/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", fd);
	close(fd);
	fd = empty_file();
	roundtrip(st, "files/md5/d4/1d8cd98f00b204e9800998ecf8427e", fd);
	close(fd);
}

/*
 * Same key, same bytes: a second put of an object of 1 MiB or more must
 * not upload (it is looked for first).  It gets a bad fd, so any attempt
 * to read or send would fail; the object must still hold the first bytes.
 * (Smaller objects are simply PUT again: test_put_small_again.)
 */
static void test_put_existing_skipped(void **state)
{
	const char *key = "files/md5/22/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	const uint64_t size = (uint64_t)2 << 20;
	struct storage *st = *state;
	int fd = make_file(size, 9);

	assert_int_equal(st->ops->put(st, key, fd, size), 0);
	assert_int_equal(st->ops->put(st, key, -1, size), 0);
	assert_object_holds(st, key, fd);
	close(fd);
}

/* A small object is PUT again without a HEAD: same bytes, same result. */
static void test_put_small_again(void **state)
{
	const char *key = "files/md5/44/dddddddddddddddddddddddddddddd";
	struct storage *st = *state;
	int fd = make_file(SMALL_SIZE, 11);

	assert_int_equal(st->ops->put(st, key, fd, SMALL_SIZE), 0);
	/* a bad fd now fails: the second put really sends */
	assert_int_not_equal(st->ops->put(st, key, -1, SMALL_SIZE), 0);
	assert_int_equal(st->ops->put(st, key, fd, SMALL_SIZE), 0);
	assert_object_holds(st, key, fd);
	close(fd);
}

static void test_multipart(void **state)
{
	const char *key = "files/md5/33/cccccccccccccccccccccccccccccc";
	struct storage *st = *state;
	struct raw_reply *rep = malloc(sizeof(*rep));
	char path[512];
	double t0, t1;
	size_t n;
	int fd = make_file(BIG_SIZE, 11);

	t0 = now();
	roundtrip(st, key, fd);
	t1 = now();
	print_message("70 MiB put+get round trip: %.2f s\n", t1 - t0);
	/* multipart objects have "md5-of-md5s-N" ETags: 70 MiB = 5 parts */
	(void)snprintf(path, sizeof(path), "/%s/%s/%s", bucket, prefix_enc,
		       key);
	assert_non_null(rep);
	assert_int_equal(raw_request("HEAD", path, rep), 200);
	n = strlen(rep->etag);
	assert_true(n > 3);
	assert_string_equal(rep->etag + n - 3, "-5\"");
	free(rep);
	close(fd);

	/* and the upload time alone */
	fd = make_file(BIG_SIZE, 12);
	t0 = now();
	assert_int_equal(st->ops->put(st,
		"files/md5/34/dddddddddddddddddddddddddddddd", fd, BIG_SIZE), 0);
	print_message("70 MiB multipart put: %.2f s\n", now() - t0);
	close(fd);
}

/*
 * The file ends in part 2 of a multipart upload: put fails with -EIO, the
 * upload is aborted, and nothing appears under the key.
 */
static void test_multipart_abort(void **state)
{
	const char *key = "files/md5/66/ffffffffffffffffffffffffffffff";
	struct storage *st = *state;
	struct raw_reply *rep;
	char path[256], needle[256];
	int fd = make_file((uint64_t)20 << 20, 17);

	assert_int_equal(st->ops->put(st, key, fd, BIG_SIZE), -EIO);
	print_message("%s\n", st->error);
	assert_non_null(strstr(st->error, "part 2"));
	assert_int_equal(st->ops->stat(st, key, NULL), -ENOENT);
	close(fd);

	rep = malloc(sizeof(*rep));
	assert_non_null(rep);
	(void)snprintf(path, sizeof(path), "/%s?uploads=", bucket);
	assert_int_equal(raw_request("GET", path, rep), 200);
	assert_non_null(strstr(rep->body, "ListMultipartUploadsResult"));
	(void)snprintf(needle, sizeof(needle), "%s/%s", prefix, key);
	assert_null(strstr(rep->body, needle));
	free(rep);
}

/* Multipart uploads of @jobs handles in flight (config [storage] jobs). */
static void open_jobs(struct storage *st, unsigned jobs)
{
	struct config c;

	make_config(&c, run_url(), endpoint, secret);
	c.storage_jobs = jobs;
	assert_int_equal(open_s3(st, &c), 0);
}

/* The ETag of @key in this run's prefix must be a multipart one of @n. */
static void assert_parts(const char *key, unsigned n)
{
	struct raw_reply *rep = malloc(sizeof(*rep));
	char path[512], want[16];
	size_t len;

	assert_non_null(rep);
	(void)snprintf(path, sizeof(path), "/%s/%s/%s", bucket, prefix_enc,
		       key);
	assert_int_equal(raw_request("HEAD", path, rep), 200);
	(void)snprintf(want, sizeof(want), "-%u\"", n);
	len = strlen(rep->etag);
	assert_true(len > strlen(want));
	assert_string_equal(rep->etag + len - strlen(want), want);
	free(rep);
}

/*
 * Seven parts (the last one short) sent one at a time and eight at a time
 * (more senders than parts left): byte-exact objects under the right keys.
 */
static void test_multipart_jobs(void **state)
{
	static const struct {
		unsigned jobs;
		const char *key;
	} runs[] = {
		{ 1, "files/md5/35/e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0" },
		{ 8, "files/md5/36/e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1" },
	};
	const uint64_t size = ((uint64_t)96 << 20) + 4097;
	struct storage st;
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		fd = make_file(size, 23 + (uint32_t)i);
		open_jobs(&st, runs[i].jobs);
		roundtrip(&st, runs[i].key, fd);
		st.ops->close(&st);
		assert_parts(runs[i].key, 7);
		close(fd);
	}
}

/*
 * With parts in flight together, the file ends inside part 5 of 7: the
 * failure reported is part 5's (parts 6 and 7 fail too, parts 1 to 4 may
 * still be sending), the upload is aborted and the key stays absent.
 */
static void test_multipart_parallel_failure(void **state)
{
	const char *key = "files/md5/67/f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0";
	struct raw_reply *rep;
	struct storage st;
	char path[256], needle[256];
	int fd = make_file(((uint64_t)64 << 20) + 100, 29);

	(void)state;
	open_jobs(&st, 4);
	assert_int_equal(st.ops->put(&st, key, fd,
				     ((uint64_t)96 << 20) + 4097), -EIO);
	print_message("%s\n", st.error);
	assert_non_null(strstr(st.error, "(part 5)"));
	assert_int_equal(st.ops->stat(&st, key, NULL), -ENOENT);
	st.ops->close(&st);
	close(fd);

	rep = malloc(sizeof(*rep));
	assert_non_null(rep);
	(void)snprintf(path, sizeof(path), "/%s?uploads=", bucket);
	assert_int_equal(raw_request("GET", path, rep), 200);
	(void)snprintf(needle, sizeof(needle), "%s/%s", prefix, key);
	assert_null(strstr(rep->body, needle));
	free(rep);
}

/* A file shorter than announced: -EIO before anything is sent. */
static void test_short_file(void **state)
{
	const char *key = "files/md5/77/abababababababababababababab";
	struct storage *st = *state;
	int fd = make_file(1000, 19);

	assert_int_equal(st->ops->put(st, key, fd, 2000), -EIO);
	assert_int_equal(st->ops->stat(st, key, NULL), -ENOENT);
	close(fd);
}

static void test_key_encoding(void **state)
{
	struct storage *st = *state;
	int fd = make_file(4096, 13);

	roundtrip(st, "files/md5/44/odd name+%41~\xc3\xa9&x=y;(1)*!'", fd);
	close(fd);
}

static void test_wrong_secret(void **state)
{
	struct storage bad;
	struct config c;

	(void)state;
	make_config(&c, run_url(), endpoint, "not-the-secret");
	assert_int_equal(open_s3(&bad, &c), -EACCES);
	print_message("%s\n", bad.error);
	assert_non_null(strstr(bad.error, "SignatureDoesNotMatch"));
	assert_null(bad.priv);
	assert_null(strstr(bad.error, "not-the-secret"));
}

static void test_wrong_region(void **state)
{
	struct storage bad;
	struct config c;

	(void)state;
	make_config(&c, run_url(), endpoint, secret);
	c.region = (char *)"eu-west-1";
	assert_int_not_equal(open_s3(&bad, &c), 0);
	print_message("%s\n", bad.error);
	assert_non_null(strstr(bad.error, "AuthorizationHeaderMalformed"));
}

static void test_missing_bucket(void **state)
{
	struct storage st;
	struct config c;
	char url[128];

	(void)state;
	(void)snprintf(url, sizeof(url), "s3://cmffs-no-such-%ld/x",
		       (long)getpid());
	make_config(&c, url, endpoint, secret);
	assert_int_equal(open_s3(&st, &c), -ENOENT);
	assert_non_null(strstr(st.error, "does not exist"));
}

static void test_bad_config(void **state)
{
	struct storage st;
	struct config c;

	(void)state;
	make_config(&c, "s3://", endpoint, secret);
	assert_int_equal(open_s3(&st, &c), -EINVAL);
	make_config(&c, "s3://b/../x", endpoint, secret);
	assert_int_equal(open_s3(&st, &c), -EINVAL);
	/* a bucket "." or "..": URL normalization would drop it and send
	 * the keys to another bucket */
	make_config(&c, "s3://../x", endpoint, secret);
	assert_int_equal(open_s3(&st, &c), -EINVAL);
	make_config(&c, "s3://./files", endpoint, secret);
	assert_int_equal(open_s3(&st, &c), -EINVAL);
	make_config(&c, "gs://bucket", endpoint, secret);
	assert_int_equal(open_s3(&st, &c), -EINVAL);
	make_config(&c, run_url(), "ftp://127.0.0.1", secret);
	assert_int_equal(open_s3(&st, &c), -EINVAL);
	make_config(&c, run_url(), "http://u:p@127.0.0.1", secret);
	assert_int_equal(open_s3(&st, &c), -EINVAL);
	make_config(&c, run_url(), endpoint, NULL);
	assert_int_equal(open_s3(&st, &c), -EINVAL);
	make_config(&c, run_url(), endpoint, secret);
	c.region = (char *)"us:east";
	assert_int_equal(open_s3(&st, &c), -EINVAL);
}

/* Nothing listens on port 1: open still works (offline), ops say so. */
static void test_unreachable(void **state)
{
	struct storage st;
	struct config c;
	int fd;

	(void)state;
	make_config(&c, run_url(), "http://127.0.0.1:1", secret);
	assert_int_equal(open_s3(&st, &c), 0);
	assert_int_equal(st.ops->stat(&st, "files/md5/55/ee", NULL),
			 -ECONNREFUSED);
	fd = make_file(10, 3);
	assert_int_equal(st.ops->put(&st, "files/md5/55/ee", fd, 10),
			 -ECONNREFUSED);
	close(fd);
	st.ops->close(&st);
}

/* ---- fixture ----------------------------------------------------- */

static int group_setup(void **state)
{
	static struct storage st;
	static struct raw_reply rep;
	struct config c;
	char path[128];
	long status, t;
	int r;

	if (!mkdtemp(tmpdir))
		return -1;
	(void)snprintf(path, sizeof(path), "/%s", bucket);
	status = raw_request("HEAD", path, &rep);
	if (status == 404) {
		status = raw_request("PUT", path, &rep);
		if (status != 200 && status != 409) {
			fprintf(stderr, "cannot create bucket %s: HTTP %ld\n",
				bucket, status);
			return -1;
		}
	} else if (status != 200) {
		fprintf(stderr, "HEAD bucket %s: HTTP %ld\n", bucket, status);
		return -1;
	}
	/* a '+' in the prefix exercises its encoding too */
	t = (long)time(NULL);
	(void)snprintf(prefix, sizeof(prefix), "cmffs-test/run+%ld-%ld",
		       (long)getpid(), t);
	(void)snprintf(prefix_enc, sizeof(prefix_enc),
		       "cmffs-test/run%%2B%ld-%ld", (long)getpid(), t);
	make_config(&c, run_url(), endpoint, secret);
	r = open_s3(&st, &c);
	if (r < 0) {
		fprintf(stderr, "open: %d %s\n", r, st.error);
		return -1;
	}
	*state = &st;
	return 0;
}

/* The objects the tests create, path-encoded, deleted at the end. */
static const char *const created[] = {
	"files/md5/11/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	"files/md5/d4/1d8cd98f00b204e9800998ecf8427e",
	"files/md5/22/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	"files/md5/33/cccccccccccccccccccccccccccccc",
	"files/md5/34/dddddddddddddddddddddddddddddd",
	"files/md5/35/e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0",
	"files/md5/36/e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1",
	"files/md5/44/odd%20name%2B%2541~%C3%A9%26x%3Dy%3B%281%29%2A%21%27",
};

static int group_teardown(void **state)
{
	static struct raw_reply rep;
	struct storage *st = *state;
	char path[512];
	size_t i;

	if (st)
		st->ops->close(st);
	for (i = 0; i < sizeof(created) / sizeof(created[0]); i++) {
		(void)snprintf(path, sizeof(path), "/%s/%s/%s", bucket,
			       prefix_enc, created[i]);
		if (raw_request("DELETE", path, &rep) != 204)
			fprintf(stderr, "could not delete %s\n", path);
	}
	(void)rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_key),
		cmocka_unit_test(test_small_roundtrip),
		cmocka_unit_test(test_put_existing_skipped),
		cmocka_unit_test(test_put_small_again),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_multipart_abort),
		cmocka_unit_test(test_multipart_jobs),
		cmocka_unit_test(test_multipart_parallel_failure),
		cmocka_unit_test(test_short_file),
		cmocka_unit_test(test_key_encoding),
		cmocka_unit_test(test_wrong_secret),
		cmocka_unit_test(test_wrong_region),
		cmocka_unit_test(test_missing_bucket),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_unreachable),
	};
	int r;

	endpoint = getenv("CMFFS_S3_ENDPOINT");
	bucket = getenv("CMFFS_S3_BUCKET");
	access_key = getenv("CMFFS_S3_KEY");
	secret = getenv("CMFFS_S3_SECRET");
	region = getenv("CMFFS_S3_REGION");
	if (!region || !*region)
		region = CONFIG_DEFAULT_REGION;
	if (!endpoint || !*endpoint) {
		fprintf(stderr, "CMFFS_S3_ENDPOINT not set: skipping\n");
		return 77;
	}
	/* raw_request() appends "/BUCKET..." */
	(void)snprintf(endpoint_buf, sizeof(endpoint_buf), "%s", endpoint);
	while (strlen(endpoint_buf) > 8 &&
	       endpoint_buf[strlen(endpoint_buf) - 1] == '/')
		endpoint_buf[strlen(endpoint_buf) - 1] = '\0';
	endpoint = endpoint_buf;
	if (!bucket || !access_key || !secret) {
		fprintf(stderr, "CMFFS_S3_ENDPOINT is set but CMFFS_S3_BUCKET, CMFFS_S3_KEY or CMFFS_S3_SECRET is not\n");
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	r = cmocka_run_group_tests(tests, group_setup, group_teardown);
	curl_global_cleanup();
	return r;
}
