"""Headless Chromium driven as a person's browser: open a page at a window size, ask it what
is where on the screen, and take a screenshot into the run's folder (listed at the end of the
run). Chromium's DevTools protocol over a pipe (``--remote-debugging-pipe``: NUL-separated
JSON on file descriptors 3 and 4), so nothing beyond Chromium is needed."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.serving import Background
from tests.support.web import CHROMIUM, DESCRIPTIONS, SCREENSHOTS

# Where screenshots go: one folder per run, named in the summary at the end.
SHOTS = Path(tempfile.gettempdir()) / f"newsmon-screenshots-{os.getpid()}"


class BrowserError(AssertionError):
    """Chromium answered a command with an error, or not at all."""


class Browser(Background):
    """One headless Chromium for a ``with`` block; :meth:`open` loads a page in a new tab."""

    def __init__(self, width: int = 1280, height: int = 900) -> None:
        assert CHROMIUM, "chromium is not on PATH"
        self.width, self.height = width, height
        self._profile = tempfile.TemporaryDirectory()
        self._ids = 0
        self._buffer = b""

    def start(self) -> None:
        to_chromium, self._commands = os.pipe()
        self._events, from_chromium = os.pipe()

        def descriptors() -> None:  # the child's 3 reads commands, its 4 writes answers
            os.dup2(to_chromium, 3)
            os.dup2(from_chromium, 4)

        self._process = subprocess.Popen(
            [
                str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", "--remote-debugging-pipe",
                f"--user-data-dir={self._profile.name}",
                f"--window-size={self.width},{self.height}",
            ],
            preexec_fn=descriptors,
            # Kept open through the exec, as subprocess closes every other descriptor.
            pass_fds=(3, 4),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_chromium)
        os.close(from_chromium)

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._commands)
        os.close(self._events)
        self._profile.cleanup()

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer (events on the way are skipped)."""
        self._ids += 1
        message: dict[str, Any] = {"id": self._ids, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answer = self._read()
            if answer.get("id") == self._ids:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
        raise BrowserError(f"{method}: no answer in 60 s")

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._events, 1 << 16)
            if not chunk:
                raise BrowserError("chromium closed its pipe")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(line)
        return message

    def open(self, url: str) -> Tab:
        """A new tab showing ``url``, once the page has loaded."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        tab = Tab(self, session)
        tab.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        tab.send("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        loaded = "document.readyState == 'complete' && location.href != 'about:blank'"
        while not tab.run(loaded):
            if time.monotonic() > deadline:
                raise BrowserError(f"{url} did not load in 60 s")
            time.sleep(0.1)
        return tab


class Tab:
    """A page in the browser."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self.browser.send(method, self.session, **params)

    def run(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        answer = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise BrowserError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def on_first_screen(self, selector: str) -> list[str]:
        """The texts of the elements matching ``selector`` that a person sees without
        scrolling: inside the window, not hidden."""
        return list(
            self.run(
                f"""Array.from(document.querySelectorAll({json.dumps(selector)}))
                .filter(e => {{ const r = e.getBoundingClientRect();
                  return e.checkVisibility() && r.width > 0 && r.height > 0
                    && r.top >= 0 && r.bottom <= innerHeight
                    && r.left >= 0 && r.right <= innerWidth; }})
                .map(e => e.textContent.trim())"""
            )
        )

    def screenshot(self, name: str, what: str, full_page: bool = False) -> Path:
        """A PNG of the window (or the whole page) as ``name``.png in the run's folder, listed
        at the end of the run with ``what`` it shows."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            height = self.run("document.documentElement.scrollHeight")
            params["clip"] = {"x": 0, "y": 0, "width": self.browser.width, "height": height}
            params["clip"]["scale"] = 1
        data = base64.b64decode(self.send("Page.captureScreenshot", **params)["data"])
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        path.write_bytes(data)
        SCREENSHOTS.append(path)
        DESCRIPTIONS[path] = what
        return path
