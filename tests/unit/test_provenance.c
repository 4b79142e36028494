/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of core/provenance: Python repr of argv, reading the
 * provenance of live processes (including the walk-up past file
 * utilities), and the file-only git reader, checked on repositories built
 * by hand and, when the git binary is installed, cross-checked against
 * real repositories made with git.
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
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

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

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* git blob SHA-1 of @len bytes at @data. */
static void blob_sha(const void *data, size_t len, unsigned char out[20])
{
	unsigned int outlen = 0;
	char hdr[32];
	int n = snprintf(hdr, sizeof(hdr), "blob %zu", len);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_non_null(md);
	assert_true(EVP_DigestInit_ex(md, EVP_sha1(), NULL));
	assert_true(EVP_DigestUpdate(md, hdr, (size_t)n + 1));
	assert_true(EVP_DigestUpdate(md, data, len));
	assert_true(EVP_DigestFinal_ex(md, out, &outlen));
	assert_int_equal(outlen, 20);
	EVP_MD_CTX_free(md);
}

/* Flags for write_index(). */
#define IDX_ZERO_SIZE	0x1	/* record size 0 ("unknown") */
#define IDX_SKIP_WT	0x2	/* extended skip-worktree flag (v3) */

/*
 * Write @root/.git/index (version @version) for the files @paths (sorted),
 * recording their current stat data and blob ids.  @count, if not 0,
 * overrides the entry count in the header.
 */
static void write_index(const char *root, const char *const *paths,
			size_t n, uint32_t version, uint32_t count, int flags)
{
	unsigned char *buf = calloc(1, 1 << 16), sha[20];
	unsigned int outlen = 0;
	char target[PATH_MAX], *p, *data;
	size_t pos = 12, i, len, hdr;
	uint32_t mode;
	struct stat st;
	ssize_t k;
	FILE *f;
	EVP_MD_CTX *md;

	assert_non_null(buf);
	memcpy(buf, "DIRC", 4);
	put_be32(buf + 4, version);
	put_be32(buf + 8, count ? count : (uint32_t)n);
	for (i = 0; i < n; i++) {
		p = pjoin(root, paths[i]);
		assert_int_equal(lstat(p, &st), 0);
		if (S_ISLNK(st.st_mode)) {
			k = readlink(p, target, sizeof(target));
			assert_true(k >= 0);
			blob_sha(target, (size_t)k, sha);
			mode = 0120000;
		} else {
			data = malloc((size_t)st.st_size + 1);
			assert_non_null(data);
			f = fopen(p, "rb");
			assert_non_null(f);
			assert_int_equal(fread(data, 1, (size_t)st.st_size, f),
					 (size_t)st.st_size);
			fclose(f);
			blob_sha(data, (size_t)st.st_size, sha);
			free(data);
			mode = st.st_mode & 0100 ? 0100755 : 0100644;
		}
		free(p);
		put_be32(buf + pos + 0, (uint32_t)st.st_ctim.tv_sec);
		put_be32(buf + pos + 4, (uint32_t)st.st_ctim.tv_nsec);
		put_be32(buf + pos + 8, (uint32_t)st.st_mtim.tv_sec);
		put_be32(buf + pos + 12, (uint32_t)st.st_mtim.tv_nsec);
		put_be32(buf + pos + 16, (uint32_t)st.st_dev);
		put_be32(buf + pos + 20, (uint32_t)st.st_ino);
		put_be32(buf + pos + 24, mode);
		put_be32(buf + pos + 28, st.st_uid);
		put_be32(buf + pos + 32, st.st_gid);
		put_be32(buf + pos + 36, flags & IDX_ZERO_SIZE ? 0 :
					 (uint32_t)st.st_size);
		memcpy(buf + pos + 40, sha, 20);
		len = strlen(paths[i]);
		hdr = 62;
		buf[pos + 60] = (unsigned char)(len >> 8);
		buf[pos + 61] = (unsigned char)len;
		if (flags & IDX_SKIP_WT) {
			buf[pos + 60] |= 0x40;
			buf[pos + 62] = 0x40;
			hdr = 64;
		}
		memcpy(buf + pos + hdr, paths[i], len);
		pos += (hdr + len + 8) & ~(size_t)7;
	}
	md = EVP_MD_CTX_new();
	assert_non_null(md);
	assert_true(EVP_DigestInit_ex(md, EVP_sha1(), NULL));
	assert_true(EVP_DigestUpdate(md, buf, pos));
	assert_true(EVP_DigestFinal_ex(md, buf + pos, &outlen));
	EVP_MD_CTX_free(md);
	write_bytes(root, ".git/index", buf, pos + 20);
	free(buf);
}

