# SPDX-License-Identifier: MIT
"""Provenance of an execution made by another user in a mount shared with
allow_other: the daemon (root) reads the caller's repository as the caller
would, and a repository the caller does not own is not reported (git's
"dubious ownership" rule), however readable it is."""
import os
import shutil
import subprocess

import pytest

from conftest import fuse_usable, mkexec

UID = 4242


@pytest.fixture
def shared(request, tmp_path, monkeypatch):
    """The `mounted` workspace, mounted with -o allow_other so that other
    users reach it."""
    if not fuse_usable() or os.geteuid() != 0:
        pytest.skip("needs root and /dev/fuse")
    if not shutil.which("git") or not shutil.which("setpriv"):
        pytest.skip("needs git and setpriv")
    # the other user walks to the repositories and the mountpoint (pytest's
    # own base directory, /tmp/pytest-of-root, is 0700: search rights on
    # every ancestor, nothing more)
    os.chmod(tmp_path, 0o755)
    for p in tmp_path.parents:
        if str(p) == "/":
            break
        os.chmod(p, os.stat(p).st_mode | 0o011)
    popen = subprocess.Popen

    def with_allow_other(args, **kw):
        if args[1:2] == ["mount"]:
            args = [*args, "-o", "allow_other"]
        return popen(args, **kw)

    monkeypatch.setattr(subprocess, "Popen", with_allow_other)
    m = request.getfixturevalue("mounted")
    monkeypatch.undo()
    return m


def git_repo(path, remote):
    env = dict(os.environ, HOME=str(path), GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=env)
    subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote],
                   check=True, env=env)
    (path / "f").write_text(remote)
    subprocess.run(["git", "-C", str(path), "add", "f"], check=True, env=env)
    subprocess.run(["git", "-C", str(path), "-c", "user.name=t", "-c",
                    "user.email=t@t", "commit", "-q", "-m", "c"],
                   check=True, env=env)
    return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"],
                          check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def mkdir_as(uid, cwd, path):
    subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}",
                    "--clear-groups", "sh", "-c", 'mkdir "$1"', "sh", path],
                   cwd=cwd, check=True)


def git_props(mounted, name):
    return dict(mounted.sql(
        "SELECT p.name, p.string_value FROM ExecutionProperty p JOIN"
        " Execution x ON x.id = p.execution_id WHERE x.name = ? AND"
        " p.name LIKE 'Git_%'", (name,)))


def test_provenance_is_read_as_the_caller(shared, tmp_path):
    theirs, roots = tmp_path / "theirs", tmp_path / "roots"
    commit = git_repo(theirs, "https://example.org/theirs.git")
    git_repo(roots, "https://example.org/roots.git")
    subprocess.run(["chown", "-R", f"{UID}:{UID}", str(theirs)], check=True)
    stage = shared.path("pipelines", "p", "s")
    mkexec(stage)
    os.chown(stage, UID, UID)

    # in a repository of their own: recorded
    mkdir_as(UID, theirs, os.path.join(stage, "e1"))
    props = git_props(shared, "e1")
    assert props["Git_Repo"] == "https://example.org/theirs.git", props
    assert props["Git_Start_Commit"] == commit, props

    # in root's world-readable repository: not theirs, nothing recorded
    mkdir_as(UID, roots, os.path.join(stage, "e2"))
    props = git_props(shared, "e2")
    assert props.get("Git_Repo", "") == "", props
    assert props.get("Git_Start_Commit", "") == "", props

    # root in the other user's repository: refused as git refuses it
    subprocess.run(["mkdir", os.path.join(stage, "e3")], cwd=theirs,
                   check=True)
    props = git_props(shared, "e3")
    assert props.get("Git_Repo", "") == "", props
