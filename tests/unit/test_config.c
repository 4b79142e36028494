/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for core/config.c: loading and saving WS/.cmfconfig, keeping
 * upstream CMF's foreign sections, error messages with line numbers, file
 * mode and atomic replacement, and config_validate().
 *
 * Each test runs in a fresh temporary directory holding the config file.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define SYNTAX_ERROR "syntax error (expected '[section]' or 'key = value')"
#define INTERVAL_ERROR "invalid interval '%s' (0 to 86400 seconds)"

#define UPSTREAM_FILE \
	"[cmf]\n" \
	"server-url = http://127.0.0.1:80\n" \
	"\n" \
	"[neo4j]\n" \
	"user = neo4j\n" \
	"password = cGFzc3dvcmQ=\n" \
	"uri = bolt://localhost:7687\n" \
	"\n"

struct fixture {
	char dir[64];
	char *path;		/* dir/.cmfconfig */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cmffs-test-config-XXXXXX");
	if (!mkdtemp(fx->dir) ||
	    asprintf(&fx->path, "%s/%s", fx->dir, CONFIG_FILE_NAME) < 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct dirent *de;
	char *p;
	DIR *d;

	d = opendir(fx->dir);
	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			if (asprintf(&p, "%s/%s", fx->dir, de->d_name) < 0)
				continue;
			unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx->path);
	free(fx);
	return 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Returns the contents of @path, owned by the caller. */
static char *read_text(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	size_t n;
	char chunk[256];
	FILE *ms, *f;

	f = fopen(path, "re");
	assert_non_null(f);
	ms = open_memstream(&buf, &len);
	assert_non_null(ms);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(fwrite(chunk, 1, n, ms), n);
	assert_int_equal(ferror(f), 0);
	fclose(f);
	assert_int_equal(fclose(ms), 0);
	return buf;
}

/* Number of entries in @dir besides "." and "..". */
static int count_entries(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_mode_0600(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void assert_same_config(const struct config *a, const struct config *b)
{
	assert_str_or_null(a->server_url, b->server_url);
	assert_int_equal(a->storage, b->storage);
	assert_str_or_null(a->storage_path, b->storage_path);
	assert_str_or_null(a->storage_url, b->storage_url);
	assert_str_or_null(a->endpoint_url, b->endpoint_url);
	assert_str_or_null(a->access_key_id, b->access_key_id);
	assert_str_or_null(a->secret_key, b->secret_key);
	assert_str_or_null(a->region, b->region);
	assert_str_or_null(a->ssh_key, b->ssh_key);
	assert_str_or_null(a->ssh_host_key_sha256, b->ssh_host_key_sha256);
	assert_str_or_null(a->token_file, b->token_file);
	assert_int_equal(a->sync_interval, b->sync_interval);
	assert_int_equal(a->storage_jobs, b->storage_jobs);
	assert_int_equal(a->stall_timeout, b->stall_timeout);
	assert_int_equal(a->cache_max_size, b->cache_max_size);
}

static void set(char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
	assert_non_null(*field);
}

/* Load @path expecting success and a valid configuration. */
static struct config *load_ok(const char *path)
{
	struct config *c = NULL;
	char *err = (char *)"unset";

	assert_int_equal(config_load(path, &c, &err), 0);
	assert_null(err);
	assert_non_null(c);
	return c;
}

/* Save @c, check the mode, load it back and compare. */
static void round_trip(const struct fixture *fx, const struct config *c)
{
	struct config *back;
	char *err = NULL;

	assert_int_equal(config_validate(c, &err), 0);
	assert_null(err);
	assert_int_equal(config_save(c, fx->path), 0);
	assert_mode_0600(fx->path);
	assert_int_equal(count_entries(fx->dir), 1);	/* no tmp left */
	back = load_ok(fx->path);
	assert_same_config(c, back);
	assert_int_equal(config_validate(back, &err), 0);
	config_free(back);
}

/*
 * Write @text, load it and expect -EINVAL with the message
 * "'<path>' line @line: @msg".
 */
static void expect_load_error(const struct fixture *fx, const char *text,
			      unsigned line, const char *msg)
{
	struct config *c = (struct config *)1;
	char *err = NULL;
	char *want;

	write_text(fx->path, text);
	assert_int_equal(config_load(fx->path, &c, &err), -EINVAL);
	assert_null(c);
	assert_non_null(err);
	assert_int_equal(asprintf(&want, "'%s' line %u: %s", fx->path, line,
				  msg) > 0, 1);
	assert_string_equal(err, want);
	free(want);
	free(err);
}

static void expect_validate_error(const struct config *c, const char *msg)
{
	char *err = NULL;

	assert_int_equal(config_validate(c, &err), -EINVAL);
	assert_non_null(err);
	assert_string_equal(err, msg);
	free(err);
	/* The message is optional. */
	assert_int_equal(config_validate(c, NULL), -EINVAL);
}

/* Expect "storage type '<type>' needs @what in [storage]". */
static void expect_needs(const struct config *c, const char *what)
{
	char *msg;

	assert_int_equal(asprintf(&msg,
				  "storage type '%s' needs %s in [storage]",
				  storage_type_name(c->storage), what) > 0, 1);
	expect_validate_error(c, msg);
	free(msg);
}

static void test_defaults(void **state)
{
	struct config *c = config_new();
	char *err = NULL;

	(void)state;
	assert_non_null(c);
	assert_null(c->server_url);
	assert_int_equal(c->storage, STORAGE_NONE);
	assert_null(c->storage_path);
	assert_null(c->region);
	assert_int_equal(c->sync_interval, 30);
	assert_int_equal(c->storage_jobs, CONFIG_DEFAULT_JOBS);
	assert_int_equal(config_storage_jobs(c), CONFIG_DEFAULT_JOBS);
	assert_int_equal(c->n_foreign, 0);
	assert_int_equal(config_validate(c, &err), 0);
	assert_null(err);
	config_free(c);
	config_free(NULL);
}

static void test_storage_type_names(void **state)
{
	static const struct {
		const char *name;
		enum storage_type type;
	} ok[] = {
		{ "none", STORAGE_NONE }, { "local", STORAGE_LOCAL },
		{ "s3", STORAGE_S3 }, { "minio", STORAGE_S3 },
		{ "minioS3", STORAGE_S3 }, { "amazonS3", STORAGE_S3 },
		{ "AMAZONS3", STORAGE_S3 }, { "ssh", STORAGE_SSH },
		{ "sshremote", STORAGE_SSH }, { "osdf", STORAGE_OSDF },
		{ "osdfremote", STORAGE_OSDF }, { "Local", STORAGE_LOCAL },
	};
	static const char *const bad[] = { "", "ftp", "s3x", "local ", "gs" };
	enum storage_type t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		t = STORAGE_NONE;
		assert_int_equal(storage_type_parse(ok[i].name, &t), 0);
		assert_int_equal(t, ok[i].type);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = STORAGE_OSDF;
		assert_int_equal(storage_type_parse(bad[i], &t), -EINVAL);
		assert_int_equal(t, STORAGE_OSDF);
	}
	assert_int_equal(storage_type_parse(NULL, &t), -EINVAL);
	assert_string_equal(storage_type_name(STORAGE_NONE), "none");
	assert_string_equal(storage_type_name(STORAGE_LOCAL), "local");
	assert_string_equal(storage_type_name(STORAGE_S3), "s3");
	assert_string_equal(storage_type_name(STORAGE_SSH), "ssh");
	assert_string_equal(storage_type_name(STORAGE_OSDF), "osdf");
	assert_string_equal(storage_type_name((enum storage_type)42),
			    "unknown");
}

static void test_round_trip_local(void **state)
{
	struct fixture *fx = *state;
	struct config *c = config_new();
	char *text;

	assert_non_null(c);
	set(&c->server_url, "http://127.0.0.1:8080");
	c->storage = STORAGE_LOCAL;
	set(&c->storage_path, "/srv/cmf artifacts");
	c->sync_interval = 0;
	round_trip(fx, c);

	text = read_text(fx->path);
	assert_string_equal(text,
			    "[cmf]\n"
			    "server-url = http://127.0.0.1:8080\n"
			    "\n"
			    "[storage]\n"
			    "type = local\n"
			    "path = /srv/cmf artifacts\n"
			    "\n"
			    "[sync]\n"
			    "interval = 0\n"
			    "\n");
	free(text);
	config_free(c);
}

static void test_round_trip_s3(void **state)
{
	struct fixture *fx = *state;
	struct config *c = config_new();
	struct config *back;
	char *text;

	assert_non_null(c);
	set(&c->server_url, "http://127.0.0.1:8080");
	c->storage = STORAGE_S3;
	set(&c->storage_url, "s3://dvc-art/prefix");
	set(&c->endpoint_url, "http://127.0.0.1:18080");
	set(&c->access_key_id, "minioadmin");
	set(&c->secret_key, "wJalrXUtnFEMI/K7MDENG+EXAMPLE=");
	set(&c->region, "eu-west-1");
	c->sync_interval = 86400;
	round_trip(fx, c);

	text = read_text(fx->path);
	assert_string_equal(text,
			    "[cmf]\n"
			    "server-url = http://127.0.0.1:8080\n"
			    "\n"
			    "[storage]\n"
			    "type = s3\n"
			    "url = s3://dvc-art/prefix\n"
			    "endpoint-url = http://127.0.0.1:18080\n"
			    "access-key-id = minioadmin\n"
			    "secret-key = wJalrXUtnFEMI/K7MDENG+EXAMPLE=\n"
			    "region = eu-west-1\n"
			    "\n"
			    "[sync]\n"
			    "interval = 86400\n"
			    "\n");
	free(text);

	/* Without a region, loading fills in the default. */
	free(c->region);
	c->region = NULL;
	assert_int_equal(config_save(c, fx->path), 0);
	back = load_ok(fx->path);
	assert_string_equal(back->region, CONFIG_DEFAULT_REGION);
	config_free(back);
	config_free(c);
}

static void test_round_trip_ssh(void **state)
{
	struct fixture *fx = *state;
	struct config *c = config_new();

	assert_non_null(c);
	c->storage = STORAGE_SSH;
	set(&c->storage_url, "ssh://cmf@10.0.0.5:2222/data/artifacts");
	set(&c->ssh_key, "/home/cmf/.ssh/id_ed25519");
	set(&c->ssh_host_key_sha256,
	    "nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8");
	c->sync_interval = 5;
	round_trip(fx, c);
	config_free(c);
}

static void test_round_trip_osdf(void **state)
{
	struct fixture *fx = *state;
	struct config *c = config_new();

	assert_non_null(c);
	set(&c->server_url, "https://cmf.example.org");
	c->storage = STORAGE_OSDF;
	set(&c->storage_url, "https://origin.example.org:8443/ns/cmf");
	set(&c->token_file, "/run/secrets/osdf.token");
	round_trip(fx, c);
	config_free(c);
}

static void test_file_mode(void **state)
{
	struct fixture *fx = *state;
	struct config *c = config_new();
	mode_t old;

	assert_non_null(c);
	set(&c->server_url, "http://127.0.0.1:8080");

	/* Replacing a world-readable file gives 0600. */
	write_text(fx->path, "[cmf]\n");
	assert_int_equal(chmod(fx->path, 0644), 0);
	assert_int_equal(config_save(c, fx->path), 0);
	assert_mode_0600(fx->path);

	/* Neither a permissive nor a restrictive umask changes it. */
	old = umask(0);
	assert_int_equal(config_save(c, fx->path), 0);
	assert_mode_0600(fx->path);
	umask(0277);
	assert_int_equal(config_save(c, fx->path), 0);
	umask(old);
	assert_mode_0600(fx->path);
	assert_int_equal(count_entries(fx->dir), 1);
	config_free(c);
}

static void test_upstream_file(void **state)
{
	struct fixture *fx = *state;
	struct config *c, *back;
	char *text;

	write_text(fx->path, UPSTREAM_FILE);
	c = load_ok(fx->path);
	assert_string_equal(c->server_url, "http://127.0.0.1:80");
	assert_int_equal(c->storage, STORAGE_NONE);
	assert_int_equal(c->sync_interval, 30);
	assert_int_equal(c->n_foreign, 1);
	assert_string_equal(config_get_foreign(c, "neo4j", "user"), "neo4j");
	assert_string_equal(config_get_foreign(c, "neo4j", "password"),
			    "cGFzc3dvcmQ=");
	assert_string_equal(config_get_foreign(c, "neo4j", "URI"),
			    "bolt://localhost:7687");
	assert_null(config_get_foreign(c, "neo4j", "nope"));
	assert_null(config_get_foreign(c, "osdf", "path"));
	assert_int_equal(config_validate(c, NULL), 0);

	assert_int_equal(config_save(c, fx->path), 0);
	text = read_text(fx->path);
	assert_string_equal(text,
			    "[cmf]\n"
			    "server-url = http://127.0.0.1:80\n"
			    "\n"
			    "[sync]\n"
			    "interval = 30\n"
			    "\n"
			    "[neo4j]\n"
			    "user = neo4j\n"
			    "password = cGFzc3dvcmQ=\n"
			    "uri = bolt://localhost:7687\n"
			    "\n");
	free(text);

	back = load_ok(fx->path);
	assert_same_config(c, back);
	assert_string_equal(config_get_foreign(back, "neo4j", "password"),
			    "cGFzc3dvcmQ=");
	config_free(back);
	config_free(c);
}

static void test_foreign_sections(void **state)
{
	struct fixture *fx = *state;
	struct config *c;
	char *text;

	/*
	 * Foreign sections before ours, an upstream [osdf] section, a
	 * repeated section, a multi-line value, comments, CRLF and ':'.
	 */
	write_text(fx->path,
		   "; written by hand\n"
		   "[osdf]\n"
		   "path = /ns/cmf\n"
		   "cache = http://cache.example.org:8000\n"
		   "key_id = k1\r\n"
		   "key_path: /etc/osdf/key.pem\n"
		   "\n"
		   "[cmf]\n"
		   "# comment\n"
		   "server-url = http://10.1.1.1:8080\n"
		   "[extra]\n"
		   "notes = line one\n"
		   "\tline two\n"
		   "Empty =\n"
		   "[osdf]\n"
		   "key_issuer = https://issuer.example.org\n");
	c = load_ok(fx->path);
	assert_string_equal(c->server_url, "http://10.1.1.1:8080");
	assert_int_equal(c->n_foreign, 2);
	assert_string_equal(config_get_foreign(c, "extra", "notes"),
			    "line one\nline two");
	assert_string_equal(config_get_foreign(c, "osdf", "key_issuer"),
			    "https://issuer.example.org");
	assert_int_equal(config_save(c, fx->path), 0);
	config_free(c);

	text = read_text(fx->path);
	assert_string_equal(text,
			    "[cmf]\n"
			    "server-url = http://10.1.1.1:8080\n"
			    "\n"
			    "[sync]\n"
			    "interval = 30\n"
			    "\n"
			    "[osdf]\n"
			    "path = /ns/cmf\n"
			    "cache = http://cache.example.org:8000\n"
			    "key_id = k1\n"
			    "key_path = /etc/osdf/key.pem\n"
			    "key_issuer = https://issuer.example.org\n"
			    "\n"
			    "[extra]\n"
			    "notes = line one\n"
			    "\tline two\n"
			    "Empty = \n"
			    "\n");
	free(text);

	/* The rewritten file reads back the same. */
	c = load_ok(fx->path);
	assert_string_equal(config_get_foreign(c, "extra", "notes"),
			    "line one\nline two");
	assert_string_equal(config_get_foreign(c, "extra", "empty"), "");
	assert_string_equal(config_get_foreign(c, "osdf", "key_path"),
			    "/etc/osdf/key.pem");
	config_free(c);
}

static void test_lenient_values(void **state)
{
	struct fixture *fx = *state;
	struct config *c;

	/* Upstream names, key case and empty values. */
	write_text(fx->path,
		   "[storage]\n"
		   "TYPE = minioS3\n"
		   "Endpoint-URL = http://minio:9000\n"
		   "url = s3://bucket\n"
		   "Access-Key-ID = k\n"
		   "secret-key = s\n"
		   "key =\n"
		   "[sync]\n"
		   "interval = 0086400\n");
	c = load_ok(fx->path);
	assert_int_equal(c->storage, STORAGE_S3);
	assert_string_equal(c->endpoint_url, "http://minio:9000");
	assert_null(c->ssh_key);
	assert_string_equal(c->region, CONFIG_DEFAULT_REGION);
	assert_int_equal(c->sync_interval, 86400);
	config_free(c);

	/* An empty file is the default configuration. */
	write_text(fx->path, "");
	c = load_ok(fx->path);
	assert_null(c->server_url);
	assert_int_equal(c->storage, STORAGE_NONE);
	config_free(c);
}

/* What init refuses, load refuses: a hand-edited gopher:// server. */
static void test_load_validates(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = {
		"[cmf]\nserver-url = gopher://127.0.0.1:6379/_FLUSHALL\n",
		"[cmf]\nserver-url = dict://127.0.0.1:11211/\n",
		"[cmf]\nserver-url = file:///etc/passwd\n",
		"[storage]\ntype = s3\nurl = s3://b\nendpoint-url = ftp://h/\n"
		"access-key-id = k\nsecret-key = s\n",
		"[storage]\ntype = osdf\nurl = telnet://h/x\ntoken = /t\n",
		"[storage]\ntype = local\npath = relative/dir\n",
	};
	struct config *c;
	char *err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = (struct config *)1;
		err = NULL;
		write_text(fx->path, bad[i]);
		assert_int_equal(config_load(fx->path, &c, &err), -EINVAL);
		assert_null(c);
		assert_non_null(err);
		assert_non_null(strstr(err, fx->path));
		assert_null(strchr(err, '\n'));
		free(err);
	}
	write_text(fx->path, "[cmf]\nserver-url = gopher://h/\n");
	assert_int_equal(config_load(fx->path, &c, &err), -EINVAL);
	assert_string_equal(err + strlen(err) - strlen("not an http(s):// URL"),
			    "not an http(s):// URL");
	free(err);
}

/* A link, a FIFO or a directory as .cmfconfig: refused at once. */
static void test_load_hostile_file(void **state)
{
	struct fixture *fx = *state;
	char *target;
	struct config *c = NULL;
	char *err = NULL;

	assert_int_equal(asprintf(&target, "%s/target", fx->dir) > 0, 1);
	write_text(target, "[cmf]\nserver-url = http://h/\n");
	assert_int_equal(symlink(target, fx->path), 0);
	assert_int_equal(config_load(fx->path, &c, &err), -ELOOP);
	assert_null(c);
	assert_non_null(strstr(err, "symbolic link"));
	free(err);
	assert_int_equal(unlink(fx->path), 0);
	assert_int_equal(unlink(target), 0);
	free(target);

	/* a FIFO nobody writes to would block a plain open() forever */
	assert_int_equal(mkfifo(fx->path, 0600), 0);
	alarm(10);
	assert_int_equal(config_load(fx->path, &c, &err), -EMEDIUMTYPE);
	alarm(0);
	assert_non_null(strstr(err, "not a regular file"));
	free(err);
	assert_int_equal(unlink(fx->path), 0);

	assert_int_equal(mkdir(fx->path, 0700), 0);
	assert_int_equal(config_load(fx->path, &c, &err), -EMEDIUMTYPE);
	free(err);
	assert_int_equal(rmdir(fx->path), 0);
}

static void test_missing_file(void **state)
{
	struct fixture *fx = *state;
	struct config *c = (struct config *)1;
	char *err = (char *)"unset";

	assert_int_equal(config_load(fx->path, &c, &err), -ENOENT);
	assert_null(c);
	assert_null(err);
	c = (struct config *)1;
	assert_int_equal(config_load(fx->path, &c, NULL), -ENOENT);
	assert_null(c);
}

static void test_bad_storage_type(void **state)
{
	struct fixture *fx = *state;

	expect_load_error(fx,
			  "[cmf]\n"
			  "server-url = http://127.0.0.1:80\n"
			  "[storage]\n"
			  "type = ftp\n",
			  4, "unknown storage type 'ftp'");
	expect_load_error(fx, "[storage]\ntype =\n", 2,
			  "unknown storage type ''");
}

static void test_unknown_key(void **state)
{
	struct fixture *fx = *state;

	expect_load_error(fx,
			  "[storage]\n"
			  "type = local\n"
			  "foo = bar\n",
			  3, "unknown key 'foo' in [storage]");
	expect_load_error(fx,
			  "[cmf]\n"
			  "server-url = http://127.0.0.1:80\n"
			  "\n"
			  "[sync]\n"
			  "intervall = 10\n",
			  5, "unknown key 'intervall' in [sync]");
	expect_load_error(fx, "[cmf]\nserver_url = http://x\n", 2,
			  "unknown key 'server_url' in [cmf]");
}

static void test_bad_interval(void **state)
{
	static const char *const bad[] = {
		"abc", "-1", "+5", "86401", "1e3", "30s", "0x10", "",
		"99999999999999999999999999",
	};
	struct fixture *fx = *state;
	char *text, *msg;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(asprintf(&text, "[sync]\ninterval = %s\n",
					  bad[i]) > 0, 1);
		assert_int_equal(asprintf(&msg, INTERVAL_ERROR, bad[i]) > 0, 1);
		expect_load_error(fx, text, 2, msg);
		free(text);
		free(msg);
	}
}

