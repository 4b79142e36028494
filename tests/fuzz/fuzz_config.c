/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: .cmfconfig (and what cmffs writes back).  What loads must
 * save, what was saved must load, and saving that again must write the
 * same bytes: a saved configuration reads back the same.
 *
 * The files live in one directory per process, on tmpfs (/dev/shm) when
 * there is one: config_save() fsyncs, which on a disk costs more than
 * everything else a run does.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], in[80], out[80], again[80];

static void remove_dir(void)
{
	unlink(in);
	unlink(out);
	unlink(again);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct stat st;

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/cmffs-fuzz-cfg-XXXXXX",
		 stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm"
								  : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(again, sizeof(again), "%s/again", dir);
	atexit(remove_dir);
	return 0;
}

/* The bytes of file @path (owned) in *ret; -1 if it cannot be read. */
static ssize_t slurp(const char *path, char **ret)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return -1;
	n = getdelim(&buf, &cap, '\0', f);	/* a save holds no NUL */
	fclose(f);
	if (n < 0) {
		free(buf);
		buf = strdup("");
		n = buf ? 0 : -1;
	}
	*ret = buf;
	return n;
}

/* Saving @d (loaded from @out) must write what @out holds. */
static void check_same(const struct config *d)
{
	char *a = NULL, *b = NULL;
	ssize_t na, nb;

	if (config_save(d, again) != 0)
		abort();
	na = slurp(out, &a);
	nb = slurp(again, &b);
	if (na < 0 || nb < 0 || na != nb || memcmp(a, b, (size_t)na))
		abort();
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL, *d = NULL;
	char *err = NULL;
	int fd = open(in, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (config_load(in, &c, &err) == 0 && config_save(c, out) == 0) {
		free(err);
		err = NULL;
		/* what was saved loads again, and saves the same */
		if (config_load(out, &d, &err) != 0)
			abort();
		check_same(d);
	}
	config_free(c);
	config_free(d);
	free(err);
	return 0;
}