struct gitres {
	char *repo;
	char *commit;
	int dirty;
};

static void gi(const char *dir, struct gitres *g)
{
	g->repo = NULL;
	g->commit = NULL;
	g->dirty = 42;
	assert_int_equal(provenance_git_info(dir, &g->repo, &g->commit,
					     &g->dirty), 0);
	assert_non_null(g->repo);
	assert_non_null(g->commit);
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

/* ------------------------------------------------------------------ */
/* argv repr                                                            */
/* ------------------------------------------------------------------ */

static void check_repr(const char *buf, size_t len, const char *want)
{
	char *s = NULL;

	assert_int_equal(provenance_format_argv(buf, len, &s), 0);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
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
	char *s = NULL;

	(void)state;
	check_repr(NULL, 0, "[]");
	check_repr("", 0, "[]");
	REPR("\0", "['']");
	REPR("a\0\0", "['a', '']");
	REPR("\0\0", "['', '']");
	assert_int_equal(provenance_format_argv(NULL, 3, &s), -EINVAL);
	assert_int_equal(provenance_format_argv("a", 1, NULL), -EINVAL);
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

	/* wait until the child runs sh in its directory */
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)child);
	for (tries = 0; tries < 500; tries++) {
		ssize_t n = readlink(exe, buf, sizeof(buf) - 1);

		if (n > 0 && (buf[n] = '\0', strstr(buf, "sh")))
			break;
		usleep(10000);
	}
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
/* git, hand-made repositories                                          */
/* ------------------------------------------------------------------ */

static const char *const handmade_files[] = {
	"hello.txt", "link", "run.sh", "sub/dir/file2",
};

/* A repository with HEAD -> refs/heads/main = HEX_A and two remotes. */
static char *make_handmade_repo(void)
{
	char *root = make_tmpdir(), *p;

	write_str(root, ".git/HEAD", "ref: refs/heads/main\n");
	write_str(root, ".git/refs/heads/main", HEX_A "\n");
	p = pjoin(root, ".git/objects");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	write_str(root, ".git/config",
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
		  "\tremote = zeta\n");
	write_str(root, "hello.txt", "hello\n");
	write_str(root, "run.sh", "#!/bin/sh\necho hi\n");
	p = pjoin(root, "run.sh");
	assert_int_equal(chmod(p, 0755), 0);
	free(p);
	write_str(root, "sub/dir/file2", "x");
	p = pjoin(root, "link");
	assert_int_equal(symlink("hello.txt", p), 0);
	free(p);
	write_index(root, handmade_files, 4, 2, 0, 0);
	return root;
}

static void test_git_handmade_basic(void **state)
{
	char *root = make_handmade_repo(), *sub = pjoin(root, "sub/dir");
	struct gitres g;

	(void)state;
	gi(root, &g);
	assert_string_equal(g.commit, HEX_A);
	/* neither cmf_origin nor origin: alphabetically first remote */
	assert_string_equal(g.repo, "https://example.com/al pha.git");
	assert_int_equal(g.dirty, 0);
	gi_free(&g);

	/* found from a subdirectory too */
	gi(sub, &g);
	assert_string_equal(g.commit, HEX_A);
	assert_int_equal(g.dirty, 0);
	gi_free(&g);

	append_str(root, ".git/config",
		   "[remote \"origin\"]\n\turl = git@host:o.git\n");
	g.repo = git_repo_of(root);
	assert_string_equal(g.repo, "git@host:o.git");
	free(g.repo);

	append_str(root, ".git/config",
		   "[remote \"cmf_origin\"] url = /srv/cmf.git\n"
		   "\turl = /second/url/ignored\n");
	g.repo = git_repo_of(sub);
	assert_string_equal(g.repo, "/srv/cmf.git");
	free(g.repo);

	free(sub);
	rm_rf(root);
	free(root);
}

