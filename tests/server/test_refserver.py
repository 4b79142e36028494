"""Tests for tests/server/refserver.py, the reference cmf-server.

Run with:  /usr/bin/python3 -m pytest tests/server -q

Every test starts its own server process on a free port with a fresh data directory and talks to it
over HTTP with urllib, the way a client would.  Section numbers refer to
doc/cmf-upstream.md.
"""

import copy
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "refserver.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

UUID1 = "1afa7676-76f6-11ee-9600-5b8c6d427e3f"
ENV_URI = "7b8b965ad4bca0e41ab51de7b31363a1"
DATA_URI = "236d9502e0283d91f689d7038b8508a2"
LABEL_URI = "1f3870be274f6c49b3e31a0c6728957f"
TRAIN_URI = "32b715ef0d71ff4c9e61f55b09c15e75"
REPO = "https://github.com/user/experiment-repo.git"


# --------------------------------------------------------------------------------------------------
# the §2.2 example document
# --------------------------------------------------------------------------------------------------

def artifact(a_type, name, uri, created, props, custom=None, aid=1, type_id=14):
    return {"type": a_type, "create_time_since_epoch": created, "custom_properties": custom or {},
            "id": aid, "last_update_time_since_epoch": created, "name": name,
            "properties": props, "type_id": type_id, "uri": uri}


def storage_url(pipeline, h):
    return "%s:/home/user/local-storage/files/md5/%s/%s" % (pipeline, h[:2], h[2:])


def example_document():
    """The example of spec §2.2 (pipeline Test-env, stage Prepare, one unnamed execution)."""
    events = [
        {"type": 3, "artifact": artifact(
            "Environment",
            "cmf_artifacts/python_env_5d41402abc4b2a76b9719d911017c592.txt:" + ENV_URI, ENV_URI,
            1753100000101,
            {"Commit": ENV_URI, "git_repo": REPO, "url": storage_url("Test-env", ENV_URI)},
            aid=1, type_id=13)},
        {"type": 3, "artifact": artifact(
            "Dataset", "artifacts/data.xml.gz:" + DATA_URI, DATA_URI, 1753100000220,
            {"Commit": DATA_URI, "git_repo": REPO, "url": storage_url("Test-env", DATA_URI)},
            {"user-metadata1": "metadata_value", "labels": "artifacts/labels.csv",
             "labels_uri": "artifacts/labels.csv:" + LABEL_URI}, aid=2)},
        {"type": 3, "artifact": artifact(
            "Label", "artifacts/labels.csv:" + LABEL_URI, LABEL_URI, 1753100000290,
            {"Commit": LABEL_URI, "git_repo": REPO, "url": "artifacts/labels.csv:" + LABEL_URI},
            {"user1": "xyz", "dataset_uri": DATA_URI}, aid=3, type_id=15)},
        {"type": 4, "artifact": artifact(
            "Dataset", "artifacts/parsed/train.tsv:" + TRAIN_URI, TRAIN_URI, 1753100000410,
            {"Commit": TRAIN_URI, "git_repo": REPO, "url": storage_url("Test-env", TRAIN_URI)},
            aid=4)},
    ]
    execution = {
        "type": "Prepare", "name": "", "events": events,
        "create_time_since_epoch": 1753100000050,
        "custom_properties": {"split": "0.2", "seed": 20170428,
                              "Python_Env": "cmf_artifacts/python_env_5d41402abc4b2a76b9719d911017c592.txt"},
        "id": 1, "last_update_time_since_epoch": 1753100000500,
        "properties": {
            "Context_ID": 2, "Context_Type": "Test-env/Prepare",
            "Execution": "['src/parse.py', 'artifacts/data.xml.gz', 'artifacts/parsed']",
            "Execution_type_name": "Test-env/Prepare", "Execution_uuid": UUID1,
            "Git_End_Commit": "9f2c6d0e41b4d1c6b1e2f3a4b5c6d7e8f9a0b1c2", "Git_Repo": REPO,
            "Git_Start_Commit": "44bf2ad09d89e24693c8e98b8da8fcecb248fb77",
            "Pipeline_Type": "Test-env", "Pipeline_id": 1},
        "type_id": 12,
    }
    stage = {"executions": [execution], "create_time_since_epoch": 1753100000010,
             "custom_properties": {"user-metadata1": "metadata_value"}, "id": 2,
             "last_update_time_since_epoch": 1753100000010, "name": "Test-env/Prepare",
             "properties": {"Pipeline_Stage": "Test-env/Prepare"}, "type": "Pipeline_Stage",
             "type_id": 11}
    pipeline = {"stages": [stage], "create_time_since_epoch": 1753100000000, "custom_properties": {},
                "id": 1, "last_update_time_since_epoch": 1753100000000, "name": "Test-env",
                "properties": {"Pipeline": "Test-env"}, "type": "Parent_Context", "type_id": 10}
    return {"Pipeline": [pipeline]}


def the_execution(doc, stage=0, index=0):
    return doc["Pipeline"][0]["stages"][stage]["executions"][index]


