# SPDX-License-Identifier: MIT
"""`cmffs diff WS A B` of two executions and `cmffs diff WS --dir A B` of
two committed directories: the lines a user reads, the exit status of
diff(1) (0 the same, 1 different, 2 trouble with one line on stderr),
--json, and E/diff/OTHER in the mount, which reads the same text."""
import hashlib
import json
import os
import shutil

import pytest

from conftest import cmffs, mkexec


def md5(data):
    return hashlib.md5(data).hexdigest()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def diff(ws, *args):
    return cmffs("diff", ws, *args, check=False)


@pytest.fixture
def pair(mounted):
    """demo/train/a and demo/train/b: b changed lr, added batch, dropped
    dropout, improved accuracy, read other data and wrote other files."""
    up = mounted.path("pipelines", "demo", "prep", "p")
    a = mounted.path("pipelines", "demo", "train", "a")
    b = mounted.path("pipelines", "demo", "train", "b")
    for e in (up, a, b):
        mkexec(e)
    write(f"{up}/outputs/data.csv", b"x,y\n1,2\n")
    os.link(f"{up}/outputs/data.csv", f"{a}/inputs/data.csv")
    write(f"{b}/inputs/data.csv", b"x,y\n1,3\n")
    write(f"{a}/properties/lr", "0.1")
    write(f"{b}/properties/lr", "0.2")
    write(f"{a}/properties/dropout", "0.5")
    write(f"{b}/properties/batch", "32")
    write(f"{a}/properties/optimizer", "adam")
    write(f"{b}/properties/optimizer", "adam")
    write(f"{a}/metrics/eval.json", '{"accuracy": 0.5, "f1": 0, "label": "x"}')
    write(f"{b}/metrics/eval.json", '{"accuracy": 0.6, "f1": 0.25, "label": "y"}')
    write(f"{a}/metrics/loss.csv", "step,loss\n1,0.5\n")
    write(f"{b}/metrics/loss.csv", "step,loss\n1,0.5\n")
    write(f"{a}/outputs/models/m.pt", b"model a")
    write(f"{b}/outputs/models/m.pt", b"model b")
    write(f"{a}/outputs/only-a.txt", b"a")
    write(f"{b}/outputs/only-b.txt", b"b")
    write(f"{a}/outputs/same.txt", b"same")
    write(f"{b}/outputs/same.txt", b"same")
    mounted.flush()
    return a, b


def test_diff_of_two_executions(mounted, pair):
    r = diff(mounted.ws, "demo/train/a", "demo/train/b")
    assert r.returncode == 1, r.stderr
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0].startswith("--- demo/train/a (RUNNING, ")
    assert lines[1].startswith("+++ demo/train/b (RUNNING, ")
    assert lines[2:] == [
        "+ properties/batch: 32",
        "- properties/dropout: 0.5",
        "~ properties/lr: 0.1 -> 0.2 (+0.1, +100%)",
        "~ metrics/eval.json:accuracy: 0.5 -> 0.6 (+0.1, +20%)",
        "~ metrics/eval.json:f1: 0 -> 0.25 (+0.25)",
        "~ metrics/eval.json:label: x -> y",
        f"~ inputs/data.csv: {md5(b'x,y' + bytes([10]) + b'1,2' + bytes([10]))}"
        f" -> {md5(b'x,y' + bytes([10]) + b'1,3' + bytes([10]))}",
        f"~ outputs/models/m.pt: {md5(b'model a')} -> {md5(b'model b')}",
        f"- outputs/only-a.txt: {md5(b'a')}",
        f"+ outputs/only-b.txt: {md5(b'b')}",
    ]
    # reversed: B - A the other way round
    r = diff(mounted.ws, "demo/train/b", "demo/train/a")
    assert r.returncode == 1
    assert "~ metrics/eval.json:accuracy: 0.6 -> 0.5 (-0.1, -16.67%)" in r.stdout
    assert "- properties/batch: 32" in r.stdout


def test_same_execution_is_no_difference(mounted, pair):
    r = diff(mounted.ws, "demo/train/a", "demo/train/a")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    r = diff(mounted.ws, "--json", "demo/train/a", "demo/train/a")
    assert r.returncode == 0
    doc = json.loads(r.stdout)
    assert doc["same"] is True
    assert doc["properties"] == doc["metrics"] == doc["inputs"] == doc["outputs"] == []


