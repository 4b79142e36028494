# SPDX-License-Identifier: MIT
"""The HTML report of the mount (index.html, pipelines/P/index.html,
E/index.html), opened from file:// in headless Chromium driven over the
DevTools protocol (--remote-debugging-pipe, the Python standard library
only): the pipelines, executions, metric values and plots are in the DOM,
links lead from page to page, a click on a header sorts a table, no
console error, and a hostile name stays text.  Skipped without Debian's
chromium.  Also: a store of 1,000 executions renders P/index.html in
bounded size and time."""
import base64
import fcntl
import hashlib
import json
import os
import select
import shutil
import subprocess
import time
import urllib.parse
import uuid

import pytest

from conftest import Mount, cmffs, fuse_usable, mkexec

CHROMIUM = shutil.which("chromium")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)


class Browser:
    """Headless Chromium over --remote-debugging-pipe: commands go to its
    fd 3, answers and events come from its fd 4, JSON ended by NUL."""

    def __init__(self, tmp):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.log = open(tmp / "chromium.log", "wb")

        def to_3_and_4():
            # above the numbers being replaced first, then into place
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions",
             f"--user-data-dir={tmp / 'chromium-profile'}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            pass_fds=(3, 4), preexec_fn=to_3_and_4)
        os.close(to_child_r)
        os.close(from_child_w)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("chromium did not answer in time")
            if select.select([self.from_child], [], [], left)[0]:
                chunk = os.read(self.from_child, 1 << 20)
                if not chunk:
                    raise AssertionError("chromium exited")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=False, timeout=60, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise AssertionError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, timeout=60):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def js(self, expression):
        r = self.call("Runtime.evaluate", session=True, expression=expression,
                      returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def goto(self, url):
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.call("Page.navigate", session=True, url=url)
        self.wait_event("Page.loadEventFired")

    def click(self, selector):
        """A real mouse click in the middle of the element."""
        box = self.js(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            e.scrollIntoView(); const r = e.getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2]; }})()""")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", session=True, type=kind,
                      x=box[0], y=box[1], button="left", clickCount=1)

    def follow(self, selector):
        """Click a link and wait for the page it leads to."""
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.click(selector)
        self.wait_event("Page.loadEventFired")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def problems(self, allowed=()):
        """Console errors, uncaught exceptions and dialogs so far, but for
        failed loads of the files in @allowed."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(p["exceptionDetails"])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(p)
            elif m == "Page.javascriptDialogOpening":
                out.append(p)
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                url = p["entry"].get("url", "")
                if not any(url.endswith(a) for a in allowed):
                    out.append(p["entry"])
        return out

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except AssertionError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_child)
        os.close(self.from_child)
        self.log.close()


@pytest.fixture
def browser(tmp_path):
    if not CHROMIUM:
        pytest.skip("chromium is not installed (scripts/install-deps test)")
    b = Browser(tmp_path)
    try:
        yield b
    finally:
        b.close()


HOSTILE = '<img src=x onerror=alert(1)>'


@pytest.fixture
def pipeline(mounted):
    """mnist: prep/p1 writes data, train/{r1,r2} read it and log metrics
    and step metrics; a hostile execution name and property value."""
    p1 = mounted.path("pipelines", "mnist", "prep", "p1")
    r1 = mounted.path("pipelines", "mnist", "train", "r1")
    r2 = mounted.path("pipelines", "mnist", "train", "r2")
    bad = mounted.path("pipelines", "mnist", "train", HOSTILE)
    for e in (p1, r1, r2, bad):
        mkexec(e)
    write(f"{p1}/outputs/clean.csv", "a,b\n1,2\n")
    for e, lr, acc in ((r1, "0.1", "0.5"), (r2, "0.01", "0.75")):
        os.link(f"{p1}/outputs/clean.csv", f"{e}/inputs/clean.csv")
        write(f"{e}/properties/lr", lr)
        write(f"{e}/metrics/eval.json", '{"accuracy": %s}' % acc)
        write(f"{e}/metrics/loss.csv", "step,loss\n1,0.9\n2,0.4\n")
        write(f"{e}/outputs/models/model.pt", "weights " + lr)
    write(f"{r2}/properties/note", "<script>alert(2)</script>")
    os.makedirs(f"{r2}/dataslices/slice1")
    os.link(f"{p1}/outputs/clean.csv", f"{r2}/dataslices/slice1/clean.csv")
    open(f"{r2}/dataslices/slice1/.commit", "w").close()
    write(f"{bad}/properties/{HOSTILE.replace('/', '')}", HOSTILE)
    return mounted


