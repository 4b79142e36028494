/* SPDX-License-Identifier: MIT */
/*
 * Hashing and the content store: MD5 vectors, streamed vs whole-file
 * hashes, DVC 3 layout, read-only objects, de-duplication, names.
 */
#include "cas.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dirmanifest.h"
#include "names.h"
#include "value.h"

static void test_md5_vectors(void **state)
{
	char hex[MD5_HEX_LEN + 1];
	struct hash *h = hash_new();

	(void)state;
	assert_int_equal(hash_buf("", 0, hex), 0);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	assert_int_equal(hash_buf("a", 1, hex), 0);
	assert_string_equal(hex, "0cc175b9c0f1b6a831c399e269772661");
	/* streamed in pieces == whole */
	assert_int_equal(hash_update(h, "hel", 3), 0);
	assert_int_equal(hash_update(h, "lo\n", 3), 0);
	assert_int_equal(hash_final(h, hex), 0);
	assert_string_equal(hex, "b1946ac92492d2347c6235b4d2611184");
	hash_free(h);
	assert_true(hash_is_md5("b1946ac92492d2347c6235b4d2611184"));
	assert_false(hash_is_md5("B1946ac92492d2347c6235b4d2611184"));
	assert_false(hash_is_md5("b1946ac9"));
}

