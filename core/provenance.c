/* SPDX-License-Identifier: MIT */
/*
 * provenance - record where an "execution" directory came from.
 *
 * Reads the command line, executable, working directory, user and host of
 * a process from /proc, walks up past plain file utilities to the process
 * that really asked for the directory, and reads the git state of the
 * repository holding its working directory straight from the repository
 * files (HEAD, refs, packed-refs, config, index).  No subprocess is run.
 * The contract of every exported function is documented in provenance.h.
 */
#include "provenance.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "safefile.h"

/* Largest /proc/PID/cmdline we keep; longer ones are truncated. */
#define CMDLINE_MAX		(4u << 20)
/* Largest small text file (HEAD, refs, .git, commondir, /proc/PID/stat). */
#define SMALL_FILE_MAX		(64u << 10)
/* Largest config and packed-refs file we parse. */
#define TEXT_FILE_MAX		(64u << 20)
/* Largest index file we parse. */
#define INDEX_FILE_MAX		(64u << 20)
/* More index entries than this give "unknown". */
#define INDEX_MAX_ENTRIES	100000u
/* Levels of parents walked past file utilities. */
#define WALK_MAX_LEVELS		4
/* Levels of symbolic refs followed. */
#define SYMREF_MAX_DEPTH	5
/* Chunk size used to hash working-tree files. */
#define HASH_CHUNK		(64u << 10)

#define SHA1_RAW_LEN		20
#define SHA1_HEX_LEN		40

/* Index entry flags (on-disk, big endian). */
#define CE_ASSUME_VALID		0x8000u
#define CE_EXTENDED		0x4000u
#define CE_STAGE_MASK		0x3000u
#define CE_NAME_MASK		0x0fffu
#define CE_SKIP_WORKTREE	0x4000u
#define CE_INTENT_TO_ADD	0x2000u

#define GIT_MODE_TYPE		0170000u
#define GIT_MODE_REG		0100000u
#define GIT_MODE_LINK		0120000u
#define GIT_MODE_GITLINK	0160000u

/* Per-entry and whole-index results of the dirty check. */
enum wt_state {
	WT_CLEAN = 0,
	WT_DIRTY = 1,
	WT_UNKNOWN = 2,
};

/* ------------------------------------------------------------------ */
/* Growable string buffer                                               */
/* ------------------------------------------------------------------ */

struct sbuf {
	char *buf;
	size_t len;
	size_t cap;
};

/* Make room for @extra more bytes plus a NUL.  Returns 0 or -ENOMEM. */
static int sb_grow(struct sbuf *sb, size_t extra)
{
	size_t need, cap;
	char *n;

	if (extra > SIZE_MAX - sb->len - 1)
		return -ENOMEM;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	n = realloc(sb->buf, cap);
	if (!n)
		return -ENOMEM;
	sb->buf = n;
	sb->cap = cap;
	return 0;
}

/* Append @n bytes of @s.  Returns 0 or -ENOMEM. */
static int sb_add(struct sbuf *sb, const char *s, size_t n)
{
	int r;

	r = sb_grow(sb, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

static int sb_addc(struct sbuf *sb, char c)
{
	return sb_add(sb, &c, 1);
}

static int sb_adds(struct sbuf *sb, const char *s)
{
	return sb_add(sb, s, strlen(s));
}

static void sb_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

static void sb_release(struct sbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
}

/*
 * Hand the contents over to *@ret (an empty string if nothing was added)
 * and leave @sb empty.  Returns 0 or -ENOMEM.
 */
static int sb_detach(struct sbuf *sb, char **ret)
{
	if (!sb->buf) {
		sb->buf = strdup("");
		if (!sb->buf)
			return -ENOMEM;
	}
	*ret = sb->buf;
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
	return 0;
}

/* strdup() returning 0 or -ENOMEM; @s NULL gives "". */
static int dup_str(const char *s, char **ret)
{
	char *d;

	d = strdup(s ? s : "");
	if (!d)
		return -ENOMEM;
	*ret = d;
	return 0;
}

/* "a" + "/" + "b" (no doubled slash).  Returns NULL on ENOMEM. */
static char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	bool slash = la && a[la - 1] != '/';
	char *p;

	if (la > SIZE_MAX - lb - 2)
		return NULL;
	p = malloc(la + lb + 2);
	if (!p)
		return NULL;
	memcpy(p, a, la);
	if (slash)
		p[la++] = '/';
	memcpy(p + la, b, lb);
	p[la + lb] = '\0';
	return p;
}

/* Strip trailing whitespace in place. */
static void rtrim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* ------------------------------------------------------------------ */
/* File reading                                                         */
/* ------------------------------------------------------------------ */

/*
 * readlinkat() into a new NUL-terminated string.
 * Returns 0 or -errno.
 */
static int readlink_alloc(int dirfd, const char *name, char **ret)
{
	size_t sz = 256;
	char *buf = NULL;
	ssize_t n;
	int r;

	for (;;) {
		buf = malloc(sz);
		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
		n = readlinkat(dirfd, name, buf, sz);
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if ((size_t)n < sz) {
			buf[n] = '\0';
			break;
		}
		free(buf);
		buf = NULL;
		if (sz >= (1u << 20)) {
			r = -ENAMETOOLONG;
			goto out;
		}
		sz *= 2;
	}
	*ret = buf;
	buf = NULL;
	r = 0;
out:
	free(buf);
	return r;
}

/* ------------------------------------------------------------------ */
/* argv -> Python repr                                                  */
/* ------------------------------------------------------------------ */

/*
 * Non-ASCII code points for which Python's str.isprintable() is false and
 * that are assigned (Cc, Cf, Co, Cs, Zl, Zp, Zs) plus the noncharacter
 * block U+FDD0..U+FDEF and a few unassigned neighbours.  Plane-final
 * noncharacters (U+xFFFE, U+xFFFF) are tested separately.
 */
static const uint32_t py_unprintable[][2] = {
	{ 0x80, 0xa0 },
	{ 0xad, 0xad },
	{ 0x600, 0x605 },
	{ 0x61c, 0x61c },
	{ 0x6dd, 0x6dd },
	{ 0x70f, 0x70f },
	{ 0x890, 0x891 },
	{ 0x8e2, 0x8e2 },
	{ 0x1680, 0x1680 },
	{ 0x180e, 0x180e },
	{ 0x2000, 0x200f },
	{ 0x2028, 0x202f },
	{ 0x205f, 0x206f },
	{ 0x3000, 0x3000 },
	{ 0xd800, 0xf8ff },
	{ 0xfdd0, 0xfdef },
	{ 0xfeff, 0xfeff },
	{ 0xfff0, 0xfffb },
	{ 0x110bd, 0x110bd },
	{ 0x110cd, 0x110cd },
	{ 0x13430, 0x1343f },
	{ 0x1bca0, 0x1bca3 },
	{ 0x1d173, 0x1d17a },
	{ 0xe0000, 0xe00ff },
	{ 0xe01f0, 0xe0fff },
	{ 0xf0000, 0x10ffff },
};

static bool py_printable(uint32_t cp)
{
	size_t i;

	if (cp < 0x80)
		return cp >= 0x20 && cp != 0x7f;
	if ((cp & 0xfffeu) == 0xfffeu)
		return false;
	for (i = 0; i < sizeof(py_unprintable) / sizeof(py_unprintable[0]);
	     i++) {
		if (cp >= py_unprintable[i][0] && cp <= py_unprintable[i][1])
			return false;
	}
	return true;
}

/*
 * Decode one strictly valid UTF-8 sequence (no overlongs, surrogates or
 * code points above U+10FFFF) at @s.  Returns its length and sets *@cp,
 * or 0 if the bytes are not valid UTF-8.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0fu;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07u;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	*cp = c;
	return len;
}

/* Append Python's escape for code point @cp.  Returns 0 or -ENOMEM. */
static int put_escape(struct sbuf *sb, uint32_t cp)
{
	char tmp[16];
	int n;

	if (cp <= 0xff)
		n = snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned int)cp);
	else if (cp <= 0xffff)
		n = snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned int)cp);
	else
		n = snprintf(tmp, sizeof(tmp), "\\U%08x", (unsigned int)cp);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -EINVAL;
	return sb_add(sb, tmp, (size_t)n);
}

