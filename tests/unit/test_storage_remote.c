/* SPDX-License-Identifier: MIT */
/*
 * The SSH and OSDF storage backends against real servers on loopback
 * (tests/servers/sshd.sh and nginx.sh start them).  Each group runs only
 * when its environment is set, and the program exits 77 (skip) when
 * neither is:
 *
 *	CMFFS_SSH_URL		ssh://USER@127.0.0.1:PORT/DIR/remote
 *	CMFFS_SSH_KEY		DIR/client_key
 *	CMFFS_SSH_HOSTKEY	contents of DIR/host_key_sha256
 *
 *	CMFFS_OSDF_URL		https://127.0.0.1:PORT/remote
 *	CMFFS_OSDF_TOKEN_FILE	DIR/token
 *	CMFFS_OSDF_CA		DIR/ca.pem
 *
 * The backends are called through their ops tables and a local struct
 * storage, without the dispatcher; object keys are random, so runs
 * against the same servers do not interfere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "storage_i.h"

#define KEY_MAX 64

static char tmp_dir[] = "/tmp/cmffs-test-remote.XXXXXX";

/* "files/md5/xx/<30 hex>" with random hex digits. */
static void random_key(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[16];
	char oid[33];
	size_t i;

	assert_int_equal(getrandom(rnd, sizeof(rnd), 0), (ssize_t)sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++) {
		oid[2 * i] = hex[rnd[i] >> 4];
		oid[2 * i + 1] = hex[rnd[i] & 15];
	}
	oid[32] = '\0';
	assert_true(snprintf(buf, n, "files/md5/%.2s/%s", oid, oid + 2) <
		    (int)n);
}

/* An unlinked temporary file of @size pseudo-random bytes. */
static int data_file(uint64_t size)
{
	static uint64_t seed = 0x9e3779b97f4a7c15ULL;
	unsigned char buf[65536];
	uint64_t done = 0;
	int fd;

	fd = open(tmp_dir, O_TMPFILE | O_RDWR, 0600);
	assert_true(fd >= 0);
	while (done < size) {
		size_t n = size - done < sizeof(buf) ? (size_t)(size - done) :
						       sizeof(buf);
		size_t i;

		for (i = 0; i < n; i++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			buf[i] = (unsigned char)seed;
		}
		assert_int_equal(pwrite(fd, buf, n, (off_t)done), (ssize_t)n);
		done += n;
	}
	return fd;
}

static int empty_file(void)
{
	int fd = open(tmp_dir, O_TMPFILE | O_RDWR, 0600);

	assert_true(fd >= 0);
	return fd;
}

static void assert_same_bytes(int a, int b)
{
	static unsigned char ba[65536], bb[65536];
	struct stat sa, sb;
	off_t off = 0;

	assert_int_equal(fstat(a, &sa), 0);
	assert_int_equal(fstat(b, &sb), 0);
	assert_int_equal(sa.st_size, sb.st_size);
	while (off < sa.st_size) {
		ssize_t na = pread(a, ba, sizeof(ba), off);
		ssize_t nb = pread(b, bb, sizeof(bb), off);

		assert_true(na > 0);
		assert_int_equal(na, nb);
		assert_memory_equal(ba, bb, (size_t)na);
		off += na;
	}
}

static uint64_t file_size(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint64_t)st.st_size;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int storage_open_with(struct storage *s, const struct storage_ops *ops,
			     const struct config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	return ops->open(s, cfg);
}

static void storage_close_it(struct storage *s)
{
	if (s->priv)
		s->ops->close(s);
}

