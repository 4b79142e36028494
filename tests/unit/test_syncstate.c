/* SPDX-License-Identifier: MIT */
/*
 * What is pushed and what is not (core/syncstate.h): an object is pending
 * until confirmed at the remote, an execution until a server acknowledged
 * its current version.  The state lives in the store, so a crash between
 * a send and its confirmation sends again after a reopen (the crash-resume
 * rule), and what was confirmed is never sent again.
 */
#include "syncstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testdb.h"

#include "model.h"

#define MD5_A "0cc175b9c0f1b6a831c399e269772661"	/* "a" */
#define MD5_B "92eb5ffee6ae2fec3ad71c777531578f"	/* "b" */
#define MD5_C "4a8a08f09d37b73795649038408b5f33"	/* "c" */
#define MD5_D "8277e0910d750195b448797616e091ad"	/* "d" */
#define REMOTE "/srv/remote"
#define SERVER "http://cmf-server:8080"

struct fixture {
	char dir[64];
	char path[128];
	struct model *m;
	int64_t pipeline, prep, train, e1, e2;
};

static int open_model(struct fixture *f, unsigned flags)
{
	char *err = NULL;
	int r = model_open(f->path, flags, &f->m, &err);

	free(err);
	if (r == 0)
		r = model_set_remote(f->m, REMOTE);
	return r;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (testdb_dir(f->dir, sizeof(f->dir), f->path, sizeof(f->path),
		       "syncstate") < 0)
		return -1;
	if (open_model(f, MODEL_CREATE) < 0 ||
	    model_pipeline_create(f->m, "p", &f->pipeline) < 0 ||
	    model_stage_create(f->m, f->pipeline, "p", "prep", &f->prep) < 0 ||
	    model_stage_create(f->m, f->pipeline, "p", "train", &f->train) < 0 ||
	    model_execution_create(f->m, f->prep, "r1", NULL, &f->e1) < 0 ||
	    model_execution_create(f->m, f->train, "r1", NULL, &f->e2) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int r;

	model_close(f->m);
	r = testdb_remove(f->dir);
	free(f);
	return r;
}

/* A crash: the connection goes without a word, and the store is opened
 * again as a new process would (the file is all that is left). */
static void reopen(struct fixture *f)
{
	model_close(f->m);
	f->m = NULL;
	assert_int_equal(open_model(f, 0), 0);
}

/* Wait for the clock to pass @ms, so that a later change has a later time. */
static void after_ms(int64_t ms)
{
	struct timespec ts;

	do {
		usleep(500);
		clock_gettime(CLOCK_REALTIME, &ts);
	} while ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 <= ms);
}

static int64_t logged_file(struct fixture *f, int64_t exec, int side,
			   int64_t parent, const char *name, const char *md5,
			   uint64_t size)
{
	struct entry e;

	assert_int_equal(model_entry_create(f->m, exec, side, parent, name,
					    0644, 0, 0, &e), 0);
	assert_int_equal(model_entry_log(f->m, e.id, md5, size, 1, NULL), 0);
	return e.id;
}

/* --- collectors ---------------------------------------------------------- */

/* "oid=size" items, comma-separated */
struct objects {
	char text[1024];
	int stop_after;		/* > 0: a positive return after that many */
	int n;
};

static int collect_object(void *ud, const char *oid, uint64_t size)
{
	struct objects *o = ud;
	size_t len = strlen(o->text);

	snprintf(o->text + len, sizeof(o->text) - len, "%s%s=%llu",
		 len ? "," : "", oid, (unsigned long long)size);
	o->n++;
	return o->stop_after && o->n >= o->stop_after ? 1 : 0;
}

static const char *pending_objects(struct fixture *f, const char *remote,
				   struct objects *o)
{
	memset(o, 0, sizeof(*o));
	assert_int_equal(syncstate_pending_objects(f->m, remote, collect_object,
						   o), 0);
	return o->text;
}

struct executions {
	struct pending_execution v[16];
	size_t n;
};

static int collect_execution(void *ud, const struct pending_execution *e)
{
	struct executions *l = ud;

	assert_true(l->n < 16);
	l->v[l->n++] = *e;
	return 0;
}

static size_t pending_executions(struct fixture *f, const char *remote,
				 const char *pipeline, struct executions *l)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(syncstate_pending_executions(f->m, SERVER, remote,
						      pipeline,
						      collect_execution, l), 0);
	return l->n;
}

