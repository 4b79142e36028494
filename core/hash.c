/* SPDX-License-Identifier: MIT */
/* MD5 and SHA-256 through OpenSSL 3 EVP; see hash.h. */
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

/* The digest of @ctx as hex into @hex; it must be @len bytes long. */
static int final_hex(EVP_MD_CTX *ctx, unsigned int len, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != len)
		return -EIO;
	hex_encode(md, n, hex);
	return 0;
}

int hash_final(struct hash *h, char hex[MD5_HEX_LEN + 1])
{
	int r = final_hex(h->ctx, MD5_HEX_LEN / 2, hex);

	return r < 0 ? r : hash_reset(h);
}

/*
 * Feed bytes [@off, @off + @len) of @fd to @ctx, read with pread() in
 * @chunk-byte pieces; @len UINT64_MAX reads to the end of the file.
 * 0, pread()'s -errno, -EIO when the file ends before @off + @len (or
 * OpenSSL fails), or -ENOMEM.
 */
static int digest_fd(EVP_MD_CTX *ctx, int fd, uint64_t off, uint64_t len,
		     size_t chunk)
{
	unsigned char *buf = malloc(chunk);
	uint64_t done = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	while (done < len) {
		size_t want = len - done < chunk ? (size_t)(len - done) : chunk;
		ssize_t n = pread(fd, buf, want, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0) {
			/* the end of the file: early unless reading to it */
			r = len == UINT64_MAX ? 0 : -EIO;
			break;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			r = -EIO;
			break;
		}
		done += (uint64_t)n;
	}
	free(buf);
	return r;
}

int hash_fd(int fd, char hex[MD5_HEX_LEN + 1])
{
	struct hash *h = hash_new();
	int r;

	if (!h)
		return -ENOMEM;
	r = digest_fd(h->ctx, fd, 0, UINT64_MAX, (size_t)1 << 20);
	if (r == 0)
		r = hash_final(h, hex);
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

/*
 * SHA-256 of the @n bytes at @p when @p is not NULL, else of bytes
 * [@off, @off + @len) of @fd, read in 256 KiB pieces: S3 hashes each
 * upload body this way, one piece in memory per request in flight.
 */
static int sha256_of(const void *p, size_t n, int fd, uint64_t off,
		     uint64_t len, char hex[SHA256_HEX_LEN + 1])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r;

	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		r = -EIO;
	else if (p)
		r = n && EVP_DigestUpdate(ctx, p, n) != 1 ? -EIO : 0;
	else
		r = digest_fd(ctx, fd, off, len, (size_t)256 << 10);
	if (r == 0)
		r = final_hex(ctx, SHA256_HEX_LEN / 2, hex);
	EVP_MD_CTX_free(ctx);
	return r;
}

int sha256_buf(const void *p, size_t n, char hex[SHA256_HEX_LEN + 1])
{
	return sha256_of(p ? p : "", n, -1, 0, 0, hex);
}

int sha256_fd_range(int fd, uint64_t off, uint64_t len,
		    char hex[SHA256_HEX_LEN + 1])
{
	return sha256_of(NULL, 0, fd, off, len, hex);
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
