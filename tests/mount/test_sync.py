# SPDX-License-Identifier: MIT
"""Background sync to a local storage remote and a real (reference)
cmf-server process; pull into a second workspace; faults."""
import hashlib
import os
import signal
import subprocess
import time

import pytest

from conftest import CMFFS, Mount, cmffs, fuse_usable, mkexec
from servers import RefServer, wait_for


def md5(data):
    return hashlib.md5(data).hexdigest()


def remote_object(remote, h):
    return os.path.join(remote, "files", "md5", h[:2], h[2:])


@pytest.fixture
def server(tmp_path):
    s = RefServer(tmp_path / "server").start()
    yield s
    s.stop()


def make_mount(tmp_path, name, server_url, interval=1):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    (tmp_path / name).mkdir()
    m = Mount(tmp_path / name)
    cmffs("init", m.ws, "--storage", "local", "--path", str(tmp_path / "remote"),
          "--server-url", server_url, "--sync-interval", str(interval))
    return m


def executions_on_server(server, pipeline):
    doc = server.pull(pipeline)
    if not doc:
        return []
    return [(s["name"], e["name"], len(e["events"]))
            for p in doc["Pipeline"] for s in p["stages"] for e in s["executions"]]


def test_background_push_then_pull_elsewhere(tmp_path, server):
    os.makedirs(tmp_path / "remote")
    a = make_mount(tmp_path, "a", server.url)
    a.mount()
    try:
        run = a.path("pipelines", "team", "prep", "r1")
        mkexec(run)
        data = os.urandom(200_000)
        with open(os.path.join(run, "outputs", "data.bin"), "wb") as f:
            f.write(data)
        h = md5(data)
        # no command: the mount's own thread pushes bytes, then metadata
        wait_for(lambda: os.path.exists(remote_object(str(tmp_path / "remote"), h)),
                 what="the object at the remote")
        with open(remote_object(str(tmp_path / "remote"), h), "rb") as f:
            assert f.read() == data
        wait_for(lambda: executions_on_server(server, "team") == [("team/prep", "r1", 1)],
                 what="the pipeline on the server")
        # a later addition to the same execution still reaches the server
        with open(os.path.join(run, "outputs", "more.txt"), "wb") as f:
            f.write(b"more\n")
        wait_for(lambda: executions_on_server(server, "team") == [("team/prep", "r1", 2)],
                 what="the second artifact on the server")
        with open(a.path(".cmf", "status")) as f:
            status = f.read()
        assert "objects pending: 0" in status
    finally:
        a.umount()

    b = make_mount(tmp_path, "b", server.url)
    r = cmffs("pull", b.ws, "team")
    assert "1 new execution(s)" in r.stdout
    r = cmffs("pull", b.ws, "team")            # idempotent
    assert "0 new execution(s), 0 new artifact(s)" in r.stdout
    b.mount()
    try:
        path = b.path("pipelines", "team", "prep", "r1", "outputs", "data.bin")
        with open(path, "rb") as f:
            assert f.read() == data             # fetched on first read
        cached = os.path.join(b.ws, ".cmf/cache/files/md5", h[:2], h[2:])
        assert os.path.exists(cached)
        assert os.stat(path).st_size == len(data)
    finally:
        b.umount()


def test_corrupt_remote_object_is_eio(tmp_path, server):
    os.makedirs(tmp_path / "remote")
    a = make_mount(tmp_path, "a", server.url)
    a.mount()
    try:
        run = a.path("pipelines", "p", "s", "e")
        mkexec(run)
        with open(os.path.join(run, "outputs", "x.txt"), "wb") as f:
            f.write(b"genuine\n")
    finally:
        a.umount()
    cmffs("push", a.ws)
    h = md5(b"genuine\n")
    obj = remote_object(str(tmp_path / "remote"), h)
    os.chmod(obj, 0o644)
    with open(obj, "wb") as f:
        f.write(b"tampered\n")
    b = make_mount(tmp_path, "b", server.url)
    cmffs("pull", b.ws, "p")
    b.mount()
    try:
        with pytest.raises(OSError) as e:
            open(b.path("pipelines", "p", "s", "e", "outputs", "x.txt"), "rb").read()
        assert e.value.errno == 5
        assert "refused" in b.journal()
        assert not os.path.exists(os.path.join(b.ws, ".cmf/cache/files/md5", h[:2], h[2:]))
    finally:
        b.umount()


