# SPDX-License-Identifier: MIT
"""The bounded cache: [cache] max-size in .cmfconfig, objects the storage
confirmed evicted least recently read first after every sync pass and by
`cmffs gc`, fetched again (MD5-checked) on their next read; nothing that is
not at the storage ever evicted, with the storage unreachable and the
daemon killed with SIGKILL; `cmffs gc` removing only what nothing refers
to, mounted or not."""
import errno
import hashlib
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from conftest import CMFFS, Mount, cmffs, fuse_usable, mkexec, recover
from servers import wait_for

KB = 1000


def md5(data):
    return hashlib.md5(data).hexdigest()


def cache_dir(ws):
    return os.path.join(ws, ".cmf", "cache", "files", "md5")


def cached(ws):
    """{oid: size} of the objects in WS's cache."""
    found = {}
    root = cache_dir(ws)
    for d in os.listdir(root):
        for rest in os.listdir(os.path.join(root, d)):
            found[d + rest] = os.path.getsize(os.path.join(root, d, rest))
    return found


def cached_bytes(ws):
    return sum(cached(ws).values())


def cached_ok(ws, h):
    """The object is in the cache with the bytes its name says (read
    O_NOATIME: the test's own reads must not reorder the cache's LRU)."""
    path = os.path.join(cache_dir(ws), h[:2], h[2:])
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOATIME)
    except FileNotFoundError:
        return False
    with os.fdopen(fd, "rb") as f:
        return md5(f.read()) == h[:32]


def confirmed(m, remote):
    return {oid for (oid,) in m.sql(
        "SELECT oid FROM cmffs_remote_object WHERE remote = ?", (remote,))}


def logged_objects(m):
    """Every object the store names: artifact uris and the files' bytes."""
    rows = m.sql("SELECT uri FROM Artifact UNION SELECT md5 FROM cmffs_entry"
                 " WHERE md5 IS NOT NULL")
    return {u for (u,) in rows
            if len(u) == 32 and all(c in "0123456789abcdef" for c in u)}


def set_max_size(ws, value):
    """Rewrite [cache] of WS/.cmfconfig by hand, as a user would."""
    path = os.path.join(ws, ".cmfconfig")
    with open(path) as f:
        lines = f.read().split("\n")
    out, skip = [], False
    for line in lines:
        if line.startswith("["):
            skip = line == "[cache]"
        if not skip:
            out.append(line)
    text = "\n".join(out).rstrip("\n") + "\n\n"
    if value is not None:
        text += f"[cache]\nmax-size = {value}\n"
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def by_hash(m, h):
    return m.path("artifacts", "by-hash", h[:2], h[2:])


def status_value(text, key):
    for line in text.splitlines():
        if line.startswith(key + ": "):
            return line[len(key) + 2:]
    raise AssertionError(f"no '{key}' in {text!r}")


def new_mount(tmp_path, *init_args, local=True):
    """A workspace (not mounted yet) with local storage in m.remote."""
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    storage = ["--storage", "local", "--path", m.remote] if local else []
    cmffs("init", m.ws, *storage, *init_args)
    return m


@pytest.fixture
def cleanup():
    mounts = []
    yield mounts
    for m in mounts:
        if m.proc is not None:
            m.force_unmount()


