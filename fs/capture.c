/* SPDX-License-Identifier: MIT */
/*
 * What mkdir of an execution records besides its properties: the Python
 * environment of the calling process, as an Environment input artifact
 * (doc/cmf-upstream.md §6.5), in E/inputs/cmf_artifacts/python_env_<h>.txt,
 * with the execution's custom property Python_Env naming it.
 */
#include "fs_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pyenv.h"

int fs_capture_environment(struct fs *fs, int64_t exec_id, int pid)
{
	char name[MD5_HEX_LEN + 1], md5[MD5_HEX_LEN + 1], file[64];
	char prop[96];
	struct cas_tmp tmp = { .fd = -1 };
	struct entry dir, e;
	struct value v;
	char *text = NULL;
	size_t len = 0;
	bool held = false;
	int r;

	r = pyenv_freeze(pid, &text, &len, name);
	if (r < 0)
		return r == -ENOENT ? 0 : r;	/* not Python: nothing to log */
	r = cas_tmp_create(fs->cas, &tmp);
	if (r < 0)
		goto out;
	if (write(tmp.fd, text, len) != (ssize_t)len) {
		r = errno ? -errno : -EIO;
		goto out;
	}
	r = hash_buf(text, len, md5);
	if (r < 0)
		goto out;
	/* no gc takes the object before the entry refers to it */
	cas_hold(fs->cas);
	held = true;
	r = cas_commit(fs->cas, &tmp, md5);
	if (r < 0)
		goto out;
	r = model_entry_lookup(fs->model, exec_id, SIDE_INPUTS, 0,
			       "cmf_artifacts", &dir);
	if (r == -ENOENT)
		r = model_entry_mkdir(fs->model, exec_id, SIDE_INPUTS, 0,
				      "cmf_artifacts", 0755, fs->owner_uid,
				      fs->owner_gid, &dir);
	if (r < 0)
		goto out;
	snprintf(file, sizeof(file), "python_env_%s.txt", name);
	r = model_entry_create(fs->model, exec_id, SIDE_INPUTS, dir.id, file,
			       0444, fs->owner_uid, fs->owner_gid, &e);
	if (r == 0)
		r = model_entry_log(fs->model, e.id, md5, len, e.mtime_ns, NULL);
	cas_unhold(fs->cas);
	held = false;
	if (r < 0)
		goto out;
	snprintf(prop, sizeof(prop), "cmf_artifacts/%s", file);
	v.kind = VALUE_STRING;
	v.s = prop;
	r = model_prop_set(fs->model, OWNER_EXECUTION, exec_id, "Python_Env",
			   &v);
out:
	if (held)
		cas_unhold(fs->cas);
	cas_tmp_discard(fs->cas, &tmp);
	free(text);
	return r;
}