def test_server_outage_and_killed_daemon_lose_nothing(tmp_path):
    os.makedirs(tmp_path / "remote")
    server = RefServer(tmp_path / "server")
    server.start()
    url = server.url
    port = server.port
    server.stop()                                  # down from the start
    a = make_mount(tmp_path, "a", url)
    a.mount()
    run = a.path("pipelines", "q", "s", "e1")
    mkexec(run)
    blobs = [os.urandom(10_000 + i) for i in range(20)]
    for i, b in enumerate(blobs):
        with open(os.path.join(run, "outputs", f"f{i}.bin"), "wb") as f:
            f.write(b)
    wait_for(lambda: "cmf-server" in a.journal(), what="the failure in the journal")
    # kill -9 in the middle of things; the mount is cleaned up by hand
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait()
    subprocess.run(["fusermount3", "-u", "-z", a.mnt], check=False)
    a.proc = None
    server = RefServer(tmp_path / "server", port=port).start()
    try:
        a.mount()
        wait_for(lambda: executions_on_server(server, "q") == [("q/s", "e1", 20)],
                 timeout=60, what="everything on the server after the outage")
        for b in blobs:
            assert os.path.exists(remote_object(str(tmp_path / "remote"), md5(b)))
        a.umount()
        r = cmffs("status", a.ws)
        assert "objects pending: 0" in r.stdout
        assert "executions pending: 0" in r.stdout
        assert "last error: none" in r.stdout
    finally:
        if a.proc:
            a.force_unmount()
        server.stop()


def test_push_command_reports_errors(tmp_path):
    os.makedirs(tmp_path / "remote")
    if not fuse_usable():
        pytest.skip("no fuse")
    ws = str(tmp_path / "ws")
    cmffs("init", ws, "--storage", "local", "--path", str(tmp_path / "remote"),
          "--server-url", "http://127.0.0.1:9")
    m = Mount(tmp_path)
    m.ws = ws
    m.mount()
    try:
        mkexec(m.path("pipelines", "p", "s", "e"))
        with open(m.path("pipelines", "p", "s", "e", "outputs", "a"), "wb") as f:
            f.write(b"a")
    finally:
        m.umount()
    r = cmffs("push", ws, check=False)
    assert r.returncode != 0
    assert r.stderr.startswith("cmffs: push incomplete: ")
    assert "cmf-server" in r.stderr and r.stderr.count("\n") == 1
    # the bytes went out even though the server is down
    assert os.path.exists(remote_object(str(tmp_path / "remote"), md5(b"a")))
    r = cmffs("status", ws)
    assert "objects pending: 0" in r.stdout and "executions pending: 1" in r.stdout


def test_tensorboard_logs_reach_the_server(tmp_path, server):
    os.makedirs(tmp_path / "remote")
    a = make_mount(tmp_path, "a", server.url)
    a.mount()
    try:
        run = a.path("pipelines", "tb", "train", "r1")
        mkexec(run)
        os.makedirs(os.path.join(run, "tensorboard", "run1"))
        ev = os.path.join(run, "tensorboard", "run1", "events.out.tfevents.1")
        with open(ev, "wb") as f:
            f.write(b"\x00tfevents-1")
        target = os.path.join(server.data_dir, "tensorboard-logs", "tb", "train",
                              "r1", "run1", "events.out.tfevents.1")
        wait_for(lambda: os.path.exists(target), what="the tensorboard upload")
        with open(target, "rb") as f:
            assert f.read() == b"\x00tfevents-1"
        # an updated event file is uploaded again
        with open(ev, "ab") as f:
            f.write(b"-2")
        wait_for(lambda: open(target, "rb").read() == b"\x00tfevents-1-2",
                 what="the second upload")
        # tensorboard logs are not artifacts, and may be removed
        assert a.sql("SELECT count(*) FROM Artifact") == [(0,)]
        os.unlink(ev)
    finally:
        a.umount()


