"""What the benchmark drivers share: the emulator's admin client, stopping a child, the machine's description."""
import http.client
import json
import os
import platform
import signal
import subprocess
import threading
import urllib.parse

class Admin:
    """The emulator's admin API on one keep-alive connection per thread."""

    def __init__(self, base):
        parsed = urllib.parse.urlparse(base)
        self.host, self.port = parsed.hostname, parsed.port
        self.local = threading.local()

    def call(self, method, path, body=None):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)


def write_marked_section(path, name, text, heading=None):
    """Puts `text` between the `<!-- NAME-benchmark:start -->` and `<!-- NAME-benchmark:end -->` markers of the
    Markdown file at `path`, replacing what was there; appends the markers with `text` (under `## heading` when given)
    where they are missing."""
    start, end = "<!-- %s-benchmark:start -->" % name, "<!-- %s-benchmark:end -->" % name
    document = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    block = "%s\n%s\n%s" % (start, text, end)
    if start in document and end in document:
        document = document[:document.index(start)] + block + document[document.index(end) + len(end):]
    else:
        document = document.rstrip("\n") + "\n\n" + ("## %s\n\n" % heading if heading else "") + block + "\n"
    with open(path, "w") as handle:
        handle.write(document)


def stop(process, grace=20):
    """SIGTERM, up to `grace` seconds to exit, then SIGKILL; always reaped. Returns the exit status, None if killed."""
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def machine_line():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        total = int(f.readline().split()[1]) / 1024 / 1024
    return "%d CPUs (nproc), %s, %.1f GiB RAM, %s %s" % (os.cpu_count(), model, total, platform.system(), platform.release())


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()
