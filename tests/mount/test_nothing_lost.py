# SPDX-License-Identifier: MIT
"""Nothing logged is lost: every version ever logged reaches the storage,
whatever happened to the file tree since; untrusted text stays one line;
secrets stay out of what is printed."""
import hashlib
import os

from conftest import cmffs


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
