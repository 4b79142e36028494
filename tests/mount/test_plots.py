# SPDX-License-Identifier: MIT
"""Charts of step metrics, read through a real mount: E/metrics/NAME.svg
(one execution's NAME.csv, a line per numeric column) and
S/metrics/NAME.svg (every execution of the stage overlaid: a panel per
column, a line per execution), rendered from the store on read."""
import errno
import os
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import mkexec

SVG = "{http://www.w3.org/2000/svg}"


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(str(v) for v in row) + "\n")


def read_svg(path):
    """The bytes, checked against stat's size, and the parsed tree."""
    with open(path, "rb") as f:
        data = f.read()
    assert os.stat(path).st_size == len(data)
    root = ET.fromstring(data)
    assert root.tag == SVG + "svg"
    assert root.get("viewBox", "").startswith("0 0 800 ")
    assert root.get("width") == "800"
    return data, root


def paths(elem):
    return list(elem.iter(SVG + "path"))


def legend(elem):
    return [t.text for g in elem.iter(SVG + "g") if g.get("class") == "legend"
            for t in g.iter(SVG + "text")]


def panels(root):
    return [g for g in root.iter(SVG + "g") if g.get("class") == "panel"]


def test_execution_chart(mounted, execution):
    metrics = os.path.join(execution, "metrics")
    write_csv(os.path.join(metrics, "train.csv"), ["step", "loss", "acc"],
              [(s, 1 / s, 1 - 1 / (s + 1)) for s in range(1, 41)])
    assert sorted(os.listdir(metrics)) == ["train.csv", "train.svg"]
    data, root = read_svg(os.path.join(metrics, "train.svg"))
    # one line per numeric column, the step column is the x axis
    lines = paths(root)
    assert len(lines) == 2
    assert [p.find(SVG + "title").text for p in lines] == ["loss", "acc"]
    assert legend(root) == ["loss", "acc"]
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "train" in texts and "step" in texts
    # round ticks on the x axis: 0 .. 40
    assert "0" in texts and "40" in texts
    # 40 steps: every point drawn (M + 39 further points)
    d = lines[0].get("d")
    assert d.startswith("M") and len(d.replace(" L", " ").split()) == 40
    st = os.stat(os.path.join(metrics, "train.svg"))
    assert st.st_mode & 0o777 == 0o444


def test_chart_follows_new_versions(mounted, execution):
    csv = os.path.join(execution, "metrics", "m.csv")
    svg = os.path.join(execution, "metrics", "m.svg")
    with open(csv, "w") as f:
        f.write("loss\n")
        f.flush()
        # created, no version yet: the chart says so
        data, root = read_svg(svg)
        assert paths(root) == []
        assert b"no version of this file yet" in data
        f.write("0.5\n0.25\n")
    data, root = read_svg(svg)
    assert len(paths(root)) == 1
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "row" in texts          # no step column: the row number
    with open(csv, "a") as f:
        f.write("0.125\n" * 8)
    data2, root = read_svg(svg)
    assert data2 != data
    assert "10" in [t.text for t in root.iter(SVG + "text")]


def test_stage_overlay(mounted):
    stage = mounted.path("pipelines", "demo", "train")
    names = ["run-a", "run-b", "run-c"]
    for i, name in enumerate(names):
        mkexec(os.path.join(stage, name))
        write_csv(os.path.join(stage, name, "metrics", "loss.csv"),
                  ["step", "loss", "acc"],
                  [(s, (i + 1) / s, s / 100) for s in range(1, 21 + i)])
    # a metric that only one execution has is listed too
    write_csv(os.path.join(stage, "run-b", "metrics", "lr.csv"), ["lr"],
              [(0.1,), (0.01,)])
    assert "metrics" in os.listdir(stage)
    assert sorted(os.listdir(os.path.join(stage, "metrics"))) == [
        "loss.svg", "lr.svg"]
    data, root = read_svg(os.path.join(stage, "metrics", "loss.svg"))
    # TensorBoard's way: a panel per column, a line per execution
    ps = panels(root)
    assert len(ps) == 2
    assert len(paths(root)) == 6
    for panel in ps:
        assert len(paths(panel)) == 3
        assert legend(panel) == names
        assert [p.find(SVG + "title").text for p in paths(panel)] == names
    titles = [t.text for t in root.iter(SVG + "text") if t.get("class") == "title"]
    assert titles == ["loss: loss", "loss: acc"]
    # an execution keeps its colour in every panel
    assert [p.get("stroke") for p in paths(ps[0])] == \
        [p.get("stroke") for p in paths(ps[1])]
    assert len({p.get("stroke") for p in paths(ps[0])}) == 3
    # x covers every execution's steps (1 .. 22)
    xticks = [float(t.text) for g in root.iter(SVG + "g") if g.get("class") == "ticks"
              for t in g.iter(SVG + "text") if t.get("text-anchor") == "middle"]
    assert min(xticks) <= 1 and max(xticks) >= 22
    data, root = read_svg(os.path.join(stage, "metrics", "lr.svg"))
    assert len(paths(root)) == 1 and legend(root) == ["run-b"]
    # names no execution has, and the fixed directory itself
    for bad in ("none.svg", "loss.csv", "loss"):
        with pytest.raises(FileNotFoundError):
            os.stat(os.path.join(stage, "metrics", bad))
    with pytest.raises(FileNotFoundError):
        os.stat(os.path.join(stage, "run-a", "metrics", "none.svg"))


