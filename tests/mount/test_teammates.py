# SPDX-License-Identifier: MIT
"""A teammate's pull behaves like the original: sizes before the first
read, fetching ahead (cmffs fetch), parallel fetches on a slow storage, and
reads of an upstream workspace from DVC's cache and its working tree."""
import hashlib
import os
import shutil
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import Mount, cmffs, fuse_usable, mkexec
from servers import RefServer, S3FaultProxy
import test_upstream


def md5(data):
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def server(tmp_path):
    s = RefServer(tmp_path / "server").start()
    yield s
    s.stop()


def workspace(tmp_path, name, server_url, storage):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    (tmp_path / name).mkdir()
    m = Mount(tmp_path / name)
    cmffs("init", m.ws, *storage, "--server-url", server_url,
          "--sync-interval", "3600")
    return m


def local_storage(tmp_path):
    os.makedirs(tmp_path / "remote", exist_ok=True)
    return ["--storage", "local", "--path", str(tmp_path / "remote")]


def cached_objects(ws):
    root = os.path.join(ws, ".cmf", "cache", "files", "md5")
    return sorted(d + f for d in os.listdir(root) if len(d) == 2
                  for f in os.listdir(os.path.join(root, d))) \
        if os.path.isdir(root) else []


def make_originals(tmp_path):
    """Files of every shape a teammate reads: empty, text, odd sizes,
    numpy and HDF5."""
    import numpy
    import h5py
    orig = tmp_path / "orig"
    orig.mkdir()
    (orig / "empty").write_bytes(b"")
    (orig / "notes.txt").write_bytes(b"a teammate's notes\n")
    (orig / "odd.bin").write_bytes(os.urandom(4096 * 3 + 7))
    (orig / "big.bin").write_bytes(os.urandom((1 << 20) + 3))
    numpy.save(orig / "weights.npy", numpy.arange(50000, dtype="float64"))
    with h5py.File(orig / "table.h5", "w") as f:
        f.create_dataset("x", data=numpy.arange(1000, dtype="int32"))
    return orig


def log_and_push(a, orig):
    """Copy @orig into an execution of @a (files and a committed directory)
    and push everything."""
    a.mount()
    try:
        run = a.path("pipelines", "team", "prep", "r1")
        mkexec(run)
        for name in os.listdir(orig):
            shutil.copyfile(orig / name, os.path.join(run, "outputs", name))
        d = os.path.join(run, "outputs", "shards")
        os.mkdir(d)
        for i in range(3):
            with open(os.path.join(d, f"part-{i}"), "wb") as f:
                f.write(bytes([i]) * (1000 * (i + 1)))
        open(os.path.join(d, ".commit"), "w").close()
    finally:
        a.umount()
    cmffs("push", a.ws)


def pulled_by_a_teammate(tmp_path, server):
    """Files logged and pushed from workspace a, pulled (not fetched) into
    workspace b: (the originals' folder, b)."""
    orig = make_originals(tmp_path)
    a = workspace(tmp_path, "a", server.url, local_storage(tmp_path))
    log_and_push(a, orig)
    b = workspace(tmp_path, "b", server.url, local_storage(tmp_path))
    cmffs("pull", b.ws, "team")
    return orig, b


def test_pulled_files_have_their_sizes_before_any_read(tmp_path, server):
    import numpy
    import h5py
    orig, b = pulled_by_a_teammate(tmp_path, server)
    assert b.sql("SELECT count(*) FROM cmffs_entry WHERE size < 0") == [(0,)]
    b.mount()
    try:
        out = b.path("pipelines", "team", "prep", "r1", "outputs")
        for name in os.listdir(orig):
            assert os.stat(os.path.join(out, name)).st_size == \
                os.path.getsize(orig / name), name
        for i in range(3):
            assert os.path.getsize(os.path.join(out, "shards", f"part-{i}")) == \
                1000 * (i + 1)
        ls = subprocess.run(["ls", "-l", out], capture_output=True, text=True)
        assert str(os.path.getsize(orig / "big.bin")) in ls.stdout
        du = subprocess.run(["du", "-b", "--apparent-size", "-s", out],
                            capture_output=True, text=True)
        assert int(du.stdout.split()[0]) >= sum(
            os.path.getsize(orig / n) for n in os.listdir(orig))
        # nothing was fetched for that: a stat never reads
        assert cached_objects(b.ws) == sorted(
            o for o in cached_objects(b.ws) if o.endswith(".dir"))
        # ordinary tools, on files never read before
        for name in ("odd.bin", "big.bin", "empty", "notes.txt"):
            r = subprocess.run(["cmp", "-s", os.path.join(out, name),
                                str(orig / name)])
            assert r.returncode == 0, name
        m = numpy.memmap(os.path.join(out, "weights.npy"), mode="r")
        assert bytes(m) == (orig / "weights.npy").read_bytes()
        del m
        assert (numpy.load(os.path.join(out, "weights.npy"), mmap_mode="r")
                == numpy.arange(50000, dtype="float64")).all()
        with h5py.File(os.path.join(out, "table.h5"), "r") as f:
            assert list(f["x"][:5]) == [0, 1, 2, 3, 4]
    finally:
        b.umount()


