/* SPDX-License-Identifier: MIT */
/*
 * gitinfo - git state of a directory's repository through libgit2; the
 * contract is in gitinfo.h.
 *
 * Setup (gitinfo_setup(), once per process) and its reasons:
 *  - GIT_OPT_SET_OWNER_VALIDATION on: libgit2 then refuses a repository
 *    whose working directory, .git file or git directory is not owned by
 *    the thread's effective uid, git's safe.directory rule.  That uid is
 *    the caller's while the lookup runs (cred_enter()), so a user cannot
 *    get the daemon to report on a repository someone else owns.
 *  - GIT_OPT_SET_SEARCH_PATH to "" for the system, XDG, global and
 *    ProgramData levels: the daemon's own (root's) ~/.gitconfig,
 *    /etc/gitconfig and their attributes and ignore files are never read,
 *    and no safe.directory entry from them can switch the owner check
 *    off.  Only the repository's own config (and what it includes) counts.
 *  - No remote is ever connected (nothing in git_remote.h is used), no
 *    hook or filter program is run (libgit2 1.5 runs none on status; the
 *    filter drivers of .gitattributes are not registered), the index is
 *    never written (GIT_STATUS_OPT_UPDATE_INDEX is not set).
 *  - GIT_OPT_SET_EXTENSIONS adds partialclone, worktreeConfig and
 *    preciousObjects to what libgit2 1.5 accepts (only noop) in a
 *    repository of format version 1, which `git clone --filter` and
 *    `git worktree`/`git sparse-checkout` make: none changes how HEAD,
 *    the config, the index or present objects read (a missing object, or
 *    a setting only in config.worktree, makes that datum unknown or
 *    missed; nothing is ever fetched).  objectFormat (SHA-256) and
 *    refStorage (reftable) change them and stay refused.
 *  - git_repository_open_ext() is not given GIT_REPOSITORY_OPEN_FROM_ENV:
 *    the daemon's GIT_DIR, GIT_CEILING_DIRECTORIES, ... are ignored.
 *  - libgit2 opens files without O_NONBLOCK: a FIFO in place of a ref, an
 *    index or an included config file would block the thread in open()
 *    for ever (git blocks too), and with it a FUSE worker.  A watchdog
 *    timer (watchdog_start()) sends the looking-up thread GITINFO_SIGNAL,
 *    whose handler does nothing and is installed without SA_RESTART, after
 *    GITINFO_WAIT_MS and then every GITINFO_RETRY_MS until the lookup
 *    ends: such a call fails with EINTR and the datum is unknown.  Reading
 *    a regular file on a local disk is not interrupted by a signal.
 */
#include "gitinfo.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

/* glibc 2.36 has the field but not yet its POSIX-style name */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* The watchdog's signal: a real-time one nothing else in cmffs uses. */
#define GITINFO_SIGNAL		(SIGRTMAX - 2)
/* A lookup blocked this long in an interruptible call is interrupted, */
#define GITINFO_WAIT_MS		3000
/* and again this often until it ends. */
#define GITINFO_RETRY_MS	100

static pthread_once_t gitinfo_once = PTHREAD_ONCE_INIT;
static int gitinfo_setup_err;	/* 0 once the setup succeeded */
static bool gitinfo_watchdog;	/* GITINFO_SIGNAL's handler is ours */

static void gitinfo_wake(int sig)
{
	(void)sig;
}

static void gitinfo_setup(void)
{
	static const int levels[] = {
		GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
		GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA,
	};
	static const char *extensions[] = {
		"partialclone", "worktreeconfig", "preciousobjects",
	};
	struct sigaction sa, old;
	size_t i;

	/* unless the program has a use of its own for the signal */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gitinfo_wake;
	sigemptyset(&sa.sa_mask);
	if (sigaction(GITINFO_SIGNAL, NULL, &old) == 0 &&
	    old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO))
		gitinfo_watchdog = sigaction(GITINFO_SIGNAL, &sa, NULL) == 0;
	if (git_libgit2_init() < 0) {
		gitinfo_setup_err = -EIO;
		return;
	}
	if (git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 1) < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_EXTENSIONS, extensions,
			     sizeof(extensions) / sizeof(extensions[0])) < 0)
		gitinfo_setup_err = -EIO;
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "") < 0)
			gitinfo_setup_err = -EIO;
}

