# SPDX-License-Identifier: MIT
"""Fixtures that make a workspace and mount it for real with libfuse.

Tests run as root (or anyone who can open /dev/fuse); without /dev/fuse
they are skipped, not failed.  CMFFS_BIN names the binary under test.
"""
import os
import sqlite3
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CMFFS = os.environ.get("CMFFS_BIN", os.path.join(ROOT, "build", "cli", "cmffs"))


def fuse_usable():
    try:
        fd = os.open("/dev/fuse", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


def cmffs(*args, check=True, timeout=60):
    r = subprocess.run([CMFFS, *args], capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"cmffs {' '.join(args)} failed: {r.stderr}")
    return r


class Mount:
    """A mounted workspace: .ws, .mnt, .remote, helpers for SQL."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.ws = str(tmp / "ws")
        self.mnt = str(tmp / "mnt")
        self.remote = str(tmp / "remote")
        self.proc = None
        self.log = None
        os.makedirs(self.mnt, exist_ok=True)
        os.makedirs(self.remote, exist_ok=True)

    def init(self):
        cmffs("init", self.ws, "--storage", "local", "--path", self.remote)

    def mount(self):
        self.log = open(self.tmp / "daemon.log", "ab")
        self.proc = subprocess.Popen(
            [CMFFS, "mount", self.ws, self.mnt, "-f"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not os.path.ismount(self.mnt):
            if self.proc.poll() is not None:
                raise AssertionError("daemon exited: " + self.daemon_log())
            if time.time() > deadline:
                raise AssertionError("mount did not appear: " + self.daemon_log())
            time.sleep(0.05)

    def umount(self):
        r = cmffs("umount", self.mnt, check=False)
        assert r.returncode == 0, r.stderr
        rc = self.proc.wait(timeout=60)
        self.log.close()
        self.proc = None
        log = self.daemon_log()
        assert rc == 0, f"daemon exit status {rc}: {log}"
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            assert bad not in log, log

    def daemon_log(self):
        try:
            return (self.tmp / "daemon.log").read_text(errors="replace")
        except OSError:
            return ""

    def force_unmount(self):
        subprocess.run(["fusermount3", "-u", "-z", self.mnt],
                       capture_output=True)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def path(self, *parts):
        return os.path.join(self.mnt, *parts)

    def flush(self):
        """Commit the mount's batch of logged changes to WS/mlmd, as any
        program can: fsync() of a directory of the mount (`sync MNT`)."""
        if self.proc and self.proc.poll() is None and os.path.ismount(self.mnt):
            fd = os.open(self.mnt, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def sql(self, query, args=()):
        self.flush()
        db = sqlite3.connect(os.path.join(self.ws, "mlmd"))
        try:
            return db.execute(query, args).fetchall()
        finally:
            db.close()

    def sql_exec(self, statement, args=()):
        self.flush()
        db = sqlite3.connect(os.path.join(self.ws, "mlmd"))
        try:
            db.execute(statement, args)
            db.commit()
        finally:
            db.close()

    def journal(self):
        with open(self.path(".cmf", "log")) as f:
            return f.read()


def recover(ws):
    """After a mount died: the store opens clean as it is, and the first
    cmffs command applies the redo log, in which the changes of the last
    batch wait (doc/design.md §6).  Returns how many bytes the log held."""
    db = sqlite3.connect(os.path.join(ws, "mlmd"))
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()
    redo = os.path.join(ws, ".cmf", "redo")
    held = os.path.getsize(redo) if os.path.exists(redo) else 0
    cmffs("status", ws)
    assert not os.path.exists(redo) or os.path.getsize(redo) == 0
    return held


@pytest.fixture
def mounted(tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    m.init()
    m.mount()
    ok = False
    try:
        yield m
        ok = True
    finally:
        if m.proc is not None:
            if ok:
                m.umount()
            else:
                m.force_unmount()


def mkexec(path):
    """mkdir -p of execution directories from a shell, not from Python:
    a Python caller gets its environment logged as an input (test_pyenv)."""
    subprocess.run(["sh", "-c", 'mkdir -p "$1"', "sh", str(path)], check=True)


@pytest.fixture
def execution(mounted):
    """pipelines/demo/prep/run1 made with mkdir."""
    path = mounted.path("pipelines", "demo", "prep", "run1")
    mkexec(path)
    return path
