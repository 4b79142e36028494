/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of core/provenance and core/gitinfo: Python repr of argv
 * (pyrepr_argv), reading the provenance of live processes (including the
 * walk-up past file utilities and the caller's credentials), and the git
 * state read with libgit2 from repositories made with the git binary
 * (tests needing it are skipped without it), cross-checked against git.
 */
#include "provenance.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gitinfo.h"
#include "pyrepr.h"
#include "sb.h"

#define HEX_A "0123456789abcdef0123456789abcdef01234567"
#define HEX_B "89abcdef0123456789abcdef0123456789abcdef"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* rm -rf @path */
static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* New temporary directory (free() the result, rm_rf() the tree). */
static char *make_tmpdir(void)
{
	char *t = strdup("/tmp/provtest.XXXXXX");

	assert_non_null(t);
	assert_non_null(mkdtemp(t));
	return t;
}

/* @dir + "/" + @rel, asserting on ENOMEM. */
static char *pjoin(const char *dir, const char *rel)
{
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *p = malloc(n);

	assert_non_null(p);
	snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

/* mkdir -p of every leading directory of @path. */
static void mkdir_parents(const char *path)
{
	char *c = strdup(path), *s;

	assert_non_null(c);
	for (s = strchr(c + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(c, 0755) < 0)
			assert_int_equal(errno, EEXIST);
		*s = '/';
	}
	free(c);
}

/* Write @len bytes of @data to @dir/@rel, creating directories. */
static void write_bytes(const char *dir, const char *rel, const void *data,
			size_t len)
{
	char *p = pjoin(dir, rel);
	FILE *f;

	mkdir_parents(p);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(p);
}

static void write_str(const char *dir, const char *rel, const char *s)
{
	write_bytes(dir, rel, s, strlen(s));
}

static void append_str(const char *dir, const char *rel, const char *s)
{
	char *p = pjoin(dir, rel);
	FILE *f = fopen(p, "ab");

	assert_non_null(f);
	assert_int_equal(fputs(s, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(p);
}

/* Read the whole (small) file @path, trailing whitespace stripped. */
static char *slurp(const char *path)
{
	char *buf = calloc(1, 4096);
	size_t n;
	FILE *f;

	assert_non_null(buf);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, 4095, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

/* Make sure the next write gets an mtime different from the last one. */
static void tick(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

struct gitres {
	char *repo;
	char *commit;
	int dirty;
};

/* gitinfo_read() of @dir as @as (NULL: as we are) into @g. */
static void gi_as(const char *dir, const struct gitinfo_cred *as,
		  struct gitres *g)
{
	g->repo = NULL;
	g->commit = NULL;
	g->dirty = 42;
	assert_int_equal(gitinfo_read(dir, as, &g->repo, &g->commit,
				      &g->dirty), 0);
	assert_non_null(g->repo);
	assert_non_null(g->commit);
}

static void gi(const char *dir, struct gitres *g)
{
	gi_as(dir, NULL, g);
}

static void gi_free(struct gitres *g)
{
	free(g->repo);
	free(g->commit);
	g->repo = NULL;
	g->commit = NULL;
}

static int git_dirty_of(const char *dir)
{
	struct gitres g;
	int d;

	gi(dir, &g);
	d = g.dirty;
	gi_free(&g);
	return d;
}

static char *git_commit_of(const char *dir)
{
	struct gitres g;

	gi(dir, &g);
	free(g.repo);
	return g.commit;
}

static char *git_repo_of(const char *dir)
{
	struct gitres g;

	gi(dir, &g);
	free(g.commit);
	return g.repo;
}

/* The remote URL of @dir's repository is @want. */
static void assert_repo(const char *dir, const char *want)
{
	char *r = git_repo_of(dir);

	assert_string_equal(r, want);
	free(r);
}

/* The HEAD commit of @dir's repository is @want. */
static void assert_commit(const char *dir, const char *want)
{
	char *c = git_commit_of(dir);

	assert_string_equal(c, want);
	free(c);
}

/* ------------------------------------------------------------------ */
/* argv repr                                                            */
/* ------------------------------------------------------------------ */

static void check_repr(const char *buf, size_t len, const char *want)
{
	struct sb sb;

	sb_init(&sb, 0);
	pyrepr_argv(&sb, buf, len);
	assert_int_equal(sb_err(&sb), 0);
	assert_string_equal(sb.buf, want);
	sb_release(&sb);
}

#define REPR(lit, want) check_repr(lit, sizeof(lit) - 1, want)

static void test_repr_plain(void **state)
{
	(void)state;
	REPR("src/parse.py\0artifacts/data.xml.gz\0artifacts/parsed\0",
	     "['src/parse.py', 'artifacts/data.xml.gz', 'artifacts/parsed']");
	REPR("python3\0-c\0print(1)\0", "['python3', '-c', 'print(1)']");
	/* last argument without its NUL (argv rewritten by the process) */
	REPR("abc\0def", "['abc', 'def']");
	REPR("with space\0", "['with space']");
}

static void test_repr_quotes(void **state)
{
	(void)state;
	REPR("it's\0", "[\"it's\"]");
	REPR("say \"hi\"\0", "['say \"hi\"']");
	REPR("a'b\"c\0", "['a\\'b\"c']");
	REPR("'\0\"\0", "[\"'\", '\"']");
}

static void test_repr_escapes(void **state)
{
	(void)state;
	REPR("a\\b\0", "['a\\\\b']");
	REPR("l1\nl2\0", "['l1\\nl2']");
	REPR("t\tr\r\0", "['t\\tr\\r']");
	REPR("\x01\x1f\x7f\0", "['\\x01\\x1f\\x7f']");
	REPR("it's\\\n\0", "[\"it's\\\\\\n\"]");
	/* printable UTF-8 is kept */
	REPR("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\0",
	     "['caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80']");
	/* unprintable code points */
	REPR("\xc2\xa0\xc2\x85\0", "['\\xa0\\x85']");
	REPR("\xe2\x80\xa8\xef\xbb\xbf\0", "['\\u2028\\ufeff']");
	REPR("\xf3\xb0\x80\x80\0", "['\\U000f0000']");
	/* invalid UTF-8: surrogate escapes, as Python shows sys.argv */
	REPR("\xff\xfe\0", "['\\udcff\\udcfe']");
	REPR("\xe2\x82\0", "['\\udce2\\udc82']");
	REPR("\xc0\xaf\0", "['\\udcc0\\udcaf']");
	REPR("\xed\xa0\x80\0", "['\\udced\\udca0\\udc80']");
}

static void test_repr_empty(void **state)
{
	(void)state;
	check_repr(NULL, 0, "[]");
	check_repr("", 0, "[]");
	REPR("\0", "['']");
	REPR("a\0\0", "['a', '']");
	REPR("\0\0", "['', '']");
}

/* ------------------------------------------------------------------ */
/* provenance_read                                                      */
/* ------------------------------------------------------------------ */

static void test_read_self(void **state)
{
	struct provenance *p = NULL;
	char cwd[PATH_MAX], host[256] = "";

	(void)state;
	assert_int_equal(provenance_read(getpid(), NULL, &p), 0);
	assert_non_null(p);
	assert_int_equal(p->pid, getpid());
	assert_true(strlen(p->cmdline) > 4);
	assert_memory_equal(p->cmdline, "['", 2);
	/* argv[0] of this program appears quoted */
	assert_non_null(strstr(p->cmdline, program_invocation_name));
	assert_true(p->user[0] != '\0');
	assert_true(p->host[0] != '\0');
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(p->host, host);
	assert_true(p->exe[0] == '/');
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_string_equal(p->cwd, cwd);
	assert_non_null(p->git_repo);
	assert_non_null(p->git_commit);
	assert_true(p->git_dirty >= -1 && p->git_dirty <= 1);
	provenance_free(p);
	provenance_free(NULL);
}

struct tid_arg {
	pid_t tid;
	int ready[2];
	int done[2];
};

static void *tid_thread(void *data)
{
	struct tid_arg *a = data;
	char c = 0;

	a->tid = gettid();
	if (write(a->ready[1], &c, 1) != 1)
		return NULL;
	if (read(a->done[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

static void test_read_thread_id_is_tgid(void **state)
{
	struct provenance *p = NULL;
	struct tid_arg a = { 0 };
	pthread_t th;
	char c;

	(void)state;
	assert_int_equal(pipe(a.ready), 0);
	assert_int_equal(pipe(a.done), 0);
	assert_int_equal(pthread_create(&th, NULL, tid_thread, &a), 0);
	assert_int_equal(read(a.ready[0], &c, 1), 1);
	assert_true(a.tid != getpid());
	/* FUSE reports the calling thread: the process is recorded */
	assert_int_equal(provenance_read(a.tid, NULL, &p), 0);
	assert_int_equal(p->pid, getpid());
	provenance_free(p);
	assert_int_equal(write(a.done[1], &c, 1), 1);
	assert_int_equal(pthread_join(th, NULL), 0);
	close(a.ready[0]);
	close(a.ready[1]);
	close(a.done[0]);
	close(a.done[1]);
}

/* Wait until the executable of @pid has basename @name. */
static bool has_cmdline(pid_t pid)
{
	char path[64], buf[16];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0;
}

static bool wait_exe(pid_t pid, const char *name)
{
	char link[64], target[PATH_MAX], *base;
	ssize_t n;
	int i;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	for (i = 0; i < 500; i++) {
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			base = strrchr(target, '/');
			/* exe changes before the new argv is in place */
			if (base && !strcmp(base + 1, name) && has_cmdline(pid))
				return true;
		}
		tick();
	}
	return false;
}

static void test_read_walkup(void **state)
{
	struct provenance *p = NULL;
	pid_t child;
	int status;

	(void)state;
	if (system("command -v timeout >/dev/null 2>&1") != 0)
		skip();
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		execlp("timeout", "timeout", "20", "sleep", "20", (char *)NULL);
		_exit(127);
	}
	assert_true(wait_exe(child, "timeout"));
	/* timeout is a file utility: its parent (us) is recorded */
	assert_int_equal(provenance_read(child, NULL, &p), 0);
	assert_int_equal(p->pid, getpid());
	assert_null(strstr(p->cmdline, "'timeout'"));
	provenance_free(p);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
}

static void test_read_no_walkup(void **state)
{
	struct provenance *p = NULL;
	pid_t child;
	int status;

	(void)state;
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		execlp("sleep", "sleep", "20", (char *)NULL);
		_exit(127);
	}
	assert_true(wait_exe(child, "sleep"));
	assert_int_equal(provenance_read(child, NULL, &p), 0);
	assert_int_equal(p->pid, child);
	assert_string_equal(p->cmdline, "['sleep', '20']");
	provenance_free(p);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
}

static void test_read_vanished(void **state)
{
	struct provenance *p = NULL;
	pid_t child;
	int status;

	(void)state;
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(provenance_read(child, NULL, &p), -ESRCH);
	assert_null(p);
	assert_int_equal(provenance_read(0, NULL, &p), -EINVAL);
	assert_int_equal(provenance_read(-5, NULL, &p), -EINVAL);
	assert_int_equal(provenance_read(getpid(), NULL, NULL), -EINVAL);
}

/*
 * Start "sh -c 'read x'" in @dir with environment @envp, its stdin the read
 * end of a new pipe whose write end is returned in *ret_go (closing it ends
 * the child).  Returns the child's pid.
 */
static pid_t start_in(const char *dir, char *const envp[], int *ret_go)
{
	int go[2];
	pid_t child;

	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(go[0], 0);
		dup2(null, 1);
		dup2(null, 2);
		close(go[1]);
		if (chdir(dir) == 0)
			execle("/bin/sh", "sh", "-c", "read x", (char *)NULL, envp);
		_exit(127);
	}
	close(go[0]);
	*ret_go = go[1];
	return child;
}

/* The cwd provenance_read() records for @child, avoiding @avoid. */
static void check_cwd(pid_t child, const char *avoid, const char *want)
{
	struct provenance *p = NULL;
	char exe[64], buf[256];
	int tries;

	/* wait until the child runs sh in its directory (a loaded machine
	 * under ASan took over 5 s to fork and exec once) */
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)child);
	for (tries = 0; tries < 6000; tries++) {
		ssize_t n = readlink(exe, buf, sizeof(buf) - 1);

		if (n > 0 && (buf[n] = '\0', strstr(buf, "sh")))
			break;
		usleep(10000);
	}
	assert_true(tries < 6000);
	assert_int_equal(provenance_read(child, avoid, &p), 0);
	if (want)
		assert_string_equal(p->cwd, want);
	else	/* anything outside @avoid */
		assert_true(strncmp(p->cwd, avoid, strlen(avoid)) != 0);
	provenance_free(p);
}

/*
 * A caller whose working directory lies within the avoided directory (the
 * mount: `mkdir -p` chdir()s into what it creates) gets its $PWD if that is
 * outside, else the nearest parent's cwd outside; nothing within it is
 * ever looked at.
 */
static void test_read_avoids_the_mount(void **state)
{
	char top[] = "/tmp/cmffs-prov-XXXXXX", sub[64], back[4096];
	char *with_pwd[] = { (char *)"PWD=/", NULL };
	char *no_pwd[] = { NULL };
	int status, go;
	pid_t child;

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(sub, sizeof(sub), "%s/mnt", top);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_non_null(getcwd(back, sizeof(back)));
	assert_int_equal(chdir(top), 0);

	child = start_in(sub, no_pwd, &go);
	check_cwd(child, NULL, sub);		/* the caller's own */
	check_cwd(child, sub, top);		/* no $PWD: its parent's */
	check_cwd(child, top, NULL);		/* a grandparent's, outside */
	close(go);
	assert_int_equal(waitpid(child, &status, 0), child);

	child = start_in(sub, with_pwd, &go);
	check_cwd(child, sub, "/");		/* its $PWD, outside */
	check_cwd(child, "/", "");		/* everything avoided: none */
	close(go);
	assert_int_equal(waitpid(child, &status, 0), child);

	assert_int_equal(chdir(back), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(top), 0);
}

/* ------------------------------------------------------------------ */
/* git: repositories made with the git binary                           */
/* ------------------------------------------------------------------ */

/* Run a shell command in @dir with a neutral git environment. */
static int sh(const char *dir, const char *cmd)
{
	char buf[4096];
	int n, st;

	n = snprintf(buf, sizeof(buf),
		     "cd '%s' && HOME='%s' XDG_CONFIG_HOME='%s/.xdg' "
		     "GIT_CONFIG_NOSYSTEM=1 "
		     "GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com "
		     "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com "
		     "sh -c '%s' >/dev/null 2>&1",
		     dir, dir, dir, cmd);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	st = system(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `git rev-parse HEAD` in @dir. */
static char *git_head(const char *dir)
{
	char *out = pjoin(dir, "../head.out"), *s;

	assert_int_equal(sh(dir, "git rev-parse HEAD > ../head.out"), 0);
	s = slurp(out);
	free(out);
	return s;
}

/* Is the git binary there?  Tests that need it skip without it. */
static bool have_git(void)
{
	return system("git --version >/dev/null 2>&1") == 0;
}

static int git_setup(void **state)
{
	*state = have_git() ? make_tmpdir() : NULL;
	return 0;
}

static int git_teardown(void **state)
{
	if (*state) {
		rm_rf(*state);
		free(*state);
	}
	return 0;
}

static const char handmade_config[] =
	"# a comment\n"
	"[core]\n"
	"\trepositoryformatversion = 0\n"
	"\tFileMode = true\n"
	"\tbare = false\n"
	"\tlogallrefupdates\n"
	"[remote \"zeta\"]\n"
	"\turl = https://example.com/zeta.git\n"
	"[Remote \"alpha\"] ; comment\n"
	"\tURL  =  \"https://example.com/al pha.git\"  # comment\n"
	"\tfetch = +refs/heads/*:refs/remotes/alpha/*\n"
	"[branch \"main\"]\n"
	"\tremote = zeta\n";

/*
 * A repository in @root (made if it does not exist) with the files
 * hello.txt, link -> hello.txt, run.sh (executable), sub/dir/file2
 * committed on main, and two remotes written by hand (handmade_config).
 * Returns the commit (owned).
 */
static char *make_repo(const char *root)
{
	char *p;

	write_str(root, "hello.txt", "hello\n");
	write_str(root, "run.sh", "#!/bin/sh\necho hi\n");
	p = pjoin(root, "run.sh");
	assert_int_equal(chmod(p, 0755), 0);
	free(p);
	write_str(root, "sub/dir/file2", "x");
	p = pjoin(root, "link");
	assert_int_equal(symlink("hello.txt", p), 0);
	free(p);
	assert_int_equal(sh(root, "git init -q -b main . && git add -A && "
				  "git commit -q -m init"), 0);
	write_str(root, ".git/config", handmade_config);
	return git_head(root);
}

/*
 * make_repo() in the test's directory "repo": its path (owned), its
 * commit in *@ret_head (owned).  Skips the test without git.
 */
static char *test_repo(void **state, char **ret_head)
{
	char *root;

	if (!*state)
		skip();
	root = pjoin(*state, "repo");
	*ret_head = make_repo(root);
	return root;
}

static void test_git_basic(void **state)
{
	char *root, *sub, *head;
	struct gitres g;

	root = test_repo(state, &head);
	sub = pjoin(root, "sub/dir");
	gi(root, &g);
	assert_string_equal(g.commit, head);
	/* neither cmf_origin nor origin: alphabetically first remote */
	assert_string_equal(g.repo, "https://example.com/al pha.git");
	assert_int_equal(g.dirty, 0);
	gi_free(&g);

	/* found from a subdirectory too */
	gi(sub, &g);
	assert_string_equal(g.commit, head);
	assert_int_equal(g.dirty, 0);
	gi_free(&g);

	append_str(root, ".git/config",
		   "[remote \"origin\"]\n\turl = git@host:o.git\n");
	assert_repo(root, "git@host:o.git");

	/* the first url of a remote, as `git remote -v` shows for fetch */
	append_str(root, ".git/config",
		   "[remote \"cmf_origin\"] url = /srv/cmf.git\n"
		   "\turl = /second/url/ignored\n");
	assert_repo(sub, "/srv/cmf.git");

	/* a remote with only a pushurl, or an empty url, has none */
	write_str(root, ".git/config",
		  "[remote \"a\"]\n\tpushurl = /push/only\n"
		  "[remote \"b\"]\n\turl =\n\turl = /b.git\n");
	assert_repo(root, "/b.git");

	/* format version 1 with the extensions of a partial clone and of
	 * worktree configs: read as usual (and, under valgrind and ASan,
	 * without libgit2 1.5's leak of a regex match per config entry) */
	assert_int_equal(sh(root, "git config core.repositoryformatversion 1 "
				  "&& git config extensions.worktreeConfig true "
				  "&& git config extensions.partialClone alpha "
				  "&& git rev-parse HEAD"), 0);
	gi(root, &g);
	assert_string_equal(g.commit, head);
	assert_string_equal(g.repo, "/b.git");
	assert_int_equal(g.dirty, 0);
	gi_free(&g);

	free(head);
	free(sub);
	free(root);
}

static void test_git_config_dialect(void **state)
{
	char *root, *head, *r;

	root = test_repo(state, &head);
	write_str(root, ".git/config",
		  "\xef\xbb\xbf[core]\r\n"
		  "\tbare = false\r\n"
		  "[remote.origin]\n"
		  "\turl = ignored-old-syntax-is-lowercase-name\n"
		  "[remote \"Origin\"]\n"
		  "\turl = cased\n"
		  "[remote \"origin\"]\n"
		  "\tUrl = \"a\\\"b\\\\c\"\\\n"
		  "d  e\\tf ; trailing\n");
	/* [remote.origin] names remote "origin" too and comes first */
	assert_repo(root, "ignored-old-syntax-is-lowercase-name");

	write_str(root, ".git/config",
		  "[remote \"origin\"]\n"
		  "\tUrl = \"a\\\"b\\\\c\"\\\n"
		  "d  e\\tf ; trailing\n");
	assert_repo(root, "a\"b\\cd  e\tf");

	/* no config at all: no remote, the rest is read */
	r = pjoin(root, ".git/config");
	assert_int_equal(unlink(r), 0);
	free(r);
	assert_repo(root, "");
	assert_commit(root, head);
	assert_int_equal(git_dirty_of(root), 0);

	/* a malformed config makes git give up on the repository: so do we */
	write_str(root, ".git/config",
		  "[remote \"origin\"]\n\turl = \"bad \\q escape\"\n");
	assert_int_equal(sh(root, "git rev-parse HEAD"), 128);
	assert_commit(root, "");
	assert_int_equal(git_dirty_of(root), -1);

	free(head);
	free(root);
}

static void test_git_dirty(void **state)
{
	char *root, *head, *p;

	root = test_repo(state, &head);
	assert_int_equal(git_dirty_of(root), 0);

	/* same size, different content, right after the commit */
	write_str(root, "hello.txt", "HELLO\n");
	assert_int_equal(git_dirty_of(root), 1);
	/* content restored, mtime differs from the index: clean */
	tick();
	write_str(root, "hello.txt", "hello\n");
	assert_int_equal(git_dirty_of(root), 0);
	/* different size */
	write_str(root, "hello.txt", "hello world\n");
	assert_int_equal(git_dirty_of(root), 1);
	write_str(root, "hello.txt", "hello\n");
	assert_int_equal(git_dirty_of(root), 0);

	/* untracked files do not count, nor ignored ones */
	write_str(root, "untracked.txt", "junk");
	write_str(root, "sub/new/deep.txt", "junk");
	write_str(root, ".git/info/exclude", "*.log\n");
	write_str(root, "x.log", "junk");
	assert_int_equal(git_dirty_of(root), 0);

	/* deleted tracked file */
	p = pjoin(root, "sub/dir/file2");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(git_dirty_of(root), 1);
	write_str(root, "sub/dir/file2", "x");
	assert_int_equal(git_dirty_of(root), 0);
	free(p);

	/* executable bit, unless core.fileMode is false */
	p = pjoin(root, "run.sh");
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(git_dirty_of(root), 1);
	append_str(root, ".git/config", "[core]\n\tfilemode = false\n");
	assert_int_equal(git_dirty_of(root), 0);
	assert_int_equal(chmod(p, 0755), 0);
	free(p);

	/* symlink retargeted (same length) */
	p = pjoin(root, "link");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("HELLO.txt", p), 0);
	assert_int_equal(git_dirty_of(root), 1);
	assert_int_equal(unlink(p), 0);
	/* symlink replaced by a regular file */
	write_str(root, "link", "hello.txt");
	assert_int_equal(git_dirty_of(root), 1);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("hello.txt", p), 0);
	assert_int_equal(git_dirty_of(root), 0);
	free(p);

	/* leading directory replaced by a symlink to an identical copy */
	write_str(root, "copy/dir/file2", "x");
	p = pjoin(root, "sub");
	rm_rf(p);
	assert_int_equal(symlink("copy", p), 0);
	assert_int_equal(git_dirty_of(root), 1);
	assert_int_equal(unlink(p), 0);
	write_str(root, "sub/dir/file2", "x");
	free(p);
	/* file2 got a new mtime: stat data differ, content is the same */
	assert_int_equal(git_dirty_of(root), 0);

	/* skip-worktree entries are not looked at */
	assert_int_equal(sh(root, "git update-index --skip-worktree hello.txt"),
			 0);
	write_str(root, "hello.txt", "changed!");
	assert_int_equal(git_dirty_of(root), 0);
	assert_int_equal(sh(root,
		"git update-index --no-skip-worktree hello.txt"), 0);
	assert_int_equal(git_dirty_of(root), 1);
	write_str(root, "hello.txt", "hello\n");
	assert_int_equal(git_dirty_of(root), 0);

	free(head);
	free(root);
}

/* A change staged but not committed is dirty; so is one staged back. */
static void test_git_staged_only(void **state)
{
	char *root, *head;

	root = test_repo(state, &head);
	assert_int_equal(sh(root, "echo more >> hello.txt && git add hello.txt"),
			 0);
	assert_int_equal(sh(root, "git diff --quiet"), 0);	/* worktree */
	assert_int_equal(sh(root, "git diff --cached --quiet"), 1);
	assert_int_equal(git_dirty_of(root), 1);
	/* a new file staged */
	assert_int_equal(sh(root, "git commit -q -m two && echo n > new.txt && "
				  "git add new.txt"), 0);
	assert_int_equal(git_dirty_of(root), 1);
	/* a file removed from the index only (git rm --cached) */
	assert_int_equal(sh(root, "git commit -q -m three && "
				  "git rm -q --cached new.txt"), 0);
	assert_int_equal(git_dirty_of(root), 1);
	assert_int_equal(sh(root, "git add new.txt"), 0);
	assert_int_equal(git_dirty_of(root), 0);
	/* a mode change staged (the working tree keeps the old mode) */
	assert_int_equal(sh(root, "git update-index --chmod=-x run.sh && "
				  "git diff --quiet"), 1);
	assert_int_equal(git_dirty_of(root), 1);
	assert_int_equal(sh(root, "git update-index --chmod=+x run.sh"), 0);
	assert_int_equal(git_dirty_of(root), 0);
	free(head);
	free(root);
}

/* Index version 4 (feature.manyFiles) and the other versions. */
static void test_git_index_versions(void **state)
{
	char *t = *state, *root, *head;

	root = test_repo(state, &head);
	assert_int_equal(sh(root, "git update-index --index-version 4"), 0);
	assert_int_equal(git_dirty_of(root), 0);
	write_str(root, "sub/dir/file2", "y");
	assert_int_equal(git_dirty_of(root), 1);
	write_str(root, "sub/dir/file2", "x");
	assert_int_equal(git_dirty_of(root), 0);
	assert_int_equal(sh(root, "git update-index --index-version 3"), 0);
	assert_int_equal(git_dirty_of(root), 0);
	assert_int_equal(sh(root, "git update-index --index-version 2"), 0);
	assert_int_equal(git_dirty_of(root), 0);
	free(head);
	free(root);

	/* a repository made with feature.manyFiles writes version 4 */
	root = pjoin(t, "many");
	assert_int_equal(mkdir(root, 0755), 0);
	write_str(root, "a/b/c.txt", "c\n");
	write_str(root, "a/b/d.txt", "d\n");
	assert_int_equal(sh(root, "git init -q -b main . && "
				  "git config feature.manyFiles true && "
				  "git add -A && git commit -q -m m && "
				  "head -c 8 .git/index | od -An -tx1 | "
				  "grep -q \"00 00 00 04\""), 0);
	assert_int_equal(git_dirty_of(root), 0);
	write_str(root, "a/b/d.txt", "D\n");
	assert_int_equal(git_dirty_of(root), 1);
	free(root);
}

/* What cannot be read is unknown; an absent index is git's empty one. */
static void test_git_index_unreadable(void **state)
{
	static const unsigned char bad[] = "DIRX\0\0\0\2\0\0\0\0"
					   "01234567890123456789";
	char *root, *head, *p;

	root = test_repo(state, &head);
	p = pjoin(root, ".git/index");
	assert_int_equal(truncate(p, 100), 0);
	assert_int_equal(git_dirty_of(root), -1);
	write_bytes(root, ".git/index", bad, sizeof(bad) - 1);
	assert_int_equal(git_dirty_of(root), -1);
	/* no index with a commit: every file is staged for removal */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(sh(root, "git diff --cached --quiet"), 1);
	assert_int_equal(git_dirty_of(root), 1);
	/* no index and an unborn branch: nothing to compare, clean */
	write_str(root, ".git/HEAD", "ref: refs/heads/unborn\n");
	assert_int_equal(git_dirty_of(root), 0);
	/* an unborn branch with files staged */
	assert_int_equal(sh(root, "git add hello.txt"), 0);
	assert_int_equal(git_dirty_of(root), 1);
	free(p);
	free(head);
	free(root);
}

static void test_git_refs(void **state)
{
	char *root, *head, *p;

	root = test_repo(state, &head);
	/* packed-refs only */
	p = pjoin(root, ".git/refs/heads/main");
	assert_int_equal(unlink(p), 0);
	free(p);
	write_str(root, ".git/packed-refs",
		  "# pack-refs with: peeled fully-peeled sorted \n"
		  HEX_B " refs/heads/mai\n"
		  HEX_A " refs/heads/main\n"
		  "^" HEX_B "\n"
		  HEX_B " refs/tags/v1\n");
	assert_commit(root, HEX_A);

	/* loose ref wins over packed-refs */
	write_str(root, ".git/refs/heads/main", HEX_B "\n");
	assert_commit(root, HEX_B);

	/* unborn branch */
	write_str(root, ".git/HEAD", "ref: refs/heads/nothere\n");
	assert_commit(root, "");

	/* a branch name that is also a directory of loose refs */
	write_str(root, ".git/refs/heads/feat/x", HEX_B "\n");
	write_str(root, ".git/HEAD", "ref: refs/heads/feat\n");
	assert_commit(root, "");

	/* symbolic ref chain */
	write_str(root, ".git/refs/heads/alias", "ref: refs/heads/feat/x\n");
	write_str(root, ".git/HEAD", "ref: refs/heads/alias\n");
	assert_commit(root, HEX_B);

	/* detached HEAD, upper case normalised */
	write_str(root, ".git/HEAD",
		  "0123456789ABCDEF0123456789ABCDEF01234567\n");
	assert_commit(root, HEX_A);

	/* refs escaping the git dir are refused */
	write_str(root, ".git/HEAD", "ref: refs/../../hello.txt\n");
	assert_commit(root, "");

	/* garbage HEAD */
	write_str(root, ".git/HEAD", "nonsense");
	assert_commit(root, "");

	/* SHA-256 repository (libgit2 1.5 has no SHA-256): nothing known */
	write_str(root, ".git/HEAD", "ref: refs/heads/main\n");
	write_str(root, ".git/config",
		  "[core]\n\trepositoryformatversion = 1\n"
		  "[extensions]\n\tobjectFormat = sha256\n");
	assert_commit(root, "");
	assert_int_equal(git_dirty_of(root), -1);

	free(head);
	free(root);
}

/* A linked worktree: .git is a file "gitdir: ..." */
static void test_git_worktree(void **state)
{
	char *t = *state, *root, *wt, *head, *wthead, *p;
	char line[PATH_MAX + 32];
	struct gitres g;

	if (!t)
		skip();
	root = pjoin(t, "repo");
	wt = pjoin(root, "wt");
	head = make_repo(root);
	assert_int_equal(sh(root, "git worktree add -q -b feature wt && "
				  "cd wt && echo y > only-here.txt && "
				  "git add only-here.txt && git commit -q -m wt"),
			 0);
	wthead = git_head(wt);
	assert_string_not_equal(wthead, head);
	gi(wt, &g);
	assert_string_equal(g.commit, wthead);
	/* remotes come from the common config */
	assert_string_equal(g.repo, "https://example.com/al pha.git");
	assert_int_equal(g.dirty, 0);
	gi_free(&g);
	write_str(wt, "hello.txt", "HELLO\n");
	assert_int_equal(git_dirty_of(wt), 1);
	/* the main worktree is unaffected (wt is untracked there) */
	assert_int_equal(git_dirty_of(root), 0);
	write_str(wt, "hello.txt", "hello\n");
	assert_int_equal(git_dirty_of(wt), 0);

	/* a relative gitdir, as git writes for submodules */
	write_str(wt, ".git", "gitdir: ../.git/worktrees/wt\n");
	assert_commit(wt, wthead);

	/* absolute gitdir with trailing blanks */
	snprintf(line, sizeof(line), "gitdir: %s/.git/worktrees/wt \n", root);
	write_str(wt, ".git", line);
	assert_commit(wt, wthead);

	/* a broken .git file ends the search, as with git */
	write_str(wt, ".git", "gitdir: /does/not/exist\n");
	gi(wt, &g);
	assert_string_equal(g.commit, "");
	assert_string_equal(g.repo, "");
	assert_int_equal(g.dirty, -1);
	gi_free(&g);
	write_str(wt, ".git", "garbage\n");
	assert_int_equal(git_dirty_of(wt), -1);
	/* a .git directory without HEAD is passed over */
	p = pjoin(wt, ".git");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	assert_commit(wt, head);	/* the outer repository */

	free(wthead);
	free(head);
	free(wt);
	free(root);
}

static void test_git_no_repo(void **state)
{
	char *t = make_tmpdir(), *d = pjoin(t, "a/b");
	struct gitres g;

	(void)state;
	write_str(t, "a/b/f", "x");
	gi(d, &g);
	assert_string_equal(g.repo, "");
	assert_string_equal(g.commit, "");
	assert_int_equal(g.dirty, -1);
	gi_free(&g);

	/* a .git directory without HEAD is not a repository */
	write_str(t, "a/.git/config", "[remote \"origin\"]\n\turl = x\n");
	gi(d, &g);
	assert_string_equal(g.repo, "");
	assert_int_equal(g.dirty, -1);
	gi_free(&g);

	gi("/nonexistent/dir/for/provenance", &g);
	assert_string_equal(g.repo, "");
	assert_string_equal(g.commit, "");
	assert_int_equal(g.dirty, -1);
	gi_free(&g);

	assert_int_equal(gitinfo_read(NULL, NULL, &g.repo, &g.commit,
				      &g.dirty), -EINVAL);
	assert_int_equal(gitinfo_read(d, NULL, NULL, &g.commit, &g.dirty),
			 -EINVAL);
	free(d);
	rm_rf(t);
	free(t);
}

/*
 * The remote URL as `git remote -v` shows it: includes and includeIf
 * read, url.<base>.insteadOf applied (pushInsteadOf is not, it is for
 * pushing); the daemon's own ~/.gitconfig is never read.
 */
static void test_git_remote_config(void **state)
{
	char *t = *state, *root, *head, *r, cfg[2 * PATH_MAX];

	root = test_repo(state, &head);
	/* includeIf gitdir: gives the remote */
	write_str(t, "inc/remote.cfg",
		  "[remote \"origin\"]\n\turl = https://example.com/inc.git\n");
	snprintf(cfg, sizeof(cfg),
		 "[includeIf \"gitdir:%s/\"]\n\tpath = %s/inc/remote.cfg\n"
		 "[includeIf \"gitdir:/elsewhere/\"]\n"
		 "\tpath = %s/inc/other.cfg\n", root, t, t);
	write_str(t, "inc/other.cfg",
		  "[remote \"cmf_origin\"]\n\turl = https://wrong.example/\n");
	append_str(root, ".git/config", cfg);
	assert_int_equal(sh(root, "git remote -v | grep -q inc.git"), 0);
	assert_repo(root, "https://example.com/inc.git");
	/* a plain include.path (relative to the including file) */
	write_str(root, ".git/config", handmade_config);
	write_str(root, ".git/cmf.cfg",
		  "[remote \"cmf_origin\"]\n\turl = /srv/included.git\n");
	append_str(root, ".git/config", "[include]\n\tpath = cmf.cfg\n");
	assert_repo(root, "/srv/included.git");

	/* insteadOf: the longest matching prefix is rewritten */
	append_str(root, ".git/config",
		   "[url \"https://mirror.example/\"]\n\tinsteadOf = /srv/\n"
		   "[url \"git@deep.example:\"]\n"
		   "\tinsteadOf = /srv/inc\n"
		   "[url \"ssh://push.example/\"]\n"
		   "\tpushInsteadOf = /srv/\n");
	assert_int_equal(sh(root, "git remote -v | grep -q "
				  "\"cmf_origin.git@deep.example:luded.git .fetch\""),
			 0);
	assert_int_equal(sh(root, "git remote -v | grep -q "
				  "\"cmf_origin.ssh://push.example/included.git .push\""),
			 0);
	assert_repo(root, "git@deep.example:luded.git");

	/* the daemon's ~/.gitconfig (main() made one) is not read */
	r = git_repo_of(root);
	assert_null(strstr(r, "from-home"));
	free(r);

	free(head);
	free(root);
}

/* A repository with a submodule: .git file with relative gitdir. */
static void test_git_submodule(void **state)
{
	char *t = *state, *s, *sub, *h;
	struct gitres g;

	if (!t)
		skip();
	s = pjoin(t, "super");
	sub = pjoin(t, "super/mod");
	assert_int_equal(mkdir(s, 0755), 0);
	assert_int_equal(sh(t,
		"git init -q -b main lib && cd lib && echo l > l.txt && "
		"git add l.txt && git commit -q -m lib && cd ../super && "
		"git init -q -b main . && "
		"git -c protocol.file.allow=always submodule -q add ../lib mod "
		"&& git commit -q -m super"), 0);
	h = pjoin(t, "super/mod/.git");
	g.repo = slurp(h);
	assert_string_equal(g.repo, "gitdir: ../.git/modules/mod");
	free(g.repo);
	free(h);
	gi(s, &g);
	assert_int_equal(g.dirty, 0);	/* gitlink entry skipped */
	gi_free(&g);
	h = git_head(sub);
	gi(sub, &g);
	assert_string_equal(g.commit, h);
	assert_true(strstr(g.repo, "lib") != NULL);
	assert_int_equal(g.dirty, 0);
	gi_free(&g);
	assert_int_equal(sh(sub, "echo changed > l.txt"), 0);
	assert_int_equal(git_dirty_of(sub), 1);
	/* the super project does not look into the submodule */
	assert_int_equal(git_dirty_of(s), 0);
	free(h);
	free(s);
	free(sub);
}

/* Seconds since @t0 (CLOCK_MONOTONIC). */
static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * A FIFO where git expects a file (a ref, the index, an included config)
 * would block libgit2's open() for ever: the watchdog interrupts it, the
 * datum is unknown, and no signal is left pending for the thread.
 */
static void test_git_fifo(void **state)
{
	char *t = *state, *root, *head, *p, cfg[PATH_MAX + 32];
	struct timespec t0;
	struct gitres g;
	sigset_t pending;

	root = test_repo(state, &head);
	p = pjoin(root, ".git/refs/heads/main");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkfifo(p, 0644), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gi(root, &g);
	assert_true(seconds_since(&t0) < 60);
	assert_string_equal(g.repo, "https://example.com/al pha.git");
	assert_string_equal(g.commit, "");
	assert_int_equal(g.dirty, -1);
	gi_free(&g);
	assert_int_equal(unlink(p), 0);
	write_str(root, ".git/refs/heads/main", head);
	free(p);

	p = pjoin(root, ".git/index");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkfifo(p, 0644), 0);
	assert_commit(root, head);
	assert_int_equal(git_dirty_of(root), -1);
	assert_int_equal(unlink(p), 0);
	free(p);

	p = pjoin(t, "include.fifo");
	assert_int_equal(mkfifo(p, 0644), 0);
	snprintf(cfg, sizeof(cfg), "[include]\n\tpath = %s\n", p);
	append_str(root, ".git/config", cfg);
	gi(root, &g);
	assert_string_equal(g.repo, "");
	assert_string_equal(g.commit, "");
	gi_free(&g);
	free(p);

	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, SIGRTMAX - 2));
	free(head);
	free(root);
}

/* ------------------------------------------------------------------ */
/* git: ownership and the caller's credentials (root only)              */
/* ------------------------------------------------------------------ */

#define OTHER_UID 4242
#define THIRD_UID 4243

/* Our credentials are what they were (gitinfo switched back). */
static void assert_creds_back(void)
{
	gid_t groups[64];

	assert_int_equal(geteuid(), 0);
	assert_int_equal(getegid(), 0);
	assert_int_equal(getgroups(64, groups) >= 0, 1);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
}

/*
 * A repository owned by another user is refused, for root too (git's
 * "dubious ownership"); read as its owner it is found; a file its owner
 * cannot read is not read for them even though the daemon could.
 */
static void test_git_owner(void **state)
{
	static const gid_t no_groups[1];
	struct gitinfo_cred other = { OTHER_UID, OTHER_UID, no_groups, 0 };
	struct gitinfo_cred third = { THIRD_UID, THIRD_UID, no_groups, 0 };
	char *t = *state, *root, *head, *p, cfg[PATH_MAX + 32];
	struct gitres g;

	if (geteuid() != 0)
		skip();
	root = test_repo(state, &head);
	assert_int_equal(chmod(t, 0755), 0);
	/* ours: found, as us or as root */
	gi(root, &g);
	assert_string_equal(g.commit, head);
	gi_free(&g);
	/* not the other user's: refused for them */
	gi_as(root, &other, &g);
	assert_string_equal(g.repo, "");
	assert_string_equal(g.commit, "");
	assert_int_equal(g.dirty, -1);
	gi_free(&g);
	assert_creds_back();

	assert_int_equal(sh(t, "chown -R 4242:4242 repo"), 0);
	/* now root is refused */
	gi(root, &g);
	assert_string_equal(g.repo, "");
	assert_string_equal(g.commit, "");
	assert_int_equal(g.dirty, -1);
	gi_free(&g);
	/* the owner is not */
	gi_as(root, &other, &g);
	assert_string_equal(g.repo, "https://example.com/al pha.git");
	assert_string_equal(g.commit, head);
	assert_int_equal(g.dirty, 0);
	gi_free(&g);
	assert_creds_back();
	/* a third user is */
	gi_as(root, &third, &g);
	assert_string_equal(g.commit, "");
	gi_free(&g);
	assert_creds_back();

	/* an include the owner cannot read is not read for them */
	write_str(t, "secret.cfg",
		  "[remote \"cmf_origin\"]\n\turl = https://secret.example/\n");
	p = pjoin(t, "secret.cfg");
	assert_int_equal(chmod(p, 0600), 0);
	free(p);
	snprintf(cfg, sizeof(cfg), "[include]\n\tpath = %s/secret.cfg\n", t);
	append_str(root, ".git/config", cfg);
	gi_as(root, &other, &g);
	assert_null(strstr(g.repo, "secret"));
	gi_free(&g);
	assert_creds_back();

	/* a tracked file they cannot read: not hashed for them */
	write_str(root, "hello.txt", "HELLO\n");
	p = pjoin(root, "hello.txt");
	assert_int_equal(chown(p, 0, 0), 0);
	assert_int_equal(chmod(p, 0600), 0);
	free(p);
	p = pjoin(root, ".git/config");
	write_str(root, ".git/config", handmade_config);
	assert_int_equal(chown(p, OTHER_UID, OTHER_UID), 0);
	free(p);
	gi_as(root, &other, &g);
	assert_string_equal(g.commit, head);
	assert_int_not_equal(g.dirty, 0);
	gi_free(&g);
	assert_creds_back();

	free(head);
	free(root);
}

/*
 * Start a child that runs as @uid in @dir (`sleep 20`, not a file utility)
 * and return its pid once it runs sleep.
 */
static pid_t start_as(uid_t uid, const char *dir)
{
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		if (setgroups(0, NULL) == 0 && setgid(uid) == 0 &&
		    setuid(uid) == 0 && chdir(dir) == 0)
			execlp("sleep", "sleep", "20", (char *)NULL);
		_exit(127);
	}
	assert_true(wait_exe(child, "sleep"));
	return child;
}

