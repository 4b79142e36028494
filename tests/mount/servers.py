# SPDX-License-Identifier: MIT
"""Real servers on 127.0.0.1 for the tests: the reference cmf-server, and
a fault-injecting proxy in front of an S3 server."""
import http.client
import http.server
import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse
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

    def dump(self):
        """The whole store: contexts, executions, artifacts and events with
        their ids (GET /_debug/dump, a route of the reference server only)."""
        with urllib.request.urlopen(f"{self.url}/_debug/dump", timeout=30) as r:
            return json.loads(r.read())


def wait_for(predicate, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class S3FaultProxy:
    """A reverse proxy in front of the S3 server at @upstream that passes
    every request through unchanged (its signed Host header included), but
    answers 500 InternalError to those for which @fail(method, path) is
    true, after reading their whole body, and holds every answer @delay
    seconds (a slow, far away storage).  Bodies are streamed, answers
    buffered (tests send large bodies and get small answers)."""

    HOP = {"connection", "keep-alive", "proxy-connection", "expect",
           "transfer-encoding", "te", "upgrade"}

    def __init__(self, upstream, fail=lambda method, path: False, delay=0):
        u = urllib.parse.urlparse(upstream)
        self.host, self.port = u.hostname, u.port
        self.fail = fail
        self.delay = delay
        self.requests = []      # (method, path) of every request
        self.failed = []        # (method, path) of the requests failed
        self.server = None

    def start(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def body_chunks(self):
                left = int(self.headers.get("Content-Length") or 0)
                while left:
                    chunk = self.rfile.read(min(left, 1 << 16))
                    if not chunk:
                        raise ConnectionError("client went away")
                    left -= len(chunk)
                    yield chunk

            def any(self):
                proxy.requests.append((self.command, self.path))
                if proxy.delay:
                    time.sleep(proxy.delay)
                if proxy.fail(self.command, self.path):
                    for _ in self.body_chunks():
                        pass
                    proxy.failed.append((self.command, self.path))
                    body = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"
                            b"<Code>InternalError</Code><Message>injected by the test"
                            b"</Message></Error>")
                    self.send_response_only(500)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                up = http.client.HTTPConnection(proxy.host, proxy.port, timeout=120)
                try:
                    up.putrequest(self.command, self.path, skip_host=True,
                                  skip_accept_encoding=True)
                    for k, v in self.headers.items():
                        if k.lower() not in proxy.HOP:
                            up.putheader(k, v)
                    up.endheaders()
                    for chunk in self.body_chunks():
                        up.send(chunk)
                    resp = up.getresponse()
                    data = resp.read()
                    self.send_response_only(resp.status, resp.reason)
                    for k, v in resp.getheaders():
                        if k.lower() in proxy.HOP or (
                                k.lower() == "content-length" and self.command != "HEAD"):
                            continue
                        self.send_header(k, v)
                    if self.command != "HEAD":
                        self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    up.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"
