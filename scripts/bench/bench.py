#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""cmffs benchmarks, each against a native baseline measured in the same
run: the figure is the ratio cmffs/native (lower is better, except P4 where
it is a throughput ratio).  Medians of several runs; no thresholds here.

  scripts/bench/bench.py [P1 P2 P3 P4 P5 P6] [--runs N] [--small]
                         [--p1-mib N] [--p2-files N]
                         [--p6] [--p6-dirs D] [--p6-files F]

P1  log one 1 GiB file (cp into outputs/)  vs  cp to disk + md5sum
P2  log 10,000 files of 4 KiB (cp -r)      vs  cp -r + md5sum of each
    P1 and P2 also run the same cp + md5sum on three FUSE floors (nullfs
    in memory, nullfs and nullfs_ll passing through to a directory) and the
    metadata store alone (storebench); P1 also the MD5 itself (openssl speed)
P3  ls -lR of 1,000 executions / 10,000 artifacts  vs  the same tree on disk
P4  push 1 GiB + 1,000 small files to S3   vs  aws s3 cp --recursive
P5  daemon resident memory after 100,000 artifacts (MiB)
P6  (opt-in: --p6, long) D directories of F files of 1 KiB (1,000 x 1,000)
    copied into one execution's inputs/, one cp -r per directory: cost per
    file of the first vs the last 10,000 files, daemon memory, ls -l and
    find against the tree on disk, and the same data logged as one artifact
    (touch DIR/.commit; a tar file)

Progress and ETAs go to stderr, results to stdout.
"""
import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CMFFS = os.environ.get("CMFFS_BIN", os.path.join(ROOT, "build", "cli", "cmffs"))
BENCH = os.path.join(os.path.dirname(os.path.dirname(CMFFS)), "scripts", "bench")
NULLFS = os.environ.get("NULLFS_BIN", os.path.join(BENCH, "nullfs"))
NULLFS_LL = os.environ.get("NULLFS_LL_BIN", os.path.join(BENCH, "nullfs_ll"))
STOREBENCH = os.environ.get("STOREBENCH_BIN", os.path.join(BENCH, "storebench"))


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


def timed_steps(*cmds):
    """The page cache dropped once, then each command timed: [seconds]."""
    sh("sync")
    drop_caches()
    out = []
    for cmd in cmds:
        t = time.monotonic()
        sh(cmd)
        out.append(time.monotonic() - t)
    return out


def progress(msg):
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


def duration(s):
    s = int(round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s // 60 % 60:02d} min"


class NullFs:
    """nullfs and nullfs_ll (scripts/bench/nullfs.c, nullfs_ll.c): FUSE
    filesystems that do no work of their own.  kind "mem": nullfs keeping
    names and sizes in memory and dropping the bytes; "hl": nullfs passing
    through to a backing directory (libfuse's high-level API, 1 s caches,
    as cmffs); "ll": nullfs_ll, the same on the low-level API (1 h caches).
    What a workload costs on one of them is FUSE's own floor here."""

    KINDS = {"mem": NULLFS, "hl": NULLFS, "ll": NULLFS_LL}

    def __init__(self, base, kind="mem"):
        self.mnt = os.path.join(base, "null")
        os.makedirs(self.mnt)
        cmd = [self.KINDS[kind], self.mnt, "-f"]
        if kind != "mem":
            self.backing = os.path.join(base, "backing")
            os.makedirs(self.backing)
            cmd += ["-o", f"backing={self.backing}"]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        while not os.path.ismount(self.mnt):
            if self.proc.poll() is not None:
                sys.exit(f"cmffs: {cmd[0]} did not mount")
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
            if self.proc.poll() is not None:
                sys.exit("cmffs: the daemon did not mount")
            time.sleep(0.02)

    def execution(self, p="bench", s="s", e="e"):
        path = os.path.join(self.mnt, "pipelines", p, s, e)
        sh(f"mkdir -p '{path}'")
        return path

    def memory_mib(self):
        """The daemon's (VmRSS, VmHWM) in MiB, from /proc/PID/status."""
        got = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                key = line.split(":")[0]
                if key in ("VmRSS", "VmHWM"):
                    got[key] = int(line.split()[1]) / 1024
        return got.get("VmRSS", 0.0), got.get("VmHWM", 0.0)

    def rss_mib(self):
        return self.memory_mib()[0]

    def close(self):
        subprocess.run([CMFFS, "umount", self.mnt], check=True)
        self.proc.wait()


