/* SPDX-License-Identifier: MIT */
/*
 * The schema of the store (store_i.h): the DDL below is MLMD 1.15's SQLite
 * schema version 10 (table and column names, declared types, constraints
 * and the 24 secondary indexes), as documented in doc/mlmd-schema.md §1;
 * cmffs' own tables follow it.  A new file gets all of it; an existing one
 * is checked to be MLMD v10 and gets what MLMD would add on open, cmffs'
 * tables and their migrations; store_reset() empties it for tests.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "store_i.h"

/* store_reset()'s statements, per table */
struct clear_stmt {
	sqlite3_stmt *any;	/* "SELECT 1 FROM t LIMIT 1" */
	sqlite3_stmt *del;	/* "DELETE FROM t" */
};

static const char mlmd_ddl[] =
	"CREATE TABLE IF NOT EXISTS `Type` ("
	" `id` INTEGER PRIMARY KEY AUTOINCREMENT,"
	" `name` VARCHAR(255) NOT NULL,"
	" `version` VARCHAR(255),"
	" `type_kind` TINYINT(1) NOT NULL,"
	" `description` TEXT,"
	" `input_type` TEXT,"
	" `output_type` TEXT,"
	" `external_id` VARCHAR(255) UNIQUE);"
	"CREATE TABLE IF NOT EXISTS `ParentType` ("
	" `type_id` INT NOT NULL,"
	" `parent_type_id` INT NOT NULL,"
	" PRIMARY KEY (`type_id`, `parent_type_id`));"
	"CREATE TABLE IF NOT EXISTS `TypeProperty` ("
	" `type_id` INT NOT NULL,"
	" `name` VARCHAR(255) NOT NULL,"
	" `data_type` INT NULL,"
	" PRIMARY KEY (`type_id`, `name`));"
	"CREATE TABLE IF NOT EXISTS `Artifact` ("
	" `id` INTEGER PRIMARY KEY AUTOINCREMENT,"
	" `type_id` INT NOT NULL,"
	" `uri` TEXT,"
	" `state` INT,"
	" `name` VARCHAR(255),"
	" `external_id` VARCHAR(255) UNIQUE,"
	" `create_time_since_epoch` INT NOT NULL DEFAULT 0,"
	" `last_update_time_since_epoch` INT NOT NULL DEFAULT 0,"
	" UNIQUE(`type_id`, `name`));"
	"CREATE TABLE IF NOT EXISTS `ArtifactProperty` ("
	" `artifact_id` INT NOT NULL,"
	" `name` VARCHAR(255) NOT NULL,"
	" `is_custom_property` TINYINT(1) NOT NULL,"
	" `int_value` INT,"
	" `double_value` DOUBLE,"
	" `string_value` TEXT,"
	" `byte_value` BLOB,"
	" `proto_value` BLOB,"
	" `bool_value` BOOLEAN,"
	" PRIMARY KEY (`artifact_id`, `name`, `is_custom_property`));"
	"CREATE TABLE IF NOT EXISTS `Execution` ("
	" `id` INTEGER PRIMARY KEY AUTOINCREMENT,"
	" `type_id` INT NOT NULL,"
	" `last_known_state` INT,"
	" `name` VARCHAR(255),"
	" `external_id` VARCHAR(255) UNIQUE,"
	" `create_time_since_epoch` INT NOT NULL DEFAULT 0,"
	" `last_update_time_since_epoch` INT NOT NULL DEFAULT 0,"
	" UNIQUE(`type_id`, `name`));"
	"CREATE TABLE IF NOT EXISTS `ExecutionProperty` ("
	" `execution_id` INT NOT NULL,"
	" `name` VARCHAR(255) NOT NULL,"
	" `is_custom_property` TINYINT(1) NOT NULL,"
	" `int_value` INT,"
	" `double_value` DOUBLE,"
	" `string_value` TEXT,"
	" `byte_value` BLOB,"
	" `proto_value` BLOB,"
	" `bool_value` BOOLEAN,"
	" PRIMARY KEY (`execution_id`, `name`, `is_custom_property`));"
	"CREATE TABLE IF NOT EXISTS `Context` ("
	" `id` INTEGER PRIMARY KEY AUTOINCREMENT,"
	" `type_id` INT NOT NULL,"
	" `name` VARCHAR(255) NOT NULL,"
	" `external_id` VARCHAR(255) UNIQUE,"
	" `create_time_since_epoch` INT NOT NULL DEFAULT 0,"
	" `last_update_time_since_epoch` INT NOT NULL DEFAULT 0,"
	" UNIQUE(`type_id`, `name`));"
	"CREATE TABLE IF NOT EXISTS `ContextProperty` ("
	" `context_id` INT NOT NULL,"
	" `name` VARCHAR(255) NOT NULL,"
	" `is_custom_property` TINYINT(1) NOT NULL,"
	" `int_value` INT,"
	" `double_value` DOUBLE,"
	" `string_value` TEXT,"
	" `byte_value` BLOB,"
	" `proto_value` BLOB,"
	" `bool_value` BOOLEAN,"
	" PRIMARY KEY (`context_id`, `name`, `is_custom_property`));"
	"CREATE TABLE IF NOT EXISTS `ParentContext` ("
	" `context_id` INT NOT NULL,"
	" `parent_context_id` INT NOT NULL,"
	" PRIMARY KEY (`context_id`, `parent_context_id`));"
	"CREATE TABLE IF NOT EXISTS `Event` ("
	" `id` INTEGER PRIMARY KEY AUTOINCREMENT,"
	" `artifact_id` INT NOT NULL,"
	" `execution_id` INT NOT NULL,"
	" `type` INT NOT NULL,"
	" `milliseconds_since_epoch` INT,"
	" UNIQUE(`artifact_id`, `execution_id`, `type`));"
	"CREATE TABLE IF NOT EXISTS `EventPath` ("
	" `event_id` INT NOT NULL,"
	" `is_index_step` TINYINT(1) NOT NULL,"
	" `step_index` INT,"
	" `step_key` TEXT);"
	"CREATE TABLE IF NOT EXISTS `Association` ("
	" `id` INTEGER PRIMARY KEY AUTOINCREMENT,"
	" `context_id` INT NOT NULL,"
	" `execution_id` INT NOT NULL,"
	" UNIQUE(`context_id`, `execution_id`));"
	"CREATE TABLE IF NOT EXISTS `Attribution` ("
	" `id` INTEGER PRIMARY KEY AUTOINCREMENT,"
	" `context_id` INT NOT NULL,"
	" `artifact_id` INT NOT NULL,"
	" UNIQUE(`context_id`, `artifact_id`));"
	"CREATE TABLE IF NOT EXISTS `MLMDEnv` ("
	" `schema_version` INTEGER PRIMARY KEY);"
	"CREATE INDEX IF NOT EXISTS `idx_artifact_uri` ON `Artifact`(`uri`);"
	"CREATE INDEX IF NOT EXISTS `idx_artifact_create_time_since_epoch`"
	" ON `Artifact`(`create_time_since_epoch`);"
	"CREATE INDEX IF NOT EXISTS `idx_artifact_last_update_time_since_epoch`"
	" ON `Artifact`(`last_update_time_since_epoch`);"
	"CREATE INDEX IF NOT EXISTS `idx_event_execution_id`"
	" ON `Event`(`execution_id`);"
	"CREATE INDEX IF NOT EXISTS `idx_parentcontext_parent_context_id`"
	" ON `ParentContext`(`parent_context_id`);"
	"CREATE INDEX IF NOT EXISTS `idx_type_name` ON `Type`(`name`);"
	"CREATE INDEX IF NOT EXISTS `idx_execution_create_time_since_epoch`"
	" ON `Execution`(`create_time_since_epoch`);"
	"CREATE INDEX IF NOT EXISTS `idx_execution_last_update_time_since_epoch`"
	" ON `Execution`(`last_update_time_since_epoch`);"
	"CREATE INDEX IF NOT EXISTS `idx_context_create_time_since_epoch`"
	" ON `Context`(`create_time_since_epoch`);"
	"CREATE INDEX IF NOT EXISTS `idx_context_last_update_time_since_epoch`"
	" ON `Context`(`last_update_time_since_epoch`);"
	"CREATE INDEX IF NOT EXISTS `idx_eventpath_event_id`"
	" ON `EventPath`(`event_id`);"
	"CREATE INDEX IF NOT EXISTS `idx_artifact_property_int`"
	" ON `ArtifactProperty`(`name`, `is_custom_property`, `int_value`)"
	" WHERE `int_value` IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS `idx_artifact_property_double`"
	" ON `ArtifactProperty`(`name`, `is_custom_property`, `double_value`)"
	" WHERE `double_value` IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS `idx_artifact_property_string`"
	" ON `ArtifactProperty`(`name`, `is_custom_property`, `string_value`)"
	" WHERE `string_value` IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS `idx_execution_property_int`"
	" ON `ExecutionProperty`(`name`, `is_custom_property`, `int_value`)"
	" WHERE `int_value` IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS `idx_execution_property_double`"
	" ON `ExecutionProperty`(`name`, `is_custom_property`, `double_value`)"
	" WHERE `double_value` IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS `idx_execution_property_string`"
	" ON `ExecutionProperty`(`name`, `is_custom_property`, `string_value`)"
	" WHERE `string_value` IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS `idx_context_property_int`"
	" ON `ContextProperty`(`name`, `is_custom_property`, `int_value`)"
	" WHERE `int_value` IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS `idx_context_property_double`"
	" ON `ContextProperty`(`name`, `is_custom_property`, `double_value`)"
	" WHERE `double_value` IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS `idx_context_property_string`"
	" ON `ContextProperty`(`name`, `is_custom_property`, `string_value`)"
	" WHERE `string_value` IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS `idx_type_external_id`"
	" ON `Type`(`external_id`);"
	"CREATE INDEX IF NOT EXISTS `idx_artifact_external_id`"
	" ON `Artifact`(`external_id`);"
	"CREATE INDEX IF NOT EXISTS `idx_execution_external_id`"
	" ON `Execution`(`external_id`);"
	"CREATE INDEX IF NOT EXISTS `idx_context_external_id`"
	" ON `Context`(`external_id`);";

