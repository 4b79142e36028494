/* SPDX-License-Identifier: MIT */
/*
 * The cmf-server client (doc/cmf-upstream.md §2-3): POST <url>/api/mlmd_push
 * with the double-encoded document, POST <url>/api/mlmd_pull.  One struct
 * server per thread (it owns a curl handle).  Returns 0 or -errno, with a
 * one-line explanation in server_error():
 *   -ECONNREFUSED / -ETIMEDOUT / -EAGAIN (5xx)   the server is down or busy
 *   -EINVAL    400: the server refused the document
 *   -ENOENT    404: no such pipeline (pull), or no cmf-server at that URL
 *   -EPROTO    422 or an answer that is not what the API promises
 *   -EFBIG     413: the request was too large for the server or its proxy
 */
#ifndef CMFFS_SERVER_H
#define CMFFS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;

enum push_status {
	PUSH_SUCCESS,
	PUSH_EXISTS,
};

/*
 * @url like "http://host:8080" (a trailing "/api" or "/" is tolerated);
 * an http or https URL with a host and without query or fragment, else
 * -EINVAL with a message in *ret_err (owned, if @ret_err is not NULL).
 * A request that moves no byte for @stall_s seconds (0: 120) fails with
 * -ETIMEDOUT, to be retried later.  Nothing is sent yet.
 */
int server_open(const char *url, const char *ca_file, unsigned stall_s,
		struct server **ret, char **ret_err);
void server_close(struct server *srv);	/* NULL-safe */

int server_push(struct server *srv, const char *pipeline, const char *doc,
		size_t len, enum push_status *ret_status);

/* The pipeline's document (owned text). */
int server_pull(struct server *srv, const char *pipeline, char **ret_text,
		size_t *ret_len);
/*
 * The same with only the executions whose Execution_uuid list holds
 * @exec_uuid (mlmd_pull's exec_uuid); -ENOENT if the server has no such
 * pipeline or execution.
 */
int server_pull_execution(struct server *srv, const char *pipeline,
			  const char *exec_uuid, char **ret_text,
			  size_t *ret_len);

/*
 * Upload @size bytes of @fd (read with pread() from offset 0) as multipart
 * field "file" named @filename to POST <url>/api/@route ("label",
 * "python-env", "tensorboard"), with the query pipeline_name=@pipeline
 * when @pipeline is not NULL (tensorboard, doc/cmf-upstream.md §3).  A
 * file shorter than @size or unreadable fails the upload with -EIO or
 * its -errno; nothing short is sent.  The server's {"error": ...}
 * answers, which come with status 200 (doc/cmf-upstream.md §8.28), are
 * failures (-EPROTO).
 */
int server_upload(struct server *srv, const char *route, const char *pipeline,
		  const char *filename, int fd, uint64_t size);

const char *server_error(const struct server *srv);
/* The server URL as shown and recorded: its password redacted. */
const char *server_url(const struct server *srv);

#endif
