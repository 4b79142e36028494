/* SPDX-License-Identifier: MIT */
/*
 * URLs as text, for what cmffs shows and records rather than what it
 * connects to (sync/ hands URLs to libcurl, which parses them itself).
 */
#ifndef CMFFS_URLTEXT_H
#define CMFFS_URLTEXT_H

/*
 * @url with the password of its userinfo replaced by "***"
 * ("http://alice:s3cret@host/" -> "http://alice:***@host/"); a URL without
 * a password, or text that is not a URL, is copied unchanged.  Everything
 * cmffs prints, journals, stores or pushes names a server or storage this
 * way (status, errors, the url property, sync-state keys); only the
 * connection itself uses the password.  Owned; NULL for a NULL @url or on
 * ENOMEM.
 */
char *url_redact(const char *url);

#endif
