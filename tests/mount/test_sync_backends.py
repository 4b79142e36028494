# SPDX-License-Identifier: MIT
"""The same background sync, pull and verified fetch over the real remote
backends that scripts/test starts on 127.0.0.1: SFTP on OpenSSH's sshd,
OSDF (HTTPS PUT/GET with a bearer token) on nginx.  Each case skips when
its server is not running."""
import hashlib
import os
import urllib.parse
import uuid

import pytest

from conftest import Mount, cmffs, fuse_usable
from servers import RefServer, wait_for


def backend(kind, tag):
    """(cmffs init storage arguments, local path where objects land)."""
    if kind == "ssh":
        url = os.environ.get("CMFFS_SSH_URL")
        if not url:
            pytest.skip("no sshd (scripts/test starts one)")
        url = f"{url}/{tag}"
        root = urllib.parse.urlparse(url).path
        return (["--storage", "ssh", "--url", url, "--key",
                 os.environ["CMFFS_SSH_KEY"], "--host-key-sha256",
                 os.environ["CMFFS_SSH_HOSTKEY"]], root)
    url = os.environ.get("CMFFS_OSDF_URL")
    if not url:
        pytest.skip("no nginx (scripts/test starts one)")
    data = os.path.join(os.path.dirname(os.environ["CMFFS_OSDF_CA"]), "data")
    path = urllib.parse.urlparse(url).path
    return (["--storage", "osdf", "--url", f"{url}/{tag}", "--token",
             os.environ["CMFFS_OSDF_TOKEN_FILE"], "--ca-file",
             os.environ["CMFFS_OSDF_CA"]], os.path.join(data, path.lstrip("/"), tag))


@pytest.mark.parametrize("kind", ["ssh", "osdf"])
def test_push_pull_fetch(tmp_path, kind):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    args, root = backend(kind, uuid.uuid4().hex)
    server = RefServer(tmp_path / "server").start()
    try:
        (tmp_path / "a").mkdir()
        a = Mount(tmp_path / "a")
        cmffs("init", a.ws, *args, "--server-url", server.url,
              "--sync-interval", "1")
        a.mount()
        try:
            run = a.path("pipelines", "p", "s", "e")
            os.makedirs(run)
            data = os.urandom(300_000)
            with open(os.path.join(run, "outputs", "w.bin"), "wb") as f:
                f.write(data)
            h = hashlib.md5(data).hexdigest()
            obj = os.path.join(root, "files", "md5", h[:2], h[2:])
            wait_for(lambda: os.path.exists(obj), what=f"the object over {kind}")
            with open(obj, "rb") as f:
                assert f.read() == data
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
        os.makedirs(m.path("pipelines", "p", "s", "e"))
        with open(m.path("pipelines", "p", "s", "e", "outputs", "x"), "wb") as f:
            f.write(b"x")
    finally:
        m.umount()
    r = cmffs("push", ws, check=False)
    assert r.returncode != 0 and "does not match the pinned" in r.stderr
