/* SPDX-License-Identifier: MIT */
/*
 * SSH storage backend: objects are files below a directory of an SFTP
 * server, reached through libcurl's SFTP (libssh2).
 *
 * storage_url is ssh://[user@]host[:port]/abs/path (percent-encoding
 * allowed); object keys go below /abs/path.  Without a path the root is
 * "/", as upstream CMF's pull assumes; "/~/dir" means dir in the login
 * directory.  The login name defaults to the effective user, the key file
 * to the first of ~/.ssh/id_ed25519, id_ecdsa, id_rsa.  Authentication is
 * by public key only.  Note that libssh2 1.10 signs with ssh-rsa (SHA-1)
 * only, which OpenSSH >= 8.8 refuses: use ed25519 or ecdsa keys.
 *
 * The server's host key is never trusted on first use: host-key-sha256
 * must hold its pinned SHA256 fingerprint, and libcurl checks it before
 * authenticating.
 *
 * put uploads to "<key>.tmp-<16 hex>" and, in the same SFTP session, a
 * POSTQUOTE "rename" moves the file to its final name, so a partial upload
 * never carries that name.  OpenSSH's sftp-server renames with link() and
 * unlink(), so renaming onto an existing object fails rather than
 * replacing it; objects are content-addressed, so that means a concurrent
 * writer published the same bytes first, and the temporary file is
 * removed.  A temporary file can be left behind only when the connection
 * fails in the middle of an upload (or the process is killed); the next
 * upload of the same key removes such leftovers once the object is in
 * place, and the object, never confirmed, is still pending until then.
 *
 * One CURL handle per storage.  It is reset before every request
 * (http_reset()), which keeps the SSH connection open for the next one.
 * Transfers are not bound by a total timeout (objects may be large):
 * connecting has 10 s, one SFTP reply 60 s, and a transfer that makes no
 * progress for [sync] stall-timeout is abandoned.
 */
#include "storage_i.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "curlerr.h"
#include "hash.h"
#include "http.h"
#include "sb.h"

#define SSH_RESPONSE_TIMEOUT	60L	/* seconds for one SFTP reply */
#define SSH_DEFAULT_PORT	22L
#define SHA256_B64_LEN		43	/* base64 of 32 bytes, no padding */

struct ssh_priv {
	struct http_opts opts;	/* sftp only; stall-timeout */
	CURL *curl;
	CURLU *url;		/* sftp://host[:port]/: no user, no path */
	char *user;		/* login name */
	char *host;		/* host as in the URL, for messages */
	long port;
	char *root;		/* remote root for URLs, decoded, ends in '/' */
	char *qroot;		/* the same as quote commands see it */
	char *key_file;		/* private key */
	char *pub_file;		/* public key, or "" to derive it */
	char *pin;		/* host key SHA256, base64 without padding */
	char errbuf[CURL_ERROR_SIZE];
};

static char *str_cat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *p = malloc(la + lb + lc + 1);

	if (!p)
		return NULL;
	memcpy(p, a, la);
	memcpy(p + la, b, lb);
	memcpy(p + la + lb, c, lc + 1);
	return p;
}

static int errno_msg_fail(struct storage *s, int r, const char *what,
			  const char *arg)
{
	char buf[128];

	return storage_fail(s, r, "%s '%s': %s", what, arg,
			    strerror_r(-r, buf, sizeof(buf)));
}

/* "ssh-keyscan -p PORT HOST | ssh-keygen -lf -", for messages. */
static void keyscan_hint(const struct ssh_priv *p, char *buf, size_t n)
{
	int k = snprintf(buf, n, "ssh-keyscan -p %ld %s | ssh-keygen -lf -",
			 p->port, p->host);

	if (k < 0 || (size_t)k >= n)
		snprintf(buf, n, "ssh-keyscan -p PORT HOST | ssh-keygen -lf -");
}

/*
 * Normalize a pinned fingerprint: an optional "SHA256:" prefix and "="
 * padding are dropped.  Returns an owned string or NULL (*ret_r says why).
 */
