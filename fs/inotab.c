/* SPDX-License-Identifier: MIT */
/* Inode numbers by key; see inotab.h. */
#include "inotab.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ino_key {
	struct ino_key *next;	/* same bucket */
	uint64_t ino;
	size_t len;
	unsigned char key[];	/* len bytes */
};

struct inotab {
	pthread_mutex_t lock;
	struct ino_key **buckets;	/* nbuckets, a power of two */
	size_t nbuckets;
	struct ino_key **by_ino;	/* by number - 1; cap entries */
	size_t cap;
	size_t n;		/* keys */
	uint64_t next;		/* the number the next key gets */
};

struct inotab *inotab_new(void)
{
	struct inotab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nbuckets = 256;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->next = 1;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void inotab_free(struct inotab *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		struct ino_key *k = t->buckets[i], *next;

		for (; k; k = next) {
			next = k->next;
			free(k);
		}
	}
	free(t->buckets);
	free(t->by_ino);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* FNV-1a: only picks the bucket; equal keys are compared whole. */
static uint64_t hash(const unsigned char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Double the buckets; on ENOMEM keep the old ones (only slower). */
static void grow(struct inotab *t)
{
	size_t n = t->nbuckets * 2, i;
	struct ino_key **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		struct ino_key *k = t->buckets[i], *next;

		for (; k; k = next) {
			size_t j = hash(k->key, k->len) & (n - 1);

			next = k->next;
			k->next = b[j];
			b[j] = k;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

uint64_t inotab_get(struct inotab *t, const void *key, size_t len)
{
	uint64_t ino = 0;
	struct ino_key *k;
	size_t i;

	pthread_mutex_lock(&t->lock);
	i = hash(key, len) & (t->nbuckets - 1);
	for (k = t->buckets[i]; k; k = k->next)
		if (k->len == len && !memcmp(k->key, key, len))
			break;
	if (k) {
		ino = k->ino;
		goto out;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct ino_key **b = realloc(t->by_ino, cap * sizeof(*b));

		if (!b)
			goto out;
		t->by_ino = b;
		t->cap = cap;
	}
	k = malloc(sizeof(*k) + len);
	if (!k)
		goto out;
	t->by_ino[t->n] = k;	/* numbers are t->n + 1, in order */
	memcpy(k->key, key, len);
	k->len = len;
	k->ino = ino = t->next++;
	k->next = t->buckets[i];
	t->buckets[i] = k;
	if (++t->n > t->nbuckets * 2)
		grow(t);
out:
	pthread_mutex_unlock(&t->lock);
	return ino;
}

size_t inotab_key(struct inotab *t, uint64_t ino, void *buf, size_t size)
{
	size_t len = 0;

	pthread_mutex_lock(&t->lock);
	if (ino >= 1 && ino <= t->n && t->by_ino[ino - 1]->len <= size) {
		len = t->by_ino[ino - 1]->len;
		memcpy(buf, t->by_ino[ino - 1]->key, len);
	}
	pthread_mutex_unlock(&t->lock);
	return len;
}
