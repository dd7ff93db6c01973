"""Loads every page of the sla-manager's web UI in headless Chromium and checks it.

Usage: python3 deploy/tools/browser_check.py SLA_MANAGER_URL [--screenshots DIR] [--chromium BIN]
       [--series-with-acf ID]...

Starts Chromium with the DevTools protocol on a free port (a WebSocket client of the
standard library's sockets, no package needed), opens `/`, then every `/sla/...` and
`/series/...` page the overview links to, and fails (exit 1, naming page and problem) on:
any console error or uncaught exception, any failed request or answer >= 400, an overview
without its table, an SLA chart without its series, range band or forecast with its 95% band
(and with fewer violation shades than the page lists), a series page without aggregates or statistics (or with autocorrelation bars that differ
from its table).
--series-with-acf ID also loads /series/ID, which must have its autocorrelation bar chart
(a series with enough history, e.g. a synthetic one; the SLA series of a young stack have
only lag 0). With --screenshots, saves overview.png, sla.png (the first SLA) and series.png (the series page
with the most autocorrelation bars) into DIR.
"""
import argparse
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames, client masking."""

    def __init__(self, url):
        rest = url.split("://", 1)[1]
        host_port, path = rest.split("/", 1)
        host, port = host_port.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("DevTools closed the connection during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"DevTools refused the WebSocket: {head!r}")

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise RuntimeError("DevTools closed the connection")
            data += chunk
        return data

    def send(self, text):
        payload = text.encode()
        header = bytes([0x81])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 8:
                raise RuntimeError("DevTools closed the WebSocket")
            if opcode in (0, 1, 2):
                message += payload
                if b0 & 0x80:
                    return message.decode()


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        wanted = self.next_id
        self.ws.send(json.dumps({"id": wanted, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, method, timeout=60):
        deadline = time.time() + timeout
        for i, event in enumerate(self.events):
            if event["method"] == method:
                del self.events[: i + 1]
                return event
        while time.time() < deadline:
            message = json.loads(self.ws.recv())
            if "method" in message:
                self.events.append(message)
                if message["method"] == method:
                    return message
        raise RuntimeError(f"no {method} within {timeout} s")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")


def problems_of(events):
    """Console errors, exceptions and failed requests among the events of one page load."""
    found = []
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            found.append(f"console error: {args}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"log error: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            found.append(f"request failed: {params.get('errorText')} ({params.get('type')})")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            found.append(f"answer {params['response']['status']}: {params['response']['url']}")
    return found


COUNTS = """JSON.stringify({
  overview_rows: document.querySelectorAll('#overview tbody tr').length,
  sla_links: [...new Set([...document.querySelectorAll('a[href^="/sla/"]')].map(a => a.getAttribute('href')))],
  series_links: [...new Set([...document.querySelectorAll('a[href^="/series/"]')].map(a => a.getAttribute('href')))],
  charts: document.querySelectorAll('svg.chart').length,
  titled_charts: [...document.querySelectorAll('svg.chart')].filter(s => s.querySelector('title') && s.querySelector('desc') && s.getAttribute('aria-labelledby')).length,
  series: document.querySelectorAll('#sla-chart path.series').length,
  range: document.querySelectorAll('#sla-chart rect.range').length,
  violations: document.querySelectorAll('#sla-chart rect.violation').length,
  listed_violations: document.querySelectorAll('#past tbody tr').length,
  forecast: document.querySelectorAll('#sla-chart path.forecast').length,
  forecast_band: document.querySelectorAll('#sla-chart path.forecast-band').length,
  series_points: (document.querySelector('#sla-chart path.series')?.getAttribute('d') || '').split('L').length,
  aggregates: document.querySelectorAll('#aggregates tbody tr').length,
  bars: document.querySelectorAll('#acf-chart rect.bar').length,
  acf_rows: document.querySelectorAll('#acf-data tbody tr').length,
  statistics: !!document.querySelector('#statistics') || document.body.innerText.includes("None stored yet (the etl's slow loop"),
  constant: document.body.innerText.includes('The series is constant'),
  error: document.querySelector('#error')?.innerText || null,
})"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--screenshots")
    parser.add_argument("--series-with-acf", action="append", default=[])
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    base = args.url.rstrip("/")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    profile = tempfile.mkdtemp(prefix="sla-browser-")
    flags = [
        args.chromium, "--headless=new", f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
        "--no-first-run", "--disable-gpu", "--disable-extensions", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--hide-scrollbars", "about:blank",
    ]
    if os.geteuid() == 0:
        flags.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    browser = subprocess.Popen(flags, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    failures = []
    try:
        deadline = time.time() + 30
        while True:
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2))
                pages = [t for t in targets if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.time() > deadline or browser.poll() is not None:
                sys.exit(f"chromium did not start: {browser.stderr.read().decode()[-2000:] if browser.poll() is not None else 'timeout'}")
            time.sleep(0.3)
        page = Page(WebSocket(pages[0]["webSocketDebuggerUrl"]))
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=1100, height=900, deviceScaleFactor=1, mobile=False)

        def load(path):
            page.events.clear()
            page.call("Page.navigate", url=base + path)
            page.wait_for("Page.loadEventFired")
            time.sleep(0.3)  # late console messages
            counts = json.loads(page.evaluate(COUNTS))
            problems = problems_of(page.events)
            # The content of the whole page, for a full-length screenshot.
            return counts, problems

        def shoot(name):
            if not args.screenshots:
                return
            height = page.evaluate("document.documentElement.scrollHeight")
            page.call("Emulation.setDeviceMetricsOverride", width=1100, height=min(int(height), 2400), deviceScaleFactor=1, mobile=False)
            data = page.call("Page.captureScreenshot", format="png")["data"]
            os.makedirs(args.screenshots, exist_ok=True)
            with open(os.path.join(args.screenshots, name), "wb") as f:
                f.write(base64.b64decode(data))
            page.call("Emulation.setDeviceMetricsOverride", width=1100, height=900, deviceScaleFactor=1, mobile=False)
            print(f"saved {os.path.join(args.screenshots, name)}")

        def check(path, counts, problems, conditions):
            bad = problems + [what for what, ok in conditions if not ok]
            if counts.get("error"):
                bad.append(f"error page: {counts['error']}")
            for problem in bad:
                failures.append(f"{path}: {problem}")
            print(f"{'FAIL' if bad else 'ok  '} {path} {json.dumps({k: v for k, v in counts.items() if not k.endswith('links')})}")

        counts, problems = load("/")
        check("/", counts, problems, [
            ("no SLA table (#overview)", counts["overview_rows"] > 0),
            ("a row without its SLA link", len(counts["sla_links"]) == counts["overview_rows"]),
        ])
        shoot("overview.png")
        sla_links, series_links = counts["sla_links"], counts["series_links"]
        for i, path in enumerate(sla_links):
            counts, problems = load(path)
            check(path, counts, problems, [
                ("not exactly one chart", counts["charts"] == 1),
                ("a chart without <title>, <desc> and aria-labelledby", counts["titled_charts"] == counts["charts"]),
                ("no series line", counts["series"] == 1 and counts["series_points"] >= 2),
                ("no allowed-range band", counts["range"] == 1),
                ("no forecast line", counts["forecast"] == 1),
                ("no 95% forecast band", counts["forecast_band"] == 1),
                ("fewer violation shades than listed violations", counts["violations"] == counts["listed_violations"]),
            ])
            if i == 0:
                shoot("sla.png")
        most_bars = (-1, None)
        for path in series_links + [f"/series/{i}" for i in args.series_with_acf]:
            counts, problems = load(path)
            wanted = path.split("/")[-1] in args.series_with_acf
            check(path, counts, problems, [
                ("no aggregates table", counts["aggregates"] == 3),
                ("no statistics section", counts["statistics"] or counts["constant"]),
                ("autocorrelation bars and table rows differ", counts["bars"] == counts["acf_rows"]),
                ("no autocorrelation bar chart", counts["bars"] > 1 or not wanted),
                ("a chart without <title>, <desc> and aria-labelledby", counts["titled_charts"] == counts["charts"]),
            ])
            if counts["bars"] > most_bars[0]:
                most_bars = (counts["bars"], path)
        if not series_links:
            failures.append("/: no series links")
        elif args.screenshots:
            load(most_bars[1])
            shoot("series.png")
    finally:
        try:
            os.killpg(browser.pid, 15)
        except ProcessLookupError:
            pass
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(browser.pid, 9)
        shutil.rmtree(profile, ignore_errors=True)
    if failures:
        print("\n".join(["browser check FAILED:"] + failures), file=sys.stderr)
        sys.exit(1)
    print(f"browser check passed: {1 + len(sla_links) + len(series_links) + len(args.series_with_acf)} pages")


if __name__ == "__main__":
    main()
