"""Headless Chromium (Debian's ``chromium``) over the DevTools protocol: open a page, wait for it,
screenshot it and say which images did not load and which tables do not fit the text column.

``chromium --headless --screenshot`` only writes a picture: it cannot tell a figure that failed
to load from one that did. Over DevTools the test asks the page itself, after every image has
settled, which ``<img>`` elements have no picture (``!complete || naturalWidth === 0``), and
also hears of every request that failed (``Network.loadingFailed``), so a missing stylesheet or
script is reported too.
"""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
PACKAGES_HINT = "install Debian's chromium (`sudo make system-deps` installs every system package)"

#: Runs in the page once it has loaded. Lazy images are made eager (a screenshot of the top of a
#: page would otherwise never fetch the figures below it), then every image is given up to
#: IMAGE_WAIT_MS to load or fail before being judged.
IMAGE_WAIT_MS = 10_000
_CHECK_IMAGES = """
(async () => {
  const images = [...document.images];
  images.forEach(image => { image.loading = 'eager'; });
  const settled = image => image.complete ? Promise.resolve() : new Promise(done => {
    image.addEventListener('load', done, {once: true});
    image.addEventListener('error', done, {once: true});
  });
  const timeout = new Promise(done => setTimeout(done, IMAGE_WAIT_MS));
  await Promise.race([Promise.all(images.map(settled)), timeout]);
  return JSON.stringify({
    sources: images.map(i => i.getAttribute('src') || '(no src)'),
    broken: images.filter(i => !i.complete || i.naturalWidth === 0)
                  .map(i => i.getAttribute('src') || '(no src)'),
  });
})()
""".replace("IMAGE_WAIT_MS", str(IMAGE_WAIT_MS))


#: Runs in the page: every table of the article that is wider than the box it sits in. The
#: book theme wraps each table in a box that scrolls sideways, so such a table is not cut off
#: for good, but a reader sees no scroll bar and misses the columns past the edge (a number
#: hidden, a heading cut to "Registrat").
_WIDE_TABLES = """
JSON.stringify([...document.querySelectorAll('article table')]
  .filter(table => table.getBoundingClientRect().width > table.parentElement.clientWidth + 1)
  .map(table => {
    const first = table.querySelector('th, td');
    const name = first ? first.textContent.trim().slice(0, 40) : '(empty)';
    return `${name}: ${Math.round(table.getBoundingClientRect().width)} px in `
      + `${table.parentElement.clientWidth} px`;
  }))
"""


@dataclass
class PageReport:
    """What a page showed: its images, the broken ones and the requests that failed."""

    url: str
    title: str
    images: list[str]  # the src of every <img>, in page order
    broken_images: list[str]
    failed_requests: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    #: Tables wider than their box, each as "first cell: width px in box px".
    wide_tables: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f"image did not load: {src}" for src in self.broken_images] + [
            f"request failed: {request}" for request in self.failed_requests
        ]


class Chromium:
    """One headless Chromium, one tab, driven over a DevTools WebSocket."""

    def __init__(self, executable: str, profile: Path, timeout: float = 20.0) -> None:
        import websocket  # websocket-client, a test dependency (pyproject [dev])

        self.timeout = timeout
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        # A file, not a pipe: Chromium logs freely, and a full pipe would stall it.
        self._log = (profile / "chromium-stderr.log").open("wb")
        self.process = subprocess.Popen(
            [
                executable,
                "--headless=new",
                "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--hide-scrollbars",
                "--remote-debugging-port=0",  # any free port; Chromium writes it down
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        try:
            port = self._port(profile)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as page:
                targets = json.load(page)
            url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
            self.socket = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
        except BaseException:
            self.close()
            raise

    def _port(self, profile: Path) -> int:
        marker = profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (profile / "chromium-stderr.log").read_text(errors="replace")
                raise RuntimeError(
                    f"chromium exited at start (status {self.process.returncode}): {log[-500:]}"
                )
            if marker.is_file():
                text = marker.read_text().split()
                if text:
                    return int(text[0])
            time.sleep(0.05)
        raise RuntimeError(f"chromium did not open its DevTools port within {self.timeout:.0f} s")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        ident = self._next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            if "method" in message:
                self._events.append(message)

    def wait_for(self, event: str) -> dict[str, Any]:
        """The next ``event`` (kept or new), within the time limit."""
        deadline = time.monotonic() + self.timeout
        while True:
            for number, message in enumerate(self._events):
                if message["method"] == event:
                    return dict(self._events.pop(number).get("params", {}))
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {self.timeout:.0f} s")
            message = json.loads(self.socket.recv())
            if "method" in message:
                self._events.append(message)

    def check_page(self, url: str, screenshot: Path | None = None, width: int = 1280) -> PageReport:
        """Load ``url``, wait for its images, and report (and screenshot the whole page)."""
        self._events.clear()
        self.send("Page.enable")
        self.send("Network.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        evaluated = self.send(
            "Runtime.evaluate",
            expression=_CHECK_IMAGES,
            awaitPromise=True,
            returnByValue=True,
        )
        verdict = json.loads(evaluated["result"]["value"])
        title = self.send("Runtime.evaluate", expression="document.title", returnByValue=True)
        wide = self.send("Runtime.evaluate", expression=_WIDE_TABLES, returnByValue=True)
        failed = self._failed_requests()
        report = PageReport(
            url=url,
            title=str(title["result"].get("value", "")),
            images=list(verdict["sources"]),
            broken_images=list(verdict["broken"]),
            failed_requests=failed,
            wide_tables=list(json.loads(wide["result"]["value"])),
        )
        if screenshot is not None:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            shot = self.send(
                "Page.captureScreenshot",
                format="png",
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1},
            )
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            report.screenshot = screenshot
        return report

    def _failed_requests(self) -> list[str]:
        urls = {
            m["params"]["requestId"]: m["params"]["request"]["url"]
            for m in self._events
            if m["method"] == "Network.requestWillBeSent"
        }
        return [
            f"{urls.get(m['params']['requestId'], '?')} ({m['params'].get('errorText', '')})"
            for m in self._events
            if m["method"] == "Network.loadingFailed" and not m["params"].get("canceled")
        ]

    def close(self) -> None:
        socket = getattr(self, "socket", None)
        if socket is not None:
            socket.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@contextmanager
def headless_chromium(executable: str) -> Iterator[Chromium]:
    """A Chromium with a throw-away profile, stopped and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="evaltk-chromium-") as profile:
        browser = Chromium(executable, Path(profile))
        try:
            yield browser
        finally:
            browser.close()
