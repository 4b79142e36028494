/* SPDX-License-Identifier: MIT */
/*
 * Content hashing: MD5 as DVC 3 computes it (plain MD5 of the raw bytes,
 * 32 lowercase hex digits), and SHA-256 as S3's SigV4 wants a payload hash
 * (64 lowercase hex digits).  The only module that includes OpenSSL's
 * digests for these; every digest is written out with hex_encode().
 *
 * A struct hash is used by one thread at a time; its caller serializes.
 */
#ifndef CMFFS_HASH_H
#define CMFFS_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MD5_HEX_LEN 32
#define SHA256_HEX_LEN 64

struct hash;

/* A fresh MD5 context, or NULL on ENOMEM. */
struct hash *hash_new(void);
void hash_free(struct hash *h);	/* NULL-safe */
/* Start over (drops what was fed so far).  0 or -EIO. */
int hash_reset(struct hash *h);
int hash_update(struct hash *h, const void *p, size_t n);
/* Write the digest as 32 hex digits + NUL into @hex and reset @h. */
int hash_final(struct hash *h, char hex[MD5_HEX_LEN + 1]);

/* MD5 of the bytes of @fd from offset 0 to EOF (pread; the offset is kept). */
int hash_fd(int fd, char hex[MD5_HEX_LEN + 1]);
int hash_buf(const void *p, size_t n, char hex[MD5_HEX_LEN + 1]);

/* SHA-256 of the @n bytes at @p.  0, -ENOMEM or -EIO. */
int sha256_buf(const void *p, size_t n, char hex[SHA256_HEX_LEN + 1]);
/*
 * SHA-256 of bytes [@off, @off + @len) of @fd, read with pread() (the fd's
 * offset is kept).  0, pread()'s -errno, -EIO when the file ends before
 * @off + @len or OpenSSL fails, or -ENOMEM.
 */
int sha256_fd_range(int fd, uint64_t off, uint64_t len,
		    char hex[SHA256_HEX_LEN + 1]);

/*
 * The @n bytes at @p lowercase hex digits and a NUL in @out
 * (which holds 2 * @n + 1 bytes): digests, random name suffixes.
 */
void hex_encode(const void *p, size_t n, char *out);

/* True if @s is exactly 32 lowercase hex digits. */
bool hash_is_md5(const char *s);

#endif
