#!/usr/bin/python3
"""Reference cmf-server for tests (Python standard library only).

The real cmf-server (HewlettPackard/cmf, FastAPI + ml-metadata on PostgreSQL) cannot be installed on
this machine, so this module re-implements the part of it that a cmf client talks to: the REST routes
of doc/cmf-upstream.md section 3 and the push/pull/merge semantics of section 2, with
the upstream quirks that are visible over HTTP.  The behaviour was written from the spec and checked
against the upstream sources named in it (cmflib/cmf_federation.py, cmflib/cmf_merger.py,
cmflib/cmf_server.py, cmflib/metadata_helper.py, cmflib/cmfquery.py, server/app/main.py at
a2149225); no upstream code is reused.

Usage:
    /usr/bin/python3 tests/server/refserver.py --host 127.0.0.1 --port 0 --data-dir DIR [--port-file F]

Every route answers both as /api/<route> (what clients send through nginx) and as /<route>
(uvicorn directly).  See tests/server/README.md for the storage layout and the list of quirks.
"""

import argparse
import collections
import contextlib
import email.message
import json
import logging
import os
import re
import signal
import sqlite3
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

LOG = logging.getLogger("refserver")

DEFAULT_MAX_BODY = 64 * 1024 * 1024

# MLMD enumerations (spec §1.1).
KIND_EXECUTION, KIND_ARTIFACT, KIND_CONTEXT = 0, 1, 2
PT_INT, PT_DOUBLE, PT_STRING = 1, 2, 3
EV_INPUT, EV_OUTPUT = 3, 4

PIPELINE_TYPE = "Parent_Context"
STAGE_TYPE = "Pipeline_Stage"

# Type properties the server declares when it creates a type (spec §1.3-§1.5, §2.4).
EXECUTION_TYPE_PROPS = {
    "Execution_uuid": PT_STRING, "Context_Type": PT_STRING, "Context_ID": PT_INT,
    "Execution": PT_STRING, "Execution_type_name": PT_STRING, "Pipeline_Type": PT_STRING,
    "Pipeline_id": PT_INT, "Git_Repo": PT_STRING, "Git_Start_Commit": PT_STRING,
    "Git_End_Commit": PT_STRING,
}
GIT_COMMIT_URL_PROPS = {"git_repo": PT_STRING, "Commit": PT_STRING, "url": PT_STRING}
MODEL_PROPS = {"model_framework": PT_STRING, "model_type": PT_STRING, "model_name": PT_STRING,
               "Commit": PT_STRING, "url": PT_STRING}
STEP_METRICS_PROPS = {"Commit": PT_STRING, "url": PT_STRING}
METRICS_PROPS = {"metrics_name": PT_STRING}

# MLMD seeds nine "simple types" on first open, so CMF's own type ids start at 10 (spec §1.1).
SIMPLE_TYPES = [
    ("mlmd.Dataset", KIND_ARTIFACT), ("mlmd.Model", KIND_ARTIFACT), ("mlmd.Metrics", KIND_ARTIFACT),
    ("mlmd.Statistics", KIND_ARTIFACT), ("mlmd.Train", KIND_EXECUTION),
    ("mlmd.Transform", KIND_EXECUTION), ("mlmd.Process", KIND_EXECUTION),
    ("mlmd.Evaluate", KIND_EXECUTION), ("mlmd.Deploy", KIND_EXECUTION),
]

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def now_ms():
    return int(time.time() * 1000)


class AlreadyExists(Exception):
    """Stands for ml_metadata.errors.AlreadyExistsError (unique constraint hit)."""


class StoreError(Exception):
    """Stands for any other MLMD rejection (bad property type, empty type name, ...)."""


# --------------------------------------------------------------------------------------------------
# Values.  A stored value is a pair (kind, value) with kind in {"int", "double", "string", None};
# None is an empty MLMD Value.
# --------------------------------------------------------------------------------------------------

def _int64(v):
    if not INT64_MIN <= v <= INT64_MAX:
        raise ValueError("Value out of range: %d" % v)
    return int(v)


def mlmd_value(v):
    """Generic writer (spec §1.2 value_to_mlmd_value): None -> empty, int/bool -> int, float ->
    double, anything else -> str(v) (Python str, so lists become their Python repr)."""
    if v is None:
        return (None, None)
    if isinstance(v, int):
        return ("int", _int64(v))
    if isinstance(v, float):
        return ("double", v)
    return ("string", str(v))


def string_value(v):
    """Value(string_value=v): protobuf refuses anything but str."""
    if not isinstance(v, str):
        raise TypeError("expected str for a string_value, got %s" % type(v).__name__)
    return ("string", v)


def exported(val):
    """CmfQuery._copy (spec §2.1): string_value if set, else int_value if set, else double_value
    (0.0 for an empty Value)."""
    kind, v = val
    if kind in ("string", "int", "double"):
        return v
    return 0.0


def as_string(val):
    """Reading `.string_value` of a stored Value: "" unless it holds a string."""
    return val[1] if val[0] == "string" else ""


# --------------------------------------------------------------------------------------------------
# The store: an MLMD-shaped SQLite database.
# --------------------------------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS type (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    type_kind INTEGER NOT NULL,
    UNIQUE (name, type_kind));
CREATE TABLE IF NOT EXISTS type_property (
    type_id INTEGER NOT NULL, name TEXT NOT NULL, data_type INTEGER NOT NULL,
    PRIMARY KEY (type_id, name));
CREATE TABLE IF NOT EXISTS context (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    create_time_since_epoch INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL,
    UNIQUE (type_id, name));
CREATE INDEX IF NOT EXISTS context_name ON context (name);
CREATE TABLE IF NOT EXISTS execution (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type_id INTEGER NOT NULL,
    name TEXT,
    create_time_since_epoch INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL,
    UNIQUE (type_id, name));
CREATE TABLE IF NOT EXISTS artifact (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type_id INTEGER NOT NULL,
    uri TEXT NOT NULL,
    name TEXT,
    create_time_since_epoch INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL,
    UNIQUE (type_id, name));
CREATE INDEX IF NOT EXISTS artifact_uri ON artifact (uri);
CREATE TABLE IF NOT EXISTS context_property (
    context_id INTEGER NOT NULL, name TEXT NOT NULL, is_custom_property INTEGER NOT NULL,
    value_kind TEXT, int_value INTEGER, double_value TEXT, string_value TEXT,
    PRIMARY KEY (context_id, name, is_custom_property));
CREATE TABLE IF NOT EXISTS execution_property (
    execution_id INTEGER NOT NULL, name TEXT NOT NULL, is_custom_property INTEGER NOT NULL,
    value_kind TEXT, int_value INTEGER, double_value TEXT, string_value TEXT,
    PRIMARY KEY (execution_id, name, is_custom_property));
CREATE TABLE IF NOT EXISTS artifact_property (
    artifact_id INTEGER NOT NULL, name TEXT NOT NULL, is_custom_property INTEGER NOT NULL,
    value_kind TEXT, int_value INTEGER, double_value TEXT, string_value TEXT,
    PRIMARY KEY (artifact_id, name, is_custom_property));
CREATE TABLE IF NOT EXISTS event (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    artifact_id INTEGER NOT NULL,
    execution_id INTEGER NOT NULL,
    type INTEGER NOT NULL,
    milliseconds_since_epoch INTEGER,
    UNIQUE (artifact_id, execution_id, type));
CREATE INDEX IF NOT EXISTS event_execution ON event (execution_id);
CREATE TABLE IF NOT EXISTS event_path (
    event_id INTEGER NOT NULL, step_index INTEGER NOT NULL, step_key TEXT NOT NULL,
    PRIMARY KEY (event_id, step_index));
CREATE TABLE IF NOT EXISTS association (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    context_id INTEGER NOT NULL, execution_id INTEGER NOT NULL,
    UNIQUE (context_id, execution_id));
CREATE TABLE IF NOT EXISTS attribution (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    context_id INTEGER NOT NULL, artifact_id INTEGER NOT NULL,
    UNIQUE (context_id, artifact_id));
CREATE TABLE IF NOT EXISTS parent_context (
    context_id INTEGER NOT NULL, parent_context_id INTEGER NOT NULL,
    PRIMARY KEY (context_id, parent_context_id));
