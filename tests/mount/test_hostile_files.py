# SPDX-License-Identifier: MIT
"""A workspace, a configuration and a local storage that someone else
controls: links, FIFOs and hand-edited URLs are refused with one line and
never followed; the workspace on disk is private; interrupted pushes leave
no temporary behind; a full storage says ENOSPC."""
import hashlib
import os
import socket
import stat
import subprocess
import threading
import time

import pytest

from conftest import CMFFS, Mount, cmffs, fuse_usable, mkexec


def md5(data):
    return hashlib.md5(data).hexdigest()


def one_line(r):
    """The single 'cmffs: ...' line a failed command printed."""
    assert r.returncode != 0, r.stdout
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("cmffs: "), r.stderr
    return lines[0]


def need_fuse():
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")


def logged(m, name, data, pipeline="p"):
    """Mount @m, write @data as an output @name, unmount."""
    m.mount()
    try:
        run = m.path("pipelines", pipeline, "s", "r1")
        mkexec(run)
        with open(os.path.join(run, "outputs", name), "wb") as f:
            f.write(data)
    finally:
        m.umount()


def init_unpushed(m):
    """A workspace without storage, so that a mount pushes nothing."""
    cmffs("init", m.ws)


def set_local(m):
    """Point @m at its local storage, after the mounts (see init_unpushed)."""
    with open(os.path.join(m.ws, ".cmfconfig"), "a") as f:
        f.write(f"\n[storage]\ntype = local\npath = {m.remote}\n")


def tmps(root):
    """Every temporary file below @root."""
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
            if ".tmp" in f]


# --- item 3: links and FIFOs in the workspace -----------------------------

def test_tmp_link_is_not_emptied(tmp_path):
    """WS/.cmf/tmp linking to another directory: status refuses it and the
    directory keeps its files (the crash cleanup used to delete them)."""
    m = Mount(tmp_path)
    m.init()
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious").write_text("keep me\n")
    tmp = os.path.join(m.ws, ".cmf", "tmp")
    os.rmdir(tmp)
    os.symlink(victim, tmp)
    line = one_line(cmffs("status", m.ws, check=False))
    assert "symbolic link" in line, line
    assert (victim / "precious").read_text() == "keep me\n"


@pytest.mark.parametrize("name", ["log", "lock"])
def test_journal_and_lock_links_are_refused(tmp_path, name):
    """WS/.cmf/log or WS/.cmf/lock as a link: the mount refuses to start,
    appends nothing to the link's target and creates no file there."""
    need_fuse()
    m = Mount(tmp_path)
    m.init()
    victim = tmp_path / "victim"
    if name == "log":
        victim.write_text("untouched\n")
    os.symlink(victim, os.path.join(m.ws, ".cmf", name))
    r = subprocess.run([CMFFS, "mount", m.ws, m.mnt, "-f"],
                       capture_output=True, text=True, timeout=30)
    line = one_line(r)
    assert "symbolic link" in line and f".cmf/{name}" in line, line
    assert not os.path.ismount(m.mnt)
    if name == "log":
        assert victim.read_text() == "untouched\n"
    else:
        assert not victim.exists()


def test_cmfconfig_fifo_does_not_hang(tmp_path):
    """.cmfconfig as a FIFO nobody writes to: refused at once."""
    m = Mount(tmp_path)
    m.init()
    cfg = os.path.join(m.ws, ".cmfconfig")
    os.unlink(cfg)
    os.mkfifo(cfg)
    t = time.monotonic()
    line = one_line(cmffs("status", m.ws, check=False, timeout=20))
    assert time.monotonic() - t < 10
    assert "not a regular file" in line and ".cmfconfig" in line, line