/* The pending execution @id of @l; fails if it is not pending. */
static const struct pending_execution *find(const struct executions *l,
					    int64_t id)
{
	static const struct pending_execution none = { .id = -1 };
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return &l->v[i];
	fail_msg("execution %lld is not pending", (long long)id);
	return &none;
}

static int64_t update_ms(struct fixture *f, int64_t exec)
{
	struct node_times t;

	assert_int_equal(model_execution_times(f->m, exec, &t), 0);
	return t.update_ms;
}

/* --- objects -------------------------------------------------------------- */

static void test_objects_pending_in_log_order(void **state)
{
	struct fixture *f = *state;
	struct objects o;
	struct entry in;
	int64_t x;

	assert_string_equal(pending_objects(f, REMOTE, &o), "");
	x = logged_file(f, f->e1, SIDE_OUTPUTS, 0, "x.csv", MD5_B, 11);
	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "y.csv", MD5_A, 22);
	/* the same bytes used again: one object */
	assert_int_equal(model_entry_link(f->m, x, f->e2, SIDE_INPUTS, 0,
					  "x.csv", &in), 0);
	assert_string_equal(pending_objects(f, REMOTE, &o),
			    MD5_B "=11," MD5_A "=22");
	/* a new version: the earlier one stays pending (every version ever
	 * logged), the new one comes last */
	assert_int_equal(model_entry_log(f->m, x, MD5_C, 33, 2, NULL), 0);
	assert_string_equal(pending_objects(f, REMOTE, &o),
			    MD5_B "=11," MD5_A "=22," MD5_C "=33");
	/* metrics have no bytes: never an object */
	{
		struct metric mv = { "acc", { .kind = VALUE_DOUBLE, .d = 0.5 } };

		assert_int_equal(model_metrics_log(f->m, f->e1, "m", &mv, 1), 0);
	}
	assert_int_equal(pending_objects(f, REMOTE, &o)[0] != '\0', 1);
	assert_int_equal(o.n, 3);
	/* a positive return stops the walk, and is no error */
	memset(&o, 0, sizeof(o));
	o.stop_after = 1;
	assert_int_equal(syncstate_pending_objects(f->m, REMOTE, collect_object,
						   &o), 0);
	assert_string_equal(o.text, MD5_B "=11");
}

static int refuse(void *ud, const char *oid, uint64_t size)
{
	(void)ud;
	(void)oid;
	(void)size;
	return -EIO;
}

static void test_objects_crash_resume(void **state)
{
	struct fixture *f = *state;
	struct objects o;

	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "a", MD5_A, 1);
	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "b", MD5_B, 1);
	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "c", MD5_C, 1);
	/* a pass sends a and b, b is confirmed; then the process dies */
	assert_string_equal(pending_objects(f, REMOTE, &o),
			    MD5_A "=1," MD5_B "=1," MD5_C "=1");
	assert_int_equal(syncstate_object_done(f->m, REMOTE, MD5_B), 0);
	reopen(f);
	/* a (sent, never confirmed) and c (never sent) go again; b not */
	assert_string_equal(pending_objects(f, REMOTE, &o),
			    MD5_A "=1," MD5_C "=1");
	/* a callback's error is the walk's answer */
	assert_int_equal(syncstate_pending_objects(f->m, REMOTE, refuse, NULL),
			 -EIO);
	/* confirming twice is harmless; confirmed is confirmed for good */
	assert_int_equal(syncstate_object_done(f->m, REMOTE, MD5_A), 0);
	assert_int_equal(syncstate_object_done(f->m, REMOTE, MD5_A), 0);
	assert_int_equal(syncstate_object_done(f->m, REMOTE, MD5_C), 0);
	reopen(f);
	assert_string_equal(pending_objects(f, REMOTE, &o), "");
	/* another remote (.cmfconfig changed) has none of them */
	assert_string_equal(pending_objects(f, "s3://other", &o),
			    MD5_A "=1," MD5_B "=1," MD5_C "=1");
	/* what the remote has of a later version is asked of it alone */
	logged_file(f, f->e2, SIDE_OUTPUTS, 0, "d", MD5_D, 4);
	assert_string_equal(pending_objects(f, REMOTE, &o), MD5_D "=4");
}