static char *pin_normalize(const char *in, int *ret_r)
{
	const char *b = in;
	size_t len, i;
	char *out;

	while (*b == ' ' || *b == '\t')
		b++;
	if (strncasecmp(b, "SHA256:", 7) == 0)
		b += 7;
	len = strlen(b);
	while (len > 0 && (b[len - 1] == ' ' || b[len - 1] == '\t' ||
			   b[len - 1] == '\n' || b[len - 1] == '='))
		len--;
	*ret_r = -EINVAL;
	if (len != SHA256_B64_LEN)
		return NULL;
	for (i = 0; i < len; i++) {
		char c = b[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return NULL;
	}
	*ret_r = -ENOMEM;
	out = strndup(b, len);
	if (out)
		*ret_r = 0;
	return out;
}

/*
 * Parse ssh://[user@]host[:port][/path] into @p: the sftp:// URL template,
 * user, host, port and the remote root (URL and quote forms).
 */
static int ssh_parse_url(struct storage *s, struct ssh_priv *p,
			 const char *url)
{
	CURLU *u = NULL;
	char *user = NULL, *host = NULL, *port = NULL, *path = NULL;
	const char *why;
	CURLUcode uc;
	size_t len;
	int r;

	r = http_url_parse(url, "ssh",
			   HTTP_URL_NO_PASSWORD | HTTP_URL_NO_QUERY, &u, &why);
	if (r == -EINVAL)
		r = storage_fail(s, r,
				 "ssh storage url '%s' %s: it must be ssh://[user@]host[:port]/path (key authentication only)",
				 url, why);
	if (r < 0)
		goto out;
	uc = curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
	if (uc == CURLUE_OK && user[0] != '\0') {
		p->user = strdup(user);
		if (!p->user) {
			r = -ENOMEM;
			goto out;
		}
	} else if (uc != CURLUE_OK && uc != CURLUE_NO_USER) {
		r = storage_fail(s, -EINVAL, "bad user in ssh storage url '%s'",
				 url);
		goto out;
	}
	uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
	if (uc != CURLUE_OK || host[0] == '\0') {
		r = storage_fail(s, -EINVAL, "no host in ssh storage url '%s'",
				 url);
		goto out;
	}
	p->host = strdup(host);
	if (!p->host) {
		r = -ENOMEM;
		goto out;
	}
	p->port = SSH_DEFAULT_PORT;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
		char *end;

		errno = 0;
		p->port = strtol(port, &end, 10);
		if (errno || *end || p->port < 1 || p->port > 65535) {
			r = storage_fail(s, -EINVAL,
					 "bad port in ssh storage url '%s'", url);
			goto out;
		}
	}
	uc = curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE);
	if (uc != CURLUE_OK) {
		r = storage_fail(s, -EINVAL,
				 "bad path in ssh storage url '%s'", url);
		goto out;
	}
	len = strlen(path);
	p->root = str_cat3(path[0] == '/' ? "" : "/", path,
			   len > 0 && path[len - 1] == '/' ? "" : "/");
	if (!p->root) {
		r = -ENOMEM;
		goto out;
	}
	/*
	 * libcurl resolves "/~/" in URL paths against the login directory;
	 * quote commands take the relative path, which sftp-server resolves
	 * the same way.
	 */
	if (strncmp(p->root, "/~/", 3) == 0)
		p->qroot = strdup(p->root + 3);
	else
		p->qroot = strdup(p->root);
	if (!p->qroot) {
		r = -ENOMEM;
		goto out;
	}

	/* the template: same host and port, scheme sftp, nothing else */
	uc = curl_url_set(u, CURLUPART_SCHEME, "sftp", 0);
	if (uc == CURLUE_OK)
		uc = curl_url_set(u, CURLUPART_USER, NULL, 0);
	if (uc == CURLUE_OK)
		uc = curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (uc == CURLUE_OK)
		uc = curl_url_set(u, CURLUPART_PATH, "/", 0);
	if (uc != CURLUE_OK) {
		r = uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
		r = storage_fail(s, r, "cannot use ssh storage url '%s': %s",
				 url, curl_url_strerror(uc));
		goto out;
	}
	p->url = u;
	u = NULL;
	r = 0;
out:
	curl_free(user);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return r;
}

/* Login name of the effective user; owned string or NULL. */
static int current_user(char **ret)
{
	struct passwd pw, *res = NULL;
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t bufsz = sz > 0 ? (size_t)sz : 16384;
	char *buf = malloc(bufsz);
	int e, r;

	if (!buf)
		return -ENOMEM;
	e = getpwuid_r(geteuid(), &pw, buf, bufsz, &res);
	if (e || !res) {
		r = e ? -e : -ENOENT;
		goto out;
	}
	*ret = strdup(pw.pw_name);
	r = *ret ? 0 : -ENOMEM;
out:
	free(buf);
	return r;
}