def retarget(doc, pipeline, stage_name="Prepare", exec_uuid=None):
    """The same content logged by another pipeline (new stage and execution, same artifacts)."""
    doc = copy.deepcopy(doc)
    p = doc["Pipeline"][0]
    p["name"] = pipeline
    p["properties"] = {"Pipeline": pipeline}
    for s in p["stages"]:
        s["name"] = s["properties"]["Pipeline_Stage"] = "%s/%s" % (pipeline, stage_name)
        for e in s["executions"]:
            e["properties"]["Context_Type"] = e["properties"]["Execution_type_name"] = s["name"]
            e["properties"]["Pipeline_Type"] = pipeline
            e["properties"]["Execution_uuid"] = exec_uuid or str(uuid.uuid1())
            for ev in e["events"]:
                a = ev["artifact"]
                if a["type"] in ("Dataset", "Environment", "Model"):
                    a["properties"]["url"] = storage_url(pipeline, a["uri"])
    return doc


# --------------------------------------------------------------------------------------------------
# server process and HTTP helpers
# --------------------------------------------------------------------------------------------------

class Server:
    def __init__(self, data_dir, extra=()):
        self.data_dir = str(data_dir)
        self.extra = list(extra)
        self.proc = None
        self.port = None

    def start(self):
        port_file = os.path.join(os.path.dirname(self.data_dir), "port-%s" % uuid.uuid4().hex)
        self.stderr = open(self.data_dir + ".stderr.log", "ab")
        self.proc = subprocess.Popen(
            [PYTHON, SERVER, "--host", "127.0.0.1", "--port", "0", "--data-dir", self.data_dir,
             "--port-file", port_file] + self.extra,
            stdout=subprocess.PIPE, stderr=self.stderr)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        assert ready, "server did not start"
        line = self.proc.stdout.readline().decode()
        assert line.startswith("listening on 127.0.0.1:"), line
        self.port = int(line.rsplit(":", 1)[1])
        with open(port_file) as f:
            assert int(f.read()) == self.port
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(timeout=15)
            assert rc == 0, "server exited with %r after SIGTERM" % rc
        if self.proc:
            self.proc.stdout.close()
            self.stderr.close()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.url(path), data=body, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def post_json(self, path, obj):
        return self.request("POST", path, json.dumps(obj).encode(),
                            {"Content-Type": "application/json"})

    def push(self, doc, pipeline="Test-env", exec_uuid=None):
        payload = doc if isinstance(doc, str) else json.dumps(doc)
        return self.post_json("/api/mlmd_push", {"exec_uuid": exec_uuid, "json_payload": payload,
                                                 "pipeline_name": pipeline})

    def push_ok(self, doc, pipeline="Test-env", expect="success", exec_uuid=None):
        status, _, body = self.push(doc, pipeline, exec_uuid)
        assert (status, json.loads(body)) == (200, {"status": expect})
        return body

    def pull(self, pipeline="Test-env", exec_uuid=None, **extra):
        return self.post_json("/api/mlmd_pull", dict({"pipeline_name": pipeline,
                                                       "exec_uuid": exec_uuid}, **extra))

    def dump(self):
        status, _, body = self.request("GET", "/_debug/dump")
        assert status == 200
        return json.loads(body)

    def upload(self, path, filename, content, field="file"):
        boundary = "----refserver" + uuid.uuid4().hex
        body = (("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n" % (boundary, field, filename))
                .encode() + content + ("\r\n--%s--\r\n" % boundary).encode())
        return self.request("POST", path, body,
                            {"Content-Type": "multipart/form-data; boundary=" + boundary})


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def srv(data_dir):
    server = Server(data_dir).start()
    yield server
    server.stop()


def by_name(items, name):
    found = [i for i in items if i["name"] == name]
    assert len(found) == 1, (name, [i["name"] for i in items])
    return found[0]


def without_log(dump):
    return {k: v for k, v in dump.items() if k != "merge_errors"}


# --------------------------------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------------------------------

def test_root_prefixes_and_unknown_routes(srv):
    for path in ("/", "/api/", "/api"):
        status, headers, body = srv.request("GET", path)
        assert (status, body) == (200, b'["cmf-server"]')
        assert headers["Content-Type"] == "application/json"
    status, _, body = srv.request("GET", "/api/no-such-route")
    assert (status, json.loads(body)) == (404, {"detail": "Not Found"})
    status, _, body = srv.request("GET", "/api/mlmd_push")
    assert (status, json.loads(body)) == (405, {"detail": "Method Not Allowed"})
    status, _, body = srv.request("GET", "/pipelines")
    assert (status, json.loads(body)) == (200, [])


# --------------------------------------------------------------------------------------------------
# push and merge (§2.4)
# --------------------------------------------------------------------------------------------------