/* exists/put/get of one object of @size bytes through @s. */
static void roundtrip(struct storage *s, uint64_t size)
{
	char key[KEY_MAX];
	uint64_t got_size;
	int in, out;
	double t0, t1, t2;

	random_key(key, sizeof(key));
	in = size ? data_file(size) : empty_file();
	out = empty_file();

	assert_int_equal(s->ops->stat(s, key, NULL), -ENOENT);
	assert_int_equal(s->ops->get(s, key, out), -ENOENT);
	assert_int_equal(file_size(out), 0);

	t0 = now();
	assert_int_equal(s->ops->put(s, key, in, size), 0);
	t1 = now();
	got_size = UINT64_MAX;
	assert_int_equal(s->ops->stat(s, key, &got_size), 0);
	assert_int_equal(got_size, (uint64_t)size);
	/* already there: skipped */
	assert_int_equal(s->ops->put(s, key, in, size), 0);
	t2 = now();
	assert_int_equal(s->ops->get(s, key, out), 0);
	assert_same_bytes(in, out);
	if (size >= (1U << 20))
		print_message("%s: %llu bytes: put %.2f s, get %.2f s\n",
			      s->ops->name, (unsigned long long)size, t1 - t0,
			      now() - t2);
	close(in);
	close(out);
}

/* A file shorter than the size given to put: nothing is published. */
static void short_file(struct storage *s)
{
	char key[KEY_MAX];
	int fd = data_file(100);

	random_key(key, sizeof(key));
	assert_int_equal(s->ops->put(s, key, fd, 200), -EIO);
	print_message("%s short file: %s\n", s->ops->name, s->error);
	assert_int_equal(s->ops->stat(s, key, NULL), -ENOENT);
	close(fd);
}

/* A file holding @text; returns its path (static buffer per slot). */
static const char *write_file(int slot, const char *text)
{
	static char paths[4][256];
	char tmp[300];
	int fd;
	size_t len = strlen(text);

	snprintf(paths[slot], sizeof(paths[slot]), "%s/file%d", tmp_dir, slot);
	snprintf(tmp, sizeof(tmp), "%s.new", paths[slot]);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	/* rename: a new inode, as token refreshers do */
	assert_int_equal(rename(tmp, paths[slot]), 0);
	return paths[slot];
}

/* ------------------------------------------------------------------ SSH */

static struct config ssh_config(void)
{
	struct config c;

	memset(&c, 0, sizeof(c));
	c.storage = STORAGE_SSH;
	c.storage_url = getenv("CMFFS_SSH_URL");
	c.ssh_key = getenv("CMFFS_SSH_KEY");
	c.ssh_host_key_sha256 = getenv("CMFFS_SSH_HOSTKEY");
	return c;
}

static void test_ssh_roundtrip(void **state)
{
	struct config c = ssh_config();
	struct storage s;

	(void)state;
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), 0);
	roundtrip(&s, 1048576 + 13);
	roundtrip(&s, 0);
	roundtrip(&s, 1);
	short_file(&s);
	storage_close_it(&s);
}

static void test_ssh_big(void **state)
{
	struct config c = ssh_config();
	struct storage s;

	(void)state;
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), 0);
	roundtrip(&s, 20U << 20);
	storage_close_it(&s);
}

/* mkdir -p @path (which is writable scratch space). */
static void make_dirs(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	assert_true(snprintf(buf, sizeof(buf), "%s", path) < (int)sizeof(buf));
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

/*
 * Temporaries that interrupted uploads left next to a key
 * ("<key>.tmp-<16 hex>") go once the key is uploaded (a directory
 * listing through the SFTP sink, then "rm" commands); other names stay.
 * The server runs on this machine (tests/servers/sshd.sh), so the remote
 * directory is looked at directly.
 */
static void test_ssh_stale_tmps(void **state)
{
	struct config c = ssh_config();
	const char *root = strchr(c.storage_url + strlen("ssh://"), '/');
	char key[KEY_MAX], dir[PATH_MAX], stale[PATH_MAX], other[PATH_MAX];
	struct storage s;
	int fd;

	(void)state;
	if (!root || access(root, W_OK) < 0) {
		print_message("remote directory not local: skipped\n");
		return;
	}
	random_key(key, sizeof(key));
	assert_true(snprintf(dir, sizeof(dir), "%s/%.*s", root,
			     (int)(strrchr(key, '/') - key), key) <
		    (int)sizeof(dir));
	make_dirs(dir);
	assert_true(snprintf(stale, sizeof(stale), "%s/%s.tmp-0123456789abcdef",
			     root, key) < (int)sizeof(stale));
	assert_true(snprintf(other, sizeof(other), "%s/%s.keep", root, key) <
		    (int)sizeof(other));
	touch(stale);
	touch(other);
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), 0);
	fd = data_file(1000);
	assert_int_equal(s.ops->put(&s, key, fd, 1000), 0);
	assert_int_equal(s.ops->stat(&s, key, NULL), 0);
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(access(other, F_OK), 0);
	(void)unlink(other);
	close(fd);
	storage_close_it(&s);
}

