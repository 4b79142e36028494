/* SPDX-License-Identifier: MIT */
/*
 * The cmffs command: init, mount, umount, status, export, import, push,
 * pull, fetch, gc, diff.  Only mount needs the FUSE adapter (fs.h); the others
 * call core/ and sync/.  Every failure is one "cmffs: ..." line on stderr
 * and a non-zero exit status.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cmffs_version.h"
#include "config.h"
#include "diff.h"
#include "document.h"
#include "fs.h"
#include "log.h"
#include "meter.h"
#include "openlineage.h"
#include "progress.h"
#include "sb.h"
#include "sync.h"
#include "workspace.h"

static const char usage_text[] =
	"usage: cmffs COMMAND [ARGS]\n"
	"\n"
	"  init WS [--storage local --path DIR] [--server-url URL]\n"
	"        make WS a workspace: a metadata store (WS/mlmd), a content\n"
	"        store (WS/.cmf/) and a configuration (WS/.cmfconfig)\n"
	"  mount WS MOUNTPOINT [-f] [-d] [-s] [-o OPTION[,OPTION...]]\n"
	"        serve WS as a filesystem; without -f it returns once mounted\n"
	"  umount MOUNTPOINT\n"
	"        unmount and wait until the daemon has finished\n"
	"  status WS\n"
	"        what the workspace holds\n"
	"  export WS PIPELINE [-o FILE]\n"
	"        the pipeline as CMF's JSON document\n"
	"  export WS --format openlineage [PIPELINE] [-o FILE]\n"
	"        the runs as OpenLineage events, one JSON object a line\n"
	"  import WS FILE\n"
	"        merge a CMF JSON document into the workspace\n"
	"  push WS [PIPELINE]\n"
	"        push artifact bytes to the storage and metadata to the server\n"
	"  pull WS PIPELINE\n"
	"        merge a pipeline from the server; bytes come on first read\n"
	"  fetch WS PIPELINE [STAGE [EXECUTION]]\n"
	"        download the bytes of a pulled pipeline ahead of reading\n"
	"  gc WS\n"
	"        remove cached bytes nothing refers to, and trim the cache\n"
	"        to [cache] max-size; mounted or not\n"
	"  diff WS [--json] P/S/E P/S/E\n"
	"  diff WS [--json] --dir DIR DIR\n"
	"        what differs between two executions, or two committed\n"
	"        directories; exit status 0 same, 1 different, 2 trouble\n"
	"\n"
	"cmffs COMMAND --help shows the options of a command.\n";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One "cmffs: ..." line on stderr, escaped (it may quote untrusted text). */
static int fail(const char *fmt, ...)
{
	char *raw = NULL, *line = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&raw, fmt, ap) >= 0)
		line = text_escape(raw, LOG_LINE_MAX);
	va_end(ap);
	fprintf(stderr, "cmffs: %s\n", line ? line : "out of memory");
	free(raw);
	free(line);
	return 1;
}