def test_push_example_document_is_merged(srv):
    body = srv.push_ok(example_document())
    assert body == b'{"status":"success"}'       # Starlette's compact JSON
    d = srv.dump()
    assert d["merge_errors"] == []

    pipeline = by_name(d["contexts"], "Test-env")
    stage = by_name(d["contexts"], "Test-env/Prepare")
    assert (pipeline["type"], pipeline["properties"], pipeline["custom_properties"]) == (
        "Parent_Context", {"Pipeline": "Test-env"}, {})
    assert pipeline["type_id"] == 10            # the nine MLMD simple types come first
    assert stage["type"] == "Pipeline_Stage"
    assert stage["parent_ids"] == [pipeline["id"]]
    assert stage["custom_properties"] == {"user-metadata1": "metadata_value",
                                          "original_create_time_since_epoch": "1753100000010"}

    [exe] = d["executions"]
    assert exe["type"] == "Test-env/Prepare"      # server execution type = stage name
    assert exe["name"] is None                    # one-shot execution stays unnamed
    assert exe["context_ids"] == [stage["id"]]
    props = exe["properties"]
    assert props["Execution_uuid"] == UUID1
    assert props["Context_ID"] == stage["id"] and props["Pipeline_id"] == pipeline["id"]
    assert props["Pipeline_Type"] == "Test-env"
    assert props["Execution"] == "['src/parse.py', 'artifacts/data.xml.gz', 'artifacts/parsed']"
    assert props["Git_End_Commit"] == "9f2c6d0e41b4d1c6b1e2f3a4b5c6d7e8f9a0b1c2"
    assert exe["custom_properties"] == {
        "split": "0.2", "seed": 20170428,
        "Python_Env": "cmf_artifacts/python_env_5d41402abc4b2a76b9719d911017c592.txt",
        "original_create_time_since_epoch": "1753100000050"}

    arts = {a["uri"]: a for a in d["artifacts"]}
    assert set(arts) == {ENV_URI, DATA_URI, LABEL_URI, TRAIN_URI}
    env, data, label, train = arts[ENV_URI], arts[DATA_URI], arts[LABEL_URI], arts[TRAIN_URI]
    assert env["name"] == "cmf_artifacts/python_env_5d41402abc4b2a76b9719d911017c592.txt:" + ENV_URI
    assert env["custom_properties"] == {}          # log_python_env_from_client drops them
    assert data["name"] == "artifacts/data.xml.gz:" + DATA_URI
    assert data["properties"] == {"git_repo": REPO, "Commit": DATA_URI,
                                  "url": storage_url("Test-env", DATA_URI)}
    assert data["custom_properties"]["original_create_time_since_epoch"] == "1753100000220"
    assert data["custom_properties"]["labels_uri"] == "artifacts/labels.csv:" + LABEL_URI
    assert label["type"] == "Label" and label["name"] == "artifacts/labels.csv:" + LABEL_URI
    assert label["custom_properties"] == {"user1": "xyz", "dataset_uri": DATA_URI,
                                          "original_create_time_since_epoch": "1753100000290"}
    assert train["name"] == "artifacts/parsed/train.tsv:" + TRAIN_URI
    for a in d["artifacts"]:
        assert a["context_ids"] == [stage["id"]]
    events = [(e["artifact_id"], e["type"]) for e in d["events"]]
    assert events == [(env["id"], 3), (data["id"], 3), (label["id"], 3), (train["id"], 4)]
    assert all(e["execution_id"] == exe["id"] and e["path"] == [] and e["milliseconds_since_epoch"]
               for e in d["events"])
    status, _, body = srv.request("GET", "/api/pipelines")
    assert (status, json.loads(body)) == (200, ["Test-env"])


def test_second_push_of_same_document_reports_exists(srv):
    srv.push_ok(example_document())
    before = srv.dump()
    srv.push_ok(example_document(), expect="exists")
    assert without_log(srv.dump()) == without_log(before)


def test_event_added_to_pushed_unnamed_execution_never_reaches_server(srv):
    doc = example_document()
    srv.push_ok(doc)
    new_uri = "0123456789abcdef0123456789abcdef"
    the_execution(doc)["events"].append({"type": 4, "artifact": artifact(
        "Dataset", "artifacts/parsed/test.tsv:" + new_uri, new_uri, 1753100000420,
        {"Commit": new_uri, "git_repo": REPO, "url": storage_url("Test-env", new_uri)})})
    # Upstream quirk (§2.4 idempotency, §8 item 4): the whole execution is skipped as existing.
    srv.push_ok(doc, expect="exists")
    d = srv.dump()
    assert new_uri not in [a["uri"] for a in d["artifacts"]]
    assert len(d["artifacts"]) == 4 and len(d["events"]) == 4


def named_document(exec_name="Prepare-exec", uuids=UUID1):
    doc = example_document()
    exe = the_execution(doc)
    exe["name"] = exec_name
    exe["type"] = "Test-env/Prepare"
    exe["properties"]["Execution_uuid"] = uuids
    return doc