/* [storage] jobs: 1 to CONFIG_MAX_JOBS, written only when not the default. */
static void test_jobs(void **state)
{
	static const char *const bad[] = { "0", "17", "-1", "4x", "" };
	struct fixture *fx = *state;
	struct config *c = config_new();
	char *text, *msg;
	size_t i;

	assert_non_null(c);
	c->storage = STORAGE_LOCAL;
	set(&c->storage_path, "/srv/dvc");
	c->storage_jobs = 8;
	round_trip(fx, c);
	text = read_text(fx->path);
	assert_non_null(strstr(text, "path = /srv/dvc\njobs = 8\n\n[sync]"));
	free(text);
	assert_int_equal(config_storage_jobs(c), 8);

	c->storage_jobs = CONFIG_DEFAULT_JOBS;
	round_trip(fx, c);
	text = read_text(fx->path);
	assert_null(strstr(text, "jobs"));
	free(text);

	c->storage_jobs = 0;	/* a zeroed struct: the default */
	assert_int_equal(config_storage_jobs(c), CONFIG_DEFAULT_JOBS);
	c->storage_jobs = CONFIG_MAX_JOBS + 1;
	expect_validate_error(c, "'jobs' in [storage] is above 16");
	assert_int_equal(config_save(c, fx->path), -EINVAL);
	config_free(c);

	write_text(fx->path, "[storage]\ntype = local\npath = /a\nJobs = 1\n");
	c = load_ok(fx->path);
	assert_int_equal(c->storage_jobs, 1);
	config_free(c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(asprintf(&text, "[storage]\njobs = %s\n",
					  bad[i]) > 0, 1);
		assert_int_equal(asprintf(&msg, "invalid jobs '%s' (1 to 16)",
					  bad[i]) > 0, 1);
		expect_load_error(fx, text, 2, msg);
		free(text);
		free(msg);
	}
}