/* The pin checks the host key before anything is sent. */
static void test_ssh_wrong_pin(void **state)
{
	struct config c = ssh_config();
	char pin[128], key[KEY_MAX];
	struct storage s;

	(void)state;
	snprintf(pin, sizeof(pin), "%s", c.ssh_host_key_sha256);
	pin[0] = pin[0] == 'A' ? 'B' : 'A';
	c.ssh_host_key_sha256 = pin;
	random_key(key, sizeof(key));
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), 0);
	assert_int_equal(s.ops->stat(&s, key, NULL), -EACCES);
	print_message("wrong pin: %s\n", s.error);
	assert_non_null(strstr(s.error, "host key"));
	assert_non_null(strstr(s.error, "does not match"));
	assert_non_null(strstr(s.error, pin));
	storage_close_it(&s);
}

static void test_ssh_no_pin(void **state)
{
	struct config c = ssh_config();
	struct storage s;

	(void)state;
	c.ssh_host_key_sha256 = NULL;
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), -EINVAL);
	assert_null(s.priv);
	print_message("no pin: %s\n", s.error);
	assert_non_null(strstr(s.error, "ssh-keyscan -p "));
	assert_non_null(strstr(s.error, "host-key-sha256"));

	c.ssh_host_key_sha256 = (char *)"not-a-fingerprint";
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), -EINVAL);
	assert_null(s.priv);
}

/* A pin written as ssh-keygen prints it ("SHA256:...") also works. */
static void test_ssh_pin_prefix(void **state)
{
	struct config c = ssh_config();
	char pin[128], key[KEY_MAX];
	struct storage s;

	(void)state;
	snprintf(pin, sizeof(pin), "SHA256:%s=", c.ssh_host_key_sha256);
	c.ssh_host_key_sha256 = pin;
	random_key(key, sizeof(key));
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), 0);
	assert_int_equal(s.ops->stat(&s, key, NULL), -ENOENT);
	storage_close_it(&s);
}

/* Another user than the authorized one: authentication fails. */
static void test_ssh_wrong_user(void **state)
{
	struct config c = ssh_config();
	char url[512], key[KEY_MAX];
	const char *at = strchr(c.storage_url, '@');
	struct storage s;

	(void)state;
	if (!at)
		skip();
	snprintf(url, sizeof(url), "ssh://cmffs-nobody%s", at);
	c.storage_url = url;
	random_key(key, sizeof(key));
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), 0);
	assert_int_equal(s.ops->stat(&s, key, NULL), -EACCES);
	print_message("wrong user: %s\n", s.error);
	assert_non_null(strstr(s.error, "refused key"));
	storage_close_it(&s);
}

static void test_ssh_refused(void **state)
{
	struct config c = ssh_config();
	char key[KEY_MAX];
	struct storage s;

	(void)state;
	c.storage_url = (char *)"ssh://127.0.0.1:1/nowhere";
	random_key(key, sizeof(key));
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), 0);
	assert_int_equal(s.ops->stat(&s, key, NULL), -ECONNREFUSED);
	print_message("refused: %s\n", s.error);
	storage_close_it(&s);
}