/* Sizes: 0 where unknown; an object of a pulled file learns its size. */
static void test_unknown_sizes(void **state)
{
	struct fixture *f = *state;
	struct objects o;
	struct entry e;
	int64_t a;

	a = logged_file(f, f->e1, SIDE_OUTPUTS, 0, "pulled",
			MD5_A, ENTRY_SIZE_UNKNOWN);
	logged_file(f, f->e2, SIDE_OUTPUTS, 0, "known", MD5_B, 5);
	logged_file(f, f->e2, SIDE_OUTPUTS, 0, "pulled-too", MD5_A,
		    ENTRY_SIZE_UNKNOWN);
	assert_int_equal(model_entry_get(f->m, a, &e), 0);
	assert_false(e.size_known);
	assert_string_equal(pending_objects(f, REMOTE, &o),
			    MD5_A "=0," MD5_B "=5");
	memset(&o, 0, sizeof(o));
	assert_int_equal(syncstate_unknown_sizes(f->m, collect_object, &o), 0);
	assert_string_equal(o.text, MD5_A "=0");	/* once */
	assert_int_equal(syncstate_set_size(f->m, MD5_A, 1234), 0);
	assert_int_equal(model_entry_get(f->m, a, &e), 0);
	assert_true(e.size_known);
	assert_int_equal(e.size, 1234);
	assert_int_equal(model_entry_lookup(f->m, f->e2, SIDE_OUTPUTS, 0,
					    "pulled-too", &e), 0);
	assert_int_equal(e.size, 1234);	/* every file showing it */
	memset(&o, 0, sizeof(o));
	assert_int_equal(syncstate_unknown_sizes(f->m, collect_object, &o), 0);
	assert_string_equal(o.text, "");
	assert_string_equal(pending_objects(f, REMOTE, &o),
			    MD5_A "=1234," MD5_B "=5");
	/* a known size is never changed by it */
	assert_int_equal(syncstate_set_size(f->m, MD5_B, 99), 0);
	assert_int_equal(model_entry_lookup(f->m, f->e2, SIDE_OUTPUTS, 0,
					    "known", &e), 0);
	assert_int_equal(e.size, 5);
}

static void test_scope_and_paths(void **state)
{
	struct fixture *f = *state;
	struct objects o;
	struct entry in, dir;
	char **paths = NULL;
	size_t n = 0;
	int64_t x;

	x = logged_file(f, f->e1, SIDE_OUTPUTS, 0, "x.csv", MD5_A, 1);
	assert_int_equal(model_entry_mkdir(f->m, f->e2, SIDE_OUTPUTS, 0, "sub",
					   0755, 0, 0, &dir), 0);
	logged_file(f, f->e2, SIDE_OUTPUTS, dir.id, "y.csv", MD5_B, 2);
	assert_int_equal(model_entry_link(f->m, x, f->e2, SIDE_INPUTS, 0,
					  "x.csv", &in), 0);
	memset(&o, 0, sizeof(o));
	assert_int_equal(syncstate_scope_objects(f->m, "p", NULL, NULL,
						 collect_object, &o), 0);
	assert_string_equal(o.text, MD5_A "=1," MD5_B "=2");
	memset(&o, 0, sizeof(o));
	assert_int_equal(syncstate_scope_objects(f->m, "p", "train", NULL,
						 collect_object, &o), 0);
	assert_string_equal(o.text, MD5_B "=2," MD5_A "=1");	/* link later */
	memset(&o, 0, sizeof(o));
	assert_int_equal(syncstate_scope_objects(f->m, "p", "prep", "r1",
						 collect_object, &o), 0);
	assert_string_equal(o.text, MD5_A "=1");
	memset(&o, 0, sizeof(o));
	assert_int_equal(syncstate_scope_objects(f->m, "p", "prep", "nope",
						 collect_object, &o), 0);
	assert_string_equal(o.text, "");
	memset(&o, 0, sizeof(o));
	assert_int_equal(syncstate_scope_objects(f->m, "q", NULL, NULL,
						 collect_object, &o), 0);
	assert_string_equal(o.text, "");
	/* the paths an object is known by, the newest first */
	logged_file(f, f->e2, SIDE_OUTPUTS, 0, "again.csv", MD5_B, 2);
	assert_int_equal(syncstate_object_paths(f->m, MD5_B, &paths, &n), 0);
	assert_int_equal(n, 1);	/* identical bytes of one type: one artifact */
	assert_string_equal(paths[0], "sub/y.csv");
	syncstate_paths_free(paths, n);
	assert_int_equal(model_entry_mkdir(f->m, f->e2, SIDE_OUTPUTS, 0,
					   "models", 0755, 0, 0, &dir), 0);
	logged_file(f, f->e2, SIDE_OUTPUTS, dir.id, "m.bin", MD5_B, 2);
	assert_int_equal(syncstate_object_paths(f->m, MD5_B, &paths, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(paths[0], "models/m.bin");
	assert_string_equal(paths[1], "sub/y.csv");
	syncstate_paths_free(paths, n);
	assert_int_equal(syncstate_object_paths(f->m, MD5_D, &paths, &n), 0);
	assert_int_equal(n, 0);
	syncstate_paths_free(paths, n);
}

/* --- executions ----------------------------------------------------------- */

static void test_executions_oldest_first(void **state)
{
	struct fixture *f = *state;
	struct executions l;
	int64_t other, stage, e3;

	/* new executions are pending: they were never pushed */
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 2);
	assert_int_equal(l.v[0].id, f->e1);
	assert_int_equal(l.v[1].id, f->e2);
	assert_string_equal(l.v[0].pipeline, "p");
	assert_int_equal(l.v[0].update_ms, update_ms(f, f->e1));
	/* e1 changes later than e2: e2 is the older version now */
	after_ms(update_ms(f, f->e2));
	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "a", MD5_A, 1);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 2);
	assert_int_equal(l.v[0].id, f->e2);
	assert_int_equal(l.v[1].id, f->e1);
	assert_true(l.v[1].update_ms > l.v[0].update_ms);
	/* of one pipeline only */
	assert_int_equal(model_pipeline_create(f->m, "q", &other), 0);
	assert_int_equal(model_stage_create(f->m, other, "q", "s", &stage), 0);
	assert_int_equal(model_execution_create(f->m, stage, "r", NULL, &e3), 0);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 3);
	assert_int_equal(pending_executions(f, REMOTE, "q", &l), 1);
	assert_int_equal(l.v[0].id, e3);
	assert_string_equal(l.v[0].pipeline, "q");
	assert_int_equal(pending_executions(f, REMOTE, "none", &l), 0);
}