/* [sync] stall-timeout: 1 to 3600 s, written only when not the default. */
static void test_stall_timeout(void **state)
{
	static const char *const bad[] = { "0", "3601", "-1", "2s", "" };
	struct fixture *fx = *state;
	struct config *c = config_new();
	char *text, *msg;
	size_t i;

	assert_non_null(c);
	assert_int_equal(config_stall_timeout(c), CONFIG_DEFAULT_STALL_TIMEOUT);
	c->stall_timeout = 5;
	round_trip(fx, c);
	text = read_text(fx->path);
	assert_non_null(strstr(text, "[sync]\ninterval = 30\nstall-timeout = 5\n"));
	free(text);
	assert_int_equal(config_stall_timeout(c), 5);

	c->stall_timeout = CONFIG_DEFAULT_STALL_TIMEOUT;
	round_trip(fx, c);
	text = read_text(fx->path);
	assert_null(strstr(text, "stall-timeout"));
	free(text);

	c->stall_timeout = 0;	/* a zeroed struct: the default */
	assert_int_equal(config_stall_timeout(c), CONFIG_DEFAULT_STALL_TIMEOUT);
	c->stall_timeout = CONFIG_MAX_STALL_TIMEOUT + 1;
	expect_validate_error(c, "'stall-timeout' in [sync] is above 3600");
	assert_int_equal(config_save(c, fx->path), -EINVAL);
	config_free(c);

	write_text(fx->path, "[sync]\nStall-Timeout = 1\n");
	c = load_ok(fx->path);
	assert_int_equal(c->stall_timeout, 1);
	config_free(c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(asprintf(&text, "[sync]\nstall-timeout = %s\n",
					  bad[i]) > 0, 1);
		assert_int_equal(asprintf(&msg,
					  "invalid stall-timeout '%s' (1 to 3600 seconds)",
					  bad[i]) > 0, 1);
		expect_load_error(fx, text, 2, msg);
		free(text);
		free(msg);
	}
}

