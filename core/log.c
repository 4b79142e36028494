/* SPDX-License-Identifier: MIT */
/*
 * Diagnostic log and user journal; see log.h.  The journal is a ring of
 * malloc'ed lines under one mutex; writes to the journal file are one write(2)
 * per line so that concurrent daemons never interleave within a line.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sb.h"
#include "utctime.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_level = LOG_INFO;
static char *journal[LOG_JOURNAL_LINES];	/* protected by log_lock */
static size_t journal_head;			/* next slot; protected */
static size_t journal_count;			/* protected by log_lock */
static int journal_fd = -1;			/* protected by log_lock */

static const char *const level_names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

void log_set_level(int level)
{
	pthread_mutex_lock(&log_lock);
	log_level = level;
	pthread_mutex_unlock(&log_lock);
}

static bool level_enabled(int level)
{
	bool on;

	pthread_mutex_lock(&log_lock);
	on = level <= log_level;
	pthread_mutex_unlock(&log_lock);
	return on;
}

/*
 * Format and escape: messages quote untrusted text (names from documents,
 * server answers), which must never become several lines or terminal
 * escapes, in the journal or on stderr.  NULL on ENOMEM.
 */
static char *format_line(size_t max, const char *fmt, va_list ap)
{
	char *raw = NULL, *text;

	if (vasprintf(&raw, fmt, ap) < 0)
		return NULL;
	text = text_escape(raw, max);
	free(raw);
	return text;
}

static void log_vmsg(int level, const char *suffix, const char *fmt,
		     va_list ap)
{
	char *text = format_line(LOG_LINE_MAX, fmt, ap);

	if (!text)
		return;
	if (level < LOG_EMERG || level > LOG_DEBUG)
		level = LOG_ERR;
	/* one fprintf per message keeps lines whole across threads */
	fprintf(stderr, "cmffs[%s]: %s%s\n", level_names[level], text,
		suffix ? suffix : "");
	free(text);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (!level_enabled(level))
		return;
	va_start(ap, fmt);
	log_vmsg(level, NULL, fmt, ap);
	va_end(ap);
}

int log_errno(int level, int r, const char *fmt, ...)
{
	char errbuf[128];
	char suffix[160];
	const char *msg;
	va_list ap;

	if (!level_enabled(level))
		return r;
	msg = strerror_r(r < 0 ? -r : r, errbuf, sizeof(errbuf));
	snprintf(suffix, sizeof(suffix), ": %s", msg);
	va_start(ap, fmt);
	log_vmsg(level, suffix, fmt, ap);
	va_end(ap);
	return r;
}

int log_journal_open(int fd)
{
	struct stat st;

	/* a FIFO or a device would block or leak the journal elsewhere */
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		return -EINVAL;
	}
	pthread_mutex_lock(&log_lock);
	if (journal_fd >= 0)
		close(journal_fd);
	journal_fd = fd;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void log_user(const char *fmt, ...)
{
	char stamp[UTC_ISO_MAX];
	char *text;
	char *line = NULL;
	time_t now = time(NULL);
	va_list ap;

	va_start(ap, fmt);
	text = format_line(LOG_JOURNAL_LINE_MAX, fmt, ap);
	va_end(ap);
	if (!text)
		return;
	utc_iso((int64_t)now * 1000, false, stamp);
	if (asprintf(&line, "%s %s\n", stamp, text) < 0) {
		free(text);
		return;
	}
	log_msg(LOG_NOTICE, "%s", text);
	free(text);

	pthread_mutex_lock(&log_lock);
	if (journal_fd >= 0) {
		ssize_t w = write(journal_fd, line, strlen(line));
		(void)w; /* the journal file is best effort; memory has it */
	}
	free(journal[journal_head]);
	journal[journal_head] = line;
	journal_head = (journal_head + 1) % LOG_JOURNAL_LINES;
	if (journal_count < LOG_JOURNAL_LINES)
		journal_count++;
	pthread_mutex_unlock(&log_lock);
}

int log_journal_snapshot(char **ret_buf, size_t *ret_len)
{
	size_t total = 0, pos = 0, i, start;
	char *buf;
	int r = 0;

	pthread_mutex_lock(&log_lock);
	start = (journal_head + LOG_JOURNAL_LINES - journal_count) %
		LOG_JOURNAL_LINES;
	for (i = 0; i < journal_count; i++)
		total += strlen(journal[(start + i) % LOG_JOURNAL_LINES]);
	buf = malloc(total + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < journal_count; i++) {
		const char *l = journal[(start + i) % LOG_JOURNAL_LINES];
		size_t n = strlen(l);

		memcpy(buf + pos, l, n);
		pos += n;
	}
	buf[pos] = '\0';
	*ret_buf = buf;
	*ret_len = pos;
out:
	pthread_mutex_unlock(&log_lock);
	return r;
}

void log_journal_close(void)
{
	size_t i;

	pthread_mutex_lock(&log_lock);
	for (i = 0; i < LOG_JOURNAL_LINES; i++) {
		free(journal[i]);
		journal[i] = NULL;
	}
	journal_head = journal_count = 0;
	if (journal_fd >= 0)
		close(journal_fd);
	journal_fd = -1;
	pthread_mutex_unlock(&log_lock);
}
