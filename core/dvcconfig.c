/* SPDX-License-Identifier: MIT */
/*
 * Reading DVC's config (git-config syntax, parsed by inih: a section
 * `[remote "minio"]` arrives as the name `remote "minio"`); see dvcconfig.h.
 */
#include "dvcconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#define MAX_KEYS 64

struct dvc_kv {
	char *section;
	char *key;
	char *value;
};

struct dvc {
	struct dvc_kv kv[MAX_KEYS];
	size_t n;
	int err;
};

/* strip surrounding quotes that DVC writes around some values */
static char *unquote(const char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && ((v[0] == '"' && v[n - 1] == '"') ||
		       (v[0] == '\'' && v[n - 1] == '\'')))
		return strndup(v + 1, n - 2);
	return strdup(v);
}

static int on_kv(void *ud, const char *section, const char *key,
		 const char *value)
{
	struct dvc *d = ud;
	struct dvc_kv *kv;

	if (d->n == MAX_KEYS)
		return 1;	/* more than cmffs needs: ignore the rest */
	kv = &d->kv[d->n];
	/* DVC writes ['remote "name"'] */
	if (section[0] == '\'' && strlen(section) >= 2 &&
	    section[strlen(section) - 1] == '\'')
		kv->section = strndup(section + 1, strlen(section) - 2);
	else
		kv->section = strdup(section);
	kv->key = strdup(key);
	kv->value = unquote(value ? value : "");
	if (!kv->section || !kv->key || !kv->value) {
		free(kv->section);
		free(kv->key);
		free(kv->value);
		d->err = -ENOMEM;
		return 0;
	}
	d->n++;
	return 1;
}

static const char *get(const struct dvc *d, const char *section,
		       const char *key)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->kv[i].section, section) &&
		    !strcasecmp(d->kv[i].key, key))
			return d->kv[i].value;
	return NULL;
}

static int set(char **field, const char *v)
{
	if (!v || !v[0])
		return 0;
	free(*field);
	*field = strdup(v);
	return *field ? 0 : -ENOMEM;
}

int dvcconfig_apply(struct config *cfg, int fd, const char *path,
		    char **ret_err)
{
	struct dvc d = { 0 };
	char section[300];
	const char *remote, *url;
	FILE *f;
	size_t i;
	int dfd, r = 0;

	*ret_err = NULL;
	if (cfg->storage != STORAGE_NONE)
		return 0;
	dfd = dup(fd);
	f = dfd < 0 ? NULL : fdopen(dfd, "r");
	if (!f) {
		r = -errno;
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	r = ini_parse_file(f, on_kv, &d);
	fclose(f);
	if (d.err) {
		r = d.err;
		goto out;
	}
	if (r != 0) {
		if (asprintf(ret_err, "'%s' line %d: cannot parse", path, r) < 0)
			*ret_err = NULL;
		r = -EINVAL;
		goto out;
	}
	remote = get(&d, "core", "remote");
	if (!remote)
		goto out;	/* no default remote: nothing to use */
	snprintf(section, sizeof(section), "remote \"%s\"", remote);
	url = get(&d, section, "url");
	if (!url) {
		if (asprintf(ret_err, "'%s': remote '%s' has no url", path,
			     remote) < 0)
			*ret_err = NULL;
		r = -EINVAL;
		goto out;
	}
	if (!strncmp(url, "s3://", 5)) {
		cfg->storage = STORAGE_S3;
		r = set(&cfg->storage_url, url);
		if (r == 0)
			r = set(&cfg->endpoint_url, get(&d, section, "endpointurl"));
		if (r == 0)
			r = set(&cfg->access_key_id,
				get(&d, section, "access_key_id"));
		if (r == 0)
			r = set(&cfg->secret_key,
				get(&d, section, "secret_access_key"));
		if (r == 0)
			r = set(&cfg->region, get(&d, section, "region"));
	} else if (!strncmp(url, "ssh://", 6)) {
		cfg->storage = STORAGE_SSH;
		r = set(&cfg->storage_url, url);
		if (r == 0)
			r = set(&cfg->ssh_key, get(&d, section, "keyfile"));
	} else if (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7)) {
		cfg->storage = STORAGE_OSDF;
		r = set(&cfg->storage_url, url);
	} else {
		cfg->storage = STORAGE_LOCAL;
		r = set(&cfg->storage_path, url);
	}
out:
	for (i = 0; i < d.n; i++) {
		free(d.kv[i].section);
		free(d.kv[i].key);
		free(d.kv[i].value);
	}
	return r;
}