/*
 * [cache] max-size: bytes or K, M, G, T (powers of 1024), written with the
 * largest exact suffix, only when set.
 */
static void test_cache_max_size(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
		const char *written;
	} good[] = {
		{ "1", 1, "1" },
		{ "1000", 1000, "1000" },
		{ "1024", 1024, "1K" },
		{ "500M", 500ULL << 20, "500M" },
		{ "50G", 50ULL << 30, "50G" },
		{ "50g", 50ULL << 30, "50G" },
		{ "1T", 1ULL << 40, "1T" },
		{ "1TiB", 1ULL << 40, "1T" },
		{ "2kb", 2048, "2K" },
		{ "1536K", 1536ULL << 10, "1536K" },
		{ "4194304T", 1ULL << 62, "4194304T" },
	};
	static const char *const bad[] = {
		"0", "0G", "-1", "1.5G", "50 G", "50X", "G", "50GG", "50Gi",
		"4194305T", "99999999999999999999", " 5",
	};
	struct fixture *fx = *state;
	struct config *c = config_new();
	char *text, *msg, buf[32];
	uint64_t v;
	size_t i;

	assert_non_null(c);
	assert_int_equal(c->cache_max_size, 0);	/* no limit */
	round_trip(fx, c);
	text = read_text(fx->path);
	assert_null(strstr(text, "[cache]"));
	free(text);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 0;
		assert_int_equal(config_parse_size(good[i].text, &v), 0);
		assert_int_equal(v, good[i].bytes);
		config_format_size(v, buf, sizeof(buf));
		assert_string_equal(buf, good[i].written);
		c->cache_max_size = v;
		round_trip(fx, c);
		text = read_text(fx->path);
		assert_int_equal(asprintf(&msg, "\n[cache]\nmax-size = %s\n\n",
					  good[i].written) > 0, 1);
		assert_non_null(strstr(text, msg));
		free(msg);
		free(text);
	}
	c->cache_max_size = CONFIG_MAX_CACHE_SIZE + 1;
	expect_validate_error(c, "'max-size' in [cache] is above 4 EiB");
	assert_int_equal(config_save(c, fx->path), -EINVAL);
	config_free(c);

	write_text(fx->path, "[cache]\nmax-size =\n");	/* unset */
	c = load_ok(fx->path);
	assert_int_equal(c->cache_max_size, 0);
	config_free(c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		assert_int_equal(config_parse_size(bad[i], &v), -EINVAL);
		assert_int_equal(v, 7);
		if (bad[i][0] == ' ')
			continue;	/* inih strips it from a line */
		assert_int_equal(asprintf(&text, "[sync]\ninterval = 1\n[cache]\nMax-Size = %s\n",
					  bad[i]) > 0, 1);
		assert_int_equal(asprintf(&msg,
					  "invalid max-size '%s' (bytes, or a number with K, M, G or T, e.g. 50G)",
					  bad[i]) > 0, 1);
		expect_load_error(fx, text, 4, msg);
		free(text);
		free(msg);
	}
}