def test_push_keeps_the_cache_under_its_limit_and_everything_reads_back(tmp_path, cleanup):
    m = new_mount(tmp_path, "--cache-max-size", "300K", "--sync-interval", "3600")
    m.mount()
    cleanup.append(m)
    run = m.path("pipelines", "p", "s", "e")
    mkexec(run)
    versions = {}                        # name -> every version written
    for i in range(6):
        versions[f"f{i}.bin"] = [os.urandom(100 * KB + i)]
    versions["f0.bin"].append(os.urandom(120 * KB))      # new versions
    versions["f1.bin"].append(os.urandom(90 * KB))
    versions["small.txt"] = [b"small\n"]
    for name, blobs in versions.items():
        for data in blobs:
            with open(os.path.join(run, "outputs", name), "wb") as f:
                f.write(data)
    # a committed directory: its manifest stays, its files may go
    os.makedirs(os.path.join(run, "outputs", "images"))
    for i in range(2):
        data = os.urandom(60 * KB + i)
        versions[f"images/{i}.bin"] = [data]
        with open(os.path.join(run, "outputs", "images", f"{i}.bin"), "wb") as f:
            f.write(data)
    subprocess.run(["touch", os.path.join(run, "outputs", "images", ".commit")],
                   check=True)
    (manifest,) = [u for (u,) in m.sql("SELECT uri FROM Artifact")
                   if u.endswith(".dir")]
    every = {md5(d): d for blobs in versions.values() for d in blobs}
    assert set(every) <= logged_objects(m)
    total = sum(len(d) for d in every.values())
    assert total > 900 * KB

    cmffs("push", m.ws)
    limit = 300 * 1024
    assert cached_bytes(m.ws) <= limit
    at_remote = confirmed(m, m.remote)
    assert set(every) <= at_remote
    # nothing unpushed was evicted: whatever is gone is at the storage
    for h in logged_objects(m):
        assert cached_ok(m.ws, h) or h in at_remote
    evicted = [h for h in every if not cached_ok(m.ws, h)]
    assert len(evicted) >= 6
    assert cached_ok(m.ws, manifest)
    status = cmffs("status", m.ws).stdout
    assert status_value(status, "cache limit") == f"300K ({limit} bytes)"
    held = cached(m.ws)
    assert status_value(status, "cache") == \
        f"{len(held)} object(s), {sum(held.values())} bytes"
    files = {h: n for h, n in held.items() if h != manifest}
    assert status_value(status, "cache evictable") == \
        f"{len(files)} object(s), {sum(files.values())} bytes (at the storage)"
    with open(m.path(".cmf", "status")) as f:
        assert status_value(f.read(), "cache limit") == f"300K ({limit} bytes)"

    # every version reads back byte for byte, fetched again where evicted:
    # in the cache right after its read (the mount's own sync pass, kicked
    # by the writes above, may trim again later: the cache is over its
    # limit once everything was read)
    for h in evicted:
        assert read(by_hash(m, h)) == every[h]
        assert cached_ok(m.ws, h), "a read fetches the evicted object again"
    for name, blobs in versions.items():
        assert read(os.path.join(run, "outputs", name)) == blobs[-1]
        for data in blobs:
            assert read(by_hash(m, md5(data))) == data
    assert cached_ok(m.ws, manifest)
    # and the next pass trims again
    cmffs("push", m.ws)
    assert cached_bytes(m.ws) <= limit
    # writes that need the old bytes fetch them too: O_RDWR, truncate
    gone = [n for n, b in versions.items()
            if "/" not in n and not cached_ok(m.ws, md5(b[-1]))]
    assert len(gone) >= 2
    with open(os.path.join(run, "outputs", gone[0]), "r+b") as f:
        assert f.read(4) == versions[gone[0]][-1][:4]
        f.seek(0)
        f.write(b"EDIT")
    assert read(os.path.join(run, "outputs", gone[0])) == \
        b"EDIT" + versions[gone[0]][-1][4:]
    os.truncate(os.path.join(run, "outputs", gone[1]), 1000)
    assert read(os.path.join(run, "outputs", gone[1])) == versions[gone[1]][-1][:1000]
    m.umount()