/*
 * The 9 simple types MLMD upserts on every open, in MLMD's order, so that a
 * fresh file gives them ids 1-9 as MLMD itself would.
 */
static const struct {
	const char *name;
	int kind;
} simple_types[] = {
	{ "mlmd.Dataset", 1 },	 { "mlmd.Model", 1 },	 { "mlmd.Metrics", 1 },
	{ "mlmd.Statistics", 1 }, { "mlmd.Train", 0 },	 { "mlmd.Transform", 0 },
	{ "mlmd.Process", 0 },	 { "mlmd.Evaluate", 0 }, { "mlmd.Deploy", 0 },
};

/* Columns MLMD's check_*_table probes select; all must exist. */
static const char *const mlmd_probes[] = {
	"SELECT `id`, `name`, `version`, `type_kind`, `description`,"
	" `input_type`, `output_type`, `external_id` FROM `Type` LIMIT 0",
	"SELECT `type_id`, `parent_type_id` FROM `ParentType` LIMIT 0",
	"SELECT `type_id`, `name`, `data_type` FROM `TypeProperty` LIMIT 0",
	"SELECT `id`, `type_id`, `uri`, `state`, `name`, `external_id`,"
	" `create_time_since_epoch`, `last_update_time_since_epoch`"
	" FROM `Artifact` LIMIT 0",
	"SELECT `artifact_id`, `name`, `is_custom_property`, `int_value`,"
	" `double_value`, `string_value`, `byte_value`, `proto_value`,"
	" `bool_value` FROM `ArtifactProperty` LIMIT 0",
	"SELECT `id`, `type_id`, `last_known_state`, `name`, `external_id`,"
	" `create_time_since_epoch`, `last_update_time_since_epoch`"
	" FROM `Execution` LIMIT 0",
	"SELECT `execution_id`, `name`, `is_custom_property`, `int_value`,"
	" `double_value`, `string_value`, `byte_value`, `proto_value`,"
	" `bool_value` FROM `ExecutionProperty` LIMIT 0",
	"SELECT `id`, `type_id`, `name`, `external_id`,"
	" `create_time_since_epoch`, `last_update_time_since_epoch`"
	" FROM `Context` LIMIT 0",
	"SELECT `context_id`, `name`, `is_custom_property`, `int_value`,"
	" `double_value`, `string_value`, `byte_value`, `proto_value`,"
	" `bool_value` FROM `ContextProperty` LIMIT 0",
	"SELECT `context_id`, `parent_context_id` FROM `ParentContext` LIMIT 0",
	"SELECT `id`, `artifact_id`, `execution_id`, `type`,"
	" `milliseconds_since_epoch` FROM `Event` LIMIT 0",
	"SELECT `event_id`, `is_index_step`, `step_index`, `step_key`"
	" FROM `EventPath` LIMIT 0",
	"SELECT `id`, `context_id`, `execution_id` FROM `Association` LIMIT 0",
	"SELECT `id`, `context_id`, `artifact_id` FROM `Attribution` LIMIT 0",
	"SELECT `schema_version` FROM `MLMDEnv` LIMIT 0",
};

