# SPDX-License-Identifier: MIT
"""P/openlineage.jsonl and `cmffs export --format openlineage`: a
pipeline's runs as OpenLineage 2-0-2 RunEvents, one JSON object a line,
checked against the spec's required fields and formats (and, where Debian's
python3-jsonschema is installed, against a schema written from the spec)."""
import datetime
import hashlib
import json
import os
import urllib.parse
import uuid

import pytest

from conftest import cmffs, mkexec

SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
EVENT_TYPES = {"START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"}

# RunEvent of spec 2-0-2 (BaseEvent + RunEvent, Run, Job, datasets and the
# facets used here), written from the spec's text.
_FACET = {"type": "object", "required": ["_producer", "_schemaURL"],
          "properties": {"_producer": {"type": "string", "format": "uri"},
                         "_schemaURL": {"type": "string", "format": "uri"}}}
_JOB = {"type": "object", "required": ["namespace", "name"],
        "properties": {"namespace": {"type": "string"},
                       "name": {"type": "string"},
                       "facets": {"type": "object", "additionalProperties": _FACET}}}
_DATASET = {"type": "object", "required": ["namespace", "name"],
            "properties": {
                "namespace": {"type": "string"}, "name": {"type": "string"},
                "facets": {"type": "object", "additionalProperties": _FACET,
                           "properties": {"version": {"allOf": [_FACET, {
                               "required": ["datasetVersion"],
                               "properties": {"datasetVersion": {"type": "string"}}}]}}}}}
RUN_EVENT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["eventTime", "producer", "schemaURL", "run", "job"],
    "properties": {
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": {"type": "string", "format": "uri"},
        "schemaURL": {"type": "string", "format": "uri"},
        "eventType": {"type": "string", "enum": sorted(EVENT_TYPES)},
        "run": {"type": "object", "required": ["runId"], "properties": {
            "runId": {"type": "string", "format": "uuid"},
            "facets": {"type": "object", "additionalProperties": _FACET,
                       "properties": {"parent": {"allOf": [_FACET, {
                           "required": ["run", "job"],
                           "properties": {
                               "run": {"type": "object", "required": ["runId"],
                                       "properties": {"runId": {"type": "string",
                                                                "format": "uuid"}}},
                               "job": _JOB}}]}}}}},
        "job": _JOB,
        "inputs": {"type": "array", "items": _DATASET},
        "outputs": {"type": "array", "items": _DATASET},
    },
}


def md5(data):
    return hashlib.md5(data).hexdigest()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def is_uri(text):
    u = urllib.parse.urlparse(text)
    return bool(u.scheme) and bool(u.netloc or u.path) and " " not in text


def check_event(e):
    """The spec's required fields and their formats."""
    for key in ("eventTime", "producer", "schemaURL", "run", "job", "eventType"):
        assert key in e, key
    t = datetime.datetime.fromisoformat(e["eventTime"].replace("Z", "+00:00"))
    assert t.tzinfo is not None and t.utcoffset() is not None
    assert is_uri(e["producer"])
    assert e["schemaURL"] == SCHEMA_URL
    assert e["eventType"] in EVENT_TYPES
    assert str(uuid.UUID(e["run"]["runId"])) == e["run"]["runId"]
    assert isinstance(e["job"]["namespace"], str) and e["job"]["namespace"]
    assert isinstance(e["job"]["name"], str) and e["job"]["name"]
    facets = list(e["run"].get("facets", {}).values())
    for d in e["inputs"] + e["outputs"]:
        assert d["namespace"] and d["name"]
        facets += d.get("facets", {}).values()
    for f in facets:
        assert is_uri(f["_producer"]) and is_uri(f["_schemaURL"])
        assert f["_schemaURL"].startswith("https://openlineage.io/spec/")


def read_events(text):
    assert text.endswith("\n")
    events = []
    for line in text.splitlines():
        assert line == line.strip() and line.startswith("{")
        events.append(json.loads(line))
    return events