def test_the_object_read_last_survives_a_trim(tmp_path, cleanup):
    m = new_mount(tmp_path, "--sync-interval", "3600")
    m.mount()
    cleanup.append(m)
    run = m.path("pipelines", "lru", "s", "e")
    mkexec(run)
    blobs = {}
    for name in "abcd":
        blobs[name] = os.urandom(100 * KB)
        with open(os.path.join(run, "outputs", name), "wb") as f:
            f.write(blobs[name])
        time.sleep(0.05)
    cmffs("push", m.ws)              # no limit yet: nothing leaves
    assert all(cached_ok(m.ws, md5(b)) for b in blobs.values())
    assert "cache limit: none" in cmffs("status", m.ws).stdout
    # each read in turn, then a again: a was read last.  (A first read
    # would move the atime under relatime by itself; a second one within
    # a day moves it only because the mount stamps every read.)
    for name in "abcda":
        time.sleep(0.05)
        assert read(os.path.join(run, "outputs", name)) == blobs[name]
    set_max_size(m.ws, "250000")
    r = cmffs("gc", m.ws)
    assert r.stdout.startswith("removed 0 unreferenced object(s) (0 bytes), "
                               "evicted 2 pushed object(s) (200000 bytes); "
                               "the cache holds 2 object(s), 200000 bytes")
    assert r.stdout.count("\n") == 1
    assert cached_ok(m.ws, md5(blobs["a"]))
    assert not cached_ok(m.ws, md5(blobs["b"]))
    assert not cached_ok(m.ws, md5(blobs["c"]))
    assert cached_ok(m.ws, md5(blobs["d"]))
    # the artifacts/ views count as reads too
    time.sleep(0.05)
    assert read(by_hash(m, md5(blobs["d"]))) == blobs["d"]
    time.sleep(0.05)
    assert read(by_hash(m, md5(blobs["b"]))) == blobs["b"]     # fetched
    set_max_size(m.ws, "200000")
    cmffs("gc", m.ws)
    assert {h for h in cached(m.ws)} == {md5(blobs["d"]), md5(blobs["b"])}
    m.umount()


UNPUSHED_WRITER = r"""
import hashlib, os, sys
run, log = sys.argv[1], sys.argv[2]
i = 0
with open(log, "a") as out:
    while True:
        data = os.urandom(20000 + (i * 7919) % 60000)
        name = f"w{i % 7}.bin"               # versions of seven files
        f = open(os.path.join(run, "outputs", name), "wb")
        f.write(data)
        f.close()
        out.write(f"{name} {hashlib.md5(data).hexdigest()}\n")
        out.flush()
        i += 1
"""


def check_unpushed_in_cache(m, remote):
    at_remote = confirmed(m, remote)
    unpushed = [h for h in logged_objects(m) if h not in at_remote]
    for h in unpushed:
        assert cached_ok(m.ws, h), f"unpushed object {h} is not in the cache"
    return unpushed


def break_local_storage(remote):
    """A file where the storage's files/ directory was: every upload fails,
    the mount's too (it keeps the storage's directory open)."""
    files = os.path.join(remote, "files")
    os.rename(files, files + ".away")
    with open(files, "w") as f:
        f.write("not a directory\n")


def mend_local_storage(remote):
    files = os.path.join(remote, "files")
    os.unlink(files)
    os.rename(files + ".away", files)


