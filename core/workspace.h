/* SPDX-License-Identifier: MIT */
/*
 * A workspace directory (doc/design.md §2): WS/.cmfconfig, WS/mlmd and
 * WS/.cmf/ (content store, temporary files, journal, lock).  Opening one
 * gives the model, the content store and the configuration together, for
 * the mount and for the commands that work without a mount.
 */
#ifndef CMFFS_WORKSPACE_H
#define CMFFS_WORKSPACE_H

#include "cas.h"
#include "config.h"
#include "model.h"

struct workspace;

enum workspace_flags {
	/* hold WS/.cmf/lock exclusively (one mount per workspace) and
	 * journal refusals to WS/.cmf/log */
	WORKSPACE_LOCK = 1 << 0,
};

/*
 * Make @path a workspace with configuration @cfg (borrowed): create the
 * directory if needed, write .cmfconfig (0600), create the metadata store
 * and the content store.  An existing .cmfconfig is an error (-EEXIST);
 * an existing mlmd is kept if it is an MLMD v10 store.  0 or -errno with an
 * owned message in *ret_err.
 */
int workspace_init(const char *path, const struct config *cfg,
		   char **ret_err);

/*
 * Open workspace @path.  A directory with an mlmd file but no .cmfconfig
 * (made by upstream's cmflib) opens with a default configuration.
 * 0 or -errno with an owned message in *ret_err (-EBUSY: mounted already).
 */
int workspace_open(const char *path, unsigned flags, struct workspace **ret,
		   char **ret_err);
void workspace_close(struct workspace *ws);	/* NULL-safe */

/* Borrowed, valid until workspace_close(). */
const char *workspace_path(const struct workspace *ws);
struct model *workspace_model(struct workspace *ws);
struct cas *workspace_cas(struct workspace *ws);
const struct config *workspace_config(const struct workspace *ws);

/*
 * The remote URL artifacts are pushed to, as written into their url
 * property: the directory for local storage, else the storage URL; NULL
 * when no storage is configured.  Borrowed from @cfg.
 */
const char *config_remote_url(const struct config *cfg);

#endif
