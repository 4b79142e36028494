# SPDX-License-Identifier: MIT
"""Archivers, rsync, editors and shells writing into outputs/: tar x,
unzip, rsync -a --delete, sed -i, an editor's swap file and
write-then-rename, ( a; b ) > f and exec > log."""
import os
import subprocess

from conftest import (both, check_store, journal_lines, md5, need_program,
                      run, wait_for)


def make_source(root):
    os.makedirs(os.path.join(root, "data", "deep"))
    files = {"data/a.csv": b"x,y\n1,2\n", "data/deep/b.bin": os.urandom(300_000),
             "data/deep/c.txt": b"c\n" * 1000, "notes.md": b"# notes\n",
             "empty": b""}
    for rel, data in files.items():
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
    os.utime(os.path.join(root, "notes.md"), (1_600_000_000, 1_600_000_000))
    return files


def test_tar_x_and_unzip(mounted, execution, tmp_path):
    need_program("unzip")
    need_program("zip")
    src = tmp_path / "src"
    make_source(str(src))
    tarball, zipball = tmp_path / "s.tar.gz", tmp_path / "s.zip"
    subprocess.run(["tar", "czf", str(tarball), "-C", str(src), "."], check=True)
    subprocess.run(["zip", "-qr", str(zipball), "."], cwd=str(src), check=True)
    out = os.path.join(execution, "outputs")

    def scenario(d):
        os.makedirs(os.path.join(d, "t"))
        os.makedirs(os.path.join(d, "z"))
        return [run(["tar", "xzf", str(tarball), "-C", os.path.join(d, "t")]),
                run(["unzip", "-q", str(zipball), "-d", os.path.join(d, "z")]),
                # again over the same files: unchanged bytes, no new version
                run(["tar", "xzf", str(tarball), "-C", os.path.join(d, "t")]),
                run(["unzip", "-qo", str(zipball), "-d", os.path.join(d, "z")])]
    snap = both(tmp_path, out, scenario)
    assert os.stat(os.path.join(out, "t", "notes.md")).st_mtime == 1_600_000_000
    check_store(mounted, {k: v for k, v in snap.items() if v is not None})
    assert journal_lines(mounted) == []


def test_rsync_a_delete_twice(mounted, execution, tmp_path):
    need_program("rsync")
    src = tmp_path / "src"
    files = make_source(str(src))
    out = os.path.join(execution, "outputs")

    def scenario(d):
        first = run(["rsync", "-a", "--delete", f"{src}/", f"{d}/mirror/"])
        return [first]
    both(tmp_path / "one", out, scenario)
    # the source changes: a file goes, one changes, one is new
    os.unlink(src / "data" / "a.csv")
    (src / "data" / "deep" / "c.txt").write_bytes(b"changed\n")
    (src / "new.txt").write_bytes(b"new\n")
    snap = both(tmp_path / "two", out, scenario)
    assert "mirror/data/a.csv" not in snap
    # the deleted a.csv was logged by this execution alone: a scratch file
    # now, gone from the store; c.txt's first version is history
    check_store(mounted, {k: v for k, v in snap.items() if v is not None},
                prefix="", history=[("mirror/data/deep/c.txt",
                                     files["data/deep/c.txt"])])
    assert journal_lines(mounted) == []


def test_sed_i_on_a_logged_file(mounted, execution, tmp_path):
    out = os.path.join(execution, "outputs")
    text = b"lr = 0.1\nepochs = 10\nname = run\n"

    def scenario(d):
        with open(os.path.join(d, "params.txt"), "wb") as f:
            f.write(text)
        return [run(["sed", "-i", "s/0.1/0.01/; s/10/20/", os.path.join(d, "params.txt")]),
                run(["sed", "-i.bak", "s/run/final/", os.path.join(d, "params.txt")])]
    snap = both(tmp_path, out, scenario)
    assert sorted(snap) == ["params.txt", "params.txt.bak"]
    # params.txt: three versions (as written, after each sed); the backup
    # sed -i.bak keeps is the second one's bytes under its own name
    check_store(mounted, snap, history=[("params.txt", text)])
    assert journal_lines(mounted) == []


EDITOR = r"""
import os, sys
d = sys.argv[1]
f = os.path.join(d, "config.yaml")
with open(f, "w") as fh:
    fh.write("lr: 0.1\n")
# the editor opens f: a swap file next to it, written as one types
swap = os.path.join(d, ".config.yaml.swp")
sw = open(swap, "wb")
for k in range(5):
    sw.write(b"U" * 4096)
    sw.flush()
    os.fsync(sw.fileno())
sw.close()
# :w writes a new file and renames it over the original (backupcopy=no)
with open(os.path.join(d, "config.yaml.tmp"), "w") as fh:
    fh.write("lr: 0.01\nepochs: 3\n")
    fh.flush()
    os.fsync(fh.fileno())
os.rename(os.path.join(d, "config.yaml.tmp"), f)
# :q removes the swap file
os.unlink(swap)
"""


def test_editor_swap_file_and_rename_over(mounted, execution, tmp_path):
    out = os.path.join(execution, "outputs")
    snap = both(tmp_path, out, lambda d: [run(["/usr/bin/python3", "-c", EDITOR, d])])
    assert snap == {"config.yaml": b"lr: 0.01\nepochs: 3\n"}
    # the first version is history; no swap file, no .tmp artifact
    check_store(mounted, snap, history=[("config.yaml", b"lr: 0.1\n")])
    assert journal_lines(mounted) == []


SCRIPT = r"""
set -e
cd "$1"
( /bin/echo first; /bin/echo second ) > pair.txt
{ echo header; seq 1 5; } > block.txt
exec > run.log 2> err.log
echo "start"
seq 1 1000
ls -1 pair.txt block.txt
/bin/echo "an error line" >&2
printf 'done\n'
"""


def test_shell_subshell_redirect_and_exec(mounted, execution, tmp_path):
    out = os.path.join(execution, "outputs")
    snap = both(tmp_path, out, lambda d: [run(["bash", "-c", SCRIPT, "bash", d])])
    assert snap["pair.txt"] == b"first\nsecond\n"
    assert sorted(snap) == ["block.txt", "err.log", "pair.txt", "run.log"]
    # the last close of a shared description logs: maybe a moment after
    # the shell exits (release is asynchronous)
    want = {(md5(v)) for v in snap.values()}
    wait_for(lambda: {r[1] for r in check_store_rows(mounted)} >= want,
             what="the final versions in the store")
    # exactly one version of each: none for the first echo's bytes alone,
    # none for a partial log
    check_store(mounted, snap)
    assert journal_lines(mounted) == []


def check_store_rows(m):
    return m.sql("SELECT name, uri FROM Artifact")