def build_pipeline(m):
    p = m.path("pipelines", "lin")
    prep, train = os.path.join(p, "prep", "p1"), os.path.join(p, "train")
    files = {"raw": b"a,b\n1,2\n", "clean": b"a,b\n1,2\n3,4\n", "model": b"weights"}
    mkexec(prep)
    write(os.path.join(prep, "inputs", "data", "raw.csv"), files["raw"])
    write(os.path.join(prep, "outputs", "data", "clean.csv"), files["clean"])
    write(os.path.join(prep, "state"), b"complete\n")
    for name in ("t1", "t2", "t3"):
        mkexec(os.path.join(train, name))
        os.makedirs(os.path.join(train, name, "inputs", "data"))
        os.link(os.path.join(prep, "outputs", "data", "clean.csv"),
                os.path.join(train, name, "inputs", "data", "clean.csv"))
    write(os.path.join(train, "t1", "outputs", "models", "model.pt"), files["model"])
    write(os.path.join(train, "t1", "state"), b"complete\n")
    write(os.path.join(train, "t2", "state"), b"failed\n")
    # t3 stays RUNNING
    return p, files


def uuids(m):
    return dict(m.sql(
        "SELECT e.name, p.string_value FROM Execution e JOIN ExecutionProperty p"
        " ON p.execution_id = e.id AND p.name = 'Execution_uuid'"))


def test_events_follow_the_spec(mounted):
    p, files = build_pipeline(mounted)
    with open(os.path.join(p, "openlineage.jsonl")) as f:
        text = f.read()
    events = read_events(text)
    for e in events:
        check_event(e)

    runs = {}
    for e in events:
        runs.setdefault(e["run"]["runId"], []).append(e)
    ids = uuids(mounted)
    by_exec = {name: runs[u] for name, u in ids.items()}
    # one START, then COMPLETE or FAIL as the state says; RUNNING: START only
    assert [e["eventType"] for e in by_exec["p1"]] == ["START", "COMPLETE"]
    assert [e["eventType"] for e in by_exec["t1"]] == ["START", "COMPLETE"]
    assert [e["eventType"] for e in by_exec["t2"]] == ["START", "FAIL"]
    assert [e["eventType"] for e in by_exec["t3"]] == ["START"]
    for evs in runs.values():
        times = [datetime.datetime.fromisoformat(e["eventTime"].replace("Z", "+00:00"))
                 for e in evs]
        assert times == sorted(times)
    assert {e["job"]["name"] for e in by_exec["p1"]} == {"lin/prep"}
    assert {e["job"]["name"] for e in by_exec["t2"]} == {"lin/train"}
    assert {e["job"]["namespace"] for e in events} == {"lin"}

    # the pipeline's run: the parent of every execution's, still running
    (parent_id,) = set(runs) - set(ids.values())
    parent_events = runs[parent_id]
    assert [e["eventType"] for e in parent_events] == ["START"]
    assert parent_events[0]["job"] == {"namespace": "lin", "name": "lin"}
    assert events[0] is parent_events[0]
    for name in ids:
        for e in by_exec[name]:
            parent = e["run"]["facets"]["parent"]
            assert parent["run"]["runId"] == parent_id
            assert parent["job"] == parent_events[0]["job"]
            assert "ParentRunFacet" in parent["_schemaURL"]

    # datasets: storage URL, artifact path, MD5 as the version
    ns = "file://" + mounted.remote

    def datasets(e, side):
        for d in e[side]:
            assert d["namespace"] == ns
            assert "DatasetVersionDatasetFacet" in d["facets"]["version"]["_schemaURL"]
        return sorted((d["name"], d["facets"]["version"]["datasetVersion"])
                      for d in e[side])

    for e in by_exec["p1"]:
        assert datasets(e, "inputs") == [("data/raw.csv", md5(files["raw"]))]
        assert datasets(e, "outputs") == [("data/clean.csv", md5(files["clean"]))]
    for e in by_exec["t1"]:
        assert datasets(e, "inputs") == [("data/clean.csv", md5(files["clean"]))]
        assert datasets(e, "outputs") == [("models/model.pt", md5(files["model"]))]
    assert datasets(by_exec["t3"][0], "outputs") == []

    # the last execution ends: so does the pipeline's run, failed (t2)
    with open(os.path.join(p, "train", "t3", "state"), "w") as f:
        f.write("complete\n")
    with open(os.path.join(p, "openlineage.jsonl")) as f:
        events = read_events(f.read())
    assert events[-1]["run"]["runId"] == parent_id
    assert events[-1]["eventType"] == "FAIL"
    assert sum(e["run"]["runId"] == parent_id for e in events) == 2