/* Pick the key files: the configured one, or the first default in ~/.ssh. */
static int ssh_find_keys(struct storage *s, struct ssh_priv *p,
			 const char *key)
{
	static const char *const defaults[] = {
		"/.ssh/id_ed25519", "/.ssh/id_ecdsa", "/.ssh/id_rsa",
	};
	const char *home = getenv("HOME");
	size_t i;

	if (key && key[0]) {
		p->key_file = strdup(key);
		if (!p->key_file)
			return -ENOMEM;
	} else if (home && home[0] == '/') {
		for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
			p->key_file = str_cat3(home, defaults[i], "");
			if (!p->key_file)
				return -ENOMEM;
			if (access(p->key_file, R_OK) == 0)
				break;
			free(p->key_file);
			p->key_file = NULL;
		}
	}
	if (!p->key_file)
		return storage_fail(s, -EINVAL,
				    "no ssh key: set key = /path/to/private/key in [storage] (ed25519 recommended)");
	if (access(p->key_file, R_OK) < 0) {
		char buf[128];

		return storage_fail(s, -EINVAL, "cannot read ssh key '%s': %s",
				    p->key_file,
				    strerror_r(errno, buf, sizeof(buf)));
	}

	/* "" makes libssh2 derive the public key from the private one */
	p->pub_file = str_cat3(p->key_file, ".pub", "");
	if (!p->pub_file)
		return -ENOMEM;
	if (access(p->pub_file, R_OK) < 0)
		p->pub_file[0] = '\0';
	return 0;
}

static void ssh_free(struct ssh_priv *p)
{
	if (!p)
		return;
	curl_easy_cleanup(p->curl);
	curl_url_cleanup(p->url);
	free(p->user);
	free(p->host);
	free(p->root);
	free(p->qroot);
	free(p->key_file);
	free(p->pub_file);
	free(p->pin);
	free(p);
}

static bool curl_has_sftp(void)
{
	const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
	const char *const *proto;

	for (proto = vi ? vi->protocols : NULL; proto && *proto; proto++)
		if (strcmp(*proto, "sftp") == 0)
			return true;
	return false;
}

static int ssh_open(struct storage *s, const struct config *cfg)
{
	struct ssh_priv *p;
	char hint[320];
	int r;

	if (!cfg->storage_url)
		return storage_fail(s, -EINVAL,
				    "ssh storage needs url = ssh://[user@]host[:port]/path");
	if (!curl_has_sftp())
		return storage_fail(s, -EINVAL,
				    "this libcurl was built without SFTP support");
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->opts.protocols = "sftp";
	p->opts.stall_s = (long)config_stall_timeout(cfg);

	r = ssh_parse_url(s, p, cfg->storage_url);
	if (r < 0)
		goto out;
	keyscan_hint(p, hint, sizeof(hint));
	if (!cfg->ssh_host_key_sha256 || !cfg->ssh_host_key_sha256[0]) {
		r = storage_fail(s, -EINVAL,
				 "no pinned host key for ssh server %s: set host-key-sha256 in [storage] to the base64 text after \"SHA256:\" printed by `%s` (and check it with the server's administrator)",
				 p->host, hint);
		goto out;
	}
	p->pin = pin_normalize(cfg->ssh_host_key_sha256, &r);
	if (!p->pin) {
		if (r == -EINVAL)
			r = storage_fail(s, r,
					 "host-key-sha256 '%s' is not a base64 SHA256 fingerprint; get it with `%s`",
					 cfg->ssh_host_key_sha256, hint);
		goto out;
	}
	if (!p->user) {
		r = current_user(&p->user);
		if (r < 0) {
			if (r != -ENOMEM)
				r = storage_fail(s, -EINVAL,
						 "no user in ssh storage url '%s' and no name for uid %u",
						 cfg->storage_url,
						 (unsigned)geteuid());
			goto out;
		}
	}
	r = ssh_find_keys(s, p, cfg->ssh_key);
	if (r < 0)
		goto out;
	p->curl = curl_easy_init();
	if (!p->curl) {
		r = -ENOMEM;
		goto out;
	}
	s->priv = p;
	p = NULL;
	r = 0;
out:
	ssh_free(p);
	return r;
}

static void ssh_close(struct storage *s)
{
	ssh_free(s->priv);
	s->priv = NULL;
}

