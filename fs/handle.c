/* SPDX-License-Identifier: MIT */
/*
 * Open handles (struct handle, fs_i.h), the request's caller, and small
 * helpers of the FUSE operations.
 */
#include "fs_i.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The mount and caller of the request this thread serves (ops.c). */
static __thread struct fs *current_fs;
static __thread struct caller current_caller;

void fs_call_begin(struct fs *fs, const struct caller *c)
{
	current_fs = fs;
	current_caller = *c;
}

struct fs *get_fs(void)
{
	return current_fs;
}

const struct caller *fs_caller(void)
{
	return &current_caller;
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

struct handle *handle_new(enum handle_kind kind, const struct node *n)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->kind = kind;
	h->fd = -1;
	h->ino = fs_node_id(get_fs(), n);
	return h;
}

int handle_path(struct fs *fs, const struct handle *h, bool mounted,
		char *buf, size_t size)
{
	size_t len = 0;
	struct node n;
	int r;

	if (mounted) {
		if (!fs->mountpoint)
			return -ENOENT;
		len = (size_t)snprintf(buf, size, "%s", fs->mountpoint);
		if (len >= size)
			return -ENAMETOOLONG;
	}
	r = fs_node_of_ino(fs, h->ino, &n);
	if (r == 0)
		r = fs_node_path(fs, &n, buf + len, size - len);
	return r;
}

int handle_refuse(struct fs *fs, const struct handle *h, int r,
		  const char *op, const char *why)
{
	char path[PATH_MAX];

	if (handle_path(fs, h, false, path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "(a removed name)");
	return fs_refuse(r, op, path, why);
}

void ns_to_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
}