def test_named_execution_is_merged_again_with_new_artifact(srv):
    srv.push_ok(named_document())
    doc = named_document(uuids=UUID1 + ",2bbb7676-76f6-11ee-9600-5b8c6d427e3f")
    exe = the_execution(doc)
    new_uri = "0123456789abcdef0123456789abcdef"
    exe["events"].append({"type": 4, "artifact": artifact(
        "Dataset", "artifacts/parsed/test.tsv:" + new_uri, new_uri, 1753100000420,
        {"Commit": new_uri, "git_repo": REPO, "url": storage_url("Test-env", new_uri)})})
    exe["properties"]["Git_End_Commit"] = "ffffffffffffffffffffffffffffffffffffffff"
    exe["custom_properties"]["seed"] = 1
    srv.push_ok(doc)                                   # named executions are never "exists"
    d = srv.dump()
    [server_exe] = d["executions"]                     # reused by (type, name), not duplicated
    assert (server_exe["type"], server_exe["name"]) == ("Test-env/Prepare", "Prepare-exec")
    uuids = server_exe["properties"]["Execution_uuid"].split(",")
    assert sorted(uuids) == sorted([UUID1, "2bbb7676-76f6-11ee-9600-5b8c6d427e3f"])
    assert server_exe["properties"]["Git_End_Commit"] == "ffffffffffffffffffffffffffffffffffffffff"
    # A reused execution keeps its stored custom properties (merge_created_execution only updates
    # Execution_uuid and Git_End_Commit).
    assert server_exe["custom_properties"]["seed"] == 20170428
    new = [a for a in d["artifacts"] if a["uri"] == new_uri]
    assert len(new) == 1 and new[0]["name"] == "artifacts/parsed/test.tsv:" + new_uri
    assert len(d["artifacts"]) == 5
    assert [(e["execution_id"], e["type"]) for e in d["events"] if e["artifact_id"] == new[0]["id"]] \
        == [(server_exe["id"], 4)]
    assert len(d["events"]) == 5                        # old events are not duplicated
    assert d["merge_errors"] == []


def test_artifacts_deduplicated_by_uri_across_pipelines(srv):
    srv.push_ok(example_document())
    second = retarget(example_document(), "Second-env")
    data = the_execution(second)["events"][1]["artifact"]
    data["custom_properties"] = {"user-metadata2": "v2",
                                 "labels_uri": "artifacts/labels2.csv:abcd", "split": 0.5}
    srv.push_ok(second, "Second-env")
    d = srv.dump()
    datasets = [a for a in d["artifacts"] if a["uri"] == DATA_URI]
    assert len(datasets) == 1
    a = datasets[0]
    assert a["name"] == "artifacts/data.xml.gz:" + DATA_URI       # first name wins
    assert a["properties"]["url"] == storage_url("Test-env", DATA_URI) + "," + \
        storage_url("Second-env", DATA_URI)
    c = a["custom_properties"]
    assert c["user-metadata1"] == "metadata_value" and c["user-metadata2"] == "v2"
    assert c["split"] == "0.5"          # update_existing_artifact stores non-int values as str
    assert sorted(c["labels_uri"].split(",")) == sorted(
        ["artifacts/labels.csv:" + LABEL_URI, "artifacts/labels2.csv:abcd"])
    assert c["original_create_time_since_epoch"] == "1753100000220"
    second_exe = by_name([dict(e, name=e["type"]) for e in d["executions"]], "Second-env/Prepare")
    link = [e for e in d["events"] if e["artifact_id"] == a["id"] and
            e["execution_id"] == second_exe["id"]]
    # re-link: event with a path and no timestamp, and no attribution to the new stage (§1.6)
    assert [(e["type"], e["path"], e["milliseconds_since_epoch"]) for e in link] == [
        (3, ["artifacts/data.xml.gz:" + DATA_URI], None)]
    assert a["context_ids"] == [by_name(d["contexts"], "Test-env/Prepare")["id"]]
    assert len(d["artifacts"]) == 4

    # A third push with the same url does not append it again (substring rule).
    srv.push_ok(retarget(example_document(), "Second-env"), "Second-env")
    again = [x for x in srv.dump()["artifacts"] if x["uri"] == DATA_URI][0]
    assert again["properties"]["url"] == a["properties"]["url"]


def train_document(exec_name=""):
    doc = example_document()
    stage = doc["Pipeline"][0]["stages"][0]
    stage["name"] = stage["properties"]["Pipeline_Stage"] = "Test-env/Train"
    exe = stage["executions"][0]
    exe["name"] = exec_name
    exe["properties"].update({"Context_Type": "Test-env/Train", "Execution_type_name": "Test-env/Train",
                              "Execution_uuid": "744a0000-8b99-11ef-abea-ddaa7ef0aa99"})
    model_uri = "4c48f23acd14d20ebba0352f4b5f55e8"
    metrics_uuid = "7bea36fc-8b99-11ef-abea-ddaa7ef0aa99"
    exe["events"] = [
        {"type": 4, "artifact": artifact(
            "Model", "artifacts/model/model.pkl:%s:9" % model_uri, model_uri, 1753100001000,
            {"Commit": model_uri, "model_framework": "SKlearn",
             "model_name": "RandomForestClassifier:default", "model_type": "RandomForestClassifier",
             "url": storage_url("Test-env", model_uri)})},
        {"type": 4, "artifact": artifact(
            "Metrics", "metrics:%s:13" % metrics_uuid, metrics_uuid, 1753100001100,
            {"metrics_name": "metrics:%s:13" % metrics_uuid}, {"avg_prec": 0.76, "roc_auc": 0.91})},
        {"type": 4, "artifact": artifact(
            "Step_Metrics",
            "cmf_artifacts/744a0000/metrics/training_metrics:46fd0000000000000000000000000000:9:744a",
            "46fd0000000000000000000000000000", 1753100001200,
            {"Commit": "46fd0000000000000000000000000000", "url": "x"})},
        {"type": 4, "artifact": artifact(
            "Dataslice", "cmf_artifacts/744a0000/dataslice/slice-1:05910000000000000000000000000000",
            "05910000000000000000000000000000", 1753100001300,
            {"Commit": "05910000000000000000000000000000", "git_repo": REPO, "url": "y"})},
    ]
    return doc, model_uri, metrics_uuid


