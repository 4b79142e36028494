/* SPDX-License-Identifier: MIT */
/*
 * Open files: the bytes of a file being written, and their hash.
 *
 * All handles of one entry share one struct ofile.  Bytes go to a temporary
 * file of the content store; the MD5 follows the part written in order (the
 * common case: cp, shell redirection, any sequential writer), so a logged
 * file is read once, not twice.  Small files are hashed in the write call;
 * once a file grows past ASYNC_HASH_FROM a hasher thread follows the writer
 * through the page cache, so that copying and hashing overlap and a write
 * returns as soon as its bytes are in the temporary file.  Any write out of
 * order, or a truncate into the hashed part, marks the hash stale and the
 * file is re-hashed when it is logged: a file is never logged with a wrong
 * hash.
 *
 * When a writer closes the file (flush) its content is committed to the
 * content store and logged, after the hasher caught up.  The ofile then
 * reads from the committed bytes ("clean") until the next write copies them
 * into a new temporary file.
 */
#include "fs_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "csvcheck.h"
#include "log.h"
#include "threads.h"

/* Files hashed in the write call up to this size; a hasher thread beyond. */
#define ASYNC_HASH_FROM ((uint64_t)1 << 20)
/*
 * At most this many hasher threads at once (each a thread and a buffer):
 * more large files written at the same time are hashed in the write call,
 * which is as fast in total when the CPUs are all busy anyway.
 */
#define MAX_HASHERS 8
/* What the hasher reads per step: small enough to stay in the CPU cache. */
#define HASH_CHUNK ((size_t)256 << 10)

