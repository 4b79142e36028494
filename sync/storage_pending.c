/* SPDX-License-Identifier: MIT */
/*
 * Placeholder ops for the S3 backend until its module lands: opening it
 * fails with a clear message instead of a link error.  To be replaced by
 * storage_s3.c.
 */
#include "storage_i.h"

#include <errno.h>

static int pending_open(struct storage *s, const struct config *cfg)
{
	return storage_fail(s, -ENOTSUP,
			    "the %s storage backend is not in this build yet",
			    storage_type_name(cfg->storage));
}

const struct storage_ops storage_s3_ops = { .name = "s3", .open = pending_open };
