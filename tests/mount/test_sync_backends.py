# SPDX-License-Identifier: MIT
"""The same background sync, pull and verified fetch over the real remote
backends that scripts/test starts on 127.0.0.1: SFTP on OpenSSH's sshd,
OSDF (HTTPS PUT/GET with a bearer token) on nginx.  Each case skips when
its server is not running."""
import hashlib
import os
import subprocess
import time
import urllib.parse
import uuid

import pytest

from conftest import Mount, cmffs, fuse_usable, mkexec
from servers import RefServer, S3FaultProxy, wait_for


def s3_get(key):
    """The bytes of @key in the test bucket, or None (curl signs SigV4)."""
    r = subprocess.run(
        ["curl", "-sf", "--aws-sigv4", "aws:amz:us-east-1:s3", "--netrc-file",
         os.environ["CMFFS_S3_NETRC"], "-H",
         "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         f"{os.environ['CMFFS_S3_ENDPOINT']}/{os.environ['CMFFS_S3_BUCKET']}/{key}"],
        capture_output=True)
    return r.stdout if r.returncode == 0 else None


def backend(kind, tag):
    """(cmffs init storage arguments, read(h) giving an object's bytes)."""
    if kind == "s3":
        if not os.environ.get("CMFFS_S3_ENDPOINT"):
            pytest.skip("no S3 server (scripts/test starts Swift)")
        return (["--storage", "s3", "--url",
                 f"s3://{os.environ['CMFFS_S3_BUCKET']}/{tag}",
                 "--endpoint-url", os.environ["CMFFS_S3_ENDPOINT"],
                 "--access-key-id", os.environ["CMFFS_S3_KEY"],
                 "--secret-key", os.environ["CMFFS_S3_SECRET"]],
                lambda h: s3_get(f"{tag}/files/md5/{h[:2]}/{h[2:]}"))
    if kind == "ssh":
        url = os.environ.get("CMFFS_SSH_URL")
        if not url:
            pytest.skip("no sshd (scripts/test starts one)")
        url = f"{url}/{tag}"
        root = urllib.parse.urlparse(url).path
        return (["--storage", "ssh", "--url", url, "--key",
                 os.environ["CMFFS_SSH_KEY"], "--host-key-sha256",
                 os.environ["CMFFS_SSH_HOSTKEY"]], local_reader(root))
    url = os.environ.get("CMFFS_OSDF_URL")
    if not url:
        pytest.skip("no nginx (scripts/test starts one)")
    data = os.path.join(os.path.dirname(os.environ["CMFFS_OSDF_CA"]), "data")
    path = urllib.parse.urlparse(url).path
    return (["--storage", "osdf", "--url", f"{url}/{tag}", "--token",
             os.environ["CMFFS_OSDF_TOKEN_FILE"], "--ca-file",
             os.environ["CMFFS_OSDF_CA"]],
            local_reader(os.path.join(data, path.lstrip("/"), tag)))


def local_reader(root):
    def read(h):
        try:
            with open(os.path.join(root, "files", "md5", h[:2], h[2:]), "rb") as f:
                return f.read()
        except OSError:
            return None
    return read


@pytest.mark.parametrize("kind", ["s3", "ssh", "osdf"])
def test_push_pull_fetch(tmp_path, kind):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    args, read = backend(kind, uuid.uuid4().hex)
    server = RefServer(tmp_path / "server").start()
    try:
        (tmp_path / "a").mkdir()
        a = Mount(tmp_path / "a")
        cmffs("init", a.ws, *args, "--server-url", server.url,
              "--sync-interval", "1")
        a.mount()
        try:
            run = a.path("pipelines", "p", "s", "e")
            mkexec(run)
            data = os.urandom(300_000)
            with open(os.path.join(run, "outputs", "w.bin"), "wb") as f:
                f.write(data)
            h = hashlib.md5(data).hexdigest()
            wait_for(lambda: read(h) == data, what=f"the object over {kind}")
            wait_for(lambda: server.pull("p"), what="the pipeline on the server")
        finally:
            a.umount()
        (tmp_path / "b").mkdir()
        b = Mount(tmp_path / "b")
        cmffs("init", b.ws, *args, "--server-url", server.url)
        cmffs("pull", b.ws, "p")
        b.mount()
        try:
            with open(b.path("pipelines", "p", "s", "e", "outputs", "w.bin"), "rb") as f:
                assert f.read() == data
        finally:
            b.umount()
    finally:
        server.stop()


def test_ssh_host_key_is_never_trusted_blindly(tmp_path):
    args, _ = backend("ssh", "pin")
    i = args.index("--host-key-sha256")
    del args[i:i + 2]
    r = cmffs("init", str(tmp_path / "w"), *args, check=False)
    assert r.returncode != 0 and "host-key-sha256" in r.stderr
    ws = str(tmp_path / "w2")
    bad = args + ["--host-key-sha256", "A" * 43]
    cmffs("init", ws, *bad)
    if not fuse_usable():
        return
    m = Mount(tmp_path)
    m.ws = ws
    m.mount()
    try:
        mkexec(m.path("pipelines", "p", "s", "e"))
        with open(m.path("pipelines", "p", "s", "e", "outputs", "x"), "wb") as f:
            f.write(b"x")
    finally:
        m.umount()
    r = cmffs("push", ws, check=False)
    assert r.returncode != 0 and "does not match the pinned" in r.stderr


def restart_swift(script, swift, port):
    """Start the stopped Swift again: the same test server the other tests
    use, so a start that fails (a port of the stopped one not yet free, on
    a loaded machine) is tried again before the test gives up, and says
    why."""
    err = ""
    for attempt in range(3):
        r = subprocess.run([script, "start", swift, port], capture_output=True, text=True)
        if r.returncode == 0:
            return
        err = r.stderr
        time.sleep(2)
    raise AssertionError(f"Swift did not start again: {err}")


def test_storage_outage_mid_run(tmp_path):
    """S3 goes down while artifacts are being logged, comes back: nothing
    is lost and everything reaches the storage and then the server."""
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    args, read = backend("s3", uuid.uuid4().hex)
    swift = os.environ.get("CMFFS_S3_SWIFT_DIR")
    if not swift:
        pytest.skip("the Swift server is not ours to stop")
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "servers", "swift.sh")
    server = RefServer(tmp_path / "server").start()
    (tmp_path / "a").mkdir()
    a = Mount(tmp_path / "a")
    cmffs("init", a.ws, *args, "--server-url", server.url, "--sync-interval", "1")
    a.mount()
    try:
        run = a.path("pipelines", "o", "s", "e")
        mkexec(run)
        first = os.urandom(50_000)
        with open(os.path.join(run, "outputs", "first.bin"), "wb") as f:
            f.write(first)
        wait_for(lambda: read(hashlib.md5(first).hexdigest()) == first,
                 what="the first object")
        subprocess.run([script, "stop", swift], check=True, capture_output=True)
        try:
            later = [os.urandom(20_000 + i) for i in range(5)]
            for i, b in enumerate(later):
                with open(os.path.join(run, "outputs", f"later{i}.bin"), "wb") as f:
                    f.write(b)
            wait_for(lambda: "sync failed" in a.journal(), what="the outage in the journal")
            with open(a.path(".cmf", "status")) as f:
                assert "objects pending: 0" not in f.read()
        finally:
            restart_swift(script, swift, os.environ["CMFFS_S3_PORT"])
        for b in later:
            wait_for(lambda b=b: read(hashlib.md5(b).hexdigest()) == b,
                     timeout=120, what="the objects after the outage")
        wait_for(lambda: any(len(e["events"]) == 6 for p in (server.pull("o") or {"Pipeline": []})["Pipeline"]
                             for s in p["stages"] for e in s["executions"]),
                 timeout=60, what="the execution on the server")
    finally:
        a.umount()
        server.stop()


