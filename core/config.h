/* SPDX-License-Identifier: MIT */
/*
 * Workspace configuration: reading and writing WS/.cmfconfig.
 *
 * The file is an INI file shared with upstream CMF, which reads and writes
 * it with Python's configparser.  We own three sections:
 *
 *	[cmf]
 *	server-url = http://127.0.0.1:8080
 *
 *	[storage]
 *	type = local | s3 | ssh | osdf
 *	path = /abs/dir				(local)
 *	url = s3://bucket/prefix | ssh://user@host:port/path | https://...
 *	endpoint-url = http://127.0.0.1:18080	(s3)
 *	access-key-id = ...			(s3)
 *	secret-key = ...			(s3)
 *	region = us-east-1			(s3)
 *	key = /path/to/private/key		(ssh)
 *	host-key-sha256 = base64		(ssh, pinned host key)
 *	token = /path/to/token/file		(osdf)
 *	ca-file = /path/to/ca.pem		(https: s3, osdf)
 *	jobs = 4				(uploads in flight at once)
 *
 *	[sync]
 *	interval = 30
 *	stall-timeout = 120			(seconds without progress)
 *
 *	[cache]
 *	max-size = 50G				(bytes, or K, M, G, T: powers
 *						 of 1024; no key: no limit)
 *
 * Any other section (upstream's [neo4j] and [osdf], or anything else) is
 * "foreign": it is kept verbatim, key order included, and written back after
 * ours by config_save().  Unknown keys inside our own sections are errors,
 * so that typos are caught.  Key names are matched case-insensitively (as
 * configparser does), section names case-sensitively.  An empty value
 * ("path =") in our sections means the key is unset.
 *
 * Parsing uses inih with its default settings, so a few limits apply:
 * lines are limited to the line buffer of inih (200 bytes by default; longer
 * lines are reported as errors rather than silently split), a ';' preceded
 * by whitespace starts an inline comment, and comments and empty foreign
 * sections are not preserved by config_save() (configparser drops comments
 * too).  Multi-line values (configparser continuation lines) are kept in
 * foreign sections, joined with '\n', and rejected in ours.
 *
 * These functions only read global state (inih's option variables); distinct
 * struct config objects may be used from distinct threads.
 */
#ifndef CMFFS_CONFIG_H
#define CMFFS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Name of the config file inside a workspace directory. */
#define CONFIG_FILE_NAME ".cmfconfig"

/* Defaults and limits. */
#define CONFIG_DEFAULT_SYNC_INTERVAL 30U
#define CONFIG_MAX_SYNC_INTERVAL 86400U
#define CONFIG_DEFAULT_REGION "us-east-1"
#define CONFIG_DEFAULT_JOBS 4U
#define CONFIG_MAX_JOBS 16U
#define CONFIG_DEFAULT_STALL_TIMEOUT 120U
#define CONFIG_MAX_STALL_TIMEOUT 3600U
#define CONFIG_MAX_CACHE_SIZE ((uint64_t)1 << 62)	/* 4 EiB */

enum storage_type {
	STORAGE_NONE = 0,
	STORAGE_LOCAL,
	STORAGE_S3,
	STORAGE_SSH,
	STORAGE_OSDF,
};

/* One "key = value" line of a foreign section. */
struct config_entry {
	char *key;		/* owned, as spelled in the file */
	char *value;		/* owned; lines joined with '\n'; NULL for a
				 * bare key (only if inih allows no-value) */
};

/* A foreign section, kept only to be written back verbatim. */
struct config_section {
	char *name;			/* owned, without the brackets */
	struct config_entry *entries;	/* owned array, file order */
	size_t n_entries;
	size_t alloc_entries;
};

/*
 * The parsed configuration.  All char * fields are owned, NUL-terminated,
 * and NULL when not configured; callers may replace them (free() the old
 * value, store a malloc()ed one).  config_free() frees them all.
 */
struct config {
	/* [cmf] */
	char *server_url;

