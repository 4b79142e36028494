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

struct workspace {
	char *path;		/* absolute, resolved */
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

int workspace_init(const char *path, const struct config *cfg,
		   char **ret_err)
{
	struct workspace *ws = NULL;
	char *cfg_path = NULL, *dir = NULL;
	struct stat st;
	int r;

	if (ret_err)
		*ret_err = NULL;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return fail(ret_err, -errno, "cannot create '%s': %s", path,
			    strerrordesc_np(errno));
	cfg_path = join(path, CONFIG_FILE_NAME);
	dir = join(path, ".cmf");
	if (!cfg_path || !dir) {
		r = -ENOMEM;
		goto out;
	}
	if (stat(cfg_path, &st) == 0) {
		r = fail(ret_err, -EEXIST,
			 "'%s' is already a workspace (it has %s); edit that file to change the settings",
			 path, CONFIG_FILE_NAME);
		goto out;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		r = fail(ret_err, -errno, "cannot create '%s': %s", dir,
			 strerrordesc_np(errno));
		goto out;
	}
	r = config_save(cfg, cfg_path);
	if (r < 0) {
		r = fail(ret_err, r, "cannot write '%s': %s", cfg_path,
			 strerrordesc_np(-r));
		goto out;
	}
	r = workspace_open(path, 0, &ws, ret_err);
	if (r < 0)
		(void)unlink(cfg_path);	/* leave no half-made workspace */
out:
	workspace_close(ws);
	free(cfg_path);
	free(dir);
	return r;
}

int workspace_open(const char *path, unsigned flags, struct workspace **ret,
		   char **ret_err)
{
	struct workspace *ws;
	char *cfg_path = NULL, *mlmd = NULL, *lock = NULL, *journal = NULL;
	char *cerr = NULL;
	struct stat st;
	int r;

	if (ret_err)
		*ret_err = NULL;
	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return -ENOMEM;
	ws->lock_fd = -1;
	ws->path = realpath(path, NULL);
	if (!ws->path) {
		r = fail(ret_err, -errno, "cannot open workspace '%s': %s",
			 path, strerrordesc_np(errno));
		goto out;
	}
	cfg_path = join(ws->path, CONFIG_FILE_NAME);
	mlmd = join(ws->path, "mlmd");
	lock = join(ws->path, ".cmf/lock");
	journal = join(ws->path, ".cmf/log");
	if (!cfg_path || !mlmd || !lock || !journal) {
		r = -ENOMEM;
		goto out;
	}
	r = config_load(cfg_path, &ws->cfg, &cerr);
	if (r == -ENOENT && stat(mlmd, &st) == 0) {
		ws->cfg = config_new();	/* an upstream store without config */
		r = ws->cfg ? 0 : -ENOMEM;
	} else if (r == -ENOENT) {
		r = fail(ret_err, r,
			 "'%s' is not a workspace (no %s, no mlmd); create one with: cmffs init %s",
			 path, CONFIG_FILE_NAME, path);
		goto out;
	}
	if (r < 0) {
		r = fail(ret_err, r, "%s", cerr ? cerr : "cannot read the configuration");
		goto out;
	}
	/* a workspace made by upstream's cmf init keeps its remote in DVC's */
	{
		char *dvc = join(ws->path, ".dvc/config");

		if (!dvc) {
			r = -ENOMEM;
			goto out;
		}
		free(cerr);
		cerr = NULL;
		r = dvcconfig_apply(ws->cfg, dvc, &cerr);
		free(dvc);
		if (r < 0) {
			r = fail(ret_err, r, "%s", cerr ? cerr : "cannot read .dvc/config");
			goto out;
		}
	}
	{
		char *dot = join(ws->path, ".cmf");

		if (!dot) {
			r = -ENOMEM;
			goto out;
		}
		if (mkdir(dot, 0755) < 0 && errno != EEXIST) {
			r = fail(ret_err, -errno, "cannot create '%s': %s", dot,
				 strerrordesc_np(errno));
			free(dot);
			goto out;
		}
		free(dot);
	}
	if (flags & WORKSPACE_LOCK) {
		ws->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (ws->lock_fd < 0) {
			r = fail(ret_err, -errno, "cannot open '%s': %s", lock,
				 strerrordesc_np(errno));
			goto out;
		}
		if (flock(ws->lock_fd, LOCK_EX | LOCK_NB) < 0) {
			r = fail(ret_err, -EBUSY,
				 "workspace '%s' is mounted already (by another cmffs process)",
				 ws->path);
			goto out;
		}
	}
	r = model_open(mlmd, MODEL_CREATE, &ws->model, &cerr);
	if (r < 0) {
		r = fail(ret_err, r, "%s", cerr ? cerr : "cannot open the metadata store");
		goto out;
	}
	r = model_set_remote(ws->model, config_remote_url(ws->cfg));
	if (r < 0)
		goto out;
	r = cas_open(ws->path, &ws->cas);
	if (r < 0) {
		r = fail(ret_err, r, "cannot open the content store in '%s/.cmf': %s",
			 ws->path, strerrordesc_np(-r));
		goto out;
	}
	if (flags & WORKSPACE_LOCK) {
		r = log_journal_open(journal);
		if (r < 0)
			goto out;
		ws->journal = true;
	}
	*ret = ws;
	ws = NULL;
out:
	free(cerr);
	free(cfg_path);
	free(mlmd);
	free(lock);
	free(journal);
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