CREATE INDEX IF NOT EXISTS parent_context_parent ON parent_context (parent_context_id);
"""

SCHEMA_VERSION = "1"

# node kind -> (node table, property table, id column of the property table)
NODE_TABLES = {
    "context": ("context", "context_property", "context_id"),
    "execution": ("execution", "execution_property", "execution_id"),
    "artifact": ("artifact", "artifact_property", "artifact_id"),
}
NODE_TYPE_KIND = {"context": KIND_CONTEXT, "execution": KIND_EXECUTION, "artifact": KIND_ARTIFACT}


class Node:
    """In-memory copy of a context, execution or artifact (like an MLMD protobuf)."""

    __slots__ = ("kind", "id", "type_id", "type_name", "name", "uri", "create", "last",
                 "props", "custom")

    def __init__(self, kind, row, type_name, props, custom):
        self.kind = kind
        self.id = row["id"]
        self.type_id = row["type_id"]
        self.type_name = type_name
        self.name = row["name"]
        self.uri = row["uri"] if kind == "artifact" else None
        self.create = row["create_time_since_epoch"]
        self.last = row["last_update_time_since_epoch"]
        self.props = props
        self.custom = custom


class Store:
    """All access goes through one connection guarded by one re-entrant lock."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self._type_cache = {}
        with self.lock:
            self.db.executescript(SCHEMA)
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self.db.execute("BEGIN")
                self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
                for name, kind in SIMPLE_TYPES:
                    self.db.execute("INSERT INTO type (name, type_kind) VALUES (?, ?)", (name, kind))
                self.db.execute("COMMIT")
            elif row["value"] != SCHEMA_VERSION:
                raise SystemExit("unsupported store schema version %r in %s" % (row["value"], path))

    def close(self):
        with self.lock:
            self.db.close()

    @contextlib.contextmanager
    def transaction(self):
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    @contextlib.contextmanager
    def reading(self):
        with self.lock:
            yield

    def q(self, sql, args=()):
        return self.db.execute(sql, args).fetchall()

    def q1(self, sql, args=()):
        return self.db.execute(sql, args).fetchone()

    # ---- types --------------------------------------------------------------------------------

    def type_info(self, type_id):
        info = self._type_cache.get(type_id)
        if info is None:
            row = self.q1("SELECT name, type_kind FROM type WHERE id=?", (type_id,))
            if row is None:
                raise StoreError("no type with id %r" % (type_id,))
            props = {r["name"]: r["data_type"]
                     for r in self.q("SELECT name, data_type FROM type_property WHERE type_id=?",
                                     (type_id,))}
            info = (row["name"], row["type_kind"], props)
            self._type_cache[type_id] = info
        return info

    def find_type(self, kind, name):
        row = self.q1("SELECT id FROM type WHERE name=? AND type_kind=?", (name, kind))
        return row["id"] if row else None

    def get_or_create_type(self, kind, name, props):
        """get_or_create_*_type: an existing type is returned as stored (its declared properties
        are not changed)."""
        if not isinstance(name, str):
            raise TypeError("type name must be a str")
        if name == "":
            raise StoreError("No type name is specified.")
        tid = self.find_type(kind, name)
        if tid is not None:
            return tid
        cur = self.db.execute("INSERT INTO type (name, type_kind) VALUES (?, ?)", (name, kind))
        tid = cur.lastrowid
        for pname, dtype in (props or {}).items():
            self.db.execute("INSERT INTO type_property VALUES (?, ?, ?)", (tid, pname, dtype))
        return tid

    def _check_props(self, type_id, props):
        """MLMD validates properties against the declared type properties."""
        _, _, declared = self.type_info(type_id)
        want = {PT_INT: "int", PT_DOUBLE: "double", PT_STRING: "string"}
        for pname, (kind, _) in props.items():
            if pname not in declared:
                raise StoreError("Found unknown property: %s" % pname)
            if want.get(declared[pname]) != kind:
                raise StoreError("Found unmatched property type: %s" % pname)

    # ---- properties -----------------------------------------------------------------------------

    def _load_props(self, kind, node_id):
        _, ptable, idcol = NODE_TABLES[kind]
        props, custom = {}, {}
        for r in self.q("SELECT name, is_custom_property, value_kind, int_value, double_value, "
                        "string_value FROM %s WHERE %s=? ORDER BY rowid" % (ptable, idcol),
                        (node_id,)):
            k = r["value_kind"]
            if k == "int":
                v = (k, r["int_value"])
            elif k == "double":
                v = (k, float(r["double_value"]))
            elif k == "string":
                v = (k, r["string_value"])
            else:
                v = (None, None)
            (custom if r["is_custom_property"] else props)[r["name"]] = v
        return props, custom

    def _write_prop(self, kind, node_id, name, is_custom, val):
        _, ptable, idcol = NODE_TABLES[kind]
        k, v = val
        cols = (k, v if k == "int" else None, repr(v) if k == "double" else None,
                v if k == "string" else None)
        cur = self.db.execute(
            "UPDATE %s SET value_kind=?, int_value=?, double_value=?, string_value=? "
            "WHERE %s=? AND name=? AND is_custom_property=?" % (ptable, idcol),
            cols + (node_id, name, int(is_custom)))
        if cur.rowcount == 0:
            self.db.execute(
                "INSERT INTO %s (%s, name, is_custom_property, value_kind, int_value, double_value, "
                "string_value) VALUES (?, ?, ?, ?, ?, ?, ?)" % (ptable, idcol),
                (node_id, name, int(is_custom)) + cols)

    # ---- nodes ----------------------------------------------------------------------------------

    def load(self, kind, node_id):
        table = NODE_TABLES[kind][0]
        cols = "id, type_id, name, create_time_since_epoch, last_update_time_since_epoch"
        if kind == "artifact":
            cols += ", uri"
        row = self.q1("SELECT %s FROM %s WHERE id=?" % (cols, table), (node_id,))
        if row is None:
            return None
        props, custom = self._load_props(kind, node_id)
        return Node(kind, row, self.type_info(row["type_id"])[0], props, custom)

    def _load_many(self, kind, ids):
        return [self.load(kind, i) for i in ids]

    def create(self, kind, type_id, name, props, custom, uri=None):
        """put_* of a new node.  Names (if any) are unique per type; a clash raises AlreadyExists."""
        table = NODE_TABLES[kind][0]
        if name is not None and not isinstance(name, str):
            raise TypeError("node name must be a str")
        if kind == "artifact" and not isinstance(uri, str):
            raise TypeError("artifact uri must be a str")
        if kind == "context" and not name:
            raise StoreError("Context name should not be empty")
        self._check_props(type_id, props)
        if name not in (None, "") and self.q1(
                "SELECT 1 FROM %s WHERE type_id=? AND name=?" % table, (type_id, name)):
            raise AlreadyExists("Given node already exists: type_id=%d name=%s" % (type_id, name))
        t = now_ms()
        stored_name = name if name not in (None, "") else None
        if kind == "artifact":
            cur = self.db.execute(
                "INSERT INTO artifact (type_id, uri, name, create_time_since_epoch, "
                "last_update_time_since_epoch) VALUES (?, ?, ?, ?, ?)",
                (type_id, uri, stored_name, t, t))
        else:
            cur = self.db.execute(
                "INSERT INTO %s (type_id, name, create_time_since_epoch, "
                "last_update_time_since_epoch) VALUES (?, ?, ?, ?)" % table,
                (type_id, stored_name, t, t))
        nid = cur.lastrowid
        for pname, val in props.items():
            self._write_prop(kind, nid, pname, False, val)
        for pname, val in custom.items():
            self._write_prop(kind, nid, pname, True, val)
        return nid

    def put(self, node):
        """put_* of an existing node: writes changed properties; last_update_time_since_epoch only
        moves when something changed."""
        self._check_props(node.type_id, node.props)
        old_props, old_custom = self._load_props(node.kind, node.id)
        changed = False
        for is_custom, new, old in ((False, node.props, old_props), (True, node.custom, old_custom)):
            for pname, val in new.items():
                if old.get(pname) != val:
                    self._write_prop(node.kind, node.id, pname, is_custom, val)
                    changed = True
        if changed:
            table = NODE_TABLES[node.kind][0]
            t = max(now_ms(), node.create)
            self.db.execute("UPDATE %s SET last_update_time_since_epoch=? WHERE id=?" % table,
                            (t, node.id))
            node.last = t

    # ---- contexts -------------------------------------------------------------------------------

    def contexts_named(self, name):
        return self._load_many("context", [r["id"] for r in self.q(
            "SELECT id FROM context WHERE name=? ORDER BY id", (name,))])

    def contexts_of_type(self, type_name):
        tid = self.find_type(KIND_CONTEXT, type_name)
        if tid is None:
            return []
        return self._load_many("context", [r["id"] for r in self.q(
            "SELECT id FROM context WHERE type_id=? ORDER BY id", (tid,))])

    def children_of(self, ctx_id):
        return self._load_many("context", [r["context_id"] for r in self.q(
            "SELECT context_id FROM parent_context WHERE parent_context_id=? ORDER BY context_id",
            (ctx_id,))])

    def put_parent_context(self, child_id, parent_id):
        if self.q1("SELECT 1 FROM parent_context WHERE context_id=? AND parent_context_id=?",
                   (child_id, parent_id)):
            raise AlreadyExists("parent context already exists")
        self.db.execute("INSERT INTO parent_context VALUES (?, ?)", (child_id, parent_id))

    # ---- executions -----------------------------------------------------------------------------

    def execution_by_type_and_name(self, type_name, name):
        tid = self.find_type(KIND_EXECUTION, type_name)
        if tid is None:
            return None
        row = self.q1("SELECT id FROM execution WHERE type_id=? AND name=?", (tid, name))
        return self.load("execution", row["id"]) if row else None

    def executions_of_context(self, ctx_id):
        return self._load_many("execution", [r["execution_id"] for r in self.q(
            "SELECT execution_id FROM association WHERE context_id=? ORDER BY execution_id",
            (ctx_id,))])

    def put_association(self, ctx_id, exe_id):
        self.db.execute("INSERT OR IGNORE INTO association (context_id, execution_id) VALUES (?, ?)",
                        (ctx_id, exe_id))

    # ---- artifacts and events -------------------------------------------------------------------

    def artifacts_by_uri(self, uri):
        if not isinstance(uri, str):
            raise TypeError("uri must be a str")
        return self._load_many("artifact", [r["id"] for r in self.q(
            "SELECT id FROM artifact WHERE uri=? ORDER BY id", (uri,))])

    def put_attribution(self, ctx_id, art_id):
        self.db.execute("INSERT OR IGNORE INTO attribution (context_id, artifact_id) VALUES (?, ?)",
                        (ctx_id, art_id))

    def put_event(self, execution_id, artifact_id, ev_type, ms=None, path_key=None):
        if self.q1("SELECT 1 FROM event WHERE artifact_id=? AND execution_id=? AND type=?",
                   (artifact_id, execution_id, ev_type)):
            raise AlreadyExists("Given event already exists")
        cur = self.db.execute(
            "INSERT INTO event (artifact_id, execution_id, type, milliseconds_since_epoch) "
            "VALUES (?, ?, ?, ?)", (artifact_id, execution_id, ev_type, ms))
        if path_key is not None:
            self.db.execute("INSERT INTO event_path VALUES (?, 0, ?)", (cur.lastrowid, path_key))

    def events_of_artifact(self, art_id):
        return self.q("SELECT * FROM event WHERE artifact_id=? ORDER BY id", (art_id,))

    def events_of_execution(self, exe_id):
        return self.q("SELECT * FROM event WHERE execution_id=? ORDER BY id", (exe_id,))

    # ---- queries used by the routes ---------------------------------------------------------------

    def pipeline(self, name):
        """CmfQuery._get_pipeline: the first Parent_Context with that name."""
        for ctx in self.contexts_of_type(PIPELINE_TYPE):
            if ctx.name == name:
                return ctx
        return None

    def pipeline_names(self):
        return [c.name for c in self.contexts_of_type(PIPELINE_TYPE)]

    def executions_of_pipeline(self, name):
        """CmfQuery.get_all_executions_in_pipeline: executions associated with the stages that are
        children of the pipeline context."""
        p = self.pipeline(name)
        if p is None:
            return []
        out = []
        for stage in self.children_of(p.id):
            out.extend(self.executions_of_context(stage.id))
        return out


