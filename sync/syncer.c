/* SPDX-License-Identifier: MIT */
/*
 * The mount's background sync thread (syncer.h): a pass after changes,
 * every sync interval, and with exponential backoff after failures.
 */
#include "syncer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "storage.h"
#include "threads.h"

struct syncer {
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* CLOCK_MONOTONIC */
	bool stopping;		/* protected by lock */
	bool kicked;		/* protected by lock */
	bool running;		/* protected by lock: a pass is under way */
	unsigned backoff;	/* protected by lock: seconds, 0 = none */
	char last[512];		/* protected by lock: last pass outcome */
	bool started;
	pthread_t thread;
	struct sync_env *env;	/* this thread's only */
	struct model *writer;	/* the mount's model, or NULL */
	unsigned interval;
};

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void *syncer_main(void *arg)
{
	struct syncer *s = arg;
	struct timespec ts;
	struct sync_report rep;
	char last_logged[512] = "";
	int r;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		unsigned wait_ms = s->backoff ? s->backoff * 1000
					      : s->interval * 1000;

		deadline_in(&ts, wait_ms ? wait_ms : 1000);
		while (!s->stopping && !s->kicked &&
		       pthread_cond_timedwait(&s->wake, &s->lock, &ts) == 0)
			;
		if (s->stopping)
			break;
		if (s->kicked && s->backoff) {
			/* changes do not cut a backoff short: keep waiting */
			s->kicked = false;
			continue;
		}
		s->kicked = false;
		s->running = true;
		pthread_mutex_unlock(&s->lock);
		/* let a burst of writes settle into one pass */
		usleep(200000);
		/* what the mount logged, committed for this connection */
		if (s->writer)
			(void)model_flush(s->writer);
		r = sync_pass(s->env, NULL, NULL, NULL, &rep);
		pthread_mutex_lock(&s->lock);
		s->running = false;
		if (r < 0) {
			bool transient = storage_err_is_transient(r) ||
					 r == -EFBIG;

			s->backoff = s->backoff ? s->backoff * 2 : 1;
			if (s->backoff > 300)
				s->backoff = 300;
			if (!transient && s->backoff < 30)
				s->backoff = 30;
			snprintf(s->last, sizeof(s->last), "%s", rep.message);
			if (strcmp(last_logged, rep.message)) {
				log_user("sync failed: %s; will retry in %us",
					 rep.message, s->backoff);
				snprintf(last_logged, sizeof(last_logged), "%s",
					 rep.message);
			}
		} else {
			s->backoff = 0;
			last_logged[0] = '\0';
			snprintf(s->last, sizeof(s->last),
				 "ok: %u object(s), %u execution(s) pushed",
				 rep.objects, rep.executions);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int syncer_start(const char *ws, const struct config *cfg,
		 struct model *writer, struct syncer **ret)
{
	struct syncer *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	char *err = NULL;
	int r;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	s->interval = cfg->sync_interval ? cfg->sync_interval : 30;
	s->writer = writer;
	s->kicked = true;	/* resume what an earlier run left */
	*ret = s;
	if (cfg->storage == STORAGE_NONE && !cfg->server_url)
		return 0;
	r = sync_env_open(ws, cfg, &s->env, &err);
	if (r < 0) {
		log_user("sync disabled: %s", err ? err : strerrordesc_np(-r));
		free(err);
		return 0;
	}
	r = thread_start(&s->thread, 0, syncer_main, s);
	if (r < 0) {
		log_user("sync disabled: cannot start a thread");
		sync_env_close(s->env);
		s->env = NULL;
		return 0;
	}
	s->started = true;
	return 0;
}

void syncer_kick(struct syncer *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->kicked = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

void syncer_stop(struct syncer *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	sync_env_close(s->env);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int syncer_status_text(struct syncer *s, char **ret_text)
{
	char *base = NULL;
	int r;

	if (!s || !s->env) {
		*ret_text = strdup("sync: not configured\n");
		return *ret_text ? 0 : -ENOMEM;
	}
	r = sync_status_text(s->env, &base);
	if (r < 0)
		return r;
	pthread_mutex_lock(&s->lock);
	r = asprintf(ret_text, "%ssync: %s%s\nlast pass: %s\n", base,
		     s->running ? "running" : "idle",
		     s->backoff ? " (backing off after a failure)" : "",
		     s->last[0] ? s->last : "none yet");
	pthread_mutex_unlock(&s->lock);
	free(base);
	return r < 0 ? -ENOMEM : 0;
}