/* provenance_read() looks the repository up as the caller. */
static void test_read_git_as_caller(void **state)
{
	char *t = *state, *mine, *theirs, *h_mine, *h_theirs;
	struct provenance *p = NULL;
	pid_t child;
	int status;

	if (!t || geteuid() != 0)
		skip();
	assert_int_equal(chmod(t, 0755), 0);
	mine = pjoin(t, "mine");
	theirs = pjoin(t, "theirs");
	h_mine = make_repo(mine);
	h_theirs = make_repo(theirs);
	assert_int_equal(sh(t, "chown -R 4242:4242 theirs"), 0);

	/* in its own repository */
	child = start_as(OTHER_UID, theirs);
	assert_int_equal(provenance_read(child, NULL, &p), 0);
	assert_string_equal(p->cwd, theirs);
	assert_string_equal(p->user, "4242");
	assert_string_equal(p->git_commit, h_theirs);
	assert_string_equal(p->git_repo, "https://example.com/al pha.git");
	assert_int_equal(p->git_dirty, 0);
	provenance_free(p);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	assert_creds_back();

	/* in root's (world-readable) repository: not theirs, nothing */
	child = start_as(OTHER_UID, mine);
	assert_int_equal(provenance_read(child, NULL, &p), 0);
	assert_string_equal(p->cwd, mine);
	assert_string_equal(p->git_commit, "");
	assert_string_equal(p->git_repo, "");
	assert_int_equal(p->git_dirty, -1);
	provenance_free(p);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	assert_creds_back();

	free(h_mine);
	free(h_theirs);
	free(mine);
	free(theirs);
}