static int set_str(char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/*
 * The first line of @path (a secret: never on the command line, where ps
 * shows it), without its newline, into *field.  Only a regular file of at
 * most 4 KiB is read; a FIFO or device is refused without blocking.
 * 0 or -errno, with one line printed on failure.
 */
static int read_secret_file(const char *path, char **field)
{
	char buf[4097];
	struct stat st;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		fail("cannot read the secret file '%s': %s", path,
		     strerrordesc_np(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size >= (off_t)sizeof(buf)) {
		close(fd);
		fail("the secret file '%s' is not a regular file of at most 4 KiB",
		     path);
		return -EINVAL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0) {
		fail("cannot read the secret file '%s': %s", path,
		     strerrordesc_np(-r));
		return r;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		fail("the secret file '%s' is empty", path);
		return -EINVAL;
	}
	r = set_str(field, buf);
	explicit_bzero(buf, sizeof(buf));
	if (r < 0)
		fail("out of memory");
	return r;
}

/*
 * `cmffs init` options that set one string of struct config: their getopt
 * value is INIT_STRING + their index here.
 */
#define INIT_STRING 1000
static const struct {
	const char *name;
	size_t offset;		/* of a char * in struct config */
} init_strings[] = {
	{ "path", offsetof(struct config, storage_path) },
	{ "url", offsetof(struct config, storage_url) },
	{ "endpoint-url", offsetof(struct config, endpoint_url) },
	{ "access-key-id", offsetof(struct config, access_key_id) },
	{ "secret-key", offsetof(struct config, secret_key) },
	{ "region", offsetof(struct config, region) },
	{ "key", offsetof(struct config, ssh_key) },
	{ "token", offsetof(struct config, token_file) },
	{ "server-url", offsetof(struct config, server_url) },
	{ "ca-file", offsetof(struct config, ca_file) },
	{ "host-key-sha256", offsetof(struct config, ssh_host_key_sha256) },
};
#define N_INIT_STRINGS (sizeof(init_strings) / sizeof(init_strings[0]))

static int cmd_init(int argc, char **argv)
{
	struct option opts[N_INIT_STRINGS + 6] = {
		{ "storage", required_argument, NULL, 't' },
		{ "secret-key-file", required_argument, NULL, 'F' },
		{ "sync-interval", required_argument, NULL, 'i' },
		{ "cache-max-size", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
	};
	struct config *cfg = config_new();
	char *err = NULL;
	int c, r = 0, status = 1;
	size_t i;

	if (!cfg)
		return fail("out of memory");
	for (i = 0; i < N_INIT_STRINGS; i++)
		opts[5 + i] = (struct option){ init_strings[i].name,
					       required_argument, NULL,
					       INIT_STRING + (int)i };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c >= INIT_STRING && c < INIT_STRING + (int)N_INIT_STRINGS) {
			char **field = (char **)((char *)cfg +
				init_strings[c - INIT_STRING].offset);

			r = set_str(field, optarg);
			if (r < 0) {
				fail("out of memory");
				goto out;
			}
			continue;
		}
		switch (c) {
		case 't':
			if (storage_type_parse(optarg, &cfg->storage) < 0) {
				fail("unknown storage '%s' (use local, s3, ssh or osdf)",
				     optarg);
				goto out;
			}
			break;
		case 'F':
			if (read_secret_file(optarg, &cfg->secret_key) < 0)
				goto out;
			break;
		case 'i': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !*optarg || v > CONFIG_MAX_SYNC_INTERVAL) {
				fail("--sync-interval takes seconds, 0 to %u",
				     CONFIG_MAX_SYNC_INTERVAL);
				goto out;
			}
			cfg->sync_interval = (unsigned)v;
			break;
		}
		case 'M':
			if (config_parse_size(optarg, &cfg->cache_max_size) < 0) {
				fail("--cache-max-size takes bytes, or a number with K, M, G or T (e.g. 50G), not '%s'",
				     optarg);
				goto out;
			}
			break;
		case 'h':
			fputs("usage: cmffs init WS [STORAGE] [--server-url URL] [--sync-interval SECONDS]\n"
			      "                [--cache-max-size SIZE]\n"
			      "STORAGE is one of:\n"
			      "  --storage local --path DIR\n"
			      "  --storage s3 --url s3://BUCKET[/PREFIX] --endpoint-url URL\n"
			      "       --access-key-id KEY --secret-key-file FILE [--region R] [--ca-file PEM]\n"
			      "       (or --secret-key SECRET, visible in ps; or $CMFFS_SECRET_KEY or\n"
			      "       $AWS_SECRET_ACCESS_KEY, and $AWS_ACCESS_KEY_ID for the key id)\n"
			      "  --storage ssh --url ssh://USER@HOST:PORT/PATH --key FILE\n"
			      "       --host-key-sha256 FINGERPRINT   (ssh-keyscan -p PORT HOST | ssh-keygen -lf -)\n"
			      "  --storage osdf --url https://ORIGIN/PATH --token FILE [--ca-file PEM]\n"
			      "  --server-url URL      the team's cmf-server (e.g. http://host:8080)\n"
			      "  --sync-interval S     seconds between background sync passes (default 30)\n"
			      "  --cache-max-size SIZE bytes of artifacts kept in WS/.cmf/cache (e.g. 50G);\n"
			      "                        beyond it, objects already at the storage are evicted\n",
			      stdout);
			status = 0;
			goto out;
		default:
			fail("init: unknown or incomplete option '%s' (try 'cmffs init --help')",
			     argv[optind - 1]);
			goto out;
		}
		if (r < 0) {
			fail("out of memory");
			goto out;
		}
	}
	if (optind != argc - 1) {
		fail("init needs exactly one workspace directory (try 'cmffs init --help')");
		goto out;
	}
	if (cfg->storage == STORAGE_S3) {
		const char *env_secret = getenv("CMFFS_SECRET_KEY");
		const char *env_id = getenv("AWS_ACCESS_KEY_ID");

		if (!env_secret || !*env_secret)
			env_secret = getenv("AWS_SECRET_ACCESS_KEY");
		r = 0;
		if (!cfg->secret_key && env_secret && *env_secret)
			r = set_str(&cfg->secret_key, env_secret);
		if (r == 0 && !cfg->access_key_id && env_id && *env_id)
			r = set_str(&cfg->access_key_id, env_id);
		if (r < 0) {
			fail("out of memory");
			goto out;
		}
	}
	if (cfg->storage == STORAGE_LOCAL && cfg->storage_path &&
	    cfg->storage_path[0] != '/') {
		char *abs = realpath(cfg->storage_path, NULL);

		if (!abs) {
			fail("storage path '%s' does not exist", cfg->storage_path);
			goto out;
		}
		free(cfg->storage_path);
		cfg->storage_path = abs;
	}
	if (config_validate(cfg, &err) < 0) {
		fail("%s", err ? err : "invalid settings");
		goto out;
	}
	if (workspace_init(argv[optind], cfg, &err) < 0) {
		fail("%s", err ? err : "cannot create the workspace");
		goto out;
	}
	status = 0;
