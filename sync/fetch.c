/* SPDX-License-Identifier: MIT */
/*
 * Fetching objects and learning their sizes; see fetch.h.
 *
 * Concurrency: f->lock guards the list of fetches in flight and which
 * storage connection ("slot") is busy; it is never held across I/O.  A
 * slot's struct storage is used only by the thread that marked it busy.
 * The content store and the model are safe to share (cas.h, model.h).
 */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "cache.h"
#include "cas.h"
#include "hash.h"
#include "names.h"
#include "safefs.h"
#include "sb.h"
#include "log.h"
#include "storage.h"
#include "syncstate.h"
#include "threads.h"
#include "urltext.h"
#include "workspace.h"

/* DVC 3's cache below the working tree (upstream's `dvc add`) */
#define DVC_CACHE_DIR ".dvc/cache/files/md5"
#define NOTE_UNREADABLE "last_unreadable"
#define COPY_CHUNK ((size_t)1 << 20)
#define DVC_PATH_MAX (sizeof(DVC_CACHE_DIR) + 48)

/* Where upstream's DVC keeps object @oid, relative to the workspace. */
static void dvc_cache_path(const char *oid, char path[DVC_PATH_MAX])
{
	snprintf(path, DVC_PATH_MAX, DVC_CACHE_DIR "/%.2s/%s", oid, oid + 2);
}

/* One object being fetched, and who waits for it. */
struct inflight {
	struct inflight *next;
	char oid[40];
	unsigned waiters;	/* callers waiting besides the fetching one */
	bool done;
	int r;
	char *err;		/* owned; the failure's message */
};

struct fetcher {
	const struct config *cfg;
	int ws_fd;		/* the workspace directory */
	uid_t ws_uid;		/* its owner */
	bool upstream;		/* has .dvc/: DVC's cache and the tree too */
	struct model *model;
	struct cas *cas;
	char *remote;		/* the storage as the sync state names it */
	pthread_mutex_t lock;
	pthread_cond_t changed;	/* a fetch ended, or a slot became free */
	struct inflight *inflight;	/* lock */
	struct storage **slots;	/* nslots, opened on first use */
	bool *busy;		/* lock */
	unsigned nslots;
};

int fetcher_open(const char *ws, const struct config *cfg,
		 struct fetcher **ret, char **ret_err)
{
	struct fetcher *f = calloc(1, sizeof(*f));
	char *mlmd = NULL;
	struct stat st;
	int dvc, r;

	*ret_err = NULL;
	if (!f)
		return -ENOMEM;
	f->cfg = cfg;
	f->ws_fd = -1;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->changed, NULL);
	f->nslots = config_storage_jobs(cfg);
	f->slots = calloc(f->nslots, sizeof(*f->slots));
	f->busy = calloc(f->nslots, sizeof(*f->busy));
	if (!f->slots || !f->busy || asprintf(&mlmd, "%s/mlmd", ws) < 0) {
		mlmd = NULL;
		r = -ENOMEM;
		goto fail;
	}
	f->ws_fd = open(ws, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->ws_fd < 0 || fstat(f->ws_fd, &st) < 0) {
		r = -errno;
		if (asprintf(ret_err, "cannot open '%s': %s", ws,
			     strerrordesc_np(-r)) < 0)
			*ret_err = NULL;
		goto fail;
	}
	f->ws_uid = st.st_uid;
	if (config_remote_url(cfg)) {
		f->remote = url_redact(config_remote_url(cfg));
		if (!f->remote) {
			r = -ENOMEM;
			goto fail;
		}
	}
	dvc = safefs_open_dir(f->ws_fd, ".dvc", 0, 0, NULL);
	if (dvc >= 0) {
		f->upstream = true;
		close(dvc);
	}
	r = model_open(mlmd, 0, &f->model, ret_err);
	if (r == 0)
		r = cas_open(ws, &f->cas);
	if (r < 0)
		goto fail;
	free(mlmd);
	*ret = f;
	return 0;
fail:
	free(mlmd);
	fetcher_close(f);
	return r;
}

