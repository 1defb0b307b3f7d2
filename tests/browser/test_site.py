"""The built course site (`make site`, _site/) in Chromium: every page loads cleanly, shows its pictures, links work.

The site is served by Python's http.server on a free local port. Every page must load with no console
error, no failed request and no request that leaves the machine (the site is self-contained: MathJax is
copied into it); every lesson page must show its pictures (images with a real size); every link between
pages must answer 200 (and its #anchor exist); every "Open in Colab" link must point at the lesson's
notebook on Colab (not fetched: the test runs offline). Both editions: English at the site's root, Portuguese in
pt-BR/, each page linking to its twin in the other language. If _site/ does not exist yet, it is built first.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import nbformat
import pytest

import build_site
from browser_support import SCREENSHOTS

SITE = Path(build_site.SITE)
LESSONS = build_site.lesson_names()
PORTUGUESE = build_site.EDITIONS["pt-BR"]
# Every page: "index", "NN_name", "pt-BR/index", "pt-BR/NN_name"
PAGES = ["index", *LESSONS, *(f"{PORTUGUESE.folder}/{name}" for name in ["index", *build_site.lesson_names(PORTUGUESE.notebooks)])]
FORMULA = re.compile(r"(?<![`$\\])\$[^$`\s][^$`]*\$")  # $x_t$ in markdown, not `$VARIABLE` in code
COLAB = re.compile(r"^https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w.-]+/notebooks/((?:pt-BR/)?\d\d_\w+)\.ipynb$")


@pytest.fixture(scope="session")
def site():
    """The site's folder, built now if it is missing or lacks a lesson (by one test worker, the others wait)."""
    from filelock import FileLock

    SCREENSHOTS.mkdir(exist_ok=True)  # ignored by git, like _site/: the lock lies there
    with FileLock(str(SCREENSHOTS / ".site-build.lock")):
        if not all((SITE / f"{name}.html").is_file() for name in PAGES):
            build_site.build(SITE)
    return SITE


@pytest.fixture(scope="session")
def served(site):
    """The site on a free local port: its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a browser closing a page mid-transfer is no failure of the site; what the page saw is checked


def visit(browser, url, screenshot=None):
    """Load a page; what went wrong (console errors, page errors, failed or outside requests), and the page's facts."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    host = urlparse(url).netloc

    def route(request_route):
        if urlparse(request_route.request.url).netloc == host or request_route.request.url.startswith("data:"):
            request_route.continue_()
        else:
            problems.append(f"request leaving the machine: {request_route.request.url}")
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and problems.append(f"console error: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed request: {request.url} ({request.failure})"))
    page.on("response", lambda response: response.status >= 400 and problems.append(
        f"HTTP {response.status}: {response.url}"))
    try:
        answer = page.goto(url, wait_until="networkidle")
        assert answer is not None and answer.status == 200, f"{url} answered {answer and answer.status}"
        # MathJax typesets after the load: wait until it is done (pages without it pass at once).
        page.wait_for_function("() => !window.MathJax || !window.MathJax.Hub || window.MathJax.isReady === true"
                               " && window.MathJax.Hub.queue.pending === 0 && window.MathJax.Hub.queue.running === 0",
                               timeout=60_000)
        facts = page.evaluate("""() => ({
            images: Array.from(document.images).map(img => ({src: img.src.slice(0, 60), complete: img.complete,
                                                              width: img.naturalWidth, height: img.naturalHeight})),
            links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
            ids: Array.from(document.querySelectorAll('[id]')).map(node => node.id),
            math: document.querySelectorAll('.MathJax_CHTML, mjx-container').length,
            mathErrors: document.querySelectorAll('.MathJax_Error, merror').length,
            title: document.title,
        })""")
        if screenshot is not None:
            page.screenshot(path=str(screenshot))
    finally:
        context.close()
    return problems, facts


def page_urls(served):
    return {name: served + f"{name}.html" for name in PAGES}


def _edition(name):
    """(the page's folder prefix, "" or "pt-BR/"; its lesson or "index")"""
    folder, _, page = name.rpartition("/")
    return (folder + "/" if folder else ""), page


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_shows_its_pictures_and_links_resolve(name, served, browser, screenshots):
    url = page_urls(served)[name]
    problems, facts = visit(browser, url, screenshots / f"site-{name}.png")
    assert not problems, f"{name}: " + "\n".join(problems)
    assert facts["mathErrors"] == 0, f"{name}: {facts['mathErrors']} formulas MathJax could not typeset"

    prefix, page = _edition(name)
    if page != "index":
        lesson = nbformat.read(build_site.NOTEBOOKS / f"{name}.ipynb", as_version=4)
        if any(FORMULA.search(cell.source) for cell in lesson.cells if cell.cell_type == "markdown"):
            assert facts["math"] > 0, f"{name}: its formulas were not typeset (MathJax did not run)"
        assert facts["images"], f"{name}: the page shows no picture"
        empty = [image for image in facts["images"] if not (image["complete"] and image["width"] > 0 and image["height"] > 0)]
        assert not empty, f"{name}: pictures that did not load: {empty}"

    local = [link for link in facts["links"] if link.startswith(served)]
    colab = [link for link in facts["links"] if link.startswith("https://colab.research.google.com/")]
    for link in local:
        target, anchor = urldefrag(link)
        assert target.startswith(served) and target.endswith(".html"), f"{name}: a local link to {link}"
        page_name = target[len(served):][: -len(".html")]
        assert page_name in page_urls(served), f"{name}: a link to a page the site does not have: {link}"
        assert _status(target) == 200, f"{name}: the link to {target} answers {_status(target)}"
        if anchor:
            ids = facts["ids"] if target == url else _ids_of(browser, target)
            assert anchor in ids, f"{name}: a link to #{anchor}, which {target} does not have"
    editions_lessons = [page_name for page_name in PAGES if _edition(page_name)[0] == prefix and _edition(page_name)[1] != "index"]
    for link in colab:
        match = COLAB.match(link)
        assert match and match.group(1) in editions_lessons, f"{name}: a Colab link to no lesson of its edition: {link}"
    if page == "index":
        assert {served + f"{lesson}.html" for lesson in editions_lessons} <= set(local), "the index does not link every lesson"
        assert {match.group(1) for match in map(COLAB.match, colab) if match} == set(editions_lessons), \
            "the index does not link every lesson to Colab"
    else:
        assert any(COLAB.match(link) and COLAB.match(link).group(1) == name for link in colab), \
            f"{name}: no Open in Colab link to {name}.ipynb"
        assert served + f"{prefix}index.html" in local, f"{name}: no link back to its index"
    twin = f"{page}" if prefix else f"{PORTUGUESE.folder}/{page}"
    if twin in PAGES:  # the same page in the other language
        assert served + f"{twin}.html" in local, f"{name}: no link to the same page in the other language ({twin})"


_IDS: dict[str, list[str]] = {}


def _ids_of(browser, url):
    """The element ids of another page (for links to its #anchors), each page visited once."""
    if url not in _IDS:
        _IDS[url] = visit(browser, url)[1]["ids"]
    return _IDS[url]


def _status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