out:
	free(err);
	config_free(cfg);
	return status;
}

static int cmd_mount(int argc, char **argv)
{
	struct fs_mount_opts o = { 0 };
	char **fuse_argv = calloc((size_t)argc * 2 + 1, sizeof(char *));
	char *ws = NULL;
	int c, status = 1;

	if (!fuse_argv)
		return fail("out of memory");
	if (argc >= 2 && !strcmp(argv[1], "--help"))
		argv[1] = (char *)"-h";
	optind = 1;
	opterr = 0;	/* one line of our own instead of getopt's */
	while ((c = getopt(argc, argv, "fdso:h")) != -1) {
		switch (c) {
		case 'f':
			o.foreground = true;
			break;
		case 'd':
			o.debug = true;
			break;
		case 's':
			o.single_thread = true;
			break;
		case 'o':
			fuse_argv[o.fuse_argc++] = (char *)"-o";
			fuse_argv[o.fuse_argc++] = optarg;
			break;
		case 'h':
			fputs("usage: cmffs mount WS MOUNTPOINT [-f] [-d] [-s] [-o OPTIONS]\n"
			      "  -f          stay in the foreground\n"
			      "  -d          trace every request (implies -f)\n"
			      "  -s          serve requests on one thread\n"
			      "  -o OPTIONS  FUSE mount options, e.g. allow_other,auto_unmount\n",
			      stdout);
			status = 0;
			goto out;
		default:
			fail("mount: unknown option '%s' (try 'cmffs mount --help')",
			     argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc - 2) {
		fail("mount needs a workspace and a mount point (try 'cmffs mount --help')");
		goto out;
	}
	ws = realpath(argv[optind], NULL);
	if (!ws) {
		fail("cannot open workspace '%s': %s", argv[optind],
		     strerrordesc_np(errno));
		goto out;
	}
	o.workspace = ws;
	o.mountpoint = argv[optind + 1];
	o.fuse_argv = fuse_argv;
	status = fs_mount(&o);
out:
	free(ws);
	free(fuse_argv);
	return status;
}

/* The workspace (fsname) of the cmffs mount at @mnt, from mountinfo. */
static char *mount_source(const char *mnt)
{
	char *real = realpath(mnt, NULL), *line = NULL, *found = NULL;
	size_t cap = 0;
	FILE *f;

	if (!real)
		return NULL;
	f = fopen("/proc/self/mountinfo", "re");
	while (f && getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts ... - type source */
		char *fields[5] = { 0 }, *dash, *save = NULL, *p;
		int i;

		dash = strstr(line, " - ");
		if (!dash)
			continue;
		p = line;
		for (i = 0; i < 5; i++) {
			fields[i] = strtok_r(i ? NULL : p, " ", &save);
			if (!fields[i])
				break;
		}
		if (i < 5 || strcmp(fields[4], real))
			continue;
		p = dash + 3;
		if (strncmp(p, "fuse.cmffs ", 11))
			continue;
		p += 11;
		p[strcspn(p, " ")] = '\0';
		free(found);
		found = strdup(p);
	}
	if (f)
		fclose(f);
	free(line);
	free(real);
	return found;
}

static int cmd_umount(int argc, char **argv)
{
	char *argv2[] = { (char *)"fusermount3", (char *)"-u", NULL, NULL };
	char *ws, *lock = NULL;
	pid_t pid;
	int st, i, fd;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		fputs("usage: cmffs umount MOUNTPOINT\n", stdout);
		return 0;
	}
	if (argc != 2)
		return fail("umount needs a mount point (try 'cmffs umount --help')");
	ws = mount_source(argv[1]);
	if (!ws)
		return fail("'%s' is not a cmffs mount point", argv[1]);
	argv2[2] = argv[1];
	if (posix_spawnp(&pid, "fusermount3", NULL, NULL, argv2, environ) != 0) {
		free(ws);
		return fail("cannot run fusermount3");
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		free(ws);
		return fail("fusermount3 could not unmount '%s' (is it busy?)",
			    argv[1]);
	}
	/* the daemon holds the workspace lock until it has closed the store */
	if (asprintf(&lock, "%s/.cmf/lock", ws) < 0)
		lock = NULL;
	free(ws);
	fd = lock ? open(lock, O_RDWR | O_CLOEXEC) : -1;
	free(lock);
	for (i = 0; fd >= 0 && i < 600; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		usleep(50000);
	}
	if (fd >= 0)
		close(fd);
	if (i == 600)
		return fail("unmounted, but the daemon did not finish within 30 s");
	return 0;
}

static int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct workspace *ws = NULL;
	char *err = NULL, *text = NULL;
	const char *out = NULL, *pipeline;
	bool lineage = false;
	size_t len = 0;
	FILE *f = stdout;
	int c, r, status = 1;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "cmf") && strcmp(optarg, "openlineage"))
				return fail("export: unknown format '%s' (use cmf or openlineage)",
					    optarg);
			lineage = !strcmp(optarg, "openlineage");
			break;
		case 'h':
			fputs("usage: cmffs export WS PIPELINE [-o FILE]\n"
			      "       cmffs export WS --format openlineage [PIPELINE] [-o FILE]\n"
			      "  writes the pipeline as CMF's JSON document (what\n"
			      "  `cmf metadata export` writes), or with --format\n"
			      "  openlineage its runs as OpenLineage RunEvents, one\n"
			      "  JSON object a line (every pipeline's without\n"
			      "  PIPELINE), to FILE or stdout\n",
			      stdout);
			return 0;
		default:
			return fail("export: unknown option '%s' (try 'cmffs export --help')",
				    argv[optind - 1]);
		}
	}
	if (optind != argc - 2 && !(lineage && optind == argc - 1))
		return fail("export needs a workspace and a pipeline (try 'cmffs export --help')");
	pipeline = optind == argc - 2 ? argv[optind + 1] : NULL;
	r = workspace_open(argv[optind], 0, &ws, &err);
	if (r < 0) {
		fail("%s", err ? err : "cannot open the workspace");
		goto out;
	}
	if (lineage)
		r = openlineage_export(workspace_model(ws), pipeline, &text,
				       &len);
	else
		r = document_export(workspace_model(ws), pipeline,
				    DOCUMENT_INDENT, &text, &len);
	if (r == -ENOENT) {
		fail("pipeline '%s' does not exist in '%s'", pipeline,
		     argv[optind]);
		goto out;
	}
	if (r < 0) {
		fail("cannot build the %s: %s",
		     lineage ? "events" : "document", strerrordesc_np(-r));
		goto out;
	}
	if (out && !(f = fopen(out, "we"))) {
		fail("cannot write '%s': %s", out, strerrordesc_np(errno));
		goto out;
	}
	/* the events end in a newline each; the document gets one */
	if (fwrite(text, 1, len, f) != len ||
	    (!lineage && fputc('\n', f) == EOF) ||
	    (out ? fclose(f) : fflush(f)) != 0) {
		fail("cannot write '%s'", out ? out : "standard output");
		goto out;
	}
	status = 0;
