/* SPDX-License-Identifier: MIT */
/*
 * gitinfo - the git state (remote URL, HEAD commit, dirty flag) of the
 * repository holding a directory, read with libgit2 on behalf of the
 * process that asked, from a daemon that may run as root.
 *
 * libgit2 is set up once per process (gitinfo.c says why for each
 * setting): repository owner validation on; no system, XDG, global or
 * ProgramData configuration, attributes or ignore files (the daemon's own
 * ~/.gitconfig is never read); nothing that runs a program or opens a
 * connection is ever called.
 *
 * With credentials (struct gitinfo_cred) the whole lookup runs in the
 * calling thread under them: the thread's effective and filesystem uid and
 * gid and its supplementary groups are switched (per thread, raw system
 * calls) and switched back before returning.  The kernel then lets the
 * lookup read only what that user could read, and libgit2's owner
 * validation refuses a repository whose working directory, .git file or
 * git directory that user does not own, as git run by that user would
 * ("dubious ownership").  Switching needs the daemon to run as root;
 * a daemon that is not root can look up only for its own euid.
 *
 * Thread-safe.  Blocks on filesystem I/O (the dirty check hashes changed
 * working-tree files): call it from a worker thread.  A call waiting on
 * something that may never come (a FIFO where git expects a ref, the
 * index or an included config) is interrupted after 3 s by a signal to
 * the thread, SIGRTMAX - 2, whose do-nothing handler the first lookup
 * installs (unless the program handles that signal itself): that datum is
 * then unknown.  No such signal is left pending when a lookup returns.
 */
#ifndef CMFFS_GITINFO_H
#define CMFFS_GITINFO_H

#include <stddef.h>
#include <sys/types.h>

/* Who the lookup is done for: a process's filesystem credentials. */
struct gitinfo_cred {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;	/* supplementary groups, borrowed */
	size_t ngroups;
};

/*
 * gitinfo_read() - git state of the repository containing @dir.
 * @dir:        directory to start from, absolute or relative to the
 *              daemon's cwd (made absolute with realpath())
 * @as:         credentials to look up with (borrowed), NULL: the daemon's
 * @ret_repo:   set to the new remote URL string (owned), "" if none
 * @ret_commit: set to the new 40-hex HEAD commit string (owned), "" if none
 * @ret_dirty:  set to 1 dirty, 0 clean, -1 unknown / no repository
 *
 *  - The repository is found as git finds it: walking up from @dir (across
 *    filesystems) to the first ".git" directory that is a repository, or
 *    ".git" file "gitdir: PATH" (linked worktrees, submodules); a ".git"
 *    file that does not point to a repository ends the search.  GIT_DIR
 *    and the other GIT_* variables are ignored.  A repository that is
 *    refused (not owned by @as's user, config unreadable or malformed, an
 *    extension libgit2 1.5 lacks such as objectFormat=sha256 or the
 *    reftable backend) gives "", "", -1 like no repository.
 *  - The remote is remote "cmf_origin" if it has a url, else "origin",
 *    else the remote with the smallest name (strcmp) having a url; its
 *    first non-empty url, with url.<base>.insteadOf applied as
 *    `git remote -v` shows it.  The repository's config files are read
 *    with their include.path and includeIf (gitdir:, onbranch:) files.
 *  - The commit is what HEAD resolves to (symbolic refs, loose or packed),
 *    lowercase; "" on an unborn branch or a HEAD that does not resolve.
 *  - Dirty is 1 when `git status --untracked-files=no
 *    --ignore-submodules` would list anything: a change staged in the
 *    index against the HEAD tree, a tracked file changed in the working
 *    tree (content, type, executable bit unless core.fileMode is false,
 *    deleted), an unmerged path.  Untracked and ignored files and
 *    submodules do not count; skip-worktree entries (sparse checkout) are
 *    not looked at.  Index versions 2 to 4 are read.  An unborn branch
 *    compares the index with the empty tree.  Content filters that run a
 *    program (git-lfs) are not applied, so such a file may show as
 *    changed.  A bare repository, a split index, or anything that cannot
 *    be read gives -1.  The index is never written.
 *
 * Failing to read any git datum is not an error: it gives "" or -1.
 *
 * Return: 0 on success, -EINVAL if an argument is NULL, -ENOMEM.  On
 * error the out parameters are left untouched.
 */
int gitinfo_read(const char *dir, const struct gitinfo_cred *as,
		 char **ret_repo, char **ret_commit, int *ret_dirty);

#endif /* CMFFS_GITINFO_H */