/* sftp://host[:port]/<root><key>, owned (curl_free) in *ret_url. */
static int ssh_url(struct ssh_priv *p, const char *key, char **ret_url)
{
	struct sb path;
	int r;

	sb_init(&path, 0);
	http_encode(&path, p->root, true);
	http_encode(&path, key, true);
	r = sb_err(&path);
	if (r == 0)
		r = http_url_join(p->url, path.buf, NULL, ret_url);
	sb_release(&path);
	return r;
}

/*
 * Reset the handle (the connection stays open) and set what every request
 * needs.  Returns 0 or -errno.
 */
static int ssh_prepare(struct storage *s, const char *url)
{
	struct ssh_priv *p = s->priv;
	CURL *h = p->curl;
	CURLcode cc = CURLE_OK;
	int r;

	r = http_reset(h, &p->opts, url, p->errbuf);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return storage_fail(s, r, "libcurl refused an SFTP option");
	HTTP_SETOPT(cc, h, CURLOPT_SERVER_RESPONSE_TIMEOUT, SSH_RESPONSE_TIMEOUT);
	HTTP_SETOPT(cc, h, CURLOPT_USERNAME, p->user);
	HTTP_SETOPT(cc, h, CURLOPT_SSH_AUTH_TYPES, (long)CURLSSH_AUTH_PUBLICKEY);
	HTTP_SETOPT(cc, h, CURLOPT_SSH_PRIVATE_KEYFILE, p->key_file);
	HTTP_SETOPT(cc, h, CURLOPT_SSH_PUBLIC_KEYFILE, p->pub_file);
	HTTP_SETOPT(cc, h, CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256, p->pin);
	if (cc == CURLE_OUT_OF_MEMORY)
		return -ENOMEM;
	if (cc != CURLE_OK)
		return storage_fail(s, -EINVAL, "libcurl refused an SFTP option: %s",
				    curl_easy_strerror(cc));
	return 0;
}

/* The host key check failed: say which key the server showed. */
static int ssh_fail_hostkey(struct storage *s)
{
	struct ssh_priv *p = s->priv;
	const char *m = strstr(p->errbuf, "mismatch sha256 fingerprint");
	char seen[64] = "", hint[320];
	size_t n = 0;

	keyscan_hint(p, hint, sizeof(hint));
	if (!m)
		return storage_fail(s, -EACCES,
				    "cannot verify the host key of ssh server %s:%ld against the pinned SHA256:%s: %s",
				    p->host, p->port, p->pin,
				    p->errbuf[0] ? p->errbuf : "verification failed");
	/* libcurl: "... Remote <base64> is not equal to <pin>" */
	m = strstr(m, "Remote ");
	if (m) {
		m += 7;
		while (m[n] && m[n] != ' ' && m[n] != '=' &&
		       n < sizeof(seen) - 1) {
			seen[n] = m[n];
			n++;
		}
		seen[n] = '\0';
	}
	return storage_fail(s, -EACCES,
			    "host key of ssh server %s:%ld does not match the pinned SHA256:%s%s%s%s; if the server's key changed on purpose, update host-key-sha256 with `%s`",
			    p->host, p->port, p->pin,
			    n ? " (the server presents SHA256:" : "",
			    n ? seen : "", n ? ")" : "", hint);
}

/* Translate a failed transfer into -errno and a message. */
static int ssh_fail(struct storage *s, CURLcode cc, const char *what,
		    const char *key)
{
	struct ssh_priv *p = s->priv;
	const char *detail = p->errbuf[0] ? p->errbuf : curl_easy_strerror(cc);
	int r = curl_to_errno(p->curl, cc);

	switch (cc) {
	case CURLE_REMOTE_FILE_NOT_FOUND:
		return storage_fail(s, r, "%s '%s%s' on %s: no such file",
				    what, p->qroot, key, p->host);
	case CURLE_PEER_FAILED_VERIFICATION:
		return ssh_fail_hostkey(s);
	case CURLE_LOGIN_DENIED:
		return storage_fail(s, r,
				    "ssh server %s:%ld refused key '%s' for user '%s' (libssh2 cannot use RSA keys with OpenSSH >= 8.8: use ed25519): %s",
				    p->host, p->port, p->key_file, p->user,
				    detail);
	case CURLE_REMOTE_ACCESS_DENIED:
		return storage_fail(s, r, "%s '%s%s' on %s: permission denied",
				    what, p->qroot, key, p->host);
	case CURLE_REMOTE_DISK_FULL:
		return storage_fail(s, r, "%s '%s%s' on %s: %s", what,
				    p->qroot, key, p->host, detail);
	case CURLE_OUT_OF_MEMORY:
		return r;
	case CURLE_COULDNT_RESOLVE_HOST:
		return storage_fail(s, r, "cannot resolve ssh server %s: %s",
				    p->host, detail);
	case CURLE_COULDNT_CONNECT:
		return storage_fail(s, r, "cannot connect to ssh server %s:%ld: %s",
				    p->host, p->port, detail);
	default:
		return storage_fail(s, r, "%s '%s' on %s: %s", what, key,
				    p->host, detail);
	}
}