@pytest.mark.parametrize("round_", range(3))
def test_unpushed_objects_survive_an_outage_and_kill_9(tmp_path, cleanup, round_):
    m = new_mount(tmp_path, "--cache-max-size", "1", "--sync-interval", "1")
    remote = m.remote
    m.mount()
    cleanup.append(m)
    run = m.path("pipelines", "out", "s", "e")
    mkexec(run)
    pushed = [os.urandom(50 * KB + i) for i in range(3)]
    for i, data in enumerate(pushed):
        with open(os.path.join(run, "outputs", f"p{i}.bin"), "wb") as f:
            f.write(data)
    # the mount pushes them and then trims the cache to its limit
    wait_for(lambda: not any(cached_ok(m.ws, md5(d)) for d in pushed),
             what="the pushed objects evicted")
    break_local_storage(remote)

    log = tmp_path / "closed.txt"
    writer = subprocess.Popen([sys.executable, "-c", UNPUSHED_WRITER, run, str(log)],
                              stderr=subprocess.DEVNULL)
    # passes of the mount, pushes and gcs from outside, all failing to push
    wait_for(lambda: log.exists() and log.read_text(), what="a first file")
    deadline = time.time() + random.uniform(1.0, 3.0)
    failed = 0
    while time.time() < deadline:
        r = cmffs("push", m.ws, check=False)
        failed += r.returncode != 0
        cmffs("gc", m.ws)
    assert failed
    m.proc.send_signal(signal.SIGKILL)
    m.proc.wait()
    writer.wait(timeout=30)
    subprocess.run(["fusermount3", "-u", "-z", m.mnt], check=False)
    m.proc = None

    closed = [l.split() for l in log.read_text().splitlines()]
    assert len(closed) > 5
    recover(m.ws)
    unpushed = check_unpushed_in_cache(m, remote)
    assert {h for _, h in closed} <= set(unpushed)
    r = cmffs("gc", m.ws)
    assert "evicted 0 pushed object(s)" in r.stdout
    assert check_unpushed_in_cache(m, remote) == unpushed
    status = cmffs("status", m.ws).stdout
    assert status_value(status, "cache evictable") == "0 object(s), 0 bytes (at the storage)"

    # mounted again, still without the storage: every unpushed version
    # reads back; what was evicted cannot be fetched now, and says so
    m.mount()
    for name, h in closed:
        assert md5(read(by_hash(m, h))) == h
    # each file's current version (the last one logged: a close the kill
    # interrupted may have logged a version the writer never heard of)
    current = dict(m.sql("SELECT name, md5 FROM cmffs_entry WHERE name LIKE 'w%.bin'"
                         " AND md5 IS NOT NULL"))
    assert {name for name, _ in closed} <= set(current)
    for name, h in current.items():
        assert md5(read(os.path.join(run, "outputs", name))) == h
    with pytest.raises(OSError) as e:
        read(os.path.join(run, "outputs", "p0.bin"))
    assert e.value.errno == errno.EIO

    # the storage is back: everything goes out, the cache empties to its
    # limit, and every version comes back from the storage, verified
    mend_local_storage(remote)
    cmffs("push", m.ws)
    assert cached_bytes(m.ws) <= 1
    for name, h in closed:
        assert md5(read(by_hash(m, h))) == h
    for i, data in enumerate(pushed):
        assert read(os.path.join(run, "outputs", f"p{i}.bin")) == data
    m.umount()


def test_unreachable_s3_storage_evicts_nothing(tmp_path, cleanup):
    m = new_mount(tmp_path, "--storage", "s3", "--url", "s3://bucket/team",
                  "--endpoint-url", "http://127.0.0.1:9",
                  "--access-key-id", "id", "--secret-key", "secret",
                  "--cache-max-size", "1", "--sync-interval", "1", local=False)
    m.mount()
    cleanup.append(m)
    run = m.path("pipelines", "s3", "s", "e")
    mkexec(run)
    blobs = [os.urandom(30 * KB + i) for i in range(5)]
    for i, data in enumerate(blobs):
        with open(os.path.join(run, "outputs", f"f{i}.bin"), "wb") as f:
            f.write(data)
    wait_for(lambda: "storage" in m.journal(), what="a failed pass")
    assert cmffs("push", m.ws, check=False).returncode != 0
    cmffs("gc", m.ws)
    m.proc.send_signal(signal.SIGKILL)
    m.proc.wait()
    subprocess.run(["fusermount3", "-u", "-z", m.mnt], check=False)
    m.proc = None
    for data in blobs:
        assert cached_ok(m.ws, md5(data))
    m.mount()
    for i, data in enumerate(blobs):
        assert read(os.path.join(run, "outputs", f"f{i}.bin")) == data
    m.umount()


