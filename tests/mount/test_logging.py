# SPDX-License-Identifier: MIT
"""Logging artifacts with ordinary file operations, checked in WS/mlmd."""
import errno
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import Mount, cmffs, fuse_usable, mkexec


def md5(data):
    return hashlib.md5(data).hexdigest()


def write(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


def artifacts(m):
    return m.sql("SELECT a.name, a.uri, t.name FROM Artifact a JOIN Type t"
                 " ON t.id = a.type_id ORDER BY a.id")


def test_layout_and_contexts(mounted, execution):
    assert sorted(os.listdir(mounted.mnt)) == [".cmf", "artifacts", "index.html",
                                              "pipelines"]
    assert sorted(os.listdir(execution)) == [
        "dataslices", "diff", "execution.json", "index.html", "inputs", "lineage", "metrics",
        "outputs", "properties",
        "state", "tensorboard"]
    rows = mounted.sql(
        "SELECT c.name, t.name FROM Context c JOIN Type t ON t.id=c.type_id"
        " ORDER BY c.id")
    assert rows == [("demo", "Parent_Context"), ("demo/prep", "Pipeline_Stage")]
    assert mounted.sql("SELECT context_id, parent_context_id FROM ParentContext") == [(2, 1)]
    props = dict(mounted.sql(
        "SELECT name, coalesce(string_value, int_value) FROM ExecutionProperty"
        " WHERE is_custom_property=0"))
    assert set(props) == {"Context_Type", "Context_ID", "Execution",
                          "Execution_type_name", "Pipeline_Type", "Pipeline_id",
                          "Git_Repo", "Git_Start_Commit", "Git_End_Commit",
                          "Execution_uuid"}
    assert props["Context_Type"] == "demo/prep"
    assert props["Pipeline_Type"] == "demo"
    assert props["Context_ID"] == 2 and props["Pipeline_id"] == 1
    # the caller is the shell that ran mkdir, recorded like sys.argv
    assert props["Execution"].startswith("['sh', '-c', 'mkdir -p")
    assert mounted.sql("SELECT count(*) FROM Association") == [(1,)]


def test_copy_logs_with_md5_and_reads_back(mounted, execution, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    dst = os.path.join(execution, "outputs", "data.bin")
    subprocess.run(["cp", str(src), dst], check=True)
    h = md5(data)
    assert artifacts(mounted) == [(f"data.bin:{h}", h, "Dataset")]
    with open(dst, "rb") as f:
        assert f.read() == data
    cached = os.path.join(mounted.ws, ".cmf/cache/files/md5", h[:2], h[2:])
    assert os.stat(cached).st_mode & 0o777 == 0o444
    st = os.stat(dst)
    assert st.st_size == len(data)
    ev = mounted.sql("SELECT type FROM Event")
    assert ev == [(4,)]
    # attributed to the stage
    assert mounted.sql("SELECT context_id FROM Attribution") == [(2,)]
    # url names the remote object, DVC 3 layout
    url = mounted.sql("SELECT string_value FROM ArtifactProperty WHERE name='url'")
    assert url == [(f"demo:{mounted.remote}/files/md5/{h[:2]}/{h[2:]}",)]


def test_tree_copy_models_and_find(mounted, execution, tmp_path):
    src = tmp_path / "tree"
    (src / "models").mkdir(parents=True)
    (src / "data" / "deep").mkdir(parents=True)
    files = {"models/model.pkl": b"weights", "data/a.csv": b"a,b\n1,2\n",
             "data/deep/b.txt": b"bee", "top.txt": b""}
    for rel, data in files.items():
        (src / rel).write_bytes(data)
    out = os.path.join(execution, "outputs")
    subprocess.run(["cp", "-r", f"{src}/.", out], check=True)
    names = {n: t for n, _, t in artifacts(mounted)}
    for rel, data in files.items():
        if rel.startswith("models/"):
            assert names[f"{rel}:{md5(data)}:1"] == "Model"
        else:
            assert names[f"{rel}:{md5(data)}"] == "Dataset"
    found = subprocess.run(["find", out, "-type", "f"], capture_output=True,
                           text=True, check=True).stdout.split()
    assert sorted(os.path.relpath(p, out) for p in found) == sorted(files)
    model_props = dict(mounted.sql(
        "SELECT p.name, p.string_value FROM ArtifactProperty p JOIN Artifact a"
        " ON a.id=p.artifact_id WHERE a.name LIKE 'models/%' AND"
        " p.is_custom_property=0"))
    assert model_props["model_framework"] == "Default"
    assert model_props["Commit"] == md5(b"weights")
    # directory link counts: 2 + subdirectories
    assert os.stat(os.path.join(out, "data")).st_nlink == 3


def test_hard_link_forms_lineage_without_copying(mounted, execution):
    train = mounted.path("pipelines", "demo", "train", "run1")
    mkexec(train)
    a = os.path.join(execution, "outputs", "features.csv")
    write(a, b"x,y\n")
    b = os.path.join(train, "inputs", "features.csv")
    os.link(a, b)
    assert len(artifacts(mounted)) == 1
    ev = mounted.sql("SELECT execution_id, type FROM Event ORDER BY id")
    assert ev == [(1, 4), (2, 3)]
    sa, sb = os.stat(a), os.stat(b)
    assert sa.st_ino == sb.st_ino and sa.st_nlink == 2
    with open(b, "rb") as f:
        assert f.read() == b"x,y\n"
    # attributed to the stage that created it only, as upstream does
    assert sorted(mounted.sql("SELECT context_id FROM Attribution")) == [(2,)]
    # an unlogged file cannot be linked (nothing to point at yet)
    with open(os.path.join(execution, "outputs", "open.txt"), "wb") as f:
        with pytest.raises(OSError) as e:
            os.link(f.name, os.path.join(train, "inputs", "open.txt"))
        assert e.value.errno == errno.EPERM


def test_overwrite_logs_new_version_and_rm_removes_the_name(mounted, execution):
    p = os.path.join(execution, "outputs", "metrics.txt")
    write(p, b"v1\n")
    write(p, b"v1\n")          # same bytes: no new version
    write(p, b"v2 longer\n")
    assert [u for _, u, _ in artifacts(mounted)] == [md5(b"v1\n"), md5(b"v2 longer\n")]
    assert mounted.sql("SELECT count(*) FROM Event") == [(2,)]
    with open(p, "rb") as f:
        assert f.read() == b"v2 longer\n"
    # appending is a new version too
    write(p, b"more\n", "ab")
    with open(p, "rb") as f:
        assert f.read() == b"v2 longer\nmore\n"
    assert artifacts(mounted)[-1][1] == md5(b"v2 longer\nmore\n")
    # used by another execution: rm removes the name, the history stays
    other = os.path.join(os.path.dirname(execution), "run2")
    mkexec(other)
    os.link(p, os.path.join(other, "inputs", "metrics.txt"))
    os.unlink(p)
    assert not os.path.exists(p)
    assert len(artifacts(mounted)) == 3
    assert mounted.sql("SELECT count(*) FROM Event") == [(4,)]
    # used by nothing else, never pushed: a scratch file leaves no trace,
    # none of its versions
    s = os.path.join(execution, "outputs", "scratch.txt")
    write(s, b"a")
    write(s, b"b")
    assert len(artifacts(mounted)) == 5
    os.unlink(s)
    assert len(artifacts(mounted)) == 3
    assert mounted.sql("SELECT count(*) FROM Event") == [(4,)]
    # rmdir of an empty directory works
    d = os.path.join(execution, "outputs", "d")
    os.mkdir(d)
    os.rmdir(d)
    assert not os.path.exists(d)


def test_rm_after_a_push_keeps_the_history(tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    m.init()
    m.mount()
    try:
        run = m.path("pipelines", "p", "s", "e")
        mkexec(run)
        write(os.path.join(run, "outputs", "a.txt"), b"a")
    finally:
        m.umount()
    m.sql_exec("INSERT INTO cmffs_pushed_execution VALUES"
               " ((SELECT id FROM Execution), 'http://server', 1e15)")
    m.mount()
    try:
        os.unlink(os.path.join(run, "outputs", "a.txt"))
        assert [n for n, _, _ in artifacts(m)] == [f"a.txt:{md5(b'a')}"]
    finally:
        m.umount()


def test_rename_into_place(mounted, execution):
    out = os.path.join(execution, "outputs")
    os.makedirs(os.path.join(out, "models"))
    tmp = os.path.join(out, "ckpt.pt.tmp")
    write(tmp, b"checkpoint")
    os.rename(tmp, os.path.join(out, "models", "ckpt.pt"))
    h = md5(b"checkpoint")
    assert artifacts(mounted) == [(f"models/ckpt.pt:{h}:1", h, "Model")]
    assert os.listdir(os.path.join(out, "models")) == ["ckpt.pt"]


def test_rsync_and_tar_and_cp_a(mounted, execution, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "one.txt").write_bytes(b"1")
    (src / "two.txt").write_bytes(b"22")
    os.utime(src / "one.txt", (1_600_000_000, 1_600_000_000))
    out = os.path.join(execution, "outputs")
    subprocess.run(["rsync", "-a", f"{src}/", f"{out}/synced/"], check=True,
                   capture_output=True)
    names = sorted(n for n, _, _ in artifacts(mounted))
    assert names == [f"synced/one.txt:{md5(b'1')}", f"synced/two.txt:{md5(b'22')}"]
    assert os.stat(os.path.join(out, "synced", "one.txt")).st_mtime == 1_600_000_000
    tarball = tmp_path / "t.tar"
    subprocess.run(["tar", "cf", str(tarball), "-C", str(src), "."], check=True)
    os.makedirs(os.path.join(out, "untarred"))
    subprocess.run(["tar", "xf", str(tarball), "-C", os.path.join(out, "untarred")],
                   check=True)
    subprocess.run(["cp", "-a", str(src), os.path.join(out, "copied")], check=True)
    with open(os.path.join(out, "copied", "two.txt"), "rb") as f:
        assert f.read() == b"22"
    assert os.stat(os.path.join(out, "copied", "one.txt")).st_mtime == 1_600_000_000
    # the same bytes under three names: one artifact per path's first name
    assert len(artifacts(mounted)) == 2
    ls = subprocess.run(["ls", "-lR", out], capture_output=True, text=True)
    assert ls.returncode == 0 and "two.txt" in ls.stdout


def test_out_of_order_writes_get_the_right_hash(mounted, execution):
    p = os.path.join(execution, "outputs", "sparse.bin")
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.pwrite(fd, b"tail", 100)
    os.pwrite(fd, b"head", 0)
    os.close(fd)
    expect = b"head" + b"\0" * 96 + b"tail"
    with open(p, "rb") as f:
        assert f.read() == expect
    assert artifacts(mounted)[0][1] == md5(expect)


@pytest.mark.parametrize("access", [os.O_WRONLY, os.O_RDWR])
def test_large_files_hashed_behind_the_writer(mounted, execution, access):
    """Past 1 MiB a hasher thread follows the writer; each pattern that
    breaks the in-order prefix must still end with the right hash."""
    out = os.path.join(execution, "outputs")
    rnd = os.urandom(6 << 20)
    cases = {}

    def logged(name, expect):
        with open(os.path.join(out, name), "rb") as f:
            assert hashlib.md5(f.read()).hexdigest() == md5(expect)
        assert os.getxattr(os.path.join(out, name),
                           "user.cmf.hash").decode() == md5(expect)
        cases[name] = expect

    def pieces(fd, data, step, start=0):
        for off in range(0, len(data), step):
            os.pwrite(fd, data[off:off + step], start + off)

    # in order, in small and large writes
    for name, step in (("seq4k.bin", 4096), ("seq1m.bin", 1 << 20)):
        fd = os.open(os.path.join(out, name), access | os.O_CREAT | os.O_TRUNC)
        pieces(fd, rnd, step)
        os.close(fd)
        logged(name, rnd)
    # rewrite inside the part already hashed
    fd = os.open(os.path.join(out, "rewrite.bin"), access | os.O_CREAT)
    pieces(fd, rnd[:4 << 20], 1 << 20)
    os.pwrite(fd, b"X" * 100, 1 << 19)
    pieces(fd, rnd[4 << 20:], 1 << 20, 4 << 20)
    os.close(fd)
    logged("rewrite.bin", rnd[:1 << 19] + b"X" * 100 + rnd[(1 << 19) + 100:])
    # truncate to zero and write again, then truncate down
    fd = os.open(os.path.join(out, "trunc.bin"), access | os.O_CREAT)
    pieces(fd, rnd[:3 << 20], 1 << 20)
    os.ftruncate(fd, 0)
    pieces(fd, rnd[1 << 20:4 << 20], 65536)
    os.ftruncate(fd, 2 << 20)
    os.close(fd)
    logged("trunc.bin", rnd[1 << 20:3 << 20])
    # a second version of a large logged file, appended to
    with open(os.path.join(out, "seq1m.bin"), "ab") as f:
        f.write(rnd[:3 << 20])
    logged("seq1m.bin", rnd + rnd[:3 << 20])
    hashes = {r[1] for r in artifacts(mounted)}
    assert {md5(v) for v in cases.values()} <= hashes


def test_killed_writer_logs_nothing(mounted, execution):
    p = os.path.join(execution, "outputs", "half.bin")
    code = ("import os,sys,time\n"
            "f=open(sys.argv[1],'wb')\n"
            "f.write(b'x'*65536); f.flush()\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, p],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while os.path.exists(p) and time.time() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(p)
    assert artifacts(mounted) == []
    assert "killed" in mounted.journal()


def test_bad_names_are_refused(mounted, execution):
    out = os.path.join(execution, "outputs")
    for bad in ("a:b.csv", b"caf\xe9.csv"):
        target = os.path.join(out.encode() if isinstance(bad, bytes) else out, bad)
        with pytest.raises(OSError) as e:
            open(target, "wb").close()
        assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        os.mkdir(mounted.path("pipelines", "a:b"))
    assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        open(os.path.join(out, "x" * 256), "wb").close()
    assert e.value.errno in (errno.EINVAL, errno.ENAMETOOLONG)
    log = mounted.journal()
    assert "contains ':'" in log and "not valid UTF-8" in log
    assert artifacts(mounted) == []


def test_typed_properties(mounted, execution):
    props = os.path.join(execution, "properties")
    write(os.path.join(props, "split"), b"0.25\n")
    write(os.path.join(props, "seed"), b"42\n")
    write(os.path.join(props, "optimizer"), b"adam\n")
    rows = dict((n, (i, d, s)) for n, i, d, s in mounted.sql(
        "SELECT name, int_value, double_value, string_value FROM ExecutionProperty"
        " WHERE is_custom_property=1"))
    assert rows["split"] == (None, 0.25, None)
    assert rows["seed"] == (42, None, None)
    assert rows["optimizer"] == (None, None, "adam")
    with open(os.path.join(props, "seed")) as f:
        assert f.read() == "42\n"
    os.unlink(os.path.join(props, "optimizer"))
    assert "optimizer" not in os.listdir(props)
    # pipeline and stage properties
    write(mounted.path("pipelines", "demo", ".properties", "owner"), b"team-a\n")
    assert mounted.sql("SELECT context_id, string_value FROM ContextProperty"
                       " WHERE name='owner'") == [(1, "team-a")]


def test_execution_json_and_xattrs(mounted, execution):
    p = os.path.join(execution, "outputs", "d.csv")
    write(p, b"1,2\n")
    with open(os.path.join(execution, "execution.json")) as f:
        doc = json.load(f)
    assert doc["name"] == "run1"
    assert doc["properties"]["Context_Type"] == "demo/prep"
    art = doc["events"][0]["artifact"]
    assert art["uri"] == md5(b"1,2\n") and art["type"] == "Dataset"
    assert doc["events"][0]["type"] == 4
    # rendered documents show size 0, like /proc files, and read to EOF
    assert os.stat(os.path.join(execution, "execution.json")).st_size == 0
    out_copy = os.path.join(os.path.dirname(mounted.ws), "copy.json")
    subprocess.run(["cp", os.path.join(execution, "execution.json"), out_copy], check=True)
    with open(out_copy) as f:
        assert json.load(f) == doc
    out = subprocess.run(["getfattr", "-d", "--absolute-names", p],
                         capture_output=True, text=True, check=True).stdout
    assert f'user.cmf.hash="{md5(b"1,2" + bytes([10]))}"' in out
    assert 'user.cmf.type="Dataset"' in out
    assert "user.cmf.name=" in out and "user.cmf.url=" in out
    os.setxattr(p, "user.cmf.prop.quality", b"0.9")
    assert os.getxattr(p, "user.cmf.prop.quality") == b"0.9"
    assert mounted.sql("SELECT double_value FROM ArtifactProperty WHERE"
                       " name='quality' AND is_custom_property=1") == [(0.9,)]


def test_remount_keeps_everything(mounted, execution):
    p = os.path.join(execution, "outputs", "keep.txt")
    write(p, b"persist\n")
    mounted.umount()
    assert mounted.sql("PRAGMA integrity_check") == [("ok",)]
    mounted.mount()
    with open(p, "rb") as f:
        assert f.read() == b"persist\n"
    # one mount per workspace
    r = cmffs("mount", mounted.ws, str(mounted.tmp), check=False)
    assert r.returncode != 0 and r.stderr.startswith("cmffs: ")
    assert "mounted already" in r.stderr


def test_cli_errors(tmp_path):
    r = cmffs("init", str(tmp_path / "w"), "--storage", "ftp", check=False)
    assert r.returncode != 0 and r.stderr.count("\n") == 1
    assert r.stderr.startswith("cmffs: unknown storage 'ftp'")
    cmffs("init", str(tmp_path / "w"))
    r = cmffs("init", str(tmp_path / "w"), check=False)
    assert r.returncode != 0 and "already a workspace" in r.stderr
    r = cmffs("mount", str(tmp_path / "nowhere"), str(tmp_path), check=False)
    assert r.returncode != 0 and r.stderr.startswith("cmffs: ")
    r = cmffs("frobnicate", check=False)
    assert r.returncode != 0 and r.stderr.startswith("cmffs: unknown command")
    # a store of another MLMD version is refused, not rewritten
    db = tmp_path / "w" / "mlmd"
    import sqlite3
    c = sqlite3.connect(db)
    c.execute("UPDATE MLMDEnv SET schema_version=7")
    c.commit()
    c.close()
    r = cmffs("status", str(tmp_path / "w"), check=False)
    assert r.returncode != 0 and "schema version 7" in r.stderr
    c = sqlite3.connect(db)
    assert c.execute("SELECT schema_version FROM MLMDEnv").fetchall() == [(7,)]
    c.close()


def test_export_has_upstream_structure(mounted, execution, tmp_path):
    write(os.path.join(execution, "outputs", "d.csv"), b"1\n")
    write(os.path.join(execution, "properties", "lr"), b"0.01\n")
    train = mounted.path("pipelines", "demo", "train", "r")
    mkexec(train)
    os.link(os.path.join(execution, "outputs", "d.csv"),
            os.path.join(train, "inputs", "d.csv"))
    out = tmp_path / "demo.json"
    cmffs("export", mounted.ws, "demo", "-o", str(out))
    doc = json.loads(out.read_text())
    (p,) = doc["Pipeline"]
    assert p["name"] == "demo" and p["type"] == "Parent_Context"
    assert p["properties"] == {"Pipeline": "demo"}
    assert [s["name"] for s in p["stages"]] == ["demo/prep", "demo/train"]
    for node in [p] + p["stages"]:
        for key in ("create_time_since_epoch", "custom_properties", "id",
                    "last_update_time_since_epoch", "name", "properties",
                    "type", "type_id"):
            assert key in node
    e = p["stages"][0]["executions"][0]
    assert e["type"] == "demo/prep" and e["name"] == "run1"
    assert e["custom_properties"]["lr"] == 0.01
    assert e["properties"]["Execution_uuid"]
    (ev,) = e["events"]
    assert ev["type"] == 4
    a = ev["artifact"]
    assert a["type"] == "Dataset" and a["uri"] == md5(b"1\n")
    assert a["name"] == f"d.csv:{md5(b'1' + bytes([10]))}"
    assert set(a["properties"]) == {"Commit", "git_repo", "url"}
    assert p["stages"][1]["executions"][0]["events"][0]["type"] == 3
    r = cmffs("export", mounted.ws, "missing", check=False)
    assert r.returncode != 0 and "does not exist" in r.stderr


def test_import_reproduces_the_pipeline(mounted, execution, tmp_path):
    write(os.path.join(execution, "inputs", "raw.csv"), b"r\n")
    os.makedirs(os.path.join(execution, "outputs", "models"))
    write(os.path.join(execution, "outputs", "models", "m.bin"), b"m")
    doc = tmp_path / "demo.json"
    cmffs("export", mounted.ws, "demo", "-o", str(doc))
    other = tmp_path / "other"
    cmffs("init", str(other))
    r = cmffs("import", str(other), str(doc))
    assert "1 execution(s), 2 artifact(s), 2 event(s)" in r.stdout
    r = cmffs("import", str(other), str(doc))       # idempotent
    assert "0 execution(s), 0 artifact(s), 0 event(s)" in r.stdout
    again = tmp_path / "again.json"
    cmffs("export", str(other), "demo", "-o", str(again))

    def shape(path):
        d = json.loads(path.read_text())
        return [(s["name"], e["name"], e["properties"]["Execution_uuid"],
                 e["custom_properties"].get("User"),
                 sorted((ev["type"], ev["artifact"]["type"], ev["artifact"]["name"],
                         ev["artifact"]["uri"]) for ev in e["events"]))
                for p in d["Pipeline"] for s in p["stages"] for e in s["executions"]]
    assert shape(doc) == shape(again)
    # a name that would escape the tree refuses the whole document
    bad = json.loads(doc.read_text())
    ev = bad["Pipeline"][0]["stages"][0]["executions"][0]["events"][0]
    ev["artifact"]["name"] = "../../etc/passwd:" + ev["artifact"]["uri"]
    ev["artifact"]["uri"] = "0" * 32
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    third = tmp_path / "third"
    cmffs("init", str(third))
    r = cmffs("import", str(third), str(tmp_path / "bad.json"), check=False)
    assert r.returncode != 0 and "cannot be stored" in r.stderr
    import sqlite3
    c = sqlite3.connect(third / "mlmd")
    assert c.execute("SELECT count(*) FROM Execution").fetchone() == (0,)
    c.close()


def test_metrics_json_and_state(mounted, execution):
    metrics = os.path.join(execution, "metrics")
    write(os.path.join(metrics, "eval.json"),
          b'{"accuracy": 0.91, "epochs": 10, "note": "ok", "best": true}\n')
    assert os.listdir(metrics) == ["eval.json"]
    rows = mounted.sql(
        "SELECT a.name, a.uri, t.name FROM Artifact a JOIN Type t ON t.id=a.type_id")
    (name, uri, typ), = rows
    assert typ == "Metrics"
    parts = name.split(":")
    assert parts[0] == "eval" and parts[1] == uri and parts[2] == "1"
    assert len(uri) == 36
    props = dict((n, (i, d, s)) for n, i, d, s in mounted.sql(
        "SELECT name, int_value, double_value, string_value FROM ArtifactProperty"
        " WHERE is_custom_property=1"))
    assert props == {"accuracy": (None, 0.91, None), "epochs": (10, None, None),
                     "note": (None, None, "ok"), "best": (1, None, None)}
    assert mounted.sql("SELECT string_value FROM ArtifactProperty WHERE"
                       " name='metrics_name'") == [(name,)]
    assert mounted.sql("SELECT type FROM Event") == [(4,)]
    with open(os.path.join(metrics, "eval.json")) as f:
        assert json.load(f) == {"accuracy": 0.91, "epochs": 10, "note": "ok", "best": 1}
    # malformed JSON: EINVAL at close, and the journal says where
    with pytest.raises(OSError) as e:
        with open(os.path.join(metrics, "bad.json"), "wb") as f:
            f.write(b'{"loss": 0.5,\n "x": }')
    assert e.value.errno == errno.EINVAL
    assert "line 2" in mounted.journal()
    assert "bad.json" not in os.listdir(metrics)
    with pytest.raises(OSError):
        open(os.path.join(metrics, "notes.txt"), "wb").close()
    # state: complete sets last_known_state and Git_End_Commit
    with open(os.path.join(execution, "state")) as f:
        assert f.read() == "RUNNING\n"
    write(os.path.join(execution, "state"), b"complete\n")
    assert mounted.sql("SELECT last_known_state FROM Execution") == [(3,)]
    with open(os.path.join(execution, "state")) as f:
        assert f.read() == "COMPLETE\n"
    with pytest.raises(OSError) as e:
        write(os.path.join(execution, "state"), b"sideways\n")
    assert e.value.errno == errno.EINVAL


def metrics_props(m, name):
    """{key: (int_value, double_value, string_value)} of the latest Metrics
    artifact NAME."""
    return {k: (i, d, s) for k, i, d, s in m.sql(
        "SELECT p.name, p.int_value, p.double_value, p.string_value"
        " FROM ArtifactProperty p WHERE p.is_custom_property = 1"
        " AND p.artifact_id = (SELECT max(id) FROM Artifact"
        " WHERE name LIKE ? || ':%')", (name,))}


def test_metrics_objects_and_lists_are_stored_as_python_str(mounted, execution):
    """An object or a list in metrics/NAME.json is stored as upstream's
    log_execution_metrics stores what json.loads() gave it: the string
    Python's str() makes of it.  Scalars keep their types."""
    metrics = os.path.join(execution, "metrics")
    text = ('{"cm": [[1, 2], [3, 4]], "report": {"a": 0.5, "b": "x\'y"},'
            ' "acc": 0.9}')
    write(os.path.join(metrics, "eval.json"), text.encode())
    assert metrics_props(mounted, "eval") == {
        "cm": (None, None, "[[1, 2], [3, 4]]"),
        "report": (None, None, "{'a': 0.5, 'b': \"x'y\"}"),
        "acc": (None, 0.9, None)}
    with open(os.path.join(metrics, "eval.json")) as f:
        assert json.load(f) == {"cm": "[[1, 2], [3, 4]]",
                                "report": "{'a': 0.5, 'b': \"x'y\"}",
                                "acc": 0.9}
    # the tricky cases, compared with this very CPython's str()
    text = json.dumps({
        "nested": {"l": [1, [2.5, [None, True, False]], {}], "e": []},
        "quotes": ["it's", 'say "hi"', "both ' and \"", "\\"],
        "controls": ["\x00\x01\b\t\n\x0b\f\r\x1b\x7f", "\x85\xa0\xad"],
        "unicode": ["caf\u00e9", "\u65e5\u672c", "\U0001f600", "\u200b",
                    "\u2028\u3000\ufeff\ue000\U0010ffff\u0378"],
        "floats": [0.1, 1e-7, 1e16, 1e15, 123456789012345678.0, 5e-324,
                   -0.0, 100.0, 1e-4, 1e-5, 2.0 ** -24, 1.7976931348623157e308],
        "ints": [0, -1, 2 ** 63 - 1, -2 ** 63],
    }, ensure_ascii=False)
    # a repeated key: json.loads keeps the last value at the first place
    text = text[:-1] + ', "nested": {"z": 1, "y": 2, "z": [3]}}'
    write(os.path.join(metrics, "tricky.json"), text.encode())
    want = {k: (None, None, str(v)) for k, v in json.loads(text).items()}
    assert metrics_props(mounted, "tricky") == want
    assert want["nested"] == (None, None, "{'z': [3], 'y': 2}")
    # scalars next to them keep their types
    write(os.path.join(metrics, "mixed.json"),
          b'{"i": 9223372036854775807, "d": 1e16, "s": "x\'y", "b": true,'
          b' "l": [1, 2]}')
    assert metrics_props(mounted, "mixed") == {
        "i": (2 ** 63 - 1, None, None), "d": (None, 1e16, None),
        "s": (None, None, "x'y"), "b": (1, None, None),
        "l": (None, None, "[1, 2]")}
    # still refused: a top-level null, an integer beyond int64 (anywhere),
    # a NUL character in a key or a top-level string
    before = mounted.sql("SELECT count(*) FROM Artifact")
    for name, bad, why in (
            ("n1", b'{"acc": 0.5, "x": null}', "'x' is null"),
            ("n5", b'{"s": "a\\u0000b"}', "'s' holds a NUL character"),
            ("n6", b'{"k\\u0000": 1}', "NUL byte in object key"),
            ("n2", b'{"big": 9223372036854775808}', "too big integer"),
            ("n3", b'{"big": -9223372036854775809}', "too big negative integer"),
            ("n4", b'{"l": [1, 9223372036854775808]}', "too big integer")):
        with pytest.raises(OSError) as e:
            write(os.path.join(metrics, name + ".json"), bad)
        assert e.value.errno == errno.EINVAL, name
        assert why in mounted.journal().splitlines()[-1], name
    assert mounted.sql("SELECT count(*) FROM Artifact") == before
    assert sorted(os.listdir(metrics)) == ["eval.json", "mixed.json",
                                           "tricky.json"]


def test_lineage_names_everything_upstream(mounted, execution):
    p = mounted.path("pipelines", "demo")
    write(os.path.join(execution, "inputs", "raw.csv"), b"raw\n")
    write(os.path.join(execution, "outputs", "clean.csv"), b"clean\n")
    feat = os.path.join(p, "featurize", "f1")
    mkexec(feat)
    os.link(os.path.join(execution, "outputs", "clean.csv"),
            os.path.join(feat, "inputs", "clean.csv"))
    write(os.path.join(feat, "outputs", "features.csv"), b"feat\n")
    train = os.path.join(p, "train", "t1")
    mkexec(train)
    os.link(os.path.join(feat, "outputs", "features.csv"),
            os.path.join(train, "inputs", "features.csv"))
    os.makedirs(os.path.join(train, "outputs", "models"))
    write(os.path.join(train, "outputs", "models", "m.bin"), b"model")
    with open(os.path.join(train, "lineage")) as f:
        lines = f.read().splitlines()
    up = [l for l in lines if l.startswith("upstream")]
    assert "upstream execution demo/featurize/f1" in up
    assert "upstream execution demo/prep/run1" in up
    for art in ("raw.csv", "clean.csv", "features.csv"):
        assert any(l.startswith(f"upstream artifact {art}:") for l in up), art
    assert any(l.startswith("downstream artifact models/m.bin:") for l in lines)
    with open(os.path.join(execution, "lineage")) as f:
        down = f.read()
    assert "downstream execution demo/train/t1" in down
    with open(os.path.join(p, "lineage.dot")) as f:
        dot = f.read()
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")
    assert dot.count("->") == 6
    assert '"demo/train/t1"' in dot
    import xml.etree.ElementTree as ET
    with open(os.path.join(p, "lineage.svg")) as f:
        svg = ET.fromstring(f.read())
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f"{ns}path")) == 6
    texts = " ".join(t.text or "" for t in svg.iter(f"{ns}text"))
    for name in ("demo/prep/run1", "demo/featurize/f1", "demo/train/t1",
                 "raw.csv", "clean.csv", "features.csv", "models/m.bin"):
        assert name in texts
    with open(os.path.join(p, "lineage.cypher")) as f:
        cy = f.read().splitlines()
    assert sum(l.startswith("MERGE (n:Execution") for l in cy) == 3
    assert sum(l.startswith("MERGE (n:Artifact:") for l in cy) == 4
    assert sum("MERGE (a)-[:INPUT]->(e)" in l for l in cy) == 3
    assert sum("MERGE (e)-[:OUTPUT]->(a)" in l for l in cy) == 3


def test_shell_redirect_logs_one_version(mounted, execution):
    out = os.path.join(execution, "outputs")
    subprocess.run(["bash", "-c", f"echo hello > '{out}/a.txt'; "
                    f"exec 3> '{out}/b.txt'; echo one >&3; exec 3>&-; "
                    f"touch '{out}/empty'"], check=True)
    names = sorted(n for n, _, _ in artifacts(mounted))
    assert names == [f"a.txt:{md5(b'hello' + bytes([10]))}",
                     f"b.txt:{md5(b'one' + bytes([10]))}",
                     f"empty:{md5(b'')}"]


def test_python_caller_gets_its_environment_logged(mounted):
    run = mounted.path("pipelines", "py", "train", "r1")
    os.makedirs(run)                       # this Python process is the caller
    env_dir = os.path.join(run, "inputs", "cmf_artifacts")
    (name,) = os.listdir(env_dir)
    assert name.startswith("python_env_") and name.endswith(".txt")
    with open(os.path.join(env_dir, name)) as f:
        lines = f.read().splitlines()
    assert lines and all("==" in l for l in lines)
    assert lines == sorted(lines, key=str.lower)
    assert not any(l.lower().startswith(("pip==", "setuptools==")) for l in lines)
    assert any(l.startswith("pytest==") for l in lines)
    # named as upstream names it: md5 of repr(list) + newline
    assert name == "python_env_" + md5((repr(lines) + "\n").encode()) + ".txt"
    rows = mounted.sql(
        "SELECT a.name, t.name, ev.type FROM Artifact a JOIN Type t ON t.id=a.type_id"
        " JOIN Event ev ON ev.artifact_id=a.id")
    with open(os.path.join(env_dir, name), "rb") as f:
        h = md5(f.read())
    assert rows == [(f"cmf_artifacts/{name}:{h}", "Environment", 3)]
    assert mounted.sql("SELECT string_value FROM ExecutionProperty WHERE"
                       " name='Python_Env' AND is_custom_property=1") == \
        [(f"cmf_artifacts/{name}",)]
    # the same environment in another execution: one artifact, two events
    os.makedirs(mounted.path("pipelines", "py", "train", "r2"))
    assert mounted.sql("SELECT count(*) FROM Artifact") == [(1,)]
    assert mounted.sql("SELECT count(*) FROM Event") == [(2,)]


def test_label_links_to_its_dataset(mounted, execution):
    inp = os.path.join(execution, "inputs")
    write(os.path.join(inp, "data.xml.gz"), b"dataset bytes")
    os.makedirs(os.path.join(inp, "labels", "data.xml.gz"))
    write(os.path.join(inp, "labels", "data.xml.gz", "labels.csv"), b"id,y\n1,0\n")
    ds, lb = md5(b"dataset bytes"), md5(b"id,y\n1,0\n")
    rows = dict(((n.split(":")[0], t), (u, n)) for n, u, t in artifacts(mounted))
    assert rows[("labels/data.xml.gz/labels.csv", "Label")][0] == lb
    props = mounted.sql(
        "SELECT a.uri, p.name, p.string_value FROM ArtifactProperty p JOIN Artifact a"
        " ON a.id=p.artifact_id WHERE p.is_custom_property=1 ORDER BY 1, 2")
    assert (lb, "dataset_uri", ds) in props
    assert (ds, "labels", "labels/data.xml.gz/labels.csv") in props
    assert (ds, "labels_uri", f"labels/data.xml.gz/labels.csv:{lb}") in props
    # upstream's Label url carries no pipeline prefix
    assert mounted.sql("SELECT p.string_value FROM ArtifactProperty p JOIN Artifact a"
                       " ON a.id=p.artifact_id WHERE a.uri=? AND p.name='url'", (lb,)) \
        == [(f"labels/data.xml.gz/labels.csv:{lb}",)]


def test_step_metrics_csv(mounted, execution):
    csv = os.path.join(execution, "metrics", "training.csv")
    subprocess.run(["sh", "-c", f"echo 'step,loss' > '{csv}'; "
                    f"echo '1,0.9' >> '{csv}'; echo '2,0.5' >> '{csv}'"], check=True)
    with open(csv) as f:
        assert f.read() == "step,loss\n1,0.9\n2,0.5\n"
    # with its chart (test_plots.py)
    assert sorted(os.listdir(os.path.join(execution, "metrics"))) == [
        "training.csv", "training.svg"]
    rows = mounted.sql(
        "SELECT a.name, a.uri FROM Artifact a JOIN Type t ON t.id=a.type_id"
        " WHERE t.name='Step_Metrics' ORDER BY a.id")
    assert len(rows) == 3                   # re-versioned on each close
    uuid = mounted.sql("SELECT string_value FROM ExecutionProperty WHERE"
                       " name='Execution_uuid'")[0][0]
    name, uri = rows[-1]
    assert uri == md5(b"step,loss\n1,0.9\n2,0.5\n")
    path, h, exec_id, u1 = name.split(":")
    assert path == f"cmf_artifacts/{uuid}/metrics/training"
    assert h == uri and exec_id == "1" and len(u1) == 36
    with pytest.raises(OSError) as e:
        with open(csv, "a") as f:
            f.write("3,0.1,extra\n")
    assert e.value.errno == errno.EINVAL
    assert "line 4: 3 fields, the header has 2" in mounted.journal()
    with open(csv) as f:                    # the bad version was not kept
        assert f.read() == "step,loss\n1,0.9\n2,0.5\n"
    with pytest.raises(PermissionError):
        os.unlink(csv)


def test_directory_committed_as_one_dvc_artifact(mounted, execution):
    out = os.path.join(execution, "outputs")
    os.makedirs(os.path.join(out, "images", "sub"))
    write(os.path.join(out, "images", "1.txt"), b"a")
    write(os.path.join(out, "images", "sub", "2.txt"), b"two")
    subprocess.run(["touch", os.path.join(out, "images", ".commit")], check=True)
    assert sorted(os.listdir(os.path.join(out, "images"))) == ["1.txt", "sub"]
    manifest = ('[{"md5": "%s", "relpath": "1.txt"}, {"md5": "%s", "relpath": "sub/2.txt"}]'
                % (md5(b"a"), md5(b"two"))).encode()
    oid = md5(manifest) + ".dir"
    rows = [r for r in artifacts(mounted) if r[1].endswith(".dir")]
    assert rows == [(f"images:{oid}", oid, "Dataset")]
    cached = os.path.join(mounted.ws, ".cmf/cache/files/md5", oid[:2], oid[2:])
    with open(cached, "rb") as f:
        assert f.read() == manifest             # DVC 3's exact bytes
    assert os.getxattr(os.path.join(out, "images"), "user.cmf.hash").decode() == oid
    with pytest.raises(PermissionError):     # committed: history
        os.rmdir(os.path.join(out, "images"))
    subprocess.run(["touch", os.path.join(out, "images", ".commit")], check=True)
    assert len([r for r in artifacts(mounted) if r[1].endswith(".dir")]) == 1
    # the objects go to the remote in DVC's layout, manifest included
    cmffs("push", mounted.ws)
    assert os.path.exists(os.path.join(mounted.remote, "files", "md5", oid[:2], oid[2:]))


def test_artifact_views(mounted, execution):
    out = os.path.join(execution, "outputs")
    os.makedirs(os.path.join(out, "data"))
    write(os.path.join(out, "data", "train.csv"), b"t\n")
    os.makedirs(os.path.join(out, "models"))
    write(os.path.join(out, "models", "m.bin"), b"m")
    write(os.path.join(execution, "metrics", "acc.json"), b'{"acc": 0.5}')
    h = md5(b"t\n")
    views = mounted.path("artifacts")
    assert sorted(os.listdir(views)) == ["by-hash", "by-name", "by-type"]
    by_hash = os.path.join(views, "by-hash", h[:2], h[2:])
    with open(by_hash, "rb") as f:
        assert f.read() == b"t\n"
    assert os.stat(by_hash).st_size == 2
    assert sorted(os.listdir(os.path.join(views, "by-type"))) == ["Dataset", "Metrics", "Model"]
    assert os.listdir(os.path.join(views, "by-type", "Dataset", "data")) == [f"train.csv:{h}"]
    assert os.listdir(os.path.join(views, "by-name", "models")) == [f"m.bin:{md5(b'm')}:1"]
    (metric,) = os.listdir(os.path.join(views, "by-type", "Metrics"))
    with open(os.path.join(views, "by-type", "Metrics", metric)) as f:
        rec = json.load(f)
    assert rec["custom_properties"] == {"acc": 0.5}
    # views are read-only, carry the attributes and the artifact's lineage
    with pytest.raises(OSError):
        open(by_hash, "ab")
    assert os.getxattr(by_hash, "user.cmf.type") == b"Dataset"
    lineage = os.getxattr(by_hash, "user.cmf.lineage").decode()
    assert "upstream execution demo/prep/run1" in lineage
    # a view is the artifact's own inode, not a file's of the tree
    assert os.stat(by_hash).st_ino == os.stat(by_hash).st_ino
    assert os.stat(by_hash).st_ino != os.stat(os.path.join(out, "data", "train.csv")).st_ino
    found = subprocess.run(["find", views, "-type", "f"], capture_output=True,
                           text=True, check=True).stdout.split()
    assert len(found) >= 7


def test_dataslice(mounted, execution):
    inp = os.path.join(execution, "inputs", "data")
    os.makedirs(inp)
    for i in range(3):
        write(os.path.join(inp, f"f{i}.csv"), f"row{i}\n".encode())
    slices = os.path.join(execution, "dataslices")
    os.makedirs(os.path.join(slices, "slice-1"))
    s1 = os.path.join(slices, "slice-1")
    for i in (0, 2):
        os.link(os.path.join(inp, f"f{i}.csv"), os.path.join(s1, f"f{i}.csv"))
    os.setxattr(os.path.join(s1, "f0.csv"), "user.cmf.prop.quality", b"good")
    os.setxattr(s1, "user.cmf.prop.purpose", b"validation")
    before = mounted.sql("SELECT count(*) FROM Event")[0][0]
    subprocess.run(["touch", os.path.join(s1, ".commit")], check=True)
    csv = ("path,hash,quality\n"
           f"data/f0.csv,{md5(b'row0' + bytes([10]))},good\n"
           f"data/f2.csv,{md5(b'row2' + bytes([10]))},\n").encode()
    h = md5(csv)
    uuid = mounted.sql("SELECT string_value FROM ExecutionProperty WHERE"
                       " name='Execution_uuid'")[0][0]
    rows = mounted.sql("SELECT a.id, a.name, a.uri FROM Artifact a JOIN Type t"
                       " ON t.id=a.type_id WHERE t.name='Dataslice'")
    assert [(n, u) for _, n, u in rows] == \
        [(f"cmf_artifacts/{uuid}/dataslice/slice-1:{h}", h)]
    aid = rows[0][0]
    assert mounted.sql("SELECT type FROM Event WHERE artifact_id=?", (aid,)) == [(4,)]
    assert mounted.sql("SELECT count(*) FROM Event")[0][0] == before + 1
    assert mounted.sql("SELECT string_value FROM ArtifactProperty WHERE artifact_id=?"
                       " AND name='purpose' AND is_custom_property=1", (aid,)) == \
        [("validation",)]
    with open(os.path.join(mounted.ws, ".cmf/cache/files/md5", h[:2], h[2:]), "rb") as f:
        assert f.read() == csv
    assert os.getxattr(os.path.join(s1, "f0.csv"), "user.cmf.prop.quality") == b"good"
    with pytest.raises(PermissionError):
        os.rmdir(s1)
    os.unlink(os.path.join(s1, "f2.csv"))   # members may change; commit again
    subprocess.run(["touch", os.path.join(s1, ".commit")], check=True)
    assert len(mounted.sql("SELECT a.id FROM Artifact a JOIN Type t ON t.id=a.type_id"
                           " WHERE t.name='Dataslice'")) == 2


def test_unlink_of_open_files(mounted, execution):
    out = os.path.join(execution, "outputs")
    # a logged scratch file that is still open goes; its reader keeps reading
    f = open(os.path.join(out, "gone.txt"), "wb")
    f.write(b"gone")
    f.flush()
    os.fsync(f.fileno())
    g = open(os.path.join(out, "gone.txt"), "rb")
    f.close()
    os.unlink(os.path.join(out, "gone.txt"))
    assert g.read() == b"gone"
    g.close()
    # an unlogged file being written can go; its writer keeps working
    h = open(os.path.join(out, "scratch.tmp"), "wb")
    h.write(b"x")
    h.flush()
    os.unlink(os.path.join(out, "scratch.tmp"))
    h.write(b"y")
    h.close()
    write(os.path.join(out, "kept.txt"), b"kept")
    assert sorted(os.listdir(out)) == ["kept.txt"]
    assert [n for n, _, _ in artifacts(mounted)] == [f"kept.txt:{md5(b'kept')}"]
    assert ".fuse_hidden" not in mounted.journal()


def test_every_command_has_help_and_one_line_errors(tmp_path):
    for c in ("init", "mount", "umount", "status", "push", "pull", "export", "import"):
        r = cmffs(c, "--help", check=False)
        assert r.returncode == 0 and r.stdout.startswith(f"usage: cmffs {c}"), c
    for args in ([], ["mount", "-x", "a", "b"], ["init", str(tmp_path / "w"), "--bogus"],
                 ["export", "--nope"], ["status"], ["pull", str(tmp_path)]):
        r = cmffs(*args, check=False)
        assert r.returncode != 0, args
        assert r.stderr.startswith("cmffs: ") and r.stderr.count("\n") == 1, (args, r.stderr)


def test_large_directory_lists_every_name_once(mounted, execution):
    """Listings are served in chunks with offsets from a snapshot taken
    when the directory is read from its start: nothing is lost or repeated,
    even when names are added while it is being read."""
    out = os.path.join(execution, "outputs", "many")
    os.mkdir(out)
    names = [f"file-with-a-longish-name-{i:05d}.txt" for i in range(3000)]
    for n in names:
        write(os.path.join(out, n), b"x")
    assert sorted(os.listdir(out)) == names
    with os.scandir(out) as it:
        seen = []
        for i, e in enumerate(it):
            if i == 10:   # a name added mid-listing
                write(os.path.join(out, "late.txt"), b"y")
            seen.append(e.name)
            assert e.stat(follow_symlinks=False).st_size == 1
    assert len(seen) == len(set(seen))
    assert set(names) <= set(seen)
    assert sorted(os.listdir(out)) == sorted(names + ["late.txt"])


def git_repo(path, remote):
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True)
    (path / "f").write_text(remote)
    subprocess.run(["git", "-C", str(path), "add", "f"], check=True)
    subprocess.run(["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-q", "-m", "c"], check=True)
    return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


def test_provenance_git_state_is_the_callers(mounted, tmp_path):
    """A script run in repository A does `cd B && mkdir E`: the command line
    is the script's (walked up past mkdir), the git state is B's, where
    mkdir ran."""
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    a, b = tmp_path / "repo_a", tmp_path / "repo_b"
    commit_a = git_repo(a, "https://example.org/a.git")
    commit_b = git_repo(b, "https://example.org/b.git")
    run = mounted.path("pipelines", "p", "s", "e")
    mkexec(os.path.dirname(run))
    script = a / "run.sh"
    # bash execs the subshell's last command: mkdir's parent is the script
    # itself, whose working directory is A
    script.write_text(f'(cd "{b}" && mkdir "{run}")\n'
                      f'(cd "{b}" && mkdir -p "{run}2")\n')
    subprocess.run(["bash", str(script)], cwd=a, check=True)
    for e in ("e", "e2"):
        props = dict(mounted.sql(
            "SELECT p.name, p.string_value FROM ExecutionProperty p JOIN"
            " Execution x ON x.id = p.execution_id WHERE x.name = ? AND"
            " p.string_value IS NOT NULL", (e,)))
        assert "run.sh" in props["Execution"], props
        assert props["Git_Repo"] == "https://example.org/b.git", (e, props)
        assert props["Git_Start_Commit"] == commit_b != commit_a


def test_import_attributes_an_artifact_to_its_creating_stage_only(mounted, execution, tmp_path):
    """As upstream's merge (log_dataset_with_version): a new artifact is
    attributed to the stage that brought it, a re-used one gets only its
    event; so CmfQuery.get_all_artifacts_by_context lists it once."""
    train = mounted.path("pipelines", "demo", "train", "run1")
    mkexec(train)
    a = os.path.join(execution, "outputs", "features.csv")
    write(a, b"x,y\n")
    os.link(a, os.path.join(train, "inputs", "features.csv"))
    doc = tmp_path / "demo.json"
    cmffs("export", mounted.ws, "demo", "-o", str(doc))
    ws2 = str(tmp_path / "ws2")
    cmffs("init", ws2)
    cmffs("import", ws2, str(doc))
    db = sqlite3.connect(os.path.join(ws2, "mlmd"))
    try:
        rows = db.execute("SELECT c.name, a.name FROM Attribution b JOIN Context c"
                          " ON c.id = b.context_id JOIN Artifact a"
                          " ON a.id = b.artifact_id").fetchall()
        events = db.execute("SELECT count(*) FROM Event").fetchone()
    finally:
        db.close()
    assert rows == [("demo/prep", f"features.csv:{md5(b'x,y' + bytes([10]))}")]
    assert events == (2,)


def test_export_lists_a_stages_executions_newest_first(mounted, tmp_path):
    """Upstream's dumptojson order (MLMD's get_executions_by_context:
    create time, descending), so cmffs export matches cmf metadata export."""
    stage = mounted.path("pipelines", "ord", "s")
    for name in ("r1", "r2", "r3"):
        mkexec(os.path.join(stage, name))
        time.sleep(0.01)                     # distinct create times
    doc = tmp_path / "ord.json"
    cmffs("export", mounted.ws, "ord", "-o", str(doc))
    d = json.loads(doc.read_text())
    assert [e["name"] for e in d["Pipeline"][0]["stages"][0]["executions"]] == \
        ["r3", "r2", "r1"]
    # and an import of it keeps each execution's own times
    ws2 = str(tmp_path / "ws2")
    cmffs("init", ws2)
    cmffs("import", ws2, str(doc))
    cmffs("export", ws2, "ord", "-o", str(tmp_path / "again.json"))
    again = json.loads((tmp_path / "again.json").read_text())
    assert [e["name"] for e in again["Pipeline"][0]["stages"][0]["executions"]] == \
        ["r3", "r2", "r1"]


def test_fixed_directory_attributes_survive_a_remount(mounted):
    """chmod, chown and utimens of the root, pipelines/, a pipeline, a stage
    and an execution are remembered (keyed by what each shows)."""
    run = mounted.path("pipelines", "p", "s", "e")
    mkexec(run)
    dirs = {mounted.path(): 0o751, mounted.path("pipelines"): 0o750,
            mounted.path("pipelines", "p"): 0o700,
            mounted.path("pipelines", "p", "s"): 0o711, run: 0o705}
    for d, mode in dirs.items():
        os.chmod(d, mode)
    os.chown(run, 1234, 5678)
    os.utime(mounted.path("pipelines", "p", "s"), (1_600_000_000, 1_600_000_000))
    mounted.umount()
    mounted.mount()
    for d, mode in dirs.items():
        assert os.stat(d).st_mode & 0o7777 == mode, d
    st = os.stat(run)
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    assert os.stat(mounted.path("pipelines", "p", "s")).st_mtime == 1_600_000_000


def test_view_directories_and_metrics_files_have_distinct_inodes(mounted):
    """artifacts/ views and metrics/NAME.json have no id in the store: each
    still gets a number no other node has, the same one while mounted."""
    run = mounted.path("pipelines", "p", "s", "e")
    mkexec(run)
    for i in range(40):
        os.makedirs(os.path.join(run, "outputs", f"d{i}"), exist_ok=True)
        with open(os.path.join(run, "outputs", f"d{i}", "x.txt"), "w") as f:
            f.write(f"{i}\n")
    for name in ("a", "b", "c"):
        with open(os.path.join(run, "metrics", f"{name}.json"), "w") as f:
            f.write('{"v": 1}')
    inos = {}
    for top in (mounted.path("artifacts"), os.path.join(run, "metrics")):
        for dirpath, dirnames, filenames in os.walk(top):
            for n in dirnames + [f for f in filenames if f.endswith(".json")]:
                p = os.path.join(dirpath, n)
                inos.setdefault(os.lstat(p).st_ino, []).append(p)
    dup = {i: ps for i, ps in inos.items() if len(ps) > 1}
    assert not dup, dup
    again = os.lstat(os.path.join(run, "metrics", "a.json")).st_ino
    assert inos[again] == [os.path.join(run, "metrics", "a.json")]
