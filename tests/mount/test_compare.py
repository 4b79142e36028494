# SPDX-License-Identifier: MIT
"""Comparison tables rendered from the store: S/compare.tsv, S/compare.md
and P/compare.tsv, one row per execution, newest first, with every custom
property and every final metric as a column, read as a user reads them
(pandas, a Markdown table)."""
import csv
import io
import os
import re
import subprocess

import pandas as pd
import pytest

from conftest import mkexec


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read()


@pytest.fixture
def repo(tmp_path):
    """A git repository with one commit: executions made from it record
    its commit."""
    r = tmp_path / "repo"
    r.mkdir()
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@x",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@x")
    for cmd in (["git", "init", "-q"], ["git", "commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(cmd, cwd=r, check=True, env=env)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=r, check=True,
                          capture_output=True, text=True).stdout.strip()
    return r, head


def mkexec_in(cwd, path):
    subprocess.run(["sh", "-c", 'mkdir -p "$1"', "sh", str(path)], check=True,
                   cwd=cwd)


@pytest.fixture
def stage(mounted, repo):
    """Three executions of mnist/train made in that order, and one of
    mnist/prep; r1 completed, with two logs of eval.json (the last one
    counts) and step metrics; r2 without lr; r3 with hostile values."""
    cwd, head = repo
    train = mounted.path("pipelines", "mnist", "train")
    for name in ("r1", "r2", "r3"):
        mkexec_in(cwd, os.path.join(train, name))
    mkexec(mounted.path("pipelines", "mnist", "prep", "p1"))
    r1, r2, r3 = (os.path.join(train, n) for n in ("r1", "r2", "r3"))
    write(f"{r1}/properties/lr", "0.1\n")
    write(f"{r1}/properties/epochs", "10\n")
    write(f"{r1}/metrics/eval.json", '{"accuracy": 0.5, "loss": 2}')
    write(f"{r1}/metrics/eval.json", '{"accuracy": 0.93, "loss": 0.25}')
    write(f"{r1}/metrics/train.csv", "step,loss\n1,0.9\n2,0.5\n3,0.125\n")
    write(f"{r1}/state", "complete\n")
    write(f"{r2}/properties/epochs", "20\n")
    write(f"{r2}/metrics/eval.json", '{"accuracy": 0.95}')
    write(f"{r3}/properties/lr", "0.01\n")
    write(f"{r3}/properties/note", "tab\there\nnew line | pipe <script>\\")
    write(mounted.path("pipelines", "mnist", "prep", "p1", "properties", "rows"), "1000\n")
    return train, head


def test_compare_tsv_loads_with_pandas(mounted, stage):
    train, head = stage
    path = os.path.join(train, "compare.tsv")
    text = read(path)
    # a generated table shows its size (a browser or a spreadsheet reads
    # up to st_size)
    assert os.stat(path).st_size == len(text.encode())
    df = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, dtype=str,
                     keep_default_na=False)
    # the properties a user set, the metrics, then where the execution ran
    assert list(df.columns) == [
        "execution", "state", "start", "commit",
        "properties/epochs", "properties/lr", "properties/note",
        "metrics/eval.json:accuracy", "metrics/eval.json:loss",
        "metrics/train.csv:loss", "metrics/train.csv:step",
        "properties/Git_Dirty", "properties/Host", "properties/Pid", "properties/User"]
    # one row per execution of the stage, newest first
    assert mounted.sql("SELECT count(*) FROM Association x JOIN Context c"
                       " ON c.id = x.context_id WHERE c.name = 'mnist/train'") == [(3,)]
    assert list(df["execution"]) == ["r3", "r2", "r1"]
    rows = {r["execution"]: r for r in df.to_dict("records")}
    assert rows["r1"]["state"] == "COMPLETE"
    assert rows["r2"]["state"] == "RUNNING"
    # the last values logged under eval, the last row of train.csv
    assert rows["r1"]["metrics/eval.json:accuracy"] == "0.93"
    assert rows["r1"]["metrics/eval.json:loss"] == "0.25"
    assert rows["r1"]["metrics/train.csv:loss"] == "0.125"
    assert rows["r1"]["metrics/train.csv:step"] == "3"
    assert rows["r2"]["metrics/eval.json:accuracy"] == "0.95"
    # an empty cell where an execution has no such value
    assert rows["r2"]["properties/lr"] == ""
    assert rows["r2"]["metrics/eval.json:loss"] == ""
    assert rows["r1"]["properties/lr"] == "0.1"
    assert rows["r2"]["properties/epochs"] == "20"
    # the start time is ISO 8601 (UTC), the commit the short hash
    for r in rows.values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["start"])
        assert r["commit"] == head[:7]
        assert r["properties/Git_Dirty"] == "0"
    # a tab or a newline in a value cannot break the table: escaped
    assert rows["r3"]["properties/note"] == "tab\\there\\nnew line | pipe <script>\\\\"
    assert len(text.splitlines()) == 4
    # the default reader types the columns: numbers are numbers
    typed = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE)
    assert typed["metrics/eval.json:accuracy"].dtype.kind == "f"
    assert typed.set_index("execution").loc["r1", "properties/epochs"] == 10


