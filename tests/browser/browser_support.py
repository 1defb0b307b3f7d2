"""What the browser tests share: where things are, Debian's Chromium and its flags, a free port."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "_screenshots"
sys.path.insert(0, str(ROOT / "tools"))  # build_site: the lesson list, the README table, the site builder

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    """Debian's Chromium (or SDXL_CHROMIUM=path), never a browser that Playwright would download."""
    for candidate in (os.environ.get("SDXL_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def skip_reason() -> str | None:
    if os.environ.get("SDXL_BROWSER_TESTS", "") in ("", "0"):
        return "browser tests run with `make browser-test` (SDXL_BROWSER_TESTS=1): they execute every lesson again"
    if chromium_path() is None:
        return "browser tests need Chromium (Debian: apt-get install chromium), not installed here"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "browser tests need Playwright's Python package (pip install -e '.[test]')"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