def test_diff_json(mounted, pair):
    r = diff(mounted.ws, "demo/train/a", "demo/train/b", "--json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["a"], doc["b"], doc["same"]) == ("demo/train/a", "demo/train/b", False)
    acc = next(c for c in doc["metrics"] if c["name"] == "eval.json:accuracy")
    assert acc["change"] == "changed"
    assert (acc["a"], acc["b"]) == (0.5, 0.6)
    assert acc["delta"] == pytest.approx(0.1)
    assert acc["relative"] == pytest.approx(20.0)
    f1 = next(c for c in doc["metrics"] if c["name"] == "eval.json:f1")
    assert f1["a"] == 0 and "relative" not in f1
    assert {(c["name"], c["change"]) for c in doc["properties"]} == {
        ("batch", "added"), ("dropout", "removed"), ("lr", "changed")}
    assert next(c for c in doc["properties"] if c["name"] == "batch")["b"] == 32
    assert {(c["name"], c["change"]) for c in doc["outputs"]} == {
        ("models/m.pt", "changed"), ("only-a.txt", "removed"), ("only-b.txt", "added")}
    assert [c["name"] for c in doc["inputs"]] == ["data.csv"]


def test_trouble_is_status_2_and_one_line(mounted, pair):
    for args in (["demo/train/a", "demo/train/nope"],
                 ["demo/train", "demo/train/a"],
                 ["demo/train/a"],
                 ["--bogus", "demo/train/a", "demo/train/b"],
                 ["--dir", "demo/train/a/outputs/models", "demo/train/b/outputs/models"]):
        r = diff(mounted.ws, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stdout == ""
        assert r.stderr.startswith("cmffs: ") and r.stderr.count("\n") == 1, r.stderr
    r = cmffs("diff", mounted.ws + "-missing", "a/b/c", "a/b/d", check=False)
    assert r.returncode == 2 and r.stderr.startswith("cmffs: ")


def test_diff_files_in_the_mount(mounted, pair):
    a, b = pair
    c = mounted.path("pipelines", "demo", "train", "c")
    mkexec(c)
    # not listed (a stage of N executions would make N^2 names for ls -R,
    # find and cp -r), but every other execution of the stage is there
    assert os.listdir(os.path.join(a, "diff")) == []
    for e, others in ((a, ("b", "c")), (b, ("a", "c"))):
        for o in others:
            assert os.path.isfile(os.path.join(e, "diff", o))
    with open(os.path.join(a, "diff", "b")) as f:
        text = f.read()
    mounted.flush()
    assert text == diff(mounted.ws, "demo/train/a", "demo/train/b").stdout
    assert "~ metrics/eval.json:accuracy: 0.5 -> 0.6 (+0.1, +20%)" in text
    # no file for the execution itself, nor for another stage's
    assert not os.path.exists(os.path.join(a, "diff", "a"))
    assert not os.path.exists(os.path.join(a, "diff", "p"))
    with pytest.raises(OSError):
        write(os.path.join(a, "diff", "b"), "x")


@pytest.fixture
def dirs(mounted):
    """Committed directories demo/prep/{a,b}/outputs/images: b modified
    2.png, removed 3.png and added sub/4.png."""
    a = mounted.path("pipelines", "demo", "prep", "a")
    b = mounted.path("pipelines", "demo", "prep", "b")
    for e, files in ((a, {"1.png": b"one", "2.png": b"two", "3.png": b"three"}),
                     (b, {"1.png": b"one", "2.png": b"TWO", "sub/4.png": b"four"})):
        mkexec(e)
        for name, data in files.items():
            write(f"{e}/outputs/images/{name}", data)
        open(f"{e}/outputs/images/.commit", "w").close()
    mounted.flush()
    oids = [os.getxattr(f"{e}/outputs/images", "user.cmf.hash").decode() for e in (a, b)]
    assert all(o.endswith(".dir") for o in oids)
    return oids


def test_diff_of_two_directories(mounted, dirs):
    want = [
        f"~ 2.png: {md5(b'two')} -> {md5(b'TWO')}",
        f"- 3.png: {md5(b'three')}",
        f"+ sub/4.png: {md5(b'four')}",
    ]
    r = diff(mounted.ws, "--dir", "demo/prep/a/outputs/images",
             "demo/prep/b/outputs/images")
    assert r.returncode == 1, r.stderr
    assert r.stdout.splitlines() == ["--- demo/prep/a/outputs/images",
                                     "+++ demo/prep/b/outputs/images"] + want
    # the same by the manifests' object ids
    r = diff(mounted.ws, "--dir", dirs[0], dirs[1])
    assert r.returncode == 1
    assert r.stdout.splitlines() == [f"--- {dirs[0]}", f"+++ {dirs[1]}"] + want
    r = diff(mounted.ws, "--dir", dirs[0], "demo/prep/a/outputs/images/")
    assert (r.returncode, r.stdout) == (0, "")
    r = diff(mounted.ws, "--dir", "--json", dirs[0], dirs[1])
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["same"] is False
    assert doc["files"] == [
        {"name": "2.png", "change": "changed", "a": md5(b"two"), "b": md5(b"TWO")},
        {"name": "3.png", "change": "removed", "a": md5(b"three")},
        {"name": "sub/4.png", "change": "added", "b": md5(b"four")},
    ]


def test_diff_of_directories_not_committed_or_missing(mounted, dirs):
    c = mounted.path("pipelines", "demo", "prep", "c")
    mkexec(c)
    write(f"{c}/outputs/loose/x.png", b"x")
    mounted.flush()
    for other, why in (("demo/prep/c/outputs/loose", "not a committed directory"),
                       ("demo/prep/c/outputs/loose/x.png", "not a committed directory"),
                       ("demo/prep/c/outputs/none", "does not exist"),
                       ("0" * 32 + ".dir", "cannot read the manifest"),
                       ("demo/prep/c", "names no directory")):
        r = diff(mounted.ws, "--dir", dirs[0], other)
        assert r.returncode == 2, (other, r.stdout)
        assert r.stderr.startswith("cmffs: ") and why in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1


def test_diff_of_directories_fetches_a_manifest_not_in_the_cache(mounted, dirs):
    # pushed to the storage, then gone from the cache (evicted)
    mounted.umount()
    cmffs("push", mounted.ws)
    obj = os.path.join(mounted.ws, ".cmf", "cache", "files", "md5", dirs[1][:2],
                       dirs[1][2:])
    assert os.path.exists(obj)
    os.chmod(os.path.dirname(obj), 0o700)
    os.unlink(obj)
    r = diff(mounted.ws, "--dir", dirs[0], dirs[1])
    assert r.returncode == 1, r.stderr
    assert f"+ sub/4.png: {md5(b'four')}" in r.stdout
    assert os.path.exists(obj)
    # with the storage gone too: trouble, said in one line
    os.unlink(obj)
    shutil.rmtree(mounted.remote)
    os.makedirs(mounted.remote)
    r = diff(mounted.ws, "--dir", dirs[0], dirs[1])
    assert r.returncode == 2
    assert r.stderr.startswith("cmffs: cannot read the manifest") and r.stderr.count("\n") == 1