static void test_ssh_bad_config(void **state)
{
	struct config c = ssh_config();
	struct storage s;

	(void)state;
	c.ssh_key = (char *)"/nonexistent/key";
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), -EINVAL);
	assert_non_null(strstr(s.error, "/nonexistent/key"));

	c = ssh_config();
	c.storage_url = (char *)"sftp://127.0.0.1/x";
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), -EINVAL);
	c.storage_url = (char *)"ssh://u:secret@127.0.0.1/x";
	assert_int_equal(storage_open_with(&s, &storage_ssh_ops, &c), -EINVAL);
	assert_null(s.priv);
}

/* ----------------------------------------------------------------- OSDF */

static struct config osdf_config(void)
{
	struct config c;

	memset(&c, 0, sizeof(c));
	c.storage = STORAGE_OSDF;
	c.storage_url = getenv("CMFFS_OSDF_URL");
	c.token_file = getenv("CMFFS_OSDF_TOKEN_FILE");
	c.ca_file = getenv("CMFFS_OSDF_CA");
	return c;
}

static void test_osdf_roundtrip(void **state)
{
	struct config c = osdf_config();
	struct storage s;

	(void)state;
	assert_int_equal(storage_open_with(&s, &storage_osdf_ops, &c), 0);
	roundtrip(&s, 1048576 + 13);
	roundtrip(&s, 0);
	roundtrip(&s, 1);
	short_file(&s);
	storage_close_it(&s);
}

static void test_osdf_big(void **state)
{
	struct config c = osdf_config();
	struct storage s;

	(void)state;
	assert_int_equal(storage_open_with(&s, &storage_osdf_ops, &c), 0);
	roundtrip(&s, 20U << 20);
	storage_close_it(&s);
}

static void test_osdf_wrong_token(void **state)
{
	struct config c = osdf_config();
	char key[KEY_MAX];
	struct storage s;
	int fd;

	(void)state;
	c.token_file = (char *)write_file(0, "not-the-token\n");
	random_key(key, sizeof(key));
	assert_int_equal(storage_open_with(&s, &storage_osdf_ops, &c), 0);
	assert_int_equal(s.ops->stat(&s, key, NULL), -EACCES);
	print_message("wrong token: %s\n", s.error);
	assert_non_null(strstr(s.error, "token refused"));
	fd = data_file(100);
	assert_int_equal(s.ops->put(&s, key, fd, 100), -EACCES);
	assert_int_equal(s.ops->get(&s, key, fd), -EACCES);
	assert_int_equal(file_size(fd), 100);	/* the 401 body went nowhere */
	close(fd);
	storage_close_it(&s);
}

/* A token file replaced while the storage is open is read again. */
static void test_osdf_token_refresh(void **state)
{
	struct config c = osdf_config();
	char good[512], key[KEY_MAX];
	struct storage s;
	FILE *f;

	(void)state;
	f = fopen(c.token_file, "r");
	assert_non_null(f);
	assert_non_null(fgets(good, sizeof(good), f));
	fclose(f);
	c.token_file = (char *)write_file(1, "stale\n");
	random_key(key, sizeof(key));
	assert_int_equal(storage_open_with(&s, &storage_osdf_ops, &c), 0);
	assert_int_equal(s.ops->stat(&s, key, NULL), -EACCES);
	write_file(1, good);
	assert_int_equal(s.ops->stat(&s, key, NULL), -ENOENT);
	write_file(1, "");
	assert_int_equal(s.ops->stat(&s, key, NULL), -EINVAL);
	assert_non_null(strstr(s.error, "empty"));
	storage_close_it(&s);
}

static void test_osdf_untrusted(void **state)
{
	struct config c = osdf_config();
	char key[KEY_MAX];
	struct storage s;

	(void)state;
	c.ca_file = NULL;	/* the test CA is not a system CA */
	random_key(key, sizeof(key));
	assert_int_equal(storage_open_with(&s, &storage_osdf_ops, &c), 0);
	assert_int_equal(s.ops->stat(&s, key, NULL), -EACCES);
	print_message("untrusted: %s\n", s.error);
	assert_non_null(strstr(s.error, "not trusted"));
	storage_close_it(&s);
}