/* Append repr() of one argument of @n bytes.  Returns 0 or -ENOMEM. */
static int repr_one(struct sbuf *sb, const char *arg, size_t n)
{
	const unsigned char *s = (const unsigned char *)arg;
	bool squote = memchr(arg, '\'', n) != NULL;
	bool dquote = memchr(arg, '"', n) != NULL;
	char quote = squote && !dquote ? '"' : '\'';
	size_t i = 0, k;
	uint32_t cp;
	int r;

	r = sb_addc(sb, quote);
	while (!r && i < n) {
		if (s[i] < 0x80) {
			char c = (char)s[i];

			if (c == quote || c == '\\') {
				r = sb_addc(sb, '\\');
				if (!r)
					r = sb_addc(sb, c);
			} else if (c == '\t') {
				r = sb_adds(sb, "\\t");
			} else if (c == '\n') {
				r = sb_adds(sb, "\\n");
			} else if (c == '\r') {
				r = sb_adds(sb, "\\r");
			} else if (!py_printable(s[i])) {
				r = put_escape(sb, s[i]);
			} else {
				r = sb_addc(sb, c);
			}
			i++;
			continue;
		}
		k = utf8_decode(s + i, n - i, &cp);
		if (!k) {
			/* surrogateescape: byte 0xNN becomes U+DCNN */
			r = put_escape(sb, 0xdc00u + s[i]);
			i++;
		} else if (!py_printable(cp)) {
			r = put_escape(sb, cp);
			i += k;
		} else {
			r = sb_add(sb, arg + i, k);
			i += k;
		}
	}
	if (!r)
		r = sb_addc(sb, quote);
	return r;
}

int provenance_format_argv(const char *buf, size_t len, char **ret_repr)
{
	struct sbuf sb = { 0 };
	const char *end;
	size_t pos = 0, alen;
	bool first = true;
	int r;

	if (!ret_repr || (!buf && len))
		return -EINVAL;
	r = sb_addc(&sb, '[');
	if (r < 0)
		goto out;
	while (pos < len) {
		end = memchr(buf + pos, '\0', len - pos);
		alen = end ? (size_t)(end - (buf + pos)) : len - pos;
		if (!first) {
			r = sb_adds(&sb, ", ");
			if (r < 0)
				goto out;
		}
		first = false;
		r = repr_one(&sb, buf + pos, alen);
		if (r < 0)
			goto out;
		pos += alen + (end ? 1 : 0);
	}
	r = sb_addc(&sb, ']');
	if (r < 0)
		goto out;
	r = sb_detach(&sb, ret_repr);
out:
	sb_release(&sb);
	return r;
}

/* ------------------------------------------------------------------ */
/* Git: locating the repository                                         */
/* ------------------------------------------------------------------ */

struct repo {
	char *gitdir;		/* per-worktree git dir: HEAD, index */
	char *commondir;	/* shared git dir: refs, packed-refs, config */
	char *worktree;		/* directory holding .git */
};

static void repo_release(struct repo *rp)
{
	free(rp->gitdir);
	free(rp->commondir);
	free(rp->worktree);
	rp->gitdir = NULL;
	rp->commondir = NULL;
	rp->worktree = NULL;
}

/* Is @dir a git directory (holds a HEAD file)? */
static bool is_gitdir(const char *dir)
{
	struct stat st;
	char *head;
	bool ok;

	head = path_join(dir, "HEAD");
	if (!head)
		return false;
	ok = stat(head, &st) == 0 && S_ISREG(st.st_mode);
	free(head);
	return ok;
}

/* Results of resolve_dotgit(). */
enum dotgit_result {
	DOTGIT_NONE = 0,	/* no usable .git here: keep walking up */
	DOTGIT_FOUND = 1,	/* *ret is the git dir */
	DOTGIT_BROKEN = 2,	/* unusable .git file: git gives up too */
};

/*
 * Resolve the ".git" entry @dotgit in directory @dir.  A directory counts
 * if it holds HEAD; a regular file must read "gitdir: PATH" and PATH must
 * be a git directory.  Returns an enum dotgit_result (*@ret set to a new
 * string for DOTGIT_FOUND) or -ENOMEM.
 */
static int resolve_dotgit(const char *dir, const char *dotgit, char **ret)
{
	struct stat st;
	char *buf = NULL, *path = NULL, *p;
	int r;

	*ret = NULL;
	if (stat(dotgit, &st) < 0)
		return DOTGIT_NONE;
	if (S_ISDIR(st.st_mode)) {
		if (!is_gitdir(dotgit))
			return DOTGIT_NONE;
		*ret = strdup(dotgit);
		return *ret ? DOTGIT_FOUND : -ENOMEM;
	}
	if (!S_ISREG(st.st_mode))
		return DOTGIT_NONE;
	r = file_read_at(AT_FDCWD, dotgit, SMALL_FILE_MAX, false, &buf, NULL,
			 NULL);
	if (r < 0) {
		if (r != -ENOMEM)
			r = DOTGIT_BROKEN;
		goto out;
	}
	r = DOTGIT_BROKEN;
	if (!starts_with(buf, "gitdir:"))
		goto out;
	p = buf + strlen("gitdir:");
	while (*p == ' ' || *p == '\t')
		p++;
	rtrim(p);
	if (!*p)
		goto out;
	path = p[0] == '/' ? strdup(p) : path_join(dir, p);
	if (!path) {
		r = -ENOMEM;
		goto out;
	}
	if (!is_gitdir(path))
		goto out;
	*ret = path;
	path = NULL;
	r = DOTGIT_FOUND;
out:
	free(path);
	free(buf);
	return r;
}

/*
 * Fill rp->commondir from @gitdir's "commondir" file, else a copy of
 * @gitdir.  Returns 0 or -ENOMEM.
 */
static int find_commondir(struct repo *rp)
{
	char *name = NULL, *buf = NULL;
	int r;

	name = path_join(rp->gitdir, "commondir");
	if (!name) {
		r = -ENOMEM;
		goto out;
	}
	r = file_read_at(AT_FDCWD, name, SMALL_FILE_MAX, false, &buf, NULL,
			 NULL);
	if (r == -ENOMEM)
		goto out;
	if (r == 0) {
		rtrim(buf);
		if (buf[0] == '/')
			rp->commondir = strdup(buf);
		else if (buf[0])
			rp->commondir = path_join(rp->gitdir, buf);
	}
	if (!rp->commondir)
		rp->commondir = strdup(rp->gitdir);
	r = rp->commondir ? 0 : -ENOMEM;
out:
	free(name);
	free(buf);
	return r;
}

