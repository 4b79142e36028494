# SPDX-License-Identifier: MIT
"""Dataslices pushed again: cmffs pushes executions as CMF named executions,
so the cmf-server merges an execution again on every push.  Upstream's
merge re-links a Dataslice whose uri it knows as an INPUT of the execution,
without looking for the event it already has (doc/cmf-upstream.md §2.4, §8
item 11), and from the third merge on rewrites the slice's custom
properties (tests/server/README.md).  A re-push must therefore never carry
a Dataslice event the server already has for that execution: after any
number of pushes, a server restart, a lost acknowledgement or a change of
server, the server holds exactly one event per (artifact, execution), the
slice's OUTPUT, and everything else as after the first push."""
import collections
import http.server
import json
import os
import shutil
import sqlite3
import subprocess
import threading

import pytest

from conftest import Mount, cmffs, fuse_usable, mkexec
from servers import RefServer, wait_for

PIPELINE = "sl"
SLICE_NAME = "slice-1"


@pytest.fixture
def server(tmp_path):
    s = RefServer(tmp_path / "server").start()
    yield s
    s.stop()


def make_mount(tmp_path, server_url=None):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    cmffs("init", m.ws, "--storage", "local", "--path", m.remote,
          "--sync-interval", "1",
          *(("--server-url", server_url) if server_url else ()))
    return m


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def make_slice_execution(m):
    """pipelines/sl/prep/r1: three inputs, a slice of two of them with a
    double, an int and a string property, committed."""
    run = m.path("pipelines", PIPELINE, "prep", "r1")
    mkexec(run)
    inp = os.path.join(run, "inputs", "data")
    os.makedirs(inp)
    for i in range(3):
        write(os.path.join(inp, f"f{i}.csv"), f"row{i}\n".encode())
    s1 = os.path.join(run, "dataslices", SLICE_NAME)
    os.makedirs(s1)
    for i in (0, 2):
        os.link(os.path.join(inp, f"f{i}.csv"), os.path.join(s1, f"f{i}.csv"))
    os.setxattr(os.path.join(s1, "f0.csv"), "user.cmf.prop.quality", b"good")
    os.setxattr(s1, "user.cmf.prop.fraction", b"0.5")
    os.setxattr(s1, "user.cmf.prop.rows", b"2")
    os.setxattr(s1, "user.cmf.prop.purpose", b"validation")
    subprocess.run(["touch", os.path.join(s1, ".commit")], check=True)
    return run


def add_output(m, name):
    run = m.path("pipelines", PIPELINE, "prep", "r1")
    write(os.path.join(run, "outputs", name), f"{name}\n".encode())


def server_state(server):
    """(events, artifacts) of pipeline sl on the server: events as sorted
    (execution name, artifact name, event type, path) tuples, artifacts by
    name with type, uri and properties; asserts one event per (artifact,
    execution)."""
    d = server.dump()
    assert d["merge_errors"] == []
    execs = {e["id"]: e for e in d["executions"]
             if e["properties"].get("Pipeline_Type") == PIPELINE}
    arts = {a["id"]: a for a in d["artifacts"]}
    pairs = collections.Counter()
    events, linked = [], {}
    for ev in d["events"]:
        if ev["execution_id"] not in execs:
            continue
        pairs[(ev["artifact_id"], ev["execution_id"])] += 1
        a = arts[ev["artifact_id"]]
        events.append((execs[ev["execution_id"]]["name"], a["name"], ev["type"],
                       tuple(ev["path"])))
        linked[a["name"]] = (a["type"], a["uri"],
                             json.dumps(a["properties"], sort_keys=True),
                             json.dumps(a["custom_properties"], sort_keys=True))
    twice = {arts[a]["name"]: n for (a, _), n in pairs.items() if n != 1}
    assert twice == {}, f"more than one event per (artifact, execution): {twice}"
    return sorted(events), linked


def slice_events(state):
    return [(e, t) for e, name, t, _ in state[0]
            if f"/dataslice/{SLICE_NAME}:" in name]


def has_output(state, name):
    return any(n.startswith(f"{name}:") for _, n, _, _ in state[0])


def plus_output(before, after, name):
    """after == before with one more output file, @name, and nothing else."""
    new = [e for e in after[0] if e not in before[0]]
    assert [(e, n.split(":")[0], t) for e, n, t, _ in new] == [("r1", name, 4)]
    assert [e for e in before[0] if e not in after[0]] == []
    assert {k: v for k, v in after[1].items() if not k.startswith(f"{name}:")} \
        == before[1]