@pytest.mark.parametrize("what", ["cmfconfig", "mlmd", "mlmd-wal", "dvc"])
def test_workspace_file_links_are_refused(tmp_path, what):
    """.cmfconfig, mlmd, mlmd-wal and .dvc/config as links: refused with a
    line naming the file; the link's target is neither read nor created."""
    m = Mount(tmp_path)
    m.init()
    victim = tmp_path / "victim"
    if what == "cmfconfig":
        os.replace(os.path.join(m.ws, ".cmfconfig"), victim)
        os.symlink(victim, os.path.join(m.ws, ".cmfconfig"))
        name = ".cmfconfig"
    elif what == "dvc":
        os.mkdir(os.path.join(m.ws, ".dvc"))
        victim.write_text("[core]\nremote = x\n")
        os.symlink(victim, os.path.join(m.ws, ".dvc", "config"))
        name = ".dvc/config"
    else:
        for f in ("mlmd", "mlmd-wal", "mlmd-shm"):
            p = os.path.join(m.ws, f)
            if os.path.exists(p):
                os.unlink(p)
        os.symlink(victim, os.path.join(m.ws, what))
        name = what
    line = one_line(cmffs("status", m.ws, check=False))
    assert "symbolic link" in line and name in line, line
    if what in ("mlmd", "mlmd-wal"):
        assert not victim.exists()


def test_storage_fanout_link_is_refused(tmp_path):
    """A local storage whose files/md5/ab is a link: push refuses to write
    through it, with one line, and nothing lands outside the storage."""
    need_fuse()
    m = Mount(tmp_path)
    data = b"hostile storage\n"
    h = md5(data)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.makedirs(os.path.join(m.remote, "files", "md5"))
    os.symlink(outside, os.path.join(m.remote, "files", "md5", h[:2]))
    init_unpushed(m)
    logged(m, "d.txt", data)
    set_local(m)
    line = one_line(cmffs("push", m.ws, check=False))
    assert "symbolic link" in line, line
    assert os.listdir(outside) == []
    # once the link is gone the object is pushed: it was still pending
    os.unlink(os.path.join(m.remote, "files", "md5", h[:2]))
    cmffs("push", m.ws)
    with open(os.path.join(m.remote, "files", "md5", h[:2], h[2:]), "rb") as f:
        assert f.read() == data


# --- item 8: only http(s) for the server, whatever the file says ---------