/*
 * Walk up from absolute path @start looking for ".git".
 * Returns 1 if found (*@rp filled), 0 if not, -ENOMEM.
 */
static int find_repo(const char *start, struct repo *rp)
{
	char *dir = NULL, *dotgit = NULL, *gitdir = NULL, *slash;
	size_t n;
	int r;

	dir = strdup(start);
	if (!dir) {
		r = -ENOMEM;
		goto out;
	}
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	for (;;) {
		dotgit = path_join(dir, ".git");
		if (!dotgit) {
			r = -ENOMEM;
			goto out;
		}
		r = resolve_dotgit(dir, dotgit, &gitdir);
		if (r < 0)
			goto out;
		free(dotgit);
		dotgit = NULL;
		if (r == DOTGIT_FOUND)
			break;
		if (r == DOTGIT_BROKEN || !strcmp(dir, "/") || dir[0] != '/') {
			r = 0;
			goto out;
		}
		slash = strrchr(dir, '/');
		if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	}
	rp->gitdir = gitdir;
	rp->worktree = dir;
	gitdir = NULL;
	dir = NULL;
	r = find_commondir(rp);
	if (r < 0)
		goto out;
	r = 1;
out:
	free(dir);
	free(dotgit);
	free(gitdir);
	return r;
}

/* ------------------------------------------------------------------ */
/* Git: config                                                          */
/* ------------------------------------------------------------------ */

struct remote_ent {
	char *name;
	char *url;
};

struct gitcfg {
	struct remote_ent *remotes;
	size_t nr;
	size_t alloc;
	bool bare;		/* core.bare */
	bool filemode;		/* core.filemode, default true */
	bool sha1;		/* extensions.objectformat is sha1 (default) */
};

static void gitcfg_clear_remotes(struct gitcfg *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nr; i++) {
		free(cfg->remotes[i].name);
		free(cfg->remotes[i].url);
	}
	free(cfg->remotes);
	cfg->remotes = NULL;
	cfg->nr = 0;
	cfg->alloc = 0;
}

/* Record the first url of remote @name.  Returns 0 or -ENOMEM. */
static int gitcfg_add_url(struct gitcfg *cfg, const char *name,
			  const char *url)
{
	struct remote_ent *n;
	size_t i, alloc;

	for (i = 0; i < cfg->nr; i++)
		if (!strcmp(cfg->remotes[i].name, name))
			return 0;
	if (cfg->nr == cfg->alloc) {
		alloc = cfg->alloc ? cfg->alloc * 2 : 4;
		if (alloc > SIZE_MAX / sizeof(*n))
			return -ENOMEM;
		n = realloc(cfg->remotes, alloc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		cfg->remotes = n;
		cfg->alloc = alloc;
	}
	n = &cfg->remotes[cfg->nr];
	n->name = strdup(name);
	n->url = strdup(url);
	if (!n->name || !n->url) {
		free(n->name);
		free(n->url);
		return -ENOMEM;
	}
	cfg->nr++;
	return 0;
}

/* git's boolean: returns 1/0, or -1 if @v is not a boolean. */
static int parse_git_bool(const char *v, bool has_value)
{
	const char *p;
	bool nonzero = false;

	if (!has_value)
		return 1;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on"))
		return 1;
	if (!*v || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
	    !strcasecmp(v, "off"))
		return 0;
	p = v;
	if (*p == '-' || *p == '+')
		p++;
	if (!*p)
		return -1;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		if (*p != '0')
			nonzero = true;
	}
	return nonzero;
}

struct cfg_parser {
	const char *p;
	const char *end;
	struct sbuf section;	/* lower case */
	struct sbuf sub;	/* subsection, case preserved */
	bool has_sub;
	struct sbuf key;	/* lower case */
	struct sbuf value;
};

/* Next character without consuming it; CR LF reads as LF, NUL as EOF. */
static int cfg_peek(const struct cfg_parser *cp)
{
	if (cp->p >= cp->end || !*cp->p)
		return EOF;
	if (cp->p[0] == '\r' && cp->p + 1 < cp->end && cp->p[1] == '\n')
		return '\n';
	return (unsigned char)cp->p[0];
}

static int cfg_getc(struct cfg_parser *cp)
{
	int c = cfg_peek(cp);

	if (c == EOF)
		return c;
	if (c == '\n' && cp->p[0] == '\r')
		cp->p++;
	cp->p++;
	return c;
}

/*
 * Parse a section header after its '['.
 * Returns 0, -EINVAL (malformed) or -ENOMEM.
 */
static int cfg_section(struct cfg_parser *cp)
{
	char *dot;
	int c, r;

	sb_reset(&cp->section);
	sb_reset(&cp->sub);
	cp->has_sub = false;
	for (;;) {
		c = cfg_getc(cp);
		if (c == EOF || c == '\n')
			return -EINVAL;
		if (c == ']')
			break;
		if (isspace(c)) {
			/* [section "subsection"] */
			do
				c = cfg_getc(cp);
			while (c == ' ' || c == '\t');
			if (c != '"')
				return -EINVAL;
			cp->has_sub = true;
			r = sb_add(&cp->sub, "", 0);
			if (r < 0)
				return r;
			for (;;) {
				c = cfg_getc(cp);
				if (c == EOF || c == '\n')
					return -EINVAL;
				if (c == '"')
					break;
				if (c == '\\') {
					c = cfg_getc(cp);
					if (c == EOF || c == '\n')
						return -EINVAL;
				}
				r = sb_addc(&cp->sub, (char)c);
				if (r < 0)
					return r;
			}
			if (cfg_getc(cp) != ']')
				return -EINVAL;
			break;
		}
		if (!isalnum(c) && c != '-' && c != '.')
			return -EINVAL;
		r = sb_addc(&cp->section, (char)tolower(c));
		if (r < 0)
			return r;
	}
	if (!cp->section.len)
		return -EINVAL;
	dot = cp->has_sub ? NULL : strchr(cp->section.buf, '.');
	if (dot) {
		/* old [section.subsection] syntax */
		cp->has_sub = true;
		r = sb_adds(&cp->sub, dot + 1);
		if (r < 0)
			return r;
		cp->section.len = (size_t)(dot - cp->section.buf);
		*dot = '\0';
	}
	return 0;
}

/*
 * Parse a value after its '=' up to the end of the line.
 * Returns 0, -EINVAL (malformed) or -ENOMEM.
 */
static int cfg_value(struct cfg_parser *cp)
{
	bool quote = false, comment = false;
	size_t spaces = 0;
	int c, r;

	sb_reset(&cp->value);
	r = sb_add(&cp->value, "", 0);
	if (r < 0)
		return r;
	for (;;) {
		c = cfg_getc(cp);
		if (c == EOF || c == '\n')
			return quote ? -EINVAL : 0;
		if (comment)
			continue;
		if (!quote && isspace(c)) {
			if (cp->value.len)
				spaces++;
			continue;
		}
		if (!quote && (c == '#' || c == ';')) {
			comment = true;
			continue;
		}
		for (; spaces; spaces--) {
			r = sb_addc(&cp->value, ' ');
			if (r < 0)
				return r;
		}
		if (c == '"') {
			quote = !quote;
			continue;
		}
		if (c == '\\') {
			c = cfg_getc(cp);
			switch (c) {
			case '\n':
				continue;
			case 't':
				c = '\t';
				break;
			case 'b':
				c = '\b';
				break;
			case 'n':
				c = '\n';
				break;
			case '\\':
			case '"':
				break;
			default:
				return -EINVAL;
			}
		}
		r = sb_addc(&cp->value, (char)c);
		if (r < 0)
			return r;
	}
}