static void test_store_layout(void **state)
{
	char dir[] = "/tmp/cmffs-test-cas-XXXXXX";
	char hex[MD5_HEX_LEN + 1], cmd[128], buf[16];
	struct cas *cas = NULL;
	struct cas_tmp t1, t2;
	char *path = NULL;
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(cas_open(dir, &cas), 0);
	assert_int_equal(cas_tmp_create(cas, &t1), 0);
	assert_int_equal(write(t1.fd, "hello\n", 6), 6);
	assert_int_equal(hash_fd(t1.fd, hex), 0);
	assert_false(cas_has(cas, hex));
	assert_int_equal(cas_commit(cas, &t1, hex), 0);
	close(t1.fd);
	assert_true(cas_has(cas, hex));
	assert_int_equal(cas_object_path(cas, hex, &path), 0);
	assert_non_null(strstr(path, "/.cmf/cache/files/md5/b1/946ac92492d2347c6235b4d2611184"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);
	assert_int_equal(st.st_size, 6);
	/* the same bytes again: stored once, the first copy untouched */
	assert_int_equal(cas_tmp_create(cas, &t2), 0);
	assert_int_equal(write(t2.fd, "hello\n", 6), 6);
	assert_int_equal(cas_commit(cas, &t2, hex), 0);
	close(t2.fd);
	assert_int_equal(cas_open_object(cas, hex, &fd), 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	close(fd);
	assert_int_equal(cas_open_object(cas, "d41d8cd98f00b204e9800998ecf8427e", &fd), -ENOENT);
	assert_int_equal(cas_commit(cas, &t2, "not-a-hash"), -EINVAL);
	free(path);
	cas_close(cas);
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	assert_int_equal(system(cmd), 0);
}

static void make_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/*
 * Links in the store are refused, never followed: .cmf/tmp linking to a
 * directory whose files the crash cleanup would delete, a fan-out
 * directory linking out of the workspace, an object that is a link or a
 * FIFO.  Directories are made 0700 whatever the umask.
 */
static void test_store_follows_no_link(void **state)
{
	char dir[] = "/tmp/cmffs-test-cas-XXXXXX";
	char p[256], q[256], cmd[256], hex[MD5_HEX_LEN + 1];
	struct cas *cas = NULL;
	struct cas_tmp t;
	struct stat st;
	mode_t old;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	old = umask(022);
	/* .cmf/tmp -> victim/: cas_open must not empty victim/ */
	snprintf(p, sizeof(p), "%s/victim", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/victim/precious", dir);
	make_file(p, "keep me\n");
	snprintf(p, sizeof(p), "%s/ws", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/ws/.cmf", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/ws/.cmf/tmp", dir);
	snprintf(q, sizeof(q), "%s/victim", dir);
	assert_int_equal(symlink(q, p), 0);
	snprintf(p, sizeof(p), "%s/ws", dir);
	assert_int_equal(cas_open(p, &cas), -ELOOP);
	snprintf(p, sizeof(p), "%s/victim/precious", dir);
	assert_int_equal(stat(p, &st), 0);

	/* a real tmp/: opens, and the directories it made are 0700 */
	snprintf(p, sizeof(p), "%s/ws/.cmf/tmp", dir);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/ws", dir);
	assert_int_equal(cas_open(p, &cas), 0);
	snprintf(p, sizeof(p), "%s/ws/.cmf/cache", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(p, sizeof(p), "%s/ws/.cmf/tmp", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* fan-out directory b1 -> victim/: the commit is refused */
	snprintf(p, sizeof(p), "%s/ws/.cmf/cache/files/md5/b1", dir);
	snprintf(q, sizeof(q), "%s/victim", dir);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(cas_tmp_create(cas, &t), 0);
	assert_int_equal(write(t.fd, "hello\n", 6), 6);
	assert_int_equal(hash_fd(t.fd, hex), 0);
	assert_int_equal(cas_commit(cas, &t, hex), -ELOOP);
	snprintf(p, sizeof(p), "%s/victim/946ac92492d2347c6235b4d2611184", dir);
	assert_int_equal(lstat(p, &st), -1);
	/* nor is an object read through it */
	make_file(p, "hello\n");
	assert_int_equal(cas_open_object(cas, hex, &fd), -ELOOP);
	assert_false(cas_has(cas, hex));
	snprintf(p, sizeof(p), "%s/ws/.cmf/cache/files/md5/b1", dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(cas_commit(cas, &t, hex), 0);
	cas_tmp_discard(cas, &t);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* an object that is a link or a FIFO is not opened */
	snprintf(p, sizeof(p), "%s/ws/.cmf/cache/files/md5/0c", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/ws/.cmf/cache/files/md5/0c/c175b9c0f1b6a831c399e269772661", dir);
	snprintf(q, sizeof(q), "%s/victim/precious", dir);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(cas_open_object(cas, "0cc175b9c0f1b6a831c399e269772661", &fd), -ELOOP);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(10);
	assert_int_equal(cas_open_object(cas, "0cc175b9c0f1b6a831c399e269772661", &fd), -EMEDIUMTYPE);
	alarm(0);
	assert_false(cas_has(cas, "0cc175b9c0f1b6a831c399e269772661"));
	cas_close(cas);
	umask(old);
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	assert_int_equal(system(cmd), 0);
}

/* Commit @text into @cas; its object id into @hex. */
static void commit_text(struct cas *cas, const char *text,
			char hex[MD5_HEX_LEN + 1])
{
	struct cas_tmp t;

	assert_int_equal(cas_tmp_create(cas, &t), 0);
	assert_int_equal(write(t.fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(hash_fd(t.fd, hex), 0);
	assert_int_equal(cas_commit(cas, &t, hex), 0);
	cas_tmp_discard(cas, &t);
}

struct seen {
	char oid[4][MD5_HEX_LEN + 5];
	uint64_t size[4];
	int n;
};

static int seen_object(void *ud, const struct cas_object *o)
{
	struct seen *s = ud;

	assert_true(s->n < 4);
	memcpy(s->oid[s->n], o->oid, sizeof(o->oid));
	s->size[s->n++] = o->size;
	return 0;
}

static struct timespec atime_of(struct cas *cas, const char *oid)
{
	struct stat st;
	char *path = NULL;

	assert_int_equal(cas_object_path(cas, oid, &path), 0);
	assert_int_equal(lstat(path, &st), 0);
	free(path);
	return st.st_atim;
}

/*
 * What the bounded cache (cache.h) is built on: listing objects (nothing
 * else), a read through cas_read_object() stamping the atime where
 * cas_open_object() does not, removing an object unless it was read since
 * it was listed, the commit hold against a gc sweep, and a crash's
 * temporaries removed but not those of a live process.
 */
static void test_cache_primitives(void **state)
{
	char dir[] = "/tmp/cmffs-test-cas-XXXXXX";
	char a[MD5_HEX_LEN + 1], b[MD5_HEX_LEN + 1], p[256], cmd[256];
	const struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	struct cas *cas = NULL, *other = NULL;
	struct seen seen = { 0 };
	struct timespec t;
	char *path = NULL;
	char buf[16];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(cas_open(dir, &cas), 0);
	commit_text(cas, "hello\n", a);
	commit_text(cas, "other bytes\n", b);
	/* not objects: a stray name, a link and a FIFO named as objects */
	snprintf(p, sizeof(p), "%s/.cmf/cache/files/md5/b1/stray", dir);
	make_file(p, "x");
	snprintf(p, sizeof(p), "%s/.cmf/cache/files/md5/0c", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/.cmf/cache/files/md5/0c/c175b9c0f1b6a831c399e269772661", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/.cmf/cache/files/md5/0c/c175b9c0f1b6a831c399e269772662", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(cas_list(cas, seen_object, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_true(!strcmp(seen.oid[0], a) || !strcmp(seen.oid[1], a));
	assert_true(!strcmp(seen.oid[0], b) || !strcmp(seen.oid[1], b));

	/* cas_open_object() reads without counting; cas_read_object() counts */
	assert_int_equal(cas_object_path(cas, a, &path), 0);
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	assert_int_equal(cas_open_object(cas, a, &fd), 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	close(fd);
	assert_int_equal(atime_of(cas, a).tv_sec, 1000);
	assert_int_equal(cas_read_object(cas, a, &fd), 0);
	close(fd);
	t = atime_of(cas, a);
	assert_true(t.tv_sec > 1000);

	/* removed unless read since it was listed */
	t.tv_nsec ^= 1;
	assert_int_equal(cas_remove(cas, a, &t), -ESTALE);
	assert_true(cas_has(cas, a));
	t = atime_of(cas, a);
	assert_int_equal(cas_remove(cas, a, &t), 0);
	assert_false(cas_has(cas, a));
	assert_int_equal(cas_remove(cas, a, NULL), -ENOENT);
	assert_int_equal(cas_read_object(cas, a, &fd), -ENOENT);
	assert_int_equal(cas_remove(cas, b, NULL), 0);

	/* a commit's hold and a sweep exclude each other, across cas objects */
	assert_int_equal(cas_open(dir, &other), 0);
	cas_hold(cas);
	cas_hold(cas);		/* nested */
	assert_int_equal(cas_sweep_lock(cas, 0), -EDEADLK);
	assert_int_equal(cas_sweep_lock(other, 0), -EBUSY);
	cas_unhold(cas);
	assert_int_equal(cas_sweep_lock(other, 0), -EBUSY);
	cas_unhold(cas);
	assert_int_equal(cas_sweep_lock(other, 0), 0);
	snprintf(p, sizeof(p), "%s/.cmf/cache.lock", dir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_SH | LOCK_NB), -1);	/* a hold waits */
	cas_sweep_unlock(other);
	assert_int_equal(flock(fd, LOCK_SH | LOCK_NB), 0);
	close(fd);
	cas_close(other);

	/* temporaries: a crash's go, a live process's stay (pid 1 lives) */
	snprintf(p, sizeof(p), "%s/.cmf/tmp/w1-7", dir);
	make_file(p, "live");
	snprintf(p, sizeof(p), "%s/.cmf/tmp/w2147483646-7", dir);
	make_file(p, "dead");
	snprintf(p, sizeof(p), "%s/.cmf/tmp/w%d-8", dir, (int)getpid());
	make_file(p, "this process's: a writer of this process");
	assert_int_equal(cas_open(dir, &other), 0);
	cas_close(other);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/.cmf/tmp/w1-7", dir);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/.cmf/tmp/w2147483646-7", dir);
	assert_int_equal(access(p, F_OK), -1);

	free(path);
	cas_close(cas);
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	assert_int_equal(system(cmd), 0);
}

static void test_names(void **state)
{
	const char *why;
	char long_name[300];

	(void)state;
	assert_int_equal(name_check("data.csv", &why), 0);
	assert_int_equal(name_check("daten-ä.csv", &why), 0);
	assert_int_equal(name_check("a:b", &why), -EINVAL);
	assert_int_equal(name_check("..", &why), -EINVAL);
	assert_int_equal(name_check("bad\xff", &why), -EINVAL);
	assert_int_equal(name_check("\xc0\xaf", &why), -EINVAL);	/* overlong */
	assert_int_equal(name_check("tab\there", &why), -EINVAL);
	memset(long_name, 'x', 256);
	long_name[256] = '\0';
	assert_int_equal(name_check(long_name, &why), -EINVAL);
	long_name[255] = '\0';
	assert_int_equal(name_check(long_name, &why), 0);
}

static void test_values(void **state)
{
	struct value v;
	char buf[32] = "  0.5\n";
	size_t len = strlen(buf);
	char *t;

	(void)state;
	t = value_trim(buf, &len);
	assert_string_equal(t, "0.5");
	value_parse(t, &v);
	assert_int_equal(v.kind, VALUE_DOUBLE);
	value_parse("42", &v);
	assert_int_equal(v.kind, VALUE_INT);
	assert_int_equal(v.i, 42);
	value_parse("-7", &v);
	assert_int_equal(v.kind, VALUE_INT);
	value_parse("1e3", &v);
	assert_int_equal(v.kind, VALUE_DOUBLE);
	value_parse("nan", &v);
	assert_int_equal(v.kind, VALUE_STRING);
	value_parse("0x10", &v);
	assert_int_equal(v.kind, VALUE_STRING);
	value_parse("99999999999999999999", &v);
	assert_int_equal(v.kind, VALUE_DOUBLE);
	value_parse("adam", &v);
	assert_int_equal(v.kind, VALUE_STRING);
	assert_string_equal(v.s, "adam");
}

static void test_dir_manifest(void **state)
{
	struct manifest_entry e[2] = {
		{ .relpath = strdup("sub/2.txt"), .md5 = "a237457aa730c396e5acdbc5a64c8453" },
		{ .relpath = strdup("1.txt"), .md5 = "0cc175b9c0f1b6a831c399e269772661" },
	};
	struct manifest_entry *parsed = NULL;
	char oid[DIR_OID_LEN + 1], *bytes = NULL, *err = NULL;
	size_t len, n;

	(void)state;
	/* doc/cmf-upstream.md §1.7: the exact bytes and hashes DVC 3 makes */
	assert_int_equal(manifest_build(e, 2, &bytes, &len, oid), 0);
	assert_string_equal(bytes,
			    "[{\"md5\": \"0cc175b9c0f1b6a831c399e269772661\", \"relpath\": \"1.txt\"}, "
			    "{\"md5\": \"a237457aa730c396e5acdbc5a64c8453\", \"relpath\": \"sub/2.txt\"}]");
	assert_string_equal(oid, "cdf3bd6fcaedc8948f7610566fc7785f.dir");
	assert_true(manifest_is_oid(oid));
	assert_int_equal(manifest_parse(bytes, len, &parsed, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(parsed[1].relpath, "sub/2.txt");
	manifest_free(parsed, n);
	free(bytes);
	free(e[0].relpath);
	free(e[1].relpath);
	assert_int_equal(manifest_build(NULL, 0, &bytes, &len, oid), 0);
	assert_string_equal(bytes, "[]");
	assert_string_equal(oid, "d751713988987e9331980363e24189ce.dir");
	free(bytes);
	/* non-ASCII as Python's ensure_ascii writes it: lowercase \u escapes */
	{
		struct manifest_entry u = { .relpath = strdup("caf\xc3\xa9/\xf0\x9f\x98\x80"),
					    .md5 = "0cc175b9c0f1b6a831c399e269772661" };

		assert_int_equal(manifest_build(&u, 1, &bytes, &len, oid), 0);
		assert_non_null(strstr(bytes, "\"caf\\u00e9/\\ud83d\\ude00\""));
		free(bytes);
		free(u.relpath);
	}
	/* paths that would escape a tree are refused */
	{
		static const char *const bad[] = {
			"[{\"md5\": \"0cc175b9c0f1b6a831c399e269772661\", \"relpath\": \"../x\"}]",
			"[{\"md5\": \"0cc175b9c0f1b6a831c399e269772661\", \"relpath\": \"/etc/passwd\"}]",
			"[{\"md5\": \"0cc175b9c0f1b6a831c399e269772661\", \"relpath\": \"a//b\"}]",
			"[{\"md5\": \"nothex\", \"relpath\": \"a\"}]",
			"{\"not\": \"a list\"}",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(manifest_parse(bad[i], strlen(bad[i]), &parsed, &n, &err), -EINVAL);
			assert_non_null(err);
			free(err);
			err = NULL;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5_vectors),
		cmocka_unit_test(test_store_layout),
		cmocka_unit_test(test_store_follows_no_link),
		cmocka_unit_test(test_cache_primitives),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_dir_manifest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