def test_sizes_missing_in_an_older_store_are_learnt(tmp_path, server):
    orig, b = pulled_by_a_teammate(tmp_path, server)
    want = b.sql("SELECT id, size FROM cmffs_entry WHERE is_dir = 0 ORDER BY id")
    # what a store pulled before sizes were learnt looks like
    b.sql_exec("UPDATE cmffs_entry SET size = 0 WHERE is_dir = 0")
    b.sql_exec("DROP INDEX cmffs_entry_unknown_size")
    r = cmffs("pull", b.ws, "team")
    assert "0 new execution(s)" in r.stdout
    assert b.sql("SELECT id, size FROM cmffs_entry WHERE is_dir = 0"
                 " ORDER BY id") == want


def test_fetch_ahead_then_read_without_the_storage(tmp_path, server):
    orig, b = pulled_by_a_teammate(tmp_path, server)

    r = cmffs("fetch", b.ws, "team", "nostage", check=False)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "no stage 'nostage'" in r.stderr
    r = cmffs("fetch", b.ws, "team", "prep", "r9", check=False)
    assert r.returncode == 1 and "no execution 'r9'" in r.stderr

    # on a terminal: a progress line, then the summary
    if shutil.which("script"):
        t = subprocess.run(["script", "-qec", f"{os.environ.get('CMFFS_BIN')} fetch "
                            f"{b.ws} team prep r1", "/dev/null"],
                           capture_output=True, text=True, timeout=120)
        assert t.returncode == 0, t.stdout
        assert "fetch: " in t.stdout and "objects" in t.stdout
        assert "fetched 9 object(s)" in t.stdout, t.stdout
    else:
        cmffs("fetch", b.ws, "team")
    r = cmffs("fetch", b.ws, "team")
    assert r.stdout.startswith("fetched 0 object(s)"), r.stdout
    assert "9 already local, 0 failed" in r.stdout
    assert r.stderr == ""           # no progress line off a terminal

    shutil.rmtree(tmp_path / "remote")     # the storage is gone
    b.mount()
    try:
        out = b.path("pipelines", "team", "prep", "r1", "outputs")
        for name in os.listdir(orig):
            with open(os.path.join(out, name), "rb") as f:
                assert f.read() == (orig / name).read_bytes(), name
        with open(os.path.join(out, "shards", "part-2"), "rb") as f:
            assert f.read() == bytes([2]) * 3000
    finally:
        b.umount()


def test_slow_storage_fetches_in_parallel(tmp_path, server):
    """Two readers of two different objects on a storage that answers
    after DELAY seconds each finish in about one delay, not two; a local
    file opens at once meanwhile."""
    if not os.environ.get("CMFFS_S3_ENDPOINT"):
        pytest.skip("no S3 server (scripts/test starts Swift)")
    delay = 2.0
    tag = f"par-{os.getpid()}-{time.time_ns()}"

    def s3(endpoint):
        return ["--storage", "s3", "--url",
                f"s3://{os.environ['CMFFS_S3_BUCKET']}/{tag}",
                "--endpoint-url", endpoint,
                "--access-key-id", os.environ["CMFFS_S3_KEY"],
                "--secret-key", os.environ["CMFFS_S3_SECRET"]]

    blobs = {f"f{i}.bin": os.urandom(100_000 + i) for i in range(6)}
    a = workspace(tmp_path, "a", server.url, s3(os.environ["CMFFS_S3_ENDPOINT"]))
    a.mount()
    try:
        run = a.path("pipelines", "slow", "s", "e")
        mkexec(run)
        for name, data in blobs.items():
            with open(os.path.join(run, "outputs", name), "wb") as f:
                f.write(data)
    finally:
        a.umount()
    cmffs("push", a.ws, timeout=300)

    proxy = S3FaultProxy(os.environ["CMFFS_S3_ENDPOINT"], delay=delay).start()
    try:
        b = workspace(tmp_path, "b", server.url, s3(proxy.url))
        cmffs("pull", b.ws, "slow", timeout=300)
        assert b.sql("SELECT count(*) FROM cmffs_entry WHERE size < 0") == [(0,)]
        b.mount()
        try:
            out = b.path("pipelines", "slow", "s", "e", "outputs")
            mkexec(b.path("pipelines", "slow", "s", "mine"))
            local = b.path("pipelines", "slow", "s", "mine", "outputs", "l.txt")
            with open(local, "w") as f:
                f.write("local\n")
            # four readers at once open the [storage] jobs connections
            names = sorted(blobs)
            ts = [threading.Thread(target=lambda n=n: open(os.path.join(out, n), "rb").read())
                  for n in names[:4]]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            results = {}

            def read(name):
                t0 = time.monotonic()
                with open(os.path.join(out, name), "rb") as f:
                    results[name] = (f.read(), time.monotonic() - t0)

            t0 = time.monotonic()
            ts = [threading.Thread(target=read, args=(n,)) for n in names[4:]]
            for t in ts:
                t.start()
            time.sleep(delay / 4)
            t1 = time.monotonic()
            with open(local) as f:
                assert f.read() == "local\n"
            local_time = time.monotonic() - t1
            for t in ts:
                t.join()
            both = time.monotonic() - t0
            for n in names[4:]:
                assert results[n][0] == blobs[n]
            # one GET each, side by side: about one delay (serial: two)
            assert both < 1.6 * delay, (both, results)
            assert local_time < delay / 2, local_time
        finally:
            b.umount()
    finally:
        proxy.stop()