def test_model_metrics_step_metrics_and_dataslice_names(srv):
    srv.push_ok(example_document())                     # server execution 1
    doc, model_uri, metrics_uuid = train_document(exec_name="train-exec")
    srv.push_ok(doc)                                    # server execution 2
    d = srv.dump()
    train_exe = [e for e in d["executions"] if e["type"] == "Test-env/Train"][0]
    eid = train_exe["id"]
    assert eid == 2
    arts = {a["type"]: a for a in d["artifacts"] if a["type"] not in ("Dataset", "Environment",
                                                                       "Label")}
    model = arts["Model"]
    assert model["name"] == "artifacts/model/model.pkl:%s:%d" % (model_uri, eid)
    assert model["properties"]["model_framework"] == "SKlearn"
    metrics = arts["Metrics"]
    assert metrics["name"] == "metrics:%s:%d" % (metrics_uuid, eid)
    assert metrics["uri"] == metrics_uuid
    assert metrics["properties"] == {"metrics_name": "metrics:%s:13" % metrics_uuid}
    assert metrics["custom_properties"]["avg_prec"] == 0.76
    assert arts["Step_Metrics"]["name"] == \
        "cmf_artifacts/744a0000/metrics/training_metrics:46fd0000000000000000000000000000:9:744a"
    assert arts["Dataslice"]["name"] == \
        "cmf_artifacts/744a0000/dataslice/slice-1:05910000000000000000000000000000"

    # The named execution is merged again on the next push: the Metrics artifact (same name) is
    # skipped; a Dataslice that exists is re-linked as INPUT, next to its OUTPUT event (§8 item 11).
    srv.push_ok(doc)
    d2 = srv.dump()
    [metrics2] = [a for a in d2["artifacts"] if a["type"] == "Metrics"]
    # skipped, not merged: merging would go through update_existing_artifact, which stores
    # non-int values as strings ("0.76")
    assert metrics2["custom_properties"]["avg_prec"] == 0.76
    assert len(d2["artifacts"]) == len(d["artifacts"])
    ds = arts["Dataslice"]["id"]
    assert sorted(e["type"] for e in d2["events"] if e["artifact_id"] == ds) == [3, 4]


def test_dataslice_merged_again_and_again(srv):
    """A named execution with a Dataslice pushed four times (§2.4 Dataslice row, §1.6 last
    bullet, §8 item 11).  1st: new artifact, OUTPUT event.  2nd: the uri exists, so
    link_execution_to_input_artifact adds an INPUT event (a path, no timestamp) without looking
    for one, and merges no custom properties.  3rd: that INPUT event exists, MLMD's
    UNIQUE(artifact_id, execution_id, type) raises AlreadyExistsError, and handle_event's
    handler runs update_existing_artifact on the first artifact with the uri: no event is added,
    but every non-int custom property is rewritten as str(value).  4th: the same again."""
    name = "cmf_artifacts/744a0000/dataslice/slice-1:05910000000000000000000000000000"
    doc, _, _ = train_document(exec_name="train-exec")
    exe = the_execution(doc)
    exe["events"] = [ev for ev in exe["events"] if ev["artifact"]["type"] == "Dataslice"]
    exe["events"][0]["artifact"]["custom_properties"] = {
        "fraction": 0.5, "rows": 2, "purpose": "validation"}

    def slice_state():
        d = srv.dump()
        assert d["merge_errors"] == []
        [art] = [a for a in d["artifacts"] if a["type"] == "Dataslice"]
        [eid] = [e["id"] for e in d["executions"]]
        events = [(e["id"], e["type"], e["path"], e["milliseconds_since_epoch"] is None)
                  for e in d["events"] if e["artifact_id"] == art["id"]]
        assert all(e["execution_id"] == eid for e in d["events"])
        return art, events

    srv.push_ok(copy.deepcopy(doc))
    art1, events1 = slice_state()
    assert art1["name"] == name
    assert [(t, p, untimed) for _, t, p, untimed in events1] == [(4, [], False)]
    custom1 = {"fraction": 0.5, "rows": 2, "purpose": "validation",
               "original_create_time_since_epoch": "1753100001300"}
    assert art1["custom_properties"] == custom1

    srv.push_ok(copy.deepcopy(doc))
    art2, events2 = slice_state()
    assert events2[0] == events1[0]
    assert [(t, p, untimed) for _, t, p, untimed in events2[1:]] == [(3, [name], True)]
    assert art2["custom_properties"] == custom1         # the re-link merges nothing

    for _ in range(2):
        srv.push_ok(copy.deepcopy(doc))
        art3, events3 = slice_state()
        assert events3 == events2                        # AlreadyExistsError: no third event
        assert art3["id"] == art1["id"]
        assert art3["custom_properties"] == dict(custom1, fraction="0.5")