void fetcher_close(struct fetcher *f)
{
	unsigned i;

	if (!f)
		return;
	for (i = 0; f->slots && i < f->nslots; i++)
		storage_close(f->slots[i]);
	free(f->slots);
	free(f->busy);
	cas_close(f->cas);
	model_close(f->model);
	free(f->remote);
	if (f->ws_fd >= 0)
		close(f->ws_fd);
	pthread_cond_destroy(&f->changed);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* --- storage connections ---------------------------------------------- */

/*
 * Take a free connection to the storage (one already open if any), waiting
 * while all [storage] jobs are busy; open it if it never was.  0 and the
 * slot in *ret_i, or -errno with *ret_err (owned).
 */
static int slot_acquire(struct fetcher *f, unsigned *ret_i, char **ret_err)
{
	unsigned i, pick;
	int r;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		pick = f->nslots;
		for (i = 0; i < f->nslots; i++) {
			if (f->busy[i])
				continue;
			if (f->slots[i]) {
				pick = i;
				break;
			}
			if (pick == f->nslots)
				pick = i;
		}
		if (pick < f->nslots)
			break;
		pthread_cond_wait(&f->changed, &f->lock);
	}
	f->busy[pick] = true;
	pthread_mutex_unlock(&f->lock);
	if (!f->slots[pick]) {
		r = storage_open(f->cfg, &f->slots[pick], ret_err);
		if (r < 0) {
			pthread_mutex_lock(&f->lock);
			f->busy[pick] = false;
			pthread_cond_broadcast(&f->changed);
			pthread_mutex_unlock(&f->lock);
			return r;
		}
	}
	*ret_i = pick;
	return 0;
}

