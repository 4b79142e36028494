/* SPDX-License-Identifier: MIT */
/*
 * The bounded cache (core/store/cache.c) on a workspace of 3,000 objects: what is
 * evictable (confirmed at the current remote, in more than one batch of the
 * store's rows; not another remote's), the order of eviction (least
 * recently read first, down to the limit exactly), nothing unconfirmed
 * evicted whatever the limit, and gc removing what nothing refers to.
 */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "model_i.h"
#include "syncstate.h"
#include "workspace.h"

#define N_OBJECTS 3000
#define REMOTE "/srv/cmffs-test-remote"

struct fixture {
	char dir[64];
	struct workspace *ws;
	struct config *cfg;		/* the limit under test */
	char oid[N_OBJECTS][MD5_HEX_LEN + 1];
	uint64_t size[N_OBJECTS];
};

/* Object i is confirmed at REMOTE unless i % 4 == 0. */
static bool confirmed(int i)
{
	return i % 4 != 0;
}

static void confirm(struct model *m, const char *remote, const char *oid)
{
	assert_int_equal(syncstate_object_done(m, remote, oid), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct timespec t[2];
	struct cas_tmp tmp;
	char text[64], *path;
	struct cas *cas;
	struct model *m;
	int i, len;

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cmffs-test-cache-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->cfg = config_new();
	assert_non_null(fx->cfg);
	fx->cfg->storage = STORAGE_LOCAL;
	fx->cfg->storage_path = strdup(REMOTE);
	assert_int_equal(workspace_init(fx->dir, fx->cfg, NULL), 0);
	assert_int_equal(workspace_open(fx->dir, 0, &fx->ws, NULL), 0);
	cas = workspace_cas(fx->ws);
	m = workspace_model(fx->ws);
	for (i = 0; i < N_OBJECTS; i++) {
		len = snprintf(text, sizeof(text), "object %d%*s\n", i, i % 50,
			       "");
		fx->size[i] = (uint64_t)len;
		assert_int_equal(hash_buf(text, (size_t)len, fx->oid[i]), 0);
		assert_int_equal(cas_tmp_create(cas, &tmp), 0);
		assert_int_equal(write(tmp.fd, text, (size_t)len), len);
		assert_int_equal(cas_commit(cas, &tmp, fx->oid[i]), 0);
		cas_tmp_discard(cas, &tmp);
		/* read in the order of i */
		t[0].tv_sec = 100000 + i;
		t[0].tv_nsec = 0;
		t[1].tv_nsec = UTIME_OMIT;
		assert_int_equal(cas_object_path(cas, fx->oid[i], &path), 0);
		assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
		free(path);
	}
	/* thousands of transactions: no fsync for each in a test */
	store_lock(m->st);
	assert_int_equal(store_exec(m->st, "PRAGMA synchronous = OFF"), 0);
	store_unlock(m->st);
	for (i = 0; i < N_OBJECTS; i++) {
		if (confirmed(i))
			confirm(m, REMOTE, fx->oid[i]);
		else if (i % 8 == 0)	/* at another storage only */
			confirm(m, "/srv/another", fx->oid[i]);
	}
	/* rows of no object in the cache */
	confirm(m, REMOTE, "00000000000000000000000000000000");
	confirm(m, REMOTE, "ffffffffffffffffffffffffffffffff.dir");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[192];

	workspace_close(fx->ws);
	config_free(fx->cfg);
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", fx->dir,
		 fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void test_usage_trim_gc(void **state)
{
	struct fixture *fx = *state;
	struct cas *cas = workspace_cas(fx->ws);
	struct model *m = workspace_model(fx->ws);
	struct cache_result res;
	struct cache_usage u;
	uint64_t total = 0, evictable = 0, first100 = 0;
	int i, n, kept;

	for (i = 0, n = 0; i < N_OBJECTS; i++) {
		total += fx->size[i];
		if (!confirmed(i))
			continue;
		evictable += fx->size[i];
		if (n++ < 100)
			first100 += fx->size[i];
	}
	assert_int_equal(cache_usage(cas, m, fx->cfg, &u), 0);
	assert_int_equal(u.objects, N_OBJECTS);
	assert_int_equal(u.bytes, total);
	assert_int_equal(u.evictable_objects, N_OBJECTS / 4 * 3);
	assert_int_equal(u.evictable_bytes, evictable);

	/* no limit: nothing happens, nothing is even listed */
	assert_int_equal(cache_trim(cas, m, fx->cfg, &res), 0);
	assert_int_equal(res.evicted_objects, 0);
	assert_int_equal(res.objects, 0);

	/* room for all but the 100 least recently read evictable objects */
	fx->cfg->cache_max_size = total - first100;
	assert_int_equal(cache_trim(cas, m, fx->cfg, &res), 0);
	assert_int_equal(res.evicted_objects, 100);
	assert_int_equal(res.evicted_bytes, first100);
	assert_int_equal(res.bytes, total - first100);
	assert_int_equal(res.objects, N_OBJECTS - 100);
	for (i = 0, n = 0; i < N_OBJECTS; i++) {
		bool gone = confirmed(i) && n++ < 100;

		assert_int_equal(cas_has(cas, fx->oid[i]), !gone);
	}
	/* under the limit already: nothing more */
	assert_int_equal(cache_trim(cas, m, fx->cfg, &res), 0);
	assert_int_equal(res.evicted_objects, 0);

	/* the smallest limit: every confirmed object goes, no other */
	fx->cfg->cache_max_size = 1;
	assert_int_equal(cache_trim(cas, m, fx->cfg, &res), 0);
	assert_int_equal(res.evicted_objects, N_OBJECTS / 4 * 3 - 100);
	assert_int_equal(res.objects, N_OBJECTS / 4);
	for (i = 0, kept = 0; i < N_OBJECTS; i++) {
		assert_int_equal(cas_has(cas, fx->oid[i]), !confirmed(i));
		kept += !confirmed(i);
	}
	assert_int_equal(cache_usage(cas, m, fx->cfg, &u), 0);
	assert_int_equal(u.objects, (uint64_t)kept);
	assert_int_equal(u.evictable_objects, 0);

	/* another remote: what the first one confirmed counts no more, and
	 * what the other one has is evictable now */
	free(fx->cfg->storage_path);
	fx->cfg->storage_path = strdup("/srv/another");
	assert_int_equal(cache_usage(cas, m, fx->cfg, &u), 0);
	assert_int_equal(u.evictable_objects, N_OBJECTS / 8);

	/* nothing in this store refers to any object: gc removes them all */
	assert_int_equal(cache_gc(cas, m, fx->cfg, &res), 0);
	assert_int_equal(res.removed_objects, (uint64_t)kept);
	assert_int_equal(res.evicted_objects, 0);
	assert_int_equal(res.objects, 0);
	assert_int_equal(res.bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_usage_trim_gc, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
