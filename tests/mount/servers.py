# SPDX-License-Identifier: MIT
"""Real servers on 127.0.0.1 for the tests: the reference cmf-server."""
import json
import os
import signal
import subprocess
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REFSERVER = os.path.join(os.path.dirname(HERE), "server", "refserver.py")


class RefServer:
    """tests/server/refserver.py in its own process; keeps its data dir
    across stop()/start(), like the real server keeps its database."""

    def __init__(self, data_dir, port=0):
        self.data_dir = str(data_dir)
        self.port = port
        self.proc = None

    def start(self):
        port_file = os.path.join(self.data_dir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        os.makedirs(self.data_dir, exist_ok=True)
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", REFSERVER, "--host", "127.0.0.1",
             "--port", str(self.port), "--data-dir", self.data_dir,
             "--port-file", port_file],
            stdout=subprocess.DEVNULL, stderr=open(
                os.path.join(self.data_dir, "server.log"), "ab"))
        deadline = time.time() + 20
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError("reference server did not start")
            time.sleep(0.05)
        self.port = int(open(port_file).read())
        return self

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)
            self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def post(self, route, body):
        req = urllib.request.Request(
            f"{self.url}/api/{route}", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def pull(self, pipeline):
        status, body = self.post("mlmd_pull", {"pipeline_name": pipeline,
                                               "exec_uuid": None})
        return json.loads(body) if status == 200 else None


def wait_for(predicate, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
