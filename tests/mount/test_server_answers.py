# SPDX-License-Identifier: MIT
"""Every answer a cmf-server (or a proxy in front of it) can give to a
push maps to a clear status: `cmffs push` prints one line and fails, the
failure is kept for `cmffs status`, and nothing is marked pushed."""
import http.server
import json
import os
import threading

import pytest

from conftest import Mount, cmffs, fuse_usable, mkexec


class Scripted(http.server.BaseHTTPRequestHandler):
    answer = (200, b'{"status": "success"}')
    requests = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).requests.append((self.path, body))
        status, payload = type(self).answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def scripted():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()


def make_workspace(tmp, scripted):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    # the mount's own sync thread must not get the execution acknowledged
    Scripted.answer = (503, b"")
    m = Mount(tmp)
    cmffs("init", m.ws, "--server-url", f"http://127.0.0.1:{scripted.server_port}")
    m.mount()
    try:
        mkexec(m.path("pipelines", "p", "s", "e"))
        with open(m.path("pipelines", "p", "s", "e", "outputs", "f"), "wb") as f:
            f.write(b"f")
    finally:
        m.umount()
    return m.ws


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, scripted):
    return make_workspace(tmp_path_factory.mktemp("answers"), scripted)


ANSWERS = [
    ((200, b"<html>proxy login</html>"), "something else than a status"),
    ((200, b'{"status": "pipeline_not_exist"}'), "did not find pipeline"),
    ((400, b'{"detail": "Invalid JSON payload. The pipeline name is missing."}'),
     "refused the push (400): Invalid JSON payload"),
    ((404, b'{"detail": "Not Found"}'), "not found (404)"),
    ((413, b"<html>413 Request Entity Too Large</html>"), "too large (413)"),
    ((422, b'{"detail": "version_update"}'), "Execution_uuid on every execution"),
    ((422, b'{"detail": [{"loc": ["body", "pipeline_name"], "msg": "field required"}]}'),
     "invalid request (422)"),
    ((500, b"Internal Server Error"), "server error 500"),
    ((503, b""), "server error 503"),
    ((200, b'{"status": "exists"}'), None),     # last: it acknowledges
]


@pytest.mark.parametrize("answer,message", ANSWERS)
def test_answer(workspace, answer, message):
    Scripted.answer = answer
    Scripted.requests.clear()
    r = cmffs("push", workspace, check=False)
    assert Scripted.requests, "nothing was sent"
    path, body = Scripted.requests[0]
    assert path == "/api/mlmd_push"
    req = json.loads(body)
    assert set(req) == {"exec_uuid", "json_payload", "pipeline_name"}
    assert req["exec_uuid"] is None and req["pipeline_name"] == "p"
    doc = json.loads(req["json_payload"])          # double encoded
    assert doc["Pipeline"][0]["name"] == "p"
    status = cmffs("status", workspace).stdout
    if message is None:
        assert r.returncode == 0, r.stderr
        assert "executions pending: 0" in status
        # reset for the next case: the execution is acknowledged now
        return
    assert r.returncode != 0
    assert r.stderr.startswith("cmffs: push incomplete: ") and r.stderr.count("\n") == 1
    assert message in r.stderr, r.stderr
    assert "executions pending: 1" in status
    assert message in status


def test_server_down(tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    cmffs("init", m.ws, "--server-url", "http://127.0.0.1:9")
    m.mount()
    try:
        mkexec(m.path("pipelines", "p", "s", "e"))
    finally:
        m.umount()
    r = cmffs("push", m.ws, check=False)
    assert r.returncode != 0 and "Couldn't connect" in r.stderr, r.stderr


HOSTILE = ('line one\n2026-01-01T00:00:00Z forged journal entry\r\x1b[2J\x1b]0;title\x07'
           '\u009b31m' + "<b>html</b>" * 2000)


@pytest.mark.parametrize("status", [400, 500])
def test_hostile_detail_stays_one_line(tmp_path, scripted, status):
    """A server's detail is quoted escaped and capped: one stderr line, one
    status line, no terminal escape, whatever the server sends."""
    workspace = make_workspace(tmp_path, scripted)
    Scripted.answer = (status, json.dumps({"detail": HOSTILE}).encode())
    r = cmffs("push", workspace, check=False)
    assert r.returncode != 0
    assert r.stderr.startswith("cmffs: ") and r.stderr.count("\n") == 1, r.stderr
    for bad in ("\x1b", "\r", "\x07", "\u009b"):
        assert bad not in r.stderr
    assert len(r.stderr) < 5000
    status_text = cmffs("status", workspace).stdout
    errors = [l for l in status_text.splitlines() if l.startswith("last error: ")]
    assert len(errors) == 1
    assert "forged journal entry" not in status_text.replace(errors[0], "")
    assert "\x1b" not in status_text
    Scripted.answer = (503, b"")