def s3_uploads():
    """The test bucket's multipart uploads in progress (S3's XML)."""
    r = subprocess.run(
        ["curl", "-sf", "--aws-sigv4", "aws:amz:us-east-1:s3", "--netrc-file",
         os.environ["CMFFS_S3_NETRC"], "-H",
         "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         f"{os.environ['CMFFS_S3_ENDPOINT']}/{os.environ['CMFFS_S3_BUCKET']}?uploads="],
        capture_output=True, text=True, check=True)
    return r.stdout


def logged_workspace(tmp_path, files):
    """A workspace with @files (name: bytes) logged as outputs of one
    execution while no storage is configured: all of them pending."""
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    cmffs("init", m.ws)
    m.mount()
    try:
        run = m.path("pipelines", "p", "s", "e")
        mkexec(run)
        for name, data in files.items():
            with open(os.path.join(run, "outputs", name), "wb") as f:
                f.write(data)
    finally:
        m.umount()
    return m.ws


def set_s3_storage(ws, tag, endpoint, jobs):
    """Point @ws at s3://BUCKET/@tag through @endpoint, @jobs at once."""
    cfg = os.path.join(ws, ".cmfconfig")
    with open(cfg) as f:
        text = f.read()
    text = text.split("[storage]")[0].rstrip("\n") + "\n\n" if "[storage]" in text else text
    with open(cfg, "w") as f:
        f.write(text + f"[storage]\ntype = s3\nurl = s3://{os.environ['CMFFS_S3_BUCKET']}/{tag}\n"
                f"endpoint-url = {endpoint}\naccess-key-id = {os.environ['CMFFS_S3_KEY']}\n"
                f"secret-key = {os.environ['CMFFS_S3_SECRET']}\njobs = {jobs}\n")


BIG = 70 << 20          # a multipart upload of 5 parts


@pytest.mark.parametrize("jobs", [1, 4])
def test_parallel_push_is_byte_exact(tmp_path, jobs):
    """Many objects and a multipart one pushed jobs at a time: each one
    under files/md5/ab/cdef..., byte for byte."""
    args, read = backend("s3", uuid.uuid4().hex)
    tag = args[args.index("--url") + 1].rsplit("/", 1)[1]
    files = {f"small{i}.bin": os.urandom(1000 + 97 * i) for i in range(40)}
    files["big.bin"] = os.urandom(BIG + 12345)
    ws = logged_workspace(tmp_path, files)
    set_s3_storage(ws, tag, os.environ["CMFFS_S3_ENDPOINT"], jobs)
    r = cmffs("push", ws, timeout=300)
    assert f"pushed {len(files)} object(s) ({sum(map(len, files.values()))} bytes)" in r.stdout
    for name, data in files.items():
        assert read(hashlib.md5(data).hexdigest()) == data, name
    assert tag not in s3_uploads()
    # all confirmed: a second push sends nothing
    assert "pushed 0 object(s)" in cmffs("push", ws).stdout


def test_failed_part_leaves_no_object(tmp_path):
    """Part 3 of every multipart upload fails (500 from a proxy) while the
    other parts and objects are in flight: the push fails with one line
    naming the part, no multipart object appears under its key, no upload
    is left open, and the next push completes everything."""
    args, read = backend("s3", uuid.uuid4().hex)
    tag = args[args.index("--url") + 1].rsplit("/", 1)[1]
    big = [os.urandom(BIG + i) for i in range(2)]
    small = [os.urandom(5000 + i) for i in range(6)]
    files = {f"big{i}.bin": b for i, b in enumerate(big)}
    files.update({f"small{i}.bin": b for i, b in enumerate(small)})
    ws = logged_workspace(tmp_path, files)
    proxy = S3FaultProxy(os.environ["CMFFS_S3_ENDPOINT"],
                         lambda method, path: method == "PUT" and "partNumber=3&" in path)
    proxy.start()
    try:
        set_s3_storage(ws, tag, proxy.url, 4)
        r = cmffs("push", ws, check=False, timeout=300)
    finally:
        proxy.stop()
    assert proxy.failed
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "(part 3): 500 InternalError" in lines[0], lines[0]
    for b in big:
        assert read(hashlib.md5(b).hexdigest()) is None
    for b in small:
        assert read(hashlib.md5(b).hexdigest()) in (None, b)
    assert tag not in s3_uploads()

    set_s3_storage(ws, tag, os.environ["CMFFS_S3_ENDPOINT"], 4)
    cmffs("push", ws, timeout=300)
    for name, data in files.items():
        assert read(hashlib.md5(data).hexdigest()) == data, name
