# SPDX-License-Identifier: MIT
"""git init, add and commit inside outputs/: git's lock files
(index.lock, config.lock, HEAD.lock, refs' locks) and temporary objects
(tmp_obj_*) are scratch files and leave no artifact; git fsck is clean."""
import os

from conftest import (both, check_store, journal_lines, logged, mkexec,
                      need_program, run)

# fixed identity and dates: the commit's bytes are the same on both runs
GIT_ENV = {
    "GIT_AUTHOR_NAME": "A U Thor", "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "A U Thor", "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_TEMPLATE_DIR": "",             # no hooks/*.sample copies
}
GIT = ["git", "-c", "user.name=A U Thor", "-c", "user.email=author@example.com",
       "-c", "init.defaultBranch=main"]


def symlinks_false(config):
    """.git/config as git init writes it where symlink() fails: the [core]
    section (the only one) ends with symlinks = false."""
    assert config.count(b"[") == 1, config
    return config + b"\tsymlinks = false\n"


def scenario(d):
    repo = os.path.join(d, "repo")
    os.makedirs(os.path.join(repo, "src"))
    with open(os.path.join(repo, "src", "train.py"), "w") as f:
        f.write("print('train')\n" * 20)
    with open(os.path.join(repo, "README"), "w") as f:
        f.write("a model\n")
    runs = [run(GIT + ["init", "-q"], cwd=repo, env=GIT_ENV),
            run(GIT + ["add", "."], cwd=repo, env=GIT_ENV),
            run(GIT + ["commit", "-q", "-m", "first"], cwd=repo, env=GIT_ENV)]
    with open(os.path.join(repo, "README"), "a") as f:
        f.write("trained\n")
    runs += [run(GIT + ["commit", "-q", "-a", "-m", "second"], cwd=repo, env=GIT_ENV),
             run(GIT + ["tag", "v1"], cwd=repo, env=GIT_ENV)]
    return runs


def test_git_init_add_commit(mounted, execution, tmp_path):
    need_program("git")
    out = os.path.join(execution, "outputs")
    # .git/index caches st_dev, st_ino and times: its bytes cannot match
    # another filesystem's; it is compared by what git reads from it
    # and symbolic links are refused in the mount (they cannot be logged),
    # which git init notices and records in .git/config
    snap = both(tmp_path, out, scenario, skip={"repo/.git/index"},
                adjust={"repo/.git/config": symlinks_false})
    disk = str(tmp_path / "disk" / "repo")
    repo = os.path.join(out, "repo")
    for cmd in (["ls-files", "--stage"], ["log", "--format=%H %T %s"],
                ["status", "--porcelain"], ["rev-parse", "v1"]):
        a = run(GIT + cmd, cwd=disk, env=GIT_ENV)
        b = run(GIT + cmd, cwd=repo, env=GIT_ENV)
        assert a.returncode == 0 and (b.returncode, b.stdout) == (0, a.stdout), (cmd, b)
    fsck = run(GIT + ["fsck", "--full", "--strict"], cwd=repo, env=GIT_ENV)
    assert fsck.returncode == 0 and not fsck.stdout and not fsck.stderr, fsck
    with open(os.path.join(repo, ".git", "index"), "rb") as f:
        files = {k: v for k, v in snap.items() if v is not None}
        files["repo/.git/index"] = f.read()
    # the earlier versions a user would name: the files git rewrote
    history = earlier_versions(tmp_path)
    # Each rename of index.lock over the index, and of config.lock over
    # the config (git init sets one key at a time), is a version of its
    # own: written whole, then renamed into place.
    rows = check_store(mounted, files, history=history,
                       any_version={"repo/.git/index", "repo/.git/config"})
    assert not [r for r in rows if r[0].endswith(".lock") or "tmp_obj" in r[0]]
    (line,) = journal_lines(mounted)
    assert "symlink" in line and "repo/.git/" in line, line


def earlier_versions(tmp_path):
    """The files of the repository as the first commit left them, where
    the second commit rewrote them (README, the index, refs, logs)."""
    d = tmp_path / "first"
    repo = d / "repo"
    os.makedirs(repo / "src")
    (repo / "src" / "train.py").write_text("print('train')\n" * 20)
    (repo / "README").write_text("a model\n")
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "first"]):
        r = run(GIT + cmd, cwd=str(repo), env=GIT_ENV)
        assert r.returncode == 0, r.stderr
    out = []
    for dirpath, _, names in os.walk(repo):
        for n in names:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, d)
            if rel != "repo/.git/index":
                out.append((rel, open(p, "rb").read()))
    return out


def test_link_then_unlink_is_a_rename(mounted, execution):
    """git writes objects/ab/tmp_obj_XXXX, link()s it to its final name
    and unlinks the temporary: the artifact is the final name's."""
    d = os.path.join(execution, "outputs", "objects", "ab")
    os.makedirs(d)
    tmp, final = os.path.join(d, "tmp_obj_x1"), os.path.join(d, "cdef")
    with open(tmp, "wb") as f:
        f.write(b"object bytes")
    os.link(tmp, final)
    os.unlink(tmp)
    assert os.listdir(d) == ["cdef"]
    check_store(mounted, {"objects/ab/cdef": b"object bytes"})
    # used by another execution before the unlink: history, kept as it is
    other = os.path.join(os.path.dirname(execution), "run2")
    mkexec(other)
    with open(tmp, "wb") as f:
        f.write(b"shared")
    os.link(tmp, os.path.join(other, "inputs", "shared"))
    os.link(tmp, os.path.join(d, "shared"))
    os.unlink(tmp)
    names = sorted(r[0] for r in logged(mounted))
    assert names == ["objects/ab/cdef", "objects/ab/tmp_obj_x1",
                     "objects/ab/tmp_obj_x1"], names