def test_failed_execution_merge_is_silent_and_events_go_to_previous_execution(srv):
    doc = example_document()
    stage = doc["Pipeline"][0]["stages"][0]
    broken = copy.deepcopy(stage["executions"][0])
    broken["properties"]["Execution_uuid"] = "99990000-0000-11ee-9600-5b8c6d427e3f"
    del broken["properties"]["Context_Type"]
    new_uri = "abcdefabcdefabcdefabcdefabcdefab"
    broken["events"] = [{"type": 4, "artifact": artifact(
        "Dataset", "artifacts/extra.csv:" + new_uri, new_uri, 1753100000600,
        {"Commit": new_uri, "git_repo": REPO, "url": storage_url("Test-env", new_uri)})}]
    stage["executions"].append(broken)
    # Quirk (§2.4 step 5, §8 item 31): the failure is only logged, the answer is "success" ...
    srv.push_ok(doc)
    d = srv.dump()
    assert len(d["executions"]) == 1
    assert any("handle_execution" in m and "Context_Type" in m for m in d["merge_errors"])
    # ... and the broken execution's events are attached to the execution merged before it.
    extra = [a for a in d["artifacts"] if a["uri"] == new_uri][0]
    assert [e["execution_id"] for e in d["events"] if e["artifact_id"] == extra["id"]] == \
        [d["executions"][0]["id"]]


def test_missing_create_time_aborts_merge_but_reports_success(srv):
    doc = example_document()
    del the_execution(doc)["events"][2]["artifact"]["create_time_since_epoch"]
    srv.push_ok(doc)                                    # §9: still "success"
    d = srv.dump()
    assert d["contexts"] == [] and d["executions"] == [] and d["artifacts"] == []
    assert any("create_time_since_epoch" in m for m in d["merge_errors"])
    assert json.loads(srv.request("GET", "/api/pipelines")[2]) == []


def test_push_with_exec_uuid_merges_only_that_execution(srv):
    doc = example_document()
    stage = doc["Pipeline"][0]["stages"][0]
    other = copy.deepcopy(stage["executions"][0])
    other_uuid = "2ccc7676-76f6-11ee-9600-5b8c6d427e3f"
    other["properties"]["Execution_uuid"] = other_uuid
    stage["executions"].append(other)
    srv.push_ok(doc, exec_uuid=other_uuid)
    assert [e["properties"]["Execution_uuid"] for e in srv.dump()["executions"]] == [other_uuid]
    srv.push_ok(doc)                                    # the other one is still new
    assert sorted(e["properties"]["Execution_uuid"] for e in srv.dump()["executions"]) == \
        sorted([UUID1, other_uuid])
    srv.push_ok(doc, expect="exists")


def test_version_update_invalid_payload_and_unknown_pipeline(srv):
    doc = example_document()
    del the_execution(doc)["properties"]["Execution_uuid"]
    status, _, body = srv.push(doc)
    assert (status, body) == (422, b'{"detail":"version_update"}')

    for payload in ({"foo": 1}, {"Pipeline": []}):
        status, _, body = srv.push(payload)
        assert (status, json.loads(body)) == (
            400, {"detail": "Invalid JSON payload. The pipeline name is missing."})

    status, _, body = srv.push(example_document(), pipeline="Other-env")
    assert (status, json.loads(body)) == (200, {"status": "pipeline_not_exist"})

    # malformed document -> unhandled exception upstream -> Starlette's plain 500
    status, headers, body = srv.push({"Pipeline": ["not an object"]})
    assert (status, body) == (500, b"Internal Server Error")
    assert headers["Content-Type"].startswith("text/plain")
    d = srv.dump()
    assert d["contexts"] == [] and d["executions"] == []


def test_request_validation_errors(srv):
    def detail(obj=None, raw=None, ctype="application/json"):
        data = raw if raw is not None else json.dumps(obj).encode()
        status, _, body = srv.request("POST", "/api/mlmd_push", data, {"Content-Type": ctype})
        assert status == 422, body
        return json.loads(body)["detail"]

    good = {"exec_uuid": None, "pipeline_name": "Test-env", "json_payload": "{}"}
    missing = {"json_payload": "{}"}
    assert detail(missing) == [{"type": "missing", "loc": ["body", "pipeline_name"],
                                "msg": "Field required", "input": missing}]
    assert detail(dict(good, pipeline_name=""))[0]["type"] == "string_too_short"
    blank = dict(good, pipeline_name="  ")
    assert detail(blank) == [{"type": "value_error", "loc": ["body"],
                              "msg": "Value error, Pipeline name must not be empty or whitespace",
                              "input": blank, "ctx": {"error": {}}}]
    assert detail(dict(good, json_payload="not json"))[0]["msg"] == \
        "Value error, JSON payload is not valid JSON"
    errs = detail(dict(good, json_payload={"Pipeline": []}, exec_uuid=5))
    assert [(e["type"], e["loc"]) for e in errs] == [
        ("string_type", ["body", "exec_uuid"]), ("string_type", ["body", "json_payload"])]
    bad = detail(raw=b'{"pipeline_name": ')
    assert bad[0]["type"] == "json_invalid" and bad[0]["loc"][0] == "body"
    assert detail(raw=b"")[0] == {"type": "missing", "loc": ["body"], "msg": "Field required",
                                  "input": None}
    assert detail(raw=json.dumps(good).encode(), ctype="text/plain")[0]["type"] == \
        "model_attributes_type"
    # Optional[str] lets null through to the model validator, which then fails with an
    # AttributeError: upstream answers a plain 500.
    status, _, body = srv.post_json("/api/mlmd_push", dict(good, pipeline_name=None))
    assert (status, body) == (500, b"Internal Server Error")


