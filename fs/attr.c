/* SPDX-License-Identifier: MIT */
/*
 * Attributes: what a node is (directory or file), stat of every node, getattr,
 * and the attribute changes (chmod, chown, utimens) and statfs.
 */
#include "fs_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "artifacts.h"
#include "dirmanifest.h"
#include "names.h"

bool is_dir_node(const struct node *n)
{
	return n->kind == NODE_ENTRY ? n->entry.is_dir : fs_kind_is_dir(n->kind);
}

/* --- attributes ---------------------------------------------------------- */

static int dir_nlink(struct fs *fs, const struct node *n)
{
	int r;

	if (fs_layout_nlink(n->kind))
		return (int)fs_layout_nlink(n->kind);
	switch (n->kind) {
	case NODE_SIDE:
	case NODE_ENTRY:
		r = model_entry_subdirs(fs->model, n->exec_id, n->side,
					n->kind == NODE_SIDE ? 0 : n->entry.id);
		return r < 0 ? 2 : 2 + r;
	default:
		return 2;
	}
}

/*
 * The size of generated file @n: from fs->sizes while the store has not
 * changed since it was rendered (model_version()), else rendered now.
 */
static int rendered_size(struct fs *fs, const struct node *n, off_t *ret)
{
	uint64_t ino = fs_ino(fs, n), version = model_version(fs->model);
	/*
	 * Numbers differ in their top byte (their class) and low bits (the
	 * id): the slot is a hash of all of them (Fibonacci hashing).
	 */
	struct rendered_size *slot =
		&fs->sizes[(ino * 0x9e3779b97f4a7c15ull) >> 50];
	char *text = NULL;
	size_t len = 0;
	bool hit;
	int r;

	pthread_mutex_lock(&fs->sizes_lock);
	hit = ino && slot->ino == ino && slot->version == version;
	if (hit)
		*ret = slot->size;
	pthread_mutex_unlock(&fs->sizes_lock);
	if (hit)
		return 0;
	r = node_text(fs, n, &text, &len);
	if (r < 0)
		return r;
	free(text);
	*ret = (off_t)len;
	pthread_mutex_lock(&fs->sizes_lock);
	slot->ino = ino;
	slot->version = version;
	slot->size = (off_t)len;
	pthread_mutex_unlock(&fs->sizes_lock);
	return 0;
}

static bool generated_document(const struct node *n)
{
	switch (n->kind) {
	case NODE_CMF_LOG:
	case NODE_EXEC_JSON:
	case NODE_EXEC_LINEAGE:
	case NODE_PIPELINE_DOT:
	case NODE_PIPELINE_CYPHER:
	case NODE_EXEC_DIFF_FILE:
		return true;
	default:
		/*
		 * lineage.svg, the pages, the compare tables, the charts and
		 * openlineage.jsonl (the pages link to them) show their
		 * size: a browser reads a file:// page or image only up to
		 * its st_size
		 */
		return false;
	}
}

/*
 * Which remembered directory @n is (model.h enum dirattr_owner): false for
 * a node whose attributes follow the metadata instead.
 */
static bool dirattr_of(const struct node *n, enum dirattr_owner *ret_owner,
		       int64_t *ret_id)
{
	switch (n->kind) {
	case NODE_ROOT:
		*ret_owner = DIRATTR_ROOT;
		*ret_id = 0;
		return true;
	case NODE_PIPELINES:
		*ret_owner = DIRATTR_PIPELINES;
		*ret_id = 0;
		return true;
	case NODE_PIPELINE:
	case NODE_STAGE:
		*ret_owner = DIRATTR_CONTEXT;
		*ret_id = n->ctx_id;
		return true;
	case NODE_EXEC:
		*ret_owner = DIRATTR_EXECUTION;
		*ret_id = n->exec_id;
		return true;
	default:
		return false;
	}
}

/*
 * The times of @n's execution (@exec) or context: those a listing read
 * once for all its children (struct node.times), or from the store.
 */
static int times_of(struct fs *fs, const struct node *n, bool exec,
		    struct node_times *t)
{
	int64_t id = exec ? n->exec_id : n->ctx_id;

	if (n->times && n->times_exec == exec && n->times_id == id) {
		*t = *n->times;
		return 0;
	}
	return exec ? model_execution_times(fs->model, id, t)
		    : model_context_times(fs->model, id, t);
}