def url_of(path):
    return "file://" + urllib.parse.quote(path)


def missing_plots(m):
    """The step-metric plots a page embeds that the mount does not have
    (they are made by another part of cmffs): their failed loads are not
    this report's errors."""
    out = []
    for rel in ("train/metrics/loss.svg", "train/r1/metrics/loss.svg",
                "train/r2/metrics/loss.svg"):
        if not os.path.exists(m.path("pipelines", "mnist", rel)):
            out.append(rel)
    return out


def plots_load(browser, m):
    """Every plot the page embeds whose file the mount has is shown (so it
    shows its real size: a browser reads a file:// picture up to it)."""
    imgs = browser.js("""[...document.querySelectorAll('img.plot')].map(i =>
        [decodeURIComponent(new URL(i.src).pathname), i.complete && i.naturalWidth > 0])""")
    assert imgs
    for path, shown in imgs:
        if os.path.exists(path):
            assert shown, path


def test_workspace_index(pipeline, browser):
    m = pipeline
    browser.goto(url_of(m.path("index.html")))
    assert browser.js("document.title") == "cmffs workspace"
    rows = browser.js("""[...document.querySelectorAll('table.pipelines tbody tr')]
                         .map(r => [...r.cells].map(c => c.textContent))""")
    assert len(rows) == 1
    assert rows[0][:3] == ["mnist", "2", "4"]
    assert rows[0][3].endswith("Z")
    status = browser.js("document.querySelector('pre.status').textContent")
    assert "executions: 4" in status and "remote:" in status
    # follow the link to the pipeline's page
    browser.follow("table.pipelines tbody a")
    assert browser.js("location.pathname").endswith("/pipelines/mnist/index.html")
    assert browser.js("document.querySelector('h1').textContent") == "Pipeline mnist"
    assert browser.problems(allowed=missing_plots(m)) == []


def compare_rows(browser, stage):
    return browser.js(f"""(() => {{
        const t = document.querySelector('section#stage-{stage} table.compare');
        const head = [...t.tHead.rows[0].cells].map(c => c.textContent);
        return [head, ...[...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))];
    }})()""")


def test_pipeline_page(pipeline, browser, tmp_path):
    m = pipeline
    browser.goto(url_of(m.path("pipelines", "mnist", "index.html")))
    table = compare_rows(browser, "train")
    head, rows = table[0], table[1:]
    assert head[:4] == ["execution", "state", "start", "commit"]
    assert "properties/lr" in head and "metrics/eval.json:accuracy" in head
    assert "metrics/loss.csv:loss" in head
    by_name = {r[0]: dict(zip(head, r)) for r in rows}
    assert set(by_name) == {"r1", "r2", HOSTILE}
    assert by_name["r1"]["metrics/eval.json:accuracy"] == "0.5"
    assert by_name["r2"]["metrics/eval.json:accuracy"] == "0.75"
    assert by_name["r2"]["metrics/loss.csv:loss"] == "0.4"
    assert by_name["r2"]["properties/note"] == "<script>alert(2)</script>"
    # newest first
    assert [r[0] for r in rows] == [HOSTILE, "r2", "r1"]
    # the lineage graph is embedded and loads
    assert browser.js("""(() => { const i = document.querySelector('img.lineage');
        return [i.getAttribute('src'), i.complete && i.naturalWidth > 0]; })()""") == \
        ["lineage.svg", True]
    # step-metric plots of the stage, by relative path
    plots = browser.js("[...document.querySelectorAll('section#stage-train img.plot')]"
                       ".map(i => i.getAttribute('src'))")
    assert plots == ["train/metrics/loss.svg"]
    plots_load(browser, m)
    # artifacts with size, hash and url
    arts = browser.js("""[...document.querySelectorAll('table.artifacts tbody tr')]
                         .map(r => [...r.cells].map(c => c.textContent))""")
    clean = next(a for a in arts if a[0] == "clean.csv")
    assert clean[1:4] == ["Dataset", "8", hashlib.md5(b"a,b\n1,2\n").hexdigest()]
    assert clean[5] == "output of prep/p1"
    assert sum(a[0] == "models/model.pt" for a in arts) == 2
    # sort by accuracy with a click on its header: ascending, then descending
    col = head.index("metrics/eval.json:accuracy") + 1
    sel = f"section#stage-train table.compare thead th:nth-child({col})"
    browser.click(sel)
    rows = compare_rows(browser, "train")[1:]
    assert [r[0] for r in rows] == ["r1", "r2", HOSTILE]
    assert browser.js(f"document.querySelector('{sel}').getAttribute('aria-sort')") == "ascending"
    browser.click(sel)
    rows = compare_rows(browser, "train")[1:]
    assert [r[0] for r in rows] == ["r2", "r1", HOSTILE]    # empty cells last
    # by name, as text
    browser.click("section#stage-train table.compare thead th:nth-child(1)")
    assert [r[0] for r in compare_rows(browser, "train")[1:]][1:] == ["r1", "r2"]
    browser.screenshot(tmp_path / "pipeline.png")
    # the hostile names and values stayed text: no element, no script ran
    assert browser.js("document.querySelectorAll('script').length") == 1
    assert browser.js("document.querySelectorAll('img[onerror]').length") == 0
    # follow the link to the execution r2
    browser.follow("section#stage-train table.compare a[href='train/r2/index.html']")
    assert browser.js("location.pathname").endswith("/pipelines/mnist/train/r2/index.html")
    assert browser.problems(allowed=missing_plots(m)) == []


