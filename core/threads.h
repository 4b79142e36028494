/* SPDX-License-Identifier: MIT */
/*
 * Helper threads that never take a signal.
 *
 * Signals belong to the threads that handle them (the FUSE loop's, the
 * command's main thread); a hasher, a sync thread or an upload worker must
 * not be the one the kernel picks to deliver SIGINT or SIGTERM to.
 */
#ifndef CMFFS_THREADS_H
#define CMFFS_THREADS_H

#include <pthread.h>
#include <stddef.h>

/*
 * Start @fn(@arg) in a new joinable thread with every signal blocked.
 * @stack_size 0 means the default.  The caller's signal mask is unchanged.
 * 0 or -errno.
 */
int thread_start(pthread_t *ret, size_t stack_size, void *(*fn)(void *),
		 void *arg);

#endif
