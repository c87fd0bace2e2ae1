"""Open an HTML file in headless Chromium and see what a user's browser would: the DOM after
the scripts ran, console messages (errors included), the network requests the page made,
and a screenshot. For the report tests and the README screenshot; needs a `chromium` (or
Chrome) binary, found with `find_chromium()`.

Every request from the page is made to fail (an unreachable proxy and a host resolver that
finds nothing) and is read back from Chromium's NetLog, where page-initiated requests carry
the page's file:// origin; the browser's own background traffic is told apart by its
initiator ("not an origin").
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_CONSOLE = re.compile(r":CONSOLE[^\]]*\] (.*)$")
_QUIET = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


def find_chromium() -> str | None:
    for name in BINARIES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageLoad:
    """What loading the page produced."""

    dom: str
    console: list[str]  # console messages and uncaught errors, as Chromium logs them
    requests: list[str]  # URLs the page asked for beyond file: and data:


def _page_requests(net_log: Path) -> list[str]:
    events = json.loads(net_log.read_text() or "{}")
    names = {v: k for k, v in events.get("constants", {}).get("logEventTypes", {}).items()}
    urls = []
    for event in events.get("events", []):
        params = event.get("params") or {}
        if names.get(event.get("type")) != "URL_REQUEST_START_JOB":
            continue
        url = params.get("url", "")
        if not url or params.get("initiator") == "not an origin":
            continue  # an end-of-job event, or the browser's own background traffic
        if url.startswith(("file:", "data:")):
            continue
        urls.append(url)
    return urls


def load_page(html: Path, chromium: str, timeout: float = 120) -> PageLoad:
    """Load `html` headless; the DOM is taken after its scripts ran."""
    with tempfile.TemporaryDirectory() as scratch:
        net_log = Path(scratch) / "net.json"
        result = subprocess.run(
            [
                chromium,
                *_QUIET,
                f"--user-data-dir={scratch}/profile",
                "--enable-logging=stderr",
                "--v=0",
                f"--log-net-log={net_log}",
                "--dump-dom",
                Path(html).resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,  # the console and the DOM tell more than the exit code
        )
        console = [
            m.group(1) for line in result.stderr.splitlines() if (m := _CONSOLE.search(line))
        ]
        requests = _page_requests(net_log) if net_log.exists() else []
    return PageLoad(result.stdout, console, requests)


def screenshot(
    html: Path,
    png: Path,
    chromium: str,
    width: int = 1200,
    height: int = 1600,
    timeout: float = 120,
) -> Path:
    """Save a PNG of the top `width` × `height` pixels of the page."""
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [
                chromium,
                *_QUIET,
                f"--user-data-dir={scratch}/profile",
                f"--window-size={width},{height}",
                f"--screenshot={Path(png).resolve()}",
                Path(html).resolve().as_uri(),
            ],
            capture_output=True,
            timeout=timeout,
            check=True,
        )
    return Path(png)
