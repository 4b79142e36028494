/* SPDX-License-Identifier: MIT */
/*
 * The storage of a workspace made by upstream's `cmf init`: its remote is
 * in WS/.dvc/config (doc/cmf-upstream.md §4.2), named by core.remote:
 * local-storage, minio, amazons3, ssh-storage or osdf.  Reading it lets
 * cmffs mount and push such a workspace without re-initialising.
 */
#ifndef CMFFS_DVCCONFIG_H
#define CMFFS_DVCCONFIG_H

#include "config.h"

/*
 * If @cfg has no [storage], fill it from the DVC config file open at @fd
 * (borrowed; the caller opened it without following links, see safefs.h),
 * named @path in messages.  0 when filled or when there is nothing to use
 * (no default remote: the storage is left unset); -EINVAL with an owned
 * message in *ret_err for a DVC config cmffs cannot use; -errno when it
 * cannot be read.
 */
int dvcconfig_apply(struct config *cfg, int fd, const char *path,
		    char **ret_err);

#endif
