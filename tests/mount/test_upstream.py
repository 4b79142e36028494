# SPDX-License-Identifier: MIT
"""A workspace made by upstream's `cmf init` and written by cmflib, built by
hand from doc/cmf-upstream.md: .cmfconfig with only [cmf], the remote in
.dvc/config, an MLMD store with a cmflib-shaped pipeline (an unnamed
execution, a Dataset logged as cmflib names it)."""
import hashlib
import os
import shutil
import sqlite3

import pytest

from conftest import Mount, cmffs, fuse_usable, mkexec
from servers import RefServer, wait_for

DATA = b"<xml>upstream data</xml>\n"
H = hashlib.md5(DATA).hexdigest()


def build_fixture(tmp_path, server_url):
    ws = tmp_path / "upstream"
    remote = tmp_path / "local-storage"
    remote.mkdir()
    # an empty MLMD v10 store (checked against the spec by test_store.c)
    cmffs("init", str(tmp_path / "scratch"))
    ws.mkdir()
    shutil.copy(tmp_path / "scratch" / "mlmd", ws / "mlmd")
    (ws / ".cmfconfig").write_text(f"[cmf]\nserver-url = {server_url}\n\n")
    (ws / ".dvc").mkdir()
    (ws / ".dvc" / "config").write_text(
        "[core]\n    remote = local-storage\n"
        "['remote \"local-storage\"']\n    url = " + str(remote) + "\n")
    db = sqlite3.connect(ws / "mlmd")
    c = db.cursor()

    def type_(name, kind, props):
        c.execute("INSERT INTO Type(name, version, type_kind) VALUES (?, NULL, ?)",
                  (name, kind))
        tid = c.lastrowid
        for p, dt in props:
            c.execute("INSERT INTO TypeProperty(type_id, name, data_type)"
                      " VALUES (?, ?, ?)", (tid, p, dt))
        return tid

    t_pipe = type_("Parent_Context", 2, [("Pipeline", 3)])
    t_stage = type_("Pipeline_Stage", 2, [("Pipeline_Stage", 3)])
    t_exec = type_("Prepare", 0, [(p, 3) for p in (
        "Execution_uuid", "Context_Type", "Execution", "Execution_type_name",
        "Pipeline_Type", "Git_Repo", "Git_Start_Commit", "Git_End_Commit")]
        + [("Context_ID", 1), ("Pipeline_id", 1)])
    t_data = type_("Dataset", 1, [("git_repo", 3), ("Commit", 3), ("url", 3)])
    now = 1753100000000
    c.execute("INSERT INTO Context(type_id, name, create_time_since_epoch,"
              " last_update_time_since_epoch) VALUES (?, 'Test-env', ?, ?)",
              (t_pipe, now, now))
    pipe = c.lastrowid
    c.execute("INSERT INTO ContextProperty(context_id, name, is_custom_property,"
              " string_value) VALUES (?, 'Pipeline', 0, 'Test-env')", (pipe,))
    c.execute("INSERT INTO Context(type_id, name, create_time_since_epoch,"
              " last_update_time_since_epoch) VALUES (?, 'Test-env/Prepare', ?, ?)",
              (t_stage, now, now))
    stage = c.lastrowid
    c.execute("INSERT INTO ParentContext VALUES (?, ?)", (stage, pipe))
    c.execute("INSERT INTO Execution(type_id, create_time_since_epoch,"
              " last_update_time_since_epoch) VALUES (?, ?, ?)", (t_exec, now, now))
    ex = c.lastrowid
    props = {"Context_Type": "Test-env/Prepare", "Execution":
             "['src/parse.py', 'artifacts/data.xml.gz']",
             "Execution_type_name": "Test-env/Prepare", "Pipeline_Type": "Test-env",
             "Execution_uuid": "1afa7676-76f6-11ee-9600-5b8c6d427e3f",
             "Git_Repo": "https://github.com/user/repo.git",
             "Git_Start_Commit": "44bf2ad09d89e24693c8e98b8da8fcecb248fb77",
             "Git_End_Commit": ""}
    for k, v in props.items():
        c.execute("INSERT INTO ExecutionProperty(execution_id, name,"
                  " is_custom_property, string_value) VALUES (?, ?, 0, ?)", (ex, k, v))
    for k, v in (("Context_ID", stage), ("Pipeline_id", pipe)):
        c.execute("INSERT INTO ExecutionProperty(execution_id, name,"
                  " is_custom_property, int_value) VALUES (?, ?, 0, ?)", (ex, k, v))
    c.execute("INSERT INTO Association(context_id, execution_id) VALUES (?, ?)",
              (stage, ex))
    c.execute("INSERT INTO Artifact(type_id, uri, name, create_time_since_epoch,"
              " last_update_time_since_epoch) VALUES (?, ?, ?, ?, ?)",
              (t_data, H, f"artifacts/data.xml.gz:{H}", now, now))
    art = c.lastrowid
    for k, v in (("git_repo", "https://github.com/user/repo.git"), ("Commit", H),
                 ("url", f"Test-env:{remote}/files/md5/{H[:2]}/{H[2:]}")):
        c.execute("INSERT INTO ArtifactProperty(artifact_id, name,"
                  " is_custom_property, string_value) VALUES (?, ?, 0, ?)", (art, k, v))
    c.execute("INSERT INTO Event(artifact_id, execution_id, type,"
              " milliseconds_since_epoch) VALUES (?, ?, 3, ?)", (art, ex, now))
    c.execute("INSERT INTO Attribution(context_id, artifact_id) VALUES (?, ?)",
              (stage, art))
    db.commit()
    db.close()
    # `dvc push` put the bytes at the remote, DVC 3 layout
    obj = remote / "files" / "md5" / H[:2] / H[2:]
    obj.parent.mkdir(parents=True)
    obj.write_bytes(DATA)
    return ws, remote, ex


def test_upstream_workspace_mounts_and_pushes_to_its_remote(tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    server = RefServer(tmp_path / "server").start()
    try:
        ws, remote, ex = build_fixture(tmp_path, server.url)
        m = Mount(tmp_path)
        m.ws = str(ws)
        m.mount()
        try:
            run = m.path("pipelines", "Test-env", "Prepare", f"execution-{ex}")
            data = os.path.join(run, "inputs", "artifacts", "data.xml.gz")
            with open(data, "rb") as f:
                assert f.read() == DATA
            mkexec(m.path("pipelines", "Test-env", "Train", "t1"))
            out = m.path("pipelines", "Test-env", "Train", "t1", "outputs", "m.txt")
            with open(out, "wb") as f:
                f.write(b"trained\n")
        finally:
            m.umount()
        r = cmffs("push", str(ws))
        h2 = hashlib.md5(b"trained\n").hexdigest()
        assert (remote / "files" / "md5" / h2[:2] / h2[2:]).read_bytes() == b"trained\n"
        doc = server.pull("Test-env")
        stages = {s["name"]: s for s in doc["Pipeline"][0]["stages"]}
        assert "Test-env/Train" in stages and "Test-env/Prepare" in stages
        # the store is still one cmflib reads: the foreign rows are untouched
        db = sqlite3.connect(ws / "mlmd")
        assert db.execute("SELECT name FROM Execution WHERE id=?", (ex,)).fetchone() == (None,)
        assert db.execute("SELECT schema_version FROM MLMDEnv").fetchone() == (10,)
        db.close()
    finally:
        server.stop()