/* Stops a download at its first bytes: the size is known by then. */
static size_t first_bytes_cb(char *ptr, size_t size, size_t nmemb,
			     void *data)
{
	(void)ptr;
	(void)size;
	(void)nmemb;
	*(bool *)data = true;
	return 0;
}

static int ssh_stat(struct storage *s, const char *key, uint64_t *ret_size)
{
	bool stopped = false;
	struct ssh_priv *p = s->priv;
	char *url = NULL;
	CURLcode cc = CURLE_OK;
	int r;

	r = ssh_url(p, key, &url);
	if (r < 0)
		goto out;
	r = ssh_prepare(s, url);
	if (r < 0)
		goto out;
	if (!ret_size) {
		/* opens the file for reading and stats it, reads nothing */
		HTTP_SETOPT(cc, p->curl, CURLOPT_NOBODY, 1L);
	} else {
		/*
		 * libcurl reports an SFTP file's size once a download has
		 * begun (not for a NOBODY): begin one, stop at its first
		 * bytes.
		 */
		HTTP_SETOPT(cc, p->curl, CURLOPT_WRITEFUNCTION, first_bytes_cb);
		HTTP_SETOPT(cc, p->curl, CURLOPT_WRITEDATA, &stopped);
	}
	if (cc == CURLE_OK)
		cc = curl_easy_perform(p->curl);
	if (cc == CURLE_WRITE_ERROR && stopped)
		cc = CURLE_OK;
	r = cc == CURLE_OK ? 0 : ssh_fail(s, cc, "stat", key);
	if (r == 0 && ret_size) {
		/* a download that ended without a byte: an empty file */
		if (!stopped)
			*ret_size = 0;
		else if (http_content_length(p->curl, ret_size) < 0)
			r = storage_fail(s, -EPROTO,
					 "SFTP stat of %s: no size in the answer",
					 key);
	}
out:
	curl_free(url);
	return r;
}

/* 'cmd "<root><a>"[ "<root><b>"]' with '"' and '\' escaped for libcurl. */
static int quote_cmd(const struct ssh_priv *p, const char *cmd,
		     const char *a, const char *b, char **ret)
{
	const char *args[2] = { a, b };
	struct sb sb;
	size_t i;
	const char *c;

	sb_init(&sb, 0);
	sb_puts(&sb, cmd);
	for (i = 0; i < 2 && args[i]; i++) {
		sb_puts(&sb, " \"");
		for (c = p->qroot; *c; c++) {
			if (*c == '"' || *c == '\\')
				sb_putc(&sb, '\\');
			sb_putc(&sb, *c);
		}
		sb_puts(&sb, args[i]);	/* keys need no escaping */
		sb_putc(&sb, '"');
	}
	*ret = sb_detach(&sb, NULL);
	return *ret ? 0 : -ENOMEM;
}

/*
 * Remove @tmp (best effort) and report whether @key exists, in one
 * request: the quote command runs first ("*": its failure is ignored),
 * then the final name is opened.  Leaves no message.
 */
static int ssh_drop_tmp(struct storage *s, const char *key, const char *tmp)
{
	struct ssh_priv *p = s->priv;
	struct curl_slist *quote = NULL, *l;
	char *url = NULL, *cmd = NULL;
	CURLcode cc = CURLE_OK;
	int r;

	r = ssh_url(p, key, &url);
	if (r < 0)
		goto out;
	r = quote_cmd(p, "*rm", tmp, NULL, &cmd);
	if (r < 0)
		goto out;
	l = curl_slist_append(quote, cmd);
	if (!l) {
		r = -ENOMEM;
		goto out;
	}
	quote = l;
	r = ssh_prepare(s, url);
	if (r < 0)
		goto out;
	HTTP_SETOPT(cc, p->curl, CURLOPT_NOBODY, 1L);
	HTTP_SETOPT(cc, p->curl, CURLOPT_QUOTE, quote);
	if (cc == CURLE_OK)
		cc = curl_easy_perform(p->curl);
	if (cc == CURLE_REMOTE_FILE_NOT_FOUND)
		r = -ENOENT;
	else if (cc != CURLE_OK)
		r = -EIO;
	else
		r = 0;
out:
	curl_slist_free_all(quote);
	free(cmd);
	curl_free(url);
	return r;
}

