/* SPDX-License-Identifier: MIT */
/*
 * libcurl's result codes as -errno: the one translation every user of
 * libcurl in sync/ (server.c and the storage backends) goes through, so a
 * failure means the same wherever it happens and storage_err_is_transient()
 * and the server's retry see one vocabulary:
 *	-ENOMEM		libcurl ran out of memory;
 *	-EHOSTUNREACH	the name did not resolve, or the network or host is
 *			unreachable;
 *	-ECONNREFUSED	nothing listens there;
 *	-ETIMEDOUT	a connect or a transfer timed out (stall-timeout);
 *	-ECONNRESET	the connection broke mid-transfer;
 *	-EACCES		TLS verification, login or a remote permission failed;
 *	-ENOSPC		the remote disk is full;  -ENOENT  no such remote file;
 *	-EFBIG		more than a size limit;  -EIO  a local write failed;
 *	-EINVAL		a bad URL, protocol, option or certificate file;
 *	-EPROTO		anything else the peer did.
 * Callers that know more (a callback's own error, an HTTP status) decide
 * before they ask this.
 */
#ifndef CMFFS_CURLERR_H
#define CMFFS_CURLERR_H

#include <curl/curl.h>

/*
 * -errno for @cc.  @curl (may be NULL) is the handle of the failed
 * transfer: for CURLE_COULDNT_CONNECT its OS error tells an unreachable
 * host and a connect timeout from a refusal.
 */
int curl_to_errno(CURL *curl, CURLcode cc);

#endif