static void test_other_load_errors(void **state)
{
	struct fixture *fx = *state;
	char *text, *p;
	struct config *c = NULL;
	char *err = NULL;

	expect_load_error(fx, "[cmf]\nserver-url = a\nserver-url = b\n", 3,
			  "duplicate key 'server-url' in [cmf]");
	expect_load_error(fx, "[sync]\ninterval = 1\n[sync]\nInterval = 2\n",
			  4, "duplicate key 'interval' in [sync]");
	expect_load_error(fx, "server-url = http://x\n", 1,
			  "key 'server-url' outside of any section");
	expect_load_error(fx, "[cmf]\n\njunk\n", 3,
			  SYNTAX_ERROR);
	expect_load_error(fx, "[cmf\n", 1,
			  SYNTAX_ERROR);
	/* The first error wins, whoever finds it. */
	expect_load_error(fx, "[cmf]\njunk\n[storage]\ntype = ftp\n", 2,
			  SYNTAX_ERROR);
	expect_load_error(fx, "[storage]\ntype = ftp\njunk\n", 2,
			  "unknown storage type 'ftp'");
	expect_load_error(fx, "[storage]\ntype = local\npath = /a\n  /b\n", 4,
			  "continuation line for 'path' in [storage]");

	/* Over-long lines are refused, not split. */
	text = malloc(1024);
	assert_non_null(text);
	memcpy(text, "[neo4j]\npassword = ", 19);
	for (p = text + 19; p < text + 1000; p++)
		*p = 'x';
	memcpy(p, "\n", 2);
	write_text(fx->path, text);
	assert_int_equal(config_load(fx->path, &c, &err), -EINVAL);
	assert_null(c);
	assert_non_null(err);
	assert_non_null(strstr(err, "line 2: line too long"));
	free(err);
	free(text);

	/* Loading without a message still fails the same way. */
	write_text(fx->path, "[storage]\ntype = ftp\n");
	assert_int_equal(config_load(fx->path, &c, NULL), -EINVAL);
	assert_null(c);
}

