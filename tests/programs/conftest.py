# SPDX-License-Identifier: MIT
"""Real programs run in the mount: helpers shared by tests/programs.

Every test runs a program twice, for real: first in a plain directory on
the local disk (what ext4 gives: exit status, resulting files and their
bytes), then in an execution's outputs/ (or inputs/) of a mounted
workspace.  It then checks that the two runs agree, and that the store
holds exactly one artifact per resulting file, with its final MD5, and
nothing else: no journal, lock, swap or scratch file, no partial version.

The mount fixtures are tests/mount/conftest.py's, loaded under the name
mount_conftest (this file is the "conftest" the tests here import).
"""
import hashlib
import importlib.util
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
MOUNT_TESTS = os.path.join(os.path.dirname(HERE), "mount")
PYTHON = "/usr/bin/python3"

_spec = importlib.util.spec_from_file_location(
    "mount_conftest", os.path.join(MOUNT_TESTS, "conftest.py"))
mount_conftest = importlib.util.module_from_spec(_spec)
sys.modules["mount_conftest"] = mount_conftest
_spec.loader.exec_module(mount_conftest)

CMFFS = mount_conftest.CMFFS
Mount = mount_conftest.Mount
cmffs = mount_conftest.cmffs
fuse_usable = mount_conftest.fuse_usable
mkexec = mount_conftest.mkexec
mounted = mount_conftest.mounted        # fixtures, registered here too
execution = mount_conftest.execution

OUTPUT, INPUT = 4, 3                    # MLMD event types


def md5(data):
    return hashlib.md5(data).hexdigest()


def need_program(name):
    """Skip unless the binary @name is installed (scripts/test installs it)."""
    if not __import__("shutil").which(name):
        pytest.skip(f"{name} is not installed (scripts/install-deps test)")


def need_module(name):
    """Skip unless /usr/bin/python3 can import @name."""
    r = subprocess.run([PYTHON, "-c", f"import {name}"], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"python3 module {name} is not installed "
                    "(scripts/install-deps test)")


def run(cmd, cwd=None, env=None, input=None, timeout=600):
    """Run @cmd (a list, or a string for bash) for real; never raises on a
    non-zero exit status: the caller compares it with the disk's."""
    if isinstance(cmd, str):
        cmd = ["bash", "-c", cmd]
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(cmd, cwd=cwd, env=full_env, input=input,
                          capture_output=True, timeout=timeout)


def py(script, *args, cwd=None, env=None):
    """/usr/bin/python3 -c @script ARGS..."""
    return run([PYTHON, "-c", script, *map(str, args)], cwd=cwd, env=env)


def snapshot(root, skip=()):
    """{relative path: bytes} of every regular file below @root, and
    {relative path + "/": None} for every directory.  Paths in @skip (and
    below them) are left out."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = [d for d in dirnames if rel_dir + d not in skip]
        for d in dirnames:
            out[rel_dir + d + "/"] = None
        for f in filenames:
            rel = rel_dir + f
            if rel in skip:
                continue
            p = os.path.join(dirpath, f)
            if os.path.islink(p):
                out[rel] = ("symlink", os.readlink(p))
                continue
            with open(p, "rb") as fh:
                out[rel] = fh.read()
    return out


def files_of(snap):
    """The regular files of a snapshot: {relative path: bytes}."""
    return {k: v for k, v in snap.items() if isinstance(v, bytes)}


def describe(rc):
    return f"exit {rc.returncode}\nstdout: {rc.stdout[-2000:]!r}\n" \
           f"stderr: {rc.stderr[-4000:]!r}"


def same_as_disk(disk_runs, mount_runs, disk_snap, mount_snap):
    """The mount gave the disk's exit statuses and the disk's files, names
    and bytes."""
    assert len(disk_runs) == len(mount_runs)
    for d, m in zip(disk_runs, mount_runs):
        assert d.returncode == 0, "on disk: " + describe(d)
        assert m.returncode == d.returncode, "in the mount: " + describe(m)
    only_disk = sorted(set(disk_snap) - set(mount_snap))
    only_mount = sorted(set(mount_snap) - set(disk_snap))
    assert not only_disk and not only_mount, \
        f"only on disk: {only_disk}; only in the mount: {only_mount}"
    differ = sorted(k for k in disk_snap if disk_snap[k] != mount_snap[k])
    assert not differ, f"bytes differ from the disk's: {differ}"


def both(tmp_path, target, scenario, skip=(), adjust=None):
    """Run @scenario(directory) -> [CompletedProcess...] first in a fresh
    directory on disk, then in @target (in the mount); check that both give
    the same exit statuses and files.  @adjust {path: f(disk bytes)} states
    a known difference: the mount's file must be f of the disk's.  Returns
    the mount's snapshot."""
    disk = tmp_path / "disk"
    os.makedirs(disk)
    disk_runs = scenario(str(disk))
    disk_snap = snapshot(str(disk), skip)
    for path, f in (adjust or {}).items():
        assert path in disk_snap, path
        disk_snap[path] = f(disk_snap[path])
    mount_runs = scenario(target)
    mount_snap = snapshot(target, skip)
    same_as_disk(disk_runs, mount_runs, disk_snap, mount_snap)
    return mount_snap


