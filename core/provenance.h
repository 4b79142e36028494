/* SPDX-License-Identifier: MIT */
/*
 * provenance - record where an "execution" directory came from.
 *
 * When a process creates an execution directory in the cmffs mount, the
 * daemon records who did it: the command line, executable, working
 * directory, user and host of the calling process, and the git state
 * (remote URL, HEAD commit, dirty flag) of the repository holding the
 * process's working directory.  Everything is read from /proc and from the
 * files of the git repository; no subprocess or shell is ever run, so the
 * module is safe to call from a daemon that must not fork.
 *
 * All functions are thread-safe (no static state, getpwuid_r, no
 * strerror).  They block on filesystem I/O (the dirty check may hash
 * working-tree files), so call them from a worker thread.  If the
 * process's working directory lies inside the cmffs mount itself, the git
 * lookup performs stat()/open() on that mount: the daemon must then be
 * multi-threaded or it will deadlock on itself.
 *
 * Paths are taken as seen by the daemon: a process in another mount
 * namespace or chroot yields a cwd that the daemon may resolve differently
 * (the git lookup then usually finds nothing and reports "" / -1).
 */
#ifndef CMFFS_PROVENANCE_H
#define CMFFS_PROVENANCE_H

#include <stddef.h>

/*
 * The provenance of one process.  Every char * member is owned by the
 * struct, NUL-terminated and never NULL once provenance_read() succeeded;
 * a datum that could not be obtained is the empty string.
 */
struct provenance {
	/*
	 * argv formatted exactly like Python's repr() of a list of str,
	 * e.g. "['src/parse.py', 'artifacts/data.xml.gz', 'out']".  See
	 * provenance_format_argv() for the escaping rules.  A process with
	 * an empty argv (kernel thread, zombie) gives "[]".
	 */
	char *cmdline;
	/*
	 * readlink of /proc/PID/exe, or "".  Like cwd it needs ptrace
	 * access to the process (same user, or CAP_SYS_PTRACE); otherwise
	 * it is "" and so are the git members.
	 */
	char *exe;
	/*
	 * readlink of /proc/CALLER/cwd, or "": the working directory of the
	 * process that made the call, before any walk-up (`cd ~/repo &&
	 * mkdir E` in a script records the script's command line but the
	 * repository mkdir ran in)
	 */
	char *cwd;
	/* user name of the real uid (getpwuid_r), else the decimal uid */
	char *user;
	/* gethostname(), or "" */
	char *host;
	/*
	 * The process whose data was recorded, after the walk-up described
	 * at provenance_read().  If the caller passed a thread id (FUSE
	 * reports the calling thread), this is the thread group id.
	 */
	int pid;
	/* URL of the chosen git remote, "" if no repository or no remote */
	char *git_repo;
	/* 40 lowercase hex digits HEAD resolves to, "" if none/unborn */
	char *git_commit;
	/* 1 dirty, 0 clean, -1 unknown or no repository */
	int git_dirty;
};

/*
 * provenance_read() - record the provenance of process @pid.
 * @pid:      process (or thread) id as seen in the daemon's /proc
 * @ret_prov: on success set to a new struct, free with provenance_free()
 *
 * If the basename of the process's executable (or, when /proc/PID/exe is
 * unreadable, its comm) is a plain file utility - mkdir, install, busybox,
 * cp, mv, rsync, tar, ln, touch, env, xargs, timeout, nice, sudo - its
 * parent process is used instead, repeated up to 4 levels, so that a
 * `mkdir` run from a script records the script.  The walk stops early at
 * init (ppid <= 1) or when the parent cannot be opened.
 *
 * The git members are filled by provenance_git_info() on the caller's cwd
 * (the process @pid itself, not the walked-up one).  A cwd within @avoid
 * (the mountpoint; NULL: none) is never looked at: the nearest parent's
 * cwd outside it is used, or none.
 * Failure to obtain any single datum is not an error: it yields "" or -1.
 *
 * Return: 0 on success; -EINVAL if @pid <= 0 or @ret_prov is NULL;
 * -ESRCH if the process does not exist (anymore); -ENOMEM.
 */
int provenance_read(int pid, const char *avoid, struct provenance **ret_prov);

/*
 * provenance_free() - free a struct returned by provenance_read().
 * NULL-safe.
 */
void provenance_free(struct provenance *p);