def test_gc_removes_only_what_nothing_refers_to(tmp_path, cleanup):
    m = new_mount(tmp_path, local=False)         # no storage: nothing evictable
    m.mount()
    cleanup.append(m)
    e = m.path("pipelines", "gc", "s", "e")
    mkexec(e)
    out = os.path.join(e, "outputs")
    kept = {}

    def write(path, data, keep=True):
        with open(path, "wb") as f:
            f.write(data)
        if keep:
            kept[md5(data)] = data

    write(os.path.join(out, "model.bin"), b"version 1\n")     # overwritten:
    write(os.path.join(out, "model.bin"), b"version 2\n")     # both kept
    write(os.path.join(out, "scratch.tmp"), b"scratch bytes\n", keep=False)
    os.unlink(os.path.join(out, "scratch.tmp"))               # leaves nothing
    csv = os.path.join(e, "metrics", "loss.csv")              # step metrics
    subprocess.run(["sh", "-c", f"echo 'step,loss' > '{csv}'; echo '1,0.5' >> '{csv}'"],
                   check=True)
    for text in (b"step,loss\n", b"step,loss\n1,0.5\n"):
        kept[md5(text)] = text
    os.makedirs(os.path.join(out, "images"))                  # a .dir
    write(os.path.join(out, "images", "1.txt"), b"image one\n")
    subprocess.run(["touch", os.path.join(out, "images", ".commit")], check=True)
    os.makedirs(os.path.join(e, "tensorboard", "r"))          # not an artifact
    write(os.path.join(e, "tensorboard", "r", "events.out.tfevents.1"), b"\x00tf")
    # a dataslice naming a file that is gone from the tree afterwards: the
    # slice's manifest is then all that refers to its bytes
    inp = os.path.join(e, "inputs")
    write(os.path.join(inp, "f0.csv"), b"row0\n")
    write(os.path.join(inp, "f1.csv"), b"row1 only in a slice\n")
    s1 = os.path.join(e, "dataslices", "slice-1")
    os.makedirs(s1)
    for f in ("f0.csv", "f1.csv"):
        os.link(os.path.join(inp, f), os.path.join(s1, f))
    subprocess.run(["touch", os.path.join(s1, ".commit")], check=True)
    os.unlink(os.path.join(s1, "f1.csv"))
    os.unlink(os.path.join(inp, "f1.csv"))
    h1 = md5(b"row1 only in a slice\n")
    named = m.sql("SELECT uri FROM Artifact UNION SELECT md5 FROM cmffs_entry"
                  " WHERE md5 IS NOT NULL")
    assert (h1,) not in named, "the test needs an object only a slice names"
    # an object nothing refers to, dropped into the cache by hand
    orphan = b"nobody refers to this\n"
    d = os.path.join(cache_dir(m.ws), md5(orphan)[:2])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, md5(orphan)[2:]), "wb") as f:
        f.write(orphan)
    before = cached(m.ws)
    assert md5(b"scratch bytes\n") in before and md5(orphan) in before

    r = cmffs("gc", m.ws)                        # while mounted
    assert r.stdout.startswith(
        f"removed 2 unreferenced object(s) ({len(orphan) + len(b'scratch bytes')+1} bytes), "
        "evicted 0 pushed object(s) (0 bytes)")
    assert r.stdout.count("\n") == 1 and r.stderr == ""
    after = cached(m.ws)
    assert set(before) - set(after) == {md5(b"scratch bytes\n"), md5(orphan)}
    for h in kept:
        assert cached_ok(m.ws, h), f"referenced object {h} was removed"
    assert cached_ok(m.ws, h1)
    for h in logged_objects(m):
        assert cached_ok(m.ws, h)
    assert any(h.endswith(".dir") for h in after)
    # without sync the mount's status still shows the cache
    with open(m.path(".cmf", "status")) as f:
        status = f.read()
    assert status_value(status, "cache") == \
        f"{len(after)} object(s), {sum(after.values())} bytes"
    assert status_value(status, "cache limit") == "none"
    assert status_value(status, "cache evictable") == "0 object(s), 0 bytes (at the storage)"
    m.umount()
    # and unmounted: nothing more to remove, the tree reads back
    r = cmffs("gc", m.ws)
    assert r.stdout.startswith("removed 0 unreferenced object(s) (0 bytes)")
    m.mount()
    assert read(os.path.join(out, "model.bin")) == b"version 2\n"
    assert read(os.path.join(s1, "f0.csv")) == b"row0\n"
    m.umount()