def test_upstream_workspace_reads_dvc_cache_and_working_tree(tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    ws, remote, ex = test_upstream.build_fixture(tmp_path, "http://127.0.0.1:9")
    H, DATA = test_upstream.H, test_upstream.DATA
    # `dvc add` kept the bytes in .dvc/cache; nothing was pushed
    shutil.rmtree(remote / "files")
    dvc_obj = ws / ".dvc" / "cache" / "files" / "md5" / H[:2] / H[2:]
    dvc_obj.parent.mkdir(parents=True)
    dvc_obj.write_bytes(DATA)
    m = Mount(tmp_path)
    m.ws = str(ws)
    ours = ws / ".cmf" / "cache" / "files" / "md5" / H[:2] / H[2:]

    def read():
        run = m.path("pipelines", "Test-env", "Prepare", f"execution-{ex}")
        with open(os.path.join(run, "inputs", "artifacts", "data.xml.gz"), "rb") as f:
            return f.read()

    m.mount()
    try:
        assert read() == DATA
    finally:
        m.umount()

    # not in DVC's cache either: the working-tree file, checked
    os.unlink(ours)
    os.unlink(dvc_obj)
    tree = ws / "artifacts" / "data.xml.gz"
    tree.parent.mkdir()
    tree.write_bytes(DATA)
    m.mount()
    try:
        assert read() == DATA
    finally:
        m.umount()

    # changed since it was logged (and not at the remote, where the mount
    # pushed it): EIO, and the status says why
    os.unlink(ours)
    shutil.rmtree(remote / "files", ignore_errors=True)
    tree.write_bytes(b"edited later\n")
    m.mount()
    try:
        with pytest.raises(OSError) as e:
            read()
        assert e.value.errno == 5
        with open(m.path(".cmf", "status")) as f:
            status = f.read()
        line = [l for l in status.splitlines() if l.startswith("unreadable: ")]
        assert len(line) == 1, status
        assert H in line[0] and "not in .dvc/cache" in line[0]
        assert "'artifacts/data.xml.gz' in the working tree has changed" in line[0]
        assert "storage:" in line[0]
        assert not os.path.exists(ours)
    finally:
        m.umount()
    r = cmffs("status", str(ws))
    assert f"unreadable: {H}: not in .dvc/cache" in r.stdout
    # a link in the working tree is never followed
    tree.unlink()
    shutil.rmtree(remote / "files", ignore_errors=True)
    secret = tmp_path / "outside"
    secret.write_bytes(DATA)
    os.symlink(secret, tree)
    m.mount()
    try:
        with pytest.raises(OSError):
            read()
    finally:
        m.umount()


def test_fetch_ahead_keeps_the_cache_under_its_limit(tmp_path, server):
    """cmffs fetch of more than [cache] max-size: the cache ends under the
    limit (what was fetched is at the storage, so it may go), and every
    file still reads back whole, fetched again."""
    orig, b = pulled_by_a_teammate(tmp_path, server)
    with open(os.path.join(b.ws, ".cmfconfig"), "a") as f:
        f.write("\n[cache]\nmax-size = 600K\n")
    r = cmffs("fetch", b.ws, "team")
    assert "fetched 9 object(s)" in r.stdout
    root = os.path.join(b.ws, ".cmf", "cache", "files", "md5")
    held = sum(os.path.getsize(os.path.join(dp, n))
               for dp, _, names in os.walk(root) for n in names)
    assert held <= 600 * 1024, held
    b.mount()
    try:
        out = b.path("pipelines", "team", "prep", "r1", "outputs")
        for name in os.listdir(orig):
            with open(os.path.join(out, name), "rb") as f:
                assert f.read() == (orig / name).read_bytes(), name
    finally:
        b.umount()
