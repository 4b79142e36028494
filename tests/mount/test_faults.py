# SPDX-License-Identifier: MIT
"""Crashes, concurrency and a full disk: the daemon is killed with SIGKILL
at random points of a logging run (every store still opens, passes
PRAGMA integrity_check, every file whose close() returned 0 is logged
with the right hash, no half-written object under a final cache name);
eight writers log into one stage at once; a full disk reaches the writer
and nothing is half-logged."""
import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from conftest import CMFFS, Mount, cmffs, fuse_usable, mkexec, recover
from servers import wait_for

WRITER = r"""
import hashlib, os, sys
run, log = sys.argv[1], sys.argv[2]
i = 0
with open(log, "a") as out:
    while True:
        # every fourth file is large enough to be hashed by a hasher thread
        size = 1000 + (i * 7919) % 300000
        if i % 4 == 3:
            size = (1 << 20) + (i * 104729) % (3 << 20)
        data = os.urandom(size)
        path = os.path.join(run, "outputs", f"f{i}.bin")
        f = open(path, "wb")
        f.write(data)
        f.close()                     # raises if the close failed
        out.write(f"f{i}.bin {hashlib.md5(data).hexdigest()}\n")
        out.flush()
        i += 1
"""


def check_store(ws, closed):
    recover(ws)
    db = sqlite3.connect(os.path.join(ws, "mlmd"))
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    logged = {}
    for name, uri in db.execute("SELECT name, uri FROM Artifact"):
        logged[name.split(":")[0]] = uri
    db.close()
    for name, h in closed:
        assert logged.get(name) == h, f"{name} closed with {h} but logged as {logged.get(name)}"
    cache = os.path.join(ws, ".cmf", "cache", "files", "md5")
    for d in os.listdir(cache):
        for rest in os.listdir(os.path.join(cache, d)):
            with open(os.path.join(cache, d, rest), "rb") as f:
                assert hashlib.md5(f.read()).hexdigest() == d + rest


@pytest.mark.parametrize("round_", range(8))
def test_kill_9_during_logging(tmp_path, round_):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    m.init()
    m.mount()
    run = m.path("pipelines", "crash", "s", "e")
    mkexec(run)
    log = tmp_path / "closed.txt"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, run, str(log)],
                              stderr=subprocess.DEVNULL)
    time.sleep(random.uniform(0.2, 1.5))
    m.proc.send_signal(signal.SIGKILL)
    m.proc.wait()
    writer.wait(timeout=30)             # its next FUSE call fails
    subprocess.run(["fusermount3", "-u", "-z", m.mnt], check=False)
    m.proc = None
    closed = [l.split() for l in log.read_text().splitlines()] if log.exists() else []
    check_store(m.ws, closed)
    # the workspace mounts again and the logged files read back
    m.mount()
    for name, h in closed[-3:]:
        with open(os.path.join(run, "outputs", name), "rb") as f:
            assert hashlib.md5(f.read()).hexdigest() == h
    m.umount()


def test_eight_concurrent_writers_into_one_stage(mounted):
    stage = mounted.path("pipelines", "conc", "s")
    runs = [os.path.join(stage, f"w{i}") for i in range(8)]
    for r in runs:
        mkexec(r)
    errors = []

    def work(i):
        try:
            for k in range(40):
                data = f"{i}-{k}".encode() * 100
                with open(os.path.join(runs[i], "outputs", f"k{k}"), "wb") as f:
                    f.write(data)
                with open(os.path.join(runs[i], "properties", f"p{k % 3}"), "w") as f:
                    f.write(str(k))
        except OSError as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert mounted.sql("SELECT count(*) FROM Event") == [(320,)]
    assert mounted.sql("SELECT count(*) FROM Artifact") == [(320,)]
    assert mounted.sql("SELECT count(*) FROM cmffs_entry WHERE is_dir = 0") == [(320,)]