static void test_save_errors(void **state)
{
	static const char *const bad[] = {
		"/a\nb", "/a\rb", " /a", "/a ", "/a ;b", "/a\t;b",
	};
	struct fixture *fx = *state;
	struct config *c = config_new();
	char *path;
	size_t i;

	assert_non_null(c);
	c->storage = STORAGE_LOCAL;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set(&c->storage_path, bad[i]);
		assert_int_equal(config_save(c, fx->path), -EINVAL);
		assert_int_equal(count_entries(fx->dir), 0);
	}
	/* ';' is fine when not after whitespace. */
	set(&c->storage_path, "/a;b");
	assert_int_equal(config_save(c, fx->path), 0);

	c->sync_interval = 86401;
	assert_int_equal(config_save(c, fx->path), -EINVAL);
	c->sync_interval = 30;
	c->storage = (enum storage_type)42;
	assert_int_equal(config_save(c, fx->path), -EINVAL);
	c->storage = STORAGE_LOCAL;

	assert_int_equal(asprintf(&path, "%s/no/such/dir/.cmfconfig",
				  fx->dir) > 0, 1);
	assert_int_equal(config_save(c, path), -ENOENT);
	free(path);
	assert_int_equal(count_entries(fx->dir), 1);
	config_free(c);
}

static void test_validate(void **state)
{
	struct config *c = config_new();

	(void)state;
	assert_non_null(c);

	set(&c->server_url, "127.0.0.1:8080");
	expect_validate_error(c,
			      "'server-url' in [cmf] is not an http(s):// URL");
	set(&c->server_url, "https://cmf.example.org/");
	c->sync_interval = 86401;
	expect_validate_error(c, "'interval' in [sync] is above 86400");
	c->sync_interval = 30;

	c->storage = STORAGE_LOCAL;
	expect_validate_error(c, "storage type 'local' needs an absolute "
			      "'path' in [storage]");
	set(&c->storage_path, "relative/dir");
	expect_needs(c, "an absolute 'path'");
	set(&c->storage_path, "/abs/dir");
	assert_int_equal(config_validate(c, NULL), 0);

	c->storage = STORAGE_S3;
	set(&c->storage_url, "http://bucket");
	expect_needs(c, "'url = s3://BUCKET[/PREFIX]'");
	set(&c->storage_url, "s3://");
	expect_needs(c, "'url = s3://BUCKET[/PREFIX]'");
	set(&c->storage_url, "s3://bucket/prefix");
	expect_needs(c, "an http(s):// 'endpoint-url'");
	set(&c->endpoint_url, "http://127.0.0.1:18080");
	expect_needs(c, "'access-key-id'");
	set(&c->access_key_id, "id");
	expect_needs(c, "'secret-key'");
	set(&c->secret_key, "secret");
	assert_int_equal(config_validate(c, NULL), 0);

	c->storage = STORAGE_SSH;
	expect_needs(c, "'url = ssh://[USER@]HOST[:PORT][/PATH]'");
	set(&c->storage_url, "ssh://user@/path");
	expect_needs(c, "'url = ssh://[USER@]HOST[:PORT][/PATH]'");
	set(&c->storage_url, "ssh://host");
	expect_needs(c, "'host-key-sha256' (the server's key fingerprint: ssh-keyscan -p PORT HOST | ssh-keygen -lf -)");
	set(&c->ssh_host_key_sha256, "AAAA");
	assert_int_equal(config_validate(c, NULL), 0);
	set(&c->ssh_key, "id_rsa");
	expect_needs(c, "an absolute 'key' path");
	set(&c->ssh_key, "/keys/id_rsa");
	assert_int_equal(config_validate(c, NULL), 0);

	c->storage = STORAGE_OSDF;
	expect_needs(c, "'url = https://HOST/PATH'");
	set(&c->storage_url, "https://origin/ns");
	expect_needs(c, "an absolute 'token' file path");
	set(&c->token_file, "/run/token");
	assert_int_equal(config_validate(c, NULL), 0);

	c->storage = (enum storage_type)42;
	expect_validate_error(c, "invalid storage type 42");
	config_free(c);
}