int node_stat(struct fs *fs, const struct node *n, struct stat *st)
{
	struct node_times t = { 0 };
	enum dirattr_owner owner;
	struct dir_attr da;
	int64_t mtime_ns = fs->mount_time_ns, ctime_ns, owner_id;
	int r;

	memset(st, 0, sizeof(*st));
	st->st_ino = fs_ino(fs, n);
	st->st_uid = fs->owner_uid;
	st->st_gid = fs->owner_gid;
	st->st_blksize = 1 << 20;
	if (n->kind == NODE_ENTRY && !n->entry.is_dir) {
		struct ofile *of = ofile_find(fs, n->entry.id);

		st->st_mode = S_IFREG | n->entry.mode;
		st->st_nlink = n->entry.nlink ? n->entry.nlink : 1;
		st->st_size = (off_t)n->entry.size;
		mtime_ns = n->entry.mtime_ns;
		if (of) {
			uint64_t size;

			ofile_stat(of, &size, &mtime_ns);
			st->st_size = (off_t)size;
			ofile_release(fs, of);
		}
		st->st_uid = n->entry.uid;
		st->st_gid = n->entry.gid;
		ns_to_ts(mtime_ns, &st->st_mtim);
		ns_to_ts(n->entry.ctime_ns > mtime_ns ? n->entry.ctime_ns
						      : mtime_ns,
			 &st->st_ctim);
		st->st_atim = st->st_mtim;
		st->st_blocks = (st->st_size + 511) / 512;
		return 0;
	}
	if (n->kind == NODE_ART_FILE) {
		char uri[64];
		int64_t size = -1, created = 0;
		struct stat obj;
		int fd;

		r = artifacts_info(fs->model, n->artifact_id, uri, sizeof(uri),
				   &size, &created);
		if (r < 0)
			return r;
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		if ((strlen(uri) == MD5_HEX_LEN && hash_is_md5(uri)) ||
		    manifest_is_oid(uri)) {
			/* the bytes: their size once here or once logged */
			if (!cas_open_object(fs->cas, uri, &fd)) {
				if (fstat(fd, &obj) == 0)
					size = obj.st_size;
				close(fd);
			}
		} else {
			/* no bytes (Metrics): the record is the content */
			char *text = NULL;
			size_t len = 0;

			if (artifacts_record_json(fs->model, n->artifact_id,
						  &text, &len) == 0)
				size = (int64_t)len;
			free(text);
		}
		st->st_size = size < 0 ? 0 : size;
		st->st_blocks = (st->st_size + 511) / 512;
		ns_to_ts(created * 1000000, &st->st_mtim);
		st->st_ctim = st->st_atim = st->st_mtim;
		return 0;
	}
	if (n->kind == NODE_COMMIT) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		ns_to_ts(n->entry.mtime_ns, &st->st_mtim);
		st->st_ctim = st->st_atim = st->st_mtim;
		return 0;
	}
	if (n->kind == NODE_ENTRY) {
		st->st_mode = S_IFDIR | n->entry.mode;
		st->st_nlink = (nlink_t)dir_nlink(fs, n);
		st->st_uid = n->entry.uid;
		st->st_gid = n->entry.gid;
		ns_to_ts(n->entry.mtime_ns, &st->st_mtim);
		ns_to_ts(n->entry.ctime_ns, &st->st_ctim);
		st->st_atim = st->st_mtim;
		return 0;
	}
	switch (n->kind) {
	case NODE_PIPELINE:
	case NODE_STAGE:
	case NODE_CTX_PROPS:
	case NODE_PIPELINE_DOT:
	case NODE_PIPELINE_SVG:
	case NODE_PIPELINE_CYPHER:
	case NODE_PIPELINE_OPENLINEAGE:
	case NODE_STAGE_METRICS:
	case NODE_STAGE_PLOT:
	case NODE_PIPELINE_INDEX:
	case NODE_PIPELINE_COMPARE:
	case NODE_STAGE_COMPARE_TSV:
	case NODE_STAGE_COMPARE_MD:
	case NODE_CTX_PROP:
		r = times_of(fs, n, false, &t);
		break;
	case NODE_EXEC:
	case NODE_SIDE:
	case NODE_EXEC_PROPS:
	case NODE_EXEC_JSON:
	case NODE_EXEC_PROP:
	case NODE_EXEC_STATE:
	case NODE_METRICS:
	case NODE_METRICS_FILE:
	case NODE_EXEC_LINEAGE:
	case NODE_STEP_PLOT:
	case NODE_EXEC_INDEX:
	case NODE_EXEC_DIFF:
	case NODE_EXEC_DIFF_FILE:
		r = times_of(fs, n, true, &t);
		break;
	default:
		r = 0;
		t.update_ms = t.create_ms = fs->mount_time_ns / 1000000;
	}
	if (r < 0)
		return r;
	mtime_ns = t.update_ms * 1000000;
	ctime_ns = mtime_ns;
	if (is_dir_node(n)) {
		st->st_mode = S_IFDIR | 0755;
		if (n->kind >= NODE_ARTIFACTS && n->kind <= NODE_ART_NAMES)
			st->st_mode = S_IFDIR | 0555;
		st->st_nlink = (nlink_t)dir_nlink(fs, n);
		if (dirattr_of(n, &owner, &owner_id)) {
			if (model_dirattr_get(fs->model, owner, owner_id,
					      &da) == 0) {
				st->st_mode = S_IFDIR | (da.mode & 07777);
				st->st_uid = da.uid;
				st->st_gid = da.gid;
				mtime_ns = da.mtime_ns;
			}
		}
	} else {
		st->st_nlink = 1;
		st->st_mode = S_IFREG | 0444;
		if (n->kind == NODE_CTX_PROP || n->kind == NODE_EXEC_PROP ||
		    n->kind == NODE_EXEC_STATE || n->kind == NODE_METRICS_FILE)
			st->st_mode = S_IFREG | 0644;
		/*
		 * Small generated files show their real size.  Documents
		 * rendered from the whole store (execution.json, lineage,
		 * the pipeline graphs, the journal) show 0, as /proc files
		 * do: rendering them for every ls -l would cost more than
		 * reading them; they are opened direct_io and read to EOF.
		 */
		if (!generated_document(n)) {
			r = rendered_size(fs, n, &st->st_size);
			if (r < 0)
				return r;
		}
	}
	ns_to_ts(mtime_ns, &st->st_mtim);
	ns_to_ts(ctime_ns > mtime_ns ? ctime_ns : mtime_ns, &st->st_ctim);
	st->st_atim = st->st_mtim;
	st->st_blocks = (st->st_size + 511) / 512;
	return 0;
}