struct ofile {
	int64_t entry_id;	/* immutable */
	int side;		/* immutable: the entry's side */
	struct ofile *next;	/* protected by fs->ofiles_lock */
	int refs;		/* protected by fs->ofiles_lock */
	pthread_mutex_t lock;	/* protects everything below */
	pthread_cond_t cond;	/* signalled when hasher state changes */
	struct cas_tmp tmp;	/* fd >= 0 always; writable only if live */
	bool live;		/* tmp is a private temporary file */
	/*
	 * Bytes [0, in_order) were written in order; of those, [0, hashed)
	 * are in @hash.  While @hashing the hasher thread uses @hash and
	 * reads tmp.fd without the lock, and while @writing writers copy
	 * into tmp.fd without it: nobody else touches @hash, truncates or
	 * replaces tmp.fd until both clear (wait_unshared()).
	 */
	struct hash *hash;
	uint64_t in_order;
	uint64_t hashed;
	bool stale;		/* hash must be recomputed from the file */
	bool hashing;
	int writing;		/* writes in flight without the lock */
	bool hasher_started;	/* the hasher thread exists */
	bool hasher_stop;
	pthread_t hasher;
	/*
	 * Written under @lock, read by ofile_stat() without it: stat of a
	 * file being closed (re-hashed, committed under @lock) never waits.
	 */
	_Atomic uint64_t size;
	_Atomic int64_t mtime_ns;
	bool dirty;		/* content differs from the logged version */
	bool written;		/* bytes were written since the last commit */
	bool abandoned;		/* a writer died of a signal: never log */
	int failed;		/* sticky write error: never log */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The hasher thread: hash [hashed, in_order) from the temporary file, in
 * the page cache right behind the writer, until told to stop.  It reads
 * into a buffer that stays in the CPU cache (on this hardware that beats
 * hashing a mapping of the page cache, see scripts/bench/RESULTS.md).
 */
static void *hasher_main(void *arg)
{
	struct ofile *of = arg;
	char *buf = malloc(HASH_CHUNK);

	pthread_mutex_lock(&of->lock);
	while (!of->hasher_stop) {
		uint64_t from = of->hashed;
		size_t len;
		ssize_t n;
		int fd, r;

		if (of->stale || of->hashed >= of->in_order) {
			pthread_cond_wait(&of->cond, &of->lock);
			continue;
		}
		len = of->in_order - from < HASH_CHUNK
			      ? (size_t)(of->in_order - from) : HASH_CHUNK;
		fd = of->tmp.fd;
		of->hashing = true;
		pthread_mutex_unlock(&of->lock);
		n = -1;
		if (buf)
			do
				n = pread(fd, buf, len, (off_t)from);
			while (n < 0 && errno == EINTR);
		r = n > 0 ? hash_update(of->hash, buf, (size_t)n) : -EIO;
		pthread_mutex_lock(&of->lock);
		of->hashing = false;
		if (r < 0)
			of->stale = true;	/* hashed again from the file */
		else
			of->hashed += (uint64_t)n;
		pthread_cond_broadcast(&of->cond);
	}
	pthread_mutex_unlock(&of->lock);
	free(buf);
	return NULL;
}

/*
 * Start the hasher of @of if there is none.  -EAGAIN when MAX_HASHERS run
 * already.  Caller holds of->lock.
 */
static int start_hasher(struct fs *fs, struct ofile *of)
{
	int r = 0;

	if (of->hasher_started)
		return 0;
	pthread_mutex_lock(&fs->ofiles_lock);
	if (fs->hashers >= MAX_HASHERS)
		r = -EAGAIN;
	else
		fs->hashers++;
	pthread_mutex_unlock(&fs->ofiles_lock);
	if (r == 0)
		r = thread_start(&of->hasher, 256 << 10, hasher_main, of);
	if (r == 0) {
		of->hasher_started = true;
	} else if (r != -EAGAIN) {
		pthread_mutex_lock(&fs->ofiles_lock);
		fs->hashers--;
		pthread_mutex_unlock(&fs->ofiles_lock);
	}
	return r;
}

/* Wait until no hasher or writer uses @hash or tmp.fd.  Holds of->lock. */
static void wait_unshared(struct ofile *of)
{
	while (of->hashing || of->writing)
		pthread_cond_wait(&of->cond, &of->lock);
}

/* Wait until the hash covers everything written in order.  Holds lock. */
static void wait_hasher_done(struct ofile *of)
{
	while (of->hashing || of->writing ||
	       (!of->stale && of->hashed < of->in_order))
		pthread_cond_wait(&of->cond, &of->lock);
}

static void ofile_free(struct fs *fs, struct ofile *of)
{
	if (!of)
		return;
	if (of->hasher_started) {
		pthread_mutex_lock(&of->lock);
		of->hasher_stop = true;
		pthread_cond_broadcast(&of->cond);
		pthread_mutex_unlock(&of->lock);
		pthread_join(of->hasher, NULL);
		pthread_mutex_lock(&fs->ofiles_lock);
		fs->hashers--;
		pthread_mutex_unlock(&fs->ofiles_lock);
	}
	if (of->live)
		cas_tmp_discard(fs->cas, &of->tmp);
	else if (of->tmp.fd >= 0)
		close(of->tmp.fd);
	hash_free(of->hash);
	pthread_cond_destroy(&of->cond);
	pthread_mutex_destroy(&of->lock);
	free(of);
}

/*
 * Make @of writable: copy the committed bytes (or none, with @empty) into a
 * fresh temporary file, hashing them on the way.  Caller holds of->lock.
 */
static int make_live(struct fs *fs, struct ofile *of, bool empty)
{
	struct cas_tmp t;
	char *buf = NULL;
	off_t off = 0;
	int r;

	r = cas_tmp_create(fs->cas, &t);
	if (r < 0)
		return r;
	wait_unshared(of);
	r = hash_reset(of->hash);
	if (r < 0)
		goto fail;
	if (!empty && of->tmp.fd >= 0 && of->size) {
		const size_t bufsize = 1 << 20;

		buf = malloc(bufsize);
		if (!buf) {
			r = -ENOMEM;
			goto fail;
		}
		for (;;) {
			ssize_t n = pread(of->tmp.fd, buf, bufsize, off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = -errno;
				goto fail;
			}
			if (n == 0)
				break;
			if (pwrite(t.fd, buf, (size_t)n, off) != n) {
				r = errno ? -errno : -EIO;
				goto fail;
			}
			r = hash_update(of->hash, buf, (size_t)n);
			if (r < 0)
				goto fail;
			off += n;
		}
	}
	if (of->live)
		cas_tmp_discard(fs->cas, &of->tmp);
	else if (of->tmp.fd >= 0)
		close(of->tmp.fd);
	of->tmp = t;
	of->live = true;
	of->hashed = (uint64_t)off;
	of->in_order = (uint64_t)off;
	of->size = (uint64_t)off;
	of->stale = false;
	free(buf);
	return 0;
fail:
	free(buf);
	cas_tmp_discard(fs->cas, &t);
	return r;
}

struct ofile *ofile_find(struct fs *fs, int64_t entry_id)
{
	struct ofile *of;