def test_environment_and_label_files_reach_the_server(tmp_path, server):
    os.makedirs(tmp_path / "remote")
    a = make_mount(tmp_path, "a", server.url)
    a.mount()
    try:
        run = a.path("pipelines", "env", "prep", "r1")
        os.makedirs(run)                        # Python: environment logged
        os.makedirs(os.path.join(run, "inputs", "labels"))
        with open(os.path.join(run, "inputs", "labels", "l.csv"), "wb") as f:
            f.write(b"id,label\n1,cat\n")
        (env_name,) = os.listdir(os.path.join(run, "inputs", "cmf_artifacts"))
        env_target = os.path.join(server.data_dir, "env", env_name)
        with open(os.path.join(run, "inputs", "cmf_artifacts", env_name), "rb") as g:
            env_bytes = g.read()

        def env_uploaded():
            # the server writes the file in place, as upstream does: whole
            # once it holds every byte
            try:
                with open(env_target, "rb") as f:
                    return f.read() == env_bytes
            except FileNotFoundError:
                return False
        wait_for(env_uploaded, what="the environment upload")
        label_target = os.path.join(server.data_dir, "labels", md5(b"id,label\n1,cat\n"))
        wait_for(lambda: os.path.exists(label_target), what="the label upload")
    finally:
        a.umount()


def test_pulled_directory_artifact_shows_its_files(tmp_path, server):
    os.makedirs(tmp_path / "remote")
    a = make_mount(tmp_path, "a", server.url)
    a.mount()
    try:
        run = a.path("pipelines", "d", "s", "e")
        mkexec(run)
        os.makedirs(os.path.join(run, "outputs", "imgs", "x"))
        with open(os.path.join(run, "outputs", "imgs", "one.bin"), "wb") as f:
            f.write(b"one")
        with open(os.path.join(run, "outputs", "imgs", "x", "two.bin"), "wb") as f:
            f.write(b"two")
        subprocess.run(["touch", os.path.join(run, "outputs", "imgs", ".commit")],
                       check=True)
    finally:
        a.umount()
    cmffs("push", a.ws)
    b = make_mount(tmp_path, "b", server.url)
    cmffs("pull", b.ws, "d")
    b.mount()
    try:
        d = b.path("pipelines", "d", "s", "e", "outputs", "imgs")
        with open(os.path.join(d, "x", "two.bin"), "rb") as f:
            assert f.read() == b"two"
        assert os.getxattr(d, "user.cmf.hash").decode().endswith(".dir")
    finally:
        b.umount()
    # a manifest at the remote that would write outside the tree is refused
    h = a.sql("SELECT uri FROM Artifact WHERE uri LIKE '%.dir'")[0][0]
    obj = remote_object(str(tmp_path / "remote"), h)
    evil = b'[{"md5": "0cc175b9c0f1b6a831c399e269772661", "relpath": "../../etc/x"}]'
    os.chmod(obj, 0o644)
    with open(obj, "wb") as f:
        f.write(evil)
    c = make_mount(tmp_path, "c", server.url)
    r = cmffs("pull", c.ws, "d", check=False)
    assert r.returncode != 0
    assert "refused" in r.stderr or "cannot be stored" in r.stderr or "md5" in r.stderr


