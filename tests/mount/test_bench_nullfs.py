# SPDX-License-Identifier: MIT
"""The benchmarks' FUSE floors pass bytes through correctly.

scripts/bench/bench.py measures cmffs against nullfs (libfuse's high-level
API, here with -o backing=DIR) and nullfs_ll (the low-level API): both pass
every request through to a backing directory.  A floor that loses or
mangles bytes, leaks inodes or dies at unmount would make every figure
measured against it meaningless, so each is mounted here for real: a tree
of files of varied sizes is copied in with cp -r and compared with the
source (diff -r, cmp), through the mount and in the backing directory;
listings, rename, link, unlink (also of an open file) and rmdir behave as
on ext4; nullfs_ll gives back the descriptor of every inode the kernel
forgets; and the daemon exits 0 at unmount with nothing on stderr.
"""
import os
import subprocess
import time

import pytest

from conftest import CMFFS, fuse_usable

BENCH = os.path.join(os.path.dirname(os.path.dirname(CMFFS)), "scripts", "bench")
SANITIZER = ("AddressSanitizer", "runtime error:", "LeakSanitizer")

# sizes around the page, the 128 KiB read-ahead and the 1 MiB write size
SIZES = [0, 1, 100, 4095, 4096, 4097, 65536, 131073, (1 << 20) + 3, 3 << 20]