out:
	free(text);
	free(err);
	workspace_close(ws);
	return status;
}

/*
 * The contents of @fd (read from where it is to EOF), NUL-terminated, in
 * *ret (owned): -EFBIG as soon as it is known to pass DOCUMENT_MAX_BYTES
 * (a regular file's size is looked at first), so no more than that is
 * ever held.
 */
static int read_fd(int fd, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	struct stat st;
	int r = 0;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size > DOCUMENT_MAX_BYTES) {
		r = -EFBIG;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 65536) {
			/* one byte past the limit tells a document too big */
			size_t want = cap + ((size_t)1 << 20);
			char *p;

			if (want > DOCUMENT_MAX_BYTES + 2)
				want = DOCUMENT_MAX_BYTES + 2;
			p = realloc(buf, want);
			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			buf = p;
			cap = want;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > DOCUMENT_MAX_BYTES) {
			r = -EFBIG;
			goto out;
		}
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	return r;
}

/* read_fd() of the file @path ("-": stdin). */
static int read_all(const char *path, char **ret, size_t *ret_len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC)
				   : STDIN_FILENO;
	int r;

	if (fd < 0)
		return -errno;
	r = read_fd(fd, ret, ret_len);
	if (fd != STDIN_FILENO)
		close(fd);
	return r;
}

