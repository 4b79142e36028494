/* SPDX-License-Identifier: MIT */
/* Workspace directories; see workspace.h. */
#include "workspace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dvcconfig.h"
#include "log.h"
#include "safefs.h"

struct workspace {
	char *path;		/* absolute, resolved */
	int fd;			/* that directory; everything below is
				 * opened from it, following no link */
	struct safefs_owner own;	/* of what is created below it */
	struct config *cfg;
	struct model *model;
	struct cas *cas;
	int lock_fd;
	bool journal;
};

static int fail(char **ret_err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char **ret_err, int r, const char *fmt, ...)
{
	va_list ap;

	if (ret_err) {
		va_start(ap, fmt);
		if (vasprintf(ret_err, fmt, ap) < 0)
			*ret_err = NULL;
		va_end(ap);
	}
	return r;
}

const char *config_remote_url(const struct config *cfg)
{
	switch (cfg->storage) {
	case STORAGE_LOCAL:
		return cfg->storage_path;
	case STORAGE_S3:
	case STORAGE_SSH:
	case STORAGE_OSDF:
		return cfg->storage_url;
	default:
		return NULL;
	}
}

static char *join(const char *a, const char *b)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s", a, b) < 0)
		return NULL;
	return s;
}

/*
 * Give the file @path just written the owner of its directory when running
 * as root in someone else's directory (safefs_owner_of()).  0 or -errno.
 */
static int give_to_owner(const char *path)
{
	struct safefs_owner own;
	const char *name;
	int dfd, fd, r;

	dfd = safefs_open_parent(path, &name);
	if (dfd < 0)
		return dfd;
	r = safefs_owner_of(dfd, &own);
	if (r == 0 && own.set) {
		fd = safefs_open_file(dfd, name, O_RDONLY, 0, 0, NULL);
		r = fd;
		if (fd >= 0) {
			r = fchown(fd, own.uid, own.gid) < 0 ? -errno : 0;
			close(fd);
		}
	}
	close(dfd);
	return r;
}

int workspace_init(const char *path, const struct config *cfg,
		   char **ret_err)
{
	struct workspace *ws = NULL;
	char *cfg_path = NULL;
	struct stat st;
	int r;

	if (ret_err)
		*ret_err = NULL;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return fail(ret_err, -errno, "cannot create '%s': %s", path,
			    strerrordesc_np(errno));
	cfg_path = join(path, CONFIG_FILE_NAME);
	if (!cfg_path) {
		r = -ENOMEM;
		goto out;
	}
	if (lstat(cfg_path, &st) == 0) {
		r = fail(ret_err, -EEXIST,
			 "'%s' is already a workspace (it has %s); edit that file to change the settings",
			 path, CONFIG_FILE_NAME);
		goto out;
	}
	r = config_save(cfg, cfg_path);
	if (r == 0)
		r = give_to_owner(cfg_path);
	if (r < 0) {
		r = fail(ret_err, r, "cannot write '%s': %s", cfg_path,
			 safefs_strerror(r));
		goto out;
	}
	r = workspace_open(path, 0, &ws, ret_err);
	if (r < 0)
		(void)unlink(cfg_path);	/* leave no half-made workspace */
out:
	workspace_close(ws);
	free(cfg_path);
	return r;
}

/* "cannot open 'WS/@name': why" for a refusal of safefs.h. */
static int fail_open(char **ret_err, const struct workspace *ws, int r,
		     const char *name)
{
	return fail(ret_err, r, "cannot open '%s/%s': %s", ws->path, name,
		    safefs_strerror(r));
}

/* Load WS/.cmfconfig, or the defaults for an upstream store without one. */
static int load_config(struct workspace *ws, const char *path,
		       char **ret_err)
{
	char *cfg_path = join(ws->path, CONFIG_FILE_NAME);
	char *cerr = NULL;
	int fd, r;

	if (!cfg_path)
		return -ENOMEM;
	fd = safefs_open_file(ws->fd, CONFIG_FILE_NAME, O_RDONLY, 0, 0, NULL);
	if (fd >= 0) {
		r = config_load_fd(fd, cfg_path, &ws->cfg, &cerr);
		close(fd);
		if (r < 0)
			r = fail(ret_err, r, "%s",
				 cerr ? cerr : "cannot read the configuration");
	} else if (fd == -ENOENT && safefs_check_file(ws->fd, "mlmd") == 0) {
		ws->cfg = config_new();	/* an upstream store without config */
		r = ws->cfg ? 0 : -ENOMEM;
	} else if (fd == -ENOENT) {
		r = fail(ret_err, fd,
			 "'%s' is not a workspace (no %s, no mlmd); create one with: cmffs init %s",
			 path, CONFIG_FILE_NAME, path);
	} else {
		r = fail_open(ret_err, ws, fd, CONFIG_FILE_NAME);
	}
	free(cerr);
	free(cfg_path);
	return r;
}

