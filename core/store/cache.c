/* SPDX-License-Identifier: MIT */
/* The bounded cache; see cache.h. */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "model_i.h"
#include "sb.h"
#include "urltext.h"
#include "workspace.h"

/* Rows of cmffs_remote_object read under one hold of the store's lock. */
#define CONFIRMED_BATCH 1024

/* confirmed at @remote (?1), in oid order after ?2: the primary key's order */
STORE_SQL(sql_confirmed,
	"SELECT oid FROM cmffs_remote_object WHERE remote = ?1 AND oid > ?2"
	" ORDER BY oid LIMIT ?3");
/*
 * What stays in the cache even at the storage: what an upload to a
 * cmf-server still reads from it (sync.c's side uploads after a metadata
 * push: Label and Environment files no server has received, TensorBoard
 * logs in a version no server has), and the manifests of directories and
 * dataslices, which cache_gc() reads for the hashes they name.
 */
STORE_SQL(sql_kept,
	"SELECT a.`uri` FROM `Artifact` a JOIN `Type` t ON t.`id` = a.`type_id`"
	" WHERE (t.`name` IN ('Label', 'Environment') AND NOT EXISTS"
	" (SELECT 1 FROM cmffs_side_upload u WHERE u.type = t.`name`"
	" AND u.uri = a.`uri`)) OR t.`name` = 'Dataslice'"
	" OR substr(a.`uri`, 33) = '.dir'"
	" UNION SELECT x.md5 FROM cmffs_entry x WHERE x.side = 2"
	" AND x.md5 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"
	" cmffs_tensorboard_upload u WHERE u.entry_id = x.id"
	" AND u.md5 = x.md5)");
/*
 * Everything that refers to an object, in one statement (one snapshot):
 * every artifact's uri and every file's bytes; column 2 says whether the
 * object is itself a list of hashes (a DVC .dir manifest, a dataslice).
 */
STORE_SQL(sql_referenced,
	"SELECT a.`uri`, t.`name` = 'Dataslice' OR substr(a.`uri`, 33) = '.dir'"
	" FROM `Artifact` a LEFT JOIN `Type` t ON t.`id` = a.`type_id`"
	" UNION ALL SELECT md5, substr(md5, 33) = '.dir' FROM cmffs_entry"
	" WHERE md5 IS NOT NULL");

struct obj {
	char oid[MD5_HEX_LEN + 5];
	bool confirmed;		/* at the current remote */
	bool kept;		/* sql_kept */
	bool referenced;	/* cache_gc() */
	bool container;		/* referenced as a list of hashes */
	bool gone;		/* removed or evicted */
	uint64_t size;
	struct timespec atime;
};

/* The cache as listed, sorted by oid. */
struct listing {
	struct obj *v;
	size_t n, cap;
	uint64_t objects, bytes;	/* not gone */
};