static int cmd_import(int argc, char **argv)
{
	struct sync_env *env = NULL;
	struct workspace *ws = NULL;
	struct import_stats st = { 0 };
	char *err = NULL, *text = NULL;
	size_t len = 0;
	int r, status = 1;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		fputs("usage: cmffs import WS FILE\n"
		      "  merges a CMF JSON document (cmffs export, cmf metadata\n"
		      "  export) into the workspace; FILE - reads stdin\n", stdout);
		return 0;
	}
	if (argc != 3)
		return fail("import needs a workspace and a file (try 'cmffs import --help')");
	r = read_all(argv[2], &text, &len);
	if (r == -EFBIG)
		return fail("'%s' was not imported: it is larger than %zu MiB, the limit of a CMF document",
			    argv[2], DOCUMENT_MAX_BYTES >> 20);
	if (r < 0)
		return fail("cannot read '%s': %s", argv[2], strerrordesc_np(-r));
	r = workspace_open(argv[1], 0, &ws, &err);
	if (r < 0) {
		fail("%s", err ? err : "cannot open the workspace");
		goto out;
	}
	r = document_import(workspace_model(ws), text, len, NULL, &st, &err);
	if (r < 0) {
		fail("'%s' was not imported: %s", argv[2], err ? err : "error");
		goto out;
	}
	printf("imported %u pipeline(s), %u stage(s), %u execution(s), %u artifact(s), %u event(s)\n",
	       st.pipelines, st.stages, st.executions, st.artifacts, st.events);
	status = 0;
	/* stat is right before the first read: sizes from the storage */
	r = sync_env_open(workspace_path(ws), workspace_config(ws), &env,
			  &err);
	if (r == 0)
		r = sync_learn_sizes(env, NULL, NULL, &err);
	if (r < 0) {
		/* the import stands; a mount's sync passes learn them later */
		char *line = text_escape(err ? err : strerrordesc_np(-r),
					 LOG_LINE_MAX);

		fprintf(stderr, "cmffs: warning: the sizes of the imported files are not known yet: %s\n",
			line ? line : "out of memory");
		free(line);
	}
out:
	free(text);
	free(err);
	sync_env_close(env);
	workspace_close(ws);
	return status;
}

/* A sync pass's progress: the pass's report, drawn by a progress_view. */
struct pass_view {
	struct progress_view view;
	const struct sync_report *rep;
};

static void show_pass(void *ud, const char *line)
{
	struct pass_view *pv = ud;
	const struct sync_report *rep = pv->rep;

	(void)line;
	progress_view_show(&pv->view, rep->objects + rep->objects_left,
			   rep->objects_total, 0, rep->bytes,
			   rep->bytes_total);
}

/* A fetch's (or a size survey's) progress. */
static void show_fetch(void *ud, const struct fetch_progress *p)
{
	progress_view_show(ud, p->objects_done + p->objects_failed,
			   p->objects_total, p->objects_failed, p->bytes_done,
			   p->bytes_total);
}

static int open_sync(const char *path, struct workspace **ret_ws,
		     struct sync_env **ret_env)
{
	char *err = NULL;
	int r = workspace_open(path, 0, ret_ws, &err);

	if (r == 0)
		r = sync_env_open(workspace_path(*ret_ws),
				  workspace_config(*ret_ws), ret_env, &err);
	if (r < 0) {
		fail("%s", err ? err : "cannot open the workspace");
		free(err);
	}
	return r;
}

static int cmd_push(int argc, char **argv)
{
	struct workspace *ws = NULL;
	struct sync_env *env = NULL;
	struct sync_report rep;
	struct pass_view pv;
	const struct config *cfg;
	int r, status = 1;

	if (argc >= 2 && !strcmp(argv[1], "--help")) {
		fputs("usage: cmffs push WS [PIPELINE]\n"
		      "  one synchronous sync pass: artifact bytes to the storage,\n"
		      "  then the metadata to the cmf-server; no mount needed\n",
		      stdout);
		return 0;
	}
	if (argc != 2 && argc != 3)
		return fail("push needs a workspace (try 'cmffs push --help')");
	if (open_sync(argv[1], &ws, &env) < 0)
		goto out;
	cfg = workspace_config(ws);
	if (cfg->storage == STORAGE_NONE && !cfg->server_url) {
		fail("nothing to push to: configure [storage] or [cmf] server-url in %s/.cmfconfig",
		     workspace_path(ws));
		goto out;
	}
	progress_view_init(&pv.view, "push");
	pv.rep = &rep;
	r = sync_pass(env, argc == 3 ? argv[2] : NULL,
		      pv.view.tty ? show_pass : NULL, &pv, &rep);
	progress_view_end(&pv.view);
	printf("pushed %u object(s) (%llu bytes) and %u execution(s) in %.1f s\n",
	       rep.objects, (unsigned long long)rep.bytes, rep.executions,
	       progress_view_elapsed(&pv.view));
	if (r < 0) {
		fail("push incomplete: %s", rep.message);
		goto out;
	}
	if (rep.objects_left || rep.executions_left)
		printf("%u object(s) and %u execution(s) could not be pushed yet (their bytes are not local)\n",
		       rep.objects_left, rep.executions_left);
	status = 0;
out:
	sync_env_close(env);
	workspace_close(ws);
	return status;
}