/* Act on one key/value pair.  Returns 0 or -ENOMEM. */
static int cfg_store(struct cfg_parser *cp, struct gitcfg *cfg,
		     bool has_value)
{
	const char *sec = cp->section.buf ? cp->section.buf : "";
	const char *key = cp->key.buf;
	const char *val = has_value ? cp->value.buf : "";
	int b;

	if (!strcmp(sec, "remote") && cp->has_sub && !strcmp(key, "url")) {
		if (!has_value || !*val)
			return 0;
		return gitcfg_add_url(cfg, cp->sub.buf, val);
	}
	if (!strcmp(sec, "core") && !cp->has_sub) {
		b = parse_git_bool(val, has_value);
		if (b >= 0 && !strcmp(key, "bare"))
			cfg->bare = b;
		else if (b >= 0 && !strcmp(key, "filemode"))
			cfg->filemode = b;
		return 0;
	}
	if (!strcmp(sec, "extensions") && !cp->has_sub &&
	    !strcmp(key, "objectformat"))
		cfg->sha1 = has_value && !strcasecmp(val, "sha1");
	return 0;
}

/*
 * Parse git config text @buf of @len bytes into @cfg.
 * Returns 0, -EINVAL (malformed) or -ENOMEM.
 */
static int cfg_parse(const char *buf, size_t len, struct gitcfg *cfg)
{
	struct cfg_parser cp = { .p = buf, .end = buf + len };
	bool has_value;
	int c, r;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		cp.p += 3;
	for (;;) {
		c = cfg_getc(&cp);
		if (c == EOF) {
			r = 0;
			goto out;
		}
		if (isspace(c))
			continue;
		if (c == '#' || c == ';') {
			do
				c = cfg_getc(&cp);
			while (c != EOF && c != '\n');
			continue;
		}
		if (c == '[') {
			r = cfg_section(&cp);
			if (r < 0)
				goto out;
			continue;
		}
		if (!isalpha(c) || !cp.section.len) {
			r = -EINVAL;
			goto out;
		}
		sb_reset(&cp.key);
		r = sb_addc(&cp.key, (char)tolower(c));
		if (r < 0)
			goto out;
		while (isalnum(c = cfg_peek(&cp)) || c == '-') {
			r = sb_addc(&cp.key, (char)tolower(cfg_getc(&cp)));
			if (r < 0)
				goto out;
		}
		while ((c = cfg_peek(&cp)) == ' ' || c == '\t')
			cfg_getc(&cp);
		has_value = c == '=';
		if (has_value) {
			cfg_getc(&cp);
			r = cfg_value(&cp);
			if (r < 0)
				goto out;
		} else if (c != '\n' && c != EOF && c != '#' && c != ';') {
			r = -EINVAL;
			goto out;
		}
		r = cfg_store(&cp, cfg, has_value);
		if (r < 0)
			goto out;
	}
out:
	sb_release(&cp.section);
	sb_release(&cp.sub);
	sb_release(&cp.key);
	sb_release(&cp.value);
	return r;
}

/*
 * Read commondir/config into @cfg.  A missing or malformed config leaves
 * the defaults and no remotes.  Returns 0 or -ENOMEM.
 */
static int cfg_load(const struct repo *rp, struct gitcfg *cfg)
{
	char *name = NULL, *buf = NULL;
	size_t len;
	int r;

	name = path_join(rp->commondir, "config");
	if (!name) {
		r = -ENOMEM;
		goto out;
	}
	r = file_read_at(AT_FDCWD, name, TEXT_FILE_MAX, false, &buf, &len,
			 NULL);
	if (r < 0) {
		if (r != -ENOMEM)
			r = 0;
		goto out;
	}
	r = cfg_parse(buf, len, cfg);
	if (r == -EINVAL) {
		gitcfg_clear_remotes(cfg);
		cfg->bare = false;
		cfg->filemode = true;
		cfg->sha1 = true;
		r = 0;
	}
out:
	free(name);
	free(buf);
	return r;
}

/* The remote to report: cmf_origin, origin, else the smallest name. */
static const char *cfg_pick_url(const struct gitcfg *cfg)
{
	const struct remote_ent *best = NULL;
	size_t i;

	for (i = 0; i < cfg->nr; i++)
		if (!strcmp(cfg->remotes[i].name, "cmf_origin"))
			return cfg->remotes[i].url;
	for (i = 0; i < cfg->nr; i++)
		if (!strcmp(cfg->remotes[i].name, "origin"))
			return cfg->remotes[i].url;
	for (i = 0; i < cfg->nr; i++)
		if (!best || strcmp(cfg->remotes[i].name, best->name) < 0)
			best = &cfg->remotes[i];
	return best ? best->url : "";
}

/* ------------------------------------------------------------------ */
/* Git: refs                                                            */
/* ------------------------------------------------------------------ */

