# SPDX-License-Identifier: MIT
"""A pipeline of several real programs, then a teammate's view of it:
cmffs push to the (local) storage, cmffs export, cmffs import into a
second workspace on the same storage, and every file read through the
second mount has the first mount's bytes; the teammate's store holds the
same artifacts, none of the scratch files."""
import os

import pytest

from conftest import (PYTHON, Mount, check_store, cmffs, fuse_usable, logged,
                      mkexec, need_module, need_program, run, snapshot)

PIPELINE = r"""
set -e
cd "$1"
/usr/bin/python3 - <<'PY'
import numpy as np, sqlite3, pickle
from sklearn.datasets import load_digits
from sklearn.tree import DecisionTreeClassifier
X, y = load_digits(return_X_y=True)
np.save("features.npy", X)
db = sqlite3.connect("runs.db")
db.execute("CREATE TABLE r (depth INTEGER, acc REAL)")
for depth in (2, 4, 8):
    clf = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X, y)
    with db:
        db.execute("INSERT INTO r VALUES (?, ?)", (depth, clf.score(X, y)))
db.close()
with open("models/tree.pkl", "wb") as f:
    pickle.dump(clf, f)
PY
( echo "rows: $(sqlite3 runs.db 'SELECT count(*) FROM r')"; echo ok ) > summary.txt
tar xf "$2" -C unpacked
if [ -n "$3" ]; then sed -i 's/ok/done/' summary.txt; fi
"""


def test_teammate_sees_the_same_files(tmp_path):
    teammate(tmp_path, rewrite=False)


def test_teammate_sees_the_last_version(tmp_path):
    teammate(tmp_path, rewrite=True)


def teammate(tmp_path, rewrite):
    need_module("sklearn")
    need_program("sqlite3")
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    src = tmp_path / "src"
    os.makedirs(src / "sub")
    (src / "sub" / "raw.txt").write_bytes(b"raw\n" * 100)
    tarball = tmp_path / "in.tar"
    run(["tar", "cf", str(tarball), "-C", str(src), "."])
    (tmp_path / "a").mkdir()
    a = Mount(tmp_path / "a")
    a.init()
    a.mount()
    try:
        run_dir = a.path("pipelines", "team", "train", "r1")
        mkexec(run_dir)
        out = os.path.join(run_dir, "outputs")
        os.makedirs(os.path.join(out, "models"))
        os.makedirs(os.path.join(out, "unpacked"))
        r = run(["bash", "-c", PIPELINE, "bash", out, str(tarball),
                 "rewrite" if rewrite else ""])
        assert r.returncode == 0, r.stderr
        mine = {k: v for k, v in snapshot(out).items() if v is not None}
        assert sorted(mine) == ["features.npy", "models/tree.pkl", "runs.db",
                                "summary.txt", "unpacked/sub/raw.txt"]
        first_summary = b"rows: 3\nok\n"
        assert mine["summary.txt"] == (b"rows: 3\ndone\n" if rewrite else first_summary)
        check_store(a, mine, history=[("summary.txt", first_summary)])
    finally:
        a.umount()
    cmffs("push", a.ws)
    doc = tmp_path / "team.json"
    cmffs("export", a.ws, "team", "-o", str(doc))

    (tmp_path / "b").mkdir()
    b = Mount(tmp_path / "b")
    b.remote = a.remote                 # the team's storage
    b.init()
    r = cmffs("import", b.ws, str(doc))
    assert r.returncode == 0, r.stderr
    b.mount()
    try:
        theirs = snapshot(b.path("pipelines", "team", "train", "r1", "outputs"))
        assert {k: v for k, v in theirs.items() if v is not None} == mine
        assert sorted(logged(b)) == sorted(logged(a))
    finally:
        b.umount()