static int cmd_pull(int argc, char **argv)
{
	struct workspace *ws = NULL;
	struct sync_env *env = NULL;
	struct progress_view view;
	unsigned execs = 0, arts = 0;
	char *err = NULL;
	int r, status = 1;

	if (argc >= 2 && !strcmp(argv[1], "--help")) {
		fputs("usage: cmffs pull WS PIPELINE\n"
		      "  merges the pipeline's metadata from the cmf-server and\n"
		      "  learns the size of every file from the storage; artifact\n"
		      "  bytes are fetched when first read (or by cmffs fetch)\n",
		      stdout);
		return 0;
	}
	if (argc != 3)
		return fail("pull needs a workspace and a pipeline (try 'cmffs pull --help')");
	if (open_sync(argv[1], &ws, &env) < 0)
		goto out;
	/* the progress is that of learning the files' sizes */
	progress_view_init(&view, "pull");
	r = sync_pull(env, argv[2], view.tty ? show_fetch : NULL, &view, &err,
		      &execs, &arts);
	progress_view_end(&view);
	if (r < 0) {
		fail("pull of '%s' failed: %s", argv[2], err ? err : "error");
		goto out;
	}
	printf("pulled '%s': %u new execution(s), %u new artifact(s)\n",
	       argv[2], execs, arts);
	status = 0;
out:
	free(err);
	sync_env_close(env);
	workspace_close(ws);
	return status;
}

static int cmd_fetch(int argc, char **argv)
{
	struct workspace *ws = NULL;
	struct sync_env *env = NULL;
	struct progress_view view;
	struct fetch_progress done = { 0 };
	char *err = NULL, bytes[32];
	int r, status = 1;

	if (argc >= 2 && !strcmp(argv[1], "--help")) {
		fputs("usage: cmffs fetch WS PIPELINE [STAGE [EXECUTION]]\n"
		      "  downloads the bytes of the pipeline's files (of one stage,\n"
		      "  of one execution) that are not local yet, [storage] jobs\n"
		      "  at once, each checked against its MD5\n", stdout);
		return 0;
	}
	if (argc < 3 || argc > 5)
		return fail("fetch needs a workspace and a pipeline (try 'cmffs fetch --help')");
	if (open_sync(argv[1], &ws, &env) < 0)
		goto out;
	progress_view_init(&view, "fetch");
	r = sync_fetch_scope(env, argv[2], argc > 3 ? argv[3] : NULL,
			     argc > 4 ? argv[4] : NULL, show_fetch, &view,
			     &done, &err);
	progress_view_end(&view);
	meter_bytes(done.bytes_done, bytes, sizeof(bytes));
	if (done.objects_total || r == 0)
		printf("fetched %u object(s) (%s) in %.1f s, %u already local, %u failed\n",
		       done.objects_done - done.objects_local, bytes,
		       progress_view_elapsed(&view), done.objects_local,
		       done.objects_failed);
	if (r < 0) {
		fail("fetch incomplete: %s", err ? err : strerrordesc_np(-r));
		goto out;
	}
	status = 0;
out:
	free(err);
	sync_env_close(env);
	workspace_close(ws);
	return status;
}

static int cmd_status(int argc, char **argv)
{
	struct workspace *ws = NULL;
	char *err = NULL, *text = NULL;
	size_t len;
	int r;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		fputs("usage: cmffs status WS\n", stdout);
		return 0;
	}
	if (argc != 2)
		return fail("status needs a workspace (try 'cmffs status --help')");
	r = workspace_open(argv[1], 0, &ws, &err);
	if (r < 0) {
		fail("%s", err ? err : "cannot open the workspace");
		free(err);
		return 1;
	}
	r = model_status_text(workspace_model(ws), &text, &len);
	if (r == 0)
		fwrite(text, 1, len, stdout);
	free(text);
	text = NULL;
	if (r == 0) {
		struct sync_env *env = NULL;

		r = sync_env_open(workspace_path(ws), workspace_config(ws),
				  &env, &err);
		if (r == 0)
			r = sync_status_text(env, &text);
		if (r == 0)
			fputs(text, stdout);
		free(text);
		text = NULL;
		if (r == 0)
			r = fetch_status_line(workspace_model(ws), &text);
		if (r == 0)
			fputs(text, stdout);
		free(text);
		free(err);
		sync_env_close(env);
	}
	workspace_close(ws);
	return r < 0 ? fail("cannot read the store") : 0;
}

/*
 * `cmffs gc WS`: cache_gc(), next to a mount or without one (the cache has
 * a lock of its own, cas.h), and one line saying what it did.
 */