static int add_object(void *ud, const struct cas_object *o)
{
	struct listing *l = ud;
	struct obj *x;

	if (array_reserve(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return -ENOMEM;
	x = &l->v[l->n++];
	memset(x, 0, sizeof(*x));
	memcpy(x->oid, o->oid, sizeof(x->oid));
	x->size = o->size;
	x->atime = o->atime;
	l->objects++;
	l->bytes += o->size;
	return 0;
}

static int by_oid(const void *a, const void *b)
{
	return strcmp(((const struct obj *)a)->oid,
		      ((const struct obj *)b)->oid);
}

static int key_by_oid(const void *key, const void *elem)
{
	return strcmp(key, ((const struct obj *)elem)->oid);
}

static struct obj *find(struct listing *l, const char *oid)
{
	if (!oid || !l->n)
		return NULL;
	return bsearch(oid, l->v, l->n, sizeof(*l->v), key_by_oid);
}

static int list_cache(struct cas *cas, struct listing *ret)
{
	int r = cas_list(cas, add_object, ret);

	if (r == 0 && ret->n)
		qsort(ret->v, ret->n, sizeof(*ret->v), by_oid);
	return r;
}

/* The current remote as the sync pass keys it (owned), or NULL. */
static int current_remote(const struct config *cfg, char **ret)
{
	const char *url = config_remote_url(cfg);

	*ret = url ? url_redact(url) : NULL;
	return url && !*ret ? -ENOMEM : 0;
}

/* Mark what @remote (may be NULL: nothing) has confirmed. */
static int mark_confirmed(struct model *m, const char *remote,
			  struct listing *l)
{
	char *last = strdup(""), *next = NULL;
	sqlite3_stmt *s;
	unsigned rows;
	int rc, r = 0;

	if (!last)
		return -ENOMEM;
	if (!remote || !l->n)
		goto out;
	do {
		rows = 0;
		store_lock(m->st);
		r = store_stmt(m->st, sql_confirmed, &s);
		if (r < 0) {
			store_unlock(m->st);
			break;
		}
		sqlite3_bind_text(s, 1, remote, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, last, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, CONFIRMED_BATCH);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *oid = (const char *)sqlite3_column_text(s, 0);
			struct obj *x = find(l, oid);

			rows++;
			if (x)
				x->confirmed = true;
			free(next);
			next = strdup(oid ? oid : "");
			if (!next) {
				r = -ENOMEM;
				break;
			}
		}
		if (r == 0 && rc != SQLITE_DONE)
			r = store_errno(rc);
		store_stmt_done(s);
		store_unlock(m->st);
		if (next) {
			free(last);
			last = next;
			next = NULL;
		}
	} while (r == 0 && rows == CONFIRMED_BATCH);
out:
	free(last);
	free(next);
	return r;
}

/* Mark what stays in the cache even at the storage (sql_kept). */
static int mark_kept(struct model *m, struct listing *l)
{
	sqlite3_stmt *s;
	int rc, r;

	store_lock(m->st);
	r = store_stmt(m->st, sql_kept, &s);
	if (r < 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct obj *x = find(l, (const char *)sqlite3_column_text(s, 0));

		if (x)
			x->kept = true;
	}
	if (rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
out:
	store_unlock(m->st);
	return r;
}

static bool evictable(const struct obj *x)
{
	return x->confirmed && !x->kept && !x->gone;
}

/* Mark evictable objects (confirmed, not kept).  0 or -errno. */
static int classify(struct model *m, const struct config *cfg,
		    struct listing *l)
{
	char *remote = NULL;
	int r;

	r = current_remote(cfg, &remote);
	if (r == 0)
		r = mark_confirmed(m, remote, l);
	if (r == 0 && remote)
		r = mark_kept(m, l);
	free(remote);
	return r;
}

/* Least recently read first; the same instant by oid, for a stable order. */
static int by_atime(const void *a, const void *b)
{
	const struct obj *x = *(const struct obj *const *)a;
	const struct obj *y = *(const struct obj *const *)b;

	if (x->atime.tv_sec != y->atime.tv_sec)
		return x->atime.tv_sec < y->atime.tv_sec ? -1 : 1;
	if (x->atime.tv_nsec != y->atime.tv_nsec)
		return x->atime.tv_nsec < y->atime.tv_nsec ? -1 : 1;
	return strcmp(x->oid, y->oid);
}

/* @x left the cache (removed now, or by someone else meanwhile). */
static void drop(struct listing *l, struct obj *x)
{
	x->gone = true;
	l->objects--;
	l->bytes -= x->size;
}

/* cache_trim() of listing @l. */
static int trim_listing(struct cas *cas, struct model *m,
			const struct config *cfg, struct listing *l,
			struct cache_result *res)
{
	const uint64_t max = cfg->cache_max_size;
	struct obj **order = NULL;
	size_t n = 0, i;
	int r, first = 0;

	if (!max || l->bytes <= max)
		return 0;
	r = classify(m, cfg, l);
	if (r < 0)
		return r;
	order = calloc(l->n ? l->n : 1, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (i = 0; i < l->n; i++)
		if (evictable(&l->v[i]))
			order[n++] = &l->v[i];
	qsort(order, n, sizeof(*order), by_atime);
	for (i = 0; i < n && l->bytes > max; i++) {
		r = cas_remove(cas, order[i]->oid, &order[i]->atime);
		if (r == -ESTALE)
			continue;	/* read since the listing: kept */
		if (r < 0 && r != -ENOENT) {
			if (!first)
				first = r;
			continue;
		}
		if (r == 0) {
			res->evicted_objects++;
			res->evicted_bytes += order[i]->size;
		}
		drop(l, order[i]);
	}
	free(order);
	return first;
}

static void finish(const struct listing *l, struct cache_result *res)
{
	res->objects = l->objects;
	res->bytes = l->bytes;
}

int cache_trim(struct cas *cas, struct model *m, const struct config *cfg,
	       struct cache_result *ret)
{
	struct listing l = { 0 };
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!cfg->cache_max_size)
		return 0;
	r = list_cache(cas, &l);
	if (r == 0)
		r = trim_listing(cas, m, cfg, &l, ret);
	finish(&l, ret);
	free(l.v);
	return r;
}

int cache_usage(struct cas *cas, struct model *m, const struct config *cfg,
		struct cache_usage *ret)
{
	struct listing l = { 0 };
	size_t i;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = list_cache(cas, &l);
	if (r == 0)
		r = classify(m, cfg, &l);
	for (i = 0; r == 0 && i < l.n; i++)
		if (evictable(&l.v[i])) {
			ret->evictable_objects++;
			ret->evictable_bytes += l.v[i].size;
		}
	ret->objects = l.objects;
	ret->bytes = l.bytes;
	free(l.v);
	return r;
}

int cache_status_text(struct cas *cas, struct model *m,
		      const struct config *cfg, char **ret_text)
{
	struct cache_usage u;
	char limit[32];
	struct sb sb;
	int r;

	r = cache_usage(cas, m, cfg, &u);
	if (r < 0)
		return r;
	sb_init(&sb, 1 << 12);
	sb_appendf(&sb, "cache: %llu object(s), %llu bytes\n",
		   (unsigned long long)u.objects, (unsigned long long)u.bytes);
	if (cfg->cache_max_size) {
		config_format_size(cfg->cache_max_size, limit, sizeof(limit));
		sb_appendf(&sb, "cache limit: %s (%llu bytes)\n", limit,
			   (unsigned long long)cfg->cache_max_size);
	} else {
		sb_puts(&sb, "cache limit: none\n");
	}
	sb_appendf(&sb, "cache evictable: %llu object(s), %llu bytes (at the storage)\n",
		   (unsigned long long)u.evictable_objects,
		   (unsigned long long)u.evictable_bytes);
	*ret_text = sb_detach(&sb, NULL);
	return *ret_text ? 0 : -ENOMEM;
}

/* --- gc ---------------------------------------------------------------- */

/* A run of @len hex digits in a container ends: mark it if it is a hash. */
static void mark_run(struct listing *l, char run[MD5_HEX_LEN + 5], size_t len)
{
	struct obj *x;

	if (len != MD5_HEX_LEN)
		return;
	run[len] = '\0';
	if ((x = find(l, run)))
		x->referenced = true;
	memcpy(run + len, ".dir", 5);
	if ((x = find(l, run)))
		x->referenced = true;
}

/*
 * Mark every object whose hash appears in the bytes of container @fd (a
 * .dir manifest's JSON, a dataslice's CSV): every run of exactly 32
 * lowercase hex digits, as "<md5>" and as "<md5>.dir".  Reading more than
 * the format names is harmless: at worst an object is kept.
 */
static int mark_named_in(struct listing *l, int fd)
{
	char buf[65536], run[MD5_HEX_LEN + 5];
	size_t len = 0;
	ssize_t n, i;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			mark_run(l, run, len);
			return 0;
		}
		/* a run may go on from one read into the next */
		for (i = 0; i < n; i++) {
			char c = buf[i];

			if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
				if (len < MD5_HEX_LEN)
					run[len] = c;
				len++;
				continue;
			}
			mark_run(l, run, len);
			len = 0;
		}
	}
}

