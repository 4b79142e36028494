#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""cmffs benchmarks, each against a native baseline measured in the same
run: the figure is the ratio cmffs/native (lower is better, except P4 where
it is a throughput ratio).  Medians of several runs; no thresholds here.

  scripts/bench/bench.py [P1 P2 P3 P4 P5] [--runs N] [--small]

P1  log one 1 GiB file (cp into outputs/)  vs  cp to disk + md5sum
P2  log 10,000 files of 4 KiB (cp -r)      vs  cp -r + md5sum of each
P3  ls -lR of 1,000 executions / 10,000 artifacts  vs  the same tree on disk
P4  push 1 GiB + 1,000 small files to S3   vs  aws s3 cp --recursive
P5  daemon resident memory after 100,000 artifacts (MiB)
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CMFFS = os.environ.get("CMFFS_BIN", os.path.join(ROOT, "build", "cli", "cmffs"))
NULLFS = os.environ.get("NULLFS_BIN", os.path.join(ROOT, "build", "scripts", "bench", "nullfs"))
STOREBENCH = os.path.join(ROOT, "build", "scripts", "bench", "storebench")


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def drop_caches():
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError:
        pass


def timed(cmd):
    sh("sync")
    drop_caches()
    t = time.monotonic()
    sh(cmd)
    return time.monotonic() - t


class NullFs:
    """nullfs (scripts/bench/nullfs.c): FUSE that keeps names and sizes,
    drops bytes.  What a workload costs on it is FUSE's own floor here."""

    def __init__(self, base):
        self.mnt = os.path.join(base, "null")
        os.makedirs(self.mnt)
        self.proc = subprocess.Popen([NULLFS, self.mnt, "-f"],
                                     stderr=subprocess.DEVNULL)
        while not os.path.ismount(self.mnt):
            time.sleep(0.02)

    def execution(self, p="bench", s="s", e="e"):
        path = os.path.join(self.mnt, "pipelines", p, s, e)
        sh(f"mkdir -p '{path}/outputs'")
        return path

    def close(self):
        subprocess.run(["umount", self.mnt], check=True)
        self.proc.wait()


class Workspace:
    def __init__(self, base):
        self.base = base
        self.ws = os.path.join(base, "ws")
        self.mnt = os.path.join(base, "mnt")
        os.makedirs(self.mnt)
        subprocess.run([CMFFS, "init", self.ws], check=True)
        self.proc = subprocess.Popen([CMFFS, "mount", self.ws, self.mnt, "-f"],
                                     stderr=subprocess.DEVNULL)
        while not os.path.ismount(self.mnt):
            time.sleep(0.02)

    def execution(self, p="bench", s="s", e="e"):
        path = os.path.join(self.mnt, "pipelines", p, s, e)
        sh(f"mkdir -p '{path}'")
        return path

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def close(self):
        subprocess.run([CMFFS, "umount", self.mnt], check=True)
        self.proc.wait()


def p1(tmp, runs, small):
    size_mib = 128 if small else 1024
    src = os.path.join(tmp, "big.bin")
    sh(f"head -c {size_mib}M /dev/urandom > {src}")
    native, ours, floor = [], [], []
    for i in range(runs):
        d = os.path.join(tmp, f"disk{i}")
        os.makedirs(d)
        native.append(timed(f"cp {src} {d}/big.bin && md5sum {d}/big.bin >/dev/null"))
        shutil.rmtree(d)
        w = Workspace(os.path.join(tmp, f"w{i}"))
        e = w.execution(e=f"e{i}")
        ours.append(timed(f"cp {src} {e}/outputs/big.bin"))
        w.close()
        shutil.rmtree(os.path.join(tmp, f"w{i}"))
        n = NullFs(os.path.join(tmp, f"n{i}"))
        floor.append(timed(f"cp {src} {n.execution()}/outputs/big.bin"))
        n.close()
    return f"P1 log one {size_mib} MiB file", ours, native, "<= 0.8", floor


def make_small_files(d, n):
    os.makedirs(d)
    for i in range(n):
        with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f:
            f.write(os.urandom(4096))


def p2(tmp, runs, small):
    n = 1000 if small else 10000
    src = os.path.join(tmp, "small")
    make_small_files(src, n)
    native, ours, floor, store = [], [], [], []
    for i in range(runs):
        d = os.path.join(tmp, f"disk{i}")
        native.append(timed(f"cp -r {src} {d} && find {d} -type f -exec md5sum {{}} + >/dev/null"))
        shutil.rmtree(d)
        w = Workspace(os.path.join(tmp, f"w{i}"))
        e = w.execution(e=f"e{i}")
        ours.append(timed(f"cp -r {src} {e}/outputs/small"))
        w.close()
        shutil.rmtree(os.path.join(tmp, f"w{i}"))
        nf = NullFs(os.path.join(tmp, f"n{i}"))
        floor.append(timed(f"cp -r {src} {nf.execution()}/outputs/small"))
        nf.close()
        # the metadata store alone: the two model calls per file, no FUSE
        sdir = os.path.join(tmp, f"store{i}")
        os.makedirs(sdir)
        out = subprocess.run([STOREBENCH, sdir, str(n)], check=True,
                             capture_output=True, text=True).stdout
        store.append(float(out))
    return f"P2 log {n} files of 4 KiB", ours, native, "<= 3", floor, store