/*
 * cmffs' own tables.  cmffs_entry is the file tree a user sees under an
 * execution's inputs/ and outputs/: one row per directory or file, a file
 * pointing at the artifact that is its current version (NULL while its first
 * version is still being written).  cmffs_dir_attr keeps chmod/chown/utimens
 * of the fixed directories (pipelines, stages, executions).  Sync state:
 * cmffs_remote_object lists the objects confirmed at a storage remote,
 * cmffs_pushed_execution the last version of an execution a CMF server
 * acknowledged, cmffs_pushed_slice the Dataslice events of an execution a
 * server has (a push it acknowledged carried them, or its document shows
 * them); what is pending is derived from them, so a restart resumes.
 */
static const char cmffs_ddl[] =
	"CREATE TABLE IF NOT EXISTS cmffs_entry ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" execution_id INTEGER NOT NULL,"
	" side INTEGER NOT NULL,"
	" parent_id INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" is_dir INTEGER NOT NULL,"
	" artifact_id INTEGER,"
	" md5 TEXT,"
	" size INTEGER NOT NULL DEFAULT 0,"
	" mode INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" gid INTEGER NOT NULL,"
	" mtime_ns INTEGER NOT NULL,"
	" ctime_ns INTEGER NOT NULL,"
	" link_id INTEGER,"
	" UNIQUE(execution_id, side, parent_id, name)) STRICT;"
	"CREATE INDEX IF NOT EXISTS cmffs_entry_artifact"
	" ON cmffs_entry(artifact_id);"
	/* directories only: the nlink of a directory counts its subdirectories
	 * without visiting its files (stat of a directory of 10,000 files) */
	"CREATE INDEX IF NOT EXISTS cmffs_entry_subdir"
	" ON cmffs_entry(execution_id, side, parent_id) WHERE is_dir = 1;"
	"CREATE TABLE IF NOT EXISTS cmffs_remote_object ("
	" oid TEXT NOT NULL,"
	" remote TEXT NOT NULL,"
	" pushed_ms INTEGER NOT NULL,"
	" PRIMARY KEY (oid, remote)) STRICT;"
	"CREATE TABLE IF NOT EXISTS cmffs_pushed_execution ("
	" execution_id INTEGER NOT NULL,"
	" server TEXT NOT NULL,"
	" pushed_update_ms INTEGER NOT NULL,"
	" PRIMARY KEY (execution_id, server)) STRICT;"
	"CREATE TABLE IF NOT EXISTS cmffs_pushed_slice ("
	" execution_id INTEGER NOT NULL,"
	" artifact_id INTEGER NOT NULL,"
	" server TEXT NOT NULL,"
	" PRIMARY KEY (execution_id, artifact_id, server)) STRICT;"
	"CREATE TABLE IF NOT EXISTS cmffs_tensorboard_upload ("
	" entry_id INTEGER NOT NULL,"
	" server TEXT NOT NULL,"
	" md5 TEXT NOT NULL,"
	" PRIMARY KEY (entry_id, server)) STRICT;"
	"CREATE TABLE IF NOT EXISTS cmffs_side_upload ("
	" type TEXT NOT NULL,"
	" uri TEXT NOT NULL,"
	" server TEXT NOT NULL,"
	" PRIMARY KEY (type, uri, server)) STRICT;"
	"CREATE TABLE IF NOT EXISTS cmffs_sync_note ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL,"
	" time_ms INTEGER NOT NULL) STRICT;"
	"CREATE TABLE IF NOT EXISTS cmffs_entry_prop ("
	" entry_id INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (entry_id, name)) STRICT;"
	"CREATE TABLE IF NOT EXISTS cmffs_dir_attr ("
	" owner INTEGER NOT NULL,"
	" id INTEGER NOT NULL,"
	" mode INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" gid INTEGER NOT NULL,"
	" mtime_ns INTEGER NOT NULL,"
	" PRIMARY KEY (owner, id)) STRICT;"
	"CREATE TABLE IF NOT EXISTS cmffs_redo ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" applied INTEGER NOT NULL) STRICT;";