static void slot_release(struct fetcher *f, unsigned i)
{
	pthread_mutex_lock(&f->lock);
	f->busy[i] = false;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

/* --- one object --------------------------------------------------------- */

/* Does @oid's object hold bytes whose MD5 is @got? ("<md5>.dir" too) */
static bool md5_matches(const char *oid, const char *got)
{
	return !strncmp(got, oid, MD5_HEX_LEN);
}

/*
 * Copy @src into a temporary file of the content store, hashing on the
 * way, and commit it as @oid if its MD5 is @oid's.  0 (its size in
 * *ret_size), -EIO with the MD5 found in @got when the bytes are others
 * (nothing stored), or -errno.
 */
static int commit_copy(struct fetcher *f, int src, const char *oid,
		       char got[MD5_HEX_LEN + 1], uint64_t *ret_size)
{
	struct cas_tmp tmp = { .fd = -1 };
	struct hash *h = hash_new();
	char *buf = malloc(COPY_CHUNK);
	uint64_t size = 0;
	int r;

	if (!h || !buf) {
		r = -ENOMEM;
		goto out;
	}
	r = cas_tmp_create(f->cas, &tmp);
	while (r == 0) {
		ssize_t n = read(src, buf, COPY_CHUNK), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		r = hash_update(h, buf, (size_t)n);
		while (r == 0 && w < n) {
			ssize_t k = write(tmp.fd, buf + w, (size_t)(n - w));

			if (k < 0 && errno != EINTR)
				r = -errno;
			else if (k > 0)
				w += k;
		}
		size += (uint64_t)n;
		if (r < 0 || n == 0)
			break;
	}
	if (r == 0)
		r = hash_final(h, got);
	if (r == 0 && !md5_matches(oid, got))
		r = -EIO;
	if (r == 0)
		r = cas_commit(f->cas, &tmp, oid);
	if (r == 0)
		*ret_size = size;
out:
	cas_tmp_discard(f->cas, &tmp);
	hash_free(h);
	free(buf);
	return r;
}

/*
 * The working tree's file at @path, if it may serve as the bytes of an
 * artifact: a relative path of valid names, a regular file reached without
 * a link, owned by the workspace's owner (a root daemon copies nothing a
 * user could not read).  The fd, or -errno.
 */
static int open_tree_file(struct fetcher *f, const char *path)
{
	const char *why;
	struct stat st;
	int fd;

	if (name_check_path(path, strlen(path), &why) < 0)
		return -EINVAL;
	fd = safefs_open_file(f->ws_fd, path, O_RDONLY, 0, 0, NULL);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || st.st_uid != f->ws_uid) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

/*
 * Try the workspace's own copies (upstream's DVC cache, then the working
 * tree).  0 when the object is now local; otherwise what was found is
 * appended to @why ("...; ") and -ENOENT returned.
 */
static int fetch_local(struct fetcher *f, const char *oid, struct sb *why,
		       uint64_t *ret_size)
{
	char path[DVC_PATH_MAX], got[MD5_HEX_LEN + 1];
	char **paths = NULL;
	bool found = false;
	size_t n = 0, i;
	int fd, r;

	dvc_cache_path(oid, path);
	fd = safefs_open_file(f->ws_fd, path, O_RDONLY, 0, 0, NULL);
	if (fd >= 0) {
		r = commit_copy(f, fd, oid, got, ret_size);
		close(fd);
		if (r == 0)
			return 0;
		if (r == -EIO)
			sb_appendf(why, "'%s' holds other bytes (md5 %s); ",
				   path, got);
		else
			sb_appendf(why, "cannot copy '%s': %s; ", path,
				   strerrordesc_np(-r));
	} else if (fd == -ENOENT) {
		sb_appendf(why, "not in .dvc/cache; ");
	} else {
		sb_appendf(why, "cannot open '%s': %s; ", path,
			   safefs_strerror(fd));
	}
	if (strlen(oid) != MD5_HEX_LEN)
		return -ENOENT;	/* a manifest: no file in the tree */
	if (syncstate_object_paths(f->model, oid, &paths, &n) < 0)
		return -ENOENT;
	for (i = 0; i < n && !found; i++) {
		fd = open_tree_file(f, paths[i]);
		if (fd < 0) {
			sb_appendf(why, "'%s' %s in the working tree; ",
				   paths[i], fd == -ENOENT ? "is not"
							   : "cannot be read");
			continue;
		}
		r = commit_copy(f, fd, oid, got, ret_size);
		close(fd);
		if (r == 0)
			found = true;
		else
			sb_appendf(why, "'%s' in the working tree %s; ",
				   paths[i],
				   r == -EIO ? "has changed since it was logged"
					     : strerrordesc_np(-r));
	}
	syncstate_paths_free(paths, n);
	return found ? 0 : -ENOENT;
}

/* The storage's copy of @oid into the content store, verified. */
static int fetch_remote(struct fetcher *f, const char *oid, struct sb *why,
			uint64_t *ret_size)
{
	struct cas_tmp tmp = { .fd = -1 };
	char got[MD5_HEX_LEN + 1], *err = NULL;
	struct stat st;
	unsigned slot;
	int r;

	r = slot_acquire(f, &slot, &err);
	if (r < 0) {
		sb_appendf(why, "storage: %s", err ? err : strerrordesc_np(-r));
		free(err);
		return r;
	}
	r = cas_tmp_create(f->cas, &tmp);
	if (r < 0) {
		sb_appendf(why, "cannot make a temporary file: %s",
			   strerrordesc_np(-r));
		goto out;
	}
	r = storage_get(f->slots[slot], oid, tmp.fd);
	if (r < 0) {
		sb_appendf(why, "storage: %s", storage_error(f->slots[slot]));
		goto out;
	}
	r = hash_fd(tmp.fd, got);
	if (r == 0 && !md5_matches(oid, got)) {
		sb_appendf(why, "the storage returned bytes with md5 %s: refused",
			   got);
		r = -EIO;
	}
	if (r == 0)
		r = cas_commit(f->cas, &tmp, oid);
	if (r == 0 && fstat(tmp.fd, &st) < 0)
		r = -errno;
	/* it came from there: confirmed at the remote (so evictable) */
	if (r == 0 && f->remote)
		r = syncstate_object_done(f->model, f->remote, oid);
	if (r == 0)
		*ret_size = (uint64_t)st.st_size;
	else if (!why->len)
		sb_appendf(why, "%s", strerrordesc_np(-r));
out:
	cas_tmp_discard(f->cas, &tmp);
	slot_release(f, slot);
	return r;
}

/* Fetch @oid from the first source that has it; *ret_err owned. */
static int fetch_one(struct fetcher *f, const char *oid, char **ret_err)
{
	uint64_t size = 0;
	struct sb why;
	int r = -ENOENT;

	sb_init(&why, 4096);
	if (f->upstream)
		r = fetch_local(f, oid, &why, &size);
	if (r < 0 && f->cfg->storage != STORAGE_NONE)
		r = fetch_remote(f, oid, &why, &size);
	else if (r < 0)
		sb_appendf(&why, "no storage is configured ([storage] in .cmfconfig)");
	if (r == 0) {
		(void)syncstate_set_size(f->model, oid, size);
		sb_release(&why);
		return 0;
	}
	*ret_err = sb_detach(&why, NULL);
	return r;
}

/* Keep (or clear, @why NULL) the line .cmf/status shows about @oid. */
static void note_unreadable(struct fetcher *f, const char *oid,
			    const char *why)
{
	char *line = NULL, *old = NULL;
	int64_t t;

	if (!why) {
		/* cleared only by a read of the object it is about */
		if (syncstate_note_get(f->model, NOTE_UNREADABLE, &old, &t) == 0 &&
		    old && !strncmp(old, oid, strlen(oid)) &&
		    old[strlen(oid)] == ':')
			(void)syncstate_note_set(f->model, NOTE_UNREADABLE, NULL);
		free(old);
		return;
	}
	if (asprintf(&line, "%s: %s", oid, why) >= 0)
		(void)syncstate_note_set(f->model, NOTE_UNREADABLE, line);
	free(line);
}

int fetcher_get(struct fetcher *f, const char *oid, char **ret_err)
{
	struct inflight *x, **pp;
	char *err = NULL;
	int r;

	*ret_err = NULL;
	if (cas_has(f->cas, oid))
		return 0;
	pthread_mutex_lock(&f->lock);
	for (x = f->inflight; x; x = x->next)
		if (!strcmp(x->oid, oid))
			break;
	if (x) {
		/* someone fetches it already: wait for the outcome */
		x->waiters++;
		while (!x->done)
			pthread_cond_wait(&f->changed, &f->lock);
		r = x->r;
		if (r < 0 && x->err)
			*ret_err = strdup(x->err);
		if (--x->waiters == 0) {
			free(x->err);
			free(x);
		}
		pthread_mutex_unlock(&f->lock);
		return r;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		pthread_mutex_unlock(&f->lock);
		return -ENOMEM;
	}
	snprintf(x->oid, sizeof(x->oid), "%s", oid);
	x->next = f->inflight;
	f->inflight = x;
	pthread_mutex_unlock(&f->lock);

	/* it may have arrived between the check and the list */
	r = cas_has(f->cas, oid) ? 0 : fetch_one(f, oid, &err);
	note_unreadable(f, oid, r < 0 ? (err ? err : strerrordesc_np(-r))
				      : NULL);

	pthread_mutex_lock(&f->lock);
	for (pp = &f->inflight; *pp != x; pp = &(*pp)->next)
		;
	*pp = x->next;
	x->done = true;
	x->r = r;
	x->err = err;
	if (r < 0 && err)
		*ret_err = strdup(err);
	if (x->waiters) {
		pthread_cond_broadcast(&f->changed);
		x = NULL;	/* the last waiter frees it */
	}
	pthread_mutex_unlock(&f->lock);
	if (x) {
		free(x->err);
		free(x);
	}
	if (r < 0 && !*ret_err)
		*ret_err = strdup(strerrordesc_np(-r));
	return r;
}

/* --- many objects ------------------------------------------------------- */

struct object_list {
	struct object_item {
		char oid[40];
		uint64_t size;	/* 0: unknown */
	} *v;
	size_t n, cap;
};

static int collect(void *ud, const char *oid, uint64_t size)
{
	struct object_list *l = ud;

	if (strlen(oid) >= sizeof(l->v->oid))
		return 0;
	if (array_reserve(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return -ENOMEM;
	snprintf(l->v[l->n].oid, sizeof(l->v->oid), "%s", oid);
	l->v[l->n++].size = size;
	return 0;
}

/*
 * A job over a list of objects, run by up to [storage] jobs threads: each
 * takes the next object and calls @work on it.  The progress and the
 * first failure are kept under @lock.
 */
struct job {
	struct fetcher *f;
	const struct object_list *list;
	int (*work)(struct job *j, const struct object_item *o,
		    bool *ret_local, uint64_t *ret_size, char **ret_err);
	fetch_progress_fn progress;
	void *ud;
	pthread_mutex_t lock;
	size_t next;			/* lock */
	struct fetch_progress p;	/* lock */
	int r;				/* lock: first failure */
	char *err;			/* lock: its message, owned */
};

static void *job_main(void *arg)
{
	struct job *j = arg;
	size_t i;

	for (;;) {
		bool local = false;
		uint64_t size = 0;
		char *err = NULL;
		int r;

		pthread_mutex_lock(&j->lock);
		if (j->next >= j->list->n) {
			pthread_mutex_unlock(&j->lock);
			break;
		}
		i = j->next++;
		pthread_mutex_unlock(&j->lock);
		r = j->work(j, &j->list->v[i], &local, &size, &err);
		pthread_mutex_lock(&j->lock);
		if (r < 0) {
			j->p.objects_failed++;
			if (!j->r) {
				j->r = r;
				if (asprintf(&j->err, "object %s: %s",
					     j->list->v[i].oid,
					     err ? err : strerrordesc_np(-r)) < 0)
					j->err = NULL;
			}
		} else {
			j->p.objects_done++;
			j->p.objects_local += local;
			j->p.bytes_done += size;
		}
		if (j->progress)
			j->progress(j->ud, &j->p);
		pthread_mutex_unlock(&j->lock);
		free(err);
	}
	return NULL;
}

/* Run @j over its list with up to [storage] jobs threads (this one too). */
static int job_run(struct job *j, struct fetch_progress *ret, char **ret_err)
{
	pthread_t *threads = NULL;
	size_t n = j->f->nslots, started = 0, i;

	if (n > j->list->n)
		n = j->list->n;
	if (n > 1)
		threads = calloc(n - 1, sizeof(*threads));
	for (i = 0; threads && i + 1 < n; i++) {
		if (thread_start(&threads[i], 0, job_main, j) < 0)
			break;
		started++;
	}
	(void)job_main(j);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	if (ret)
		*ret = j->p;
	if (j->r < 0) {
		*ret_err = j->err ? j->err : strdup(strerrordesc_np(-j->r));
		j->err = NULL;
	}
	return j->r;
}

static int get_work(struct job *j, const struct object_item *o,
		    bool *ret_local, uint64_t *ret_size, char **ret_err)
{
	int r;

	*ret_local = cas_has(j->f->cas, o->oid);
	r = *ret_local ? 0 : fetcher_get(j->f, o->oid, ret_err);
	*ret_size = o->size;
	return r;
}

/* -ENOENT with a message unless the pipeline (stage, execution) exists. */
static int scope_exists(struct fetcher *f, const char *pipeline,
			const char *stage, const char *execution,
			char **ret_err)
{
	int64_t id, stage_id;
	int r;

	r = model_pipeline_find(f->model, pipeline, &id);
	if (r == -ENOENT) {
		if (asprintf(ret_err, "there is no pipeline '%s'", pipeline) < 0)
			*ret_err = NULL;
		return r;
	}
	if (r < 0 || !stage)
		return r;
	r = model_stage_find(f->model, pipeline, stage, &stage_id);
	if (r == -ENOENT) {
		if (asprintf(ret_err, "pipeline '%s' has no stage '%s'",
			     pipeline, stage) < 0)
			*ret_err = NULL;
		return r;
	}
	if (r < 0 || !execution)
		return r;
	r = model_execution_find(f->model, stage_id, execution, &id);
	if (r == -ENOENT && asprintf(ret_err, "stage '%s/%s' has no execution '%s'",
				     pipeline, stage, execution) < 0)
		*ret_err = NULL;
	return r;
}

int fetcher_get_scope(struct fetcher *f, const char *pipeline,
		      const char *stage, const char *execution,
		      fetch_progress_fn progress, void *ud,
		      struct fetch_progress *ret, char **ret_err)
{
	struct object_list l = { 0 };
	struct job j = {
		.f = f, .list = &l, .work = get_work,
		.progress = progress, .ud = ud,
	};
	size_t i;
	int r;

	*ret_err = NULL;
	r = scope_exists(f, pipeline, stage, execution, ret_err);
	if (r == 0)
		r = syncstate_scope_objects(f->model, pipeline, stage,
					    execution, collect, &l);
	if (r < 0) {
		if (!*ret_err)
			*ret_err = strdup(strerrordesc_np(-r));
		free(l.v);
		return r;
	}
	pthread_mutex_init(&j.lock, NULL);
	j.p.objects_total = (unsigned)l.n;
	for (i = 0; i < l.n; i++)
		j.p.bytes_total += l.v[i].size;
	if (progress)
		progress(ud, &j.p);
	r = job_run(&j, ret, ret_err);
	pthread_mutex_destroy(&j.lock);
	free(l.v);
	/* what came may take the cache past [cache] max-size */
	if (l.n) {
		struct cache_result cr;

		(void)cache_trim(f->cas, f->model, f->cfg, &cr);
	}
	return r;
}

/* Learn @o's size: the content store, DVC's cache, else the storage. */
static int size_work(struct job *j, const struct object_item *o,
		     bool *ret_local, uint64_t *ret_size, char **ret_err)
{
	struct fetcher *f = j->f;
	char path[DVC_PATH_MAX];
	struct stat st;
	unsigned slot;
	int fd, r;

	*ret_local = true;
	if (!strcmp(o->oid, EMPTY_MD5)) {
		*ret_size = 0;
		return syncstate_set_size(f->model, o->oid, 0);
	}
	r = cas_open_object(f->cas, o->oid, &fd);
	if (r == 0) {
		r = fstat(fd, &st) < 0 ? -errno : 0;
		close(fd);
		if (r == 0) {
			*ret_size = (uint64_t)st.st_size;
			return syncstate_set_size(f->model, o->oid, *ret_size);
		}
	}
	dvc_cache_path(o->oid, path);
	if (f->upstream && safefs_stat_file(f->ws_fd, path, &st) == 0) {
		*ret_size = (uint64_t)st.st_size;
		return syncstate_set_size(f->model, o->oid, *ret_size);
	}
	*ret_local = false;
	if (f->cfg->storage == STORAGE_NONE)
		return 0;	/* nowhere to ask: stays unknown */
	r = slot_acquire(f, &slot, ret_err);
	if (r < 0)
		return r;
	r = storage_size(f->slots[slot], o->oid, ret_size);
	if (r == -ENOENT) {
		r = 0;		/* not there (yet): stays unknown */
		*ret_size = 0;
	} else if (r < 0) {
		*ret_err = strdup(storage_error(f->slots[slot]));
	} else {
		r = syncstate_set_size(f->model, o->oid, *ret_size);
		/* there: nothing to push (and evictable once local) */
		if (r == 0 && f->remote)
			r = syncstate_object_done(f->model, f->remote, o->oid);
	}
	slot_release(f, slot);
	return r;
}

int fetcher_learn_sizes(struct fetcher *f, fetch_progress_fn progress,
			void *ud, struct fetch_progress *ret, char **ret_err)
{
	struct object_list l = { 0 };
	struct job j = {
		.f = f, .list = &l, .work = size_work,
		.progress = progress, .ud = ud,
	};
	int r;

	*ret_err = NULL;
	r = syncstate_unknown_sizes(f->model, collect, &l);
	if (r < 0) {
		*ret_err = strdup(strerrordesc_np(-r));
		free(l.v);
		return r;
	}
	pthread_mutex_init(&j.lock, NULL);
	j.p.objects_total = (unsigned)l.n;
	r = l.n ? job_run(&j, ret, ret_err) : 0;
	if (!l.n && ret)
		*ret = j.p;
	pthread_mutex_destroy(&j.lock);
	free(l.v);
	return r;
}

int fetch_status_line(struct model *m, char **ret_line)
{
	char *why = NULL;
	int64_t t = 0;
	struct sb sb;

	(void)syncstate_note_get(m, NOTE_UNREADABLE, &why, &t);
	sb_init(&sb, 2 * LOG_LINE_MAX);
	sb_puts(&sb, "unreadable: ");
	sb_put_escaped(&sb, why ? why : "none", LOG_LINE_MAX);
	sb_putc(&sb, '\n');
	free(why);
	*ret_line = sb_detach(&sb, NULL);
	return *ret_line ? 0 : -ENOMEM;
}
