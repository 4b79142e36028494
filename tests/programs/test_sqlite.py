# SPDX-License-Identifier: MIT
"""SQLite databases written in outputs/: rollback journal and WAL, from
Python's sqlite3 module and from the sqlite3 command; several
transactions.  The journal, the -wal and the -shm are scratch files:
nothing of them may stay in the store."""
import os
import time

import pytest

from conftest import both, check_store, journal_lines, need_program, py, run

PYTHON_DB = r"""
import sqlite3, sys
path, mode = sys.argv[1], sys.argv[2]
db = sqlite3.connect(path)
assert db.execute(f"PRAGMA journal_mode={mode}").fetchone()[0] == mode
db.execute("CREATE TABLE t (i INTEGER PRIMARY KEY, v TEXT)")
db.commit()
for n in range(5):                      # five transactions
    with db:
        db.executemany("INSERT INTO t (v) VALUES (?)",
                       [(f"row {n}.{k} " + "x" * 300,) for k in range(40)])
with db:
    db.execute("DELETE FROM t WHERE i % 3 = 0")
try:
    with db:                            # a rolled-back transaction
        db.execute("UPDATE t SET v = 'gone'")
        raise KeyError
except KeyError:
    pass
reader = sqlite3.connect(path)          # a second connection reads
print(reader.execute("SELECT count(*), sum(length(v)) FROM t").fetchone())
assert reader.execute("SELECT count(*) FROM t WHERE v = 'gone'").fetchone()[0] == 0
reader.close()
db.close()
"""

CLI_SQL = """
PRAGMA journal_mode={mode};
CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT, score REAL);
BEGIN; INSERT INTO runs (name, score) VALUES ('a', 0.5), ('b', 0.7); COMMIT;
BEGIN; UPDATE runs SET score = score + 0.1; COMMIT;
BEGIN; INSERT INTO runs (name, score) SELECT name || '2', score FROM runs; COMMIT;
BEGIN; DELETE FROM runs WHERE name = 'a'; ROLLBACK;
CREATE INDEX runs_name ON runs (name);
SELECT count(*), round(sum(score), 3) FROM runs;
"""


# (journal_mode=persist is left out: the journal it keeps holds checksums
# salted with a random nonce, so its bytes differ from run to run on ext4)
@pytest.mark.parametrize("mode", ["delete", "truncate", "wal"])
def test_python_sqlite3(mounted, execution, tmp_path, mode):
    out = os.path.join(execution, "outputs")
    snap = both(tmp_path, out,
                lambda d: [py(PYTHON_DB, os.path.join(d, "runs.db"), mode)])
    # a truncated journal stays, empty, on ext4 too: a resulting file
    want = ["runs.db"] + (["runs.db-journal"] if mode == "truncate" else [])
    assert sorted(snap) == want
    check_store(mounted, snap)
    assert journal_lines(mounted) == []


@pytest.mark.parametrize("mode", ["delete", "wal"])
def test_sqlite3_command(mounted, execution, tmp_path, mode):
    need_program("sqlite3")
    out = os.path.join(execution, "outputs")

    def scenario(d):
        db = os.path.join(d, "cli.db")
        first = run(["sqlite3", db], input=CLI_SQL.format(mode=mode).encode())
        # a second session at once, as a later step of a pipeline would
        second = run(["sqlite3", db, "INSERT INTO runs (name, score) VALUES ('c', 1);"
                      " SELECT count(*) FROM runs; PRAGMA integrity_check;"])
        return [first, second]
    snap = both(tmp_path, out, scenario)
    assert sorted(snap) == ["cli.db"]
    check_store(mounted, snap, history=[("cli.db", first_version(tmp_path, mode))])
    assert journal_lines(mounted) == []


def first_version(tmp_path, mode):
    """cli.db as the first session left it: a version a user would name
    (the second session is another program run)."""
    d = tmp_path / "first"
    os.makedirs(d)
    r = run(["sqlite3", str(d / "cli.db")], input=CLI_SQL.format(mode=mode).encode())
    assert r.returncode == 0, r.stderr
    return (d / "cli.db").read_bytes()


SURVIVES = r"""
import sqlite3, sys, time
path = sys.argv[1]
a = sqlite3.connect(path)
a.execute(f"PRAGMA journal_mode={sys.argv[2]}")
with a:
    a.execute("CREATE TABLE t (v)")
b = sqlite3.connect(path)               # a second connection, opened now
print(b.execute("SELECT count(*) FROM t").fetchone())
a.close()                               # the file is logged here
time.sleep(1.5)                         # the kernel's attribute cache expires
with b:                                 # sqlite checks the file did not move
    b.execute("INSERT INTO t VALUES (1)")
b.close()
"""


@pytest.mark.parametrize("mode", ["delete", "wal"])
def test_sqlite_connection_survives_the_file_being_logged(mounted, execution, tmp_path, mode):
    out = os.path.join(execution, "outputs")
    snap = both(tmp_path, out,
                lambda d: [py(SURVIVES, os.path.join(d, "s.db"), mode)])
    assert sorted(snap) == ["s.db"]


def test_inode_number_of_a_file_is_stable(mounted, execution):
    p = os.path.join(execution, "outputs", "f.bin")
    fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o644)
    before = os.fstat(fd).st_ino
    os.write(fd, b"one")
    os.close(fd)                        # logged
    time.sleep(1.5)                     # past the attribute cache
    assert os.stat(p).st_ino == before