def artifact_type(rel):
    top = rel.split("/", 1)[0]
    return {"models": "Model", "labels": "Label"}.get(top, "Dataset")


def logged(m):
    """[(artifact path, md5, type, event type, execution name)] of every
    event, the path being the artifact name's part before its first ':'."""
    rows = m.sql(
        "SELECT a.name, a.uri, t.name, ev.type, e.name FROM Event ev"
        " JOIN Artifact a ON a.id = ev.artifact_id"
        " JOIN Type t ON t.id = a.type_id"
        " JOIN Execution e ON e.id = ev.execution_id ORDER BY ev.id")
    return [(n.split(":", 1)[0], u, t, ev, e) for n, u, t, ev, e in rows]


def check_store(m, files, prefix="", history=(), event=OUTPUT, any_version=()):
    """The store holds exactly the artifacts of @files ({path: bytes}, paths
    relative to the side, prefixed with @prefix in artifact names), one
    per distinct (type, bytes), named after one of the files with those
    bytes, plus the earlier versions @history [(path, bytes)] a user would
    name too; no other artifact, and every event is an @event of one of
    them.  Artifacts of the paths in @any_version may be earlier versions
    of any bytes (a file whose intermediate bytes cannot be predicted).
    Returns the rows of logged()."""
    want = {}                    # (type, md5) -> set of allowed paths
    for rel, data in files.items():
        path = prefix + rel
        want.setdefault((artifact_type(path), md5(data)), set()).add(path)
    for rel, data in history:
        path = prefix + rel
        want.setdefault((artifact_type(path), md5(data)), set()).add(path)
    rows = m.sql("SELECT a.name, a.uri, t.name FROM Artifact a"
                 " JOIN Type t ON t.id = a.type_id ORDER BY a.id")
    got = [(n.split(":", 1)[0], u, t) for n, u, t in rows]
    for g in got:
        if prefix + g[0] in any_version or g[0] in any_version:
            want.setdefault((g[2], g[1]), set()).add(g[0])
    stray = [g for g in got if (g[2], g[1]) not in want or
             g[0] not in want[(g[2], g[1])]]
    assert not stray, f"artifacts no resulting file accounts for: {stray}"
    keys = [(t, u) for _, u, t in got]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    assert not dup, f"more than one artifact for the same bytes: {dup}"
    missing = sorted(set(want) - set(keys))
    assert not missing, \
        f"resulting files with no artifact: {[(want[k], k) for k in missing]}"
    ev = logged(m)
    assert all(e[3] == event for e in ev), ev
    assert {(e[2], e[1]) for e in ev} == set(want), \
        "every artifact has an event of its execution"
    return ev


def journal_lines(m):
    return [l for l in m.journal().splitlines() if l.strip()]


def wait_for(predicate, timeout=30, what="condition"):
    """Poll @predicate until it holds (release is asynchronous)."""
    deadline = time.time() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