	pthread_mutex_lock(&fs->ofiles_lock);
	for (of = fs->ofiles; of; of = of->next)
		if (of->entry_id == entry_id) {
			of->refs++;
			break;
		}
	pthread_mutex_unlock(&fs->ofiles_lock);
	return of;
}

int ofile_open(struct fs *fs, const struct entry *e, bool trunc,
	       struct ofile **ret)
{
	struct ofile *of, *existing;
	int r;

	existing = ofile_find(fs, e->id);
	if (existing) {
		if (trunc) {
			r = ofile_truncate(fs, existing, 0);
			if (r < 0) {
				ofile_release(fs, existing);
				return r;
			}
		}
		*ret = existing;
		return 0;
	}
	of = calloc(1, sizeof(*of));
	if (!of)
		return -ENOMEM;
	pthread_mutex_init(&of->lock, NULL);
	pthread_cond_init(&of->cond, NULL);
	of->entry_id = e->id;
	of->side = e->side;
	of->refs = 1;
	of->tmp.fd = -1;
	of->mtime_ns = e->mtime_ns;
	of->hash = hash_new();
	if (!of->hash) {
		r = -ENOMEM;
		goto fail;
	}
	if (e->md5[0] && !trunc) {
		/* clean: read the stored bytes until someone writes; -ENOENT
		 * if they are not in the cache (pulled, or evicted) */
		r = cas_read_object(fs->cas, e->md5, &of->tmp.fd);
		if (r < 0)
			goto fail;
		of->size = e->size;
	} else {
		r = make_live(fs, of, true);
		if (r < 0)
			goto fail;
		/* a new or truncated file is a change worth logging */
		of->dirty = true;
		of->mtime_ns = now_ns();
	}
	pthread_mutex_lock(&fs->ofiles_lock);
	/* another thread may have opened it meanwhile: use that one */
	for (existing = fs->ofiles; existing; existing = existing->next)
		if (existing->entry_id == e->id) {
			existing->refs++;
			break;
		}
	if (!existing) {
		of->next = fs->ofiles;
		fs->ofiles = of;
	}
	pthread_mutex_unlock(&fs->ofiles_lock);
	if (existing) {
		ofile_free(fs, of);
		of = existing;
		if (trunc) {
			r = ofile_truncate(fs, of, 0);
			if (r < 0) {
				ofile_release(fs, of);
				return r;
			}
		}
	}
	*ret = of;
	return 0;
fail:
	ofile_free(fs, of);
	return r;
}

int ofile_read(struct ofile *of, char *buf, size_t size, off_t off)
{
	ssize_t n;

	pthread_mutex_lock(&of->lock);
	n = pread(of->tmp.fd, buf, size, off);
	pthread_mutex_unlock(&of->lock);
	return n < 0 ? -errno : (int)n;
}

int ofile_write(struct fs *fs, struct ofile *of, const char *buf, size_t size,
		off_t off)
{
	ssize_t n;
	int r = 0;

	pthread_mutex_lock(&of->lock);
	if (!of->live) {
		r = make_live(fs, of, false);
		if (r < 0)
			goto out;
	}
	/*
	 * The copy into the temporary file runs without the lock, so that
	 * the hasher is never kept waiting behind it; whoever replaces or
	 * truncates tmp.fd waits for writes in flight first.
	 */
	of->writing++;
	pthread_mutex_unlock(&of->lock);
	n = pwrite(of->tmp.fd, buf, size, off);
	if (n < 0)
		r = -errno;
	pthread_mutex_lock(&of->lock);
	if (--of->writing == 0)
		pthread_cond_broadcast(&of->cond);
	if (n < 0) {
		/* the file is now incomplete: it must not be logged */
		of->failed = r;
		goto out;
	}
	if (!of->stale && (uint64_t)off == of->in_order) {
		of->in_order += (uint64_t)n;
		if (!of->hasher_started &&
		    (of->in_order <= ASYNC_HASH_FROM ||
		     (r = start_hasher(fs, of)) == -EAGAIN)) {
			/* small so far (or hashers all busy): hash here, the
			 * bytes are in the CPU cache */
			r = hash_update(of->hash, buf, (size_t)n);
			if (r < 0)
				goto out;
			of->hashed += (uint64_t)n;
		} else if (!of->hasher_started) {
			of->stale = true;	/* hashed at close instead */
		} else {
			pthread_cond_broadcast(&of->cond);
		}
	} else if (!of->stale) {
		of->stale = true;
	}
	if ((uint64_t)off + (uint64_t)n > of->size)
		of->size = (uint64_t)off + (uint64_t)n;
	of->dirty = true;
	of->written = true;
	of->abandoned = false;
	of->mtime_ns = now_ns();
	r = (int)n;
out:
	pthread_mutex_unlock(&of->lock);
	return r;
}

int ofile_truncate(struct fs *fs, struct ofile *of, off_t size)
{
	int r = 0;

	pthread_mutex_lock(&of->lock);
	if ((uint64_t)size == of->size && of->live)
		goto out;
	if (!of->live) {
		r = make_live(fs, of, size == 0);
		if (r < 0)
			goto out;
	}
	wait_unshared(of);	/* the hasher or a writer may be using the fd */
	if (ftruncate(of->tmp.fd, size) < 0) {
		r = -errno;
		goto out;
	}
	if (size == 0) {
		/* starting over also clears an earlier write failure */
		r = hash_reset(of->hash);
		of->hashed = 0;
		of->in_order = 0;
		of->stale = false;
		of->failed = 0;
	} else if ((uint64_t)size != of->in_order) {
		of->stale = true;
	}
	of->size = (uint64_t)size;
	of->dirty = true;
	of->mtime_ns = now_ns();
out:
	pthread_mutex_unlock(&of->lock);
	return r;
}

bool ofile_written(struct ofile *of)
{
	bool written;

	pthread_mutex_lock(&of->lock);
	written = of->written;
	pthread_mutex_unlock(&of->lock);
	return written;
}

void ofile_stat(struct ofile *of, uint64_t *ret_size, int64_t *ret_mtime_ns)
{
	*ret_size = of->size;
	*ret_mtime_ns = of->mtime_ns;
}

void ofile_set_mtime(struct ofile *of, int64_t mtime_ns)
{
	pthread_mutex_lock(&of->lock);
	of->mtime_ns = mtime_ns;
	pthread_mutex_unlock(&of->lock);
}

/* Commit and log the current bytes.  Caller holds of->lock. */
static int commit_locked(struct fs *fs, struct ofile *of, char **ret_err)
{
	char md5[MD5_HEX_LEN + 1];
	char *err = NULL;
	int r;

	/* step metrics must be a CSV table before they are logged */
	if (of->side == SIDE_STEP_METRICS && of->live) {
		r = csv_check(of->tmp.fd, &err);
		if (r < 0) {
			if (ret_err)
				*ret_err = err;
			else
				free(err);
			return r;
		}
	}
	wait_hasher_done(of);
	if (of->stale)
		r = hash_fd(of->tmp.fd, md5);
	else
		r = hash_final(of->hash, md5);
	if (r < 0)
		return r;
	/* no gc takes the object before the entry refers to it */
	cas_hold(fs->cas);
	r = cas_commit(fs->cas, &of->tmp, md5);
	if (r < 0)
		goto out;
	/* the fd now reads the committed object: never write it again */
	of->live = false;
	of->dirty = false;
	of->written = false;
	r = model_entry_log(fs->model, of->entry_id, md5, of->size,
			    of->mtime_ns, NULL);
	if (r == -ENOENT)
		r = 0;	/* removed while open: nothing to log */
out:
	cas_unhold(fs->cas);
	return r;
}

int ofile_flush(struct fs *fs, struct ofile *of, bool killed, bool shared,
		bool more_fds, char **ret_err)
{
	int r = 0;

	pthread_mutex_lock(&of->lock);
	if (killed && of->dirty) {
		of->abandoned = true;
		r = -EINTR;
		goto out;
	}
	if (shared)
		goto out;	/* ofile_release() logs at the last close */
	/*
	 * Shells open a file, dup2() it and close the original before
	 * writing: that first close must not log an empty version.  So a
	 * close without writes logs only when the closing process holds no
	 * other descriptor of the file (touch, : > f, cp of an empty file).
	 */
	if (!of->dirty || (!of->written && more_fds))
		goto out;
	if (of->failed) {
		r = of->failed;
		goto out;
	}
	r = commit_locked(fs, of, ret_err);
out:
	pthread_mutex_unlock(&of->lock);
	return r;
}

void ofile_release(struct fs *fs, struct ofile *of)
{
	struct ofile **pp;
	bool last, dirty;
	int64_t entry_id;
	struct entry e;

	pthread_mutex_lock(&fs->ofiles_lock);
	last = of->refs == 1;
	if (!last)
		of->refs--;
	pthread_mutex_unlock(&fs->ofiles_lock);
	if (!last)
		return;
	/*
	 * The last holder: log what is left (a file created or truncated
	 * and never written; the final bytes of a shared description or of
	 * a mapping) while the ofile can still be found, so that a stat
	 * meanwhile reads its size, not the older version's of the entry.
	 */
	pthread_mutex_lock(&of->lock);
	if (of->dirty && !of->abandoned && !of->failed) {
		int r = commit_locked(fs, of, NULL);

		if (r < 0)
			log_errno(LOG_ERR, r, "cannot log entry %lld",
				  (long long)of->entry_id);
	}
	pthread_mutex_unlock(&of->lock);
	pthread_mutex_lock(&fs->ofiles_lock);
	last = --of->refs == 0;
	if (last)
		for (pp = &fs->ofiles; *pp; pp = &(*pp)->next)
			if (*pp == of) {
				*pp = of->next;
				break;
			}
	pthread_mutex_unlock(&fs->ofiles_lock);
	if (!last)
		return;	/* opened again meanwhile: its last release ends it */
	/*
	 * Whatever is still dirty was written by a process that died of a
	 * signal or hit a write error: it is dropped, and a file that never
	 * got a first version disappears.
	 */
	dirty = of->dirty;
	entry_id = of->entry_id;
	/* free the bytes first: on a full disk the store needs the room */
	ofile_free(fs, of);
	if (dirty && model_entry_get(fs->model, entry_id, &e) == 0 &&
	    !e.md5[0] && !e.is_dir) {
		char *path = NULL;

		(void)model_entry_path(fs->model, entry_id, &path);
		if (model_entry_remove(fs->model, entry_id) < 0)
			log_user("cannot remove the incomplete '%s' now; it goes at the next mount",
				 path ? path : "?");
		log_user("discarded '%s': its writer was killed or a write failed before it was complete",
			 path ? path : "?");
		free(path);
	}
}
