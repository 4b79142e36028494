/* SPDX-License-Identifier: MIT */
/* Safe reads of small files; see safefile.h. */
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

int file_read_at(int dirfd, const char *name, size_t max,
			bool truncate, char **ret_buf, size_t *ret_len,
			struct stat *ret_st)
{
	struct stat st;
	char *buf = NULL, *n;
	size_t len = 0, cap;
	ssize_t k;
	int fd, r;

	fd = openat(dirfd, name,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	/* /proc files report size 0: start small and grow. */
	cap = 4096;
	if (st.st_size > 0 && (uint64_t)st.st_size < max)
		cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				if (!truncate) {
					r = -EFBIG;
					goto out;
				}
				len = max;
				break;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			n = realloc(buf, cap + 1);
			if (!n) {
				r = -ENOMEM;
				goto out;
			}
			buf = n;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	if (len > max) {
		if (!truncate) {
			r = -EFBIG;
			goto out;
		}
		len = max;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	buf = NULL;
	if (ret_len)
		*ret_len = len;
	if (ret_st)
		*ret_st = st;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}