def test_concurrent_large_writers(mounted):
    """Large files written by twelve threads at once, in chunks: more than
    the eight hasher threads cmffs runs at most, so some are hashed behind
    their writers and the rest in the write calls; each is logged with its
    own hash."""
    run = mounted.path("pipelines", "conc", "big", "r")
    mkexec(run)
    blobs = {f"b{i}.bin": os.urandom((2 << 20) + i * 77777) for i in range(24)}
    errors = []

    def work(names):
        try:
            for n in names:
                with open(os.path.join(run, "outputs", n), "wb") as f:
                    data = blobs[n]
                    for off in range(0, len(data), 131072):
                        f.write(data[off:off + 131072])
        except OSError as e:
            errors.append(e)

    names = sorted(blobs)
    threads = [threading.Thread(target=work, args=(names[i::12],)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    logged = dict((n.split(":")[0], u) for n, u in
                  mounted.sql("SELECT name, uri FROM Artifact"))
    for n, data in blobs.items():
        assert logged[n] == hashlib.md5(data).hexdigest()


def test_full_disk_reaches_the_writer(tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(small)],
                   check=True)
    try:
        m = Mount(small)
        cmffs("init", m.ws)
        m.mount()
        try:
            run = m.path("pipelines", "full", "s", "e")
            mkexec(run)
            with open(os.path.join(run, "outputs", "ok.bin"), "wb") as f:
                f.write(b"x" * 1000)
            with pytest.raises(OSError) as e:
                with open(os.path.join(run, "outputs", "big.bin"), "wb") as f:
                    for _ in range(64):
                        f.write(os.urandom(1 << 16))
            assert e.value.errno == 28          # ENOSPC
            names = [n for (n,) in m.sql("SELECT name FROM Artifact")]
            assert len(names) == 1 and names[0].startswith("ok.bin:")
            # the incomplete file goes once its last descriptor is released
            wait_for(lambda: not os.path.exists(os.path.join(run, "outputs", "big.bin")),
                     timeout=10, what="the incomplete file to go")
            assert "big.bin" in m.journal() or "discarded" in m.journal()
        finally:
            m.umount()
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


VERSIONS_WRITER = r"""
import hashlib, os, sys
run, log = sys.argv[1], sys.argv[2]
i = 0
with open(log, "a") as out:
    while True:
        # five names overwritten again and again: every version is logged
        size = 1000 + (i * 7919) % 200000
        if i % 3 == 2:
            size = (1 << 20) + (i * 104729) % (4 << 20)
        data = os.urandom(size)
        name = f"v{i % 5}.bin"
        with open(os.path.join(run, "outputs", name), "wb") as f:
            f.write(data)
        out.write(f"{name} {hashlib.md5(data).hexdigest()}\n")
        out.flush()
        i += 1
"""


def objects_in(remote):
    found, temporaries = {}, []
    for root, _, files in os.walk(remote):
        for f in files:
            path = os.path.join(root, f)
            rel = os.path.relpath(path, os.path.join(remote, "files", "md5"))
            oid = rel.replace("/", "", 1)
            if len(oid) == 32 and all(c in "0123456789abcdef" for c in oid):
                found[oid] = path
            else:
                temporaries.append(path)
    return found, temporaries


@pytest.mark.parametrize("round_", range(6))
def test_kill_9_during_push_loses_no_version(tmp_path, round_):
    """kill -9 while files are overwritten and the mount pushes in the
    background; then one full push: every version ever logged is in the
    storage with its bytes, and no temporary is left there."""
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    cmffs("init", m.ws, "--storage", "local", "--path", m.remote,
          "--sync-interval", "1")
    m.mount()
    run = m.path("pipelines", "crash", "s", "e")
    mkexec(run)
    log = tmp_path / "closed.txt"
    writer = subprocess.Popen([sys.executable, "-c", VERSIONS_WRITER, run, str(log)],
                              stderr=subprocess.DEVNULL)
    time.sleep(random.uniform(1.0, 3.0))
    m.proc.send_signal(signal.SIGKILL)
    m.proc.wait()
    writer.wait(timeout=30)
    subprocess.run(["fusermount3", "-u", "-z", m.mnt], check=False)
    m.proc = None
    closed = [l.split() for l in log.read_text().splitlines()] if log.exists() else []
    recover(m.ws)
    db = sqlite3.connect(os.path.join(m.ws, "mlmd"))
    logged = {(n.split(":")[0], u) for n, u in db.execute("SELECT name, uri FROM Artifact")}
    db.close()
    for name, h in closed:
        assert (name, h) in logged, f"version {h} of {name} closed but not logged"
    r = cmffs("push", m.ws, check=False)
    assert r.returncode == 0, r.stderr
    assert "objects pending: 0" in cmffs("status", m.ws).stdout
    found, temporaries = objects_in(m.remote)
    assert temporaries == [], temporaries
    for _, h in logged:
        assert h in found, f"logged object {h} is not in the storage"
        with open(found[h], "rb") as f:
            assert hashlib.md5(f.read()).hexdigest() == h