/*
 * Columns added to cmffs' own tables after stores were made without them,
 * each added once (ALTER TABLE ... ADD COLUMN keeps every row).
 *  - cmffs_entry.link_id: the file whose inode a hard link shares (NULL:
 *    its own), so a file's inode number is the same for its whole life.
 *  - cmffs_entry.size -1: a pulled file whose size is not known yet (the
 *    sync code asks the storage).  Stores made before recorded 0 for such
 *    files: a file with bytes (not the empty file's md5) and size 0 is one.
 *    The partial index cmffs_entry_unknown_size lists them; its absence
 *    says the store predates the rule.
 *  - cmffs_dirattr (keyed by the FUSE inode number the mount gave a fixed
 *    directory: 1 root, 2 pipelines/, class 1 << 56 | context id, class
 *    4 << 56 | execution id) becomes cmffs_dir_attr, keyed by what the
 *    directory shows (model.h enum dirattr_owner), so inode numbers are
 *    the mount's own business again.
 */
/* Is there a table or index named @name in the store? */
static bool has_schema_object(struct store *st, const char *name)
{
	sqlite3_stmt *s = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM sqlite_master WHERE"
			       " name = ?1", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(s) == SQLITE_ROW;
	}
	sqlite3_finalize(s);
	return found;
}

