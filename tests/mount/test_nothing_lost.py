# SPDX-License-Identifier: MIT
"""Nothing logged is lost: every version ever logged reaches the storage,
whatever happened to the file tree since; untrusted text stays one line;
secrets stay out of what is printed."""
import base64
import hashlib
import http.server
import json
import os
import resource
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import CMFFS, Mount, cmffs, fuse_usable, mkexec


def md5(data):
    return hashlib.md5(data).hexdigest()


def remote_object(remote, h):
    return os.path.join(remote, "files", "md5", h[:2], h[2:])


def status_line(ws, key):
    for line in cmffs("status", ws).stdout.splitlines():
        if line.startswith(key + ": "):
            return line.split(": ", 1)[1]
    raise AssertionError(f"no {key} in cmffs status")


def test_every_overwritten_version_reaches_the_storage(mounted, execution):
    out = os.path.join(execution, "outputs", "x")
    versions = [f"version {i}\n".encode() for i in range(5)]
    for v in versions:
        with open(out, "wb") as f:
            f.write(v)
    # step metrics: every commit (close) is a version of its own
    csv = os.path.join(execution, "metrics", "loss.csv")
    with open(csv, "w") as f:
        f.write("step,loss\n")
    commits = []
    for step in range(1, 5):
        with open(csv, "a") as f:
            f.write(f"{step},{1 / step}\n")
        with open(csv, "rb") as f:
            commits.append(md5(f.read()))
    assert status_line(mounted.ws, "objects pending") == str(len(versions) + 5)
    cmffs("push", mounted.ws)
    assert status_line(mounted.ws, "objects pending") == "0"
    for v in versions:
        with open(remote_object(mounted.remote, md5(v)), "rb") as f:
            assert f.read() == v
    for h in commits:
        assert os.path.exists(remote_object(mounted.remote, h)), h
    # every artifact with bytes names an object that is at the remote
    for (uri,) in mounted.sql("SELECT uri FROM Artifact WHERE length(uri) = 32"):
        assert os.path.exists(remote_object(mounted.remote, uri)), uri


def test_hostile_name_is_one_escaped_journal_line(mounted, execution):
    before = mounted.journal().splitlines()
    name = "x\n2026-01-01T00:00:00Z forged entry\x1b[2J"
    try:
        open(os.path.join(execution, "outputs", name), "wb").close()
        raise AssertionError("a name with control characters was accepted")
    except OSError as e:
        assert e.errno == 22
    after = mounted.journal().splitlines()
    assert len(after) == len(before) + 1, after[len(before):]
    line = after[-1]
    assert "forged entry" in line
    assert not any(ord(c) < 0x20 or ord(c) == 0x7f for c in line), line
    with open(os.path.join(mounted.ws, ".cmf", "log")) as f:
        on_disk = f.read().splitlines()
    assert on_disk[-1] == line