static void test_git_handmade_config_dialect(void **state)
{
	char *root = make_handmade_repo();
	char *r;

	(void)state;
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
	r = git_repo_of(root);
	/* [remote.origin] names remote "origin" too and comes first */
	assert_string_equal(r, "ignored-old-syntax-is-lowercase-name");
	free(r);

	write_str(root, ".git/config",
		  "[remote \"origin\"]\n"
		  "\tUrl = \"a\\\"b\\\\c\"\\\n"
		  "d  e\\tf ; trailing\n");
	r = git_repo_of(root);
	assert_string_equal(r, "a\"b\\cd  e\tf");
	free(r);

	/* malformed config: no remote, but commit still resolved */
	write_str(root, ".git/config",
		  "[remote \"origin\"]\n\turl = \"unterminated\n");
	r = git_repo_of(root);
	assert_string_equal(r, "");
	free(r);
	r = git_commit_of(root);
	assert_string_equal(r, HEX_A);
	free(r);

	/* no config at all */
	r = pjoin(root, ".git/config");
	assert_int_equal(unlink(r), 0);
	free(r);
	r = git_repo_of(root);
	assert_string_equal(r, "");
	free(r);

	rm_rf(root);
	free(root);
}

static void test_git_handmade_dirty(void **state)
{
	char *root = make_handmade_repo(), *p;

	(void)state;
	assert_int_equal(git_dirty_of(root), 0);

	/* same size, different content */
	tick();
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

	/* untracked files do not count */
	write_str(root, "untracked.txt", "junk");
	write_str(root, "sub/new/deep.txt", "junk");
	assert_int_equal(git_dirty_of(root), 0);

	/* deleted tracked file */
	p = pjoin(root, "sub/dir/file2");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(git_dirty_of(root), 1);
	write_str(root, "sub/dir/file2", "x");
	assert_int_equal(git_dirty_of(root), 0);
	free(p);

	/* executable bit */
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

	rm_rf(root);
	free(root);
}

static void test_git_handmade_index_variants(void **state)
{
	char *root = make_handmade_repo();
	static const unsigned char bad[] = "DIRX\0\0\0\2\0\0\0\0"
					   "01234567890123456789";
	static const unsigned char v4[] = "DIRC\0\0\0\4\0\0\0\0"
					  "01234567890123456789";
	unsigned char huge[32] = "DIRC\0\0\0\2";

	(void)state;
	/* size recorded as 0 means "unknown": decided by content */
	write_index(root, handmade_files, 4, 2, 0, IDX_ZERO_SIZE);
	assert_int_equal(git_dirty_of(root), 0);
	tick();
	write_str(root, "hello.txt", "HELLO\n");
	assert_int_equal(git_dirty_of(root), 1);
	write_str(root, "hello.txt", "hello\n");

	/* version 3 with skip-worktree entries: they are not looked at */
	write_index(root, handmade_files, 4, 3, 0, IDX_SKIP_WT);
	write_str(root, "hello.txt", "changed!");
	assert_int_equal(git_dirty_of(root), 0);
	write_str(root, "hello.txt", "hello\n");
	write_index(root, handmade_files, 4, 3, 0, 0);
	assert_int_equal(git_dirty_of(root), 0);

	/* extended flags are invalid in version 2 */
	write_index(root, handmade_files, 4, 2, 0, IDX_SKIP_WT);
	assert_int_equal(git_dirty_of(root), -1);

	/* version 4 is not parsed */
	write_bytes(root, ".git/index", v4, sizeof(v4) - 1);
	assert_int_equal(git_dirty_of(root), -1);
	/* garbage */
	write_bytes(root, ".git/index", bad, sizeof(bad) - 1);
	assert_int_equal(git_dirty_of(root), -1);
	/* too many entries */
	put_be32(huge + 8, 100001);
	write_bytes(root, ".git/index", huge, sizeof(huge));
	assert_int_equal(git_dirty_of(root), -1);
	/* count larger than the entries present */
	write_index(root, handmade_files, 4, 2, 5, 0);
	assert_int_equal(git_dirty_of(root), -1);
	/* truncated */
	write_index(root, handmade_files, 4, 2, 0, 0);
	{
		char *p = pjoin(root, ".git/index");

		assert_int_equal(truncate(p, 100), 0);
		free(p);
	}
	assert_int_equal(git_dirty_of(root), -1);

	/* no index with a resolvable HEAD: unknown */
	{
		char *p = pjoin(root, ".git/index");

		assert_int_equal(unlink(p), 0);
		free(p);
	}
	assert_int_equal(git_dirty_of(root), -1);
	/* no index and unborn HEAD: clean */
	write_str(root, ".git/HEAD", "ref: refs/heads/unborn\n");
	assert_int_equal(git_dirty_of(root), 0);

	rm_rf(root);
	free(root);
}