static int cmd_gc(int argc, char **argv)
{
	struct workspace *ws = NULL;
	struct cache_result res;
	const struct config *cfg;
	char *err = NULL;
	char limit[48] = "no limit";
	int r, status = 1;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		fputs("usage: cmffs gc WS\n"
		      "  removes from WS/.cmf/cache the objects nothing in the store refers\n"
		      "  to, then evicts objects the storage has, least recently read first,\n"
		      "  until the cache fits [cache] max-size; mounted or not\n",
		      stdout);
		return 0;
	}
	if (argc != 2)
		return fail("gc needs a workspace (try 'cmffs gc --help')");
	r = workspace_open(argv[1], 0, &ws, &err);
	if (r < 0) {
		fail("%s", err ? err : "cannot open the workspace");
		goto out;
	}
	cfg = workspace_config(ws);
	r = cache_gc(workspace_cas(ws), workspace_model(ws), cfg, &res);
	if (cfg->cache_max_size) {
		char size[32];

		config_format_size(cfg->cache_max_size, size, sizeof(size));
		snprintf(limit, sizeof(limit), "limit %s", size);
	}
	if (r == 0 || res.removed_objects || res.evicted_objects)
		printf("removed %llu unreferenced object(s) (%llu bytes), evicted %llu pushed object(s) (%llu bytes); the cache holds %llu object(s), %llu bytes (%s)\n",
		       (unsigned long long)res.removed_objects,
		       (unsigned long long)res.removed_bytes,
		       (unsigned long long)res.evicted_objects,
		       (unsigned long long)res.evicted_bytes,
		       (unsigned long long)res.objects,
		       (unsigned long long)res.bytes, limit);
	if (r == -EBUSY)
		fail("gc: files were being committed in '%s' for %u s without a pause; try again",
		     workspace_path(ws), CACHE_GC_WAIT_S);
	else if (r == -ENOLCK)
		fail("gc: cannot lock '%s/%s' (a read-only workspace, or a filesystem without locks): nothing was removed",
		     workspace_path(ws), CAS_LOCK_FILE);
	else if (r < 0)
		fail("gc of '%s' failed: %s", workspace_path(ws),
		     strerrordesc_np(-r));
	else
		status = 0;
out:
	free(err);
	workspace_close(ws);
	return status;
}

/* diff's trouble: one line, exit status 2 as diff(1). */
#define DIFF_TROUBLE 2

/*
 * The manifest bytes of the committed directory @arg ("<md5>.dir", or
 * "P/S/E/outputs/DIR" below the mount's pipelines/) into *ret (owned);
 * from the cache, else fetched from the storage.  0, or -errno with the
 * line printed.
 */
static int diff_dir_bytes(struct workspace *ws, const char *arg, char **ret,
			  size_t *ret_len)
{
	char oid[DIR_OID_LEN + 1];
	struct sync_env *env = NULL;
	char *err = NULL;
	int fd = -1, r = 0;

	if (manifest_is_oid(arg))
		memcpy(oid, arg, sizeof(oid));
	else
		r = diff_find_dir(workspace_model(ws), arg, oid);
	if (r == -EINVAL) {
		fail("'%s' names no directory: give MD5.dir or P/S/E/inputs/DIR or P/S/E/outputs/DIR",
		     arg);
		return r;
	}
	if (r == -ENOTDIR) {
		fail("'%s' is not a committed directory ('touch DIR/.commit' logs one)",
		     arg);
		return r;
	}
	if (r < 0) {
		fail("'%s' does not exist in '%s'", arg, workspace_path(ws));
		return r;
	}
	r = cas_open_object(workspace_cas(ws), oid, &fd);
	if (r == -ENOENT) {
		/* not in the cache (evicted, or pulled): from the storage */
		r = sync_env_open(workspace_path(ws), workspace_config(ws),
				  &env, &err);
		if (r == 0)
			r = sync_fetch(env, oid, &err);
		if (r == 0)
			r = cas_open_object(workspace_cas(ws), oid, &fd);
		sync_env_close(env);
	}
	if (r == 0)
		r = read_fd(fd, ret, ret_len);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		fail("cannot read the manifest %s of '%s': %s", oid, arg,
		     err ? err : strerrordesc_np(-r));
	free(err);
	return r;
}

