/* SPDX-License-Identifier: MIT */
/* Python environments from site-packages metadata; see pyenv.h. */
#include "pyenv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "safefile.h"
#include "sb.h"

#define MAX_PACKAGES 20000

struct pkgs {
	char **v;
	size_t n, cap;
};

#define ENVIRON_MAX (4u << 20)	/* longer environments are cut here */
#define METADATA_MAX (1u << 20)	/* the header block is at its start */

/* The value of @var in /proc/PID/environ, or NULL (owned). */
static char *environ_var(int pid, const char *var)
{
	char path[64], *buf = NULL, *found = NULL;
	size_t len = 0, vlen = strlen(var), off;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	if (file_read_at(AT_FDCWD, path, ENVIRON_MAX, true, &buf, &len,
			 NULL) < 0)
		return NULL;
	for (off = 0; off < len; off += strnlen(buf + off, len - off) + 1)
		if (!strncmp(buf + off, var, vlen) && buf[off + vlen] == '=') {
			found = strndup(buf + off + vlen + 1,
					len - off - vlen - 1);
			break;
		}
	free(buf);
	return found;
}

static bool skipped_package(const char *name)
{
	static const char *const skip[] = { "pip", "setuptools", "wheel",
					    "distribute" };
	size_t i;

	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strcasecmp(name, skip[i]))
			return true;
	return false;
}

/*
 * Name and Version from a METADATA / PKG-INFO header.  The file is in a
 * directory the user controls: read without blocking (a FIFO there must not
 * hang a FUSE worker) and without following a link out of site-packages'
 * entry; what cannot be read is skipped.
 */
static int read_metadata(const char *path, struct pkgs *p)
{
	char name[256] = "", version[128] = "";
	char *buf = NULL, *line, *next;
	int r = 0;

	if (file_read_at(AT_FDCWD, path, METADATA_MAX, true, &buf, NULL,
			 NULL) < 0)
		return 0;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (!line[0])
			break;	/* end of the header block */
		if (!strncmp(line, "Name: ", 6))
			snprintf(name, sizeof(name), "%.255s", line + 6);
		else if (!strncmp(line, "Version: ", 9))
			snprintf(version, sizeof(version), "%.127s", line + 9);
	}
	free(buf);
	if (!name[0] || !version[0] || skipped_package(name) ||
	    p->n >= MAX_PACKAGES)
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **v = reallocarray(p->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	if (asprintf(&p->v[p->n], "%s==%s", name, version) < 0)
		return -ENOMEM;
	p->n++;
	return r;
}

static int scan_dir(const char *dir, struct pkgs *p)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return 0;
	while (r == 0 && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 10 && !strcmp(de->d_name + n - 10, ".dist-info"))
			snprintf(path, sizeof(path), "%s/%s/METADATA", dir,
				 de->d_name);
		else if (n > 9 && !strcmp(de->d_name + n - 9, ".egg-info"))
			snprintf(path, sizeof(path), "%s/%s/PKG-INFO", dir,
				 de->d_name);
		else
			continue;
		r = read_metadata(path, p);
	}
	closedir(d);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* The prefix of the interpreter the process runs, or NULL (owned). */
static char *python_prefix(int pid)
{
	char path[64], exe[PATH_MAX], *prefix, *slash;
	ssize_t n;

	prefix = environ_var(pid, "VIRTUAL_ENV");
	if (!prefix)
		prefix = environ_var(pid, "CONDA_PREFIX");
	if (prefix)
		return prefix;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash || strncmp(slash + 1, "python", 6))
		return NULL;
	*slash = '\0';			/* PREFIX/bin */
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';			/* PREFIX */
	return strdup(exe[0] ? exe : "/");
}

int pyenv_freeze(int pid, char **ret_text, size_t *ret_len,
		 char ret_name[MD5_HEX_LEN + 1])
{
	static const char *const patterns[] = {
		"/lib/python3*/site-packages",
		"/lib/python3/dist-packages",
		"/local/lib/python3*/dist-packages",
	};
	struct pkgs p = { 0 };
	struct sb text, repr;
	char *prefix = python_prefix(pid);
	size_t i, j;
	int r = 0, found = 0;

	if (!prefix)
		return -ENOENT;
	for (i = 0; r == 0 && i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		char pat[PATH_MAX];
		glob_t g;

		snprintf(pat, sizeof(pat), "%s%s", prefix, patterns[i]);
		if (glob(pat, GLOB_ONLYDIR, NULL, &g) != 0)
			continue;
		for (j = 0; r == 0 && j < g.gl_pathc; j++, found++)
			r = scan_dir(g.gl_pathv[j], &p);
		globfree(&g);
	}
	free(prefix);
	if (r == 0 && !found)
		r = -ENOENT;
	sb_init(&text, 0);
	sb_init(&repr, 0);
	if (r == 0) {
		if (p.n)
			qsort(p.v, p.n, sizeof(*p.v), by_name);
		sb_putc(&repr, '[');
		for (i = 0; i < p.n; i++) {
			sb_appendf(&text, "%s\n", p.v[i]);
			sb_appendf(&repr, "%s'%s'", i ? ", " : "", p.v[i]);
		}
		sb_puts(&repr, "]\n");
		r = sb_err(&text) ? sb_err(&text) : sb_err(&repr);
	}
	if (r == 0)
		r = hash_buf(repr.buf, repr.len, ret_name);
	if (r == 0) {
		*ret_text = sb_detach(&text, ret_len);
		r = *ret_text ? 0 : -ENOMEM;
	}
	sb_release(&text);
	sb_release(&repr);
	for (i = 0; i < p.n; i++)
		free(p.v[i]);
	free(p.v);
	return r;
}

/* What mkdir of an execution records besides its properties (pyenv.h). */
int pyenv_log(struct cas *cas, struct model *m, int64_t exec_id, int pid,
	      uid_t uid, gid_t gid)
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
	r = cas_tmp_create(cas, &tmp);
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
	cas_hold(cas);
	held = true;
	r = cas_commit(cas, &tmp, md5);
	if (r < 0)
		goto out;
	r = model_entry_lookup(m, exec_id, SIDE_INPUTS, 0,
			       "cmf_artifacts", &dir);
	if (r == -ENOENT)
		r = model_entry_mkdir(m, exec_id, SIDE_INPUTS, 0,
				      "cmf_artifacts", 0755, uid,
				      gid, &dir);
	if (r < 0)
		goto out;
	snprintf(file, sizeof(file), "python_env_%s.txt", name);
	r = model_entry_create(m, exec_id, SIDE_INPUTS, dir.id, file,
			       0444, uid, gid, &e);
	if (r == 0)
		r = model_entry_log(m, e.id, md5, len, e.mtime_ns, NULL);
	cas_unhold(cas);
	held = false;
	if (r < 0)
		goto out;
	snprintf(prop, sizeof(prop), "cmf_artifacts/%s", file);
	v.kind = VALUE_STRING;
	v.s = prop;
	r = model_prop_set(m, OWNER_EXECUTION, exec_id, "Python_Env",
			   &v);
out:
	if (held)
		cas_unhold(cas);
	cas_tmp_discard(cas, &tmp);
	free(text);
	return r;
}