def test_escaped_cells_unescape_to_the_value(mounted, stage):
    train, _ = stage
    df = pd.read_csv(os.path.join(train, "compare.tsv"), sep="\t",
                     quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
    cell = df.set_index("execution").loc["r3", "properties/note"]
    unescaped = re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r",
                                           "\\": "\\"}[m.group(1)], cell)
    assert unescaped == read(os.path.join(train, "r3", "properties", "note")).rstrip("\n")


def test_compare_md_is_a_markdown_table(mounted, stage):
    train, head = stage
    text = read(os.path.join(train, "compare.md"))
    lines = text.splitlines()
    assert len(lines) == 2 + 3
    assert lines[0].startswith("| execution | state | start | commit | properties/epochs |")
    assert re.fullmatch(r"(\|---)+\|", lines[1])

    def cells(line):
        assert line.startswith("| ") and line.endswith(" |")
        # split on pipes not escaped with a backslash
        return [c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])]

    header = cells(lines[0])
    assert len(header) == lines[1].count("---") == 15
    rows = [dict(zip(header, cells(l))) for l in lines[2:]]
    assert all(len(cells(l)) == len(header) for l in lines[2:])
    assert [r["execution"] for r in rows] == ["r3", "r2", "r1"]
    assert rows[2]["metrics/eval.json:accuracy"] == "0.93"
    assert rows[2]["commit"] == head[:7]
    # | escaped, no markup: < as an entity, a newline as \n
    assert rows[0]["properties/note"] == \
        "tab\\there\\nnew line \\| pipe &lt;script&gt;\\\\"


def test_pipeline_compare_has_a_stage_column(mounted, stage):
    path = mounted.path("pipelines", "mnist", "compare.tsv")
    df = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, dtype=str,
                     keep_default_na=False)
    assert list(df.columns[:2]) == ["stage", "execution"]
    assert list(zip(df["stage"], df["execution"])) == [
        ("prep", "p1"), ("train", "r3"), ("train", "r2"), ("train", "r1")]
    assert "properties/rows" in df.columns
    assert df.set_index("execution").loc["p1", "properties/rows"] == "1000"
    assert df.set_index("execution").loc["r1", "properties/rows"] == ""


def test_a_new_execution_shows_at_once(mounted, stage):
    train, _ = stage
    mkexec(os.path.join(train, "r4"))
    write(os.path.join(train, "r4", "metrics", "eval.json"), '{"accuracy": 1}')
    df = pd.read_csv(os.path.join(train, "compare.tsv"), sep="\t",
                     quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
    assert list(df["execution"])[:2] == ["r4", "r3"]
    assert df.set_index("execution").loc["r4", "metrics/eval.json:accuracy"] == "1"


def test_sizes_follow_the_store(mounted, stage):
    """stat of a table or page gives the size of what a read gives, also
    after a change (the mount keeps rendered sizes until the store
    changes; the kernel's attribute cache lasts 1 s)."""
    import time
    train, _ = stage
    files = [os.path.join(train, "compare.tsv"), os.path.join(train, "compare.md"),
             os.path.join(train, "r1", "index.html")]
    for f in files:
        assert os.stat(f).st_size == len(read(f).encode())
    before = [os.stat(f).st_size for f in files]
    write(os.path.join(train, "r1", "properties", "a_new_key"), "a long new value\n")
    time.sleep(1.2)
    for f, b in zip(files, before):
        assert os.stat(f).st_size == len(read(f).encode()) != b


def test_empty_stage(mounted):
    os.makedirs(mounted.path("pipelines", "p", "s"))
    assert read(mounted.path("pipelines", "p", "s", "compare.tsv")) == \
        "execution\tstate\tstart\tcommit\n"
    assert read(mounted.path("pipelines", "p", "s", "compare.md")) == \
        "| execution | state | start | commit |\n|---|---|---|---|\n"
    # the fixed names cannot be made as executions
    with pytest.raises(FileExistsError):
        os.mkdir(mounted.path("pipelines", "p", "s", "compare.tsv"))