/* An execution waits for its bytes: missing_objects counts them. */
static void test_missing_objects(void **state)
{
	struct fixture *f = *state;
	struct executions l;
	struct entry in;
	int64_t x;

	x = logged_file(f, f->e1, SIDE_OUTPUTS, 0, "x", MD5_A, 1);
	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "y", MD5_B, 1);
	assert_int_equal(model_entry_link(f->m, x, f->e2, SIDE_INPUTS, 0, "x",
					  &in), 0);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 2);
	assert_int_equal(find(&l, f->e1)->missing_objects, 2);
	assert_int_equal(find(&l, f->e2)->missing_objects, 1);
	/* no storage: nothing is missing */
	assert_int_equal(pending_executions(f, NULL, NULL, &l), 2);
	assert_int_equal(find(&l, f->e1)->missing_objects, 0);
	assert_int_equal(syncstate_object_done(f->m, REMOTE, MD5_A), 0);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 2);
	assert_int_equal(find(&l, f->e1)->missing_objects, 1);
	assert_int_equal(find(&l, f->e2)->missing_objects, 0);
	/* a version the execution no longer shows still counts: it was
	 * logged, and the server will name it */
	assert_int_equal(model_entry_log(f->m, x, MD5_C, 1, 2, NULL), 0);
	assert_int_equal(syncstate_object_done(f->m, REMOTE, MD5_B), 0);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 2);
	assert_int_equal(find(&l, f->e1)->missing_objects, 1);
	assert_int_equal(syncstate_object_done(f->m, REMOTE, MD5_C), 0);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 2);
	assert_int_equal(find(&l, f->e1)->missing_objects, 0);
	assert_int_equal(l.v[0].missing_objects + l.v[1].missing_objects, 0);
}

