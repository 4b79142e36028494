/* SPDX-License-Identifier: MIT */
/*
 * Files: open and create of the five handle kinds, read, write, flush,
 * release, fsync, truncate; fetching the bytes of pulled files on read;
 * committing directories and dataslices.
 */
#include "fs_i.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include "artifacts.h"
#include "dirmanifest.h"
#include "names.h"
#include "proc.h"
#include "provenance.h"

/* --- files ------------------------------------------------------------------ */

/* A close because the caller dies of a signal must not log what it wrote. */
static bool caller_was_killed(void)
{
	return proc_killed_by_signal(fs_caller()->pid);
}

/*
 * Bring the bytes of a pulled artifact, verified (fetch.h: DVC's cache,
 * the working tree, the storage).  Fetches of different objects run in
 * parallel, one per object however many open it; a wrong hash is EIO.
 */
static int fetch_object(struct fs *fs, const struct node *n, const char *md5)
{
	char *err = NULL;
	int r;

	if (!fs->fetcher)
		return fs_refuse_node(fs, -EIO, "open", n, NULL,
				 "its bytes are not local and cannot be fetched");
	r = fetcher_get(fs->fetcher, md5, &err);
	if (r < 0) {
		char why[700];

		snprintf(why, sizeof(why), "cannot fetch its bytes: %s",
			 err ? err : strerrordesc_np(-r));
		free(err);
		return fs_refuse_node(fs, -EIO, "open", n, NULL, why);
	}
	return 0;
}

/*
 * Open object @md5 of @path for reading, counted as a read in the cache's
 * order of eviction (cas_read_object()).  Bytes the cache lacks (pulled,
 * or evicted: cache.h) are fetched; a trim may evict them again between a
 * fetch and the open, so an -ENOENT fetches once more rather than fail.
 * Sets *@fetched when a fetch happened.  0, or -errno with a line in
 * .cmf/log.
 */
static int read_object(struct fs *fs, const struct node *n, const char *md5,
		       int *ret_fd, bool *fetched)
{
	int tries = 0, r;

	while ((r = cas_read_object(fs->cas, md5, ret_fd)) == -ENOENT &&
	       tries++ < 2) {
		r = fetch_object(fs, n, md5);
		if (r < 0)
			return r;
		*fetched = true;
	}
	if (r < 0)
		return fs_refuse_node(fs, -EIO, "open", n, NULL,
				 "the artifact's bytes cannot be read from the cache");
	return 0;
}

/*
 * ofile_open() of @e, which reads its logged bytes unless @trunc: when the
 * cache lacks them they are fetched, as by read_object().
 */
static int open_ofile(struct fs *fs, const struct node *n, const struct entry *e,
		      bool trunc, struct ofile **ret)
{
	int tries = 0, r;

	while ((r = ofile_open(fs, e, trunc, ret)) == -ENOENT && e->md5[0] &&
	       !trunc && tries++ < 2) {
		r = fetch_object(fs, n, e->md5);
		if (r < 0)
			return r;
	}
	return r;
}

/*
 * Does the calling process keep @path mapped shared and writable (numpy's
 * memmap, an mmap database)?  Then its close is not the end of the write:
 * the mapping still holds the description, and its last release logs.
 * Only asked for O_RDWR descriptors: nothing else can be mapped writable.
 */
static bool caller_maps_shared(struct fs *fs, const struct handle *h)
{
	char want[PATH_MAX];

	return handle_path(fs, h, true, want, sizeof(want)) == 0 &&
	       proc_maps_shared_writable(fs_caller()->pid, want);
}

/*
 * Does the calling process have @path open on more than the descriptor it
 * is closing?  Read from /proc/PID/fd; only asked for closes without writes.
 */
static bool caller_holds_other_fd(struct fs *fs, const struct handle *h)
{
	char dir[64], link[PATH_MAX], want[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (handle_path(fs, h, true, want, sizeof(want)) < 0)
		return false;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)fs_caller()->pid);
	d = opendir(dir);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		char entry[PATH_MAX + 64];
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(entry, sizeof(entry), "%s/%s", dir, de->d_name);
		len = readlink(entry, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (!strcmp(link, want))
			n++;
	}
	closedir(d);
	/* the descriptor being closed is already gone from the table */
	return n > 0;
}