def test_dataslice_pushed_again_adds_nothing(tmp_path, server):
    """The mount's own pushes: the execution with a slice, then a new file,
    then another one; each push merges the whole named execution again."""
    m = make_mount(tmp_path, server.url)
    m.mount()
    try:
        make_slice_execution(m)

        def pushed(name=None):
            with open(m.path(".cmf", "status")) as f:
                if "executions pending: 0" not in f.read():
                    return None
            state = server_state(server)
            done = slice_events(state) and (not name or has_output(state, name))
            return state if done else None

        first = wait_for(pushed, what="the execution and its slice on the server")
        assert slice_events(first) == [("r1", 4)]
        (slice_art,) = [v for k, v in first[1].items() if "/dataslice/" in k]
        assert slice_art[0] == "Dataslice"
        custom = json.loads(slice_art[3])
        assert (custom["fraction"], custom["rows"], custom["purpose"]) == \
            (0.5, 2, "validation")
        # inputs data/f0..f2 and the slice
        assert len(first[0]) == 4

        previous = first
        for name in ("more1.txt", "more2.txt", "more3.txt"):
            add_output(m, name)
            state = wait_for(lambda: pushed(name), what=f"{name} on the server")
            plus_output(previous, state, name)
            previous = state
        assert slice_events(previous) == [("r1", 4)]
    finally:
        m.umount()
    # what a user exports still lists everything, the slice included
    doc = json.loads(cmffs("export", m.ws, PIPELINE).stdout)
    (exe,) = [e for s in doc["Pipeline"][0]["stages"] for e in s["executions"]]
    assert sorted((ev["artifact"]["type"], ev["type"]) for ev in exe["events"]) == \
        sorted([("Dataset", 3)] * 3 + [("Dataset", 4)] * 3 + [("Dataslice", 4)])


def backup(src, dst):
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def set_server(m, url):
    """[cmf] server-url of the workspace: @url, or none."""
    path = os.path.join(m.ws, ".cmfconfig")
    with open(path) as f:
        lines = [ln for ln in f.read().splitlines()
                 if ln != "[cmf]" and not ln.startswith("server-url")]
    if url:
        lines = ["[cmf]", f"server-url = {url}", ""] + lines
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def change(m, name, url):
    """A new file in the execution, mounted without a server (so that the
    mount pushes nothing); then the server is @url again."""
    set_server(m, None)
    m.mount()
    try:
        add_output(m, name)
    finally:
        m.umount()
    set_server(m, url)


def test_dataslice_after_lost_acknowledgement_outage_and_other_servers(tmp_path):
    """`cmffs push` without a mount: a push the server merged but whose
    answer was lost, a server that is down and comes back, a second
    server configured later, and a server that already holds the
    execution (a copy of the first one's store, as server-to-server sync
    makes it)."""
    a = RefServer(tmp_path / "server-a").start()
    b = RefServer(tmp_path / "server-b").start()
    c = None
    try:
        m = make_mount(tmp_path)
        m.mount()
        try:
            make_slice_execution(m)
        finally:
            m.umount()
        set_server(m, a.url)
        cmffs("push", m.ws)
        first = server_state(a)
        assert slice_events(first) == [("r1", 4)]

        # The server merges, cmffs crashes before it records the answer: the
        # store is as it was before the push.
        change(m, "more1.txt", a.url)
        mlmd = os.path.join(m.ws, "mlmd")
        saved = str(tmp_path / "mlmd.before-push")
        backup(mlmd, saved)
        cmffs("push", m.ws)
        merged = server_state(a)
        plus_output(first, merged, "more1.txt")
        backup(saved, mlmd)
        r = cmffs("status", m.ws)
        assert "executions pending: 1" in r.stdout
        cmffs("push", m.ws)
        assert server_state(a) == merged
        assert "executions pending: 0" in cmffs("status", m.ws).stdout

        # The server is down for a push, then back.
        change(m, "more2.txt", a.url)
        a.stop()
        r = cmffs("push", m.ws, check=False)
        assert r.returncode != 0 and "cmf-server" in r.stderr
        a.start()
        cmffs("push", m.ws)
        state_a = server_state(a)
        plus_output(merged, state_a, "more2.txt")

        # A second server configured later gets everything once.
        set_server(m, b.url)
        cmffs("push", m.ws)
        state_b = server_state(b)
        assert slice_events(state_b) == [("r1", 4)]
        assert state_b[0] == state_a[0]
        change(m, "more3.txt", b.url)
        cmffs("push", m.ws)
        plus_output(state_b, server_state(b), "more3.txt")

        # A server that has the execution already (its store is server A's)
        # but never answered a push of this workspace.
        a.stop()
        shutil.copytree(a.data_dir, tmp_path / "server-c")
        c = RefServer(tmp_path / "server-c").start()
        set_server(m, c.url)
        cmffs("push", m.ws)
        state_c = server_state(c)
        plus_output(state_a, state_c, "more3.txt")
        assert slice_events(state_c) == [("r1", 4)]
        cmffs("push", m.ws)
        assert server_state(c) == state_c
    finally:
        for s in (a, b, c):
            if s:
                s.stop()