static void test_executions_crash_resume(void **state)
{
	struct fixture *f = *state;
	struct executions l;
	int64_t v1;

	after_ms(update_ms(f, f->e2));	/* e1's version is the later */
	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "a", MD5_A, 1);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 2);
	/* both sent in one document; the process dies before recording
	 * the answer: both are sent again */
	reopen(f);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 2);
	/* this time e1's answer is recorded, then the process dies */
	assert_int_equal(l.v[1].id, f->e1);
	v1 = l.v[1].update_ms;
	assert_int_equal(syncstate_execution_done(f->m, SERVER, f->e1, v1), 0);
	reopen(f);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 1);
	assert_int_equal(l.v[0].id, f->e2);
	/* acknowledged by one server is not by another */
	memset(&l, 0, sizeof(l));
	assert_int_equal(syncstate_pending_executions(f->m, "http://other",
						      REMOTE, NULL,
						      collect_execution, &l), 0);
	assert_int_equal(l.n, 2);
	/* a new version of e1 is pending again, with its new time */
	after_ms(v1);
	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "b", MD5_B, 1);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 2);
	assert_int_equal(l.v[1].id, f->e1);
	assert_true(l.v[1].update_ms > v1);
	/* an answer about an older version acknowledges that one only */
	assert_int_equal(syncstate_execution_done(f->m, SERVER, f->e1, v1), 0);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 2);
	assert_int_equal(syncstate_execution_done(f->m, SERVER, f->e1,
						  l.v[1].update_ms), 0);
	assert_int_equal(syncstate_execution_done(f->m, SERVER, f->e2,
						  l.v[0].update_ms), 0);
	reopen(f);
	assert_int_equal(pending_executions(f, REMOTE, NULL, &l), 0);
}

/*
 * The push records the version it listed, after the document was sent:
 * a change made meanwhile must leave the execution pending, however soon
 * it comes after the listed version (sync.c: push_batch).
 */
static void test_change_during_a_push_is_not_lost(void **state)
{
	struct fixture *f = *state;
	struct executions l;
	int64_t listed;
	int i;

	for (i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		pending_executions(f, REMOTE, "p", &l);
		listed = find(&l, f->e1)->update_ms;
		/* the export and the push happen here; the user goes on */
		logged_file(f, f->e1, SIDE_OUTPUTS, 0, name,
			    i % 2 ? MD5_A : MD5_B, 1);
		/* the server's answer: the listed version is acknowledged */
		assert_int_equal(syncstate_execution_done(f->m, SERVER, f->e1,
							  listed), 0);
		pending_executions(f, REMOTE, "p", &l);
		if (find(&l, f->e1)->update_ms <= listed)
			fail_msg("pass %d: the change after version %lld was lost",
				 i, (long long)listed);
	}
}

static void test_counts(void **state)
{
	struct fixture *f = *state;
	struct sync_counts c;

	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "a", MD5_A, 1);
	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "b", MD5_B, 1);
	assert_int_equal(syncstate_counts(f->m, REMOTE, SERVER, &c), 0);
	assert_int_equal(c.objects_pending, 2);
	assert_int_equal(c.objects_pushed, 0);
	assert_int_equal(c.executions_pending, 2);
	assert_int_equal(c.executions_pushed, 0);
	assert_int_equal(syncstate_object_done(f->m, REMOTE, MD5_B), 0);
	assert_int_equal(syncstate_execution_done(f->m, SERVER, f->e2,
						  update_ms(f, f->e2)), 0);
	reopen(f);
	assert_int_equal(syncstate_counts(f->m, REMOTE, SERVER, &c), 0);
	assert_int_equal(c.objects_pending, 1);
	assert_int_equal(c.objects_pushed, 1);
	assert_int_equal(c.executions_pending, 1);
	assert_int_equal(c.executions_pushed, 1);
	/* no storage, no server: nothing is pending for them */
	assert_int_equal(syncstate_counts(f->m, NULL, NULL, &c), 0);
	assert_int_equal(c.objects_pending, 0);
	assert_int_equal(c.executions_pending, 0);
	assert_int_equal(syncstate_counts(f->m, "s3://new", SERVER, &c), 0);
	assert_int_equal(c.objects_pending, 2);
	assert_int_equal(c.objects_pushed, 0);
}

/* --- dataslice events ----------------------------------------------------- */

/* A committed dataslice of execution @exec, named @name, bytes @md5. */
static void commit_slice(struct fixture *f, int64_t exec, const char *name,
			 const char *md5)
{
	struct entry dir;

	assert_int_equal(model_entry_mkdir(f->m, exec, SIDE_DATASLICE, 0, name,
					   0755, 0, 0, &dir), 0);
	assert_int_equal(model_dataslice_log(f->m, dir.id, md5, 10), 0);
}