COMMITTER = r"""
import os, sys
run, n = sys.argv[1], int(sys.argv[2])
bad = 0
for i in range(n):
    # the same bytes logged, read back and removed again and again: each
    # commit finds the object in place, unreferenced since the last rm
    path = os.path.join(run, "outputs", "same.bin")
    with open(path, "wb") as f:
        f.write(b"the same bytes every time\n")
    try:
        with open(path, "rb") as f:
            if f.read() != b"the same bytes every time\n":
                bad += 1
    except OSError:
        bad += 1
    os.unlink(path)
print(bad)
"""


def test_gc_never_takes_an_object_being_committed(tmp_path, cleanup):
    m = new_mount(tmp_path, local=False)
    m.mount()
    cleanup.append(m)
    e = m.path("pipelines", "race", "s", "e")
    mkexec(e)
    committer = subprocess.Popen([sys.executable, "-c", COMMITTER, e, "400"],
                                 stdout=subprocess.PIPE, text=True)
    removed = 0
    while committer.poll() is None:
        r = cmffs("gc", m.ws)
        removed += int(r.stdout.split()[1])
    out, _ = committer.communicate(timeout=60)
    assert out.strip() == "0", "a file read back wrong after a gc"
    assert removed > 0, "gc never ran between two commits"
    assert "cannot be read" not in m.journal()
    m.umount()


def test_a_bad_max_size_is_refused_with_one_line(tmp_path):
    ws = str(tmp_path / "ws")
    r = cmffs("init", ws, "--cache-max-size", "12Q", check=False)
    assert r.returncode != 0 and r.stdout == ""
    assert r.stderr == ("cmffs: --cache-max-size takes bytes, or a number with K, M, G "
                        "or T (e.g. 50G), not '12Q'\n")
    assert not os.path.exists(ws)
    cmffs("init", ws, "--cache-max-size", "1536M")
    with open(os.path.join(ws, ".cmfconfig")) as f:
        assert "[cache]\nmax-size = 1536M\n" in f.read()
    assert "cache limit: 1536M (1610612736 bytes)" in cmffs("status", ws).stdout
    set_max_size(ws, "a lot")
    with open(os.path.join(ws, ".cmfconfig")) as f:
        line = f.read().split("\n").index("max-size = a lot") + 1
    want = (f"cmffs: '{os.path.realpath(ws)}/.cmfconfig' line {line}: invalid max-size "
            "'a lot' (bytes, or a number with K, M, G or T, e.g. 50G)\n")
    for cmd in (["status", ws], ["gc", ws], ["push", ws]):
        r = cmffs(*cmd, check=False)
        assert r.returncode != 0 and r.stderr == want, (cmd, r.stderr)
    if fuse_usable():
        mnt = str(tmp_path / "mnt")
        os.makedirs(mnt)
        r = subprocess.run([CMFFS, "mount", ws, mnt], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode != 0 and r.stderr == want
        assert not os.path.ismount(mnt)
    set_max_size(ws, "0")
    r = cmffs("status", ws, check=False)
    assert r.returncode != 0 and "invalid max-size '0'" in r.stderr
    set_max_size(ws, None)                    # no key: no limit
    assert "cache limit: none" in cmffs("status", ws).stdout