class Scripted(http.server.BaseHTTPRequestHandler):
    """A cmf-server whose answer to mlmd_pull is set by the test; every
    push succeeds.  Keeps the requests."""
    pull_answer = (200, b"no_exec_uuid")
    requests = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).requests.append((self.path, json.loads(body)))
        if self.path == "/api/mlmd_pull":
            status, payload = type(self).pull_answer
        else:
            status, payload = 200, b'{"status": "success"}'
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def pushed_types(requests):
    """(artifact type, event type) of every event of the pushed documents."""
    out = []
    for path, req in requests:
        if path != "/api/mlmd_push":
            continue
        doc = json.loads(req["json_payload"])
        out += [(ev["artifact"]["type"], ev["type"])
                for s in doc["Pipeline"][0]["stages"] for e in s["executions"]
                for ev in e["events"]]
    return sorted(out)


def test_what_a_push_asks_and_sends(tmp_path):
    """On the wire: a Dataslice event the server is not recorded to have is
    sent only after the server was asked for the execution (mlmd_pull with
    its uuid); an answer that says nothing sure stops the push; a slice the
    server acknowledged or shows is not sent again."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        m = make_mount(tmp_path)
        m.mount()
        try:
            make_slice_execution(m)
        finally:
            m.umount()
        set_server(m, f"http://127.0.0.1:{srv.server_port}")
        (uuid,) = m.sql("SELECT string_value FROM ExecutionProperty"
                        " WHERE name = 'Execution_uuid'")[0]
        everything = sorted([("Dataset", 3)] * 3 + [("Dataslice", 4)])

        for answer, message in (((200, b"<html>proxy login</html>"), "not a CMF document"),
                                ((503, b""), "server error 503"),
                                ((200, b'{"Pipeline": [{"stages": {}}]}'),
                                 "not a CMF document")):
            Scripted.pull_answer = answer
            Scripted.requests.clear()
            r = cmffs("push", m.ws, check=False)
            assert r.returncode != 0
            assert r.stderr.startswith("cmffs: push incomplete: ")
            assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
            assert [p for p, _ in Scripted.requests] == ["/api/mlmd_pull"]
            assert "executions pending: 1" in cmffs("status", m.ws).stdout

        # the server has nothing of the execution: everything is sent
        Scripted.pull_answer = (200, b"no_exec_uuid")
        Scripted.requests.clear()
        cmffs("push", m.ws)
        assert [p for p, _ in Scripted.requests] == ["/api/mlmd_pull", "/api/mlmd_push"]
        assert Scripted.requests[0][1] == {"pipeline_name": PIPELINE, "exec_uuid": uuid}
        assert pushed_types(Scripted.requests) == everything

        # acknowledged: a re-push asks nothing and leaves the slice out
        change(m, "more1.txt", f"http://127.0.0.1:{srv.server_port}")
        Scripted.requests.clear()
        cmffs("push", m.ws)
        assert [p for p, _ in Scripted.requests] == ["/api/mlmd_push"]
        assert pushed_types(Scripted.requests) == \
            sorted([("Dataset", 3)] * 3 + [("Dataset", 4)])

        # the acknowledgement lost: the server's document decides
        m.sql_exec("DELETE FROM cmffs_pushed_slice")
        m.sql_exec("DELETE FROM cmffs_pushed_execution")
        (h,) = m.sql("SELECT a.uri FROM Artifact a JOIN Type t ON t.id = a.type_id"
                     " WHERE t.name = 'Dataslice'")[0]
        shown = {"Pipeline": [{"name": PIPELINE, "stages": [{"executions": [
            {"name": "other", "properties": {"Execution_uuid": "x," + uuid[:8]},
             "events": []},
            {"name": "r1", "properties": {"Execution_uuid": f"x,{uuid}"},
             "events": [{"type": 4, "artifact": {"type": "Dataslice", "uri": h}}]}]}]}]}
        Scripted.pull_answer = (200, json.dumps(shown).encode())
        Scripted.requests.clear()
        cmffs("push", m.ws)
        assert [p for p, _ in Scripted.requests] == ["/api/mlmd_pull", "/api/mlmd_push"]
        assert ("Dataslice", 4) not in pushed_types(Scripted.requests)
        # ... and is remembered
        Scripted.requests.clear()
        m.sql_exec("DELETE FROM cmffs_pushed_execution")
        cmffs("push", m.ws)
        assert [p for p, _ in Scripted.requests] == ["/api/mlmd_push"]
    finally:
        srv.shutdown()
        srv.server_close()
