/* SPDX-License-Identifier: MIT */
/*
 * The Python environment of a process, as upstream CMF logs it with every
 * execution (doc/cmf-upstream.md §6.5) but without running pip: the packages
 * installed in the interpreter's site-packages, read from their
 * *.dist-info/METADATA (and *.egg-info/PKG-INFO), in `pip freeze` format.
 */
#ifndef CMFFS_PYENV_H
#define CMFFS_PYENV_H

#include <stddef.h>

#include <stdint.h>
#include <sys/types.h>

#include "cas.h"
#include "hash.h"
#include "model.h"

/*
 * If process @pid runs a Python interpreter (its executable is python*),
 * or names a virtualenv or conda prefix (VIRTUAL_ENV, CONDA_PREFIX in its
 * environment: only used to find site-packages, never stored), give the
 * `pip freeze` text of its packages ("Name==Version\n" per package, sorted
 * case-insensitively, pip/setuptools/wheel left out as pip freeze does)
 * in *ret_text (owned), and in @ret_name the hash upstream names the file
 * with: md5 of the Python repr of the list of lines plus "\n", so the file
 * is cmf_artifacts/python_env_<ret_name>.txt.
 * -ENOENT when the process is not Python or no site-packages is found.
 */
int pyenv_freeze(int pid, char **ret_text, size_t *ret_len,
		 char ret_name[MD5_HEX_LEN + 1]);

/*
 * What mkdir of an execution records besides its properties: the Python
 * environment of process @pid (pyenv_freeze()) as an Environment input of
 * execution @exec_id, E/inputs/cmf_artifacts/python_env_<h>.txt (its bytes
 * in @cas; the entries owned by @uid:@gid), and the execution's custom
 * property Python_Env naming it.  0, also when @pid runs no Python, or
 * -errno.
 */
int pyenv_log(struct cas *cas, struct model *m, int64_t exec_id, int pid,
	      uid_t uid, gid_t gid);

#endif
