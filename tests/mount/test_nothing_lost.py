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