class Recording(http.server.BaseHTTPRequestHandler):
    auth = []

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).auth.append(self.headers.get("Authorization"))
        body = b'{"detail": "nope"}'
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_server_password_is_never_shown_or_stored(tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    secret = "Sup3rS3cretPw"
    m = Mount(tmp_path)
    try:
        cmffs("init", m.ws, "--storage", "local", "--path", m.remote,
              "--server-url", f"http://alice:{secret}@127.0.0.1:{srv.server_port}/",
              "--sync-interval", "1")
        m.mount()
        try:
            mkexec(m.path("pipelines", "p", "s", "e"))
            with open(m.path("pipelines", "p", "s", "e", "outputs", "f"), "wb") as f:
                f.write(b"f")
            deadline = time.time() + 30
            while not Recording.auth and time.time() < deadline:
                time.sleep(0.1)
            with open(m.path(".cmf", "status")) as f:
                mounted_status = f.read()
            journal = m.journal()
        finally:
            m.umount()
        refused = cmffs("push", m.ws, check=False)
    finally:
        srv.shutdown()
        srv.server_close()
    push = cmffs("push", m.ws, check=False)        # now: connection refused
    status = cmffs("status", m.ws).stdout
    # the password is used: HTTP basic authentication
    assert Recording.auth and Recording.auth[0] == "Basic " + base64.b64encode(
        f"alice:{secret}".encode()).decode()
    assert push.returncode != 0 and "alice:***@127.0.0.1" in push.stderr, push.stderr
    assert "alice:***@" in status and "alice:***@" in mounted_status
    for text in (mounted_status, journal, push.stderr, push.stdout, status,
                 refused.stderr, m.daemon_log()):
        assert secret not in text
    for name in os.listdir(m.ws):
        path = os.path.join(m.ws, name)
        if name.startswith("mlmd"):
            with open(path, "rb") as f:
                assert secret.encode() not in f.read(), name


def test_secret_key_from_a_file_or_the_environment(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file-secret\n")
    ws = str(tmp_path / "ws1")
    cmffs("init", ws, "--storage", "s3", "--url", "s3://b/p", "--endpoint-url",
          "http://127.0.0.1:9", "--access-key-id", "AK", "--secret-key-file",
          str(secret_file))
    with open(os.path.join(ws, ".cmfconfig")) as f:
        text = f.read()
    assert "secret-key = from-file-secret\n" in text
    ws2 = str(tmp_path / "ws2")
    env = dict(os.environ, AWS_SECRET_ACCESS_KEY="from-env-secret",
               AWS_ACCESS_KEY_ID="AKENV")
    r = subprocess.run([CMFFS, "init", ws2, "--storage", "s3", "--url", "s3://b/p",
                        "--endpoint-url", "http://127.0.0.1:9"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(ws2, ".cmfconfig")) as f:
        text = f.read()
    assert "from-env-secret" in text and "AKENV" in text
    # a FIFO is refused at once, not read forever
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    r = cmffs("init", str(tmp_path / "ws3"), "--storage", "s3", "--url", "s3://b/p",
              "--endpoint-url", "http://127.0.0.1:9", "--access-key-id", "AK",
              "--secret-key-file", fifo, check=False, timeout=10)
    assert r.returncode != 0 and r.stderr.count("\n") == 1
    assert r.stderr.startswith("cmffs: ") and "regular file" in r.stderr


def python_mkdir(run, env, timeout=30):
    """mkdir of an execution by a Python process (its environment is read)."""
    def big_stack():    # ARG_MAX is a quarter of the stack limit at execve
        resource.setrlimit(resource.RLIMIT_STACK, (64 << 20, 64 << 20))
    return subprocess.run(
        ["/usr/bin/python3", "-c", "import os, sys; os.mkdir(sys.argv[1])", run],
        env=env, capture_output=True, text=True, timeout=timeout,
        preexec_fn=big_stack)


def test_fifo_in_site_packages_does_not_hang_mkdir(mounted, tmp_path):
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    (site / "good-1.0.dist-info").mkdir(parents=True)
    (site / "good-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: good\nVersion: 1.0\n\nbody\n")
    (site / "evil-1.0.dist-info").mkdir()
    os.mkfifo(site / "evil-1.0.dist-info" / "METADATA")
    run = mounted.path("pipelines", "py", "s", "r1")
    mkexec(os.path.dirname(run))
    r = python_mkdir(run, dict(os.environ, VIRTUAL_ENV=str(venv)))
    assert r.returncode == 0, r.stderr
    env_dir = os.path.join(run, "inputs", "cmf_artifacts")
    (name,) = os.listdir(env_dir)
    with open(os.path.join(env_dir, name)) as f:
        assert f.read() == "good==1.0\n"


def test_environment_over_four_mib_is_read_safely(mounted, tmp_path):
    """/proc/PID/environ past the reader's 4 MiB cap (was a use after free)."""
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    (site / "pkg-2.0.dist-info").mkdir(parents=True)
    (site / "pkg-2.0.dist-info" / "METADATA").write_text("Name: pkg\nVersion: 2.0\n")
    env = dict(os.environ)
    for i in range(40):                      # 40 x 127 KiB = ~5 MiB
        env[f"CMFFS_BIG_{i}"] = "x" * (127 * 1024)
    env["VIRTUAL_ENV"] = str(venv)           # after the big ones
    run = mounted.path("pipelines", "py", "s", "big")
    mkexec(os.path.dirname(run))
    r = python_mkdir(run, env)
    assert r.returncode == 0, r.stderr
    with open(f"/proc/{mounted.proc.pid}/status") as f:
        assert "State:" in f.read()          # the daemon is alive
    assert os.path.isdir(run)


def test_stat_does_not_wait_for_a_closing_file(mounted, execution):
    """A file written out of order is re-hashed at close; stat of it
    meanwhile answers at once instead of waiting for the hash.  Checked by
    state, not by time: when stat returns, the file is not logged yet."""
    path = os.path.join(execution, "outputs", "big.bin")
    size = 768 << 20
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    os.pwrite(fd, b"z", size - 1)                # out of order: stale hash
    block = os.urandom(1 << 20)
    for off in range(0, size - (1 << 20), 1 << 20):
        os.pwrite(fd, block, off)
    logged = ("SELECT count(*) FROM cmffs_entry WHERE name = 'big.bin'"
              " AND artifact_id IS NOT NULL")
    t = threading.Thread(target=os.close, args=(fd,))
    t.start()
    time.sleep(0.1)
    st = os.stat(path)
    during = mounted.sql(logged)
    t.join()
    assert st.st_size == size
    assert during == [(0,)], "stat waited for the re-hash and commit"
    assert mounted.sql(logged) == [(1,)]


def test_property_rename_keeps_its_typed_value(tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    m.init()
    m.mount()
    try:
        run = m.path("pipelines", "p", "s", "e")
        mkexec(run)
        with open(os.path.join(run, "properties", "lr"), "w") as f:
            f.write("0.5\n")
    finally:
        m.umount()
    # a string that looks like a number, as an imported document brings it
    db = sqlite3.connect(os.path.join(m.ws, "mlmd"))
    db.execute("UPDATE ExecutionProperty SET double_value = NULL,"
               " string_value = '007' WHERE name = 'lr'")
    db.commit()
    db.close()
    m.mount()
    try:
        props = m.path("pipelines", "p", "s", "e", "properties")
        os.rename(os.path.join(props, "lr"), os.path.join(props, "rate"))
        assert "rate" in os.listdir(props) and "lr" not in os.listdir(props)
        with open(os.path.join(props, "rate")) as f:
            assert f.read().strip() == "007"
        assert m.sql("SELECT int_value, double_value, string_value FROM"
                     " ExecutionProperty WHERE name = 'rate' AND"
                     " is_custom_property = 1") == [(None, None, "007")]
        assert m.sql("SELECT count(*) FROM ExecutionProperty WHERE name = 'lr'") == [(0,)]
    finally:
        m.umount()


def test_xattr_property_key_follows_the_name_rules(mounted, execution):
    f = os.path.join(execution, "outputs", "f")
    with open(f, "wb") as fh:
        fh.write(b"f")
    os.setxattr(f, "user.cmf.prop.ok", b"1")
    before = len(mounted.journal().splitlines())
    for key in ("user.cmf.prop.bad\nkey", "user.cmf.prop.a:b"):
        with pytest.raises(OSError) as e:
            os.setxattr(f, key, b"1")
        assert e.value.errno == 22
    assert len(mounted.journal().splitlines()) == before + 2
    assert [k for k in os.listxattr(f) if k.startswith("user.cmf.prop.")] == \
        ["user.cmf.prop.ok"]


def test_empty_metrics_json_is_refused(mounted, execution):
    metrics = os.path.join(execution, "metrics")
    # each on a name of its own: a refused name vanishes from the store at
    # once, from the kernel's name cache only after its 1 s entry timeout
    for name, make_empty in (
            ("a", lambda p: open(p, "w").close()),
            ("b", lambda p: subprocess.run(["sh", "-c", ': > "$1"', "sh", p])),
            ("c", lambda p: subprocess.run(["touch", p]))):
        before = len(mounted.journal().splitlines())
        path = os.path.join(metrics, name + ".json")
        try:
            make_empty(path)
        except OSError as e:
            assert e.errno == 22
        journal = mounted.journal().splitlines()
        assert len(journal) == before + 1 and "empty" in journal[-1], journal[before:]
    assert mounted.sql("SELECT count(*) FROM Artifact") == [(0,)]
    # the shell's open, dup2, close, write, close still logs once
    path = os.path.join(metrics, "m.json")
    subprocess.run(["sh", "-c", 'echo \'{"acc": 0.5}\' > "$1"', "sh", path], check=True)
    with open(path) as f:
        assert json.load(f) == {"acc": 0.5}
    assert mounted.sql("SELECT count(*) FROM Artifact") == [(1,)]
    # truncating the logged metrics to nothing is refused too
    with pytest.raises(OSError):
        open(path, "w").close()
    assert mounted.sql("SELECT count(*) FROM Artifact") == [(1,)]


def test_metrics_with_a_value_of_another_type_still_render(tmp_path):
    """A Metrics artifact whose property holds a bool (as a document from
    elsewhere may bring) reads back as that bool instead of failing."""
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    m.init()
    m.mount()
    run = m.path("pipelines", "p", "s", "e")
    try:
        mkexec(run)
        with open(os.path.join(run, "metrics", "m.json"), "w") as f:
            f.write('{"acc": 1, "flag": "x"}')
    finally:
        m.umount()
    db = sqlite3.connect(os.path.join(m.ws, "mlmd"))
    db.execute("UPDATE ArtifactProperty SET string_value = NULL, bool_value = 1"
               " WHERE name = 'flag'")
    db.commit()
    db.close()
    m.mount()
    try:
        with open(os.path.join(run, "metrics", "m.json")) as f:
            assert json.load(f) == {"acc": 1, "flag": True}
    finally:
        m.umount()


def test_artifact_record_shows_every_property(tmp_path):
    """The record of a Metrics artifact in artifacts/by-type shows a bool
    property (as an imported store may hold) instead of dropping it."""
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    m.init()
    m.mount()
    run = m.path("pipelines", "p", "s", "e")
    try:
        mkexec(run)
        with open(os.path.join(run, "metrics", "m.json"), "w") as f:
            f.write('{"acc": 0.5, "flag": "x"}')
    finally:
        m.umount()
    m.sql_exec("UPDATE ArtifactProperty SET string_value = NULL, bool_value = 1"
               " WHERE name = 'flag'")
    m.mount()
    try:
        metrics = m.path("artifacts", "by-type", "Metrics")
        (name,) = os.listdir(metrics)
        with open(os.path.join(metrics, name)) as f:
            rec = json.load(f)
        assert rec["custom_properties"] == {"acc": 0.5, "flag": True}
    finally:
        m.umount()