/* A workspace made by upstream's cmf init keeps its remote in DVC's. */
static int load_dvc_remote(struct workspace *ws, char **ret_err)
{
	char *dvc_path = join(ws->path, ".dvc/config");
	char *cerr = NULL;
	int fd, r;

	if (!dvc_path)
		return -ENOMEM;
	fd = safefs_open_file(ws->fd, ".dvc/config", O_RDONLY, 0, 0, NULL);
	if (fd == -ENOENT) {
		r = 0;
	} else if (fd < 0) {
		r = fail_open(ret_err, ws, fd, ".dvc/config");
	} else {
		r = dvcconfig_apply(ws->cfg, fd, dvc_path, &cerr);
		close(fd);
		if (r < 0)
			r = fail(ret_err, r, "%s",
				 cerr ? cerr : "cannot read .dvc/config");
	}
	free(cerr);
	free(dvc_path);
	return r;
}

/*
 * WS/mlmd and its -wal and -shm: regular files or absent, never links
 * (SQLite opens them by name).  mlmd is created here, 0600 and owned by
 * the workspace's owner, so that SQLite gives its -wal and -shm the same
 * mode and owner; existing ones this process owns lose group and other
 * permissions.
 */
static int prepare_mlmd(struct workspace *ws, char **ret_err)
{
	static const char *const side[] = { "mlmd-wal", "mlmd-shm" };
	size_t i;
	int fd;

	fd = safefs_open_file(ws->fd, "mlmd", O_RDONLY | O_CREAT,
			      SAFEFS_EXACT_MODE, 0600, &ws->own);
	if (fd < 0)
		return fail_open(ret_err, ws, fd, "mlmd");
	(void)safefs_make_private(fd);
	close(fd);
	for (i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		fd = safefs_open_file(ws->fd, side[i], O_RDONLY, 0, 0, NULL);
		if (fd == -ENOENT)
			continue;
		if (fd < 0)
			return fail_open(ret_err, ws, fd, side[i]);
		(void)safefs_make_private(fd);
		close(fd);
	}
	return 0;
}

/* WS/.cmf/@name, a regular file opened with @oflags; made 0600. */
static int open_dot_file(struct workspace *ws, int dot, const char *name,
			 int oflags, char **ret_err)
{
	char rel[64];
	int fd;

	fd = safefs_open_file(dot, name, oflags | O_CREAT, SAFEFS_EXACT_MODE,
			      0600, &ws->own);
	if (fd < 0) {
		snprintf(rel, sizeof(rel), ".cmf/%s", name);
		return fail_open(ret_err, ws, fd, rel);
	}
	(void)safefs_make_private(fd);
	return fd;
}

/*
 * The redo log WS/.cmf/redo (doc/design.md §6).  The mount (which holds
 * WS/.cmf/lock) batches its logging through it.  A command applies what a
 * mount that died left in it, if no mount is alive (it can take the lock
 * for that moment); beside a live mount it leaves the log to the mount.
 */
static int open_redo(struct workspace *ws, int dot, unsigned flags,
		     char **ret_err)
{
	char *err = NULL;
	int fd, r;

	if (flags & WORKSPACE_LOCK) {
		/* created here so that it belongs to the workspace's owner */
		fd = open_dot_file(ws, dot, "redo", O_RDWR, ret_err);
		if (fd < 0)
			return fd;
		close(fd);
		r = model_redo_attach(ws->model, dot, "redo", MODEL_REDO_BATCH,
				      &err);
	} else {
		fd = safefs_open_file(dot, "lock", O_RDWR, 0, 0, NULL);
		r = model_redo_attach(ws->model, dot, "redo",
				      fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0
					      ? MODEL_REDO_APPLY : 0,
				      &err);
		if (fd >= 0)
			close(fd);
	}
	if (r < 0)
		r = fail(ret_err, r, "%s/.cmf/redo: %s", ws->path,
			 err ? err : strerrordesc_np(-r));
	free(err);
	return r;
}