# --------------------------------------------------------------------------------------------------
# Merge: what cmflib does on the server for `push` (spec §2.4).  The session object plays the part of
# the `Cmf(is_server=True)` instance: it remembers the current stage context and execution, and later
# steps use whatever is current even when an earlier step failed (upstream behaves the same way).
# --------------------------------------------------------------------------------------------------

class MergeSession:
    def __init__(self, store, pipeline_name, errors):
        self.store = store
        self.errors = errors
        self.child_context = None   # Node of the current stage
        self.execution = None       # Node of the current execution
        # Cmf.__init__: get-or-create the pipeline context by name (any type), no custom properties.
        self.parent_context = self._get_or_create_context(
            pipeline_name, PIPELINE_TYPE, {"Pipeline": PT_STRING},
            {"Pipeline": string_value(pipeline_name)}, {})

    def log(self, where, exc):
        msg = "[%s] %s: %s" % (where, type(exc).__name__, exc)
        LOG.error(msg)
        self.errors.append(msg)

    # -- helpers mirroring metadata_helper ---------------------------------------------------------

    def _get_or_create_context(self, name, type_name, type_props, props, custom):
        found = self.store.contexts_named(name)   # get_context_by_name scans contexts of every type
        if not found:
            tid = self.store.get_or_create_type(KIND_CONTEXT, type_name, type_props)
            return self.store.load("context", self.store.create("context", tid, name, props, custom))
        ctx = found[0]
        if ctx.type_name != type_name:
            raise RuntimeError('Context "%s" was found, but it has type "%s" instead of "%s"'
                               % (name, ctx.type_name, type_name))
        # Existing context: custom properties of later pushes are ignored (§1.3, §8 item 20).
        return ctx

    def _exe_id(self):
        if self.execution is None:
            raise AttributeError("'NoneType' object has no attribute 'id'")
        return self.execution.id

    def _ctx_id(self):
        if self.child_context is None:
            raise AttributeError("'NoneType' object has no attribute 'id'")
        return self.child_context.id

    def _new_artifact(self, execution_id, context_id, uri, name, type_name, ev_type, props,
                      type_props, custom):
        """create_new_artifact_event_and_attribution: artifact, event with a timestamp and no
        path, attribution to the current stage.  Each step is its own write, so a failure leaves
        the earlier steps in place."""
        pvals = {k: mlmd_value(v) for k, v in (props or {}).items()}
        cvals = {k: mlmd_value(v) for k, v in (custom or {}).items()}
        tid = self.store.get_or_create_type(KIND_ARTIFACT, type_name, type_props)
        aid = self.store.create("artifact", tid, name, pvals, cvals, uri=uri)
        self.store.put_event(execution_id, aid, ev_type, ms=now_ms())
        self.store.put_attribution(context_id, aid)
        return aid

    def _link(self, execution_id, uri, input_name, ev_type):
        """link_execution_to_artifact: last artifact with the uri; nothing if any event already
        joins this execution and artifact; else an event with a path and no timestamp and no
        attribution (spec §1.6)."""
        arts = self.store.artifacts_by_uri(uri)
        if not arts:
            LOG.warning("Error: Not found upstream artifact with URI=%s.", uri)
            return None
        if len(arts) > 1:
            LOG.warning("Warning: Found multiple artifacts with the same URI.Using the last one..")
        art = arts[-1]
        for ev in self.store.events_of_artifact(art.id):
            if ev["execution_id"] == execution_id:
                return art
        self.store.put_event(execution_id, art.id, ev_type, ms=None, path_key=input_name)
        return art

    def _link_input(self, execution_id, uri, input_name):
        """link_execution_to_input_artifact: always adds an INPUT event (no existing-event check,
        so a second one hits the unique constraint -> AlreadyExists, spec §8 item 11)."""
        arts = self.store.artifacts_by_uri(uri)
        if not arts:
            LOG.warning("Error: Not found upstream artifact with URI=%s.", uri)
            return None
        art = arts[-1]
        self.store.put_event(execution_id, art.id, EV_INPUT, ms=None, path_key=input_name)
        return art

    def _merge_custom(self, art, custom):
        """Cmf.update_existing_artifact (spec §1.2): int (and bool) -> int; labels, labels_uri and
        dataset_uri are merged as a comma-joined set; anything else overwritten with str(v).
        The new values are computed first and written in one put, as upstream does."""
        for key, value in custom.items():
            if isinstance(value, int):
                art.custom[key] = ("int", _int64(value))
            elif key in ("labels", "labels_uri", "dataset_uri"):
                old = as_string(art.custom.get(key, (None, None)))
                if old:
                    # Upstream joins a Python set (order not defined); first-seen order is one of
                    # the possible outcomes.
                    merged = list(dict.fromkeys((old + "," + str(value)).split(",")))
                    art.custom[key] = ("string", ",".join(merged))
                else:
                    art.custom[key] = ("string", str(value))
            else:
                art.custom[key] = ("string", str(value))
        self._put_artifact(art)

    def _put_artifact(self, art):
        try:
            self.store.put(art)
        except Exception as exc:     # metadata_helper.put_artifact only prints its errors
            LOG.error("Failed to put artifact . Exception: \"%s\"", exc)

    def _append_url(self, art, new_url):
        """Cmf.update_dataset_url / update_model_url: only when the artifact has a `url` property;
        blank old value -> replaced, else appended with "," unless already a substring."""
        if "url" in art.props:
            old = as_string(art.props["url"])
            if not old.strip():
                value = new_url
            elif new_url not in old:
                value = "%s,%s" % (old, new_url)
            else:
                value = old
            art.props["url"] = string_value(value)
        self._put_artifact(art)

    # -- stage and execution ----------------------------------------------------------------------

    def merge_stage_context(self, stage):
        """merge_created_context: the stage name is used verbatim ("<pipeline>/<stage>")."""
        name = stage["name"]
        custom = stage["custom_properties"]
        cvals = {k: mlmd_value(v) for k, v in (custom or {}).items()}
        props = {"Pipeline_Stage": string_value(name)}
        self.child_context = self._get_or_create_context(
            name, STAGE_TYPE, {"Pipeline_Stage": PT_STRING}, props, cvals)
        try:
            self.store.put_parent_context(self.child_context.id, self.parent_context.id)
        except Exception:
            pass     # associate_child_to_parent_context swallows every error

    def merge_execution(self, execution):
        """merge_created_execution (spec §2.4): the server-side execution type is the stage name
        (Context_Type); a named execution is reused by (type, name)."""
        properties = execution["properties"]
        context_type = properties["Context_Type"]
        command = properties["Execution"]
        custom = execution["custom_properties"]
        orig_name = execution["name"]
        git_repo = properties.get("Git_Repo", "")
        git_start = properties.get("Git_Start_Commit", "")
        git_end = properties.get("Git_End_Commit", "")
        reuse = orig_name != ""
        context_id = self._ctx_id()
        cvals = {k: mlmd_value(v) for k, v in (custom or {}).items()}
        pvals = {
            "Context_Type": string_value(context_type),
            "Context_ID": ("int", context_id),
            "Execution": string_value(command),
            "Execution_type_name": string_value(context_type),
            "Pipeline_Type": string_value(self.parent_context.name),
            "Pipeline_id": ("int", self.parent_context.id),
            "Git_Repo": string_value(git_repo),
            "Git_Start_Commit": string_value(git_start),
            "Git_End_Commit": string_value(git_end),
        }
        tid = self.store.get_or_create_type(KIND_EXECUTION, context_type, EXECUTION_TYPE_PROPS)
        node = None
        if reuse:
            if not isinstance(orig_name, str):
                raise TypeError("execution name must be a str")
            # Reused execution (§2.4, §9): its stored properties and custom properties stay as
            # they are; only Execution_uuid and Git_End_Commit are updated below.
            node = self.store.execution_by_type_and_name(context_type, orig_name)
        if node is None:
            eid = self.store.create("execution", tid, orig_name if reuse else None, pvals, cvals)
            node = self.store.load("execution", eid)
        self.store.put_association(context_id, node.id)
        self.execution = node
        incoming = properties["Execution_uuid"]
        stored = as_string(node.props.get("Execution_uuid", (None, None)))
        if stored:
            # Union of the stored and incoming comma lists.  Upstream uses a Python set (order not
            # defined); keeping first-seen order is one of its possible outcomes.
            union = list(dict.fromkeys(stored.split(",") + incoming.split(",")))
            node.props["Execution_uuid"] = string_value(",".join(union))
        else:
            node.props["Execution_uuid"] = string_value(incoming)
        node.props["Git_End_Commit"] = string_value(git_end)
        self.store.put(node)

    # -- artifacts (one function per branch of cmf_merger.handle_event) ----------------------------

    def dataset_or_label(self, type_name, path, version, io, props, custom):
        """log_dataset_with_version / log_label_with_version: name "<path>:<uri>"."""
        props = {} if props is None else props
        custom = {} if custom is None else custom
        git_repo = props.get("git_repo", "")
        ev_type = EV_INPUT if io.lower() == "input" else EV_OUTPUT
        name = path + ":" + version
        existing = []
        if version and version.strip():
            existing = self.store.artifacts_by_uri(version)
        if existing:
            art = existing[0]
            self._merge_custom(art, custom)
            self._append_url(art, props.get("url", ""))
            self._link(self._exe_id(), version, name, ev_type)
        else:
            uri = version if version and version.strip() else str(uuid.uuid1())
            exe_id, ctx_id = self._exe_id(), self._ctx_id()
            self._new_artifact(exe_id, ctx_id, uri, name, type_name, ev_type,
                               {"git_repo": str(git_repo), "Commit": str(version),
                                "url": props.get("url", " ")},
                               GIT_COMMIT_URL_PROPS, custom)

    def model(self, path, io, props, custom):
        """log_model_with_version: name "<path>:<uri>:<server execution id>" (§2.4 table, §8 item
        22).  An existing artifact (same uri) only gets its url updated and a link; unlike the
        §2.4 summary says, its custom properties are NOT merged (cmf_server.py has no
        update_existing_artifact call on this path)."""
        custom = {} if custom is None else custom
        ev_type = EV_INPUT if io.lower() == "input" else EV_OUTPUT
        c_hash = props.get("uri", " ")
        model_name = path + ":" + c_hash
        url = props.get("url", "")
        if c_hash and c_hash.strip():
            existing = self.store.artifacts_by_uri(c_hash.strip())
        else:
            raise RuntimeError("Model commit failed, Model uri empty")
        if existing:
            for art in existing:     # update_model_url touches every artifact with that uri
                self._append_url(art, url)
            linked = self._link(self._exe_id(), c_hash, model_name, ev_type)
            if linked is None:
                raise AttributeError("'NoneType' object has no attribute 'name'")
        else:
            name = model_name + ":" + str(self._exe_id())
            self._new_artifact(self._exe_id(), self._ctx_id(), c_hash, name, "Model", ev_type,
                               {"model_framework": props.get("model_framework", ""),
                                "model_type": props.get("model_type", ""),
                                "model_name": props.get("model_name", ""),
                                "Commit": props.get("Commit", ""), "url": str(url)},
                               MODEL_PROPS, custom)

    def metrics(self, full_name, custom):
        """log_execution_metrics_from_client: uri is the 2nd ':'-token of the client's name; name
        "<name>:<uri>:<server execution id>"; skipped when the FIRST artifact with that uri already
        has exactly that name."""
        custom = {} if custom is None else custom
        tokens = full_name.split(":")
        if len(tokens) <= 2:
            LOG.error("[log_execution_metrics_from_client] Error : metrics name %s is not in the "
                      "correct format", full_name)
            return
        name, uri = tokens[0], tokens[1]
        new_name = "%s:%s:%s" % (name, uri, self._exe_id())
        existing = self.store.artifacts_by_uri(uri)
        if existing and existing[0].name == new_name:
            return
        self._new_artifact(self._exe_id(), self._ctx_id(), uri, new_name, "Metrics", EV_OUTPUT,
                           {"metrics_name": full_name}, METRICS_PROPS, custom)

    def step_metrics(self, full_name, uri, props, custom):
        """log_step_metrics_from_client (§2.4 table): name verbatim; an existing uri is only
        linked (OUTPUT): no url append, no custom-property merge."""
        props = {} if props is None else props
        custom = {} if custom is None else custom
        c_hash = uri.strip()
        if self.store.artifacts_by_uri(c_hash):
            self._link(self._exe_id(), c_hash, full_name, EV_OUTPUT)
        else:
            self._new_artifact(self._exe_id(), self._ctx_id(), uri, full_name, "Step_Metrics",
                               EV_OUTPUT, {"Commit": props.get("Commit", ""),
                                           "url": props.get("url", "")},
                               STEP_METRICS_PROPS, custom)

    def dataslice(self, full_name, uri, props, custom):
        """log_dataslice_from_client (§2.4 table, §8 item 11): name verbatim; new -> OUTPUT;
        existing -> INPUT re-link without an existing-event check (no url/custom merge)."""
        custom = {} if custom is None else custom
        props = {} if props is None else props
        c_hash = uri.strip()
        existing = self.store.artifacts_by_uri(c_hash) if c_hash and c_hash.strip() else []
        if existing:
            self._link_input(self._exe_id(), c_hash, full_name)
        else:
            self._new_artifact(self._exe_id(), self._ctx_id(), c_hash, full_name, "Dataslice",
                               EV_OUTPUT, {"git_repo": props.get("git_repo", ""),
                                           "Commit": props.get("Commit", ""),
                                           "url": props.get("url", " ")},
                               GIT_COMMIT_URL_PROPS, custom)

    def environment(self, path, uri, props):
        """log_python_env_from_client (§2.4 table: called with (path, uri, props) only): name
        "<path>:<uri>", INPUT; the client's custom properties, including the
        original_create_time_since_epoch added for the push, are dropped."""
        props = {} if props is None else props
        git_repo = props.get("git_repo", "")
        commit = props.get("Commit", "")
        name = path + ":" + uri
        existing = self.store.artifacts_by_uri(uri) if uri and uri.strip() else []
        if existing:
            self._append_url(existing[0], props.get("url", ""))
            self._link(self._exe_id(), uri, name, EV_INPUT)
        else:
            new_uri = uri if uri and uri.strip() else str(uuid.uuid1())
            self._new_artifact(self._exe_id(), self._ctx_id(), new_uri, name, "Environment",
                               EV_INPUT, {"git_repo": str(git_repo), "Commit": str(commit),
                                          "url": props.get("url", "")},
                               GIT_COMMIT_URL_PROPS, None)

    def merge_event(self, event):
        artifact = event["artifact"]
        a_type = artifact["type"]
        ev_type = event["type"]
        path = artifact["name"].split(":")[0]
        custom = artifact["custom_properties"]
        props = artifact["properties"]
        uri = artifact["uri"]
        io = "input" if ev_type == EV_INPUT else "output"
        try:
            if a_type == "Dataset":
                self.dataset_or_label("Dataset", path, uri, io, props, custom)
            elif a_type == "Model":
                props["uri"] = uri
                self.model(path, io, props, custom)
            elif a_type == "Metrics":
                self.metrics(artifact["name"], custom)
            elif a_type == "Dataslice":
                self.dataslice(artifact["name"], uri, props, custom)
            elif a_type == "Step_Metrics":
                self.step_metrics(artifact["name"], uri, props, custom)
            elif a_type == "Environment":
                self.environment(path, uri, props)
            elif a_type == "Label":
                self.dataset_or_label("Label", path, uri, "input", props, custom)
            # other types (e.g. Validation_output) are ignored (§2.4 table)
        except AlreadyExists:
            # cmf_merger.handle_event (§2.4 "On AlreadyExistsError ..."): merge the custom properties into the first artifact with the
            # event's uri.  An error raised here (e.g. no such artifact) escapes to the caller,
            # which logs it.
            arts = self.store.artifacts_by_uri(uri)
            self._merge_custom(arts[0], custom)
        except Exception as exc:
            self.log("handle_event %s" % a_type, exc)


