/* SPDX-License-Identifier: MIT */
/*
 * Logging, in two streams.
 *
 * The diagnostic stream (log_msg, log_errno) is for operators: syslog levels,
 * filtered before formatting, written to stderr (the daemon's log when it runs
 * in the foreground).
 *
 * The user journal (log_user) is what a user reads in the mount's .cmf/log:
 * one human-readable line per refused operation or failure, saying what was
 * refused and why.  The most recent LOG_JOURNAL_LINES lines are kept in memory
 * and every line is also appended to a file (WS/.cmf/log) so that it survives
 * the mount.
 *
 * Every message is escaped before it is written (sb_put_escaped: control
 * characters as \n, \xNN) and capped, so that untrusted text quoted in a
 * message (a name from a document, a server's answer) can never make two
 * lines or a terminal escape.
 *
 * All functions are thread-safe.  None of them fails: a line that cannot be
 * allocated is dropped.
 */
#ifndef CMFFS_LOG_H
#define CMFFS_LOG_H

#include <stddef.h>
#include <syslog.h>

#define LOG_JOURNAL_LINES 1000
/* Bytes of a message kept; the rest is cut and marked "..." */
#define LOG_JOURNAL_LINE_MAX 1000
#define LOG_LINE_MAX 4000

/* Messages above @level (e.g. LOG_DEBUG when level is LOG_INFO) are dropped. */
void log_set_level(int level);

void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Log "<message>: <strerror(-r)>" and return @r, for `return log_errno(...)`. */
int log_errno(int level, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Append journal lines to @fd as well: a regular file the caller opened
 * O_APPEND without following links (safefs.h; WS/.cmf/log is 0600).  @fd
 * is owned from now on.  Returns 0, or -EINVAL (and @fd is closed) if it is
 * not a regular file.  Calling it again switches files; -1 stops.
 */
int log_journal_open(int fd);

/* One line for the user journal; also logged at LOG_NOTICE.  No newline. */
void log_user(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copy the in-memory journal, oldest line first, each line ending in '\n'.
 * *ret_buf is owned by the caller.  Returns 0 or -ENOMEM.
 */
int log_journal_snapshot(char **ret_buf, size_t *ret_len);

/* Drop the in-memory journal and close the journal file. */
void log_journal_close(void);

#endif