static int open_entry(struct fs *fs, struct node *n,
		      struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;
	struct handle *h = NULL;
	bool fetched = false;
	struct ofile *of;
	int r;

	if (n->entry.is_dir)
		return -EISDIR;
	/*
	 * Bytes not in the cache (pulled, or evicted: cache.h) are fetched
	 * when they are read, not for a write that truncates them away.
	 */
	of = ofile_find(fs, n->entry.id);
	if (acc == O_RDONLY && !of) {
		h = handle_new(H_OBJECT, n);
		if (!h)
			return -ENOMEM;
		r = read_object(fs, n, n->entry.md5, &h->fd, &fetched);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		/* logged bytes never change; but a fresh fetch may have a
		 * size the kernel does not know yet */
		fi->keep_cache = !fetched || n->entry.size_known;
		fi->direct_io = fetched && !n->entry.size_known;
		goto done;
	}
	if (of && (fi->flags & O_TRUNC) && acc != O_RDONLY) {
		r = ofile_truncate(fs, of, 0);
		if (r < 0) {
			ofile_release(fs, of);
			return r;
		}
	}
	if (!of) {
		r = open_ofile(fs, n, &n->entry, (fi->flags & O_TRUNC) != 0,
			       &of);
		if (r == -EIO)
			return r;	/* the fetch said why */
		if (r < 0)
			return fs_refuse_node(fs, r, "open", n, NULL,
					 "cannot prepare the file for writing");
	}
	h = handle_new(H_OFILE, n);
	if (!h) {
		ofile_release(fs, of);
		return -ENOMEM;
	}
	h->of = of;
	h->writer = acc != O_RDONLY;
	h->opener = fs_caller()->pid;
	h->rdwr = acc == O_RDWR;
	/*
	 * A write-only descriptor cannot be mmapped, so it may bypass the
	 * page cache: the writer's pages then reach the daemon directly
	 * instead of being copied into FUSE's cache first (one copy of
	 * every byte fewer).  Readers use the page cache.
	 */
	fi->direct_io = acc == O_WRONLY;
done:
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

static int open_prop(struct fs *fs, struct node *n,
		     struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;
	struct handle *h = handle_new(H_PROP, n);
	int r;

	if (!h)
		return -ENOMEM;
	prop_owner(n, &h->owner, &h->owner_id);
	snprintf(h->name, sizeof(h->name), "%s", n->name);
	h->writer = acc != O_RDONLY;
	if (!(fi->flags & O_TRUNC)) {
		r = node_text(fs, n, &h->buf, &h->len);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		h->cap = h->len;
	} else {
		h->written = true;
	}
	fi->direct_io = 1;
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

/* state and metrics/NAME.json: read as text, written whole, applied at close */
static int open_control(struct fs *fs, struct node *n,
			struct fuse_file_info *fi)
{
	struct handle *h = handle_new(H_CONTROL, n);
	int r;

	if (!h)
		return -ENOMEM;
	h->node = n->kind;
	h->exec_id = n->exec_id;
	snprintf(h->name, sizeof(h->name), "%s", n->name);
	h->writer = (fi->flags & O_ACCMODE) != O_RDONLY;
	if (h->writer && n->kind == NODE_METRICS_FILE) {
		char base[256];

		snprintf(base, sizeof(base), "%.*s",
			 (int)(strlen(n->name) - 5), n->name);
		h->emptied = (fi->flags & O_TRUNC) ||
			     fs_metrics_pending(fs, n->exec_id, base);
	}
	if (!(fi->flags & O_TRUNC)) {
		r = node_text(fs, n, &h->buf, &h->len);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		h->cap = h->len;
	}
	fi->direct_io = 1;
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

/* An artifact in artifacts/: its bytes (fetched if needed) or its record. */
static int open_view(struct fs *fs, struct node *n,
		     struct fuse_file_info *fi)
{
	struct handle *h;
	int64_t size, created;
	char uri[64];
	int r;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return fs_refuse_node(fs, -EACCES, "open", n, NULL,
				 "artifacts/ is a read-only view; write in an execution");
	r = artifacts_info(fs->model, n->artifact_id, uri, sizeof(uri), &size,
			   &created);
	if (r < 0)
		return r;
	if ((strlen(uri) == MD5_HEX_LEN && hash_is_md5(uri)) ||
	    manifest_is_oid(uri)) {
		bool fetched = false;

		h = handle_new(H_OBJECT, n);
		if (!h)
			return -ENOMEM;
		r = read_object(fs, n, uri, &h->fd, &fetched);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		/* a fresh fetch may have a size the kernel does not know */
		fi->direct_io = fetched;
		fi->keep_cache = !fetched;
	} else {
		h = handle_new(H_TEXT, n);
		if (!h)
			return -ENOMEM;
		r = artifacts_record_json(fs->model, n->artifact_id, &h->buf,
					  &h->len);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		fi->direct_io = 1;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

/* dataslices/NAME/.commit: log the slice as one Dataslice artifact. */
static int commit_slice(struct fs *fs, const struct node *n)
{
	struct cas_tmp tmp = { .fd = -1 };
	char md5[MD5_HEX_LEN + 1];
	char *csv = NULL;
	size_t len = 0;
	int r;

	r = model_dataslice_manifest(fs->model, n->entry.id, &csv, &len);
	if (r == -EBUSY)
		return fs_refuse_node(fs, r, "commit", n, NULL,
				 "files of this slice are still being written; close them first");
	if (r < 0)
		return fs_refuse_node(fs, r, "commit", n, NULL, "cannot list the slice");
	r = hash_buf(csv, len, md5);
	if (r == 0)
		r = cas_tmp_create(fs->cas, &tmp);
	if (r == 0 && write(tmp.fd, csv, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	cas_hold(fs->cas);	/* no gc before the store refers to it */
	if (r == 0)
		r = cas_commit(fs->cas, &tmp, md5);
	if (r == 0)
		r = model_dataslice_log(fs->model, n->entry.id, md5, len);
	cas_unhold(fs->cas);
	cas_tmp_discard(fs->cas, &tmp);
	free(csv);
	if (r < 0)
		return fs_refuse_node(fs, r, "commit", n, NULL, "cannot log the dataslice");
	syncer_kick(fs->syncer);
	return 0;
}

/*
 * DIR/.commit opened for writing: log DIR as one artifact, its bytes the
 * DVC 3 manifest of the files below it (they are logged one by one too).
 */
static int commit_dir(struct fs *fs, const struct node *n)
{
	struct manifest_entry *entries = NULL;
	struct cas_tmp tmp = { .fd = -1 };
	char oid[DIR_OID_LEN + 1];
	char *bytes = NULL;
	size_t nent = 0, len = 0;
	int r;

	if (n->side == SIDE_DATASLICE)
		return commit_slice(fs, n);
	r = model_entry_tree(fs->model, n->entry.id, &entries, &nent);
	if (r == -EBUSY)
		return fs_refuse_node(fs, r, "commit", n, NULL,
				 "files in this directory are still being written; close them first");
	if (r < 0)
		return fs_refuse_node(fs, r, "commit", n, NULL, "cannot list the directory");
	r = manifest_build(entries, nent, &bytes, &len, oid);
	if (r == 0)
		r = cas_tmp_create(fs->cas, &tmp);
	if (r == 0 && write(tmp.fd, bytes, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	cas_hold(fs->cas);	/* no gc before the store refers to it */
	if (r == 0)
		r = cas_commit(fs->cas, &tmp, oid);
	if (r == 0)
		r = model_entry_log_dir(fs->model, n->entry.id, oid, len);
	cas_unhold(fs->cas);
	cas_tmp_discard(fs->cas, &tmp);
	manifest_free(entries, nent);
	free(bytes);
	/*
	 * A million files' manifest takes some 300 MB while it is made: give
	 * back to the system what is free now, not only to malloc.
	 */
	malloc_trim(0);
	if (r < 0)
		return fs_refuse_node(fs, r, "commit", n, NULL,
				 "cannot log the directory as one artifact");
	syncer_kick(fs->syncer);
	return 0;
}

int op_open(const struct node *node, struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct node n = *node;
	struct handle *h;
	int r;

	if (n.kind == NODE_ENTRY)
		return open_entry(fs, &n, fi);
	if (n.kind == NODE_CTX_PROP || n.kind == NODE_EXEC_PROP)
		return open_prop(fs, &n, fi);
	if (n.kind == NODE_EXEC_STATE || n.kind == NODE_METRICS_FILE)
		return open_control(fs, &n, fi);
	if (n.kind == NODE_ART_FILE)
		return open_view(fs, &n, fi);
	if (n.kind == NODE_COMMIT) {
		if ((fi->flags & O_ACCMODE) != O_RDONLY) {
			r = commit_dir(fs, &n);
			if (r < 0)
				return r;
		}
		h = handle_new(H_TEXT, &n);
		if (!h)
			return -ENOMEM;
		fi->direct_io = 1;
		fi->fh = (uint64_t)(uintptr_t)h;
		return 0;
	}
	if (is_dir_node(&n))
		return -EISDIR;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return fs_refuse_node(fs, -EACCES, "open", &n, NULL, "this file is read-only");
	h = handle_new(H_TEXT, &n);
	if (!h)
		return -ENOMEM;
	r = node_text(fs, &n, &h->buf, &h->len);
	if (r < 0) {
		handle_free(h);
		return r;
	}
	fi->direct_io = 1;	/* the size changes between snapshots */
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

int op_create(const struct node *parent, const char *name, mode_t mode,
	      struct fuse_file_info *fi, struct node *ret)
{
	struct fs *fs = get_fs();
	const struct caller *ctx = fs_caller();
	struct value empty = { .kind = VALUE_STRING, .s = "" };
	const struct node p = *parent;
	enum model_owner owner;
	struct node n;
	int64_t id;
	int r;

	if (p.kind == NODE_METRICS && strlen(name) > 4 &&
	    !strcmp(name + strlen(name) - 4, ".csv")) {
		struct entry e;

		r = model_entry_create(fs->model, p.exec_id, SIDE_STEP_METRICS,
				       0, name, mode, ctx->uid, ctx->gid, &e);
		if (r < 0 && r != -EEXIST)
			return fs_refuse_node(fs, r, "create", &p, name,
					 "cannot add the step metrics file");
	} else if (p.kind == NODE_METRICS) {
		size_t len = strlen(name);
		char base[256];

		if (len <= 5 || strcmp(name + len - 5, ".json"))
			return fs_refuse_node(fs, -EINVAL, "create", &p, name,
					 "metrics are metrics/NAME.json (one JSON object: execution metrics) or metrics/NAME.csv (a header, then one row per step)");
		snprintf(base, sizeof(base), "%.*s", (int)(len - 5), name);
		if (!fs_metrics_pending(fs, p.exec_id, base)) {
			r = pending_add(fs, p.exec_id, base);
			if (r < 0)
				return r;
		}
	} else if (p.kind == NODE_CTX_PROPS || p.kind == NODE_EXEC_PROPS) {
		prop_owner(&p, &owner, &id);
		/* exists (empty) from now on, so that stat works until close */
		r = model_prop_set(fs->model, owner, id, name, &empty);
		if (r < 0)
			return fs_refuse_node(fs, r, "create", &p, name,
					 "cannot add the property");
	} else if (p.kind == NODE_SIDE && p.side == SIDE_DATASLICE) {
		return fs_refuse_node(fs, -EPERM, "create", &p, name,
				 "a dataslice is a directory: mkdir dataslices/NAME, then link files into it");
	} else if (p.kind == NODE_SIDE ||
		   (p.kind == NODE_ENTRY && p.entry.is_dir)) {
		struct entry e;

		r = model_entry_create(fs->model, p.exec_id, p.side,
				       p.kind == NODE_SIDE ? 0 : p.entry.id,
				       name, mode, ctx->uid, ctx->gid, &e);
		if (r < 0 && r != -EEXIST)
			return fs_refuse_node(fs, r, "create", &p, name,
					 "cannot add the file");
	} else {
		return fs_refuse_node(fs, -EPERM, "create", &p, name,
				 "files can only be made in an execution's inputs/, outputs/ or properties/, or a .properties/ folder");
	}
	n = p;
	r = fs_resolve_child(fs, &n, name);
	if (r < 0)
		return r;
	*ret = n;
	fi->flags |= O_TRUNC;
	if (n.kind == NODE_ENTRY)
		return open_entry(fs, &n, fi);
	if (n.kind == NODE_METRICS_FILE)
		return open_control(fs, &n, fi);
	return open_prop(fs, &n, fi);
}

int op_read(char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	ssize_t n;

	switch (h->kind) {
	case H_OBJECT:
		n = pread(h->fd, buf, size, off);
		return n < 0 ? -errno : (int)n;
	case H_OFILE:
		return ofile_read(h->of, buf, size, off);
	case H_TEXT:
	case H_PROP:
	case H_CONTROL:
		if ((size_t)off >= h->len)
			return 0;
		if (size > h->len - (size_t)off)
			size = h->len - (size_t)off;
		memcpy(buf, h->buf + off, size);
		return (int)size;
	}
	return -EIO;
}

static int prop_buffer(struct handle *h, size_t len)
{
	char *p;
	size_t cap;

	if (len > PROP_MAX_BYTES)
		return -EFBIG;
	if (len <= h->cap)
		return 0;
	cap = h->cap ? h->cap * 2 : 256;
	while (cap < len)
		cap *= 2;
	p = realloc(h->buf, cap + 1);
	if (!p)
		return -ENOMEM;
	h->buf = p;
	h->cap = cap;
	return 0;
}

int op_write(const char *buf, size_t size, off_t off,
	     struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct handle *h = handle_of(fi);
	int r;

	if (h->kind == H_OFILE)
		return ofile_write(fs, h->of, buf, size, off);
	if (h->kind != H_PROP && h->kind != H_CONTROL)
		return -EBADF;
	r = prop_buffer(h, (size_t)off + size);
	if (r < 0)
		return handle_refuse(fs, h, r, "write",
				 "a property value is limited to 1 MiB");
	if ((size_t)off > h->len)
		memset(h->buf + h->len, ' ', (size_t)off - h->len);
	memcpy(h->buf + off, buf, size);
	if ((size_t)off + size > h->len)
		h->len = (size_t)off + size;
	h->written = true;
	return (int)size;
}

/* Store what was written to a property file. */
static int prop_store(struct fs *fs, struct handle *h)
{
	struct value v;
	size_t len = h->len;
	char *text;
	int r;

	if (!h->written)
		return 0;
	r = prop_buffer(h, len);	/* room for the NUL */
	if (r < 0)
		return r;
	if (!h->buf) {
		h->buf = strdup("");
		if (!h->buf)
			return -ENOMEM;
	}
	if (memchr(h->buf, '\0', len))
		return handle_refuse(fs, h, -EINVAL, "write",
				 "a property value cannot contain NUL bytes");
	text = value_trim(h->buf, &len);
	if (!utf8_valid(text, len))
		return handle_refuse(fs, h, -EINVAL, "write",
				 "a property value must be UTF-8 text");
	value_parse(text, &v);
	r = model_prop_set(fs->model, h->owner, h->owner_id, h->name, &v);
	if (r < 0)
		return handle_refuse(fs, h, r, "write",
				 "cannot store the property");
	/* restore the raw buffer length bookkeeping for later writes */
	h->written = false;
	return 0;
}

/* Apply what was written to state or metrics/NAME.json. */
static int control_apply(struct fs *fs, struct handle *h)
{
	char *err = NULL, *text;
	size_t len = h->len;
	int r;

	/*
	 * An empty metrics/NAME.json is not a JSON object: refused like any
	 * other non-JSON, unless the closing process holds another
	 * descriptor of the file (a shell's dup2 before it writes).
	 */
	if (h->node == NODE_METRICS_FILE && h->emptied &&
	    (h->written ? !h->len : !caller_holds_other_fd(fs, h))) {
		h->written = false;
		h->emptied = false;
		return handle_refuse(fs, h, -EINVAL, "write",
				 "metrics/NAME.json takes one JSON object; the file is empty");
	}
	if (!h->written)
		return 0;
	r = prop_buffer(h, len + 1);
	if (r < 0)
		return r;
	if (!h->buf)
		return 0;
	h->buf[len] = '\0';
	h->written = false;
	if (h->node == NODE_METRICS_FILE) {
		char base[256];
		size_t n = strlen(h->name);

		snprintf(base, sizeof(base), "%.*s", (int)(n - 5), h->name);
		if (!len)
			return 0;
		r = model_metrics_log_json(fs->model, h->exec_id, base, h->buf,
					   len, &err);
		if (r < 0) {
			r = handle_refuse(fs, h, r, "write",
				      err ? err : "cannot log the metrics");
			free(err);
			return r;
		}
		h->emptied = false;
		pending_remove(fs, h->exec_id, base);
		syncer_kick(fs->syncer);
		return 0;
	}
	text = value_trim(h->buf, &len);
	{
		struct provenance *prov = NULL;
		const char *end_commit = NULL;
		int state;

		if (exec_state_parse(text, &state) < 0)
			return handle_refuse(fs, h, -EINVAL, "write",
					 "state takes RUNNING, COMPLETE, FAILED or CANCELED");
		/* completing records the caller's commit, as finalize() does */
		if (state != EXEC_RUNNING &&
		    provenance_read((int)fs_caller()->pid, fs->mountpoint, &prov) == 0)
			end_commit = prov->git_commit;
		r = model_execution_set_state(fs->model, h->exec_id, state,
					      end_commit);
		provenance_free(prov);
		if (r < 0)
			return handle_refuse(fs, h, r, "write",
					 "cannot record the state");
		syncer_kick(fs->syncer);
	}
	return 0;
}

int op_flush(struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct handle *h = handle_of(fi);
	char *err = NULL;
	bool shared;
	int r;

	if (h->kind == H_PROP)
		return prop_store(fs, h);
	if (h->kind == H_CONTROL)
		return control_apply(fs, h);
	if (h->kind != H_OFILE || !h->writer)
		return 0;
	/*
	 * A close by another process than the one that opened the file (a
	 * child that inherited the descriptor: `( a; b ) > f`, `exec > log`,
	 * forked workers) is not the end of the write: the last close of
	 * the shared description (release) logs the final bytes.
	 */
	shared = !proc_same_process(fs_caller()->pid, h->opener) ||
		 (h->rdwr && caller_maps_shared(fs, h));
	r = ofile_flush(fs, h->of, caller_was_killed(), shared,
			!ofile_written(h->of) &&
				caller_holds_other_fd(fs, h),
			&err);
	if (r == 0)
		syncer_kick(fs->syncer);
	if (r == -EINTR)
		return 0;	/* the caller is gone; release discards */
	if (r < 0) {
		r = handle_refuse(fs, h, r, "close",
			      err ? err : "the file was not logged: its content is incomplete or the store failed");
		free(err);
		return r;
	}
	return 0;
}

int op_release(struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct handle *h = handle_of(fi);

	if (h->kind == H_OFILE)
		ofile_release(fs, h->of);
	if (h->kind == H_CONTROL && h->node == NODE_METRICS_FILE) {
		char base[256];

		snprintf(base, sizeof(base), "%.*s",
			 (int)(strlen(h->name) - 5), h->name);
		pending_remove(fs, h->exec_id, base);
	}
	handle_free(h);
	return 0;
}

int op_fsync(void)
{
	return model_flush(get_fs()->model);
}

int op_truncate(const struct node *node, off_t size,
		struct fuse_file_info *fi)
{
	struct fs *fs = get_fs();
	struct handle *h = fi ? handle_of(fi) : NULL;
	struct ofile *of;
	struct node n;
	int r;

	if (h && h->kind == H_OFILE)
		return ofile_truncate(fs, h->of, size);
	if (h && (h->kind == H_PROP || h->kind == H_CONTROL)) {
		if ((size_t)size > h->len) {
			r = prop_buffer(h, (size_t)size);
			if (r < 0)
				return r;
			memset(h->buf + h->len, ' ', (size_t)size - h->len);
		}
		h->len = (size_t)size;
		h->written = true;
		return 0;
	}
	if (!node)
		return -ENOENT;
	n = *node;
	if (n.kind == NODE_CTX_PROP || n.kind == NODE_EXEC_PROP) {
		struct value empty = { .kind = VALUE_STRING, .s = "" };
		enum model_owner owner;
		int64_t id;

		if (size != 0)
			return fs_refuse_node(fs, -EINVAL, "truncate", &n, NULL,
					 "a property can only be truncated to empty");
		prop_owner(&n, &owner, &id);
		return model_prop_set(fs->model, owner, id, n.name, &empty);
	}
	if (n.kind != NODE_ENTRY)
		return is_dir_node(&n) ? -EISDIR : -EACCES;
	if (n.entry.is_dir)
		return -EISDIR;
	/* a truncate by path is a write: a new version when it changes;
	 * the logged bytes are read (fetched if need be) unless none stay */
	r = open_ofile(fs, &n, &n.entry, size == 0, &of);
	if (r < 0)
		return r;
	r = ofile_truncate(fs, of, size);
	if (r == 0)
		r = ofile_flush(fs, of, false, false, false, NULL);
	ofile_release(fs, of);
	return r;
}