/*
 * A value starting with ';' (right after the '=') is a value, not an
 * inline comment; saved, it must read back the same (found by fuzz_config:
 * "k = ;x" was written, which reads back as an empty value).
 */
static void test_leading_semicolon_values(void **state)
{
	struct fixture *fx = *state;
	struct config *c;
	int i;

	/* (a server-url ";odd" is refused on load: it is no http URL) */
	write_text(fx->path, "[extra]\nj =;odd\nk =;-url = v\n");
	for (i = 0; i < 2; i++) {
		c = load_ok(fx->path);
		assert_str_or_null(config_get_foreign(c, "extra", "j"), ";odd");
		assert_str_or_null(config_get_foreign(c, "extra", "k"), ";-url = v");
		assert_int_equal(config_save(c, fx->path), 0);
		config_free(c);
	}
}

/*
 * A foreign value that might not read back the same is refused on save, as
 * ours are (found by fuzz_config): here a continuation line holding ';'
 * after a space, which inih versions with inline comments on continuation
 * lines would cut.
 */
static void test_save_refuses_unreadable_foreign_values(void **state)
{
	struct fixture *fx = *state;
	struct config *c;
	char key[61], text[200];

	memset(key, 'k', 60);
	key[60] = '\0';
	snprintf(text, sizeof(text), "[extra]\n%s = a\n\tb ;c\n", key);
	write_text(fx->path, text);
	c = load_ok(fx->path);
	assert_int_equal(config_save(c, fx->path), -EINVAL);
	config_free(c);
}

