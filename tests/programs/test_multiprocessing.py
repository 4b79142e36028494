# SPDX-License-Identifier: MIT
"""A multiprocessing Pool writing into outputs/: one file per task, and
workers appending lines to one file the parent opened before the fork."""
import os

from conftest import (PYTHON, both, check_store, journal_lines, md5, py, run,
                      snapshot, wait_for)

ONE_EACH = r"""
import multiprocessing as mp, os, sys
d = sys.argv[1]

def work(i):
    with open(os.path.join(d, "parts", f"part-{i:03d}.txt"), "w") as f:
        for k in range(200):
            f.write(f"{i} {k} {i * k}\n")
    return i

if __name__ == "__main__":
    os.makedirs(os.path.join(d, "parts"))
    with mp.get_context(sys.argv[2]).Pool(4) as pool:
        assert sorted(pool.map(work, range(16))) == list(range(16))
"""

# The parent opens log.txt with O_APPEND before the pool forks: every
# worker writes whole lines with single write() calls through the inherited
# description, so the file is well defined as a set of lines (in any
# order).  The parent closes it after pool.join(): its close is the last
# holder's only if the workers are gone, which join() guarantees.
SHARED = r"""
import multiprocessing as mp, os, sys
d = sys.argv[1]
fd = os.open(os.path.join(d, "log.txt"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

def work(i):
    for k in range(50):
        os.write(fd, f"worker {i} line {k}\n".encode())
    return i

if __name__ == "__main__":
    pool = mp.get_context("fork").Pool(4)
    pool.map(work, range(8))
    pool.close()
    pool.join()
    os.write(fd, b"end\n")
    os.close(fd)
"""


def test_pool_writes_one_file_each(mounted, execution, tmp_path):
    out = os.path.join(execution, "outputs")
    for method in ("fork", "spawn"):
        d = os.path.join(out, method)
        os.makedirs(d)
        # spawn imports the main module again: a script file, not -c
        script = tmp_path / "one_each.py"
        script.write_text(ONE_EACH)
        snap = both(tmp_path / method, d,
                    lambda x: [run([PYTHON, str(script), x, method], timeout=120)])
        assert len([k for k in snap if k.startswith("parts/part-")]) == 16
    # the same bytes under fork/ and spawn/: one artifact each, named after
    # the first
    files = {k: v for k, v in snapshot(out).items() if v is not None}
    check_store(mounted, files)
    assert journal_lines(mounted) == []


def test_pool_workers_append_to_the_parents_file(mounted, execution, tmp_path):
    out = os.path.join(execution, "outputs")
    disk = tmp_path / "disk"
    os.makedirs(disk)
    r = py(SHARED, disk)
    assert r.returncode == 0, r.stderr
    m = py(SHARED, out)
    assert m.returncode == 0, m.stderr
    with open(disk / "log.txt", "rb") as f:
        want = f.read()
    with open(os.path.join(out, "log.txt"), "rb") as f:
        got = f.read()
    # the order of the workers' lines is the scheduler's, on ext4 too
    assert sorted(got.splitlines()) == sorted(want.splitlines())
    assert got.endswith(b"end\n") and len(got) == len(want)
    h = md5(got)
    wait_for(lambda: mounted.sql("SELECT count(*) FROM Artifact WHERE uri = ?", (h,)) == [(1,)],
             what="the final version of log.txt")
    check_store(mounted, {"log.txt": got})
    assert journal_lines(mounted) == []