static void test_git_handmade_refs(void **state)
{
	char *root = make_handmade_repo(), *c, *p;

	(void)state;
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
	c = git_commit_of(root);
	assert_string_equal(c, HEX_A);
	free(c);

	/* loose ref wins over packed-refs */
	write_str(root, ".git/refs/heads/main", HEX_B "\n");
	c = git_commit_of(root);
	assert_string_equal(c, HEX_B);
	free(c);

	/* unborn branch */
	write_str(root, ".git/HEAD", "ref: refs/heads/nothere\n");
	c = git_commit_of(root);
	assert_string_equal(c, "");
	free(c);

	/* a branch name that is also a directory of loose refs */
	write_str(root, ".git/refs/heads/feat/x", HEX_B "\n");
	write_str(root, ".git/HEAD", "ref: refs/heads/feat\n");
	c = git_commit_of(root);
	assert_string_equal(c, "");
	free(c);

	/* symbolic ref chain */
	write_str(root, ".git/refs/heads/alias", "ref: refs/heads/feat/x\n");
	write_str(root, ".git/HEAD", "ref: refs/heads/alias\n");
	c = git_commit_of(root);
	assert_string_equal(c, HEX_B);
	free(c);

	/* detached HEAD, upper case normalised */
	write_str(root, ".git/HEAD",
		  "0123456789ABCDEF0123456789ABCDEF01234567\n");
	c = git_commit_of(root);
	assert_string_equal(c, HEX_A);
	free(c);

	/* refs escaping the git dir are refused */
	write_str(root, ".git/HEAD", "ref: refs/../../hello.txt\n");
	c = git_commit_of(root);
	assert_string_equal(c, "");
	free(c);

	/* garbage HEAD */
	write_str(root, ".git/HEAD", "nonsense");
	c = git_commit_of(root);
	assert_string_equal(c, "");
	free(c);

	/* SHA-256 repository: commit unknown */
	write_str(root, ".git/HEAD", "ref: refs/heads/main\n");
	append_str(root, ".git/config",
		   "[extensions]\n\tobjectFormat = sha256\n");
	c = git_commit_of(root);
	assert_string_equal(c, "");
	free(c);
	assert_int_equal(git_dirty_of(root), -1);

	rm_rf(root);
	free(root);
}