/* ------------------------------------------------------------------ */
/* libgit2 1.5's regex leak                                             */
/* ------------------------------------------------------------------ */

/*
 * libgit2 1.5.1 (Debian 12's) git_regexp_match() returns without freeing
 * its PCRE2 match data when the string does not match (fixed in 1.6).
 * git_repository_open_ext() matches every config entry of a repository
 * whose core.repositoryformatversion is 1 (sparse checkouts, partial
 * clones) against "^extensions\\.": about 20 KiB lost per entry and
 * lookup, for as long as the daemon runs.  So the two functions below
 * take the place of PCRE2's (the program's definition wins over the
 * library's for libgit2's calls; libgit2 is cmffs's only user of PCRE2):
 * while a lookup runs in a thread, the match data created in it are
 * tracked, and what libgit2 did not free is freed when the lookup ends
 * (md_track_end()).  Outside a lookup they only pass the call on.
 */
void *pcre2_match_data_create_8(uint32_t ovecsize, void *gcontext);
void pcre2_match_data_free_8(void *md);

static void *(*real_md_create)(uint32_t, void *);
static void (*real_md_free)(void *);
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

/* The match data created and not yet freed in this thread's lookup. */
static _Thread_local struct {
	bool on;
	void **p;
	size_t n;
	size_t alloc;
} md_track;

static void md_resolve(void)
{
	*(void **)&real_md_create = dlsym(RTLD_NEXT,
					  "pcre2_match_data_create_8");
	*(void **)&real_md_free = dlsym(RTLD_NEXT, "pcre2_match_data_free_8");
}

void *pcre2_match_data_create_8(uint32_t ovecsize, void *gcontext)
{
	size_t alloc;
	void **p, *md;

	pthread_once(&md_once, md_resolve);
	if (!real_md_create)
		return NULL;
	md = real_md_create(ovecsize, gcontext);
	if (!md || !md_track.on)
		return md;
	if (md_track.n == md_track.alloc) {
		alloc = md_track.alloc ? md_track.alloc * 2 : 16;
		p = realloc(md_track.p, alloc * sizeof(*p));
		if (!p)
			return md;	/* untracked: at worst libgit2's leak */
		md_track.p = p;
		md_track.alloc = alloc;
	}
	md_track.p[md_track.n++] = md;
	return md;
}

void pcre2_match_data_free_8(void *md)
{
	size_t i;

	pthread_once(&md_once, md_resolve);
	for (i = md_track.n; md && md_track.on && i-- > 0;)
		if (md_track.p[i] == md) {
			md_track.p[i] = md_track.p[--md_track.n];
			break;
		}
	if (real_md_free)
		real_md_free(md);
}

static void md_track_begin(void)
{
	md_track.on = true;
}

/* Free what the lookup left behind, and stop tracking. */
static void md_track_end(void)
{
	while (md_track.n && real_md_free)
		real_md_free(md_track.p[--md_track.n]);
	free(md_track.p);
	md_track.p = NULL;
	md_track.n = 0;
	md_track.alloc = 0;
	md_track.on = false;
}

/* ------------------------------------------------------------------ */
/* The watchdog                                                         */
/* ------------------------------------------------------------------ */

struct watchdog {
	bool armed;
	timer_t timer;
	sigset_t oldmask;
};

static void watchdog_sigset(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, GITINFO_SIGNAL);
}

/* Arm a timer signalling this thread; without one the lookup just runs. */
static void watchdog_start(struct watchdog *w)
{
	struct itimerspec its = {
		.it_value = { GITINFO_WAIT_MS / 1000,
			      GITINFO_WAIT_MS % 1000 * 1000000L },
		.it_interval = { GITINFO_RETRY_MS / 1000,
				 GITINFO_RETRY_MS % 1000 * 1000000L },
	};
	struct sigevent sev;
	sigset_t set;

	w->armed = false;
	watchdog_sigset(&set);
	if (!gitinfo_watchdog ||
	    pthread_sigmask(SIG_UNBLOCK, &set, &w->oldmask) != 0)
		return;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = GITINFO_SIGNAL;
	sev.sigev_notify_thread_id = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &w->timer) < 0) {
		pthread_sigmask(SIG_SETMASK, &w->oldmask, NULL);
		return;
	}
	w->armed = true;
	timer_settime(w->timer, 0, &its, NULL);
}