int handle_stat(struct fs *fs, const struct handle *h, struct stat *st)
{
	uint64_t size;
	int64_t mtime;

	if (!h || h->kind != H_OFILE)
		return -ENOENT;
	ofile_stat(h->of, &size, &mtime);
	memset(st, 0, sizeof(*st));
	st->st_ino = h->ino;
	st->st_mode = S_IFREG | 0644;
	st->st_size = (off_t)size;
	st->st_uid = fs->owner_uid;
	st->st_gid = fs->owner_gid;
	ns_to_ts(mtime, &st->st_mtim);
	st->st_ctim = st->st_atim = st->st_mtim;
	return 0;
}

/* Attributes of the fixed directories are remembered per directory. */
static int set_dirattr(struct fs *fs, const struct node *n, int mode,
		       uid_t uid, gid_t gid, const struct timespec *mtime)
{
	enum dirattr_owner owner;
	struct dir_attr da;
	struct stat st;
	int64_t id;
	int r = node_stat(fs, n, &st);

	if (r < 0)
		return r;
	da.mode = st.st_mode & 07777;
	da.uid = st.st_uid;
	da.gid = st.st_gid;
	da.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
		      st.st_mtim.tv_nsec;
	if (mode >= 0)
		da.mode = (mode_t)mode & 07777;
	if (uid != (uid_t)-1)
		da.uid = uid;
	if (gid != (gid_t)-1)
		da.gid = gid;
	if (mtime)
		da.mtime_ns = (int64_t)mtime->tv_sec * 1000000000 +
			      mtime->tv_nsec;
	if (!dirattr_of(n, &owner, &id))
		return -EPERM;
	return model_dirattr_set(fs->model, owner, id, &da);
}

static bool has_dirattr(const struct node *n)
{
	enum dirattr_owner owner;
	int64_t id;

	return dirattr_of(n, &owner, &id);
}

int op_chmod(const struct node *n, mode_t mode)
{
	struct fs *fs = get_fs();

	if (n->kind == NODE_ENTRY)
		return model_entry_setattr(fs->model, n->entry.id,
					   ENTRY_SET_MODE, mode, 0, 0, 0);
	if (has_dirattr(n))
		return set_dirattr(fs, n, (int)mode, (uid_t)-1, (gid_t)-1,
				   NULL);
	return fs_refuse_node(fs, -EPERM, "chmod", n, NULL,
			      "the mode of generated files is fixed");
}

int op_chown(const struct node *n, uid_t uid, gid_t gid)
{
	struct fs *fs = get_fs();

	if (n->kind == NODE_ENTRY) {
		if (uid == (uid_t)-1)
			uid = n->entry.uid;
		if (gid == (gid_t)-1)
			gid = n->entry.gid;
		return model_entry_setattr(fs->model, n->entry.id,
					   ENTRY_SET_OWNER, 0, uid, gid, 0);
	}
	if (has_dirattr(n))
		return set_dirattr(fs, n, -1, uid, gid, NULL);
	return fs_refuse_node(fs, -EPERM, "chown", n, NULL,
			      "the owner of generated files is fixed");
}

int op_utimens(const struct node *n, const struct timespec *mtime)
{
	struct fs *fs = get_fs();
	struct timespec mt;

	if (mtime)
		mt = *mtime;
	else
		clock_gettime(CLOCK_REALTIME, &mt);
	if (n->kind == NODE_ENTRY) {
		int64_t ns = (int64_t)mt.tv_sec * 1000000000 + mt.tv_nsec;
		struct ofile *of = ofile_find(fs, n->entry.id);

		if (of) {
			ofile_set_mtime(of, ns);
			ofile_release(fs, of);
		}
		return model_entry_setattr(fs->model, n->entry.id,
					   ENTRY_SET_MTIME, 0, 0, 0, ns);
	}
	if (has_dirattr(n))
		return set_dirattr(fs, n, -1, (uid_t)-1, (gid_t)-1, &mt);
	/* generated files: times follow the metadata; accept silently */
	return 0;
}

int op_statfs(struct statvfs *st)
{
	struct fs *fs = get_fs();

	if (statvfs(fs->workspace, st) < 0)
		return -errno;
	st->f_namemax = NAME_MAX_BYTES;
	return 0;
}