static int migrate_cmffs_tables(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(st->db, "SELECT link_id FROM cmffs_entry LIMIT 0",
				-1, &s, NULL);
	sqlite3_finalize(s);
	if (rc != SQLITE_OK)
		r = store_exec(st, "ALTER TABLE cmffs_entry ADD COLUMN link_id INTEGER");
	if (r == 0)
		r = store_exec(st, "CREATE INDEX IF NOT EXISTS cmffs_entry_link"
				   " ON cmffs_entry(link_id) WHERE link_id IS NOT NULL");
	if (r == 0 && !has_schema_object(st, "cmffs_entry_unknown_size"))
		r = store_exec(st, "UPDATE cmffs_entry SET size = -1"
				   " WHERE is_dir = 0 AND size = 0 AND"
				   " md5 IS NOT NULL AND"
				   " md5 <> '" EMPTY_MD5 "'");
	if (r == 0)
		r = store_exec(st, "CREATE INDEX IF NOT EXISTS"
				   " cmffs_entry_unknown_size ON cmffs_entry(md5)"
				   " WHERE size < 0");
	if (r == 0 && has_schema_object(st, "cmffs_dirattr"))
		r = store_exec(st,
			"INSERT OR IGNORE INTO cmffs_dir_attr(owner, id, mode,"
			" uid, gid, mtime_ns) SELECT CASE WHEN ino = 1 THEN 1"
			" WHEN ino = 2 THEN 2 WHEN (ino >> 56) = 1 THEN 3"
			" ELSE 4 END, CASE WHEN ino IN (1, 2) THEN 0"
			" ELSE ino & 72057594037927935 END, mode, uid, gid,"
			" mtime_ns FROM cmffs_dirattr WHERE ino IN (1, 2)"
			" OR (ino >> 56) IN (1, 4);"
			"DROP TABLE cmffs_dirattr;");
	return r;
}

