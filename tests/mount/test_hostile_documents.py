# SPDX-License-Identifier: MIT
"""Documents from a server or a teammate (cmffs import, cmffs pull) that try
to change another pipeline's records, bring names the mount would refuse,
or are too big to hold: each is refused with one `cmffs: ...` line and the
store is left as it was."""
import hashlib
import http.server
import json
import os
import sqlite3
import subprocess
import threading
import uuid

import pytest

from conftest import CMFFS, Mount, cmffs, fuse_usable, mkexec

MIB = 1 << 20
DOCUMENT_MAX = 128 * MIB        # core/store/document.h DOCUMENT_MAX_BYTES

TABLES = ("Type", "TypeProperty", "Context", "ContextProperty", "ParentContext",
          "Execution", "ExecutionProperty", "Association", "Artifact",
          "ArtifactProperty", "Attribution", "Event", "EventPath", "cmffs_entry")


def md5(data):
    return hashlib.md5(data).hexdigest()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def snapshot(ws):
    db = sqlite3.connect(os.path.join(ws, "mlmd"))
    try:
        return {t: sorted(map(repr, db.execute(f"SELECT * FROM `{t}`").fetchall()))
                for t in TABLES}
    finally:
        db.close()


def sql(ws, query, args=()):
    db = sqlite3.connect(os.path.join(ws, "mlmd"))
    try:
        return db.execute(query, args).fetchall()
    finally:
        db.close()


def refused(r):
    """A CLI error: non-zero, one `cmffs: ` line on stderr; returns it."""
    assert r.returncode != 0, r.stdout
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cmffs: "), r.stderr
    return lines[0]


