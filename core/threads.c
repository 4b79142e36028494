/* SPDX-License-Identifier: MIT */
#include "threads.h"

#include <errno.h>
#include <signal.h>

int thread_start(pthread_t *ret, size_t stack_size, void *(*fn)(void *),
		 void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	r = pthread_attr_init(&attr);
	if (r)
		return -r;
	if (stack_size)
		r = pthread_attr_setstacksize(&attr, stack_size);
	if (r == 0) {
		/* a new thread starts with its creator's mask */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		r = pthread_create(ret, &attr, fn, arg);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_attr_destroy(&attr);
	return -r;
}