static const char mlmd_env_sql[] =
	"INSERT INTO `MLMDEnv`(`schema_version`) VALUES (10)";

static int count_rows(struct store *st, const char *sql, int64_t *ret)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return store_errno(rc);
}

static int seed_simple_types(struct store *st)
{
	static const char sel[] = "SELECT 1 FROM `Type` WHERE `name` = ?1"
				  " AND `version` IS NULL AND `type_kind` = ?2";
	static const char ins[] = "INSERT INTO `Type`(`name`, `type_kind`,"
				  " `version`, `description`, `external_id`)"
				  " VALUES (?1, ?2, NULL, NULL, NULL)";
	size_t i;
	int r = 0;

	for (i = 0; i < sizeof(simple_types) / sizeof(simple_types[0]); i++) {
		sqlite3_stmt *s;
		int rc;

		r = store_stmt(st, sel, &s);
		if (r < 0)
			return r;
		sqlite3_bind_text(s, 1, simple_types[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, simple_types[i].kind);
		rc = sqlite3_step(s);
		store_stmt_done(s);
		if (rc == SQLITE_ROW)
			continue;
		if (rc != SQLITE_DONE)
			return store_errno(rc);
		r = store_stmt(st, ins, &s);
		if (r < 0)
			return r;
		sqlite3_bind_text(s, 1, simple_types[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, simple_types[i].kind);
		rc = sqlite3_step(s);
		store_stmt_done(s);
		if (rc != SQLITE_DONE)
			return store_errno(rc);
	}
	return 0;
}

/*
 * Bring the file to a usable state inside one write transaction: create the
 * whole schema if it is empty, otherwise check it is MLMD v10 and add what
 * MLMD would add on open (missing simple types) plus our own tables.
 */
int schema_prepare(struct store *st, const char *path, unsigned flags,
		   char **ret_err)
{
	int64_t ntables = 0, nenv = 0, version = 0;
	size_t i;
	int r;

	r = store_begin(st);
	if (r < 0) {
		store_set_err(ret_err, "cannot lock '%s': %s", path,
			sqlite3_errmsg(st->db));
		return r;
	}
	r = count_rows(st, "SELECT count(*) FROM sqlite_master WHERE"
			   " type = 'table' AND name NOT LIKE 'sqlite_%'",
		       &ntables);
	if (r < 0) {
		store_set_err(ret_err, "'%s' is not an SQLite database", path);
		goto out;
	}
	if (ntables == 0) {
		if (!(flags & STORE_CREATE)) {
			r = -ENOENT;
			store_set_err(ret_err, "'%s' holds no metadata store", path);
			goto out;
		}
		r = store_exec(st, mlmd_ddl);
		if (r == 0)
			r = store_exec(st, mlmd_env_sql);
		if (r < 0) {
			store_set_err(ret_err, "cannot create the schema in '%s': %s",
				path, sqlite3_errmsg(st->db));
			goto out;
		}
	}
	r = count_rows(st, "SELECT count(*) FROM sqlite_master WHERE"
			   " type = 'table' AND name = 'MLMDEnv'", &nenv);
	if (r == 0 && nenv == 1)
		r = count_rows(st, "SELECT count(*) FROM `MLMDEnv`", &nenv);
	else if (r == 0)
		nenv = -1;
	if (r < 0)
		goto out;
	if (nenv != 1) {
		r = -EPROTO;
		store_set_err(ret_err, nenv < 0 ? "'%s' is not an ML Metadata store (no MLMDEnv table)"
					  : "'%s' is a damaged ML Metadata store (MLMDEnv must hold one row)",
			path);
		goto out;
	}
	r = count_rows(st, "SELECT `schema_version` FROM `MLMDEnv`", &version);
	if (r < 0)
		goto out;
	if (version != MLMD_SCHEMA_VERSION) {
		r = -EPROTO;
		store_set_err(ret_err,
			"'%s' is an ML Metadata store of schema version %lld; cmffs reads and writes version 10 only (ml-metadata 1.11-1.16) and will not convert it",
			path, (long long)version);
		goto out;
	}
	for (i = 0; i < sizeof(mlmd_probes) / sizeof(mlmd_probes[0]); i++) {
		sqlite3_stmt *s = NULL;
		int rc = sqlite3_prepare_v2(st->db, mlmd_probes[i], -1, &s,
					    NULL);

		sqlite3_finalize(s);
		if (rc != SQLITE_OK) {
			r = -EPROTO;
			store_set_err(ret_err, "'%s' is not a complete MLMD v10 store: %s",
				path, sqlite3_errmsg(st->db));
			goto out;
		}
	}
	if (flags & STORE_READONLY) {
		store_rollback(st);
		return 0;
	}
	r = seed_simple_types(st);
	if (r == 0)
		r = store_exec(st, cmffs_ddl);
	if (r == 0)
		r = migrate_cmffs_tables(st);
	if (r < 0) {
		store_set_err(ret_err, "cannot prepare '%s': %s", path,
			sqlite3_errmsg(st->db));
		goto out;
	}
	r = store_commit(st);
	if (r < 0)
		store_set_err(ret_err, "cannot commit to '%s': %s", path,
			sqlite3_errmsg(st->db));
	return r;
out:
	store_rollback(st);
	return r;
}

static void clear_free(struct clear_stmt *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sqlite3_finalize(v[i].any);
		sqlite3_finalize(v[i].del);
	}
	free(v);
}

static int prepare_fmt(struct store *st, const char *fmt, const char *table,
		       sqlite3_stmt **ret)
{
	char *sql = sqlite3_mprintf(fmt, table);
	int rc;

	if (!sql)
		return -ENOMEM;
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				ret, NULL);
	sqlite3_free(sql);
	return store_errno(rc);
}