/*
 * Append '*rm "<root><dir><name>"' to @quote for each "<base>.tmp-..." in
 * @names (a directory listing, one name a line).  0 or -ENOMEM.
 */
static int rm_stale(const struct ssh_priv *p, const char *dir,
		    const char *base, const char *names,
		    struct curl_slist **quote)
{
	size_t nb = strlen(base), n;
	const char *line, *end;
	struct curl_slist *l;
	char *name, *cmd;
	int r;

	for (line = names; *line; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		n = (size_t)(end - line);
		if (n && line[n - 1] == '\r')
			n--;
		if (n <= nb + 5 || strncmp(line, base, nb) ||
		    strncmp(line + nb, ".tmp-", 5) ||
		    memchr(line, '"', n) || memchr(line, '\\', n))
			continue;
		name = malloc(strlen(dir) + n + 1);
		if (!name)
			return -ENOMEM;
		memcpy(name, dir, strlen(dir));
		memcpy(name + strlen(dir), line, n);
		name[strlen(dir) + n] = '\0';
		r = quote_cmd(p, "*rm", name, NULL, &cmd);
		free(name);
		if (r < 0)
			return r;
		l = curl_slist_append(*quote, cmd);
		free(cmd);
		if (!l)
			return -ENOMEM;
		*quote = l;
	}
	return 0;
}

/*
 * Remove the temporaries "<key>.tmp-..." that interrupted uploads left
 * next to @key, now that it is complete: one listing of its directory and,
 * if one is there, one request of "rm" commands.  A concurrent writer
 * whose temporary goes finds the object in place when its rename fails
 * (ssh_put()).  Best effort: leaves no message.
 */
static void ssh_drop_stale_tmps(struct storage *s, const char *key)
{
	struct ssh_priv *p = s->priv;
	const char *slash = strrchr(key, '/');
	struct curl_slist *quote = NULL;
	char *dir = NULL, *lurl = NULL, *kurl = NULL, *names = NULL;
	CURLcode cc = CURLE_OK;
	struct http_sink sink;
	struct sb list;

	sb_init(&list, 1 << 20);
	if (!slash)
		goto out;
	dir = strndup(key, (size_t)(slash - key) + 1);	/* "files/md5/ab/" */
	if (!dir || ssh_url(p, dir, &lurl) < 0 || ssh_prepare(s, lurl) < 0 ||
	    http_receive(p->curl, &sink, -1, &list, HTTP_SINK_WHOLE) < 0)
		goto out;
	HTTP_SETOPT(cc, p->curl, CURLOPT_DIRLISTONLY, 1L);
	if (cc != CURLE_OK || curl_easy_perform(p->curl) != CURLE_OK)
		goto out;
	names = sb_detach(&list, NULL);
	if (!names || rm_stale(p, dir, slash + 1, names, &quote) < 0 || !quote)
		goto out;
	if (ssh_url(p, key, &kurl) < 0 || ssh_prepare(s, kurl) < 0)
		goto out;
	HTTP_SETOPT(cc, p->curl, CURLOPT_NOBODY, 1L);
	HTTP_SETOPT(cc, p->curl, CURLOPT_QUOTE, quote);
	if (cc == CURLE_OK)
		(void)curl_easy_perform(p->curl);
out:
	s->error[0] = '\0';
	sb_release(&list);
	curl_slist_free_all(quote);
	free(names);
	curl_free(lurl);
	curl_free(kurl);
	free(dir);
}

static int tmp_name(const char *key, char **ret)
{
	unsigned char rnd[8];
	char suffix[6 + 2 * sizeof(rnd) + 1] = ".tmp-";
	ssize_t n;

	do
		n = getrandom(rnd, sizeof(rnd), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(rnd))
		return -EIO;
	hex_encode(rnd, sizeof(rnd), suffix + 5);
	*ret = str_cat3(key, suffix, "");
	return *ret ? 0 : -ENOMEM;
}