static void test_osdf_bad_config(void **state)
{
	struct config c = osdf_config();
	char url[512];
	struct storage s;

	(void)state;
	snprintf(url, sizeof(url), "http://%s",
		 c.storage_url + strlen("https://"));
	c.storage_url = url;
	assert_int_equal(storage_open_with(&s, &storage_osdf_ops, &c), -EINVAL);
	assert_null(s.priv);

	c = osdf_config();
	c.token_file = (char *)"/nonexistent/token";
	assert_int_equal(storage_open_with(&s, &storage_osdf_ops, &c), -EINVAL);
	assert_non_null(strstr(s.error, "/nonexistent/token"));

	c = osdf_config();
	c.token_file = NULL;
	assert_int_equal(storage_open_with(&s, &storage_osdf_ops, &c), -EINVAL);
	assert_null(s.priv);
}

static bool have_env(const char *const *names)
{
	for (; *names; names++) {
		const char *v = getenv(*names);

		if (!v || !v[0])
			return false;
	}
	return true;
}

static int cleanup_tmp_dir(void)
{
	char path[300];
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/file%d", tmp_dir, i);
		(void)unlink(path);
	}
	return rmdir(tmp_dir);
}

int main(void)
{
	static const char *const ssh_env[] = {
		"CMFFS_SSH_URL", "CMFFS_SSH_KEY", "CMFFS_SSH_HOSTKEY", NULL,
	};
	static const char *const osdf_env[] = {
		"CMFFS_OSDF_URL", "CMFFS_OSDF_TOKEN_FILE", "CMFFS_OSDF_CA",
		NULL,
	};
	const struct CMUnitTest ssh_tests[] = {
		cmocka_unit_test(test_ssh_no_pin),
		cmocka_unit_test(test_ssh_bad_config),
		cmocka_unit_test(test_ssh_roundtrip),
		cmocka_unit_test(test_ssh_big),
		cmocka_unit_test(test_ssh_stale_tmps),
		cmocka_unit_test(test_ssh_wrong_pin),
		cmocka_unit_test(test_ssh_pin_prefix),
		cmocka_unit_test(test_ssh_wrong_user),
		cmocka_unit_test(test_ssh_refused),
	};
	const struct CMUnitTest osdf_tests[] = {
		cmocka_unit_test(test_osdf_bad_config),
		cmocka_unit_test(test_osdf_roundtrip),
		cmocka_unit_test(test_osdf_big),
		cmocka_unit_test(test_osdf_wrong_token),
		cmocka_unit_test(test_osdf_token_refresh),
		cmocka_unit_test(test_osdf_untrusted),
	};
	int ran = 0, failed = 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	if (!mkdtemp(tmp_dir)) {
		perror("mkdtemp");
		return 1;
	}
	if (have_env(ssh_env)) {
		failed += cmocka_run_group_tests_name("storage_ssh", ssh_tests,
						      NULL, NULL);
		ran++;
	} else {
		printf("storage_ssh: skipped (set CMFFS_SSH_URL, CMFFS_SSH_KEY, CMFFS_SSH_HOSTKEY; see tests/servers/sshd.sh)\n");
	}
	if (have_env(osdf_env)) {
		failed += cmocka_run_group_tests_name("storage_osdf", osdf_tests,
						      NULL, NULL);
		ran++;
	} else {
		printf("storage_osdf: skipped (set CMFFS_OSDF_URL, CMFFS_OSDF_TOKEN_FILE, CMFFS_OSDF_CA; see tests/servers/nginx.sh)\n");
	}
	(void)cleanup_tmp_dir();
	curl_global_cleanup();
	if (!ran)
		return 77;
	return failed ? 1 : 0;
}