/*
 * Prepare st->clear for every table of the schema, sqlite_sequence
 * included.  Caller holds the lock.  0 or -errno (then st->clear is
 * unchanged).
 */
static int prepare_clear(struct store *st)
{
	static const char sel[] = "SELECT name FROM sqlite_master"
				  " WHERE type = 'table' ORDER BY name";
	struct clear_stmt *v = NULL, *grown;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s;
	int rc, r = store_stmt(st, sel, &s);

	if (r < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				r = -ENOMEM;
				goto out;
			}
			v = grown;
		}
		v[n].any = v[n].del = NULL;
		n++;
		r = prepare_fmt(st, "SELECT 1 FROM \"%w\" LIMIT 1", t,
				&v[n - 1].any);
		if (r == 0)
			r = prepare_fmt(st, "DELETE FROM \"%w\"", t,
					&v[n - 1].del);
		if (r < 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = store_errno(rc);
	else if (!n)
		r = -EPROTO;
out:
	store_stmt_done(s);
	if (r < 0) {
		clear_free(v, n);
		return r;
	}
	st->clear = v;
	st->nclear = n;
	return 0;
}

/* Delete the rows of the table of @c, if it has any (an empty table is
 * not written: no page of it is journaled). */
static int clear_table(struct clear_stmt *c)
{
	int rc = sqlite3_step(c->any);

	sqlite3_reset(c->any);
	if (rc == SQLITE_ROW) {
		rc = sqlite3_step(c->del);
		sqlite3_reset(c->del);
	}
	return store_errno(rc);
}

int store_reset(struct store *st)
{
	sqlite3_stmt *s;
	size_t i;
	int rc, r = 0;

	if (!st->nclear)
		r = prepare_clear(st);
	if (r == 0)
		r = store_begin(st);
	if (r < 0)
		return r;
	for (i = 0; i < st->nclear && r == 0; i++)
		r = clear_table(&st->clear[i]);
	if (r == 0)
		r = store_stmt(st, mlmd_env_sql, &s);
	if (r == 0) {
		rc = sqlite3_step(s);
		store_stmt_done(s);
		r = store_errno(rc);
	}
	if (r == 0)
		r = seed_simple_types(st);
	if (r == 0)
		return store_commit(st);
	store_rollback(st);
	return r;
}

void schema_free_clear(struct store *st)
{
	clear_free(st->clear, st->nclear);
	st->clear = NULL;
	st->nclear = 0;
}