/* @s starts with 40 hex digits followed by end of string or space. */
static bool is_hex40(const char *s)
{
	size_t i;

	for (i = 0; i < SHA1_HEX_LEN; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return !s[i] || isspace((unsigned char)s[i]);
}

static void copy_hex40(char dst[SHA1_HEX_LEN + 1], const char *s)
{
	size_t i;

	for (i = 0; i < SHA1_HEX_LEN; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[SHA1_HEX_LEN] = '\0';
}

/* A ref name we are willing to turn into a path. */
static bool refname_ok(const char *name)
{
	return starts_with(name, "refs/") && !strstr(name, "..") &&
	       !strstr(name, "//") && !strchr(name, '\\') &&
	       strlen(name) < 1024;
}

/*
 * Read loose ref @name, trying @rp's git dir then its common dir.
 * *@ret is the trimmed file content, NULL if there is no loose ref.
 * Returns 0 or -ENOMEM.
 */
static int read_loose_ref(const struct repo *rp, const char *name,
			  char **ret)
{
	const char *dirs[2] = { rp->gitdir, rp->commondir };
	char *path;
	size_t i;
	int r;

	*ret = NULL;
	for (i = 0; i < 2; i++) {
		if (i && !strcmp(dirs[0], dirs[1]))
			break;
		path = path_join(dirs[i], name);
		if (!path)
			return -ENOMEM;
		r = file_read_at(AT_FDCWD, path, SMALL_FILE_MAX, false, ret,
				 NULL, NULL);
		free(path);
		if (r == -ENOMEM)
			return r;
		if (r == 0) {
			rtrim(*ret);
			return 0;
		}
	}
	return 0;
}

/*
 * Look @name up in commondir/packed-refs; on a match copy the id into
 * @sha.  Returns 0 or -ENOMEM.
 */
static int read_packed_ref(const struct repo *rp, const char *name,
			   char sha[SHA1_HEX_LEN + 1])
{
	char *path = NULL, *buf = NULL, *line, *eol, *ref;
	size_t len;
	int r;

	path = path_join(rp->commondir, "packed-refs");
	if (!path) {
		r = -ENOMEM;
		goto out;
	}
	r = file_read_at(AT_FDCWD, path, TEXT_FILE_MAX, false, &buf, &len,
			 NULL);
	if (r < 0) {
		if (r != -ENOMEM)
			r = 0;
		goto out;
	}
	for (line = buf; line < buf + len && *line; line = eol + 1) {
		eol = strchr(line, '\n');
		if (!eol)
			eol = line + strlen(line);
		else
			*eol = '\0';
		if (line[0] == '#' || line[0] == '^')
			continue;
		if (!is_hex40(line) || line[SHA1_HEX_LEN] != ' ')
			continue;
		ref = line + SHA1_HEX_LEN + 1;
		rtrim(ref);
		if (!strcmp(ref, name)) {
			copy_hex40(sha, line);
			break;
		}
	}
	r = 0;
out:
	free(path);
	free(buf);
	return r;
}

/*
 * Resolve HEAD of @rp into a new string: 40 hex digits or "".
 * Returns 0 or -ENOMEM.
 */
static int resolve_head(const struct repo *rp, char **ret)
{
	char sha[SHA1_HEX_LEN + 1] = "";
	char *path = NULL, *buf = NULL, *name = NULL, *p;
	int depth, r;

	path = path_join(rp->gitdir, "HEAD");
	if (!path) {
		r = -ENOMEM;
		goto out;
	}
	r = file_read_at(AT_FDCWD, path, SMALL_FILE_MAX, false, &buf, NULL,
			 NULL);
	/* buf holds the content of HEAD or of the loose ref being resolved */
	for (depth = 0; r == 0 && buf && depth <= SYMREF_MAX_DEPTH; depth++) {
		rtrim(buf);
		if (is_hex40(buf)) {
			copy_hex40(sha, buf);
			break;
		}
		if (!starts_with(buf, "ref:"))
			break;
		p = buf + strlen("ref:");
		while (*p == ' ' || *p == '\t')
			p++;
		free(name);
		name = strdup(p);
		free(buf);
		buf = NULL;
		if (!name) {
			r = -ENOMEM;
			break;
		}
		if (!refname_ok(name))
			break;
		r = read_loose_ref(rp, name, &buf);
		if (r == 0 && !buf)
			r = read_packed_ref(rp, name, sha);
	}
	if (r == -ENOMEM)
		goto out;
	r = dup_str(sha, ret);
out:
	free(path);
	free(buf);
	free(name);
	return r;
}

/* ------------------------------------------------------------------ */
/* Git: index and working tree                                          */
/* ------------------------------------------------------------------ */

static const unsigned char empty_blob_sha1[SHA1_RAW_LEN] = {
	0xe6, 0x9d, 0xe2, 0x9b, 0xb2, 0xd1, 0xd6, 0x43, 0x4b, 0x8b,
	0x29, 0xae, 0x77, 0x5a, 0xd8, 0xc2, 0xe4, 0x8c, 0x53, 0x91,
};

struct idx_entry {
	uint32_t mtime_sec;
	uint32_t mtime_nsec;
	uint32_t mode;
	uint32_t size;
	const unsigned char *sha;
	uint16_t flags;
	uint16_t eflags;
	const char *path;	/* NUL-terminated inside the index buffer */
	size_t pathlen;
};

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint16_t get_be16(const unsigned char *p)
{
	return (uint16_t)((unsigned int)p[0] << 8 | p[1]);
}

/*
 * Parse the version 2/3 index entry at *@pos (entries end before @end)
 * and advance *@pos.  Returns 0, or -EINVAL if the entry is malformed.
 */
static int idx_next(const unsigned char *buf, size_t end, uint32_t version,
		    size_t *pos, struct idx_entry *e)
{
	const unsigned char *p = buf + *pos;
	size_t avail = end - *pos, hdr = 62, namelen, real, size;

	if (*pos > end || avail < hdr)
		return -EINVAL;
	e->mtime_sec = get_be32(p + 8);
	e->mtime_nsec = get_be32(p + 12);
	e->mode = get_be32(p + 24);
	e->size = get_be32(p + 36);
	e->sha = p + 40;
	e->flags = get_be16(p + 60);
	e->eflags = 0;
	if (e->flags & CE_EXTENDED) {
		if (version < 3 || avail < 64)
			return -EINVAL;
		e->eflags = get_be16(p + 62);
		hdr = 64;
	}
	namelen = e->flags & CE_NAME_MASK;
	real = strnlen((const char *)p + hdr, avail - hdr);
	if (real == avail - hdr)
		return -EINVAL;
	if (namelen < CE_NAME_MASK ? real != namelen : real < namelen)
		return -EINVAL;
	size = (hdr + real + 8) & ~(size_t)7;
	if (size > avail)
		return -EINVAL;
	e->path = (const char *)p + hdr;
	e->pathlen = real;
	*pos += size;
	return 0;
}

/* A path git itself would accept in an index (relative, no . .. .git). */
static bool index_path_ok(const char *path, size_t len)
{
	const char *c = path, *slash;
	size_t n;

	if (!len)
		return false;
	while (c < path + len) {
		slash = memchr(c, '/', (size_t)(path + len - c));
		n = slash ? (size_t)(slash - c) : (size_t)(path + len - c);
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && !memcmp(c, "..", 2)) ||
		    (n == 4 && !strncasecmp(c, ".git", 4)))
			return false;
		if (!slash)
			break;
		c = slash + 1;
		if (c == path + len)
			return false;
	}
	return true;
}

struct wt_check {
	int rootfd;			/* worktree directory */
	bool filemode;			/* compare executable bits */
	uint32_t idx_sec;		/* mtime of the index file */
	uint32_t idx_nsec;
	struct sbuf vdir;		/* leading dir verified last */
	EVP_MD_CTX *md;
	char *chunk;			/* HASH_CHUNK bytes */
};

/*
 * Check that all leading directories of @e's path are real directories
 * (not symlinks), caching the last verified one.
 * Returns an enum wt_state or -ENOMEM.
 */
static int check_leading_dirs(struct wt_check *wc, const struct idx_entry *e)
{
	const char *slash = memrchr(e->path, '/', e->pathlen);
	size_t dlen, vlen = wc->vdir.len, common = 0, i, j;
	struct stat st;
	char a, b;
	int r;

	if (!slash)
		return WT_CLEAN;
	dlen = (size_t)(slash - e->path);
	for (i = 0; i <= dlen && i <= vlen; i++) {
		a = i < dlen ? e->path[i] : '/';
		b = i < vlen ? wc->vdir.buf[i] : '/';
		if (a != b)
			break;
		if (a == '/')
			common = i;
	}
	if (common == dlen && common == vlen)
		return WT_CLEAN;
	sb_reset(&wc->vdir);
	r = sb_add(&wc->vdir, e->path, dlen);
	if (r < 0)
		return r;
	for (j = common ? common + 1 : 0; j <= dlen; j++) {
		if (j < dlen && wc->vdir.buf[j] != '/')
			continue;
		wc->vdir.buf[j] = '\0';
		r = fstatat(wc->rootfd, wc->vdir.buf, &st, AT_SYMLINK_NOFOLLOW);
		if (r < 0)
			r = errno == ENOENT || errno == ENOTDIR ? WT_DIRTY :
								  WT_UNKNOWN;
		else
			r = S_ISDIR(st.st_mode) ? WT_CLEAN : WT_DIRTY;
		if (r != WT_CLEAN) {
			sb_reset(&wc->vdir);
			return r;
		}
		if (j < dlen)
			wc->vdir.buf[j] = '/';
	}
	return WT_CLEAN;
}

/*
 * Hash @len bytes of blob content (from @data, or from @fd if @data is
 * NULL) as a git blob and compare with @sha.
 * Returns an enum wt_state or -ENOMEM.
 */