def p3(tmp, runs, small):
    """The disk and nullfs get the tree exactly as cmffs shows it
    (execution.json, properties/, inputs/, ... included), copied out of
    the mount: all three list the same names and sizes."""
    nexec = 100 if small else 1000
    per = 10
    w = Workspace(os.path.join(tmp, "w"))
    nf = NullFs(tmp)
    for s in range(10):
        for e in range(nexec // 10):
            path = w.execution(s=f"stage{s}", e=f"run{e}")
            for a in range(per):
                with open(os.path.join(path, "outputs", f"a{a}.txt"), "wb") as f:
                    f.write(f"{s}-{e}-{a}\n".encode())
    disk = os.path.join(tmp, "disk")
    os.makedirs(disk)
    os.makedirs(os.path.join(nf.mnt, "pipelines"))
    sh(f"cp -r {w.mnt}/pipelines/bench {disk}/ && "
       f"cp -r {w.mnt}/pipelines/bench {nf.mnt}/pipelines/")
    native, ours, floor = [], [], []
    for i in range(runs):
        native.append(timed(f"ls -lR {disk}/bench >/dev/null"))
        ours.append(timed(f"ls -lR {w.mnt}/pipelines/bench >/dev/null"))
        floor.append(timed(f"ls -lR {nf.mnt}/pipelines/bench >/dev/null"))
    w.close()
    nf.close()
    return (f"P3 ls -lR of {nexec} executions, {nexec * per} artifacts",
            ours, native, "<= 5", floor)


def p4(tmp, runs, small):
    """Swift's s3api on loopback (tests/servers/swift.sh), our push vs
    Debian's aws s3 cp --recursive of the same files."""
    # Debian's awscli, not a pyenv shim or another version found on PATH
    aws = "/usr/bin/aws" if os.access("/usr/bin/aws", os.X_OK) else shutil.which("aws")
    if not aws:
        sys.exit("cmffs: P4 needs awscli (apt-get install awscli)")
    swift = os.path.join(ROOT, "tests", "servers", "swift.sh")
    port = 18000 + os.getpid() % 1000
    sdir = os.path.join(tmp, "swift")
    sh(f"{swift} start {sdir} {port} >/dev/null")
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test:tester",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    try:
        sh(f"{aws} --endpoint-url {endpoint} s3 mb s3://bench >/dev/null", env=env)
        big_mib = 128 if small else 1024
        src = os.path.join(tmp, "src")
        make_small_files(src, 100 if small else 1000)
        sh(f"head -c {big_mib}M /dev/urandom > {src}/big.bin")
        native, ours = [], []
        for i in range(runs):
            t = time.monotonic()
            subprocess.run(f"{aws} --endpoint-url {endpoint} s3 cp --recursive --quiet "
                           f"{src} s3://bench/native{i}/", shell=True, check=True, env=env)
            native.append(time.monotonic() - t)
            # log the files with no storage configured, then push them
            w = Workspace(os.path.join(tmp, f"w{i}"))
            e = w.execution(e=f"e{i}")
            sh(f"cp -r {src} {e}/outputs/src")
            w.close()
            with open(os.path.join(w.ws, ".cmfconfig"), "a") as f:
                f.write(f"[storage]\ntype = s3\nurl = s3://bench/ours{i}\n"
                        f"endpoint-url = {endpoint}\naccess-key-id = test:tester\n"
                        f"secret-key = testing\n")
            t = time.monotonic()
            subprocess.run([CMFFS, "push", w.ws], check=True, stdout=subprocess.DEVNULL)
            ours.append(time.monotonic() - t)
        # throughput ratio: native time / our time (higher is better)
        return (f"P4 push {big_mib} MiB + small files to S3 (throughput ratio)",
                [statistics.median(native) / statistics.median(ours)], [1.0], ">= 1.0")
    finally:
        subprocess.run([swift, "stop", sdir], capture_output=True)


def p5(tmp, runs, small):
    n = 10000 if small else 100000
    w = Workspace(os.path.join(tmp, "w"))
    per_exec = 1000
    for e in range(n // per_exec):
        path = w.execution(e=f"e{e}")
        for a in range(per_exec):
            with open(os.path.join(path, "outputs", f"a{a}"), "wb") as f:
                f.write(f"{e}-{a}".encode())
    rss = w.rss_mib()
    w.close()
    return f"P5 daemon RSS after {n} artifacts", [rss], [64.0], "<= 64 MiB"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("which", nargs="*", default=["P1", "P2", "P3", "P5"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--small", action="store_true", help="quick sizes")
    args = ap.parse_args()
    if not os.path.exists(CMFFS):
        sys.exit(f"cmffs: build first ({CMFFS} is missing)")
    table = {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5}
    for name in args.which:
        with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
            title, ours, native, target, *floor = table[name](tmp, args.runs, args.small)
        mo, mn = statistics.median(ours), statistics.median(native)
        if name == "P5":
            print(f"{title}: {mo:.1f} MiB (target {target})")
        elif name == "P4":
            print(f"{title}: {mo:.2f} (target {target})")
        else:
            print(f"{title}: cmffs {mo:.3f} s, native {mn:.3f} s, "
                  f"ratio {mo / mn:.2f} (target {target}; runs {len(ours)})")
            if floor:
                mf = statistics.median(floor[0])
                print(f"    FUSE floor (nullfs: no work, bytes dropped): {mf:.3f} s, "
                      f"ratio {mf / mn:.2f}; cmffs / nullfs {mo / mf:.2f}")
            if len(floor) > 1:
                ms = statistics.median(floor[1])
                print(f"    metadata store alone (storebench: the same create + "
                      f"log calls, no FUSE): {ms:.3f} s, ratio {ms / mn:.2f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