def test_execution_page(pipeline, browser):
    m = pipeline
    e = m.path("pipelines", "mnist", "train", "r2")
    browser.goto(url_of(os.path.join(e, "index.html")))
    assert browser.js("document.querySelector('h1').textContent") == "Execution mnist/train/r2"

    def table(cls):
        return browser.js(f"""[...document.querySelectorAll('table.{cls} tbody tr')]
                             .map(r => [...r.cells].map(c => c.textContent))""")
    facts = dict(browser.js("""[...document.querySelectorAll('table.facts tr')]
                 .map(r => [r.cells[0].textContent, r.cells[1].textContent])"""))
    assert facts["state"] == "RUNNING"
    assert facts["command"].startswith("['sh', '-c', 'mkdir -p")
    with open(os.path.join(e, "execution.json")) as f:
        record = json.load(f)
    assert facts["uuid"] == record["properties"]["Execution_uuid"]
    assert facts["Pid"] == str(record["custom_properties"]["Pid"])
    assert ["properties/lr", "0.01"] in table("properties")
    assert ["properties/note", "<script>alert(2)</script>"] in table("properties")
    assert ["metrics/eval.json:accuracy", "0.75"] in table("metrics")
    assert ["metrics/loss.csv:loss", "0.4"] in table("metrics")
    assert browser.js("[...document.querySelectorAll('img.plot')].map(i => i.getAttribute('src'))") \
        == ["metrics/loss.svg"]
    plots_load(browser, m)
    inputs, outputs = table("inputs"), table("outputs")
    assert [r[0] for r in inputs] == ["clean.csv"]
    model = next(r for r in outputs if r[0] == "models/model.pt")
    assert model[1:4] == ["Model", str(len("weights 0.01")),
                          hashlib.md5(b"weights 0.01").hexdigest()]
    assert [r[1] for r in outputs] == ["Dataslice", "Model"]
    # links: to the files in the mount, to the other executions, up
    hrefs = browser.js("[...document.querySelectorAll('table.outputs a')].map(a => a.href)")
    paths = [urllib.parse.unquote(urllib.parse.urlparse(h).path) for h in hrefs]
    assert paths == [os.path.join(e, "dataslices", "slice1"),
                     os.path.join(e, "outputs", "models", "model.pt")]
    assert all(os.path.exists(p) for p in paths)
    others = browser.js("[...document.querySelectorAll('ul.others a')].map(a => a.textContent)")
    assert sorted(others) == sorted(["r1", HOSTILE])
    browser.follow("ul.others a[href='../r1/index.html']")
    assert browser.js("document.querySelector('h1').textContent") == "Execution mnist/train/r1"
    # the hostile execution's page: its name is text, nothing runs
    bad = browser.js("[...document.querySelectorAll('ul.others a')].find(a => a.textContent.startsWith('<img')).href")
    browser.goto(bad)
    assert browser.js("document.querySelector('h1').textContent") == f"Execution mnist/train/{HOSTILE}"
    assert browser.js("document.querySelectorAll('img').length") == 0
    assert [f"properties/{HOSTILE.replace('/', '')}", HOSTILE] in table("properties")
    browser.follow("nav a:nth-of-type(2)")
    assert browser.js("location.pathname").endswith("/pipelines/mnist/index.html")
    assert browser.problems(allowed=missing_plots(m)) == []


