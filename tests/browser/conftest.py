"""Browser tests: the lessons in JupyterLab and the built site, in Debian's Chromium driven by Playwright.

They run only with SDXL_BROWSER_TESTS=1 (`make browser-test`), because they execute every lesson a second
time, which `make test`'s time budget cannot hold; and only where Chromium is installed (Debian's
`chromium` package: Playwright downloads no browser here). Otherwise they are skipped with one line.

    SDXL_BROWSER_TESTS=1 .venv/bin/python -m pytest tests/browser -n 2    # what `make browser-test` runs

Two workers run two lessons at a time, each with its own JupyterLab server and browser. Screenshots, and
each lesson's run time in JupyterLab, go to _screenshots/ (ignored by git).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from browser_support import CHROMIUM_FLAGS, SCREENSHOTS, chromium_path, skip_reason  # noqa: E402


def pytest_collection_modifyitems(config, items):
    reason = skip_reason()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium, with nothing that looks anything up on the network by itself."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