/* Disarm, and drop a signal still pending for this thread. */
static void watchdog_stop(struct watchdog *w)
{
	const struct timespec now = { 0, 0 };
	sigset_t set;

	if (!w->armed)
		return;
	timer_delete(w->timer);
	watchdog_sigset(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (sigtimedwait(&set, NULL, &now) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &w->oldmask, NULL);
	w->armed = false;
}

/* ------------------------------------------------------------------ */
/* Running as the caller                                                */
/* ------------------------------------------------------------------ */

/* The daemon thread's credentials while it runs as someone else. */
struct saved_cred {
	int steps;		/* 1 groups, 2 and egid, 3 and euid switched */
	uid_t euid;
	gid_t egid;
	gid_t *groups;
	int ngroups;
	int dumpable;
};

/*
 * The raw system calls change the calling thread only; glibc's wrappers
 * would change every thread of the daemon (POSIX setxid semantics).
 */
static int thread_setgroups(size_t n, const gid_t *groups)
{
	return syscall(SYS_setgroups, n, groups) < 0 ? -errno : 0;
}

static int thread_setegid(gid_t gid)
{
	return syscall(SYS_setresgid, (gid_t)-1, gid, (gid_t)-1) < 0 ?
	       -errno : 0;
}

static int thread_seteuid(uid_t uid)
{
	return syscall(SYS_setresuid, (uid_t)-1, uid, (uid_t)-1) < 0 ?
	       -errno : 0;
}

/*
 * Undo the steps cred_enter() took, last first.  Each undoes a change we
 * had the privilege to make, with the saved uid still ours, so it cannot
 * fail; a thread that did not get its credentials back would go on
 * serving every user's requests as one of them, so then it aborts.
 */
static void cred_leave(struct saved_cred *sv)
{
	if ((sv->steps >= 3 && thread_seteuid(sv->euid) < 0) ||
	    (sv->steps >= 2 && thread_setegid(sv->egid) < 0) ||
	    (sv->steps >= 1 &&
	     thread_setgroups((size_t)sv->ngroups, sv->groups) < 0))
		abort();
	/* a change of euid made the process non-dumpable; undo that */
	if (sv->steps >= 2 && sv->dumpable >= 0)
		prctl(PR_SET_DUMPABLE, (unsigned long)sv->dumpable, 0, 0, 0);
	free(sv->groups);
	sv->groups = NULL;
	sv->steps = 0;
}

/*
 * Take on @as (NULL: stay as we are) in this thread.  A daemon that is not
 * root looks up as itself for its own uid, whatever the gid.
 * Returns 0, -EPERM if the daemon cannot become that user, -ENOMEM.
 */
static int cred_enter(const struct gitinfo_cred *as, struct saved_cred *sv)
{
	int n, r;

	memset(sv, 0, sizeof(*sv));
	sv->dumpable = -1;
	sv->euid = geteuid();
	sv->egid = getegid();
	if (!as || (as->uid == sv->euid &&
		    (as->gid == sv->egid || sv->euid != 0)))
		return 0;
	if (sv->euid != 0 || as->ngroups > INT_MAX)
		return -EPERM;
	n = getgroups(0, NULL);
	if (n < 0)
		return -errno;
	sv->groups = calloc((size_t)n + 1, sizeof(gid_t));
	if (!sv->groups)
		return -ENOMEM;
	n = getgroups(n, sv->groups);
	if (n < 0) {
		r = -errno;
		goto fail;
	}
	sv->ngroups = n;
	sv->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	/* groups and gid first: once the euid is not 0 we cannot */
	r = thread_setgroups(as->ngroups, as->groups);
	if (r < 0)
		goto fail;
	sv->steps = 1;
	r = thread_setegid(as->gid);
	if (r < 0)
		goto fail;
	sv->steps = 2;
	r = thread_seteuid(as->uid);
	if (r < 0)
		goto fail;
	sv->steps = 3;
	return 0;
fail:
	cred_leave(sv);
	return r;
}

/* ------------------------------------------------------------------ */
/* The remote                                                           */
/* ------------------------------------------------------------------ */

/* The first non-empty url of each remote, in config order. */
struct remote_urls {
	char **names;
	char **urls;
	size_t nr;
	size_t alloc;
};

static void remote_urls_release(struct remote_urls *ru)
{
	size_t i;

	for (i = 0; i < ru->nr; i++) {
		free(ru->names[i]);
		free(ru->urls[i]);
	}
	free(ru->names);
	free(ru->urls);
	memset(ru, 0, sizeof(*ru));
}

/* Record @url for remote @name unless it has one.  0 or -ENOMEM. */
static int remote_urls_add(struct remote_urls *ru, const char *name,
			   size_t namelen, const char *url)
{
	size_t i, alloc;
	char **n, **u;

	for (i = 0; i < ru->nr; i++)
		if (strlen(ru->names[i]) == namelen &&
		    !memcmp(ru->names[i], name, namelen))
			return 0;
	if (ru->nr == ru->alloc) {
		alloc = ru->alloc ? ru->alloc * 2 : 4;
		n = realloc(ru->names, alloc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ru->names = n;
		u = realloc(ru->urls, alloc * sizeof(*u));
		if (!u)
			return -ENOMEM;
		ru->urls = u;
		ru->alloc = alloc;
	}
	ru->names[ru->nr] = strndup(name, namelen);
	ru->urls[ru->nr] = strdup(url);
	if (!ru->names[ru->nr] || !ru->urls[ru->nr]) {
		free(ru->names[ru->nr]);
		free(ru->urls[ru->nr]);
		return -ENOMEM;
	}
	ru->nr++;
	return 0;
}

/*
 * Is config entry @e "@section.SUB.@key" with a non-empty value (libgit2
 * gives section and key in lower case, SUB as written)?  Sets *@ret_sub
 * and *@ret_len to SUB (borrowed from @e).
 */
static bool entry_is(const git_config_entry *e, const char *section,
		     const char *key, const char **ret_sub, size_t *ret_len)
{
	size_t n = strlen(e->name), ls = strlen(section), lk = strlen(key);

	if (n < ls + lk + 3 || strncmp(e->name, section, ls) ||
	    e->name[ls] != '.' || e->name[n - lk - 1] != '.' ||
	    strcmp(e->name + n - lk, key) || !e->value || !e->value[0])
		return false;
	*ret_sub = e->name + ls + 1;
	*ret_len = n - ls - lk - 2;
	return true;
}

/* cmf_origin, origin, else the smallest name; NULL if none. */
static const char *remote_urls_pick(const struct remote_urls *ru)
{
	static const char *const preferred[] = { "cmf_origin", "origin" };
	size_t i, k, best = SIZE_MAX;

	for (k = 0; k < sizeof(preferred) / sizeof(preferred[0]); k++)
		for (i = 0; i < ru->nr; i++)
			if (!strcmp(ru->names[i], preferred[k]))
				return ru->urls[i];
	for (i = 0; i < ru->nr; i++)
		if (best == SIZE_MAX || strcmp(ru->names[i], ru->names[best]) < 0)
			best = i;
	return best == SIZE_MAX ? NULL : ru->urls[best];
}

/*
 * @url with url.<base>.insteadOf of @cfg applied, as git does for
 * fetching and so shows in `git remote -v`: the longest insteadOf value
 * that is a prefix of @url (the first of equal length) is replaced by its
 * <base>.  pushInsteadOf is for pushing and not applied.  *@ret owned.
 * Returns 0 or -ENOMEM.  (Not git_remote_create_anonymous(), which does
 * the same: its config regex leaks in libgit2 1.5.)
 */
static int apply_insteadof(git_config *cfg, const char *url, char **ret)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	const char *sub;
	char *base = NULL;
	size_t best = 0, n, len;
	int r = 0;

	if (git_config_iterator_new(&it, cfg) == 0) {
		while (git_config_next(&e, it) == 0) {
			if (!entry_is(e, "url", "insteadof", &sub, &len))
				continue;
			n = strlen(e->value);
			if (n <= best || strncmp(url, e->value, n))
				continue;
			free(base);
			base = strndup(sub, len);
			if (!base) {
				r = -ENOMEM;
				goto out;
			}
			best = n;
		}
	}
	if (asprintf(ret, "%s%s", base ? base : "", url + best) < 0) {
		*ret = NULL;
		r = -ENOMEM;
	}
out:
	git_config_iterator_free(it);
	free(base);
	return r;
}

/*
 * The URL of the chosen remote of @repo into *@ret (owned; NULL if there
 * is none or it cannot be read).  Returns 0 or -ENOMEM.
 */
static int read_remote(git_repository *repo, char **ret)
{
	struct remote_urls ru = { 0 };
	git_config_iterator *it = NULL;
	git_config_entry *e;
	git_config *cfg = NULL;
	const char *url, *sub;
	size_t len;
	int r = 0;

	*ret = NULL;
	/* every entry in file order (not git_config_foreach_match(): its
	 * regex leaks in libgit2 1.5) */
	if (git_repository_config_snapshot(&cfg, repo) < 0 ||
	    git_config_iterator_new(&it, cfg) < 0)
		goto out;
	while (git_config_next(&e, it) == 0) {
		if (!entry_is(e, "remote", "url", &sub, &len))
			continue;
		r = remote_urls_add(&ru, sub, len, e->value);
		if (r < 0)
			goto out;
	}
	url = remote_urls_pick(&ru);
	if (url)
		r = apply_insteadof(cfg, url, ret);
out:
	git_config_iterator_free(it);
	git_config_free(cfg);
	remote_urls_release(&ru);
	return r;
}

/* ------------------------------------------------------------------ */
/* HEAD and the dirty flag                                              */
/* ------------------------------------------------------------------ */

/* HEAD's commit as 40 lowercase hex digits into @hex, "" if none. */
static void read_head(git_repository *repo, char hex[GIT_OID_HEXSZ + 1])
{
	git_oid oid;

	hex[0] = '\0';
	if (git_reference_name_to_id(&oid, repo, "HEAD") == 0)
		git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &oid);
}