def test_concurrent_pushes_of_one_pipeline_are_serialised(srv):
    doc = json.dumps(example_document())
    results = []

    def worker():
        status, _, body = srv.push(doc)
        results.append((status, json.loads(body)["status"]))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [(200, "exists")] * 7 + [(200, "success")]
    d = srv.dump()
    assert len(d["executions"]) == 1 and len(d["artifacts"]) == 4


# --------------------------------------------------------------------------------------------------
# pull (§2.5, §2.1)
# --------------------------------------------------------------------------------------------------

CONTEXT_KEYS = ["create_time_since_epoch", "custom_properties", "id",
                "last_update_time_since_epoch", "name", "properties", "type", "type_id"]
EXECUTION_KEYS = ["type", "name", "events", "create_time_since_epoch", "custom_properties", "id",
                  "last_update_time_since_epoch", "properties", "type_id"]
ARTIFACT_KEYS = ["type", "create_time_since_epoch", "custom_properties", "id",
                 "last_update_time_since_epoch", "name", "properties", "type_id", "uri"]


def test_pull_returns_section_2_1_document(srv):
    srv.push_ok(example_document())
    status, headers, body = srv.pull()
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    text = body.decode()
    # json.dumps with Python's default separators, key order as in §2.1
    assert text.startswith('{"Pipeline": [{"stages": [{"executions": [{"type": "Test-env/Prepare", '
                           '"name": "", "events": [{"type": 3, "artifact": {"type": "Environment", ')
    doc = json.loads(text)
    [p] = doc["Pipeline"]
    assert list(p) == ["stages"] + CONTEXT_KEYS
    assert (p["name"], p["type"], p["properties"]) == ("Test-env", "Parent_Context",
                                                       {"Pipeline": "Test-env"})
    [s] = p["stages"]
    assert list(s) == ["executions"] + CONTEXT_KEYS
    assert (s["name"], s["type"]) == ("Test-env/Prepare", "Pipeline_Stage")
    assert s["custom_properties"]["original_create_time_since_epoch"] == "1753100000010"
    [e] = s["executions"]
    assert list(e) == EXECUTION_KEYS
    assert (e["type"], e["name"]) == ("Test-env/Prepare", "")
    assert e["properties"]["Context_ID"] == s["id"] and e["properties"]["Pipeline_id"] == p["id"]
    assert e["custom_properties"]["seed"] == 20170428
    assert [ev["type"] for ev in e["events"]] == [3, 3, 3, 4]
    for ev in e["events"]:
        assert list(ev) == ["type", "artifact"]
        assert list(ev["artifact"]) == ARTIFACT_KEYS
    assert [ev["artifact"]["name"] for ev in e["events"]] == [
        "cmf_artifacts/python_env_5d41402abc4b2a76b9719d911017c592.txt:" + ENV_URI,
        "artifacts/data.xml.gz:" + DATA_URI, "artifacts/labels.csv:" + LABEL_URI,
        "artifacts/parsed/train.tsv:" + TRAIN_URI]
    assert [ev["artifact"]["type"] for ev in e["events"]] == [
        "Environment", "Dataset", "Label", "Dataset"]
    # A pulled document pushed back is recognised by its uuids.
    srv.push_ok(text, expect="exists")


def test_pull_named_execution_and_user_type_rename(srv):
    doc = named_document()
    the_execution(doc)["custom_properties"]["type"] = "user value"
    srv.push_ok(doc)
    e = json.loads(srv.pull()[2])["Pipeline"][0]["stages"][0]["executions"][0]
    assert e["name"] == "Prepare-exec"
    assert e["custom_properties"]["user_type"] == "user value"
    assert "type" not in e["custom_properties"]


def test_pull_errors_and_exec_uuid_filter(srv):
    status, _, body = srv.pull("nope")
    assert (status, json.loads(body)) == (404, {"detail": "Pipeline nope not found."})

    doc = example_document()
    stage = doc["Pipeline"][0]["stages"][0]
    other = copy.deepcopy(stage["executions"][0])
    other_uuid = "2ccc7676-76f6-11ee-9600-5b8c6d427e3f"
    other["properties"]["Execution_uuid"] = other_uuid
    stage["executions"].append(other)
    srv.push_ok(doc)

    status, headers, body = srv.pull(exec_uuid="00000000-0000-0000-0000-000000000000")
    assert (status, body) == (200, b"no_exec_uuid")
    assert headers["Content-Type"].startswith("text/html")

    stages = json.loads(srv.pull(exec_uuid=other_uuid)[2])["Pipeline"][0]["stages"]
    assert [[e["properties"]["Execution_uuid"] for e in s["executions"]] for s in stages] == \
        [[other_uuid]]
    full = json.loads(srv.pull()[2])["Pipeline"][0]["stages"][0]["executions"]
    assert len(full) == 2

    srv.push_ok(retarget(example_document(), "Second-env"), "Second-env")
    everything = json.loads(srv.pull(None)[2])
    assert [p["name"] for p in everything["Pipeline"]] == ["Test-env", "Second-env"]
    status, _, body = srv.pull(None, last_sync_time=0)
    assert (status, json.loads(body)) == (406, {"detail": "Pipeline None not found."})
    future = int(time.time() * 1000) + 10 ** 7
    assert json.loads(srv.pull(None, last_sync_time=future)[2]) == {"Pipeline": []}