# --------------------------------------------------------------------------------------------------
# Request validation shaped like FastAPI + pydantic v2 (spec §3).
# --------------------------------------------------------------------------------------------------

class HTTPError(Exception):
    def __init__(self, status, detail, headers=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def validation_error(errors):
    return HTTPError(422, errors)


def err_missing(loc, inp):
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": inp}


def err_string_type(loc, inp):
    return {"type": "string_type", "loc": loc, "msg": "Input should be a valid string", "input": inp}


def err_value(msg, inp):
    return {"type": "value_error", "loc": ["body"], "msg": "Value error, " + msg, "input": inp,
            "ctx": {"error": {}}}


def json_body(req):
    """FastAPI's JSON body handling: empty body or JSON null -> missing; a non-JSON content type
    leaves the raw bytes, which are not an object; a decode error -> json_invalid."""
    if not req.body:
        raise validation_error([err_missing(["body"], None)])
    ctype = req.headers.get("Content-Type")
    is_json = True
    if ctype:
        m = email.message.Message()
        m["content-type"] = ctype
        sub = m.get_content_subtype()
        is_json = m.get_content_maintype() == "application" and (
            sub == "json" or sub.endswith("+json"))
    if not is_json:
        raise validation_error([{
            "type": "model_attributes_type", "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": req.body.decode("utf-8", "replace")}])
    try:
        body = json.loads(req.body)
    except ValueError as exc:
        pos = getattr(exc, "pos", 0)
        msg = getattr(exc, "msg", str(exc))
        raise validation_error([{"type": "json_invalid", "loc": ["body", pos],
                                 "msg": "JSON decode error", "input": {}, "ctx": {"error": msg}}])
    if body is None:
        raise validation_error([err_missing(["body"], None)])
    if not isinstance(body, dict):
        raise validation_error([{
            "type": "model_attributes_type", "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": body}])
    return body


def optional_str(body, field, errors):
    v = body.get(field)
    if v is not None and not isinstance(v, str):
        errors.append(err_string_type(["body", field], v))
    return v


def optional_int(body, field, errors):
    v = body.get(field)
    loc = ["body", field]
    if v is None or (isinstance(v, int)):
        return None if v is None else int(v)
    if isinstance(v, float):
        if v == v and v not in (float("inf"), float("-inf")) and v.is_integer():
            return int(v)
        errors.append({"type": "int_from_float", "loc": loc, "input": v,
                       "msg": "Input should be a valid integer, got a number with a fractional part"})
        return None
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            errors.append({"type": "int_parsing", "loc": loc, "input": v,
                           "msg": "Input should be a valid integer, unable to parse string as an "
                                  "integer"})
            return None
    errors.append({"type": "int_type", "loc": loc, "msg": "Input should be a valid integer",
                   "input": v})
    return None


def validate_push_request(req):
    """MLMDPushRequest (server/app/schemas/dataframe.py): exec_uuid Optional[str]; pipeline_name
    Optional[str] but required, min_length=1; json_payload str, required; then an "after" model
    validator (non-blank name, non-empty payload, payload parses as JSON)."""
    body = json_body(req)
    errors = []
    exec_uuid = optional_str(body, "exec_uuid", errors)
    if "pipeline_name" not in body:
        errors.append(err_missing(["body", "pipeline_name"], body))
    else:
        name = body["pipeline_name"]
        if name is not None and not isinstance(name, str):
            errors.append(err_string_type(["body", "pipeline_name"], name))
        elif isinstance(name, str) and len(name) < 1:
            errors.append({"type": "string_too_short", "loc": ["body", "pipeline_name"],
                           "msg": "String should have at least 1 character", "input": name,
                           "ctx": {"min_length": 1}})
    if "json_payload" not in body:
        errors.append(err_missing(["body", "json_payload"], body))
    elif not isinstance(body["json_payload"], str):
        errors.append(err_string_type(["body", "json_payload"], body["json_payload"]))
    if errors:
        raise validation_error(errors)
    name = body["pipeline_name"]
    payload = body["json_payload"]
    if name is None:
        # Quirk (spec §3, dataframe.py): the field is Optional[str], so null passes field
        # validation and the model validator then calls None.strip() -> AttributeError, which
        # pydantic does not turn into a 422: upstream answers 500.
        raise HTTPError(500, None)
    if not name.strip():
        raise validation_error([err_value("Pipeline name must not be empty or whitespace", body)])
    if not payload:
        raise validation_error([err_value("JSON payload must not be empty", body)])
    try:
        json.loads(payload)
    except ValueError:
        raise validation_error([err_value("JSON payload is not valid JSON", body)])
    return name, payload, exec_uuid


def validate_pull_request(req):
    """MLMDPullRequest: pipeline_name, exec_uuid Optional[str]; last_sync_time Optional[int]."""
    body = json_body(req)
    errors = []
    name = optional_str(body, "pipeline_name", errors)
    exec_uuid = optional_str(body, "exec_uuid", errors)
    last_sync = optional_int(body, "last_sync_time", errors)
    if errors:
        raise validation_error(errors)
    return name, exec_uuid, last_sync


def required_query(req, names):
    errors = []
    values = []
    for n in names:
        if n not in req.query:
            errors.append(err_missing(["query", n], None))
            values.append(None)
        else:
            values.append(req.query[n])
    return values, errors


# --------------------------------------------------------------------------------------------------
# multipart/form-data (own minimal parser)
# --------------------------------------------------------------------------------------------------

_PARAM_RE = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _header_params(value):
    main = value.split(";", 1)[0].strip().lower()
    params = {}
    for m in _PARAM_RE.finditer(value):
        v = m.group(2).strip()
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = re.sub(r'\\(.)', r'\1', v[1:-1])
        params[m.group(1).lower()] = v
    return main, params


class Part:
    __slots__ = ("name", "filename", "data")

    def __init__(self, name, filename, data):
        self.name, self.filename, self.data = name, filename, data


def parse_multipart(body, content_type):
    """Return the parts of a multipart/form-data body; [] when the request is not multipart
    (FastAPI then reports the file field as missing).  Raises ValueError on a malformed body."""
    if not content_type:
        return []
    main, params = _header_params(content_type)
    if main != "multipart/form-data":
        return []
    boundary = params.get("boundary")
    if not boundary:
        raise ValueError("Missing boundary in multipart.")
    delim = b"--" + boundary.encode("latin-1")
    pos = body.find(delim)
    if pos < 0:
        raise ValueError("multipart boundary not found")
    parts = []
    pos += len(delim)
    while True:
        if body[pos:pos + 2] == b"--":
            break
        if body[pos:pos + 2] != b"\r\n":
            raise ValueError("malformed multipart delimiter")
        start = pos + 2
        end = body.find(b"\r\n" + delim, start)
        if end < 0:
            raise ValueError("unterminated multipart part")
        raw = body[start:end]
        hdr_end = raw.find(b"\r\n\r\n")
        if hdr_end < 0:
            if raw.startswith(b"\r\n"):
                head, data = b"", raw[2:]
            else:
                raise ValueError("malformed multipart part headers")
        else:
            head, data = raw[:hdr_end], raw[hdr_end + 4:]
        name = filename = None
        for line in head.split(b"\r\n"):
            if b":" not in line:
                continue
            key, _, val = line.partition(b":")
            if key.strip().lower() == b"content-disposition":
                try:
                    text = val.decode("utf-8")
                except UnicodeDecodeError:
                    text = val.decode("latin-1")
                _, dparams = _header_params(text)
                name = dparams.get("name")
                filename = dparams.get("filename")
        if name is None:
            raise ValueError("multipart part without a name")
        parts.append(Part(name, filename, data))
        pos = end + 2 + len(delim)
    return parts


def form_file(req, field="file"):
    """UploadFile = File(...): the last part with that name; missing -> 422; a plain form value
    (no filename) is not an UploadFile -> 422."""
    try:
        parts = parse_multipart(req.body, req.headers.get("Content-Type"))
    except ValueError:
        raise HTTPError(400, "There was an error parsing the body")
    chosen = None
    for p in parts:
        if p.name == field:
            chosen = p
    if chosen is None:
        return None, err_missing(["body", field], None)
    if chosen.filename is None:
        text = chosen.data.decode("utf-8", "replace")
        return None, {"type": "value_error", "loc": ["body", field],
                      "msg": "Value error, Expected UploadFile, received: <class 'str'>",
                      "input": text, "ctx": {"error": {}}}
    return chosen, None


# --------------------------------------------------------------------------------------------------
# The application
# --------------------------------------------------------------------------------------------------

class Response:
    def __init__(self, status, body, content_type, headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def json_response(status, obj, headers=None):
    # Starlette's JSONResponse rendering: compact separators, ensure_ascii=False.
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(status, text.encode("utf-8"), "application/json", headers)


def text_response(status, text, ctype="text/plain; charset=utf-8"):
    return Response(status, text.encode("utf-8"), ctype)


class Request:
    def __init__(self, method, path, raw_query, headers, body):
        self.method, self.path, self.raw_query, self.headers, self.body = (
            method, path, raw_query, headers, body)
        # For a scalar query parameter the last occurrence wins (Starlette's QueryParams.get).
        self.query = dict(parse_qsl(raw_query, keep_blank_values=True))


class App:
    # Upstream literal paths, used verbatim in the /label messages (the wire text).
    UPSTREAM_LABELS_DIR = "/cmf-server/data/labels"

    def __init__(self, data_dir):
        self.data_dir = os.path.abspath(data_dir)
        self.env_dir = os.path.join(self.data_dir, "env")
        self.labels_dir = os.path.join(self.data_dir, "labels")
        self.tb_dir = os.path.join(self.data_dir, "tensorboard-logs")
        for d in (self.data_dir, self.env_dir, self.labels_dir, self.tb_dir):
            os.makedirs(d, exist_ok=True)
        self.store = Store(os.path.join(self.data_dir, "cmf-server.sqlite"))
        self.locks_guard = threading.Lock()
        self.pipeline_locks = {}
        self.lock_users = collections.Counter()
        self.merge_errors = collections.deque(maxlen=1000)
        self.routes = {
            "/": {"GET": self.root},
            "/mlmd_push": {"POST": self.mlmd_push},
            "/mlmd_pull": {"POST": self.mlmd_pull},
            "/python-env": {"POST": self.upload_python_env, "GET": self.get_python_env},
            "/label": {"POST": self.upload_label},
            "/label-data": {"GET": self.get_label_data},
            "/tensorboard": {"POST": self.upload_tensorboard},
            "/pipelines": {"GET": self.pipelines},
            "/_debug/dump": {"GET": self.debug_dump},   # test-only, not upstream
        }

    # -- dispatch ---------------------------------------------------------------------------------

    def route_path(self, raw_path):
        path = raw_path
        if path == "/api":
            path = "/"
        elif path.startswith("/api/"):
            path = path[4:]
        return path

    def dispatch(self, req):
        path = self.route_path(req.path)
        methods = self.routes.get(path)
        if methods is None:
            # Starlette's redirect_slashes: "/x/" -> 307 to "/x" when that route exists.
            if path != "/" and path.endswith("/") and path.rstrip("/") in self.routes:
                location = req.path.rstrip("/")
                if req.raw_query:
                    location += "?" + req.raw_query
                return Response(307, b"", None, {"Location": location})
            return json_response(404, {"detail": "Not Found"})
        handler = methods.get(req.method)
        if handler is None:
            return json_response(405, {"detail": "Method Not Allowed"},
                                 {"Allow": ", ".join(sorted(methods))})
        try:
            return handler(req)
        except HTTPError as exc:
            if exc.detail is None:      # an unhandled exception upstream: Starlette's plain 500
                return text_response(500, "Internal Server Error")
            return json_response(exc.status, {"detail": exc.detail}, exc.headers)
        except Exception:
            LOG.error("unhandled exception in %s %s\n%s", req.method, req.path,
                      traceback.format_exc())
            return text_response(500, "Internal Server Error")

    # -- routes -----------------------------------------------------------------------------------

    def root(self, req):
        return json_response(200, ["cmf-server"])

    def pipelines(self, req):
        with self.store.reading():
            return json_response(200, self.store.pipeline_names())

    @contextlib.contextmanager
    def pipeline_lock(self, name):
        """main.py keeps one lock per pipeline name while pushes for it are in flight."""
        with self.locks_guard:
            lock = self.pipeline_locks.setdefault(name, threading.Lock())
            self.lock_users[name] += 1
        try:
            with lock:
                yield
        finally:
            with self.locks_guard:
                self.lock_users[name] -= 1
                if self.lock_users[name] == 0:
                    del self.lock_users[name]
                    del self.pipeline_locks[name]

    def mlmd_push(self, req):
        name, payload, exec_uuid = validate_push_request(req)
        with self.pipeline_lock(name):
            with self.store.transaction():
                status = self.push(payload, name, exec_uuid)
        if status == "invalid_json_payload":
            raise HTTPError(400, "Invalid JSON payload. The pipeline name is missing.")
        if status == "version_update":
            raise HTTPError(422, "version_update")
        return json_response(200, {"status": status})

    def push(self, payload, pipeline_name, exec_uuid):
        """cmf_federation.update_mlmd for "push" with a pipeline name (spec §2.4 steps 1-5).
        Python exceptions raised here (malformed documents) become HTTP 500, as upstream."""
        document = json.loads(payload)
        pipelines = document.get("Pipeline", [])
        if not pipelines:
            return "invalid_json_payload"
        matching = [p for p in pipelines if p.get("name") == pipeline_name]
        if not matching:
            # pipeline_not_exist is answered with HTTP 200 (spec §2.4 step 2, §8 item 29).
            return "pipeline_not_exist"
        pipeline = matching[0]

        # Step 3: uuids already on the server for this pipeline vs uuids of the UNNAMED payload
        # executions.  Named executions never count, so they are always merged again (§9).
        known = []
        for exe in self.store.executions_of_pipeline(pipeline_name):
            known.extend(as_string(exe.props.get("Execution_uuid", (None, None))).split(","))
        offered = []
        for stage in pipeline["stages"]:
            for exe in stage["executions"]:
                if exe["name"] != "":
                    continue
                if "Execution_uuid" not in exe["properties"]:
                    return "version_update"     # HTTP 422 {"detail": "version_update"}
                offered.extend(exe["properties"]["Execution_uuid"].split(","))
        exists = set(known) & set(offered) if known else set()

        # Step 4: drop every execution with a known uuid.  Quirk (§2.4 step 4, §8 item 4): an
        # execution with k comma-separated uuids is kept k times and therefore merged k times.
        # Quirk (§2.4 idempotency, §8 item 4): an unnamed execution seen before is skipped entirely,
        # so artifacts added to it locally after its first push never reach the server.
        for stage in pipeline["stages"]:
            kept = []
            for exe in stage["executions"]:
                uuids = exe["properties"]["Execution_uuid"].split(",")
                for _ in uuids:
                    if not any(u in exists for u in uuids):
                        kept.append(exe)
            stage["executions"] = kept
        pipeline["stages"] = [s for s in pipeline["stages"] if s["executions"] != []]
        if len(pipeline["stages"]) == 0:
            return "exists"
        # Step 5: the merge runs on a serialised copy; whatever happens inside it the answer is
        # "success" (§2.4 step 5, §8 item 31, §9).
        self.merge(json.dumps(pipeline), exec_uuid)
        return "success"

    def merge(self, pipeline_json, exec_uuid):
        """cmf_merger.parse_json_to_mlmd for "push".  Never raises: every failure is logged."""
        errors = self.merge_errors
        try:
            data = json.loads(pipeline_json)
            pipeline_name = data["name"]
            # create_original_time_since_epoch (§2.4): a string copy of create_time_since_epoch on
            # every stage, execution and artifact.  Quirk (§9): a node without
            # create_time_since_epoch (or without custom_properties) aborts the whole merge before
            # anything is written -- the push is still answered "success".
            data["original_create_time_since_epoch"] = data["create_time_since_epoch"]
            for stage in data["stages"]:
                stage["custom_properties"]["original_create_time_since_epoch"] = str(
                    stage["create_time_since_epoch"])
                for exe in stage["executions"]:
                    exe["custom_properties"]["original_create_time_since_epoch"] = str(
                        exe["create_time_since_epoch"])
                    for event in exe["events"]:
                        art = event["artifact"]
                        art["custom_properties"]["original_create_time_since_epoch"] = str(
                            art["create_time_since_epoch"])
            session = MergeSession(self.store, pipeline_name, errors)
        except Exception as exc:
            msg = "[parse_json_to_mlmd] %s: %s" % (type(exc).__name__, exc)
            LOG.error(msg)
            errors.append(msg)
            return
        for stage in data["stages"]:
            try:
                self.merge_stage(session, stage, exec_uuid)
            except Exception as exc:
                session.log("process_stage", exc)

    def merge_stage(self, session, stage, exec_uuid):
        if exec_uuid is None:
            executions = stage["executions"]
        else:
            executions = [e for e in stage["executions"]
                          if exec_uuid in e["properties"].get("Execution_uuid", "").split(",")]
        for exe in executions:
            try:
                # Quirk (§2.4): a failing stage or execution merge is only logged; the following
                # steps use the previously current stage/execution of this request, if any.
                try:
                    session.merge_stage_context(stage)
                except Exception as exc:
                    session.log("handle_context", exc)
                try:
                    session.merge_execution(exe)
                except Exception as exc:
                    session.log("handle_execution", exc)
                for event in exe["events"]:
                    try:
                        session.merge_event(event)
                    except Exception as exc:
                        session.log("process_execution event", exc)
            except Exception as exc:
                session.log("process_stage execution", exc)

    def mlmd_pull(self, req):
        pipeline_name, exec_uuid, last_sync = validate_pull_request(req)
        with self.store.reading():
            if pipeline_name:
                if pipeline_name not in self.store.pipeline_names():
                    raise HTTPError(404, "Pipeline %s not found." % pipeline_name)
                if exec_uuid is not None:
                    found = any(exec_uuid in as_string(e.props.get("Execution_uuid", (None, None)))
                                .split(",")
                                for e in self.store.executions_of_pipeline(pipeline_name))
                    if not found:
                        # Quirk (§2.5, §8 item 29): 200 with the bare body no_exec_uuid.
                        return text_response(200, "no_exec_uuid", "text/html; charset=utf-8")
                # last_sync_time is ignored when a pipeline name is given (get_data.py).
                body = self.document(pipeline_name, exec_uuid, None)
            elif last_sync is None:
                body = self.document(None, None, None)
            elif last_sync:
                body = self.document(None, None, last_sync)
            else:
                # Quirk (§2.5 "406 if the payload is None", get_data.py): no pipeline name and
                # last_sync_time == 0 -> no payload -> 406 with the absent name formatted in.
                raise HTTPError(406, "Pipeline %s not found." % pipeline_name)
        # Served as text/html like upstream (response_class=HTMLResponse, spec §2.5, §8 item 29).
        return text_response(200, body, "text/html; charset=utf-8")

    # -- the §2.1 document --------------------------------------------------------------------------

    @staticmethod
    def _export_map(values, rename_type):
        out = {}
        for k, v in values.items():
            if rename_type and k == "type":
                k = "user_type"     # custom property "type" is exported as "user_type" (§8 item 7)
            out[k] = exported(v)
        return out

    def _attrs(self, node, into):
        """_get_node_attributes: CONTEXT_LIST order; "" names/uris are left out."""
        into["create_time_since_epoch"] = node.create
        into["custom_properties"] = self._export_map(node.custom, True)
        into["id"] = node.id
        into["last_update_time_since_epoch"] = node.last
        if node.name:
            into["name"] = node.name
        into["properties"] = self._export_map(node.props, False)
        into["type"] = node.type_name
        into["type_id"] = node.type_id
        if node.uri:
            into["uri"] = node.uri
        return into

    def _events(self, exe):
        out = []
        for ev in self.store.events_of_execution(exe.id):
            art = self.store.load("artifact", ev["artifact_id"])
            out.append({"type": ev["type"], "artifact": self._attrs(art, {"type": art.type_name})})
        return out

    def _executions(self, stage, exec_uuid, last_sync):
        out = []
        for exe in self.store.executions_of_context(stage.id):
            if exec_uuid is not None:
                uuids = as_string(exe.props.get("Execution_uuid", (None, None))).split(",")
                if exec_uuid not in uuids:
                    continue
            attrs = self._attrs(exe, {"type": exe.type_name, "name": exe.name or "",
                                      "events": self._events(exe)})
            if last_sync and not attrs["last_update_time_since_epoch"] > last_sync:
                continue
            out.append(attrs)
        return out

    def document(self, pipeline_name, exec_uuid, last_sync):
        """CmfQuery.dumptojson / extract_to_json (spec §2.1, §2.6)."""
        result = []
        for p in self.store.contexts_of_type(PIPELINE_TYPE):
            if pipeline_name is not None and p.name != pipeline_name:
                continue
            stages = []
            for s in self.store.children_of(p.id):
                attrs = self._attrs(s, {"executions": self._executions(s, exec_uuid, last_sync)})
                if last_sync and not attrs["executions"] and not (
                        attrs["last_update_time_since_epoch"] > last_sync):
                    continue
                stages.append(attrs)
            attrs = self._attrs(p, {"stages": stages})
            if last_sync and not stages and not attrs["last_update_time_since_epoch"] > last_sync:
                continue
            result.append(attrs)
        return json.dumps({"Pipeline": result})

    # -- file routes --------------------------------------------------------------------------------

    def upload_python_env(self, req):
        part, err = form_file(req)
        if err:
            raise validation_error([err])
        try:
            path = os.path.join(self.env_dir, os.path.basename(part.filename))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(part.data)
            return json_response(200, {"message": "File '%s' uploaded successfully" % part.filename})
        except Exception as exc:
            # Quirk (§8 item 28): failures are reported with HTTP 200.
            return json_response(200, {"error": "Failed to up load file: %s" % exc})

    def get_python_env(self, req):
        (file_name,), errors = required_query(req, ["file_name"])
        if errors:
            raise validation_error(errors)
        if not (file_name.endswith(".txt") or file_name.endswith(".yaml")):
            raise HTTPError(400, "Unsupported file extension. Use .txt or .yaml")
        return self._read_text(os.path.join(self.env_dir, os.path.basename(file_name)))

    def _read_text(self, path):
        if not os.path.exists(path):
            raise HTTPError(404, "File not found")
        try:
            with open(path, "r", encoding="utf-8") as f:
                return text_response(200, f.read())
        except Exception as exc:
            raise HTTPError(500, "Error reading file: %s" % exc)

    def upload_label(self, req):
        part, err = form_file(req)
        if err:
            raise validation_error([err])
        shown_dir = self.UPSTREAM_LABELS_DIR
        try:
            if not part.filename:
                # Quirk (§8 item 28): upstream raises HTTPException(400) inside its try block, so
                # it is caught and reported as HTTP 200 {"error": "Failed to up load file: 400: No file provided."}.
                return json_response(200, {"error": "Failed to up load file: 400: No file provided."})
            path = os.path.join(self.labels_dir, os.path.basename(part.filename))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if os.path.exists(path):
                return json_response(200, {"message": "File '%s' already exists at %s. Skipping "
                                                      "upload." % (part.filename, shown_dir)})
            with open(path, "wb") as f:
                f.write(part.data)
            return json_response(200, {"message": "File '%s' uploaded successfully to %s."
                                                  % (part.filename, shown_dir)})
        except Exception as exc:     # Quirk (§8 item 28): errors reported with HTTP 200
            return json_response(200, {"error": "Failed to up load file: %s" % exc})

    def get_label_data(self, req):
        (file_name,), errors = required_query(req, ["file_name"])
        if errors:
            raise validation_error(errors)
        return self._read_text(os.path.join(self.labels_dir, os.path.basename(file_name)))

    @staticmethod
    def _unsafe_relative(name):
        return (name.startswith("/") or os.path.isabs(name)
                or any(c == ".." for c in name.replace("\\", "/").split("/")))

    def upload_tensorboard(self, req):
        (pipeline_name,), errors = required_query(req, ["pipeline_name"])
        part, err = form_file(req)
        if err:
            errors.append(err)
        if errors:
            raise validation_error(errors)
        # Better than upstream (§8 item 28): no absolute paths and no ".." components, neither in
        # the file name nor in the pipeline name, and the target must stay inside the directory.
        if self._unsafe_relative(part.filename):
            raise HTTPError(400, "Invalid file name: %s" % part.filename)
        if self._unsafe_relative(pipeline_name):
            raise HTTPError(400, "Invalid pipeline name: %s" % pipeline_name)
        try:
            path = os.path.join(self.tb_dir, pipeline_name, part.filename)
            base = os.path.realpath(self.tb_dir)
            if not os.path.realpath(path).startswith(base + os.sep):
                raise HTTPError(400, "Invalid file name: %s" % part.filename)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(part.data)
            return json_response(200, {"message": "File '%s' uploaded successfully" % part.filename})
        except HTTPError:
            raise
        except Exception as exc:     # Quirk (§8 item 28): errors reported with HTTP 200
            return json_response(200, {"error": "Failed to up load file: %s" % exc})

    # -- test-only dump -----------------------------------------------------------------------------

    def debug_dump(self, req):
        """NOT an upstream route: the whole stored state, for assertions in tests."""
        def plain(values):
            return {k: (v[1] if v[0] else None) for k, v in values.items()}

        def node(n):
            d = {"id": n.id, "type": n.type_name, "type_id": n.type_id, "name": n.name,
                 "create_time_since_epoch": n.create, "last_update_time_since_epoch": n.last,
                 "properties": plain(n.props), "custom_properties": plain(n.custom)}
            if n.kind == "artifact":
                d["uri"] = n.uri
            return d

        s = self.store
        with s.reading():
            out = {"types": [], "contexts": [], "executions": [], "artifacts": [], "events": []}
            for r in s.q("SELECT id, name, type_kind FROM type ORDER BY id"):
                out["types"].append({"id": r["id"], "name": r["name"], "kind": r["type_kind"],
                                     "properties": s.type_info(r["id"])[2]})
            for r in s.q("SELECT id FROM context ORDER BY id"):
                d = node(s.load("context", r["id"]))
                d["parent_ids"] = [x["parent_context_id"] for x in s.q(
                    "SELECT parent_context_id FROM parent_context WHERE context_id=? ORDER BY 1",
                    (r["id"],))]
                out["contexts"].append(d)
            for r in s.q("SELECT id FROM execution ORDER BY id"):
                d = node(s.load("execution", r["id"]))
                d["context_ids"] = [x["context_id"] for x in s.q(
                    "SELECT context_id FROM association WHERE execution_id=? ORDER BY 1",
                    (r["id"],))]
                out["executions"].append(d)
            for r in s.q("SELECT id FROM artifact ORDER BY id"):
                d = node(s.load("artifact", r["id"]))
                d["context_ids"] = [x["context_id"] for x in s.q(
                    "SELECT context_id FROM attribution WHERE artifact_id=? ORDER BY 1",
                    (r["id"],))]
                out["artifacts"].append(d)
            for r in s.q("SELECT * FROM event ORDER BY id"):
                path = [x["step_key"] for x in s.q(
                    "SELECT step_key FROM event_path WHERE event_id=? ORDER BY step_index",
                    (r["id"],))]
                out["events"].append({"id": r["id"], "artifact_id": r["artifact_id"],
                                      "execution_id": r["execution_id"], "type": r["type"],
                                      "milliseconds_since_epoch": r["milliseconds_since_epoch"],
                                      "path": path})
            out["merge_errors"] = list(self.merge_errors)
        text = json.dumps(out, ensure_ascii=False)    # NaN allowed here, unlike JSONResponse
        return Response(200, text.encode("utf-8"), "application/json")


# --------------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------------

class BodyTooLarge(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "refserver"
    sys_version = ""
    timeout = 120

    def log_message(self, fmt, *args):
        LOG.info("%s - %s", self.address_string(), fmt % args)

    def handle_expect_100(self):
        length = self.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.server.max_body:
            self._send(json_response(413, {"detail": "Request body too large"}), close=True)
            return False
        return super().handle_expect_100()

    def _read_body(self):
        limit = self.server.max_body
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > limit:
                    raise BodyTooLarge()
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n > limit:
            raise BodyTooLarge()
        data = self.rfile.read(n)
        if len(data) != n:
            raise ConnectionError("short body")
        return data

    def _send(self, resp, close=False, head_only=False):
        self.send_response(resp.status)
        if resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head_only:
            self.wfile.write(resp.body)

    def _handle(self):
        try:
            body = self._read_body()
        except BodyTooLarge:
            self._send(json_response(413, {"detail": "Request body too large"}), close=True)
            return
        except (ValueError, ConnectionError):
            self._send(json_response(400, {"detail": "There was an error parsing the body"}),
                       close=True)
            return
        parts = urlsplit(self.path)
        req = Request(self.command, parts.path or "/", parts.query, self.headers, body)
        resp = self.server.app.dispatch(req)
        self._send(resp)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    ap = argparse.ArgumentParser(description="Reference cmf-server (tests only)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY)
    ap.add_argument("--log-level", default="WARNING")
    args = ap.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.WARNING),
                        format="%(asctime)s refserver %(levelname)s %(message)s", stream=sys.stderr)

    app = App(args.data_dir)
    httpd = Server((args.host, args.port), Handler)
    httpd.app = app
    httpd.max_body = args.max_body_bytes
    host, port = httpd.server_address[:2]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("listening on %s:%d" % (host, port), flush=True)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    worker.start()
    while not stop.wait(0.5):
        pass
    httpd.shutdown()
    httpd.server_close()
    with app.store.lock:
        app.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