class Listener:
    """A TCP socket on 127.0.0.1 recording whatever a client sends."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            c.settimeout(1)
            try:
                while True:
                    b = c.recv(4096)
                    if not b:
                        break
                    self.received += b
            except OSError:
                pass
            c.close()

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.mark.parametrize("scheme", ["gopher", "dict", "telnet", "ftp"])
def test_hand_edited_server_url_is_refused(tmp_path, scheme):
    """server-url = gopher://127.0.0.1:PORT/_FLUSHALL in a hand-edited
    .cmfconfig: push fails with one line and the port receives nothing."""
    lst = Listener()
    try:
        m = Mount(tmp_path)
        m.init()
        cfg = os.path.join(m.ws, ".cmfconfig")
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(f"[cmf]\nserver-url = {scheme}://127.0.0.1:{lst.port}/_FLUSHALL\n\n"
                    + text)
        line = one_line(cmffs("push", m.ws, check=False))
        assert "server-url" in line and "http" in line, line
        time.sleep(0.5)
        assert lst.connections == 0 and lst.received == b""
    finally:
        lst.close()


# --- item 10: the workspace on disk is private ---------------------------

def modes(ws):
    """{relative path: permission bits} of everything in @ws."""
    out = {}
    for d, dirs, files in os.walk(ws):
        for n in dirs + files:
            p = os.path.join(d, n)
            out[os.path.relpath(p, ws)] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


def test_workspace_is_private_whatever_the_umask(tmp_path):
    """Under umask 000: .cmf and everything in it, and mlmd with its -wal
    and -shm, are readable by their owner only; an existing workspace made
    readable by others is tightened when opened."""
    need_fuse()
    old = os.umask(0)
    try:
        m = Mount(tmp_path)
        m.init()
        logged(m, "d.bin", b"private bytes\n")
        m.mount()                       # -wal and -shm exist while mounted
        try:
            got = modes(m.ws)
        finally:
            m.umount()
    finally:
        os.umask(old)
    h = md5(b"private bytes\n")
    assert got[".cmf"] == 0o700, got
    for d in (".cmf/cache", ".cmf/cache/files", ".cmf/cache/files/md5",
              f".cmf/cache/files/md5/{h[:2]}", ".cmf/tmp"):
        assert got[d] == 0o700, (d, got)
    for f in (".cmfconfig", "mlmd", "mlmd-wal", "mlmd-shm", ".cmf/log",
              ".cmf/lock"):
        assert got[f] == 0o600, (f, got)
    # an older workspace, open to everyone: tightened on the next open
    os.chmod(os.path.join(m.ws, ".cmf"), 0o755)
    os.chmod(os.path.join(m.ws, "mlmd"), 0o644)
    cmffs("status", m.ws)
    assert stat.S_IMODE(os.stat(os.path.join(m.ws, ".cmf")).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(m.ws, "mlmd")).st_mode) == 0o600


def test_root_keeps_the_owner_of_a_users_workspace(tmp_path):
    """cmffs running as root in a directory a user owns gives that user
    what it creates, so the private workspace stays the user's."""
    need_fuse()
    if os.geteuid() != 0:
        pytest.skip("needs root")
    uid, gid = 12345, 12346
    m = Mount(tmp_path)
    os.makedirs(m.ws)
    os.chown(m.ws, uid, gid)
    m.init()
    logged(m, "d.bin", b"the user's bytes\n")
    m.mount()
    try:
        owners = {}
        for d, dirs, files in os.walk(m.ws):
            for n in dirs + files:
                p = os.path.join(d, n)
                st = os.lstat(p)
                owners[os.path.relpath(p, m.ws)] = (st.st_uid, st.st_gid)
    finally:
        m.umount()
    for name in (".cmfconfig", "mlmd", "mlmd-wal", ".cmf", ".cmf/log",
                 ".cmf/lock", ".cmf/tmp", ".cmf/cache/files/md5"):
        assert owners[name] == (uid, gid), (name, owners)
    assert all(o == (uid, gid) for o in owners.values()), owners


# --- item 2: interrupted pushes leave no temporary ------------------------