/*
 * A continuation line of a key longer than inih's 50-byte name buffer is
 * still a continuation (found by fuzz_config: inih hands it over under the
 * truncated name, and it loaded as a key of its own).
 */
static void test_continuation_of_a_long_key(void **state)
{
	struct fixture *fx = *state;
	struct config *c;
	char key[61], text[200];

	memset(key, 'k', 60);
	key[60] = '\0';
	snprintf(text, sizeof(text), "[extra]\n%s = a\n\tb\n", key);
	write_text(fx->path, text);
	c = load_ok(fx->path);
	assert_int_equal(c->n_foreign, 1);
	assert_int_equal(c->foreign[0].n_entries, 1);
	assert_str_or_null(config_get_foreign(c, "extra", key), "a\nb");
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_storage_type_names),
		cmocka_unit_test(test_validate),
#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		FX_TEST(test_round_trip_local),
		FX_TEST(test_round_trip_s3),
		FX_TEST(test_round_trip_ssh),
		FX_TEST(test_round_trip_osdf),
		FX_TEST(test_file_mode),
		FX_TEST(test_upstream_file),
		FX_TEST(test_foreign_sections),
		FX_TEST(test_lenient_values),
		FX_TEST(test_load_validates),
		FX_TEST(test_load_hostile_file),
		FX_TEST(test_missing_file),
		FX_TEST(test_bad_storage_type),
		FX_TEST(test_unknown_key),
		FX_TEST(test_bad_interval),
		FX_TEST(test_jobs),
		FX_TEST(test_stall_timeout),
		FX_TEST(test_cache_max_size),
		FX_TEST(test_other_load_errors),
		FX_TEST(test_save_errors),
		FX_TEST(test_leading_semicolon_values),
		FX_TEST(test_save_refuses_unreadable_foreign_values),
		FX_TEST(test_continuation_of_a_long_key),
#undef FX_TEST
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
