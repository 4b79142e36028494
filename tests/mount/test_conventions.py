# SPDX-License-Identifier: MIT
"""The FUSE ecosystem's mount conventions, tried for real: /etc/fstab lines
(both the cmffs#WS form and type fuse.cmffs) through mount(8) and
mount.fuse3, a systemd mount unit (verified; this machine has no systemd
running), clean exit on SIGTERM, and no dead mount left by kill -9 when
mounted with auto_unmount."""
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import CMFFS, cmffs, fuse_usable
from servers import wait_for


@pytest.fixture
def ws(tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    if os.geteuid() != 0:
        pytest.skip("mount(8) with fstab entries needs root here")
    w = tmp_path / "ws"
    cmffs("init", str(w))
    (tmp_path / "mnt").mkdir()
    # mount(8) resets PATH for its helpers, and mount.fuse3 runs the program
    # named in the entry from there: put the binary under test where
    # `meson install` puts it, for the duration of the test
    link = "/usr/local/bin/cmffs"
    made = False
    if not os.path.exists(link):
        os.symlink(CMFFS, link)
        made = True
    elif os.path.realpath(link) != os.path.realpath(CMFFS):
        pytest.skip(f"{link} is another cmffs")
    yield w, tmp_path / "mnt", dict(os.environ)
    if made:
        os.unlink(link)


def unmount(mnt):
    r = cmffs("umount", str(mnt), check=False)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("form", ["cmffs#{ws} {mnt} fuse defaults,auto_unmount 0 0",
                                  "{ws} {mnt} fuse.cmffs defaults,auto_unmount 0 0"])
def test_fstab_line(ws, tmp_path, form):
    w, mnt, env = ws
    fstab = tmp_path / "fstab"
    fstab.write_text(form.format(ws=w, mnt=mnt) + "\n")
    r = subprocess.run(["mount", "-T", str(fstab), str(mnt)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    try:
        assert os.path.ismount(mnt)
        assert sorted(os.listdir(mnt)) == [".cmf", "artifacts", "index.html", "pipelines"]
        with open("/proc/mounts") as f:
            assert any(l.split()[1] == str(mnt) and l.split()[2] == "fuse.cmffs"
                       for l in f)
    finally:
        unmount(mnt)
    assert not os.path.ismount(mnt)


def test_systemd_mount_unit(ws, tmp_path):
    w, mnt, env = ws
    if not shutil.which("systemd-escape") or not shutil.which("systemd-analyze"):
        pytest.skip("systemd tools are not installed")
    name = subprocess.run(["systemd-escape", "--path", "--suffix=mount", str(mnt)],
                          capture_output=True, text=True, check=True).stdout.strip()
    unit = tmp_path / name
    unit.write_text(
        "[Unit]\nDescription=cmffs workspace\nAfter=network-online.target\n\n"
        f"[Mount]\nWhat={w}\nWhere={mnt}\nType=fuse.cmffs\n"
        "Options=auto_unmount,_netdev\n\n[Install]\nWantedBy=multi-user.target\n")
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert "error" not in r.stderr.lower() or "no such file" in r.stderr.lower(), r.stderr
    # what systemd runs for the unit: mount -t TYPE -o OPTIONS WHAT WHERE
    r = subprocess.run(["mount", "-t", "fuse.cmffs", "-o", "auto_unmount,_netdev",
                        str(w), str(mnt)], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    try:
        assert os.path.ismount(mnt)
    finally:
        subprocess.run(["umount", str(mnt)], check=True, timeout=60)


def test_sigterm_unmounts_cleanly(ws):
    w, mnt, env = ws
    p = subprocess.Popen([CMFFS, "mount", str(w), str(mnt), "-f"],
                         stderr=subprocess.PIPE)
    wait_for(lambda: os.path.ismount(mnt), what="the mount")
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 0, p.stderr.read()
    assert not os.path.ismount(mnt)


def mounted_at(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == str(path) for line in f)


def test_kill_9_leaves_no_dead_mount_with_auto_unmount(ws):
    w, mnt, env = ws
    p = subprocess.Popen([CMFFS, "mount", str(w), str(mnt), "-f", "-o",
                          "auto_unmount"], stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.ismount(mnt), what="the mount")
    p.send_signal(signal.SIGKILL)
    p.wait()
    # not os.path.ismount(): it is False for a dead mount too (ENOTCONN)
    wait_for(lambda: not mounted_at(mnt), timeout=30,
             what="the mount to go away")
    # and the workspace mounts again at once
    r = cmffs("mount", str(w), str(mnt))
    unmount(mnt)
