/* SPDX-License-Identifier: MIT */
/*
 * The redo log and batched logging (core/redo.h, store.h, doc/design.md
 * §6): frames read back as written, a torn or corrupt frame ends the log;
 * a process that logs files and dies without committing loses none of
 * them: the next open applies its records, once, with the same ids and
 * times; what other connections see before and after a commit.
 */
#include "redo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testdb.h"

#include "model.h"

#define MD5_A "0cc175b9c0f1b6a831c399e269772661"
#define MD5_B "92eb5ffee6ae2fec3ad71c777531578f"

struct fixture {
	char dir[64];
	char path[128];
	int dirfd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (testdb_dir(f->dir, sizeof(f->dir), f->path, sizeof(f->path),
		       "redo") < 0)
		return -1;
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	*state = f;
	return f->dirfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int r;

	close(f->dirfd);
	r = testdb_remove(f->dir);
	free(f);
	return r;
}

struct seen {
	unsigned n;
	uint64_t seq[16];
	char rec[16][32];
};

static int collect(void *ud, uint64_t seq, const void *rec, size_t len)
{
	struct seen *s = ud;

	assert_true(len < sizeof(s->rec[0]));
	s->seq[s->n] = seq;
	memcpy(s->rec[s->n], rec, len);
	s->rec[s->n][len] = '\0';
	s->n++;
	return 0;
}

static off_t file_size(struct fixture *f, const char *name)
{
	struct stat st;

	assert_int_equal(fstatat(f->dirfd, name, &st, 0), 0);
	return st.st_size;
}