	/* [storage] */
	enum storage_type storage;	/* STORAGE_NONE when no type key */
	char *storage_path;		/* local: absolute directory */
	char *storage_url;		/* s3://, ssh:// or https:// URL */
	char *endpoint_url;		/* s3 */
	char *access_key_id;		/* s3 */
	char *secret_key;		/* s3 */
	char *region;			/* s3; NULL: CONFIG_DEFAULT_REGION,
					 * config_load() fills it in for s3 */
	char *ssh_key;			/* ssh: private key file */
	char *ssh_host_key_sha256;	/* ssh: pinned host key, base64 */
	char *token_file;		/* osdf: token file */
	char *ca_file;			/* https (s3, osdf): CA bundle to
					 * trust instead of the system's */
	unsigned storage_jobs;		/* 1..CONFIG_MAX_JOBS objects pushed
					 * at once, and parts of one
					 * multipart upload sent at once;
					 * 0 (a zeroed struct) means
					 * CONFIG_DEFAULT_JOBS; see
					 * config_storage_jobs() */

	/* [sync] */
	unsigned sync_interval;		/* seconds between passes */
	unsigned stall_timeout;		/* 1..CONFIG_MAX_STALL_TIMEOUT: a
					 * transfer to a server or storage
					 * that moves no byte for this long
					 * is abandoned (retried next pass);
					 * 0 (a zeroed struct) means
					 * CONFIG_DEFAULT_STALL_TIMEOUT; see
					 * config_stall_timeout() */

	/* [cache] */
	uint64_t cache_max_size;	/* bytes the local cache of artifact
					 * bytes may hold before objects
					 * confirmed at the storage are
					 * evicted (cache.h); 0: no limit */

	/*
	 * Foreign sections in file order (owned).  Managed by this module;
	 * read them with config_get_foreign().
	 */
	struct config_section *foreign;
	size_t n_foreign;
	size_t alloc_foreign;
};

/*
 * Allocate a configuration with defaults: no server URL, STORAGE_NONE, all
 * strings NULL, sync_interval CONFIG_DEFAULT_SYNC_INTERVAL, storage_jobs
 * CONFIG_DEFAULT_JOBS, no foreign
 * sections.  Returns the new object (owned by the caller, release with
 * config_free()) or NULL on ENOMEM.
 */
struct config *config_new(void);

/*
 * Free @c and everything it owns.  Every string is wiped before it is
 * freed, since several of them (secret-key, foreign passwords and tokens)
 * are secrets.  NULL-safe.
 */
void config_free(struct config *c);

/*
 * Parse the file at @path (borrowed), opened without following a link at
 * its end and without blocking: a link, a FIFO or anything but a regular
 * file is refused (safefs.h: -ELOOP, -EFTYPE_SAFEFS) with a message.
 *
 * On success returns 0 and stores a new configuration in *@ret_cfg (owned
 * by the caller).  On failure *@ret_cfg is set to NULL and a negative errno
 * is returned:
 *	-ENOENT	the file does not exist (*@ret_err is NULL);
 *	-EINVAL	a syntax error, an unknown or duplicate key in one of our
 *		sections, a key outside any section, an over-long line or an
 *		invalid value (storage type, interval);
 *	-EINVAL	also: the configuration fails config_validate() (so every
		command refuses what `cmffs init` refuses, e.g. a gopher://
		server-url in a hand-edited file);
	other	errors from opening or reading the file (-EACCES, -EIO,
 *		-ENOMEM, ...); *@ret_err describes them where it can.
 * When @ret_err is not NULL it receives NULL on success and an owned
 * message on failure, e.g.
 *	"'/ws/.cmfconfig' line 4: unknown storage type 'ftp'"
 * which may itself be NULL if there was no memory to build it.  Messages
 * never contain secret values.
 *
 * The configuration returned has passed config_validate().
 */
int config_load(const char *path, struct config **ret_cfg, char **ret_err);

/*
 * config_load() of the file open at @fd (borrowed; read from its current
 * offset), which the caller opened safely; @path names it in messages.
 */
int config_load_fd(int fd, const char *path, struct config **ret_cfg,
		   char **ret_err);