def test_events_validate_against_the_schema(mounted):
    jsonschema = pytest.importorskip("jsonschema")   # python3-jsonschema
    p, _ = build_pipeline(mounted)
    with open(os.path.join(p, "openlineage.jsonl")) as f:
        events = read_events(f.read())
    v = jsonschema.Draft202012Validator(
        RUN_EVENT, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    for e in events:
        v.validate(e)
    # the schema is not vacuous
    bad = json.loads(json.dumps(events[1]))
    del bad["run"]["facets"]["parent"]["_schemaURL"]
    assert not v.is_valid(bad)
    bad = json.loads(json.dumps(events[1]))
    bad["run"]["runId"] = "not-a-uuid"
    assert not v.is_valid(bad)


def test_export_gives_the_same_events(mounted):
    p, _ = build_pipeline(mounted)
    mkexec(mounted.path("pipelines", "another", "s", "e"))
    write(mounted.path("pipelines", "another", "s", "e", "outputs", "x.bin"), b"x")
    mounted.flush()
    with open(os.path.join(p, "openlineage.jsonl")) as f:
        lin = f.read()
    with open(mounted.path("pipelines", "another", "openlineage.jsonl")) as f:
        another = f.read()
    assert cmffs("export", mounted.ws, "--format", "openlineage", "lin").stdout == lin
    # without a pipeline: every pipeline's, in name order
    assert cmffs("export", mounted.ws, "--format", "openlineage").stdout == another + lin
    out = os.path.join(str(mounted.tmp), "ol.jsonl")
    cmffs("export", mounted.ws, "lin", "--format", "openlineage", "-o", out)
    with open(out) as f:
        assert f.read() == lin
    r = cmffs("export", mounted.ws, "--format", "openlineage", "nope", check=False)
    assert r.returncode != 0
    assert r.stderr.startswith("cmffs: ") and r.stderr.count("\n") == 1
    r = cmffs("export", mounted.ws, "--format", "yaml", "lin", check=False)
    assert r.returncode != 0 and "unknown format" in r.stderr
    # the CMF document is still the default
    doc = json.loads(cmffs("export", mounted.ws, "lin").stdout)
    assert "Pipeline" in doc


def test_empty_pipeline_has_no_events(mounted):
    os.makedirs(mounted.path("pipelines", "empty", "stage"))
    with open(mounted.path("pipelines", "empty", "openlineage.jsonl")) as f:
        assert f.read() == ""
    assert "openlineage.jsonl" in os.listdir(mounted.path("pipelines", "empty"))


def test_uuid_lists_odd_uuids_and_canceled(mounted):
    """A reused execution's Execution_uuid is a list (upstream appends):
    its first is the runId; one that is no UUID (an old or foreign
    document) gets a stable name-based one; CANCELED ends in ABORT."""
    p = mounted.path("pipelines", "odd")
    for name in ("a", "b", "c"):
        mkexec(os.path.join(p, "s", name))
        write(os.path.join(p, "s", name, "state"), b"complete\n")
    u1, u2 = str(uuid.uuid1()), str(uuid.uuid1())
    mounted.sql_exec("UPDATE ExecutionProperty SET string_value = ? WHERE"
                     " name = 'Execution_uuid' AND execution_id ="
                     " (SELECT id FROM Execution WHERE name = 'a')", (f"{u1},{u2}",))
    mounted.sql_exec("UPDATE ExecutionProperty SET string_value = 'not-a-uuid'"
                     " WHERE name = 'Execution_uuid' AND execution_id ="
                     " (SELECT id FROM Execution WHERE name = 'b')")
    mounted.sql_exec("UPDATE Execution SET last_known_state = 6 WHERE name = 'c'")

    def events():
        with open(os.path.join(p, "openlineage.jsonl")) as f:
            return read_events(f.read())

    first = events()
    for e in first:
        check_event(e)
    runs = {}
    for e in first:
        runs.setdefault(e["run"]["runId"], []).append(e["eventType"])
    assert runs[u1] == ["START", "COMPLETE"]
    assert "not-a-uuid" not in runs
    assert sorted(map(tuple, runs.values())) == sorted(
        [("START", "COMPLETE"), ("START", "COMPLETE"), ("START", "ABORT"),
         ("START", "ABORT")])           # a, b, c and the pipeline's run
    assert events() == first            # the derived ids are stable
