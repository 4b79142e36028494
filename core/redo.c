/* SPDX-License-Identifier: MIT */
/* The redo log (redo.h). */
#include "redo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefs.h"

#define REDO_MAGIC 0x31524d43u	/* "CMR1" read little-endian */
#define FRAME_HEAD 24

struct redo {
	int fd;
	uint64_t size;		/* where the next frame goes */
	uint64_t last_start;	/* where the last frame appended begins */
};

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* FNV-1a 64 of the sequence number's bytes, then the record's. */
static uint64_t frame_check(const unsigned char seq_le[8], const void *rec,
			    size_t len)
{
	const unsigned char *p = rec;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < 8; i++)
		h = (h ^ seq_le[i]) * 0x100000001b3ull;
	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

int redo_open(int dirfd, const char *name, bool create, struct redo **ret)
{
	struct redo *rl = calloc(1, sizeof(*rl));
	struct stat st;
	int fd;

	if (!rl)
		return -ENOMEM;
	fd = safefs_open_file(dirfd, name, create ? O_RDWR | O_CREAT : O_RDWR,
			      SAFEFS_EXACT_MODE, 0600, NULL);
	if (fd < 0) {
		free(rl);
		return fd;
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		free(rl);
		return r;
	}
	rl->fd = fd;
	rl->size = (uint64_t)st.st_size;
	*ret = rl;
	return 0;
}

void redo_close(struct redo *rl)
{
	if (!rl)
		return;
	close(rl->fd);
	free(rl);
}

int redo_append(struct redo *rl, uint64_t seq, const void *rec, size_t len)
{
	unsigned char frame[FRAME_HEAD + REDO_RECORD_MAX];
	ssize_t n;

	if (len > REDO_RECORD_MAX)
		return -EMSGSIZE;
	put_le32(frame, REDO_MAGIC);
	put_le32(frame + 4, (uint32_t)len);
	put_le64(frame + 8, seq);
	put_le64(frame + 16, frame_check(frame + 8, rec, len));
	memcpy(frame + FRAME_HEAD, rec, len);
	do
		n = pwrite(rl->fd, frame, FRAME_HEAD + len, (off_t)rl->size);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)(FRAME_HEAD + len)) {
		rl->last_start = rl->size;
		rl->size += (uint64_t)n;
		return 0;
	}
	/* a torn frame is cut off again, so the next one starts clean */
	if (n >= 0 && ftruncate(rl->fd, (off_t)rl->size) < 0)
		return -errno;
	return n < 0 ? -errno : -ENOSPC;
}

int redo_each(struct redo *rl, redo_record_fn fn, void *ud,
	      uint64_t *ret_last)
{
	unsigned char head[FRAME_HEAD], *rec = NULL;
	uint64_t off = 0, last = 0;
	int r = 0;

	rec = malloc(REDO_RECORD_MAX);
	if (!rec)
		return -ENOMEM;
	for (;;) {
		uint32_t len;
		ssize_t n;

		n = pread(rl->fd, head, FRAME_HEAD, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n < FRAME_HEAD || get_le32(head) != REDO_MAGIC)
			break;
		len = get_le32(head + 4);
		if (len > REDO_RECORD_MAX)
			break;
		n = pread(rl->fd, rec, len, (off_t)(off + FRAME_HEAD));
		if (n < 0) {
			r = -errno;
			break;
		}
		if ((size_t)n != len ||
		    frame_check(head + 8, rec, len) != get_le64(head + 16))
			break;
		if (get_le64(head + 8) > last)
			last = get_le64(head + 8);
		r = fn ? fn(ud, get_le64(head + 8), rec, len) : 0;
		if (r)
			break;
		off += FRAME_HEAD + len;
	}
	free(rec);
	if (ret_last)
		*ret_last = last;
	return r < 0 ? r : 0;
}

int redo_drop_last(struct redo *rl)
{
	if (rl->last_start >= rl->size)
		return 0;
	if (ftruncate(rl->fd, (off_t)rl->last_start) < 0)
		return -errno;
	rl->size = rl->last_start;
	return 0;
}

int redo_reset(struct redo *rl)
{
	rl->last_start = 0;
	if (rl->size == 0)
		return 0;
	if (ftruncate(rl->fd, 0) < 0)
		return -errno;
	rl->size = 0;
	return 0;
}

uint64_t redo_size(const struct redo *rl)
{
	return rl->size;
}
