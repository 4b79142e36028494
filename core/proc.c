/* SPDX-License-Identifier: MIT */
/* /proc facts; see proc.h. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safefile.h"

#define PF_EXITING 0x4	/* include/linux/sched.h */

#define SMALL_MAX (64u << 10)	/* status, stat */
#define MAPS_MAX (64u << 20)	/* a big process maps a few MiB of text */

/* At most @max bytes of /proc/@tid/@name into a new string (owned). */
static int read_proc(pid_t tid, const char *name, size_t max, char **ret)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, name);
	return file_read_at(AT_FDCWD, path, max, true, ret, NULL, NULL);
}

int proc_tgid(pid_t tid, pid_t *ret_tgid)
{
	char *buf = NULL, *p;
	long v;
	int r;

	r = read_proc(tid, "status", SMALL_MAX, &buf);
	if (r < 0)
		return r;
	p = strstr(buf, "\nTgid:");
	if (!p) {
		free(buf);
		return -EPROTO;
	}
	v = strtol(p + 6, NULL, 10);
	free(buf);
	if (v <= 0)
		return -EPROTO;
	*ret_tgid = (pid_t)v;
	return 0;
}

bool proc_same_process(pid_t a, pid_t b)
{
	pid_t ta, tb;

	if (a == b)
		return true;
	return proc_tgid(a, &ta) == 0 && proc_tgid(b, &tb) == 0 && ta == tb;
}

bool proc_maps_shared_writable(pid_t tid, const char *path)
{
	char *buf = NULL, *line, *next, perms[8];
	size_t n = strlen(path);
	bool found = false;
	int off;

	if (read_proc(tid, "maps", MAPS_MAX, &buf) < 0)
		return false;
	for (line = buf; line && *line && !found; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* start-end perms offset dev inode path */
		off = 0;
		if (sscanf(line, "%*s %7s %*s %*s %*s %n", perms, &off) != 1 ||
		    !off)
			continue;
		while (line[off] == ' ')
			off++;
		found = perms[1] == 'w' && perms[3] == 's' &&
			!strncmp(line + off, path, n) &&
			(line[off + n] == '\0' || !strcmp(line + off + n, " (deleted)"));
	}
	free(buf);
	return found;
}

int proc_stat_read(int dirfd, const char *path, struct proc_stat *ret)
{
	struct proc_stat st = { 0 };
	char *buf = NULL, *p;
	int field, r;

	r = file_read_at(dirfd, path, SMALL_MAX, true, &buf, NULL, NULL);
	if (r < 0)
		return r;
	/* "pid (comm) state ppid ...": comm may hold spaces and ')' */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ') {
		free(buf);
		return -EPROTO;
	}
	p++;
	for (field = 3; *p && *p != '\n'; field++) {
		while (*p == ' ')
			p++;
		if (field == 4)
			st.ppid = (pid_t)strtol(p, NULL, 10);
		else if (field == 9)
			st.flags = strtoul(p, NULL, 10);
		else if (field == 52)
			st.exit_code = strtol(p, NULL, 10);
		p += strcspn(p, " \n");
	}
	free(buf);
	if (field <= 4)
		return -EPROTO;
	*ret = st;
	return 0;
}

bool proc_killed_by_signal(pid_t tid)
{
	struct proc_stat st;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	if (proc_stat_read(AT_FDCWD, path, &st) < 0)
		return false;
	return (st.flags & PF_EXITING) && (st.exit_code & 0x7f);
}
