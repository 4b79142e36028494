/* SPDX-License-Identifier: MIT */
/*
 * provenance - record where an "execution" directory came from.
 *
 * Reads the command line, executable, working directory, user and host of
 * a process from /proc, walks up past plain file utilities to the process
 * that really asked for the directory, and has gitinfo read the git state
 * of the repository holding its working directory with the caller's
 * credentials.  No subprocess is run.  The contract of every exported
 * function is documented in provenance.h.
 */
#include "provenance.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "gitinfo.h"
#include "proc.h"
#include "pyrepr.h"
#include "safefile.h"
#include "sb.h"

/* Largest /proc/PID/cmdline we keep; longer ones are truncated. */
#define CMDLINE_MAX		(4u << 20)
/* Largest /proc/PID/status, comm. */
#define SMALL_FILE_MAX		(64u << 10)
/* Levels of parents walked past file utilities. */
#define WALK_MAX_LEVELS		4

/* strdup() returning 0 or -ENOMEM; @s NULL gives "". */
static int dup_str(const char *s, char **ret)
{
	char *d;

	d = strdup(s ? s : "");
	if (!d)
		return -ENOMEM;
	*ret = d;
	return 0;
}

/*
 * readlinkat() into a new NUL-terminated string.
 * Returns 0 or -errno.
 */
static int readlink_alloc(int dirfd, const char *name, char **ret)
{
	size_t sz = 256;
	char *buf = NULL;
	ssize_t n;
	int r;

	for (;;) {
		buf = malloc(sz);
		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
		n = readlinkat(dirfd, name, buf, sz);
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if ((size_t)n < sz) {
			buf[n] = '\0';
			break;
		}
		free(buf);
		buf = NULL;
		if (sz >= (1u << 20)) {
			r = -ENAMETOOLONG;
			goto out;
		}
		sz *= 2;
	}
	*ret = buf;
	buf = NULL;
	r = 0;
out:
	free(buf);
	return r;
}

static const char *const file_utilities[] = {
	"mkdir", "install", "busybox", "cp", "mv", "rsync", "tar",
	"ln", "touch", "env", "xargs", "timeout", "nice", "sudo",
};

/* Open /proc/@pid.  Returns the fd or -errno (-ESRCH if gone). */
static int proc_open(int pid)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return fd;
}

/* Is the process at @fd a file utility?  Returns 1, 0 or -ENOMEM. */
static int is_file_utility(int fd)
{
	char *name = NULL, *base;
	size_t i, n;
	int r;

	r = readlink_alloc(fd, "exe", &name);
	if (r == -ENOMEM)
		goto out;
	if (r == 0) {
		n = strlen(name);
		if (n > 10 && !strcmp(name + n - 10, " (deleted)"))
			name[n - 10] = '\0';
	} else {
		r = file_read_at(fd, "comm", SMALL_FILE_MAX, true, &name,
				 NULL, NULL);
		if (r < 0) {
			if (r != -ENOMEM)
				r = 0;
			goto out;
		}
		name[strcspn(name, "\n")] = '\0';
	}
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	r = 0;
	for (i = 0; i < sizeof(file_utilities) / sizeof(file_utilities[0]);
	     i++) {
		if (!strcmp(base, file_utilities[i])) {
			r = 1;
			break;
		}
	}
out:
	free(name);
	return r;
}

/* Parent pid of the process at @fd, or -1 if unknown. */
static int read_ppid(int fd)
{
	struct proc_stat st;

	if (proc_stat_read(fd, "stat", &st) < 0 || st.ppid < 0)
		return -1;
	return (int)st.ppid;
}

/* What provenance takes from /proc/PID/status. */
struct proc_status {
	int tgid;		/* 0: not shown */
	bool have_uid;
	uid_t uid;		/* real uid */
	bool have_cred;		/* fs uid, fs gid and groups below */
	struct gitinfo_cred cred;
	gid_t *groups;		/* owned; cred.groups points here */
};

static void proc_status_release(struct proc_status *ps)
{
	free(ps->groups);
	ps->groups = NULL;
}

/*
 * Read up to @max decimal ids after @p (blank separated) into @ids.
 * Returns how many were read.
 */
static size_t parse_ids(const char *p, unsigned long *ids, size_t max)
{
	size_t n = 0;
	char *end;

	while (n < max) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		errno = 0;
		ids[n] = strtoul(p, &end, 10);
		if (errno || ids[n] >= (uid_t)-1)
			break;
		n++;
		p = end;
	}
	return n;
}

/*
 * Read the process at @fd's status file into @ps; what it does not show
 * is left unset.  Returns 0 or -ENOMEM.
 */