def test_charts_are_read_only(mounted, execution):
    metrics = os.path.join(execution, "metrics")
    write_csv(os.path.join(metrics, "m.csv"), ["a"], [(1,), (2,)])
    svg = os.path.join(metrics, "m.svg")
    with pytest.raises(PermissionError):
        open(svg, "w")
    with pytest.raises(PermissionError):
        os.unlink(svg)
    stage_dir = os.path.dirname(execution)
    with pytest.raises(PermissionError):
        open(os.path.join(stage_dir, "metrics", "m.svg"), "w")
    with pytest.raises(OSError) as e:
        open(os.path.join(stage_dir, "metrics", "new.txt"), "w")
    assert e.value.errno in (errno.EPERM, errno.EACCES)
    # the name is the layout's: no execution can be called metrics
    with pytest.raises(FileExistsError):
        os.mkdir(os.path.join(stage_dir, "metrics"))


def test_hostile_column_names_are_escaped(mounted, execution):
    names = ["<script>alert(1)</script>", "a&b", 'say "hi"', "it's",
             "]]><x/>"]
    csv = os.path.join(execution, "metrics", "evil.csv")
    with open(csv, "w") as f:
        f.write(",".join('"' + n.replace('"', '""') + '"' for n in names) + "\n")
        for s in range(1, 6):
            f.write(",".join(str(s * (i + 1)) for i in range(len(names))) + "\n")
    charts = (os.path.join(execution, "metrics", "evil.svg"),
              os.path.join(os.path.dirname(execution), "metrics", "evil.svg"))
    for svg in charts:
        data, root = read_svg(svg)
        assert b"<script" not in data and b"<x/>" not in data
        assert b"&lt;script&gt;" in data and b"a&amp;b" in data
    # the execution's chart: a line per column, the names come back whole
    data, root = read_svg(charts[0])
    assert len(paths(root)) == len(names)
    assert legend(root) == names
    # the stage's: a panel per column, titled with its name
    data, root = read_svg(charts[1])
    titles = [t.text for t in root.iter(SVG + "text") if t.get("class") == "title"]
    assert titles == ["evil: " + n for n in names]


def test_large_csv_renders_bounded(mounted, execution):
    csv = os.path.join(execution, "metrics", "big.csv")
    rows = 200_000
    with open(csv, "w") as f:
        f.write("step,loss,acc\n")
        f.writelines(f"{s},{1 / (s + 1):.6f},{(s % 1000) / 1000:.3f}\n"
                     for s in range(rows))
        f.write(f"{rows},5000,0.5\n")        # one spike at the very end
    start = time.monotonic()
    data, root = read_svg(os.path.join(execution, "metrics", "big.svg"))
    assert time.monotonic() - start < 60
    assert os.path.getsize(csv) > 4_000_000
    assert len(data) < 150_000               # not proportional to the rows
    assert len(paths(root)) == 2
    # the spike survives the downsampling: the y axis reaches it
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "5k" in texts or "6k" in texts
    stage_svg = os.path.join(os.path.dirname(execution), "metrics", "big.svg")
    data, root = read_svg(stage_svg)
    assert len(data) < 150_000 and len(paths(root)) == 2


def test_bytes_fetched_or_said_missing(mounted, execution):
    """A version whose bytes left the cache is fetched from the storage to
    be drawn; one that no storage has either is a chart that says so, not
    an error (a stat renders it too)."""
    csv = os.path.join(execution, "metrics", "gone.csv")
    write_csv(csv, ["a"], [(1,), (2,)])
    (md5,) = mounted.sql("SELECT md5 FROM cmffs_entry WHERE name='gone.csv'")[0]
    rel = os.path.join("files", "md5", md5[:2], md5[2:])
    cached = os.path.join(mounted.ws, ".cmf", "cache", rel)
    stored = os.path.join(mounted.remote, rel)
    deadline = time.monotonic() + 60
    while not os.path.exists(stored):        # pushed in the background
        assert time.monotonic() < deadline, mounted.daemon_log()
        time.sleep(0.1)
    os.unlink(cached)
    svg = os.path.join(execution, "metrics", "gone.svg")
    data, root = read_svg(svg)
    assert len(paths(root)) == 1
    assert os.path.exists(cached)
    os.unlink(cached)
    os.unlink(stored)
    time.sleep(1.1)                          # the kernel's cached size
    data, root = read_svg(svg)
    assert paths(root) == []
    assert b"cannot be read or fetched here" in data