def test_pages_show_their_size(pipeline):
    """A browser reads a file:// page only up to st_size: the pages, the
    tables and lineage.svg show theirs."""
    m = pipeline
    for rel in ("index.html", "pipelines/mnist/index.html", "pipelines/mnist/lineage.svg",
                "pipelines/mnist/compare.tsv", "pipelines/mnist/train/compare.md",
                "pipelines/mnist/train/r1/index.html"):
        path = m.path(*rel.split("/"))
        with open(path, "rb") as f:
            data = f.read()
        assert len(data) > 0 and os.stat(path).st_size == len(data), rel


def big_document(n, pipeline="big", stages=("train", "eval")):
    """A CMF JSON document of @n executions, each with two properties, a
    metrics artifact and two output files."""
    st = []
    per = n // len(stages)
    for si, s in enumerate(stages):
        execs = []
        for i in range(per):
            k = si * per + i
            md5 = hashlib.md5(str(k).encode()).hexdigest()
            u = str(uuid.UUID(int=k + 1))
            execs.append({
                "type": f"{pipeline}/{s}", "name": f"run{k:04d}",
                "create_time_since_epoch": 1700000000000 + k * 1000,
                "last_update_time_since_epoch": 1700000000000 + k * 1000,
                "properties": {"Context_Type": f"{pipeline}/{s}", "Execution": "['train.py']",
                               "Execution_type_name": f"{pipeline}/{s}",
                               "Execution_uuid": u, "Git_End_Commit": "", "Git_Repo": "",
                               "Git_Start_Commit": "", "Pipeline_Type": pipeline},
                "custom_properties": {"lr": 0.001 * (k + 1), "seed": k},
                "events": [
                    {"type": 4, "artifact": {
                        "type": "Dataset", "name": f"data/out{k}.csv:{md5}", "uri": md5,
                        "properties": {"Commit": md5, "url": "", "git_repo": ""},
                        "custom_properties": {}}},
                    {"type": 4, "artifact": {
                        "type": "Dataset", "name": f"data/extra{k}.csv:{md5[::-1]}",
                        "uri": md5[::-1],
                        "properties": {"Commit": md5[::-1], "url": "", "git_repo": ""},
                        "custom_properties": {}}},
                    {"type": 4, "artifact": {
                        "type": "Metrics", "name": f"eval:{u}:{k}", "uri": u,
                        "properties": {"metrics_name": f"eval:{u}:{k}"},
                        "custom_properties": {"acc": k / n}}},
                ]})
        st.append({"type": "Pipeline_Stage", "name": f"{pipeline}/{s}",
                   "properties": {"Pipeline_Stage": f"{pipeline}/{s}"},
                   "custom_properties": {}, "executions": execs})
    return {"Pipeline": [{"type": "Parent_Context", "name": pipeline,
                          "properties": {"Pipeline": pipeline}, "custom_properties": {},
                          "stages": st}]}


def test_a_thousand_executions_render_in_bounded_size_and_time(tmp_path):
    if not fuse_usable():
        pytest.skip("/dev/fuse cannot be opened here")
    m = Mount(tmp_path)
    cmffs("init", m.ws)
    doc = tmp_path / "big.json"
    doc.write_text(json.dumps(big_document(1000)))
    cmffs("import", m.ws, str(doc), timeout=300)
    m.mount()
    try:
        page = m.path("pipelines", "big", "index.html")
        start = time.time()
        with open(page) as f:
            html = f.read()
        took = time.time() - start
        # a generous bound: about 0.1 s here
        assert took < 30, took
        assert len(html) < 4 * 1024 * 1024, len(html)
        assert html.count("/index.html\">run") == 1000
        assert "1000 of 2000 artifacts are shown" in html
        for rel in ("compare.tsv", "train/compare.tsv", "train/run0001/index.html",
                    "train/run0001/diff/run0002"):
            start = time.time()
            with open(m.path("pipelines", "big", *rel.split("/"))) as f:
                text = f.read()
            assert time.time() - start < 30 and text, rel
        with open(m.path("pipelines", "big", "compare.tsv")) as f:
            assert len(f.read().splitlines()) == 1001
    finally:
        m.umount()