def md5_rate():
    """MD5 bytes/s on one core, by `openssl speed -evp md5` (1 MiB blocks),
    or by hashlib over 64 MiB in memory if openssl is missing."""
    try:
        out = subprocess.run(["openssl", "speed", "-evp", "md5", "-bytes",
                              "1048576", "-seconds", "3", "-mr"],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("+F:"):
                return float(line.split(":")[-1]), "openssl speed -evp md5"
    except (OSError, subprocess.CalledProcessError):
        pass
    import hashlib
    buf = os.urandom(64 << 20)
    t = time.monotonic()
    for _ in range(4):
        hashlib.md5(buf).hexdigest()
    return 4 * len(buf) / (time.monotonic() - t), "hashlib md5 in memory"


class Table:
    """Rows of one case: seconds (medians of the runs) with ratios to native
    and to nullfs (the high-level passthrough floor)."""

    def __init__(self, title, runs):
        self.title, self.runs, self.rows = title, runs, []

    def add(self, key, label, seconds, part=None):
        self.rows.append((key, label, statistics.median(seconds),
                          statistics.median(part) if part else None))

    def get(self, key):
        return next(r[2] for r in self.rows if r[0] == key)

    def text(self, notes=()):
        native, null = self.get("native"), self.get("nullfs")
        w = max(len(r[1]) for r in self.rows)
        out = [f"{self.title} (medians of {self.runs} runs)",
               f"    {'':{w}}  {'seconds':>8}  {'cp alone':>8}  {'/native':>7}  {'/nullfs':>7}"]
        for _, label, sec, part in self.rows:
            p = f"{part:8.3f}" if part is not None else f"{'':8}"
            out.append(f"    {label:{w}}  {sec:8.3f}  {p}  {sec / native:7.2f}  {sec / null:7.2f}")
        return "\n".join(out + [f"    {n}" for n in notes])


def floors_round(tmp, i, src, copy, verify, seconds):
    """One run of the same copy + md5sum on native ext4 and the three FUSE
    floors; appends (total, cp alone) to seconds[label]."""
    def add(label, steps):
        seconds.setdefault(label, ([], []))
        seconds[label][0].append(sum(steps))
        seconds[label][1].append(steps[0])

    d = os.path.join(tmp, f"disk{i}")
    add("native", timed_steps(copy(src, d), verify(d)))
    sh(f"rm -r {d}")
    for kind, label in (("mem", "nullfs-mem"), ("hl", "nullfs"), ("ll", "nullfs_ll")):
        base = os.path.join(tmp, f"{kind}{i}")
        n = NullFs(base, kind)
        dst = os.path.join(n.execution(), "outputs", "x")
        add(label, timed_steps(copy(src, dst), verify(dst)))
        n.close()
        shutil.rmtree(base)


ROWS = {
    "native": "native ext4",
    "nullfs-mem": "nullfs in memory, bytes dropped (high-level, 1 s caches)",
    "nullfs": "nullfs passthrough (high-level API, 1 s caches)",
    "nullfs_ll": "nullfs_ll passthrough (low-level API, 1 h caches)",
}


def floors_table(title, runs, seconds):
    t = Table(title, runs)
    for key, label in ROWS.items():
        t.add(key, label, seconds[key][0], seconds[key][1])
    return t


def p1(tmp, args):
    size_mib = args.p1_mib or (128 if args.small else 1024)
    src = os.path.join(tmp, "big.bin")
    sh(f"head -c {size_mib}M /dev/urandom > {src}")
    rate, how = md5_rate()
    seconds, ours, store = {}, [], []
    for i in range(args.runs):
        progress(f"P1 run {i + 1} of {args.runs}")
        floors_round(tmp, i, src, lambda s, d: f"cp {s} {d}",
                     lambda d: f"md5sum {d} >/dev/null", seconds)
        w = Workspace(os.path.join(tmp, f"w{i}"))
        e = w.execution(e=f"e{i}")
        ours.append(timed(f"cp {src} {e}/outputs/big.bin"))
        w.close()
        shutil.rmtree(os.path.join(tmp, f"w{i}"))
        store.append(storebench(tmp, i, 1))
    t = floors_table(f"P1 log one {size_mib} MiB file: cp + md5sum, but cp alone "
                     f"into cmffs", args.runs, seconds)
    floor = size_mib * 1048576 / rate
    t.add("md5", f"MD5 alone ({how}, {rate / 1e6:.0f} MB/s)", [floor])
    t.add("store", "storebench: the store alone, one file", store)
    t.add("cmffs", "cmffs: cp into outputs/", ours)
    mo = statistics.median(ours)
    return t.text([f"cmffs / MD5 floor {mo / floor:.2f}; "
                   f"cmffs / nullfs_ll {mo / t.get('nullfs_ll'):.2f}; "
                   f"target cmffs / native <= 0.8"])


def storebench(tmp, i, n):
    """The metadata store alone: the two model calls per file, no FUSE."""
    sdir = os.path.join(tmp, f"store{i}")
    os.makedirs(sdir)
    out = subprocess.run([STOREBENCH, sdir, str(n)], check=True,
                         capture_output=True, text=True).stdout
    shutil.rmtree(sdir)
    return float(out)


def make_small_files(d, n):
    os.makedirs(d)
    for i in range(n):
        with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f:
            f.write(os.urandom(4096))


def p2(tmp, args):
    n = args.p2_files or (1000 if args.small else 10000)
    src = os.path.join(tmp, "small")
    make_small_files(src, n)
    seconds, ours, store = {}, [], []
    for i in range(args.runs):
        progress(f"P2 run {i + 1} of {args.runs}")
        floors_round(tmp, i, src, lambda s, d: f"cp -r {s} {d}",
                     lambda d: f"find {d} -type f -exec md5sum {{}} + >/dev/null",
                     seconds)
        w = Workspace(os.path.join(tmp, f"w{i}"))
        e = w.execution(e=f"e{i}")
        ours.append(timed(f"cp -r {src} {e}/outputs/small"))
        w.close()
        shutil.rmtree(os.path.join(tmp, f"w{i}"))
        store.append(storebench(tmp, i, n))
    t = floors_table(f"P2 log {n} files of 4 KiB: cp -r + md5sum of each, but "
                     f"cp -r alone into cmffs", args.runs, seconds)
    t.add("store", "storebench: the store alone (no FUSE, no bytes)", store)
    t.add("cmffs", "cmffs: cp -r into outputs/", ours)
    mo = statistics.median(ours)
    return t.text([f"cmffs / nullfs_ll {mo / t.get('nullfs_ll'):.2f}; "
                   f"target cmffs / native <= 3"])


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


class Phase:
    """A long step of P6, with progress and an ETA on stderr: from the rate
    so far for loops (every 30 s and at the end), from an estimate given
    up front for single commands."""

    def __init__(self, name, total=None, unit="", estimate=None):
        self.name, self.total, self.unit = name, total, unit
        self.t0 = self.last = time.monotonic()
        what = f"{total} {unit}" if total else "started"
        eta = f", ETA {duration(estimate)} ({time.strftime('%H:%M', time.localtime(time.time() + estimate))})" \
            if estimate is not None else ""
        progress(f"P6 {name}: {what}{eta}")

    def step(self, done):
        now = time.monotonic()
        if now - self.last < 30 and done != self.total:
            return
        self.last = now
        el = now - self.t0
        left = el / done * (self.total - done) if done else 0.0
        progress(f"P6 {self.name}: {done}/{self.total} {self.unit}, "
                 f"{duration(el)} so far, ETA {duration(left)}")

    def end(self):
        el = time.monotonic() - self.t0
        progress(f"P6 {self.name}: done in {duration(el)}")
        return el


def p6_tree(src, dirs, files):
    """dirs directories of files files of 1 KiB each, all different (no
    two share an MD5, so the store and the cache hold one object per file)."""
    ph = Phase("making the tree on disk", dirs, "directories")
    for d in range(dirs):
        dd = os.path.join(src, f"d{d:05d}")
        os.makedirs(dd)
        for f in range(files):
            with open(os.path.join(dd, f"f{f:05d}"), "wb") as fh:
                fh.write(os.urandom(1024))
        ph.step(d + 1)
    ph.end()


def p6_copy(name, src, dst, dirs):
    """One cp -r per directory of src into dst: the seconds of each."""
    names = sorted(os.listdir(src))
    sh("sync")
    drop_caches()
    ph = Phase(name, dirs, "directories")
    out = []
    for i, d in enumerate(names):
        t = time.monotonic()
        subprocess.run(["cp", "-r", os.path.join(src, d), dst], check=True)
        out.append(time.monotonic() - t)
        ph.step(i + 1)
    ph.end()
    return out


def p6_preflight(tmp, n):
    """Room for the tree three times (source, disk copy, cmffs's cache) at
    one 4 KiB block and one inode per file, and two tar files of it."""
    st = os.statvfs(tmp)
    need_bytes = n * 4096 * 3 + n * 1536 * 2 + (1 << 30)
    need_inodes = n * 3 + 100000
    have_bytes, have_inodes = st.f_bavail * st.f_frsize, st.f_favail
    if have_bytes < need_bytes or have_inodes < need_inodes:
        sys.exit(f"cmffs: P6 needs {need_bytes >> 30} GiB and {need_inodes} inodes "
                 f"free in {tmp}; there are {have_bytes >> 30} GiB and {have_inodes}")


def p6(tmp, args):
    dirs = args.p6_dirs or (100 if args.small else 1000)
    files = args.p6_files or 1000
    n = dirs * files
    p6_preflight(tmp, n)
    # the first and last 10,000 files, in whole directories, at most half each
    k = max(1, min(math.ceil(10000 / files), dirs // 2))
    src = os.path.join(tmp, "src", "tree")
    p6_tree(src, dirs, files)

    disk = os.path.join(tmp, "disk", "tree")
    os.makedirs(disk)
    native = p6_copy("native cp -r, one per directory", src, disk, dirs)

    w = Workspace(os.path.join(tmp, "w"))
    e = w.execution(p="p6", s="s", e="e")
    tree = os.path.join(e, "inputs", "tree")
    os.mkdir(tree)
    ours = p6_copy("cmffs cp -r into inputs/, one per directory", src, tree, dirs)
    rss_copy = w.memory_mib()
    progress(f"P6 daemon memory after the copy: VmRSS {rss_copy[0]:.1f} MiB, "
             f"VmHWM {rss_copy[1]:.1f} MiB")
    last = os.path.basename(sorted(os.listdir(src))[-1])
    sh(f"diff -r {src}/{last} {tree}/{last}")     # the bytes are there

    mid = sorted(os.listdir(src))[dirs // 2]
    ph = Phase(f"ls -l and find | wc -l, disk and mount, {args.runs} runs",
               estimate=args.runs * 2 * sum(native) / 10)
    ls_native, ls_ours, find_native, find_ours = [], [], [], []
    counts = set()
    for _ in range(args.runs):
        ls_native.append(timed(f"ls -l {disk}/{mid} >/dev/null"))
        ls_ours.append(timed(f"ls -l {tree}/{mid} >/dev/null"))
        for d, acc in ((disk, find_native), (tree, find_ours)):
            sh("sync")
            drop_caches()
            t = time.monotonic()
            out = subprocess.run(f"find {d} | wc -l", shell=True, check=True,
                                 capture_output=True, text=True).stdout
            acc.append(time.monotonic() - t)
            counts.add(int(out))
    ph.end()
    rss_find = w.memory_mib()
    progress(f"P6 daemon memory after ls and find: VmRSS {rss_find[0]:.1f} MiB, "
             f"VmHWM {rss_find[1]:.1f} MiB")
    if counts != {n + dirs + 1}:
        sys.exit(f"cmffs: P6 find counted {sorted(counts)} names, not {n + dirs + 1}")

    # the alternative: the same data logged as one artifact.  A DVC
    # directory (touch DIR/.commit: one .dir manifest of every file)...
    ph = Phase("touch inputs/tree/.commit (one .dir artifact)")
    commit = timed(f"touch {tree}/.commit")
    ph.end()
    oid = os.getxattr(tree, "user.cmf.hash").decode()
    if not oid.endswith(".dir"):
        sys.exit(f"cmffs: P6 .commit did not log a .dir artifact ({oid})")
    rss_end = w.memory_mib()
    w.close()
    shutil.rmtree(os.path.join(tmp, "disk"))

    # ... or one tar file, written by tar straight into inputs/
    tar_disk = os.path.join(tmp, "tree.tar")
    ph = Phase("tar cf + md5sum on disk", estimate=sum(native))   # reads as much as cp
    tar_native = timed_steps(f"tar cf {tar_disk} -C {os.path.dirname(src)} tree",
                             f"md5sum {tar_disk} >/dev/null")
    ph.end()
    tar_size = os.path.getsize(tar_disk)
    os.unlink(tar_disk)
    w2 = Workspace(os.path.join(tmp, "w2"))
    e2 = w2.execution(p="p6", s="s", e="tar")
    ph = Phase("tar cf into inputs/ (one file artifact)",
               estimate=2 * sum(tar_native))   # a guess: twice the disk
    tar_ours = timed(f"tar cf {e2}/inputs/tree.tar -C {os.path.dirname(src)} tree")
    ph.end()
    w2.close()

    med = statistics.median
    first, lastk = med(ours[:k]) / files, med(ours[-k:]) / files
    nfirst, nlast = med(native[:k]) / files, med(native[-k:]) / files
    lines = [
        f"P6 {dirs} directories x {files} files of 1 KiB = {n} files into one "
        f"execution's inputs/ (cp -r per directory)",
        f"    cost per file, median over the first {k} directories "
        f"({k * files} files) vs the last {k}:",
        f"        cmffs  {first * 1e3:.3f} ms -> {lastk * 1e3:.3f} ms: "
        f"ratio {lastk / first:.2f} (target <= 1.3)",
        f"        native {nfirst * 1e3:.3f} ms -> {nlast * 1e3:.3f} ms: "
        f"ratio {nlast / nfirst:.2f}",
        f"    whole copy: cmffs {sum(ours):.1f} s, native {sum(native):.1f} s, "
        f"ratio {sum(ours) / sum(native):.2f}",
        f"    daemon memory after the copy: VmRSS {rss_copy[0]:.1f} MiB, "
        f"VmHWM {rss_copy[1]:.1f} MiB",
        f"    daemon memory after ls -l and find: VmRSS {rss_find[0]:.1f} MiB, "
        f"VmHWM {rss_find[1]:.1f} MiB",
        f"    daemon memory at the end (after find and .commit): "
        f"VmRSS {rss_end[0]:.1f} MiB, VmHWM {rss_end[1]:.1f} MiB",
        f"    ls -l of {files} files (one directory): cmffs {med(ls_ours):.3f} s, "
        f"native {med(ls_native):.3f} s, ratio {med(ls_ours) / med(ls_native):.2f} "
        f"(medians of {args.runs})",
        f"    find | wc -l of the tree ({n + dirs + 1} names): cmffs "
        f"{med(find_ours):.3f} s, native {med(find_native):.3f} s, ratio "
        f"{med(find_ours) / med(find_native):.2f}",
        "    the same data as one artifact:",
        f"        touch tree/.commit after the copy ({oid}, {n} files): "
        f"{commit:.3f} s, {commit / n * 1e6:.1f} us per file; copy + commit "
        f"{sum(ours) + commit:.1f} s",
        f"        tar cf into inputs/ ({tar_size / 1048576:.1f} MiB, one file): cmffs "
        f"{tar_ours:.2f} s, native tar + md5sum {sum(tar_native):.2f} s, ratio "
        f"{tar_ours / sum(tar_native):.2f}; cmffs tar / cmffs cp -r "
        f"{tar_ours / sum(ours):.2f}",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="cmffs benchmarks (see the top of this file)")
    ap.add_argument("which", nargs="*", help="cases: P1 P2 P3 P4 P5 P6 "
                    "(default P1 P2 P3 P5, and P6 with --p6)")
    ap.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    ap.add_argument("--small", action="store_true", help="quick sizes")
    ap.add_argument("--p1-mib", type=int, help="P1 file size in MiB (1024)")
    ap.add_argument("--p2-files", type=int, help="P2 number of files (10000)")
    ap.add_argument("--p6", action="store_true", help="also run P6 (long)")
    ap.add_argument("--p6-dirs", type=int, help="P6 directories (1000)")
    ap.add_argument("--p6-files", type=int, help="P6 files per directory (1000)")
    args = ap.parse_args()
    which = [w.upper() for w in args.which] or ["P1", "P2", "P3", "P5"]
    if args.p6 and "P6" not in which:
        which.append("P6")
    table = {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5, "P6": p6}
    bad = [w for w in which if w not in table]
    if bad or args.runs < 1:
        sys.exit(f"cmffs: unknown case {' '.join(bad)}" if bad else "cmffs: --runs must be >= 1")
    for path in (CMFFS, NULLFS, NULLFS_LL, STOREBENCH):
        if not os.access(path, os.X_OK):
            sys.exit(f"cmffs: build first ({path} is missing)")
    for name in which:
        with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
            if name in ("P1", "P2", "P6"):
                print(table[name](tmp, args))
                sys.stdout.flush()
                continue
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
        sys.stdout.flush()


if __name__ == "__main__":
    main()