/* A linked worktree / submodule: .git is a file "gitdir: ..." */
static void test_git_handmade_gitfile(void **state)
{
	char *root = make_handmade_repo(), *wt = pjoin(root, "wt");
	struct gitres g;

	(void)state;
	write_str(root, ".git/refs/heads/feature", HEX_B "\n");
	write_str(root, ".git/worktrees/wt/HEAD", "ref: refs/heads/feature\n");
	write_str(root, ".git/worktrees/wt/commondir", "../..\n");
	write_str(root, ".git/worktrees/wt/gitdir", "/nowhere/.git\n");
	write_str(root, "wt/.git", "gitdir: ../.git/worktrees/wt\n");
	write_str(root, "wt/hello.txt", "hello\n");
	{
		static const char *const f[] = { "hello.txt" };
		char *gd = pjoin(root, "wt/.git");

		/* write_index() writes ROOT/.git/index: point at wt gitdir */
		assert_int_equal(unlink(gd), 0);
		assert_int_equal(symlink("../.git/worktrees/wt", gd), 0);
		write_index(wt, f, 1, 2, 0, 0);
		assert_int_equal(unlink(gd), 0);
		free(gd);
	}
	write_str(root, "wt/.git", "gitdir: ../.git/worktrees/wt\n");

	gi(wt, &g);
	assert_string_equal(g.commit, HEX_B);
	assert_string_equal(g.repo, "https://example.com/al pha.git");
	assert_int_equal(g.dirty, 0);
	gi_free(&g);
	write_str(root, "wt/hello.txt", "HELLO\n");
	assert_int_equal(git_dirty_of(wt), 1);

	/* absolute gitdir with trailing blanks */
	{
		char line[PATH_MAX + 32];

		snprintf(line, sizeof(line), "gitdir:\t%s/.git/worktrees/wt \n",
			 root);
		write_str(root, "wt/.git", line);
		g.commit = git_commit_of(wt);
		assert_string_equal(g.commit, HEX_B);
		free(g.commit);
	}

	/* a broken .git file ends the search, as with git */
	write_str(root, "wt/.git", "gitdir: /does/not/exist\n");
	gi(wt, &g);
	assert_string_equal(g.commit, "");
	assert_string_equal(g.repo, "");
	assert_int_equal(g.dirty, -1);
	gi_free(&g);
	write_str(root, "wt/.git", "garbage\n");
	assert_int_equal(git_dirty_of(wt), -1);
	/* a .git directory without HEAD is passed over */
	{
		char *p = pjoin(root, "wt/.git");

		assert_int_equal(unlink(p), 0);
		assert_int_equal(mkdir(p, 0755), 0);
		free(p);
	}
	g.commit = git_commit_of(wt);
	assert_string_equal(g.commit, HEX_A);	/* the outer repository */
	free(g.commit);

	free(wt);
	rm_rf(root);
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

	assert_int_equal(provenance_git_info(NULL, &g.repo, &g.commit,
					     &g.dirty), -EINVAL);
	free(d);
	rm_rf(t);
	free(t);
}

/* ------------------------------------------------------------------ */
/* git, real repositories cross-checked with the git binary             */
/* ------------------------------------------------------------------ */