static int blob_compare(struct wt_check *wc, int fd, const char *data,
			uint64_t len, const unsigned char *sha)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int outlen = 0;
	uint64_t total = 0;
	char hdr[32];
	ssize_t k;
	int n;

	if (!wc->md) {
		wc->md = EVP_MD_CTX_new();
		if (!wc->md)
			return -ENOMEM;
	}
	if (!data && !wc->chunk) {
		wc->chunk = malloc(HASH_CHUNK);
		if (!wc->chunk)
			return -ENOMEM;
	}
	n = snprintf(hdr, sizeof(hdr), "blob %llu", (unsigned long long)len);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return WT_UNKNOWN;
	if (!EVP_DigestInit_ex(wc->md, EVP_sha1(), NULL) ||
	    !EVP_DigestUpdate(wc->md, hdr, (size_t)n + 1))
		return WT_UNKNOWN;
	if (data) {
		if (!EVP_DigestUpdate(wc->md, data, (size_t)len))
			return WT_UNKNOWN;
		total = len;
	}
	while (!data) {
		k = read(fd, wc->chunk, HASH_CHUNK);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return WT_UNKNOWN;
		}
		if (k == 0)
			break;
		total += (uint64_t)k;
		if (total > len)
			return WT_DIRTY;	/* grew while hashing */
		if (!EVP_DigestUpdate(wc->md, wc->chunk, (size_t)k))
			return WT_UNKNOWN;
	}
	if (total != len)
		return WT_DIRTY;		/* shrank while hashing */
	if (!EVP_DigestFinal_ex(wc->md, out, &outlen) ||
	    outlen != SHA1_RAW_LEN)
		return WT_UNKNOWN;
	return memcmp(out, sha, SHA1_RAW_LEN) ? WT_DIRTY : WT_CLEAN;
}

/*
 * Compare the content of @e's working-tree file (lstat()ed as @st) with
 * the index.  Returns an enum wt_state or -ENOMEM.
 */
static int content_compare(struct wt_check *wc, const struct idx_entry *e,
			   const struct stat *st)
{
	struct stat fst;
	char *target = NULL;
	ssize_t n;
	int fd = -1, r;

	if (S_ISLNK(st->st_mode)) {
		if (st->st_size < 0 || st->st_size >= (1 << 20)) {
			r = WT_UNKNOWN;
			goto out;
		}
		target = malloc((size_t)st->st_size + 1);
		if (!target) {
			r = -ENOMEM;
			goto out;
		}
		n = readlinkat(wc->rootfd, e->path, target,
			       (size_t)st->st_size + 1);
		if (n < 0)
			r = errno == ENOENT || errno == EINVAL ? WT_DIRTY :
								 WT_UNKNOWN;
		else if ((uint64_t)n != (uint64_t)st->st_size)
			r = WT_DIRTY;
		else
			r = blob_compare(wc, -1, target, (uint64_t)n, e->sha);
		goto out;
	}
	fd = openat(wc->rootfd, e->path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
					 O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		r = errno == ENOENT || errno == ELOOP ? WT_DIRTY : WT_UNKNOWN;
		goto out;
	}
	if (fstat(fd, &fst) < 0) {
		r = WT_UNKNOWN;
		goto out;
	}
	if (!S_ISREG(fst.st_mode) || fst.st_size != st->st_size) {
		r = WT_DIRTY;
		goto out;
	}
	r = blob_compare(wc, fd, NULL, (uint64_t)fst.st_size, e->sha);
out:
	if (fd >= 0)
		close(fd);
	free(target);
	return r;
}

