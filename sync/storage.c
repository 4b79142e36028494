/* SPDX-License-Identifier: MIT */
/* The storage dispatcher: object ids, keys, backend selection; storage.h. */
#include "storage_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

int storage_fail(struct storage *s, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	return r;
}

bool storage_err_is_transient(int r)
{
	switch (-r) {
	case EAGAIN:
	case ETIMEDOUT:
	case ECONNREFUSED:
	case ECONNRESET:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EPIPE:
	case EIO:
		return true;
	default:
		return false;
	}
}

int storage_open(const struct config *cfg, struct storage **ret,
		 char **ret_err)
{
	const struct storage_ops *ops;
	struct storage *s;
	int r;

	if (ret_err)
		*ret_err = NULL;
	switch (cfg->storage) {
	case STORAGE_LOCAL:
		ops = &storage_local_ops;
		break;
	case STORAGE_S3:
		ops = &storage_s3_ops;
		break;
	case STORAGE_SSH:
		ops = &storage_ssh_ops;
		break;
	case STORAGE_OSDF:
		ops = &storage_osdf_ops;
		break;
	default:
		if (ret_err)
			*ret_err = strdup("no storage is configured ([storage] in .cmfconfig)");
		return -ENOTSUP;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ops = ops;
	r = ops->open(s, cfg);
	if (r < 0) {
		if (ret_err)
			*ret_err = strdup(s->error[0] ? s->error
						      : "cannot open the storage");
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void storage_close(struct storage *s)
{
	if (!s)
		return;
	if (s->ops->close)
		s->ops->close(s);
	free(s);
}

/* "files/md5/ab/cdef..." for a valid object id, else -EINVAL. */
static int key_of(struct storage *s, const char *oid, char key[64])
{
	size_t n = strlen(oid);
	char md5[MD5_HEX_LEN + 1];

	if (n != MD5_HEX_LEN && !(n == MD5_HEX_LEN + 4 &&
				  !strcmp(oid + MD5_HEX_LEN, ".dir")))
		return storage_fail(s, -EINVAL, "'%s' is not an object id", oid);
	memcpy(md5, oid, MD5_HEX_LEN);
	md5[MD5_HEX_LEN] = '\0';
	if (!hash_is_md5(md5))
		return storage_fail(s, -EINVAL, "'%s' is not an object id", oid);
	snprintf(key, 64, "files/md5/%.2s/%s", oid, oid + 2);
	return 0;
}

int storage_exists(struct storage *s, const char *oid)
{
	char key[64];
	int r = key_of(s, oid, key);

	return r < 0 ? r : s->ops->stat(s, key, NULL);
}

int storage_size(struct storage *s, const char *oid, uint64_t *ret_size)
{
	char key[64];
	int r = key_of(s, oid, key);

	return r < 0 ? r : s->ops->stat(s, key, ret_size);
}

int storage_put(struct storage *s, const char *oid, int fd, uint64_t size)
{
	char key[64];
	int r = key_of(s, oid, key);

	return r < 0 ? r : s->ops->put(s, key, fd, size);
}

int storage_get(struct storage *s, const char *oid, int fd)
{
	char key[64];
	int r = key_of(s, oid, key);

	return r < 0 ? r : s->ops->get(s, key, fd);
}

const char *storage_error(const struct storage *s)
{
	return s->error[0] ? s->error : "no error";
}