/*
 * A HOME and XDG_CONFIG_HOME for this process whose git config would add
 * a remote cmf_origin and rewrite every URL: gitinfo must read neither
 * (it is set before the first lookup sets libgit2 up).  Returns the
 * directory (owned).
 */
static char *make_daemon_home(void)
{
	char *home = make_tmpdir(), *xdg = pjoin(home, ".config");
	static const char cfg[] =
		"[remote \"cmf_origin\"]\n\turl = https://from-home/r.git\n"
		"[url \"https://from-home/\"]\n\tinsteadOf = /\n"
		"\tinsteadOf = https://\n\tinsteadOf = git@\n";

	write_str(home, ".gitconfig", cfg);
	write_str(home, ".config/git/config", cfg);
	assert_int_equal(setenv("HOME", home, 1), 0);
	assert_int_equal(setenv("XDG_CONFIG_HOME", xdg, 1), 0);
	free(xdg);
	return home;
}

int main(void)
{
	char *home = make_daemon_home();
	int r;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repr_plain),
		cmocka_unit_test(test_repr_quotes),
		cmocka_unit_test(test_repr_escapes),
		cmocka_unit_test(test_repr_empty),
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_read_thread_id_is_tgid),
		cmocka_unit_test(test_read_walkup),
		cmocka_unit_test(test_read_avoids_the_mount),
		cmocka_unit_test(test_read_no_walkup),
		cmocka_unit_test(test_read_vanished),
		cmocka_unit_test(test_git_no_repo),
#define GIT_TEST(f) cmocka_unit_test_setup_teardown(f, git_setup, git_teardown)
		GIT_TEST(test_git_basic),
		GIT_TEST(test_git_config_dialect),
		GIT_TEST(test_git_dirty),
		GIT_TEST(test_git_staged_only),
		GIT_TEST(test_git_index_versions),
		GIT_TEST(test_git_index_unreadable),
		GIT_TEST(test_git_refs),
		GIT_TEST(test_git_worktree),
		GIT_TEST(test_git_remote_config),
		GIT_TEST(test_git_submodule),
		GIT_TEST(test_git_fifo),
		GIT_TEST(test_git_owner),
		GIT_TEST(test_read_git_as_caller),
#undef GIT_TEST
	};

	r = cmocka_run_group_tests(tests, NULL, NULL);
	rm_rf(home);
	free(home);
	return r;
}
