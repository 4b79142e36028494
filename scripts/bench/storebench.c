/* SPDX-License-Identifier: MIT */
/*
 * storebench: what logging a file costs in the metadata store alone, with no
 * FUSE and no bytes: the same two model calls the daemon makes for every file
 * `cp` creates (model_entry_create at create, model_entry_log at close), on a
 * fresh MLMD store in DIR, batched through a redo log as the mount does
 * (doc/design.md §6; --unbatched: each change commits on its own).  bench.py
 * P2 prints it next to the FUSE floor.
 *
 *   storebench [--unbatched] DIR N      (prints: seconds for N files)
 *
 * Not a cmffs component: it is built only to be measured.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "model.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int64_t pipeline, stage, exec;
	struct model *m = NULL;
	char path[4096], *err = NULL;
	bool batched = true;
	double t0;
	long i, n;
	int dirfd;

	if (argc == 4 && !strcmp(argv[1], "--unbatched")) {
		batched = false;
		argv++;
		argc--;
	}
	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: storebench [--unbatched] DIR N\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/mlmd", argv[1]);
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || model_open(path, MODEL_CREATE, &m, &err) < 0 ||
	    (batched && model_redo_attach(m, dirfd, "redo", MODEL_REDO_BATCH,
					  &err) < 0) ||
	    model_pipeline_create(m, "bench", &pipeline) < 0 ||
	    model_stage_create(m, pipeline, "bench", "s", &stage) < 0 ||
	    model_execution_create(m, stage, "e", NULL, &exec) < 0) {
		fprintf(stderr, "storebench: %s\n", err ? err : "cannot set up");
		return 1;
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		char name[32], md5[MD5_HEX_LEN + 1];
		struct entry e;

		snprintf(name, sizeof(name), "f%05ld.bin", i);
		if (hash_buf(name, strlen(name), md5) < 0 ||
		    model_entry_create(m, exec, SIDE_OUTPUTS, 0, name, 0644, 0, 0,
				       &e) < 0 ||
		    model_entry_log(m, e.id, md5, 4096, 0, NULL) < 0) {
			fprintf(stderr, "storebench: logging failed\n");
			return 1;
		}
	}
	/* the last batch committed: every change in the store */
	if (model_flush(m) < 0) {
		fprintf(stderr, "storebench: commit failed\n");
		return 1;
	}
	printf("%.3f\n", now() - t0);
	model_close(m);
	close(dirfd);
	return 0;
}
