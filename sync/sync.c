/* SPDX-License-Identifier: MIT */
/*
 * Sync passes, fetches, pulls and the background thread; see sync.h.
 */
#include "sync.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "array.h"
#include "cache.h"
#include "cas.h"
#include "dirmanifest.h"
#include "document.h"
#include "fetch.h"
#include "log.h"
#include "model.h"
#include "sb.h"
#include "server.h"
#include "storage.h"
#include "utctime.h"
#include "syncstate.h"
#include "threads.h"
#include "urltext.h"
#include "workspace.h"

#define BATCH_EXECUTIONS 50
#define BATCH_MAX_BYTES ((size_t)8 << 20)	/* proxies refuse big bodies */

struct sync_env {
	const struct config *cfg;
	char *ws;
	struct model *model;	/* this env's own connection */
	struct cas *cas;
	struct storage *storage;	/* opened on first use */
	struct server *server;		/* opened on first use */
	char *remote;		/* config_remote_url(), redacted; or NULL */
	/*
	 * The object pass's other senders' storages ([i] is sender i + 1's,
	 * opened on its first use by that sender, kept for later passes);
	 * config_storage_jobs() - 1 of them.
	 */
	struct storage **senders;
	unsigned n_senders;
	struct fetcher *fetcher;	/* opened on first use */
};

int sync_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

void sync_global_cleanup(void)
{
	curl_global_cleanup();
}

int sync_env_open(const char *ws, const struct config *cfg,
		  struct sync_env **ret, char **ret_err)
{
	struct sync_env *env = calloc(1, sizeof(*env));
	char *mlmd = NULL;
	int r;

	*ret_err = NULL;
	if (!env)
		return -ENOMEM;
	env->cfg = cfg;
	env->remote = url_redact(config_remote_url(cfg));
	env->ws = strdup(ws);
	if (!env->ws || (config_remote_url(cfg) && !env->remote) ||
	    asprintf(&mlmd, "%s/mlmd", ws) < 0) {
		mlmd = NULL;
		r = -ENOMEM;
		goto fail;
	}
	r = model_open(mlmd, 0, &env->model, ret_err);
	if (r < 0)
		goto fail;
	r = model_set_remote(env->model, env->remote);
	if (r == 0)
		r = cas_open(ws, &env->cas);
	if (r < 0)
		goto fail;
	env->n_senders = config_storage_jobs(cfg) - 1;
	if (env->n_senders) {
		env->senders = calloc(env->n_senders, sizeof(*env->senders));
		if (!env->senders) {
			r = -ENOMEM;
			goto fail;
		}
	}
	free(mlmd);
	*ret = env;
	return 0;
fail:
	free(mlmd);
	sync_env_close(env);
	return r;
}

void sync_env_close(struct sync_env *env)
{
	if (!env)
		return;
	storage_close(env->storage);
	if (env->senders) {
		unsigned i;

		for (i = 0; i < env->n_senders; i++)
			storage_close(env->senders[i]);
		free(env->senders);
	}
	server_close(env->server);
	fetcher_close(env->fetcher);
	cas_close(env->cas);
	model_close(env->model);
	free(env->remote);
	free(env->ws);
	free(env);
}

