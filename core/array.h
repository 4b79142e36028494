/* SPDX-License-Identifier: MIT */
/*
 * Growing a malloc'ed array: the one place the "double the capacity" step
 * lives.  Header only.
 */
#ifndef CMFFS_ARRAY_H
#define CMFFS_ARRAY_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Make the array whose pointer is at @arrayp (any T **) hold at least
 * @need elements of @elem bytes; *@cap is its capacity.  The array is
 * unchanged on failure.  0 or -ENOMEM.
 */
static inline int array_reserve(void *arrayp, size_t *cap, size_t need,
				size_t elem)
{
	void *old, *grown;
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	memcpy(&old, arrayp, sizeof(old));
	grown = reallocarray(old, n, elem);
	if (!grown)
		return -ENOMEM;
	memcpy(arrayp, &grown, sizeof(grown));
	*cap = n;
	return 0;
}

#endif