def test_storage_configured_later_gives_artifacts_their_url(tmp_path, server):
    """Files logged while no storage was configured have no url; once
    their bytes reach a remote the url is filled in, and the executions are
    pushed again so that the server (and `cmf artifact pull`) learn it."""
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    remote = tmp_path / "remote"
    remote.mkdir()
    a = Mount(tmp_path)
    cmffs("init", a.ws, "--server-url", server.url, "--sync-interval", "1")
    a.mount()
    try:
        run = a.path("pipelines", "late", "prep", "r1")
        mkexec(run)
        data = os.urandom(5000)
        with open(os.path.join(run, "outputs", "data.bin"), "wb") as f:
            f.write(data)
        wait_for(lambda: executions_on_server(server, "late") == [("late/prep", "r1", 1)],
                 what="the metadata on the server")
    finally:
        a.umount()
    h = md5(data)

    def urls():
        doc = server.pull("late")
        return [ev["artifact"]["properties"].get("url", "")
                for p in doc["Pipeline"] for s in p["stages"]
                for e in s["executions"] for ev in e["events"]]

    assert urls() == [""]
    with open(os.path.join(a.ws, ".cmfconfig"), "a") as f:
        f.write(f"\n[storage]\ntype = local\npath = {remote}\n")
    cmffs("push", a.ws)
    assert os.path.exists(remote_object(str(remote), h))
    want = f"late:{remote}/files/md5/{h[:2]}/{h[2:]}"
    assert a.sql("SELECT p.string_value FROM ArtifactProperty p"
                 " WHERE p.name = 'url'") == [(want,)]
    assert urls() == [want]
    # nothing changes on a second push
    r = cmffs("push", a.ws)
    assert urls() == [want]


class BlackHole:
    """A TCP server on 127.0.0.1 that accepts, reads and never answers:
    a hung cmf-server or storage endpoint."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)        # kept open, never answered

    def close(self):
        self.stop = True
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.mark.parametrize("what", ["server", "storage"])
def test_hung_endpoint_is_abandoned_after_the_stall_timeout(tmp_path, what):
    """A server or storage endpoint that accepts and never answers holds a
    push for [sync] stall-timeout seconds, then the push fails with one
    clear line, nothing is lost, and the next push with a working remote
    completes."""
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    hole = BlackHole()
    remote = tmp_path / "remote"
    remote.mkdir()
    m = Mount(tmp_path)
    try:
        if what == "server":
            cmffs("init", m.ws, "--storage", "local", "--path", str(remote),
                  "--server-url", f"http://127.0.0.1:{hole.port}")
        else:
            cmffs("init", m.ws)
            with open(os.path.join(m.ws, ".cmfconfig"), "a") as f:
                f.write(f"\n[storage]\ntype = s3\nurl = s3://bucket/x\n"
                        f"endpoint-url = http://127.0.0.1:{hole.port}\n"
                        f"access-key-id = k\nsecret-key = s\n")
        with open(os.path.join(m.ws, ".cmfconfig")) as f:
            text = f.read()
        with open(os.path.join(m.ws, ".cmfconfig"), "w") as f:
            f.write(text.replace("[sync]\n", "[sync]\nstall-timeout = 2\n")
                    if "[sync]" in text else text + "\n[sync]\nstall-timeout = 2\n")
        m.mount()
        run = m.path("pipelines", "hung", "s", "r1")
        mkexec(run)
        data = os.urandom(3000)
        with open(os.path.join(run, "outputs", "d.bin"), "wb") as f:
            f.write(data)
        m.umount()
        t = time.monotonic()
        r = cmffs("push", m.ws, check=False, timeout=60)
        took = time.monotonic() - t
        assert r.returncode != 0
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and lines[0].startswith("cmffs: "), r.stderr
        assert "stopped answering" in lines[0] or "too slow" in lines[0], lines[0]
        assert took < 30, took
        # nothing lost: the artifact is logged and its bytes are cached
        h = md5(data)
        assert m.sql("SELECT uri FROM Artifact") == [(h,)]
        assert os.path.exists(os.path.join(m.ws, ".cmf/cache/files/md5", h[:2], h[2:]))
    finally:
        hole.close()
