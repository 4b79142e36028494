/* SPDX-License-Identifier: MIT */
/*
 * Open handles (struct handle, fs_i.h) and small helpers of the FUSE operations.
 */
#include "fs_i.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct fs *get_fs(void)
{
	return fuse_get_context()->private_data;
}

struct handle *handle_of(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

void handle_free(struct handle *h)
{
	if (!h)
		return;
	if (h->kind == H_OBJECT && h->fd >= 0)
		close(h->fd);
	free(h->buf);
	free(h);
}

struct handle *handle_new(enum handle_kind kind, const char *path)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->kind = kind;
	h->fd = -1;
	snprintf(h->path, sizeof(h->path), "%s", path);
	return h;
}

void ns_to_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
}