def import_doc(ws, doc, tmp_path, name="doc.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return cmffs("import", ws, str(path), check=False)


@pytest.fixture
def base(tmp_path):
    """A workspace with pipeline base: base/s/r1 with outputs/a.txt, a
    property lr = 0.1 and metrics m.json {"acc": 0.9}; unmounted."""
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    (tmp_path / "b").mkdir()
    m = Mount(tmp_path / "b")
    m.init()
    m.mount()
    try:
        run = m.path("pipelines", "base", "s", "r1")
        mkexec(run)
        write(os.path.join(run, "outputs", "a.txt"), b"base data\n")
        write(os.path.join(run, "properties", "lr"), b"0.1\n")
        write(os.path.join(run, "metrics", "m.json"), b'{"acc": 0.9}\n')
    finally:
        m.umount()
    doc = tmp_path / "base.json"
    cmffs("export", m.ws, "base", "-o", str(doc))
    m.doc = json.loads(doc.read_text())
    return m


def the_execution(doc):
    (p,) = doc["Pipeline"]
    (s,) = p["stages"]
    (e,) = s["executions"]
    return p, s, e


def dataset(name, data, ev_type=4):
    h = md5(data)
    return {"type": ev_type, "artifact": {
        "type": "Dataset", "name": f"{name}:{h}", "uri": h,
        "properties": {"Commit": h, "url": ""}, "custom_properties": {}}}


def as_pipeline(doc, new):
    """@doc's pipeline renamed @new (stages and execution types too)."""
    doc = json.loads(json.dumps(doc))
    (p,) = doc["Pipeline"]
    old = p["name"]
    p["name"] = new
    p["properties"] = {"Pipeline": new}
    for s in p["stages"]:
        s["name"] = new + s["name"][len(old):]
        for e in s["executions"]:
            e["type"] = s["name"]
            for k in ("Context_Type", "Execution_type_name"):
                e["properties"][k] = s["name"]
            e["properties"]["Pipeline_Type"] = new
    return doc


def custom(ws, table, key, owner):
    return sql(ws, f"SELECT coalesce(string_value, int_value, double_value) FROM {table}"
               f" WHERE name = ? AND is_custom_property = 1 AND {owner}", (key,))


# -- item 4: a merge adds, it never changes -----------------------------------

def test_another_pipeline_cannot_take_over_an_execution(base, tmp_path):
    doc = as_pipeline(base.doc, "intruder")
    _, _, e = the_execution(doc)
    e["name"] = "x"                     # the uuid stays base's r1's
    e["custom_properties"]["lr"] = 99
    e["events"].append(dataset("evil.txt", b"evil\n"))
    before = snapshot(base.ws)
    line = refused(import_doc(base.ws, doc, tmp_path))
    assert "base/s" in line and "r1" in line, line
    assert snapshot(base.ws) == before
    # nor by a second uuid in the list
    e["properties"]["Execution_uuid"] = str(uuid.uuid1()) + "," + \
        e["properties"]["Execution_uuid"]
    refused(import_doc(base.ws, doc, tmp_path))
    assert snapshot(base.ws) == before


def test_recorded_metrics_are_never_rewritten(base, tmp_path):
    _, _, e = the_execution(base.doc)
    (metrics,) = [ev["artifact"] for ev in e["events"]
                  if ev["artifact"]["type"] == "Metrics"]
    doc = as_pipeline(base.doc, "intruder")
    _, _, x = the_execution(doc)
    x["name"] = "x"
    x["properties"]["Execution_uuid"] = str(uuid.uuid1())
    forged = json.loads(json.dumps(metrics))
    forged["custom_properties"] = {"acc": 0.0, "injected": 1}
    x["events"] = [{"type": 4, "artifact": forged}]
    r = import_doc(base.ws, doc, tmp_path)
    assert r.returncode == 0, r.stderr
    owner = "artifact_id = (SELECT id FROM Artifact WHERE uri = '%s')" % metrics["uri"]
    assert custom(base.ws, "ArtifactProperty", "acc", owner) == [(0.9,)]
    assert custom(base.ws, "ArtifactProperty", "injected", owner) == []


def test_a_merge_of_the_same_pipeline_adds_and_keeps(base, tmp_path):
    doc = json.loads(json.dumps(base.doc))
    p, s, e = the_execution(doc)
    e["custom_properties"]["lr"] = 99               # recorded: kept
    e["custom_properties"]["epochs"] = 5            # new: added
    e["properties"]["Execution"] = "rm -rf /"               # recorded: kept
    e["events"].append(dataset("b.txt", b"later\n"))
    p["custom_properties"]["team"] = "a"
    r = import_doc(base.ws, doc, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "1 artifact(s), 1 event(s)" in r.stdout
    ex = "execution_id = (SELECT id FROM Execution WHERE name = 'r1')"
    assert custom(base.ws, "ExecutionProperty", "lr", ex) == [(0.1,)]
    assert custom(base.ws, "ExecutionProperty", "epochs", ex) == [(5,)]
    (cmd,) = sql(base.ws, "SELECT string_value FROM ExecutionProperty WHERE name ="
                 " 'Execution' AND " + ex)
    assert cmd[0] and cmd[0] != "rm -rf /"
    base.mount()
    try:
        out = base.path("pipelines", "base", "s", "r1", "outputs")
        assert sorted(os.listdir(out)) == ["a.txt", "b.txt"]
        with open(os.path.join(out, "a.txt"), "rb") as f:
            assert f.read() == b"base data\n"
    finally:
        base.umount()
    # the pipeline's own custom property: a second value is not taken
    p["custom_properties"]["team"] = "b"
    assert import_doc(base.ws, doc, tmp_path).returncode == 0
    assert custom(base.ws, "ContextProperty", "team",
                  "context_id = (SELECT id FROM Context WHERE name = 'base')") == [("a",)]


def test_an_execution_cannot_change_its_name_through_its_uuid(base, tmp_path):
    doc = json.loads(json.dumps(base.doc))
    _, _, e = the_execution(doc)
    e["name"] = "r2"
    e["events"].append(dataset("c.txt", b"c\n"))
    before = snapshot(base.ws)
    line = refused(import_doc(base.ws, doc, tmp_path))
    assert "r1" in line and "r2" in line
    assert snapshot(base.ws) == before


# -- item 5: names the mount would refuse ----------------------------------

def minimal(name="p", stage="s", execution="e1", artifacts=(), exec_custom=None,
            ptype="Metrics"):
    events = []
    for n in artifacts:
        events.append({"type": 4, "artifact": {
            "type": ptype, "name": n, "uri": str(uuid.uuid1()),
            "properties": {}, "custom_properties": {"v": 1}}})
    return {"Pipeline": [{
        "name": name, "type": "Parent_Context", "properties": {"Pipeline": name},
        "custom_properties": {}, "stages": [{
            "name": f"{name}/{stage}", "type": "Pipeline_Stage",
            "properties": {}, "custom_properties": {}, "executions": [{
                "type": f"{name}/{stage}", "name": execution,
                "properties": {"Execution_uuid": str(uuid.uuid1()),
                               "Context_Type": f"{name}/{stage}"},
                "custom_properties": exec_custom or {},
                "events": events}]}]}]}


HOSTILE_ARTIFACTS = ["../../etc/x:1", "/etc/passwd:1", "a//b:1", ":1", "",
                     "a\nb:1", "x\x1b[2J:1", "a/./b:1", "..", "a:1/../../b",
                     "ok:1\r"]


@pytest.mark.parametrize("name", HOSTILE_ARTIFACTS)
def test_hostile_artifact_names_are_refused(tmp_path, name):
    ws = str(tmp_path / "ws")
    cmffs("init", ws)
    line = refused(import_doc(ws, minimal(artifacts=[name]), tmp_path))
    assert "artifact name" in line
    assert sql(ws, "SELECT count(*) FROM Execution") == [(0,)]
    assert sql(ws, "SELECT count(*) FROM Artifact") == [(0,)]


@pytest.mark.parametrize("where", [
    dict(execution="a\nb"), dict(execution=".."), dict(stage="x\x1b[31m"),
    dict(stage="a/b"), dict(name="p\n"), dict(exec_custom={"k\ney": 1}),
    dict(exec_custom={"../k": 1}), dict(artifacts=["ok:1"], ptype=".."),
    dict(artifacts=["ok:1"], ptype="Data\nset")])
def test_hostile_names_everywhere_are_refused(tmp_path, where):
    ws = str(tmp_path / "ws")
    cmffs("init", ws)
    refused(import_doc(ws, minimal(**where), tmp_path))
    assert sql(ws, "SELECT count(*) FROM Execution") == [(0,)]


def test_hostile_uris_are_refused(tmp_path):
    ws = str(tmp_path / "ws")
    cmffs("init", ws)
    for uri in ("..aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "../../etc/passwd", "a\nb", "a b"):
        doc = minimal(artifacts=["ok:1"])
        doc["Pipeline"][0]["stages"][0]["executions"][0]["events"][0]["artifact"]["uri"] = uri
        line = refused(import_doc(ws, doc, tmp_path))
        assert "uri" in line
    assert sql(ws, "SELECT count(*) FROM Artifact") == [(0,)]


def test_upstream_names_still_import_and_show(tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    h = md5(b"x")
    u = str(uuid.uuid1())
    doc = minimal(artifacts=[])
    events = doc["Pipeline"][0]["stages"][0]["executions"][0]["events"]
    for typ, name, uri in (("Dataset", f"data/x.csv:{h}", h),
                           ("Model", f"models/m.pkl:{h}:3", h),
                           ("Metrics", f"metrics:{u}:3", u),
                           ("Step_Metrics", f"cmf_artifacts/{u}/metrics/loss:{h}:3:{u}", h),
                           ("Validation_output", u, u)):
        events.append({"type": 4, "artifact": {"type": typ, "name": name, "uri": uri,
                                               "properties": {}, "custom_properties": {}}})
    (tmp_path / "m").mkdir()
    m = Mount(tmp_path / "m")
    m.init()
    r = import_doc(m.ws, doc, tmp_path)
    assert r.returncode == 0, r.stderr
    m.mount()
    try:
        assert sorted(os.listdir(m.path("artifacts", "by-name"))) == sorted(
            ["data", "models", f"metrics:{u}:3", "cmf_artifacts", u])
        assert os.listdir(m.path("artifacts", "by-name", "data")) == [f"x.csv:{h}"]
    finally:
        m.umount()


def test_views_list_dot_and_dotdot_once(tmp_path):
    """Names another program wrote into the store ("../x", a type "..")
    are not listed as "." or ".." in the views."""
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    (tmp_path / "m").mkdir()
    m = Mount(tmp_path / "m")
    m.init()
    db = sqlite3.connect(os.path.join(m.ws, "mlmd"))
    for tname in ("Dataset", "..", "."):
        db.execute("INSERT OR IGNORE INTO Type(name, type_kind) VALUES (?, 1)",
                   (tname,))
    tid = dict(db.execute("SELECT name, id FROM Type WHERE type_kind = 1").fetchall())
    for t, name, uri in (("Dataset", "../x:1", ".." + "a" * 30),
                         ("Dataset", "./y:1", "." + "b" * 31),
                         ("..", "z:1", "c" * 32), (".", "..", "d" * 32)):
        db.execute("INSERT INTO Artifact(type_id, uri, name, create_time_since_epoch,"
                   " last_update_time_since_epoch) VALUES (?, ?, ?, 0, 0)",
                   (tid[t], uri, name))
    db.commit()
    db.close()
    m.mount()
    try:
        for d in ("by-name", "by-type", "by-hash", "by-type/Dataset"):
            out = subprocess.run(["ls", "-a", m.path("artifacts", d)],
                                 capture_output=True, text=True).stdout.split("\n")
            assert out.count(".") == 1 and out.count("..") == 1, (d, out)
    finally:
        m.umount()


# -- item 7: bounded memory ------------------------------------------------

# Forks and runs argv[2:], then writes the child's peak RSS (KiB) to argv[1]:
# a small process of its own, so the peak is not that of a fork of pytest.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
open(sys.argv[1], "w").write(str(ru.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def sanitized():
    """Is the binary under test built with AddressSanitizer?  Its shadow
    memory and quarantine make peak RSS say nothing about cmffs' own."""
    with open(CMFFS, "rb") as f:
        return b"__asan_init" in f.read()


def assert_peak_below(peak, limit):
    if not sanitized():
        assert peak < limit, (peak / MIB, limit / MIB)


def run_measured(args, tmp_path, stdin=None, timeout=300):
    """Run @args; (returncode, stdout, stderr, peak RSS in bytes)."""
    rss = tmp_path / "peak-rss"
    r = subprocess.run(["/usr/bin/python3", "-c", LAUNCHER, str(rss), *args],
                       stdin=stdin, capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr, int(rss.read_text()) * 1024


class HugeAnswer:
    """An HTTP server on 127.0.0.1 whose mlmd_pull answer is @size bytes of
    JSON, streamed without a Content-Length; counts what it could send."""

    def __init__(self, size):
        outer = self
        self.size = size
        self.sent = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                head = b'{"Pipeline": [{"name": "p", "stages": [], "junk": "'
                chunk = b"a" * MIB
                try:
                    self.wfile.write(head)
                    outer.sent += len(head)
                    while outer.sent < outer.size:
                        self.wfile.write(chunk)
                        outer.sent += len(chunk)
                    self.wfile.write(b'"}]}')
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_huge_pull_answer_is_refused_while_it_downloads(tmp_path):
    srv = HugeAnswer(320 * MIB)
    try:
        ws = str(tmp_path / "ws")
        cmffs("init", ws, "--server-url", srv.url)
        rc, out, err, peak = run_measured([CMFFS, "pull", ws, "p"], tmp_path)
    finally:
        srv.close()
    refused(subprocess.CompletedProcess([], rc, out, err))
    assert "128 MiB" in err, err
    assert srv.sent < 200 * MIB, srv.sent        # it stopped reading
    assert_peak_below(peak, DOCUMENT_MAX + 64 * MIB)
    assert sql(ws, "SELECT count(*) FROM Context") == [(0,)]


def test_an_import_larger_than_the_cap_is_never_read_whole(tmp_path):
    ws = str(tmp_path / "ws")
    cmffs("init", ws)
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(1 << 30)                     # sparse: 1 GiB of NULs
    rc, out, err, peak = run_measured([CMFFS, "import", ws, str(big)], tmp_path)
    line = refused(subprocess.CompletedProcess([], rc, out, err))
    assert "128 MiB" in line
    assert_peak_below(peak, 64 * MIB)
    # the same through a pipe
    feeder = subprocess.Popen(["head", "-c", str(DOCUMENT_MAX + MIB), "/dev/zero"],
                              stdout=subprocess.PIPE)
    rc, out, err, peak = run_measured([CMFFS, "import", ws, "-"], tmp_path,
                                      stdin=feeder.stdout)
    feeder.stdout.close()
    feeder.wait()
    line = refused(subprocess.CompletedProcess([], rc, out, err))
    assert "128 MiB" in line
    assert_peak_below(peak, DOCUMENT_MAX + 64 * MIB)


def test_parsing_a_document_under_the_cap_stays_bounded(tmp_path):
    """A document of 48 MiB, mostly tiny JSON values in a key nobody reads
    (a tree of them would take tens of times the text), merges with a
    peak RSS of a small multiple of its size."""
    ws = str(tmp_path / "ws")
    cmffs("init", ws)
    doc = minimal(artifacts=["ok:1"])
    text = json.dumps(doc)
    filler = "[" + ",".join(["[]"] * (16 * MIB)) + "]"
    text = text[:-3] + ', "junk": ' + filler + "}]}"
    path = tmp_path / "doc.json"
    path.write_text(text)
    del text, filler
    size = os.path.getsize(path)
    assert 40 * MIB < size < DOCUMENT_MAX
    rc, out, err, peak = run_measured([CMFFS, "import", ws, str(path)], tmp_path)
    assert rc == 0, err
    assert "1 execution(s)" in out
    assert_peak_below(peak, 3 * size)