static int read_status(int fd, struct proc_status *ps)
{
	unsigned long v[4] = { 0 }, *g = NULL;
	char *buf = NULL, *line, *next;
	size_t n, i;
	bool have_gid = false, have_groups = false;
	int r;

	memset(ps, 0, sizeof(*ps));
	r = file_read_at(fd, "status", SMALL_FILE_MAX, true, &buf, NULL,
			 NULL);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	for (line = buf; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "Tgid:", 5)) {
			if (parse_ids(line + 5, v, 1) == 1 && v[0] > 0 &&
			    v[0] <= INT_MAX)
				ps->tgid = (int)v[0];
		} else if (!strncmp(line, "Uid:", 4)) {
			/* real, effective, saved, filesystem */
			if (parse_ids(line + 4, v, 4) == 4) {
				ps->have_uid = true;
				ps->uid = (uid_t)v[0];
				ps->cred.uid = (uid_t)v[3];
			}
		} else if (!strncmp(line, "Gid:", 4)) {
			have_gid = parse_ids(line + 4, v, 4) == 4;
			ps->cred.gid = (gid_t)v[3];
		} else if (!strncmp(line, "Groups:", 7)) {
			/* at most NGROUPS_MAX ids, each with a blank */
			n = strlen(line) / 2 + 1;
			g = calloc(n, sizeof(*g));
			ps->groups = calloc(n, sizeof(gid_t));
			if (!g || !ps->groups) {
				r = -ENOMEM;
				goto out;
			}
			n = parse_ids(line + 7, g, n);
			for (i = 0; i < n; i++)
				ps->groups[i] = (gid_t)g[i];
			ps->cred.groups = ps->groups;
			ps->cred.ngroups = n;
			have_groups = true;
		}
	}
	ps->have_cred = ps->have_uid && have_gid && have_groups;
	r = 0;
out:
	if (r < 0)
		proc_status_release(ps);
	free(g);
	free(buf);
	return r;
}

/* User name of @uid, else its decimal form.  Returns 0 or -ENOMEM. */
static int user_name(uid_t uid, char **ret)
{
	struct passwd pw, *res = NULL;
	long max = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t sz = max > 0 && max < (1L << 20) ? (size_t)max : 1024;
	char *buf = NULL, num[32];
	int e = 0, r;

	for (;;) {
		buf = malloc(sz);
		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
		e = getpwuid_r(uid, &pw, buf, sz, &res);
		if (e != ERANGE || sz >= (1u << 20))
			break;
		free(buf);
		buf = NULL;
		sz *= 2;
	}
	if (e == ENOMEM) {
		r = -ENOMEM;
		goto out;
	}
	if (e == 0 && res && res->pw_name && res->pw_name[0]) {
		r = dup_str(res->pw_name, ret);
		goto out;
	}
	snprintf(num, sizeof(num), "%lu", (unsigned long)uid);
	r = dup_str(num, ret);
out:
	free(buf);
	return r;
}