/* 1 dirty, 0 clean, -1 unknown. */
static int read_dirty(git_repository *repo)
{
	git_status_options opts;
	git_status_list *list = NULL;
	int dirty = -1;

	if (git_repository_is_bare(repo) ||
	    git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION) < 0)
		return -1;
	/* no untracked, no ignored, no submodules; never writes the index */
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, repo, &opts) == 0)
		dirty = git_status_list_entrycount(list) > 0;
	git_status_list_free(list);
	return dirty;
}

/*
 * Look @dir's repository up (with the thread's current credentials):
 * *@ret_url (owned, NULL if none), @hex, *@ret_dirty.  0 or -ENOMEM.
 */
static int repo_lookup(const char *dir, char **ret_url,
		       char hex[GIT_OID_HEXSZ + 1], int *ret_dirty)
{
	struct watchdog w;
	git_repository *repo = NULL;
	char *abs;
	int r = 0;

	watchdog_start(&w);
	md_track_begin();
	abs = realpath(dir, NULL);
	if (!abs) {
		r = errno == ENOMEM ? -ENOMEM : 0;
		goto out;
	}
	if (git_repository_open_ext(&repo, abs, GIT_REPOSITORY_OPEN_CROSS_FS,
				    NULL) < 0)
		goto out;
	r = read_remote(repo, ret_url);
	if (r < 0)
		goto out;
	read_head(repo, hex);
	*ret_dirty = read_dirty(repo);
out:
	git_repository_free(repo);
	md_track_end();
	watchdog_stop(&w);
	free(abs);
	return r;
}

int gitinfo_read(const char *dir, const struct gitinfo_cred *as,
		 char **ret_repo, char **ret_commit, int *ret_dirty)
{
	char hex[GIT_OID_HEXSZ + 1] = "";
	struct saved_cred sv;
	char *url = NULL, *commit = NULL;
	int dirty = -1, r;

	if (!dir || !ret_repo || !ret_commit || !ret_dirty)
		return -EINVAL;
	pthread_once(&gitinfo_once, gitinfo_setup);
	/* a user the daemon cannot become, or no libgit2: no data */
	r = gitinfo_setup_err ? gitinfo_setup_err : cred_enter(as, &sv);
	if (r == 0) {
		r = repo_lookup(dir, &url, hex, &dirty);
		cred_leave(&sv);
	}
	if (r == -ENOMEM)
		goto out;
	r = -ENOMEM;
	commit = strdup(hex);
	if (!url)
		url = strdup("");
	if (!commit || !url)
		goto out;
	*ret_repo = url;
	*ret_commit = commit;
	*ret_dirty = dirty;
	url = NULL;
	commit = NULL;
	r = 0;
out:
	free(url);
	free(commit);
	return r;
}