class Floor:
    """One nullfs or nullfs_ll mounted over a backing directory."""

    def __init__(self, name, tmp):
        self.binary = os.environ.get(f"{name.upper()}_BIN",
                                     os.path.join(BENCH, name))
        assert os.access(self.binary, os.X_OK), f"{self.binary} is not built"
        self.tmp = tmp
        self.backing = str(tmp / "backing")
        self.mnt = str(tmp / "mnt")
        os.makedirs(self.backing)
        os.makedirs(self.mnt)
        self.err = open(tmp / "stderr", "wb")
        self.proc = subprocess.Popen(
            [self.binary, self.mnt, "-o", f"backing={self.backing}", "-f"],
            stdout=self.err, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not os.path.ismount(self.mnt):
            assert self.proc.poll() is None, self.stderr()
            assert time.time() < deadline, "the mount did not appear"
            time.sleep(0.05)

    def stderr(self):
        return (self.tmp / "stderr").read_text(errors="replace")

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def umount(self):
        subprocess.run(["fusermount3", "-u", self.mnt], check=True)
        rc = self.proc.wait(timeout=60)
        self.proc = None
        self.err.close()
        return rc

    def force_umount(self):
        subprocess.run(["fusermount3", "-u", "-z", self.mnt],
                       capture_output=True)
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.err.close()


@pytest.fixture(params=["nullfs", "nullfs_ll"])
def floor(request, tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    f = Floor(request.param, tmp_path)
    f.name = request.param
    try:
        yield f
    finally:
        if f.proc is not None:
            f.force_umount()


def make_tree(root):
    """Files of every size in SIZES, 300 small files in one directory (more
    than one READDIRPLUS reply), nested directories, a name with spaces."""
    os.makedirs(os.path.join(root, "many"))
    os.makedirs(os.path.join(root, "a", "b", "c"))
    for i, size in enumerate(SIZES):
        with open(os.path.join(root, "a", f"s{i}_{size}.bin"), "wb") as f:
            f.write(os.urandom(size))
    for i in range(300):
        with open(os.path.join(root, "many", f"file number {i:03d}"), "wb") as f:
            f.write(os.urandom(i * 7))
    with open(os.path.join(root, "a", "b", "c", "deep.txt"), "w") as f:
        f.write("deep\n")


def run(*cmd, cwd=None):
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def test_copy_compare_rename_unlink(floor, tmp_path):
    src = str(tmp_path / "src")
    make_tree(src)
    tree = os.path.join(floor.mnt, "tree")
    run("cp", "-r", src, tree)
    # the same bytes through the mount and in the backing directory
    run("diff", "-r", src, tree)
    run("diff", "-r", src, os.path.join(floor.backing, "tree"))
    for name in sorted(os.listdir(os.path.join(src, "a"))):
        if name.endswith(".bin"):
            run("cmp", os.path.join(src, "a", name), os.path.join(tree, "a", name))
    md5 = "find . -type f -exec md5sum {} + | sort -k 2"
    assert run("sh", "-c", md5, cwd=tree) == run("sh", "-c", md5, cwd=src)
    # listings: names, modes, link counts, owners, sizes and blocks as the
    # backing directory has them (READDIRPLUS entries and GETATTR)
    ls = ("ls", "-lRn", "--time-style=+%s")
    assert run(*ls, ".", cwd=tree) == run(*ls, ".", cwd=os.path.join(floor.backing, "tree"))
    assert len(os.listdir(os.path.join(tree, "many"))) == 300

    a = os.path.join(tree, "a")
    # rename within a directory, across directories and over a file
    os.rename(os.path.join(a, "s3_4095.bin"), os.path.join(a, "renamed.bin"))
    os.rename(os.path.join(a, "renamed.bin"), os.path.join(a, "b", "moved.bin"))
    os.rename(os.path.join(a, "b", "moved.bin"), os.path.join(a, "s4_4096.bin"))
    run("cmp", os.path.join(src, "a", "s3_4095.bin"), os.path.join(a, "s4_4096.bin"))
    assert not os.path.exists(os.path.join(a, "s3_4095.bin"))
    # a hard link shows the same inode, both names through the mount
    os.link(os.path.join(a, "s1_1.bin"), os.path.join(a, "link.bin"))
    st1, st2 = os.stat(os.path.join(a, "s1_1.bin")), os.stat(os.path.join(a, "link.bin"))
    assert st1.st_ino == st2.st_ino and st2.st_nlink == 2
    # unlink; an open file stays readable after its name is gone
    f = open(os.path.join(a, "s9_3145728.bin"), "rb")
    os.unlink(os.path.join(a, "s9_3145728.bin"))
    assert not os.path.exists(os.path.join(a, "s9_3145728.bin"))
    with open(os.path.join(src, "a", "s9_3145728.bin"), "rb") as g:
        assert f.read() == g.read()
    f.close()
    # truncate, chmod, utimes on a path
    p = os.path.join(a, "s5_4097.bin")
    os.truncate(p, 10)
    os.chmod(p, 0o600)
    os.utime(p, (1000000000, 1000000000))
    st = os.stat(os.path.join(floor.backing, "tree", "a", "s5_4097.bin"))
    assert (st.st_size, st.st_mode & 0o777, int(st.st_mtime)) == (10, 0o600, 1000000000)
    with pytest.raises(OSError):
        os.rmdir(os.path.join(tree, "many"))          # not empty
    os.unlink(os.path.join(a, "b", "c", "deep.txt"))
    os.rmdir(os.path.join(a, "b", "c"))
    run("rm", "-r", os.path.join(a, "b"))
    assert sorted(os.listdir(a)) == sorted(os.listdir(os.path.join(floor.backing, "tree", "a")))
    assert "b" not in os.listdir(a)

    if floor.name == "nullfs_ll":
        # every inode the kernel forgets gives its descriptor back: after
        # rm -r of the whole tree, no more descriptors than at the start
        # (the root's, /dev/fuse, stdio) and a few the kernel may still hold
        run("rm", "-r", tree)
        deadline = time.time() + 30
        while floor.open_fds() > 12 and time.time() < deadline:
            time.sleep(0.1)
        assert floor.open_fds() <= 12, os.listdir(f"/proc/{floor.proc.pid}/fd")
    rc = floor.umount()
    err = floor.stderr()
    assert rc == 0, err
    assert not any(s in err for s in SANITIZER), err
    assert "nullfs_ll: forget" not in err, err
    assert not os.path.ismount(floor.mnt)


def test_large_file_write_read(floor, tmp_path):
    """A file written in 1 MiB requests (direct_io, write-only) and read back
    through the page cache, at an odd size."""
    src = str(tmp_path / "big")
    with open(src, "wb") as f:
        f.write(os.urandom((24 << 20) + 12345))
    dst = os.path.join(floor.mnt, "big")
    run("cp", src, dst)
    run("cmp", src, dst)
    assert os.stat(dst).st_size == (24 << 20) + 12345
    # read-write opens go through the page cache: overwrite in the middle
    with open(dst, "r+b") as f:
        f.seek(5 << 20)
        f.write(b"x" * 10)
    with open(dst, "rb") as f:
        f.seek((5 << 20) - 1)
        got = f.read(12)
    with open(src, "rb") as f:
        f.seek((5 << 20) - 1)
        want = f.read(12)
    assert got == want[:1] + b"x" * 10 + want[11:]
    rc = floor.umount()
    assert rc == 0, floor.stderr()
    assert not any(s in floor.stderr() for s in SANITIZER), floor.stderr()