/* Could a failed upload have left its temporary file behind? */
static bool tmp_may_exist(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_LOGIN_DENIED:
	case CURLE_REMOTE_ACCESS_DENIED:
	case CURLE_REMOTE_FILE_NOT_FOUND:
	case CURLE_OUT_OF_MEMORY:
		return false;	/* failed before the file was created */
	default:
		return true;
	}
}

static int ssh_put(struct storage *s, const char *key, int fd, uint64_t size)
{
	struct ssh_priv *p = s->priv;
	struct curl_slist *post = NULL, *l;
	char *tmp = NULL, *url = NULL, *cmd = NULL, why[160];
	CURLcode cc = CURLE_OK;
	struct http_body body;
	int r;

	r = ssh_stat(s, key, NULL);
	if (r != -ENOENT)
		return r;	/* 0: already there (same bytes), or an error */

	r = tmp_name(key, &tmp);
	if (r < 0)
		goto out;
	r = ssh_url(p, tmp, &url);
	if (r < 0)
		goto out;
	r = quote_cmd(p, "rename", tmp, key, &cmd);
	if (r < 0)
		goto out;
	l = curl_slist_append(post, cmd);
	if (!l) {
		r = -ENOMEM;
		goto out;
	}
	post = l;
	r = ssh_prepare(s, url);
	if (r < 0)
		goto out;
	http_body_fd(&body, fd, 0, size);
	r = http_send(p->curl, &body);
	if (r < 0) {
		r = errno_msg_fail(s, r, "cannot upload", key);
		goto out;
	}
	HTTP_SETOPT(cc, p->curl, CURLOPT_FTP_CREATE_MISSING_DIRS,
		    (long)CURLFTP_CREATE_DIR);
	HTTP_SETOPT(cc, p->curl, CURLOPT_NEW_FILE_PERMS, 0644L);
	HTTP_SETOPT(cc, p->curl, CURLOPT_NEW_DIRECTORY_PERMS, 0755L);
	HTTP_SETOPT(cc, p->curl, CURLOPT_POSTQUOTE, post);
	if (cc == CURLE_OK)
		cc = curl_easy_perform(p->curl);
	if (cc == CURLE_OK) {
		ssh_drop_stale_tmps(s, key);
		r = 0;
		goto out;
	}

	r = http_local_error(&body, NULL, why, sizeof(why));
	if (r < 0) {
		r = storage_fail(s, r, "cannot upload '%s': %s", key, why);
	} else if (cc == CURLE_QUOTE_ERROR) {
		/* the rename failed: fine if the object is there now */
		r = storage_fail(s, -EPROTO,
				 "cannot rename '%s%s' to '%s%s' on %s: %s",
				 p->qroot, tmp, p->qroot, key, p->host,
				 p->errbuf[0] ? p->errbuf :
						curl_easy_strerror(cc));
	} else {
		r = ssh_fail(s, cc, "upload", tmp);
	}
	if (r != -ENOMEM && tmp_may_exist(cc) &&
	    ssh_drop_tmp(s, key, tmp) == 0 && cc == CURLE_QUOTE_ERROR)
		r = 0;		/* another writer published it first */
out:
	curl_slist_free_all(post);
	free(cmd);
	curl_free(url);
	free(tmp);
	return r;
}

static int ssh_get(struct storage *s, const char *key, int fd)
{
	struct ssh_priv *p = s->priv;
	char *url = NULL, why[160];
	CURLcode cc = CURLE_OK;
	struct http_sink sink;
	int r;

	r = ssh_url(p, key, &url);
	if (r < 0)
		goto out;
	r = ssh_prepare(s, url);
	if (r < 0)
		goto out;
	r = http_receive(p->curl, &sink, fd, NULL, HTTP_SINK_ANY_STATUS);
	if (r < 0)
		goto out;
	cc = curl_easy_perform(p->curl);
	r = http_local_error(NULL, &sink, why, sizeof(why));
	if (r < 0)
		r = storage_fail(s, r, "cannot download '%s': %s", key, why);
	else if (cc != CURLE_OK)
		r = ssh_fail(s, cc, "download", key);
out:
	curl_free(url);
	return r;
}

const struct storage_ops storage_ssh_ops = {
	.name = "ssh",
	.open = ssh_open,
	.close = ssh_close,
	.stat = ssh_stat,
	.put = ssh_put,
	.get = ssh_get,
};
