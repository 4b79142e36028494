/* SPDX-License-Identifier: MIT */
/*
 * provenance - record where an "execution" directory came from.
 *
 * When a process creates an execution directory in the cmffs mount, the
 * daemon records who did it: the command line, executable, working
 * directory, user and host of the calling process, and the git state
 * (remote URL, HEAD commit, dirty flag) of the repository holding the
 * process's working directory.  Everything is read from /proc and, through
 * libgit2 (gitinfo.h), from the files of the git repository; no subprocess
 * or shell is ever run, so the module is safe to call from a daemon that
 * must not fork.
 *
 * All functions are thread-safe (getpwuid_r, no strerror).  They block on
 * filesystem I/O (the dirty check may hash working-tree files), so call
 * them from a worker thread.  If the process's working directory lies
 * inside the cmffs mount itself and no @avoid is given, the git lookup
 * performs stat()/open() on that mount: the daemon must then be
 * multi-threaded or it will deadlock on itself.
 *
 * Paths are taken as seen by the daemon: a process in another mount
 * namespace or chroot yields a cwd that the daemon may resolve differently
 * (the git lookup then usually finds nothing and reports "" / -1).
 */
#ifndef CMFFS_PROVENANCE_H
#define CMFFS_PROVENANCE_H

/*
 * The provenance of one process.  Every char * member is owned by the
 * struct, NUL-terminated and never NULL once provenance_read() succeeded;
 * a datum that could not be obtained is the empty string.
 */
struct provenance {
	/*
	 * argv formatted exactly like Python's repr() of a list of str,
	 * e.g. "['src/parse.py', 'artifacts/data.xml.gz', 'out']"
	 * (pyrepr_argv()).  A process with an empty argv (kernel thread,
	 * zombie) gives "[]".
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
 * The git members are filled by gitinfo_read() on the caller's cwd (the
 * process @pid itself, not the walked-up one), with the caller's
 * filesystem uid, gid and groups (/proc/PID/status): a repository that
 * user does not own, or cannot read, gives "" / -1, and so does a caller
 * whose credentials cannot be read or taken on (a daemon that is not root
 * called by another user).  A cwd within @avoid (the mountpoint; NULL:
 * none) is never looked at: the caller's $PWD if it lies outside, else
 * the nearest parent's cwd outside it, or none.
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

#endif /* CMFFS_PROVENANCE_H */