static void frames_read_back_and_a_torn_one_ends_the_log(void **state)
{
	struct fixture *f = *state;
	struct redo *rl;
	struct seen s = { 0 };
	uint64_t last;
	off_t size;
	int fd;

	assert_int_equal(redo_open(f->dirfd, "log", true, &rl), 0);
	assert_int_equal(redo_append(rl, 1, "one", 3), 0);
	assert_int_equal(redo_append(rl, 2, "two", 3), 0);
	assert_int_equal(redo_append(rl, 3, "three", 5), 0);
	assert_int_equal(redo_drop_last(rl), 0);	/* "three" taken back */
	assert_int_equal(redo_append(rl, 3, "four", 4), 0);
	assert_int_equal(redo_each(rl, collect, &s, &last), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.rec[0], "one");
	assert_string_equal(s.rec[2], "four");
	assert_int_equal(last, 3);
	redo_close(rl);

	/* half a frame more, as a disk that filled up mid-write leaves */
	size = file_size(f, "log");
	fd = openat(f->dirfd, "log", O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "CMR1\x05\0\0\0", 8), 8);
	close(fd);
	assert_int_equal(redo_open(f->dirfd, "log", false, &rl), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(redo_each(rl, collect, &s, &last), 0);
	assert_int_equal(s.n, 3);
	redo_close(rl);

	/* one byte of a record changed: that frame and the rest are ignored */
	fd = openat(f->dirfd, "log", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, size - 2), 1);
	close(fd);
	assert_int_equal(redo_open(f->dirfd, "log", false, &rl), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(redo_each(rl, collect, &s, &last), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(last, 2);
	assert_int_equal(redo_reset(rl), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(redo_each(rl, collect, &s, &last), 0);
	assert_int_equal(s.n, 0);
	redo_close(rl);
	assert_int_equal(file_size(f, "log"), 0);
}

static void a_link_is_not_opened(void **state)
{
	struct fixture *f = *state;
	struct redo *rl;

	assert_int_equal(symlinkat("/etc/passwd", f->dirfd, "link"), 0);
	assert_int_equal(redo_open(f->dirfd, "link", true, &rl), -ELOOP);
	assert_int_equal(mkfifoat(f->dirfd, "fifo", 0600), 0);
	assert_true(redo_open(f->dirfd, "fifo", true, &rl) < 0);
}

/* Rows of @sql in the store as another connection sees them. */
static int64_t count(struct fixture *f, const char *sql)
{
	return testdb_int(f->path, sql);
}

static struct model *open_batched(struct fixture *f)
{
	struct model *m = NULL;
	char *err = NULL;

	assert_int_equal(model_open(f->path, MODEL_CREATE, &m, &err), 0);
	assert_int_equal(model_redo_attach(m, f->dirfd, "redo",
					   MODEL_REDO_BATCH, &err), 0);
	return m;
}

#define FILES 40

/*
 * A child logs FILES files (and a second version of one) and dies without
 * committing; the parent opens the store: before the attach another
 * connection sees none of them, after it all, with the ids, times and
 * events the child's process had seen; a second open applies nothing.
 */
static void a_process_that_dies_loses_no_logged_file(void **state)
{
	struct fixture *f = *state;
	struct entry e, first = { 0 };
	struct model *m;
	int64_t p, s, x, ctime0 = 0, before;
	int status, i;
	pid_t pid;

	m = open_batched(f);
	assert_int_equal(model_pipeline_create(m, "p", &p), 0);
	assert_int_equal(model_stage_create(m, p, "p", "s", &s), 0);
	assert_int_equal(model_execution_create(m, s, "e", NULL, &x), 0);
	model_close(m);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char name[32];

		m = open_batched(f);
		for (i = 0; i < FILES; i++) {
			snprintf(name, sizeof(name), "f%02d", i);
			if (model_entry_create(m, x, SIDE_OUTPUTS, 0, name,
					       0644, 0, 0, &e) < 0 ||
			    model_entry_log(m, e.id, i % 2 ? MD5_A : MD5_B, 1,
					    1000 + i, NULL) < 0)
				_exit(1);
			if (i == 0)
				first = e;
		}
		if (model_entry_log(m, first.id, MD5_A, 1, 5000, NULL) < 0 ||
		    model_entry_get(m, first.id, &e) < 0 ||
		    strcmp(e.md5, MD5_A))
			_exit(2);
		/* seen by the process itself at once */
		_exit(0);	/* no model_close(): the batch is not committed */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/*
	 * The store opens clean and holds what the child's batches the
	 * flusher committed (none, unless the child ran slower than
	 * STORE_BATCH_AGE_MS: valgrind); the rest is in the log.
	 */
	before = count(f, "SELECT count(*) FROM cmffs_entry");
	assert_true(before >= 0 && before <= FILES);
	assert_true(before == FILES || file_size(f, "redo") > 0);

	m = open_batched(f);
	assert_int_equal(count(f, "SELECT count(*) FROM cmffs_entry"), FILES);
	/* the execution uses two distinct contents: two artifacts, events */
	assert_int_equal(count(f, "SELECT count(*) FROM Event"), 2);
	assert_int_equal(count(f, "SELECT count(DISTINCT uri) FROM Artifact"), 2);
	assert_int_equal(count(f, "SELECT min(id) FROM cmffs_entry"), 1);
	assert_int_equal(count(f, "SELECT max(id) FROM cmffs_entry"), FILES);
	assert_int_equal(count(f, "SELECT mtime_ns FROM cmffs_entry WHERE name = 'f00'"),
			 5000);
	assert_int_equal(file_size(f, "redo"), 0);
	assert_int_equal(model_entry_lookup(m, x, SIDE_OUTPUTS, 0, "f00", &e), 0);
	assert_string_equal(e.md5, MD5_A);
	ctime0 = count(f, "SELECT ctime_ns FROM cmffs_entry WHERE name = 'f01'");
	assert_true(ctime0 > 0);
	model_close(m);

	/* once only */
	m = open_batched(f);
	assert_int_equal(count(f, "SELECT count(*) FROM Event"), 2);
	assert_int_equal(count(f, "SELECT ctime_ns FROM cmffs_entry WHERE name = 'f01'"),
			 ctime0);
	model_close(m);
}

/*
 * Another connection sees a batched change once the batch is committed:
 * by model_flush(), before another write of the process, or by age.
 */
static void other_connections_see_committed_batches(void **state)
{
	struct fixture *f = *state;
	struct model *m = open_batched(f);
	struct entry e;
	int64_t p, s, x;
	int i;

	assert_int_equal(model_pipeline_create(m, "p", &p), 0);
	assert_int_equal(model_stage_create(m, p, "p", "s", &s), 0);
	assert_int_equal(model_execution_create(m, s, "e", NULL, &x), 0);
	assert_int_equal(model_entry_create(m, x, SIDE_INPUTS, 0, "a", 0644,
					    0, 0, &e), 0);
	assert_int_equal(model_entry_log(m, e.id, MD5_A, 1, 1, NULL), 0);
	assert_int_equal(model_flush(m), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM cmffs_entry"), 1);
	assert_int_equal(file_size(f, "redo"), 0);

	assert_int_equal(model_entry_create(m, x, SIDE_INPUTS, 0, "b", 0644,
					    0, 0, &e), 0);
	/* a write of its own (a new execution) commits the batch first */
	assert_int_equal(model_execution_create(m, s, "e2", NULL, &x), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM cmffs_entry"), 2);

	/* the flusher commits a batch STORE_BATCH_AGE_MS after it began */
	assert_int_equal(model_entry_create(m, x, SIDE_INPUTS, 0, "c", 0644,
					    0, 0, &e), 0);
	for (i = 0; i < 200 && count(f, "SELECT count(*) FROM cmffs_entry") < 3;
	     i++)
		usleep(10000);
	assert_int_equal(count(f, "SELECT count(*) FROM cmffs_entry"), 3);

	/* a change that fails leaves neither rows nor a record */
	assert_int_equal(model_entry_create(m, x, SIDE_INPUTS, 0, "c", 0644,
					    0, 0, &e), -EEXIST);
	assert_int_equal(model_entry_log(m, 999, MD5_A, 1, 1, NULL), -ENOENT);
	assert_int_equal(file_size(f, "redo"), 0);
	model_close(m);
	assert_int_equal(count(f, "SELECT count(*) FROM cmffs_entry"), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			frames_read_back_and_a_torn_one_ends_the_log, setup,
			teardown),
		cmocka_unit_test_setup_teardown(a_link_is_not_opened, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_process_that_dies_loses_no_logged_file, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			other_connections_see_committed_batches, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
