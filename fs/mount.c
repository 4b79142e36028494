/* SPDX-License-Identifier: MIT */
/*
 * The mount lifecycle: open the workspace, mount, serve, tear down, on
 * libfuse's low-level API (ops.c): a session, mounted, daemonized, then
 * its loop, so that errors are reported before the process detaches and
 * the thread count is ours to choose.
 */
#include "fs.h"
#include "fs_i.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "document.h"
#include "log.h"
#include "sb.h"
#include "workspace.h"

extern const struct fuse_lowlevel_ops fs_ll_ops;

static void fuse_log_to_ours(enum fuse_log_level level, const char *fmt,
			     va_list ap)
{
	char *text = NULL;

	if (vasprintf(&text, fmt, ap) < 0)
		return;
	text[strcspn(text, "\n")] = '\0';
	log_msg((int)level, "fuse: %s", text);
	free(text);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int fs_mount(const struct fs_mount_opts *o)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *loop_cfg = NULL;
	struct workspace *ws = NULL;
	struct fuse_session *se = NULL;
	struct fs fs = { 0 };
	char *err = NULL, *fsname = NULL;
	bool mounted = false, handlers = false;
	int i, r, status = 1;

	pthread_mutex_init(&fs.ofiles_lock, NULL);
	pthread_mutex_init(&fs.sizes_lock, NULL);
	r = workspace_open(o->workspace, WORKSPACE_LOCK, &ws, &err);
	if (r < 0) {
		char *line = err ? text_escape(err, LOG_LINE_MAX) : NULL;

		fprintf(stderr, "cmffs: %s\n", line ? line : "cannot open the workspace");
		free(line);
		goto out;
	}
	fs.workspace = (char *)workspace_path(ws);
	fs.model = workspace_model(ws);
	fs.cas = workspace_cas(ws);
	fs.inos = inotab_new();
	if (!fs.inos) {
		fprintf(stderr, "cmffs: out of memory\n");
		goto out;
	}
	fs.cfg = workspace_config(ws);
	fs.mountpoint = realpath(o->mountpoint, NULL);
	fs.owner_uid = getuid();
	fs.owner_gid = getgid();
	fs.mount_time_ns = now_ns();
	{
		char *aerr = NULL;

		if (model_adopt_foreign(fs.model, &aerr) < 0)
			log_user("mount: cannot show executions written by other programs: %s",
				 aerr ? aerr : "store error");
		free(aerr);
	}
	r = model_entry_drop_unlogged(fs.model);
	if (r > 0)
		log_user("mount: removed %d file(s) whose writing was interrupted by a crash",
			 r);

	if (asprintf(&fsname, "fsname=%s,subtype=cmffs,default_permissions",
		     fs.workspace) < 0) {
		fsname = NULL;
		goto out;
	}
	if (fuse_opt_add_arg(&args, "cmffs") < 0 ||
	    fuse_opt_add_arg(&args, "-o") < 0 ||
	    fuse_opt_add_arg(&args, fsname) < 0)
		goto out;
	if (o->debug && fuse_opt_add_arg(&args, "-d") < 0)
		goto out;
	for (i = 0; i < o->fuse_argc; i++)
		if (fuse_opt_add_arg(&args, o->fuse_argv[i]) < 0)
			goto out;

	if (o->debug)
		log_set_level(LOG_DEBUG);	/* -d: libfuse's request trace */
	fuse_set_log_func(fuse_log_to_ours);
	se = fuse_session_new(&args, &fs_ll_ops, sizeof(fs_ll_ops), &fs);
	if (!se) {
		fprintf(stderr, "cmffs: invalid mount options (see cmffs mount --help)\n");
		goto out;
	}
	if (fuse_session_mount(se, o->mountpoint) != 0) {
		fprintf(stderr, "cmffs: cannot mount on '%s' (is it an empty directory, and is /dev/fuse usable?)\n",
			o->mountpoint);
		goto out;
	}
	mounted = true;
	if (fuse_set_signal_handlers(se) != 0) {
		fprintf(stderr, "cmffs: cannot install signal handlers\n");
		goto out;
	}
	handlers = true;
	if (fuse_daemonize(o->foreground || o->debug) != 0) {
		fprintf(stderr, "cmffs: cannot go to the background\n");
		goto out;
	}
	/* after the fork of fuse_daemonize(): its own store connection */
	if (fetcher_open(fs.workspace, fs.cfg, &fs.fetcher, &err) < 0)
		log_user("mount: pulled files cannot be fetched: %s",
			 err ? err : "out of memory");
	log_msg(LOG_INFO, "serving '%s' on '%s'", fs.workspace, o->mountpoint);
	if (o->single_thread) {
		r = fuse_session_loop(se);
	} else {
		loop_cfg = fuse_loop_cfg_create();
		if (!loop_cfg)
			goto out;
		fuse_loop_cfg_set_max_threads(loop_cfg, 16);
		fuse_loop_cfg_set_clone_fd(loop_cfg, 0);
		r = fuse_session_loop_mt(se, loop_cfg);
	}
	/* a loop ended by SIGTERM/SIGINT/SIGHUP returns the signal: clean */
	status = r == 0 || r == SIGTERM || r == SIGINT || r == SIGHUP ? 0 : 1;
out:
	if (handlers)
		fuse_remove_signal_handlers(se);
	if (mounted)
		fuse_session_unmount(se);
	if (se)
		fuse_session_destroy(se);
	if (loop_cfg)
		fuse_loop_cfg_destroy(loop_cfg);
	fuse_opt_free_args(&args);
	free(fsname);
	free(err);
	fetcher_close(fs.fetcher);
	inotab_free(fs.inos);
	free(fs.mountpoint);
	workspace_close(ws);
	pthread_mutex_destroy(&fs.ofiles_lock);
	pthread_mutex_destroy(&fs.sizes_lock);
	return status;
}