def test_restart_keeps_merged_state(data_dir):
    first = Server(data_dir).start()
    try:
        first.push_ok(example_document())
        before = first.pull()[2]
    finally:
        first.stop()
    assert os.path.exists(os.path.join(str(data_dir), "cmf-server.sqlite"))
    second = Server(data_dir).start()
    try:
        status, _, after = second.pull()
        assert status == 200 and after == before
        assert json.loads(after)["Pipeline"][0]["name"] == "Test-env"
        second.push_ok(example_document(), expect="exists")
    finally:
        second.stop()


# --------------------------------------------------------------------------------------------------
# uploads (§3)
# --------------------------------------------------------------------------------------------------

def test_python_env_upload_and_download(srv, data_dir):
    name = "cmf_artifacts/python_env_5d41402abc4b2a76b9719d911017c592.txt"
    status, _, body = srv.upload("/api/python-env", name, b"numpy==1.26.4\n")
    assert (status, json.loads(body)) == (200, {"message": "File '%s' uploaded successfully" % name})
    stored = data_dir / "env" / "python_env_5d41402abc4b2a76b9719d911017c592.txt"
    assert stored.read_bytes() == b"numpy==1.26.4\n"
    status, headers, body = srv.request("GET", "/api/python-env?file_name=" + name)
    assert (status, body) == (200, b"numpy==1.26.4\n")
    assert headers["Content-Type"].startswith("text/plain")
    status, _, body = srv.request("GET", "/api/python-env?file_name=x.csv")
    assert (status, json.loads(body)) == (400, {"detail": "Unsupported file extension. Use .txt or .yaml"})
    status, _, body = srv.request("GET", "/api/python-env?file_name=absent.txt")
    assert (status, json.loads(body)) == (404, {"detail": "File not found"})
    status, _, body = srv.request("GET", "/api/python-env")
    assert status == 422 and json.loads(body)["detail"][0]["loc"] == ["query", "file_name"]
    status, _, body = srv.upload("/api/python-env", "f.txt", b"x", field="other")
    assert status == 422 and json.loads(body)["detail"][0]["loc"] == ["body", "file"]


def test_label_upload_skips_existing(srv, data_dir):
    status, _, body = srv.upload("/api/label", LABEL_URI, b"a,b\n1,2\n")
    assert (status, json.loads(body)) == (200, {
        "message": "File '%s' uploaded successfully to /cmf-server/data/labels." % LABEL_URI})
    status, _, body = srv.upload("/api/label", LABEL_URI, b"other content")
    assert (status, json.loads(body)) == (200, {
        "message": "File '%s' already exists at /cmf-server/data/labels. Skipping upload." % LABEL_URI})
    assert (data_dir / "labels" / LABEL_URI).read_bytes() == b"a,b\n1,2\n"
    status, _, body = srv.request("GET", "/api/label-data?file_name=" + LABEL_URI)
    assert (status, body) == (200, b"a,b\n1,2\n")
    status, _, body = srv.request("GET", "/label-data?file_name=missing")
    assert (status, json.loads(body)) == (404, {"detail": "File not found"})


def test_tensorboard_upload_and_traversal_refused(srv, data_dir, tmp_path):
    status, _, body = srv.upload("/api/tensorboard?pipeline_name=Test-env",
                                 "run1/events.out.tfevents.1", b"tb-data")
    assert (status, json.loads(body)) == (
        200, {"message": "File 'run1/events.out.tfevents.1' uploaded successfully"})
    assert (data_dir / "tensorboard-logs" / "Test-env" / "run1" /
            "events.out.tfevents.1").read_bytes() == b"tb-data"

    for query, filename in (("Test-env", "../../../escaped.txt"), ("Test-env", "a/../../b.txt"),
                            ("Test-env", str(tmp_path / "abs.txt")), ("..", "escaped2.txt")):
        status, _, body = srv.upload("/api/tensorboard?pipeline_name=" + query, filename, b"evil")
        assert status == 400, (query, filename, body)
        assert "Invalid" in json.loads(body)["detail"]
    found = []
    for root, _, files in os.walk(str(tmp_path)):
        found += [f for f in files if f in ("escaped.txt", "b.txt", "abs.txt", "escaped2.txt")]
    assert found == []
    status, _, body = srv.upload("/api/tensorboard", "x", b"y")
    assert status == 422 and json.loads(body)["detail"][0]["loc"] == ["query", "pipeline_name"]


def test_request_body_limit(tmp_path):
    server = Server(tmp_path / "small", extra=["--max-body-bytes", "1000"]).start()
    try:
        status, _, body = server.post_json("/api/mlmd_push", {"pipeline_name": "p",
                                                              "json_payload": "x" * 2000})
        assert (status, json.loads(body)) == (413, {"detail": "Request body too large"})
        status, _, body = server.request("GET", "/")
        assert (status, body) == (200, b'["cmf-server"]')
    finally:
        server.stop()
