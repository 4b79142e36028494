/* SPDX-License-Identifier: MIT */
/* libcurl result codes as -errno; see curlerr.h. */
#include "curlerr.h"

#include <errno.h>

int curl_to_errno(CURL *curl, CURLcode cc)
{
	long oserr = 0;

	switch (cc) {
	case CURLE_OK:
		return 0;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		if (curl)
			(void)curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &oserr);
		if (oserr == EHOSTUNREACH || oserr == ENETUNREACH)
			return -EHOSTUNREACH;
		if (oserr == ETIMEDOUT)
			return -ETIMEDOUT;
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SEND_FAIL_REWIND:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return -ECONNRESET;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_LOGIN_DENIED:
	case CURLE_REMOTE_ACCESS_DENIED:
		return -EACCES;
	case CURLE_REMOTE_DISK_FULL:
		return -ENOSPC;
	case CURLE_REMOTE_FILE_NOT_FOUND:
		return -ENOENT;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_WRITE_ERROR:
		return -EIO;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return -EINVAL;
	default:
		return -EPROTO;
	}
}
