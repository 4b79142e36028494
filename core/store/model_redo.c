/* SPDX-License-Identifier: MIT */
/*
 * The redo records of batched changes (store.h, doc/design.md §6): creating
 * an entry and logging a file's version each leave one record, enough to
 * make the same change again after a crash, with the same ids and times:
 *
 *	'C' id execution_id side parent_id is_dir mode uid gid time name
 *	'L' id size mtime_ns time md5[32]
 *
 * integers little-endian 8 bytes (side, is_dir 1; mode, uid, gid 4), the
 * name the rest of the record.  A record is replayed through the same
 * functions that made the change, which check it as they check a live one:
 * the log is a file of the user's workspace.
 */

#include "model.h"

#include <errno.h>
#include <string.h>

#include "hash.h"
#include "model_i.h"
#include "redo.h"

enum { REC_CREATE = 'C', REC_LOG = 'L' };

struct rec {
	unsigned char b[REDO_RECORD_MAX];
	size_t len;
	bool bad;	/* written past the end, or read past it */
};

static void rec_put(struct rec *w, uint64_t v, size_t n)
{
	size_t i;

	if (w->len + n > sizeof(w->b)) {
		w->bad = true;
		return;
	}
	for (i = 0; i < n; i++)
		w->b[w->len++] = (unsigned char)(v >> (8 * i));
}

static void rec_put_bytes(struct rec *w, const char *p, size_t n)
{
	if (w->len + n > sizeof(w->b)) {
		w->bad = true;
		return;
	}
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

/* Reads @n little-endian bytes at @*pos of @p (@len bytes long). */
static uint64_t rec_get(const unsigned char *p, size_t len, size_t *pos,
			size_t n, bool *bad)
{
	uint64_t v = 0;
	size_t i;

	if (*pos + n > len) {
		*bad = true;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)p[*pos + i] << (8 * i);
	*pos += n;
	return v;
}

int entry_record_create(const struct entry *e, int64_t time_ns,
			unsigned char rec[REDO_RECORD_MAX], size_t *ret_len)
{
	struct rec w = { .len = 0 };

	rec_put(&w, REC_CREATE, 1);
	rec_put(&w, (uint64_t)e->id, 8);
	rec_put(&w, (uint64_t)e->execution_id, 8);
	rec_put(&w, (uint64_t)e->side, 1);
	rec_put(&w, (uint64_t)e->parent_id, 8);
	rec_put(&w, e->is_dir, 1);
	rec_put(&w, e->mode, 4);
	rec_put(&w, e->uid, 4);
	rec_put(&w, e->gid, 4);
	rec_put(&w, (uint64_t)time_ns, 8);
	rec_put_bytes(&w, e->name, strlen(e->name));
	if (w.bad)
		return -ENAMETOOLONG;
	memcpy(rec, w.b, w.len);
	*ret_len = w.len;
	return 0;
}

int entry_record_log(int64_t id, uint64_t size, int64_t mtime_ns,
		     int64_t time_ns, const char *md5,
		     unsigned char rec[REDO_RECORD_MAX], size_t *ret_len)
{
	struct rec w = { .len = 0 };

	rec_put(&w, REC_LOG, 1);
	rec_put(&w, (uint64_t)id, 8);
	rec_put(&w, size, 8);
	rec_put(&w, (uint64_t)mtime_ns, 8);
	rec_put(&w, (uint64_t)time_ns, 8);
	rec_put_bytes(&w, md5, MD5_HEX_LEN);
	if (w.bad)
		return -EINVAL;
	memcpy(rec, w.b, w.len);
	*ret_len = w.len;
	return 0;
}

int entry_record_object(const void *rec, size_t len,
			char md5[MD5_HEX_LEN + 1])
{
	const unsigned char *p = rec;

	/* 'L' id size mtime_ns time md5: the md5 ends the record */
	if (len != 1 + 4 * 8 + MD5_HEX_LEN || p[0] != REC_LOG)
		return 0;
	memcpy(md5, p + len - MD5_HEX_LEN, MD5_HEX_LEN);
	md5[MD5_HEX_LEN] = '\0';
	return hash_is_md5(md5) ? 1 : 0;
}

int entry_replay_locked(void *ud, const void *rec, size_t len)
{
	const unsigned char *p = rec;
	struct exec_ctx ctx = { 0 };
	struct model *m = ud;
	size_t pos = 1;
	bool bad = false;
	struct entry e;
	int64_t id, got;
	int r;

	if (len < 1)
		return -EBADMSG;
	id = (int64_t)rec_get(p, len, &pos, 8, &bad);
	if (p[0] == REC_CREATE) {
		int64_t exec = (int64_t)rec_get(p, len, &pos, 8, &bad);
		int side = (int)rec_get(p, len, &pos, 1, &bad);
		int64_t parent = (int64_t)rec_get(p, len, &pos, 8, &bad);
		bool is_dir = rec_get(p, len, &pos, 1, &bad) != 0;
		mode_t mode = (mode_t)rec_get(p, len, &pos, 4, &bad);
		uid_t uid = (uid_t)rec_get(p, len, &pos, 4, &bad);
		gid_t gid = (gid_t)rec_get(p, len, &pos, 4, &bad);
		int64_t t = (int64_t)rec_get(p, len, &pos, 8, &bad);
		char name[256];

		if (bad || id <= 0 || len - pos == 0 ||
		    len - pos >= sizeof(name))
			return -EBADMSG;
		memcpy(name, p + pos, len - pos);
		name[len - pos] = '\0';
		/* one component, as a create in the mount made it */
		if (strlen(name) != len - pos || strchr(name, '/') ||
		    !strcmp(name, ".") || !strcmp(name, ".."))
			return -EBADMSG;
		/* the log is the user's file: a record names what exists */
		if (side < SIDE_INPUTS || side > SIDE_DATASLICE)
			return -EBADMSG;
		r = exec_ctx_load_locked(m, exec, &ctx);
		exec_ctx_release(&ctx);
		if (r < 0)
			return r;
		m->change_ns = t;
		r = entry_insert_locked(m, exec, side, parent, name, is_dir, 0,
					NULL, 0, mode, uid, gid, id, &got);
		m->change_ns = 0;
		return r;
	}
	if (p[0] == REC_LOG) {
		uint64_t size = rec_get(p, len, &pos, 8, &bad);
		int64_t mtime_ns = (int64_t)rec_get(p, len, &pos, 8, &bad);
		int64_t t = (int64_t)rec_get(p, len, &pos, 8, &bad);
		char md5[MD5_HEX_LEN + 1];

		if (bad || len - pos != MD5_HEX_LEN)
			return -EBADMSG;
		memcpy(md5, p + pos, MD5_HEX_LEN);
		md5[MD5_HEX_LEN] = '\0';
		if (!hash_is_md5(md5))
			return -EBADMSG;
		r = entry_get_locked(m, id, &e);
		if (r == 0 && e.is_dir)
			r = -EISDIR;
		m->change_ns = t;
		if (r == 0)
			r = entry_log_locked(m, &e, md5, size, mtime_ns, NULL);
		m->change_ns = 0;
		return r;
	}
	return -EBADMSG;
}