/* Two executions "P/S/E" into ids; 0 or -errno with the line printed. */
static int diff_find_pair(struct workspace *ws, char **args, int64_t ids[2])
{
	int i, r;

	for (i = 0; i < 2; i++) {
		r = diff_find_execution(workspace_model(ws), args[i], &ids[i]);
		if (r == -EINVAL)
			fail("'%s' is not an execution: give PIPELINE/STAGE/EXECUTION",
			     args[i]);
		else if (r == -ENOENT)
			fail("execution '%s' does not exist in '%s'", args[i],
			     workspace_path(ws));
		else if (r < 0)
			fail("cannot read the store: %s", strerrordesc_np(-r));
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * `cmffs diff WS [--json] A B` and `cmffs diff WS [--json] --dir A B`:
 * diff.h's text on stdout; exit status 0 when the two are the same, 1
 * when they differ, 2 on trouble (one line on stderr), as diff(1).
 */
static int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct workspace *ws = NULL;
	char *err = NULL, *text = NULL, *bytes[2] = { NULL, NULL };
	size_t len = 0, blen[2] = { 0, 0 };
	unsigned flags = 0;
	bool dirs = false, same = false;
	int64_t ids[2];
	int c, r, status = DIFF_TROUBLE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			dirs = true;
			break;
		case 'j':
			flags |= DIFF_JSON;
			break;
		case 'h':
			fputs("usage: cmffs diff WS [--json] P/S/E P/S/E\n"
			      "       cmffs diff WS [--json] --dir DIR DIR\n"
			      "  what changed from the first execution to the second: properties,\n"
			      "  metrics (with B - A and the relative change), inputs and outputs\n"
			      "  by name and MD5.  With --dir, the files added, removed and\n"
			      "  modified between two committed directories, each given as\n"
			      "  MD5.dir or P/S/E/outputs/DIR (P/S/E/inputs/DIR).  --json prints\n"
			      "  one JSON object.  Exit status: 0 the same, 1 different, 2 trouble.\n",
			      stdout);
			return 0;
		default:
			fail("diff: unknown option '%s' (try 'cmffs diff --help')",
			     argv[optind - 1]);
			return DIFF_TROUBLE;
		}
	}
	if (optind != argc - 3) {
		fail("diff needs a workspace and two executions, or --dir and two directories (try 'cmffs diff --help')");
		return DIFF_TROUBLE;
	}
	r = workspace_open(argv[optind], 0, &ws, &err);
	if (r < 0) {
		fail("%s", err ? err : "cannot open the workspace");
		goto out;
	}
	if (dirs) {
		if (diff_dir_bytes(ws, argv[optind + 1], &bytes[0], &blen[0]) < 0 ||
		    diff_dir_bytes(ws, argv[optind + 2], &bytes[1], &blen[1]) < 0)
			goto out;
		r = diff_manifests(argv[optind + 1], bytes[0], blen[0],
				   argv[optind + 2], bytes[1], blen[1], flags,
				   &text, &len, &same, &err);
	} else {
		if (diff_find_pair(ws, argv + optind + 1, ids) < 0)
			goto out;
		r = diff_executions(workspace_model(ws), workspace_cas(ws),
				    ids[0], ids[1], flags, &text, &len, &same);
	}
	if (r < 0) {
		fail("diff failed: %s", err ? err : strerrordesc_np(-r));
		goto out;
	}
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		fail("cannot write to standard output");
		goto out;
	}
	status = same ? 0 : 1;
out:
	free(text);
	free(bytes[0]);
	free(bytes[1]);
	free(err);
	workspace_close(ws);
	return status;
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv)
{
	int status;

	if (sync_global_init() < 0)
		return fail("cannot initialize libcurl");
	status = dispatch(argc, argv);
	sync_global_cleanup();
	return status;
}

static int dispatch(int argc, char **argv)
{
	if (argc < 2)
		return fail("a command is needed (try 'cmffs --help')");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("cmffs %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "init"))
		return cmd_init(argc - 1, argv + 1);
	if (!strcmp(argv[1], "mount"))
		return cmd_mount(argc - 1, argv + 1);
	if (!strcmp(argv[1], "umount") || !strcmp(argv[1], "unmount"))
		return cmd_umount(argc - 1, argv + 1);
	if (!strcmp(argv[1], "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return cmd_export(argc - 1, argv + 1);
	if (!strcmp(argv[1], "import"))
		return cmd_import(argc - 1, argv + 1);
	if (!strcmp(argv[1], "push"))
		return cmd_push(argc - 1, argv + 1);
	if (!strcmp(argv[1], "pull"))
		return cmd_pull(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fetch"))
		return cmd_fetch(argc - 1, argv + 1);
	if (!strcmp(argv[1], "gc"))
		return cmd_gc(argc - 1, argv + 1);
	if (!strcmp(argv[1], "diff"))
		return cmd_diff(argc - 1, argv + 1);
	/*
	 * mount.fuse (fstab "cmffs#WS /mnt fuse ..." or type fuse.cmffs, and
	 * systemd mount units) runs "cmffs WS MOUNTPOINT -o OPTIONS".
	 */
	if (argc >= 3 && argv[1][0] != '-') {
		struct stat st;

		if (stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode))
			return cmd_mount(argc, argv);
	}
	return fail("unknown command '%s' (try 'cmffs --help')", argv[1]);
}
