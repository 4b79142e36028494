/* SPDX-License-Identifier: MIT */
/* MD5 through OpenSSL 3 EVP; see hash.h. */
#include "hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

struct hash {
	EVP_MD_CTX *ctx;
};

struct hash *hash_new(void)
{
	struct hash *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || hash_reset(h) < 0) {
		hash_free(h);
		return NULL;
	}
	return h;
}

void hash_free(struct hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int hash_reset(struct hash *h)
{
	if (EVP_DigestInit_ex(h->ctx, EVP_md5(), NULL) != 1)
		return -EIO;
	return 0;
}

int hash_update(struct hash *h, const void *p, size_t n)
{
	if (n && EVP_DigestUpdate(h->ctx, p, n) != 1)
		return -EIO;
	return 0;
}

void hex_encode(const void *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *d = p;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

int hash_final(struct hash *h, char hex[MD5_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &len) != 1 || len != 16)
		return -EIO;
	hex_encode(md, len, hex);
	return hash_reset(h);
}

int hash_fd(int fd, char hex[MD5_HEX_LEN + 1])
{
	const size_t bufsize = 1 << 20;
	struct hash *h = NULL;
	char *buf = NULL;
	off_t off = 0;
	int r;

	h = hash_new();
	buf = malloc(bufsize);
	if (!h || !buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, bufsize, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		r = hash_update(h, buf, (size_t)n);
		if (r < 0)
			goto out;
		off += n;
	}
	r = hash_final(h, hex);
out:
	free(buf);
	hash_free(h);
	return r;
}

int hash_buf(const void *p, size_t n, char hex[MD5_HEX_LEN + 1])
{
	struct hash *h = hash_new();
	int r;

	if (!h)
		return -ENOMEM;
	r = hash_update(h, p, n);
	if (r == 0)
		r = hash_final(h, hex);
	hash_free(h);
	return r;
}

bool hash_is_md5(const char *s)
{
	size_t i;

	for (i = 0; i < MD5_HEX_LEN; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[MD5_HEX_LEN] == '\0';
}