int workspace_open(const char *path, unsigned flags, struct workspace **ret,
		   char **ret_err)
{
	struct workspace *ws;
	char *mlmd = NULL;
	char *cerr = NULL;
	int dot = -1, fd, r;

	if (ret_err)
		*ret_err = NULL;
	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return -ENOMEM;
	ws->lock_fd = ws->fd = -1;
	/* WS itself may be a link: it is resolved once, here */
	ws->path = realpath(path, NULL);
	if (ws->path)
		ws->fd = open(ws->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!ws->path || ws->fd < 0) {
		r = fail(ret_err, -errno, "cannot open workspace '%s': %s",
			 path, strerrordesc_np(errno));
		goto out;
	}
	mlmd = join(ws->path, "mlmd");
	if (!mlmd) {
		r = -ENOMEM;
		goto out;
	}
	r = safefs_owner_of(ws->fd, &ws->own);
	if (r == 0)
		r = load_config(ws, path, ret_err);
	if (r == 0)
		r = load_dvc_remote(ws, ret_err);
	if (r < 0)
		goto out;
	dot = safefs_open_dir(ws->fd, ".cmf", SAFEFS_CREATE | SAFEFS_EXACT_MODE,
			      CAS_DIR_MODE, &ws->own);
	if (dot < 0) {
		r = fail_open(ret_err, ws, dot, ".cmf");
		goto out;
	}
	(void)safefs_make_private(dot);
	if (flags & WORKSPACE_LOCK) {
		r = ws->lock_fd = open_dot_file(ws, dot, "lock", O_RDWR,
						ret_err);
		if (r < 0)
			goto out;
		if (flock(ws->lock_fd, LOCK_EX | LOCK_NB) < 0) {
			r = fail(ret_err, -EBUSY,
				 "workspace '%s' is mounted already (by another cmffs process)",
				 ws->path);
			goto out;
		}
	}
	r = prepare_mlmd(ws, ret_err);
	if (r < 0)
		goto out;
	r = model_open(mlmd, MODEL_CREATE, &ws->model, &cerr);
	if (r < 0) {
		r = fail(ret_err, r, "%s", cerr ? cerr : "cannot open the metadata store");
		goto out;
	}
	r = model_set_remote(ws->model, config_remote_url(ws->cfg));
	if (r < 0)
		goto out;
	r = open_redo(ws, dot, flags, ret_err);
	if (r < 0)
		goto out;
	r = cas_open(ws->path, &ws->cas);
	if (r < 0) {
		r = fail(ret_err, r, "cannot open the content store in '%s/.cmf': %s",
			 ws->path, safefs_strerror(r));
		goto out;
	}
	if (flags & WORKSPACE_LOCK) {
		fd = open_dot_file(ws, dot, "log", O_WRONLY | O_APPEND, ret_err);
		r = fd < 0 ? fd : log_journal_open(fd);
		if (r < 0)
			goto out;
		ws->journal = true;
	}
	*ret = ws;
	ws = NULL;
out:
	if (dot >= 0)
		close(dot);
	free(cerr);
	free(mlmd);
	workspace_close(ws);
	return r;
}

void workspace_close(struct workspace *ws)
{
	if (!ws)
		return;
	if (ws->journal)
		log_journal_close();
	cas_close(ws->cas);
	model_close(ws->model);
	config_free(ws->cfg);
	if (ws->lock_fd >= 0)
		close(ws->lock_fd);
	if (ws->fd >= 0)
		close(ws->fd);
	free(ws->path);
	free(ws);
}

const char *workspace_path(const struct workspace *ws)
{
	return ws->path;
}

struct model *workspace_model(struct workspace *ws)
{
	return ws->model;
}

struct cas *workspace_cas(struct workspace *ws)
{
	return ws->cas;
}

const struct config *workspace_config(const struct workspace *ws)
{
	return ws->cfg;
}