/* Check one index entry.  Returns an enum wt_state or -ENOMEM. */
static int check_entry(struct wt_check *wc, const struct idx_entry *e)
{
	uint32_t type = e->mode & GIT_MODE_TYPE;
	bool size_known, racy;
	struct stat st;
	int r;

	if (e->flags & CE_STAGE_MASK)
		return WT_DIRTY;		/* unmerged */
	if ((e->flags & CE_ASSUME_VALID) || (e->eflags & CE_SKIP_WORKTREE))
		return WT_CLEAN;
	if (e->eflags & CE_INTENT_TO_ADD)
		return WT_DIRTY;
	if (type == GIT_MODE_GITLINK)
		return WT_CLEAN;
	if (type != GIT_MODE_REG && type != GIT_MODE_LINK)
		return WT_UNKNOWN;
	if (!index_path_ok(e->path, e->pathlen))
		return WT_UNKNOWN;
	r = check_leading_dirs(wc, e);
	if (r != WT_CLEAN)
		return r;
	if (fstatat(wc->rootfd, e->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT || errno == ENOTDIR ? WT_DIRTY :
							     WT_UNKNOWN;
	if (type == GIT_MODE_REG) {
		if (!S_ISREG(st.st_mode))
			return WT_DIRTY;
		if (wc->filemode &&
		    !(e->mode & S_IXUSR) != !(st.st_mode & S_IXUSR))
			return WT_DIRTY;
	} else if (!S_ISLNK(st.st_mode)) {
		return WT_DIRTY;
	}
	/* Size 0 with a non-empty blob means "size not recorded". */
	size_known = e->size != 0 ||
		     !memcmp(e->sha, empty_blob_sha1, SHA1_RAW_LEN);
	if (size_known && (uint32_t)st.st_size != e->size)
		return WT_DIRTY;
	racy = wc->idx_sec < e->mtime_sec ||
	       (wc->idx_sec == e->mtime_sec && wc->idx_nsec <= e->mtime_nsec);
	if (size_known && !racy &&
	    (uint32_t)st.st_mtim.tv_sec == e->mtime_sec &&
	    (uint32_t)st.st_mtim.tv_nsec == e->mtime_nsec)
		return WT_CLEAN;
	return content_compare(wc, e, &st);
}

/*
 * Walk the extensions after the entries (@pos .. @end).
 * Returns 0 if they are well formed and none is a split-index link.
 */
static int idx_check_extensions(const unsigned char *buf, size_t pos,
				size_t end)
{
	uint32_t sz;

	while (pos < end) {
		if (end - pos < 8)
			return -EINVAL;
		sz = get_be32(buf + pos + 4);
		if (sz > end - pos - 8)
			return -EINVAL;
		if (!memcmp(buf + pos, "link", 4))
			return -EINVAL;
		pos += 8 + (size_t)sz;
	}
	return 0;
}

/*
 * Compute the dirty flag of @rp into *@ret_dirty (1, 0, -1).
 * Returns 0 or -ENOMEM.
 */
static int index_dirty(const struct repo *rp, const struct gitcfg *cfg,
		       bool have_commit, int *ret_dirty)
{
	struct wt_check wc = { .rootfd = -1, .filemode = cfg->filemode };
	unsigned char *buf = NULL;
	char *path = NULL, *raw = NULL;
	struct idx_entry e;
	uint32_t version, nr, i;
	size_t len = 0, end, pos;
	struct stat st;
	int state = WT_UNKNOWN, r;

	*ret_dirty = -1;
	if (cfg->bare || !cfg->sha1)
		return 0;
	path = path_join(rp->gitdir, "index");
	if (!path) {
		r = -ENOMEM;
		goto out;
	}
	r = file_read_at(AT_FDCWD, path, INDEX_FILE_MAX, false, &raw, &len,
			 &st);
	if (r == -ENOENT && !have_commit)
		state = WT_CLEAN;
	if (r < 0) {
		if (r != -ENOMEM)
			r = 0;
		goto out;
	}
	buf = (unsigned char *)raw;
	r = 0;
	if (len < 12 + SHA1_RAW_LEN || memcmp(buf, "DIRC", 4))
		goto out;
	version = get_be32(buf + 4);
	nr = get_be32(buf + 8);
	if ((version != 2 && version != 3) || nr > INDEX_MAX_ENTRIES)
		goto out;
	end = len - SHA1_RAW_LEN;
	/* First pass: validate every entry and the extensions. */
	pos = 12;
	for (i = 0; i < nr; i++)
		if (idx_next(buf, end, version, &pos, &e) < 0)
			goto out;
	if (idx_check_extensions(buf, pos, end) < 0)
		goto out;
	wc.idx_sec = (uint32_t)st.st_mtim.tv_sec;
	wc.idx_nsec = (uint32_t)st.st_mtim.tv_nsec;
	wc.rootfd = open(rp->worktree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wc.rootfd < 0)
		goto out;
	/* Second pass: compare with the working tree. */
	state = WT_CLEAN;
	pos = 12;
	for (i = 0; i < nr; i++) {
		if (idx_next(buf, end, version, &pos, &e) < 0)
			break;		/* cannot happen: validated above */
		r = check_entry(&wc, &e);
		if (r < 0)
			goto out;
		if (r == WT_DIRTY) {
			state = WT_DIRTY;
			break;
		}
		if (r == WT_UNKNOWN)
			state = WT_UNKNOWN;
	}
	r = 0;
out:
	if (r == 0)
		*ret_dirty = state == WT_DIRTY ? 1 :
			     state == WT_CLEAN ? 0 : -1;
	if (wc.rootfd >= 0)
		close(wc.rootfd);
	EVP_MD_CTX_free(wc.md);
	free(wc.chunk);
	sb_release(&wc.vdir);
	free(path);
	free(raw);
	return r;
}

/*
 * Fill the git data of the found repository @rp.  Strings are set to new
 * allocations.  Returns 0 or -ENOMEM.
 */
static int repo_query(const struct repo *rp, char **ret_repo,
		      char **ret_commit, int *ret_dirty)
{
	struct gitcfg cfg = { .filemode = true, .sha1 = true };
	int r;

	r = cfg_load(rp, &cfg);
	if (r < 0)
		goto out;
	r = dup_str(cfg_pick_url(&cfg), ret_repo);
	if (r < 0)
		goto out;
	if (cfg.sha1)
		r = resolve_head(rp, ret_commit);
	else
		r = dup_str("", ret_commit);
	if (r < 0)
		goto out;
	r = index_dirty(rp, &cfg, **ret_commit != '\0', ret_dirty);
out:
	gitcfg_clear_remotes(&cfg);
	return r;
}

int provenance_git_info(const char *dir, char **ret_repo, char **ret_commit,
			int *ret_dirty)
{
	struct repo rp = { 0 };
	char *abs = NULL, *repo = NULL, *commit = NULL;
	int dirty = -1, found = 0, r;

	if (!dir || !ret_repo || !ret_commit || !ret_dirty)
		return -EINVAL;
	abs = realpath(dir, NULL);
	if (abs) {
		found = find_repo(abs, &rp);
		if (found < 0) {
			r = found;
			goto out;
		}
	} else if (errno == ENOMEM) {
		r = -ENOMEM;
		goto out;
	}
	if (found) {
		r = repo_query(&rp, &repo, &commit, &dirty);
		if (r < 0)
			goto out;
	}
	if (!repo) {
		r = dup_str("", &repo);
		if (r < 0)
			goto out;
	}
	if (!commit) {
		r = dup_str("", &commit);
		if (r < 0)
			goto out;
	}
	*ret_repo = repo;
	*ret_commit = commit;
	*ret_dirty = dirty;
	repo = NULL;
	commit = NULL;
	r = 0;
out:
	free(abs);
	free(repo);
	free(commit);
	repo_release(&rp);
	return r;
}

/* ------------------------------------------------------------------ */
/* /proc                                                                */
/* ------------------------------------------------------------------ */

static const char *const file_utilities[] = {
	"mkdir", "install", "busybox", "cp", "mv", "rsync", "tar",
	"ln", "touch", "env", "xargs", "timeout", "nice", "sudo",
};

/* Open /proc/@pid.  Returns the fd or -errno (-ESRCH if gone). */
static int proc_open(int pid)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return fd;
}

/*
 * Parse a decimal unsigned number at *@s (leading blanks skipped) and
 * advance *@s.  Returns false if there is no number or it overflows.
 */
static bool parse_ulong(const char **s, unsigned long *ret)
{
	const char *p = *s;
	unsigned long v = 0;
	unsigned int d;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		d = (unsigned int)(*p - '0');
		if (v > (ULONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*s = p;
	*ret = v;
	return true;
}

/* Is the process at @fd a file utility?  Returns 1, 0 or -ENOMEM. */
static int is_file_utility(int fd)
{
	char *name = NULL, *base;
	size_t i, n;
	int r;

	r = readlink_alloc(fd, "exe", &name);
	if (r == -ENOMEM)
		goto out;
	if (r == 0) {
		n = strlen(name);
		if (n > 10 && !strcmp(name + n - 10, " (deleted)"))
			name[n - 10] = '\0';
	} else {
		r = file_read_at(fd, "comm", SMALL_FILE_MAX, true, &name,
				 NULL, NULL);
		if (r < 0) {
			if (r != -ENOMEM)
				r = 0;
			goto out;
		}
		rtrim(name);
	}
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	r = 0;
	for (i = 0; i < sizeof(file_utilities) / sizeof(file_utilities[0]);
	     i++) {
		if (!strcmp(base, file_utilities[i])) {
			r = 1;
			break;
		}
	}
out:
	free(name);
	return r;
}

/* Parent pid of the process at @fd, or -1 if unknown. */
static int read_ppid(int fd)
{
	unsigned long ppid;
	const char *p;
	char *buf = NULL;
	int r = -1;

	if (file_read_at(fd, "stat", SMALL_FILE_MAX, true, &buf, NULL,
			 NULL) < 0)
		goto out;
	/* "pid (comm) S ppid ...": comm may contain anything, even ')' */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		goto out;
	p += 4;
	if (parse_ulong(&p, &ppid) && ppid <= INT_MAX)
		r = (int)ppid;
out:
	free(buf);
	return r;
}

/*
 * Read the thread group id and real uid of the process at @fd from its
 * status file; a value not found is left untouched.
 * Returns 0 or -ENOMEM.
 */
static int read_status(int fd, int *tgid, uid_t *uid, bool *have_uid)
{
	unsigned long v;
	const char *p;
	char *buf = NULL, *line;
	int r;

	r = file_read_at(fd, "status", SMALL_FILE_MAX, true, &buf, NULL,
			 NULL);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	line = buf;
	while (line) {
		if (starts_with(line, "Tgid:")) {
			p = line + strlen("Tgid:");
			if (parse_ulong(&p, &v) && v > 0 && v <= INT_MAX)
				*tgid = (int)v;
		} else if (starts_with(line, "Uid:")) {
			p = line + strlen("Uid:");
			if (parse_ulong(&p, &v) && v < (uid_t)-1) {
				*uid = (uid_t)v;
				*have_uid = true;
			}
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	free(buf);
	return 0;
}

/* User name of @uid, else its decimal form.  Returns 0 or -ENOMEM. */
static int user_name(uid_t uid, char **ret)
{
	struct passwd pw, *res = NULL;
	long max = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t sz = max > 0 && max < (1L << 20) ? (size_t)max : 1024;
	char *buf = NULL, num[32];
	int e = 0, r;

	for (;;) {
		buf = malloc(sz);
		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
		e = getpwuid_r(uid, &pw, buf, sz, &res);
		if (e != ERANGE || sz >= (1u << 20))
			break;
		free(buf);
		buf = NULL;
		sz *= 2;
	}
	if (e == ENOMEM) {
		r = -ENOMEM;
		goto out;
	}
	if (e == 0 && res && res->pw_name && res->pw_name[0]) {
		r = dup_str(res->pw_name, ret);
		goto out;
	}
	snprintf(num, sizeof(num), "%lu", (unsigned long)uid);
	r = dup_str(num, ret);
out:
	free(buf);
	return r;
}

/* gethostname() into a new string, "" on failure.  0 or -ENOMEM. */
static int host_name(char **ret)
{
	char buf[HOST_NAME_MAX + 1];

	if (gethostname(buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	buf[HOST_NAME_MAX] = '\0';
	return dup_str(buf, ret);
}

/* readlinkat() of @name into *@ret, "" on failure.  0 or -ENOMEM. */
static int read_link_or_empty(int fd, const char *name, char **ret)
{
	int r;

	r = readlink_alloc(fd, name, ret);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return dup_str("", ret);
	return 0;
}

void provenance_free(struct provenance *p)
{
	if (!p)
		return;
	free(p->cmdline);
	free(p->exe);
	free(p->cwd);
	free(p->user);
	free(p->host);
	free(p->git_repo);
	free(p->git_commit);
	free(p);
}

/* Is @path @dir or below it?  A NULL or empty @dir contains nothing. */
static bool path_within(const char *path, const char *dir)
{
	size_t n = dir ? strlen(dir) : 0;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (!n)
		return false;
	if (n == 1 && dir[0] == '/')
		return true;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * $PWD of the process behind /proc fd @pfd, if it is an absolute path
 * outside @avoid (owned), else NULL: where a shell started the process,
 * for a process that chdir()ed since (`mkdir -p` goes into what it makes).
 */
static char *env_pwd(int pfd, const char *avoid)
{
	char *buf = NULL, *found = NULL;
	size_t len = 0, off;

	if (file_read_at(pfd, "environ", CMDLINE_MAX, true, &buf, &len,
			 NULL) < 0)
		return NULL;
	for (off = 0; off < len; off += strnlen(buf + off, len - off) + 1)
		if (!strncmp(buf + off, "PWD=/", 5)) {
			if (!path_within(buf + off + 4, avoid) &&
			    !strstr(buf + off + 4, "/../"))
				found = strdup(buf + off + 4);
			break;
		}
	free(buf);
	return found;
}

/*
 * The working directory the repository is read from: the caller's (@cwd,
 * taken over).  While that lies within @avoid (the mount itself, whose
 * paths the daemon must never look up: the call in flight holds their
 * locks; `mkdir -p` chdir()s into what it creates): the caller's $PWD if
 * it is outside, else the nearest parent's cwd outside, from @fd (the
 * walked-up process) on.  "" when there is none.
 */
static int repo_cwd(char *cwd, int callerfd, int fd, const char *avoid,
		    char **ret)
{
	int level, pfd = -1, ppid, r = 0;

	if (path_within(cwd, avoid)) {
		char *pwd = env_pwd(callerfd, avoid);

		if (pwd) {
			free(cwd);
			*ret = pwd;
			return 0;
		}
	}

	for (level = 0; path_within(cwd, avoid) && level <= WALK_MAX_LEVELS;
	     level++) {
		free(cwd);
		cwd = NULL;
		if (level > 0) {
			ppid = read_ppid(pfd >= 0 ? pfd : fd);
			if (pfd >= 0)
				close(pfd);
			pfd = ppid > 1 ? proc_open(ppid) : -1;
			if (pfd < 0)
				break;
		}
		r = read_link_or_empty(pfd >= 0 ? pfd : fd, "cwd", &cwd);
		if (r < 0)
			break;
	}
	if (pfd >= 0)
		close(pfd);
	if (r == 0 && cwd && path_within(cwd, avoid)) {
		free(cwd);
		cwd = NULL;
	}
	if (r == 0 && !cwd)
		r = dup_str("", &cwd);
	if (r < 0) {
		free(cwd);
		return r;
	}
	*ret = cwd;
	return 0;
}

int provenance_read(int pid, const char *avoid, struct provenance **ret_prov)
{
	struct provenance *p = NULL;
	struct stat st;
	char *cmd = NULL, *caller_cwd = NULL;
	size_t cmdlen = 0;
	bool have_uid = false;
	uid_t uid = 0;
	int fd = -1, callerfd = -1, pfd, ppid, i, r;

	if (pid <= 0 || !ret_prov)
		return -EINVAL;
	fd = proc_open(pid);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	/* the repository is where the call was made, whoever is recorded */
	r = read_link_or_empty(fd, "cwd", &caller_cwd);
	if (r < 0)
		goto out;
	callerfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);	/* kept past the walk */
	if (callerfd < 0) {
		r = -errno;
		goto out;
	}
	for (i = 0; i < WALK_MAX_LEVELS; i++) {
		r = is_file_utility(fd);
		if (r < 0)
			goto out;
		if (!r)
			break;
		ppid = read_ppid(fd);
		if (ppid <= 1)
			break;
		pfd = proc_open(ppid);
		if (pfd < 0)
			break;
		close(fd);
		fd = pfd;
		pid = ppid;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	p->pid = pid;
	p->git_dirty = -1;
	r = read_status(fd, &p->pid, &uid, &have_uid);
	if (r < 0)
		goto out;
	r = file_read_at(fd, "cmdline", CMDLINE_MAX, true, &cmd, &cmdlen,
			 NULL);
	if (r == -ENOMEM)
		goto out;
	if (r == -ENOENT || r == -ESRCH) {
		r = -ESRCH;
		goto out;
	}
	if (r < 0)
		cmdlen = 0;
	r = provenance_format_argv(cmd, cmdlen, &p->cmdline);
	if (r < 0)
		goto out;
	r = read_link_or_empty(fd, "exe", &p->exe);
	if (r < 0)
		goto out;
	r = repo_cwd(caller_cwd, callerfd, fd, avoid, &p->cwd);
	caller_cwd = NULL;
	if (r < 0)
		goto out;
	if (!have_uid && fstatat(fd, "", &st, AT_EMPTY_PATH) == 0) {
		uid = st.st_uid;
		have_uid = true;
	}
	if (have_uid)
		r = user_name(uid, &p->user);
	else
		r = dup_str("", &p->user);
	if (r < 0)
		goto out;
	r = host_name(&p->host);
	if (r < 0)
		goto out;
	if (p->cwd[0]) {
		r = provenance_git_info(p->cwd, &p->git_repo, &p->git_commit,
					&p->git_dirty);
	} else {
		r = dup_str("", &p->git_repo);
		if (!r)
			r = dup_str("", &p->git_commit);
	}
	if (r < 0)
		goto out;
	*ret_prov = p;
	p = NULL;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(cmd);
	free(caller_cwd);
	if (callerfd >= 0)
		close(callerfd);
	provenance_free(p);
	return r;
}