static void test_slice_events(void **state)
{
	struct fixture *f = *state;
	struct slice_event *v = NULL;
	struct executions l;
	int64_t ids[2];
	size_t n = 0;

	ids[0] = f->e1;
	ids[1] = f->e2;
	logged_file(f, f->e1, SIDE_OUTPUTS, 0, "plain", MD5_D, 1);
	commit_slice(f, f->e1, "s1", MD5_A);
	commit_slice(f, f->e2, "s2", MD5_B);
	commit_slice(f, f->e1, "s3", MD5_C);
	assert_int_equal(pending_executions(f, NULL, NULL, &l), 2);
	assert_int_equal(l.v[0].unknown_slices + l.v[1].unknown_slices, 3);
	assert_int_equal(syncstate_slice_events(f->m, SERVER, ids, 2, &v, &n), 0);
	/* in event order, executions in the order asked; none known yet */
	assert_int_equal(n, 3);
	assert_int_equal(v[0].execution_id, f->e1);
	assert_int_equal(v[1].execution_id, f->e1);
	assert_int_equal(v[2].execution_id, f->e2);
	assert_true(v[0].artifact_id < v[1].artifact_id);
	assert_false(v[0].known || v[1].known || v[2].known);
	/* a push carried e1's; the answer is recorded, then a crash */
	assert_int_equal(syncstate_slices_done(f->m, SERVER, v, 2), 0);
	free(v);
	reopen(f);
	assert_int_equal(syncstate_slice_events(f->m, SERVER, ids, 2, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_true(v[0].known && v[1].known);
	assert_false(v[2].known);
	free(v);
	/* another server knows none of them */
	assert_int_equal(syncstate_slice_events(f->m, "http://other", ids, 1,
						&v, &n), 0);
	assert_int_equal(n, 2);
	assert_false(v[0].known || v[1].known);
	free(v);
	/* a server's document shows e2 with an event on s2's uri */
	assert_int_equal(syncstate_slice_seen(f->m, SERVER, f->e2, MD5_D), 0);
	assert_int_equal(syncstate_slice_events(f->m, SERVER, ids + 1, 1, &v,
						&n), 0);
	assert_false(v[0].known);	/* not a dataslice's uri */
	free(v);
	assert_int_equal(syncstate_slice_seen(f->m, SERVER, f->e2, MD5_B), 0);
	assert_int_equal(syncstate_slice_events(f->m, SERVER, ids + 1, 1, &v,
						&n), 0);
	assert_int_equal(n, 1);
	assert_true(v[0].known);
	free(v);
	assert_int_equal(pending_executions(f, NULL, NULL, &l), 2);
	assert_int_equal(l.v[0].unknown_slices + l.v[1].unknown_slices, 0);
	/* no execution asked: no event, nothing allocated */
	v = (struct slice_event *)1;
	assert_int_equal(syncstate_slice_events(f->m, SERVER, ids, 0, &v, &n), 0);
	assert_null(v);
	assert_int_equal(n, 0);
}

static void test_execution_uuid(void **state)
{
	struct fixture *f = *state;
	char *u1 = NULL, *u2 = NULL;

	assert_int_equal(syncstate_execution_uuid(f->m, f->e1, &u1), 0);
	assert_int_equal(syncstate_execution_uuid(f->m, f->e2, &u2), 0);
	assert_int_equal(strlen(u1), 36);
	assert_int_equal(u1[14], '1');	/* uuid1, as cmflib's */
	assert_string_not_equal(u1, u2);
	free(u1);
	free(u2);
	assert_int_equal(syncstate_execution_uuid(f->m, 999, &u1), -ENOENT);
}

/* --- side uploads, tensorboard, notes -------------------------------------- */

struct sides {
	char text[512];
};

static int collect_side(void *ud, const char *uri, const char *name)
{
	struct sides *s = ud;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s%s %s",
		 len ? "," : "", uri, name);
	return 0;
}

static void test_side_uploads(void **state)
{
	struct fixture *f = *state;
	struct sides s = { "" };
	struct entry labels;

	assert_int_equal(model_entry_mkdir(f->m, f->e1, SIDE_INPUTS, 0, "labels",
					   0755, 0, 0, &labels), 0);
	logged_file(f, f->e1, SIDE_INPUTS, labels.id, "l.csv", MD5_A, 1);
	logged_file(f, f->e1, SIDE_INPUTS, 0, "data.csv", MD5_B, 1);
	assert_int_equal(syncstate_pending_side(f->m, SERVER, "Label",
						collect_side, &s), 0);
	assert_string_equal(s.text, MD5_A " labels/l.csv:" MD5_A);
	assert_int_equal(syncstate_side_done(f->m, SERVER, "Label", MD5_A), 0);
	reopen(f);
	s.text[0] = '\0';
	assert_int_equal(syncstate_pending_side(f->m, SERVER, "Label",
						collect_side, &s), 0);
	assert_string_equal(s.text, "");
	assert_int_equal(syncstate_pending_side(f->m, "http://other", "Label",
						collect_side, &s), 0);
	assert_string_equal(s.text, MD5_A " labels/l.csv:" MD5_A);
	s.text[0] = '\0';
	assert_int_equal(syncstate_pending_side(f->m, SERVER, "Environment",
						collect_side, &s), 0);
	assert_string_equal(s.text, "");
}

struct uploads {
	char text[512];
	int64_t entry_id;
	char md5[33];
};

static int collect_upload(void *ud, const struct pending_upload *u)
{
	struct uploads *l = ud;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof(l->text) - len, "%s%s %s %s",
		 len ? "," : "", u->pipeline, u->name, u->md5);
	l->entry_id = u->entry_id;
	memcpy(l->md5, u->md5, sizeof(l->md5));
	return 0;
}

