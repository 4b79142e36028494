/* SPDX-License-Identifier: MIT */
/*
 * The mount's background sync thread: runs sync_pass() (sync.h) after
 * changes, every sync interval, and with exponential backoff after
 * failures (a transient failure from 1 s doubling to 300 s, another from
 * 30 s), on a store connection and curl handles of its own.
 */
#ifndef CMFFS_SYNCER_H
#define CMFFS_SYNCER_H

#include "config.h"
#include "model.h"
#include "sync.h"

struct syncer;

/*
 * Start the thread for workspace @ws.  Without a storage or a server
 * configured it does nothing (and *ret is still usable).  The thread
 * blocks SIGINT/SIGTERM/SIGHUP so the FUSE session keeps them.  @writer
 * (borrowed, may be NULL) is the mount's model: its batch of logged
 * changes is committed before each pass, so that the pass, on a store
 * connection of its own, sees every change logged before it began.
 */
int syncer_start(const char *ws, const struct config *cfg,
		 struct model *writer, struct syncer **ret);
/* Something changed: sync soon.  Cheap, any thread. */
void syncer_kick(struct syncer *s);
/* Stop (finishing the current request), join, free.  NULL-safe. */
void syncer_stop(struct syncer *s);
/* Status for .cmf/status: whether a pass runs, next retry (owned text). */
int syncer_status_text(struct syncer *s, char **ret_text);

#endif