static int mark_redo_object(void *ud, const char *md5)
{
	struct obj *x = find(ud, md5);

	if (x)
		x->referenced = true;
	return 0;
}

/*
 * Mark what the store refers to, in one snapshot.  Cache held (no commit
 * into the cache can be under way).  The redo log first: a change a live
 * mount logged is there until its batch is committed, and the log is
 * emptied only after the commit, so what the log no longer names when it
 * is read, the snapshot read after it has (doc/design.md §6).
 */
static int mark_referenced(struct cas *cas, struct model *m,
			   struct listing *l)
{
	sqlite3_stmt *s;
	size_t i;
	int rc, r, fd;

	r = model_redo_objects(m, mark_redo_object, l);
	if (r < 0)
		return r;
	store_lock(m->st);
	r = store_stmt(m->st, sql_referenced, &s);
	if (r < 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct obj *x = find(l, (const char *)sqlite3_column_text(s, 0));

		if (!x)
			continue;
		x->referenced = true;
		if (sqlite3_column_int(s, 1))
			x->container = true;
	}
	if (rc != SQLITE_DONE)
		r = store_errno(rc);
	store_stmt_done(s);
out:
	store_unlock(m->st);
	/* a manifest's members are referenced as long as it is */
	for (i = 0; r == 0 && i < l->n; i++) {
		if (!l->v[i].container)
			continue;
		r = cas_open_object(cas, l->v[i].oid, &fd);
		if (r == -ENOENT) {
			r = 0;	/* pulled, never read: its members are in
				 * the tree or at the storage */
			continue;
		}
		if (r == 0) {
			r = mark_named_in(l, fd);
			close(fd);
		}
	}
	return r;
}

int cache_gc(struct cas *cas, struct model *m, const struct config *cfg,
	     struct cache_result *ret)
{
	struct listing l = { 0 };
	size_t i;
	int r, rr;

	memset(ret, 0, sizeof(*ret));
	/* listed first: what is committed later is not a candidate anyway */
	r = list_cache(cas, &l);
	if (r < 0)
		goto out;
	r = cas_sweep_lock(cas, CACHE_GC_WAIT_S);
	if (r < 0)
		goto out;
	r = mark_referenced(cas, m, &l);
	for (i = 0; r == 0 && i < l.n; i++) {
		struct obj *x = &l.v[i];

		if (x->referenced)
			continue;
		rr = cas_remove(cas, x->oid, NULL);
		if (rr < 0 && rr != -ENOENT) {
			r = rr;
			break;
		}
		if (rr == 0) {
			ret->removed_objects++;
			ret->removed_bytes += x->size;
		}
		drop(&l, x);
	}
	cas_sweep_unlock(cas);
	if (r == 0)
		r = trim_listing(cas, m, cfg, &l, ret);
out:
	finish(&l, ret);
	free(l.v);
	return r;
}