/* gethostname() into a new string, "" on failure.  0 or -ENOMEM. */
static int host_name(char **ret)
{
	char buf[HOST_NAME_MAX + 1];

	if (gethostname(buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	buf[HOST_NAME_MAX] = '\0';
	return dup_str(buf, ret);
}

/* readlinkat() of @name into *@ret, "" on failure.  0 or -ENOMEM. */
static int read_link_or_empty(int fd, const char *name, char **ret)
{
	int r;

	r = readlink_alloc(fd, name, ret);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return dup_str("", ret);
	return 0;
}

void provenance_free(struct provenance *p)
{
	if (!p)
		return;
	free(p->cmdline);
	free(p->exe);
	free(p->cwd);
	free(p->user);
	free(p->host);
	free(p->git_repo);
	free(p->git_commit);
	free(p);
}

/* Is @path @dir or below it?  A NULL or empty @dir contains nothing. */
static bool path_within(const char *path, const char *dir)
{
	size_t n = dir ? strlen(dir) : 0;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (!n)
		return false;
	if (n == 1 && dir[0] == '/')
		return true;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * $PWD of the process behind /proc fd @pfd, if it is an absolute path
 * outside @avoid (owned), else NULL: where a shell started the process,
 * for a process that chdir()ed since (`mkdir -p` goes into what it makes).
 */
static char *env_pwd(int pfd, const char *avoid)
{
	char *buf = NULL, *found = NULL;
	size_t len = 0, off;

	if (file_read_at(pfd, "environ", CMDLINE_MAX, true, &buf, &len,
			 NULL) < 0)
		return NULL;
	for (off = 0; off < len; off += strnlen(buf + off, len - off) + 1)
		if (!strncmp(buf + off, "PWD=/", 5)) {
			if (!path_within(buf + off + 4, avoid) &&
			    !strstr(buf + off + 4, "/../"))
				found = strdup(buf + off + 4);
			break;
		}
	free(buf);
	return found;
}

/*
 * The working directory the repository is read from: the caller's (@cwd,
 * taken over).  While that lies within @avoid (the mount itself, whose
 * paths the daemon must never look up: the call in flight holds their
 * locks; `mkdir -p` chdir()s into what it creates): the caller's $PWD if
 * it is outside, else the nearest parent's cwd outside, from @fd (the
 * walked-up process) on.  "" when there is none.
 */
static int repo_cwd(char *cwd, int callerfd, int fd, const char *avoid,
		    char **ret)
{
	int level, pfd = -1, ppid, r = 0;

	if (path_within(cwd, avoid)) {
		char *pwd = env_pwd(callerfd, avoid);

		if (pwd) {
			free(cwd);
			*ret = pwd;
			return 0;
		}
	}

	for (level = 0; path_within(cwd, avoid) && level <= WALK_MAX_LEVELS;
	     level++) {
		free(cwd);
		cwd = NULL;
		if (level > 0) {
			ppid = read_ppid(pfd >= 0 ? pfd : fd);
			if (pfd >= 0)
				close(pfd);
			pfd = ppid > 1 ? proc_open(ppid) : -1;
			if (pfd < 0)
				break;
		}
		r = read_link_or_empty(pfd >= 0 ? pfd : fd, "cwd", &cwd);
		if (r < 0)
			break;
	}
	if (pfd >= 0)
		close(pfd);
	if (r == 0 && cwd && path_within(cwd, avoid)) {
		free(cwd);
		cwd = NULL;
	}
	if (r == 0 && !cwd)
		r = dup_str("", &cwd);
	if (r < 0) {
		free(cwd);
		return r;
	}
	*ret = cwd;
	return 0;
}

int provenance_read(int pid, const char *avoid, struct provenance **ret_prov)
{
	struct proc_status caller = { 0 }, ps = { 0 };
	struct provenance *p = NULL;
	struct stat st;
	struct sb argv;
	char *cmd = NULL, *caller_cwd = NULL;
	size_t cmdlen = 0;
	int fd = -1, callerfd = -1, pfd, ppid, i, r;

	if (pid <= 0 || !ret_prov)
		return -EINVAL;
	fd = proc_open(pid);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	/* the repository is where the call was made, whoever is recorded */
	r = read_link_or_empty(fd, "cwd", &caller_cwd);
	if (r < 0)
		goto out;
	callerfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);	/* kept past the walk */
	if (callerfd < 0) {
		r = -errno;
		goto out;
	}
	/* ... and read with the credentials of the caller */
	r = read_status(callerfd, &caller);
	if (r < 0)
		goto out;
	for (i = 0; i < WALK_MAX_LEVELS; i++) {
		r = is_file_utility(fd);
		if (r < 0)
			goto out;
		if (!r)
			break;
		ppid = read_ppid(fd);
		if (ppid <= 1)
			break;
		pfd = proc_open(ppid);
		if (pfd < 0)
			break;
		close(fd);
		fd = pfd;
		pid = ppid;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	p->pid = pid;
	p->git_dirty = -1;
	r = read_status(fd, &ps);
	if (r < 0)
		goto out;
	if (ps.tgid)
		p->pid = ps.tgid;
	r = file_read_at(fd, "cmdline", CMDLINE_MAX, true, &cmd, &cmdlen,
			 NULL);
	if (r == -ENOMEM)
		goto out;
	if (r == -ENOENT || r == -ESRCH) {
		r = -ESRCH;
		goto out;
	}
	if (r < 0)
		cmdlen = 0;
	sb_init(&argv, 0);
	pyrepr_argv(&argv, cmd, cmdlen);
	p->cmdline = sb_detach(&argv, NULL);
	if (!p->cmdline) {
		r = -ENOMEM;
		goto out;
	}
	r = read_link_or_empty(fd, "exe", &p->exe);
	if (r < 0)
		goto out;
	r = repo_cwd(caller_cwd, callerfd, fd, avoid, &p->cwd);
	caller_cwd = NULL;
	if (r < 0)
		goto out;
	if (!ps.have_uid && fstatat(fd, "", &st, AT_EMPTY_PATH) == 0) {
		ps.uid = st.st_uid;
		ps.have_uid = true;
	}
	if (ps.have_uid)
		r = user_name(ps.uid, &p->user);
	else
		r = dup_str("", &p->user);
	if (r < 0)
		goto out;
	r = host_name(&p->host);
	if (r < 0)
		goto out;
	if (p->cwd[0] && caller.have_cred) {
		r = gitinfo_read(p->cwd, &caller.cred, &p->git_repo,
				 &p->git_commit, &p->git_dirty);
	} else {
		r = dup_str("", &p->git_repo);
		if (!r)
			r = dup_str("", &p->git_commit);
	}
	if (r < 0)
		goto out;
	*ret_prov = p;
	p = NULL;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(cmd);
	free(caller_cwd);
	if (callerfd >= 0)
		close(callerfd);
	proc_status_release(&caller);
	proc_status_release(&ps);
	provenance_free(p);
	return r;
}