/*
 * Write @c (borrowed) to @path (borrowed) atomically: a temporary file is
 * created next to @path with mode 0600, written, fsync()ed and renamed over
 * @path, and then the directory is fsync()ed.  The result is always mode
 * 0600, whatever the umask and the mode of the file it replaces.
 *
 * Layout, in configparser style ("key = value", a blank line after each
 * section): [cmf] (omitted if server_url is unset), [storage] (type first;
 * jobs only when not CONFIG_DEFAULT_JOBS; omitted if it would be empty),
 * [sync] (always, with the interval; stall-timeout only when not
 * CONFIG_DEFAULT_STALL_TIMEOUT), [cache] (only with a max-size, written
 * as config_format_size() does), then the foreign sections in their
 * original order.  Our keys are written in
 * the order shown at the top of this file, under their canonical names;
 * NULL and empty ones are omitted.  Foreign keys are written as read, and
 * multi-line foreign values with configparser's tab-indented continuation
 * lines.  Comments in the file being replaced are not kept.
 *
 * Returns 0, or a negative errno: -EINVAL if a value cannot be written so
 * that it reads back identically (contains a control character other than
 * tab, starts or ends with whitespace, or has a ';' after whitespace), the
 * storage type is out of range, sync_interval exceeds
 * CONFIG_MAX_SYNC_INTERVAL, storage_jobs CONFIG_MAX_JOBS or cache_max_size
 * CONFIG_MAX_CACHE_SIZE; other values from the failing system call.
 * On failure @path is unchanged and the temporary file is removed, except
 * when only the final fsync() of the directory fails: the new file is then
 * in place but may not survive a crash, and the error is still returned.
 */
int config_save(const struct config *c, const char *path);

/*
 * The number of uploads the sync may run at once for @c: storage_jobs,
 * or CONFIG_DEFAULT_JOBS when it is 0, capped at CONFIG_MAX_JOBS.
 */
unsigned config_storage_jobs(const struct config *c);
/* [sync] stall-timeout in seconds, the default for 0. */
unsigned config_stall_timeout(const struct config *c);

/*
 * Parse a size (borrowed): decimal bytes ("1048576"), or a number with one
 * of the suffixes K, M, G, T (any case; powers of 1024), optionally
 * followed by "B" or "iB" ("500M", "50G", "1TiB").  No sign, no spaces, no
 * fraction; 1 to CONFIG_MAX_CACHE_SIZE.  Returns 0 and stores the bytes in
 * *@ret, or -EINVAL (*@ret untouched).
 */
int config_parse_size(const char *s, uint64_t *ret);

/*
 * Write @bytes into @buf (@size bytes, at least 24) as config_save() writes
 * a size: with the largest suffix that divides it exactly ("50G", "1536K",
 * "1000").  config_parse_size() reads it back to the same value.
 */
void config_format_size(uint64_t bytes, char *buf, size_t size);

/*
 * Canonical name of @t as written to the file: "local", "s3", "ssh",
 * "osdf", or "none" for STORAGE_NONE; "unknown" for out-of-range values.
 * Returns a static string.
 */
const char *storage_type_name(enum storage_type t);

/*
 * Parse a storage type name (borrowed), case-insensitively.  Accepts the
 * canonical names, "none", and upstream CMF's names: "minio", "minioS3" and
 * "amazonS3" mean STORAGE_S3, "sshremote" STORAGE_SSH, "osdfremote"
 * STORAGE_OSDF.  Returns 0 and stores the type in *@ret, or -EINVAL (and
 * *@ret is untouched).
 */
int storage_type_parse(const char *s, enum storage_type *ret);

/*
 * Check that @c (borrowed) is usable:
 *	server_url, if set, starts with http:// or https://;
 *	sync_interval is at most CONFIG_MAX_SYNC_INTERVAL;
 *	storage_jobs is at most CONFIG_MAX_JOBS;
 *	cache_max_size is at most CONFIG_MAX_CACHE_SIZE;
 *	none:  nothing else is needed;
 *	local: path is set and absolute;
 *	s3:    url is s3://BUCKET[/prefix], endpoint-url is set and starts
 *	       with http:// or https://, access-key-id and secret-key are set;
 *	ssh:   url is ssh://[user@]HOST[:port][/path]; key, if set, is an
 *	       absolute path;
 *	osdf:  url is https://HOST..., token is set and is an absolute path.
 * Returns 0, or -EINVAL with an owned message in *@ret_err (which may be
 * NULL on ENOMEM); *@ret_err is set to NULL on success.  @ret_err may be
 * NULL when the caller does not want the message.
 */
int config_validate(const struct config *c, char **ret_err);

/*
 * Look up @key (case-insensitively) in the foreign section @section
 * (case-sensitively), e.g. config_get_foreign(c, "neo4j", "uri").  Returns
 * the value of the first such key, borrowed from @c and valid until @c is
 * changed or freed, or NULL if there is no such key (or it has no value).
 */
const char *config_get_foreign(const struct config *c, const char *section,
			       const char *key);

#endif /* CMFFS_CONFIG_H */