def storage_fd_open(pid, remote):
    """Whether process @pid has a file open in @remote's files/md5/."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                t = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if t.startswith(os.path.join(remote, "files", "md5")) and \
                    not os.path.isdir(t.split(" (deleted)")[0]):
                return True
    except OSError:
        pass
    return False


def test_killed_push_leaves_no_temporary(tmp_path):
    """A push killed while it writes an object, then a leftover as older
    versions left it: the next push stores the object (it was still
    pending) and no temporary remains in the storage."""
    need_fuse()
    m = Mount(tmp_path)
    init_unpushed(m)
    big = os.urandom(256 << 20)
    small = b"small object\n"
    logged(m, "big.bin", big)
    logged(m, "small.bin", small, pipeline="q")
    set_local(m)
    hb, hs = md5(big), md5(small)
    # a temporary of the small object as an interrupted push used to leave
    # it (the push below may send the small object before it is killed)
    d = os.path.join(m.remote, "files", "md5", hs[:2])
    os.makedirs(d)
    with open(os.path.join(d, hs[2:] + ".tmp-4242"), "wb") as f:
        f.write(small[:5])
    p = subprocess.Popen([CMFFS, "push", m.ws], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not storage_fd_open(p.pid, m.remote):
        assert p.poll() is None, "push ended before writing"
        assert time.time() < deadline
        time.sleep(0.001)
    p.kill()
    p.wait()
    assert not os.path.exists(os.path.join(m.remote, "files/md5", hb[:2], hb[2:]))
    assert [t for t in tmps(m.remote) if not t.endswith(".tmp-4242")] == []
    cmffs("push", m.ws)
    with open(os.path.join(m.remote, "files/md5", hb[:2], hb[2:]), "rb") as f:
        assert md5(f.read()) == hb
    with open(os.path.join(m.remote, "files/md5", hs[:2], hs[2:]), "rb") as f:
        assert f.read() == small
    assert tmps(m.remote) == [], tmps(m.remote)


def test_two_pushers_of_the_same_object(tmp_path):
    """Two workspaces push the same bytes to one storage at once: both
    succeed, the object is whole, and no temporary is left."""
    need_fuse()
    remote = tmp_path / "remote"
    data = os.urandom(64 << 20)
    ms = []
    for i in range(2):
        (tmp_path / f"w{i}").mkdir()
        m = Mount(tmp_path / f"w{i}")
        m.remote = str(remote)
        os.makedirs(m.remote, exist_ok=True)
        init_unpushed(m)
        logged(m, "same.bin", data)
        set_local(m)
        ms.append(m)
    procs = [subprocess.Popen([CMFFS, "push", m.ws], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for m in ms]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    h = md5(data)
    with open(os.path.join(remote, "files/md5", h[:2], h[2:]), "rb") as f:
        assert md5(f.read()) == h
    assert tmps(str(remote)) == []


# --- item 14: a full storage is ENOSPC ------------------------------------

def test_full_local_storage_says_enospc(tmp_path):
    """A push to a full local storage (of a size that ends inside a write,
    so that the last write is short) reports "No space left on device"
    and leaves no partial object or temporary."""
    need_fuse()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    m = Mount(tmp_path)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1000k", "tmpfs", m.remote],
                   check=True)
    try:
        init_unpushed(m)
        data = os.urandom(3 << 20)
        logged(m, "big.bin", data)
        set_local(m)
        line = one_line(cmffs("push", m.ws, check=False))
        assert "No space left on device" in line, line
        h = md5(data)
        assert not os.path.exists(os.path.join(m.remote, "files/md5", h[:2], h[2:]))
        assert tmps(m.remote) == []
    finally:
        subprocess.run(["umount", "-l", m.remote])


def test_killed_ssh_push_leaves_no_temporary(tmp_path):
    """The same over SFTP (the sshd that scripts/test starts): a push killed
    while its temporary is on the server, then the next push stores the
    object and removes the leftover."""
    need_fuse()
    url = os.environ.get("CMFFS_SSH_URL")
    if not url:
        pytest.skip("no sshd (scripts/test starts one)")
    tag = f"hostile-{os.getpid()}-{time.monotonic_ns()}"
    root = url.split("/", 3)[3]
    root = os.path.join("/", root, tag)
    m = Mount(tmp_path)
    init_unpushed(m)
    big = os.urandom(256 << 20)
    logged(m, "big.bin", big)
    with open(os.path.join(m.ws, ".cmfconfig"), "a") as f:
        f.write(f"\n[storage]\ntype = ssh\nurl = {url}/{tag}\n"
                f"key = {os.environ['CMFFS_SSH_KEY']}\n"
                f"host-key-sha256 = {os.environ['CMFFS_SSH_HOSTKEY']}\n")
    p = subprocess.Popen([CMFFS, "push", m.ws], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not tmps(root):
        assert p.poll() is None, "push ended before its temporary appeared"
        assert time.time() < deadline
        time.sleep(0.001)
    p.kill()
    p.wait()
    assert tmps(root), "the kill left no temporary: nothing to test"
    h = md5(big)
    assert not os.path.exists(os.path.join(root, "files/md5", h[:2], h[2:]))
    cmffs("push", m.ws)
    with open(os.path.join(root, "files/md5", h[:2], h[2:]), "rb") as f:
        assert md5(f.read()) == h
    assert tmps(root) == [], tmps(root)