static int report(struct sync_report *rep, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int report(struct sync_report *rep, int r, const char *fmt, ...)
{
	va_list ap;

	if (!rep->message[0]) {
		va_start(ap, fmt);
		vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
		va_end(ap);
	}
	return r;
}

static int need_storage(struct sync_env *env, struct sync_report *rep)
{
	char *err = NULL;
	int r;

	if (env->storage)
		return 0;
	r = storage_open(env->cfg, &env->storage, &err);
	if (r < 0)
		report(rep, r, "storage: %s", err ? err : strerrordesc_np(-r));
	free(err);
	return r;
}

static int need_server(struct sync_env *env, struct sync_report *rep)
{
	char *err = NULL;
	int r;

	if (env->server)
		return 0;
	r = server_open(env->cfg->server_url, env->cfg->ca_file,
			config_stall_timeout(env->cfg), &env->server, &err);
	if (r < 0)
		report(rep, r, "cmf-server: %s",
		       err ? err : strerrordesc_np(-r));
	free(err);
	return r;
}

struct pass {
	struct sync_env *env;
	struct sync_report *rep;	/* protected by lock while senders run */
	sync_progress_fn progress;	/* called with lock held */
	void *ud;
	pthread_mutex_t lock;
};

static void progress(struct pass *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void progress(struct pass *p, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!p->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one line at a time, whichever sender writes it */
	pthread_mutex_lock(&p->lock);
	p->progress(p->ud, line);
	pthread_mutex_unlock(&p->lock);
}

/* report() for the senders of the object pass: under the pass's lock. */
static int report_locked(struct pass *p, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int report_locked(struct pass *p, int r, const char *fmt, ...)
{
	char msg[sizeof(p->rep->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&p->lock);
	report(p->rep, r, "%s", msg);
	pthread_mutex_unlock(&p->lock);
	return r;
}

/*
 * Push one object with @storage (the calling sender's own).  Safe to run
 * in several senders at once: the report and progress go through the
 * pass's lock, the model takes its own.
 */
static int push_object(struct pass *p, struct storage *storage,
		       const char *oid)
{
	struct sync_env *env = p->env;
	struct stat st;
	int fd = -1, r;

	r = cas_open_object(env->cas, oid, &fd);
	if (r == -ENOENT) {
		/* pulled, never read here: it came from a remote already */
		r = storage_exists(storage, oid);
		if (r == 0) {
			r = syncstate_object_done(env->model, env->remote, oid);
			pthread_mutex_lock(&p->lock);
			p->rep->objects++;
			pthread_mutex_unlock(&p->lock);
			progress(p, "%s is at the storage already", oid);
			return r;
		}
		if (r == -ENOENT) {
			pthread_mutex_lock(&p->lock);
			p->rep->objects_left++;
			pthread_mutex_unlock(&p->lock);
			progress(p, "%s: its bytes are not local", oid);
			return 0;
		}
		return report_locked(p, r, "storage: %s",
				     storage_error(storage));
	}
	if (r < 0)
		return report_locked(p, r, "cannot read object %s: %s", oid,
				     strerrordesc_np(-r));
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return report_locked(p, r, "cannot read object %s", oid);
	}
	progress(p, "uploading %s (%lld bytes)", oid, (long long)st.st_size);
	r = storage_put(storage, oid, fd, (uint64_t)st.st_size);
	close(fd);
	if (r < 0)
		return report_locked(p, r, "storage: %s",
				     storage_error(storage));
	r = syncstate_object_done(env->model, env->remote, oid);
	pthread_mutex_lock(&p->lock);
	p->rep->objects++;
	p->rep->bytes += (uint64_t)st.st_size;
	pthread_mutex_unlock(&p->lock);
	progress(p, "uploaded %s", oid);
	return r;
}

struct object_list {
	struct object_ref {
		char oid[40];
	} *v;
	size_t n, cap;
	uint64_t bytes;		/* their sizes, where known */
};

static int collect_object(void *ud, const char *oid, uint64_t size)
{
	struct object_list *l = ud;
	size_t len = strlen(oid);

	l->bytes += size;
	if (len >= sizeof(l->v->oid))
		return -EINVAL;
	if (array_reserve(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return -ENOMEM;
	memcpy(l->v[l->n++].oid, oid, len + 1);
	return 0;
}

/*
 * The object pass: up to config_storage_jobs() senders take the pending
 * objects in order from one list, each with a struct storage of its own
 * (a struct storage serves one thread at a time).  Sender 0 is the calling
 * thread with env->storage; the others are threads with env->senders[],
 * opened by the thread itself so that slow opens (SSH) overlap.  A sender
 * whose storage cannot be opened takes no object; the others do its share.
 * After the first failure no sender takes a new object, those under way
 * finish, and the first failure is the pass's result.  Every sender is
 * joined before this returns: metadata never overtakes its objects.
 */
struct object_pass {
	struct pass *p;
	const struct object_list *list;
	size_t next;		/* protected by p->lock */
	int r;			/* protected by p->lock: first failure */
};

struct object_sender {
	struct object_pass *op;
	struct storage **storage;	/* this sender's slot */
	pthread_t thread;
};

static void *object_sender_main(void *arg)
{
	struct object_sender *snd = arg;
	struct object_pass *op = snd->op;
	struct pass *p = op->p;
	size_t i;
	int r;

	if (!*snd->storage &&
	    storage_open(p->env->cfg, snd->storage, NULL) < 0)
		return NULL;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		if (op->r < 0 || op->next >= op->list->n) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		i = op->next++;
		pthread_mutex_unlock(&p->lock);
		r = push_object(p, *snd->storage, op->list->v[i].oid);
		if (r < 0) {
			pthread_mutex_lock(&p->lock);
			if (!op->r)
				op->r = r;
			pthread_mutex_unlock(&p->lock);
		}
	}
	return NULL;
}

static int push_objects(struct pass *p)
{
	struct sync_env *env = p->env;
	struct object_list l = { 0 };
	struct object_pass op = { .p = p, .list = &l };
	struct object_sender *snd = NULL;
	size_t n, i, started = 0;
	int r;

	r = syncstate_pending_objects(env->model, env->remote, collect_object,
				      &l);
	if (r < 0) {
		report(p->rep, r, "cannot list objects: %s",
		       strerrordesc_np(-r));
		goto out;
	}
	p->rep->objects_total = (unsigned)l.n;
	p->rep->bytes_total = l.bytes;
	n = env->n_senders + 1 < l.n ? env->n_senders + 1 : l.n;
	if (n > 1) {
		snd = calloc(n, sizeof(*snd));
		if (!snd)
			n = 1;	/* one sender: no memory needed */
	}
	if (!snd) {
		struct object_sender one = { &op, &env->storage, 0 };

		(void)object_sender_main(&one);
		r = op.r;
		goto out;
	}
	for (i = 0; i < n; i++) {
		snd[i].op = &op;
		snd[i].storage = i ? &env->senders[i - 1] : &env->storage;
	}
	for (i = 1; i < n; i++) {
		if (thread_start(&snd[i].thread, 0, object_sender_main,
				 &snd[i]) < 0)
			break;	/* fewer senders */
		started++;
	}
	(void)object_sender_main(&snd[0]);
	for (i = 1; i <= started; i++)
		pthread_join(snd[i].thread, NULL);
	r = op.r;	/* all joined */
out:
	free(snd);
	free(l.v);
	return r;
}

struct exec_list {
	struct pending_execution *v;
	size_t n, cap;
};

static int collect_execution(void *ud, const struct pending_execution *e)
{
	struct exec_list *l = ud;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct pending_execution *v = reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	return 0;
}

struct slice_ask {
	struct sync_env *env;
	int64_t execution_id;
};

static int slice_seen(void *ud, const char *uri)
{
	struct slice_ask *a = ud;

	return syncstate_slice_seen(a->env->model, server_url(a->env->server),
				    a->execution_id, uri);
}

/*
 * Execution @e has Dataslice events the server is not recorded to have,
 * yet may have (a push it merged but whose answer was lost, a server that
 * got the execution from another one): ask it for the execution and record
 * what it has, so that the push leaves those out (syncstate.h).
 */
static int ask_slices(struct pass *p, const struct pending_execution *e)
{
	struct sync_env *env = p->env;
	struct slice_ask a = { env, e->id };
	char *uuid = NULL, *doc = NULL;
	size_t len = 0;
	int r;

	r = syncstate_execution_uuid(env->model, e->id, &uuid);
	if (r == -ENOENT)
		return 0;	/* not known by a uuid: nothing to ask */
	if (r < 0)
		return report(p->rep, r, "cannot read an execution of '%s': %s",
			      e->pipeline, strerrordesc_np(-r));
	progress(p, "asking which dataslices of execution %s of '%s' the server has",
		 uuid, e->pipeline);
	r = server_pull_execution(env->server, e->pipeline, uuid, &doc, &len);
	if (r == -ENOENT) {
		r = 0;		/* it has nothing of it */
	} else if (r < 0) {
		report(p->rep, r, "%s", server_error(env->server));
	} else {
		r = document_execution_uris(doc, len, uuid, slice_seen, &a);
		if (r < 0)
			report(p->rep, r, "cannot read cmf-server's answer to the pull of execution %s of '%s': %s",
			       uuid, e->pipeline,
			       r == -EINVAL ? "not a CMF document"
					    : strerrordesc_np(-r));
	}
	free(doc);
	free(uuid);
	return r;
}

/*
 * Push executions @v[0..n) (all of one pipeline) in documents, but for the
 * Dataslice events the server has: it would merge them again as INPUTs.
 */
static int push_batch(struct pass *p, struct pending_execution *v, size_t n)
{
	struct sync_env *env = p->env;
	struct slice_event *slices = NULL;
	struct document_event *omit = NULL;
	enum push_status st;
	int64_t *ids;
	char *doc = NULL;
	size_t len = 0, nslices = 0, nomit = 0, i;
	bool split = false;
	int r;

	ids = calloc(n, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		ids[i] = v[i].id;
	/* before the export: an event logged later is not recorded as sent */
	r = syncstate_slice_events(env->model, server_url(env->server), ids, n,
				   &slices, &nslices);
	if (r == 0 && nslices) {
		omit = calloc(nslices, sizeof(*omit));
		if (!omit)
			r = -ENOMEM;
	}
	for (i = 0; r == 0 && i < nslices; i++)
		if (slices[i].known)
			omit[nomit++] = (struct document_event){
				slices[i].execution_id, slices[i].artifact_id
			};
	if (r == 0)
		r = document_export_executions(env->model, v[0].pipeline, ids,
					       n, omit, nomit, 0, &doc, &len);
	free(ids);
	free(omit);
	if (r < 0) {
		report(p->rep, r, "cannot build the document of '%s': %s",
		       v[0].pipeline, strerrordesc_np(-r));
		goto out;
	}
	/* too big for one request: in halves */
	split = len > BATCH_MAX_BYTES && n > 1;
	if (split)
		goto out;
	progress(p, "pushing %zu execution(s) of '%s' (%zu bytes)", n,
		 v[0].pipeline, len);
	r = server_push(env->server, v[0].pipeline, doc, len, &st);
	split = r == -EFBIG && n > 1;
	if (split)
		goto out;
	if (r < 0) {
		report(p->rep, r, "%s", server_error(env->server));
		goto out;
	}
	/* the slices first: a crash before the executions re-sends no slice */
	r = syncstate_slices_done(env->model, server_url(env->server), slices,
				  nslices);
	for (i = 0; r == 0 && i < n; i++) {
		r = syncstate_execution_done(env->model, server_url(env->server),
					     v[i].id, v[i].update_ms);
		if (r == 0)
			p->rep->executions++;
	}
	if (r < 0)
		report(p->rep, r, "cannot record the push");
out:
	free(doc);
	free(slices);
	if (split) {
		r = push_batch(p, v, n / 2);
		if (r == 0)
			r = push_batch(p, v + n / 2, n - n / 2);
	}
	return r;
}

static int push_metadata(struct pass *p, const char *pipeline)
{
	struct sync_env *env = p->env;
	struct exec_list l = { 0 };
	size_t i, start;
	int r;

	r = syncstate_pending_executions(env->model, server_url(env->server),
					 env->storage ? env->remote : NULL,
					 pipeline, collect_execution, &l);
	if (r < 0) {
		free(l.v);
		return report(p->rep, r, "cannot list executions: %s",
			      strerrordesc_np(-r));
	}
	/* executions whose bytes are not all at the remote wait */
	for (i = 0, start = 0; i < l.n; i++)
		if (!l.v[i].missing_objects && l.v[i].pipeline[0])
			l.v[start++] = l.v[i];
		else
			p->rep->executions_left++;
	l.n = start;
	for (i = 0; r == 0 && i < l.n; i++)
		if (l.v[i].unknown_slices)
			r = ask_slices(p, &l.v[i]);
	/* batches of one pipeline each, oldest first */
	for (start = 0; r == 0 && start < l.n;) {
		size_t end = start + 1;

		while (end < l.n && end - start < BATCH_EXECUTIONS &&
		       !strcmp(l.v[end].pipeline, l.v[start].pipeline))
			end++;
		r = push_batch(p, l.v + start, end - start);
		start = end;
	}
	free(l.v);
	return r;
}

static int upload_tensorboard(void *ud, const struct pending_upload *u)
{
	struct pass *p = ud;
	struct sync_env *env = p->env;
	struct stat st;
	int fd = -1, r;

	r = cas_open_object(env->cas, u->md5, &fd);
	if (r < 0)
		return 0;	/* bytes gone (a crash before commit): skip */
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	progress(p, "uploading tensorboard log %s", u->name);
	r = server_upload(env->server, "tensorboard", u->pipeline, u->name, fd,
			  (uint64_t)st.st_size);
	if (r < 0) {
		report(p->rep, r, "%s", server_error(env->server));
		goto out;
	}
	r = syncstate_tensorboard_done(env->model, server_url(env->server),
				       u->entry_id, u->md5);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * Side uploads of upstream's client after a metadata push (doc/cmf-upstream.md
 * §4.4): environment files to /python-env under their relative path,
 * label files to /label under their md5.
 */
static int upload_side(struct pass *p, const char *type, const char *uri,
		       const char *name)
{
	struct sync_env *env = p->env;
	bool env_file = !strcmp(type, "Environment");
	char *file = NULL;
	struct stat st;
	int fd = -1, r;

	if (cas_open_object(env->cas, uri, &fd) < 0)
		return 0;	/* not here (pulled): the server has it */
	file = env_file ? strndup(name, strcspn(name, ":")) : strdup(uri);
	if (!file || fstat(fd, &st) < 0) {
		r = -ENOMEM;
		goto out;
	}
	progress(p, "uploading %s %s", env_file ? "environment" : "label", file);
	r = server_upload(env->server, env_file ? "python-env" : "label", NULL,
			  file, fd, (uint64_t)st.st_size);
	if (r < 0) {
		report(p->rep, r, "%s", server_error(env->server));
		goto out;
	}
	r = syncstate_side_done(env->model, server_url(env->server), type, uri);
out:
	close(fd);
	free(file);
	return r;
}

static int upload_env(void *ud, const char *uri, const char *name)
{
	return upload_side(ud, "Environment", uri, name);
}

static int upload_label(void *ud, const char *uri, const char *name)
{
	return upload_side(ud, "Label", uri, name);
}

int sync_pass(struct sync_env *env, const char *pipeline,
	      sync_progress_fn progress_fn, void *ud, struct sync_report *rep)
{
	struct pass p = { env, rep, progress_fn, ud,
			  PTHREAD_MUTEX_INITIALIZER };
	char line[640];
	int r = 0;

	memset(rep, 0, sizeof(*rep));
	if (env->cfg->storage != STORAGE_NONE) {
		r = need_storage(env, rep);
		if (r == 0)
			r = push_objects(&p);
	}
	if (r == 0 && env->cfg->server_url) {
		r = need_server(env, rep);
		if (r == 0)
			r = push_metadata(&p, pipeline);
		/* side uploads, after the metadata they belong to */
		if (r == 0)
			r = syncstate_pending_side(env->model,
						   server_url(env->server),
						   "Environment", upload_env, &p);
		if (r == 0)
			r = syncstate_pending_side(env->model,
						   server_url(env->server),
						   "Label", upload_label, &p);
		if (r == 0)
			r = syncstate_pending_tensorboard(env->model,
							  server_url(env->server),
							  upload_tensorboard, &p);
	}
	if (r == 0 && env->cfg->storage != STORAGE_NONE) {
		/* files pulled or imported while the storage was away */
		char *err = NULL;

		if (sync_learn_sizes(env, NULL, NULL, &err) < 0)
			log_msg(LOG_WARNING, "sizes not learnt: %s",
				err ? err : "?");
		free(err);
	}
	if (r < 0) {
		if (!rep->message[0])
			report(rep, r, "%s", strerrordesc_np(-r));
		(void)syncstate_note_set(env->model, "last_error", rep->message);
	} else {
		snprintf(line, sizeof(line),
			 "%u object(s), %llu byte(s), %u execution(s) pushed",
			 rep->objects, (unsigned long long)rep->bytes,
			 rep->executions);
		(void)syncstate_note_set(env->model, "last_success", line);
		(void)syncstate_note_set(env->model, "last_error", NULL);
	}
	/* what reached the storage may leave the cache now (cache.h) */
	if (env->cfg->cache_max_size) {
		struct cache_result cr;
		int tr = cache_trim(env->cas, env->model, env->cfg, &cr);

		if (tr < 0)
			log_errno(LOG_WARNING, tr, "cannot trim the cache");
		else if (cr.evicted_objects)
			progress(&p, "evicted %llu object(s) (%llu bytes) from the cache; it holds %llu bytes",
				 (unsigned long long)cr.evicted_objects,
				 (unsigned long long)cr.evicted_bytes,
				 (unsigned long long)cr.bytes);
	}
	pthread_mutex_destroy(&p.lock);
	return r;
}

/* The env's fetcher, opened on first use.  0 or -errno with *ret_err. */
static int need_fetcher(struct sync_env *env, char **ret_err)
{
	*ret_err = NULL;
	if (env->fetcher)
		return 0;
	return fetcher_open(env->ws, env->cfg, &env->fetcher, ret_err);
}

int sync_fetch(struct sync_env *env, const char *md5, char **ret_err)
{
	int r = need_fetcher(env, ret_err);

	return r < 0 ? r : fetcher_get(env->fetcher, md5, ret_err);
}

int sync_learn_sizes(struct sync_env *env, fetch_progress_fn progress_fn,
		     void *ud, char **ret_err)
{
	int r = need_fetcher(env, ret_err);

	return r < 0 ? r : fetcher_learn_sizes(env->fetcher, progress_fn, ud,
					       NULL, ret_err);
}

int sync_fetch_scope(struct sync_env *env, const char *pipeline,
		     const char *stage, const char *execution,
		     fetch_progress_fn progress_fn, void *ud,
		     struct fetch_progress *ret, char **ret_err)
{
	int r = need_fetcher(env, ret_err);

	return r < 0 ? r : fetcher_get_scope(env->fetcher, pipeline, stage,
					     execution, progress_fn, ud, ret,
					     ret_err);
}

struct expand {
	struct sync_env *env;
	char *err;
	int r;
};

/* Read a pulled directory's manifest (fetched, verified) into its files. */
static int expand_dir(void *ud, const char *oid, int64_t dir_id)
{
	struct expand *x = ud;
	struct manifest_entry *v = NULL;
	char *bytes = NULL, *err = NULL;
	size_t n = 0, len = 0;
	struct stat st;
	int fd = -1, r = 0;

	if (cas_has(x->env->cas, oid))
		return 0;	/* read before, or committed here */
	r = sync_fetch(x->env, oid, &err);
	if (r == 0)
		r = cas_open_object(x->env->cas, oid, &fd);
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (r == 0 && st.st_size > (64 << 20))
		r = -EFBIG;
	if (r == 0) {
		len = (size_t)st.st_size;
		bytes = malloc(len + 1);
		if (!bytes || pread(fd, bytes, len, 0) != (ssize_t)len)
			r = bytes ? -EIO : -ENOMEM;
	}
	if (r == 0)
		r = manifest_parse(bytes, len, &v, &n, &err);
	if (r == 0)
		r = model_dir_expand(x->env->model, dir_id, v, n);
	if (r < 0 && !x->err &&
	    asprintf(&x->err, "directory %s: %s", oid,
		     err ? err : strerrordesc_np(-r)) < 0)
		x->err = NULL;
	if (r < 0 && !x->r)
		x->r = r;
	if (fd >= 0)
		close(fd);
	manifest_free(v, n);
	free(bytes);
	free(err);
	return 0;	/* go on with the other directories */
}

int sync_pull(struct sync_env *env, const char *pipeline,
	      fetch_progress_fn progress_fn, void *ud, char **ret_err,
	      unsigned *ret_executions, unsigned *ret_artifacts)
{
	struct sync_report rep = { 0 };
	struct import_stats st = { 0 };
	char *doc = NULL, *err = NULL;
	size_t len = 0;
	int r;

	*ret_err = NULL;
	if (!env->cfg->server_url) {
		*ret_err = strdup("no cmf-server is configured ([cmf] server-url in .cmfconfig)");
		return -ENOTSUP;
	}
	r = need_server(env, &rep);
	if (r == 0)
		r = server_pull(env->server, pipeline, &doc, &len);
	if (r < 0) {
		*ret_err = strdup(rep.message[0] ? rep.message
						 : server_error(env->server));
		return r;
	}
	r = document_import(env->model, doc, len, pipeline, &st, &err);
	free(doc);
	if (r < 0) {
		if (asprintf(ret_err, "the pulled document was refused: %s",
			     err ? err : "?") < 0)
			*ret_err = NULL;
		free(err);
		return r;
	}
	/* committed directories: their files come from their manifests */
	if (env->cfg->storage != STORAGE_NONE) {
		struct expand x = { .env = env };

		r = model_unexpanded_dirs(env->model, expand_dir, &x);
		if (r == 0 && x.r < 0) {
			*ret_err = x.err;
			return x.r;
		}
		free(x.err);
	}
	/* stat is right before the first read: sizes from the storage */
	r = sync_learn_sizes(env, progress_fn, ud, &err);
	if (r < 0) {
		if (asprintf(ret_err, "the sizes of the pulled files are not known: %s",
			     err ? err : strerrordesc_np(-r)) < 0)
			*ret_err = NULL;
		free(err);
		return r;
	}
	*ret_executions = st.executions;
	*ret_artifacts = st.artifacts;
	return 0;
}

int sync_status_text(struct sync_env *env, char **ret_text)
{
	const char *server = env->cfg->server_url;
	struct sync_counts c;
	char *shown_server = NULL, *cache = NULL;
	char *last_error = NULL, *last_ok = NULL;
	int64_t t_err = 0, t_ok = 0;
	struct sb sb;
	int r;

	if (server && need_server(env, &(struct sync_report){ 0 }) < 0)
		server = NULL;
	r = syncstate_counts(env->model, env->remote,
			     server ? server_url(env->server) : NULL, &c);
	if (r == 0)
		r = cache_status_text(env->cas, env->model, env->cfg, &cache);
	if (r < 0)
		return r;
	(void)syncstate_note_get(env->model, "last_error", &last_error, &t_err);
	(void)syncstate_note_get(env->model, "last_success", &last_ok, &t_ok);
	sb_init(&sb, 1 << 16);
	sb_appendf(&sb, "storage: %s\n", env->remote ? env->remote : "(none)");
	shown_server = server ? url_redact(server) : NULL;
	sb_appendf(&sb, "server: %s\n", shown_server ? shown_server : "(none)");
	free(shown_server);
	sb_appendf(&sb, "objects pending: %lld\nobjects pushed: %lld\n",
		   (long long)c.objects_pending, (long long)c.objects_pushed);
	sb_appendf(&sb, "executions pending: %lld\nexecutions pushed: %lld\n",
		   (long long)c.executions_pending,
		   (long long)c.executions_pushed);
	if (last_ok) {
		char when[UTC_ISO_MAX];

		sb_appendf(&sb, "last success: %s: ",
			   utc_iso(t_ok, false, when));
		sb_put_escaped(&sb, last_ok, LOG_LINE_MAX);
		sb_putc(&sb, '\n');
	}
	/* the error may quote a server's answer: one escaped line */
	sb_puts(&sb, "last error: ");
	sb_put_escaped(&sb, last_error ? last_error : "none", LOG_LINE_MAX);
	sb_putc(&sb, '\n');
	sb_puts(&sb, cache);
	free(cache);
	free(last_error);
	free(last_ok);
	*ret_text = sb_detach(&sb, NULL);
	return *ret_text ? 0 : -ENOMEM;
}