/*
 * provenance_format_argv() - format an argv vector as Python's repr().
 * @buf:      argv as in /proc/PID/cmdline: arguments separated by NUL
 *            bytes, normally with a trailing NUL (optional: a last
 *            argument without one is taken as is).  May be NULL if @len
 *            is 0.
 * @len:      number of bytes in @buf; 0 gives "[]"
 * @ret_repr: on success set to the new malloc()ed string
 *
 * The bytes are decoded as Python decodes sys.argv on Linux (UTF-8 with
 * surrogateescape) and formatted as repr(list_of_str): each argument is
 * quoted with ' unless it contains a ' and no ", then with ".  Backslash
 * and the quote character are backslash-escaped; \t \n \r as such; other
 * ASCII control characters and DEL as \xNN; bytes that are not valid
 * UTF-8 as \udcNN (what Python prints for surrogate-escaped bytes).
 * Non-ASCII characters are kept as UTF-8 except those Python deems
 * unprintable (C1 controls, non-ASCII spaces, line/paragraph separators,
 * format characters, private use, noncharacters), which are escaped as
 * \xNN, \uNNNN or \UNNNNNNNN; this list is a fixed best-effort subset, so
 * unassigned code points are emitted verbatim where Python would escape
 * them.  Hex digits are lower case, like Python's.
 *
 * Return: 0 on success, -EINVAL if @ret_repr is NULL or @buf is NULL with
 * @len > 0, -ENOMEM.
 */
int provenance_format_argv(const char *buf, size_t len, char **ret_repr);

/*
 * provenance_git_info() - git state of the repository containing @dir.
 * @dir:        directory to start from (made absolute with realpath())
 * @ret_repo:   set to the new remote URL string, "" if none
 * @ret_commit: set to the new 40-hex HEAD commit string, "" if none
 * @ret_dirty:  set to 1 dirty, 0 clean, -1 unknown / no repository
 *
 * Only files are read, the git binary is never run:
 *  - The repository is found by walking up from @dir to "/" looking for
 *    ".git": a directory, or a file "gitdir: PATH" (worktrees,
 *    submodules; a relative PATH is relative to the directory holding
 *    the file).  A ".git" directory without HEAD is passed over; a
 *    ".git" file that does not point to a git dir ends the search with
 *    no repository, as git does.  A "commondir" file in the git dir
 *    locates the shared refs, packed-refs and config of a linked
 *    worktree.
 *  - HEAD is a detached 40-hex id or "ref: NAME", resolved through the
 *    loose ref file (following symbolic refs, at most 5 levels), then
 *    through packed-refs.  SHA-256 repositories and the reftable ref
 *    backend give "".
 *  - The remote is read from config (git's INI dialect: quoted values,
 *    escapes, continuation lines, comments, case-insensitive section and
 *    key names; includes and url.insteadOf are not applied).  The first
 *    url of remote "cmf_origin" is used if present, else of "origin",
 *    else of the alphabetically first remote having a url.
 *  - The dirty flag compares the index (versions 2 and 3; version 4,
 *    split indexes, bare repositories and anything unparsable, larger
 *    than 64 MiB or having more than 100000 entries give -1) with the
 *    working tree, like `git diff --quiet`: an entry is dirty if its
 *    file is missing, changed type, changed executable bit (unless
 *    core.filemode is false), changed size, or - when mtime or size
 *    differ from the index or the entry is racily clean - its git blob
 *    SHA-1 differs.  Unmerged and intent-to-add entries are dirty;
 *    skip-worktree, assume-valid and gitlink (submodule) entries are
 *    skipped.  Untracked files do not count.  The index is NOT compared
 *    with the HEAD tree, so changes that are staged but not committed
 *    are not detected.  Content filters (git-lfs, eol conversion) are
 *    not applied, so such files may be reported dirty when their mtime
 *    changed.  A repository without an index file is clean if HEAD is
 *    unborn and unknown otherwise.
 *
 * Failing to read any git datum is not an error: it gives "" or -1.
 *
 * Return: 0 on success, -EINVAL if an argument is NULL, -ENOMEM.  On
 * error the out parameters are left untouched.
 */
int provenance_git_info(const char *dir, char **ret_repo, char **ret_commit,
			int *ret_dirty);

#endif /* CMFFS_PROVENANCE_H */