static void test_tensorboard(void **state)
{
	struct fixture *f = *state;
	struct uploads u = { "", 0, "" };
	struct entry dir;
	char **paths = NULL;
	size_t n = 0;
	int64_t id;

	assert_int_equal(model_entry_mkdir(f->m, f->e2, SIDE_TENSORBOARD, 0,
					   "run", 0755, 0, 0, &dir), 0);
	id = logged_file(f, f->e2, SIDE_TENSORBOARD, dir.id, "events.out",
			 MD5_A, 1);
	assert_int_equal(syncstate_pending_tensorboard(f->m, SERVER,
						       collect_upload, &u), 0);
	assert_string_equal(u.text, "p train/r1/run/events.out " MD5_A);
	assert_int_equal(u.entry_id, id);
	assert_int_equal(syncstate_tensorboard_done(f->m, SERVER, id, MD5_A), 0);
	reopen(f);
	u.text[0] = '\0';
	assert_int_equal(syncstate_pending_tensorboard(f->m, SERVER,
						       collect_upload, &u), 0);
	assert_string_equal(u.text, "");
	/* a new version of the file is uploaded again */
	assert_int_equal(model_entry_log(f->m, id, MD5_B, 1, 2, NULL), 0);
	assert_int_equal(syncstate_pending_tensorboard(f->m, SERVER,
						       collect_upload, &u), 0);
	assert_string_equal(u.text, "p train/r1/run/events.out " MD5_B);
	/* not an artifact: no path of the lineage names it */
	assert_int_equal(syncstate_object_paths(f->m, MD5_B, &paths, &n), 0);
	assert_int_equal(n, 0);
	syncstate_paths_free(paths, n);
}

static void test_notes(void **state)
{
	struct fixture *f = *state;
	char *v = NULL;
	int64_t t = 0, before = (int64_t)time(NULL) * 1000 - 1000;

	assert_int_equal(syncstate_note_get(f->m, "last_error", &v, &t), -ENOENT);
	assert_int_equal(syncstate_note_set(f->m, "last_error", "storage: refused"), 0);
	assert_int_equal(syncstate_note_set(f->m, "last_success", "2 objects"), 0);
	reopen(f);
	assert_int_equal(syncstate_note_get(f->m, "last_error", &v, &t), 0);
	assert_string_equal(v, "storage: refused");
	assert_true(t >= before && t <= before + 600000);
	free(v);
	assert_int_equal(syncstate_note_set(f->m, "last_error", "again"), 0);
	assert_int_equal(syncstate_note_get(f->m, "last_error", &v, NULL), 0);
	assert_string_equal(v, "again");
	free(v);
	/* NULL deletes */
	assert_int_equal(syncstate_note_set(f->m, "last_error", NULL), 0);
	assert_int_equal(syncstate_note_get(f->m, "last_error", &v, &t), -ENOENT);
	assert_int_equal(syncstate_note_get(f->m, "last_success", &v, &t), 0);
	assert_string_equal(v, "2 objects");
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_objects_pending_in_log_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_objects_crash_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope_and_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_executions_oldest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_executions_crash_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_during_a_push_is_not_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slice_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_execution_uuid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_side_uploads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tensorboard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