/* Run a shell command in @dir with a neutral git environment. */
static int sh(const char *dir, const char *cmd)
{
	char buf[4096];
	int n, st;

	n = snprintf(buf, sizeof(buf),
		     "cd '%s' && HOME='%s' GIT_CONFIG_NOSYSTEM=1 "
		     "GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com "
		     "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com "
		     "sh -c '%s' >/dev/null 2>&1",
		     dir, dir, cmd);
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

static int git_setup(void **state)
{
	char *t;

	if (system("git --version >/dev/null 2>&1") != 0) {
		*state = NULL;
		return 0;
	}
	t = make_tmpdir();
	*state = t;
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

static void test_git_real(void **state)
{
	char *t = *state, *r, *w, *c, *h;
	struct gitres g;

	if (!t)
		skip();
	r = pjoin(t, "repo");
	w = pjoin(t, "wt2");
	assert_int_equal(mkdir(r, 0755), 0);
	assert_int_equal(sh(r,
		"git init -q -b main . && printf \"hello\\n\" > a.txt && "
		"mkdir -p d/e && printf x > d/e/b.txt && ln -s a.txt l && "
		"printf \"#!/bin/sh\\n\" > run.sh && chmod +x run.sh && "
		"git add -A && git commit -q -m init && "
		"git remote add upstream https://example.com/up.git && "
		"git remote add origin https://example.com/r.git"), 0);

	h = git_head(r);
	assert_int_equal(strlen(h), 40);
	gi(r, &g);
	assert_string_equal(g.commit, h);
	assert_string_equal(g.repo, "https://example.com/r.git");
	assert_int_equal(g.dirty, 0);
	gi_free(&g);
	free(h);

	/* modify a tracked file (same size, right after the commit) */
	assert_int_equal(sh(r, "printf \"HELLO\\n\" > a.txt"), 0);
	assert_int_equal(sh(r, "git diff --quiet"), 1);
	assert_int_equal(git_dirty_of(r), 1);
	/* restore the content: mtime changed, content equal -> clean */
	tick();
	assert_int_equal(sh(r, "printf \"hello\\n\" > a.txt"), 0);
	assert_int_equal(git_dirty_of(r), 0);
	assert_int_equal(sh(r, "git diff --quiet"), 0);
	/* touch only, and untracked files */
	assert_int_equal(sh(r, "touch -d \"2001-01-01\" d/e/b.txt && "
			       "echo new > untracked.txt"), 0);
	assert_int_equal(git_dirty_of(r), 0);
	/* git refreshes its index; still clean for both */
	assert_int_equal(sh(r, "git status --porcelain >/dev/null"), 0);
	assert_int_equal(git_dirty_of(r), 0);
	/* deleted file */
	assert_int_equal(sh(r, "rm d/e/b.txt"), 0);
	assert_int_equal(git_dirty_of(r), 1);
	assert_int_equal(sh(r, "git checkout -q -- d/e/b.txt"), 0);
	assert_int_equal(git_dirty_of(r), 0);
	/* staged-only change is not detected (documented limitation) */
	assert_int_equal(sh(r, "echo more >> a.txt && git add a.txt"), 0);
	assert_int_equal(git_dirty_of(r), 0);
	/* unmerged paths are dirty; not produced here, skip */

	/* a second commit, then packed refs */
	assert_int_equal(sh(r, "git commit -q -m two && git pack-refs --all"),
			 0);
	h = git_head(r);
	c = pjoin(r, ".git/refs/heads/main");
	assert_int_equal(access(c, F_OK), -1);
	free(c);
	c = git_commit_of(r);
	assert_string_equal(c, h);
	free(c);

	/* cmf_origin wins */
	assert_int_equal(sh(r, "git remote add cmf_origin /srv/cmf.git"), 0);
	c = git_repo_of(r);
	assert_string_equal(c, "/srv/cmf.git");
	free(c);

	/* detached HEAD */
	assert_int_equal(sh(r, "git checkout -q --detach"), 0);
	c = git_commit_of(r);
	assert_string_equal(c, h);
	free(c);
	assert_int_equal(sh(r, "git checkout -q main"), 0);

	/* index version 4 is unknown; back to 2 is clean */
	assert_int_equal(sh(r, "git update-index --index-version 4"), 0);
	assert_int_equal(git_dirty_of(r), -1);
	assert_int_equal(sh(r, "git update-index --index-version 2"), 0);
	assert_int_equal(git_dirty_of(r), 0);
	assert_int_equal(sh(r, "git update-index --index-version 3"), 0);
	assert_int_equal(git_dirty_of(r), 0);

	/* linked worktree on another branch */
	assert_int_equal(sh(r, "git worktree add -q ../wt2 -b other && "
			       "cd ../wt2 && printf y > only-here.txt && "
			       "git add only-here.txt && git commit -q -m wt"),
			 0);
	free(h);
	h = git_head(w);
	gi(w, &g);
	assert_string_equal(g.commit, h);
	assert_string_equal(g.repo, "/srv/cmf.git");
	assert_int_equal(g.dirty, 0);
	gi_free(&g);
	assert_int_equal(sh(w, "printf z > only-here.txt"), 0);
	assert_int_equal(git_dirty_of(w), 1);
	/* the main worktree is unaffected */
	assert_int_equal(git_dirty_of(r), 0);
	free(h);

	/* sparse checkout: skip-worktree entries are ignored */
	assert_int_equal(sh(r, "git sparse-checkout set --no-cone /a.txt"),
			 0);
	c = pjoin(r, "d/e/b.txt");
	assert_int_equal(access(c, F_OK), -1);
	free(c);
	assert_int_equal(git_dirty_of(r), 0);

	free(r);
	free(w);
}

/* A repository with a submodule: .git file with relative gitdir. */
static void test_git_real_submodule(void **state)
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

int main(void)
{
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
		cmocka_unit_test(test_git_handmade_basic),
		cmocka_unit_test(test_git_handmade_config_dialect),
		cmocka_unit_test(test_git_handmade_dirty),
		cmocka_unit_test(test_git_handmade_index_variants),
		cmocka_unit_test(test_git_handmade_refs),
		cmocka_unit_test(test_git_handmade_gitfile),
		cmocka_unit_test(test_git_no_repo),
		cmocka_unit_test_setup_teardown(test_git_real, git_setup,
						git_teardown),
		cmocka_unit_test_setup_teardown(test_git_real_submodule,
						git_setup, git_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
