"""Every lesson run in JupyterLab in Chromium: no error anywhere, every widget drawn, the widgets respond.

A JupyterLab server starts on a free local port with a token, on a scratch copy of notebooks/ (what the
lessons and JupyterLab's autosave write stays out of the repository), in tiny mode, offline, with live
widgets (not the static fallbacks of the nbval run). Each lesson is opened, run with JupyterLab's own
"Run All Cells" command, and checked once the kernel is idle:

- every code cell ran (it has an execution count) and no output is an error or a traceback;
- every widget output is drawn (no "Error displaying widget", nothing still loading), and a lesson that
  builds a slider or a form shows at least one widget (they are live here);
- the step slider (StepRecorder.slider, lessons 01 and 04): moving it changes the picture;
- the generation form (helpers.forms, lessons 05 and 09): Generate draws a picture, and Generate again
  with another seed draws a different one.

The Portuguese edition (notebooks/pt-BR/) runs the same code: its lessons with a widget run here too, so that the
widgets are checked with the Portuguese texts around them.

A screenshot of each lesson goes to _screenshots/lab-<lesson>.png, and its run time in JupyterLab, cell and
widget counts to _screenshots/lab-<lesson>.json.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from build_site import README, SiteError, has_widgets, lesson_names, read_lesson_table, seconds
from browser_support import ROOT, free_port

NOTEBOOKS = ROOT / "notebooks"


def longest_first(names):
    """The lessons, the longest (the README's tiny times) first: two test workers then finish together."""
    try:
        table = read_lesson_table(README.read_text(encoding="utf-8"))
    except SiteError:
        table = {}
    return sorted(names, key=lambda name: -seconds(table[name].tiny) if name in table else 0.0)


def lesson_has_widgets(name):
    return has_widgets((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))


LESSONS = longest_first(lesson_names(NOTEBOOKS))
LESSONS += [f"pt-BR/{name}" for name in lesson_names(NOTEBOOKS / "pt-BR") if lesson_has_widgets(f"pt-BR/{name}")]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
LESSON_SECONDS = 900  # the slowest lesson (03 trains) takes a few minutes on 2 busy cores

# JupyterLab's settings for the test: nothing fetched from the network, every cell in the page (no
# windowing: a cell scrolled out of view is still there to check).
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def lab_command(port: int, token: str, root: Path, settings: Path, workspaces: Path) -> list[str]:
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
               f"--LabApp.workspaces_dir={workspaces}", "--LabApp.expose_app_in_browser=True",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A JupyterLab server on a scratch copy of the lessons: (base URL, token)."""
    scratch = tmp_path_factory.mktemp("lab")
    root, settings, workspaces = scratch / "notebooks", scratch / "settings", scratch / "workspaces"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns("outputs", ".ipynb_checkpoints"))
    for name, values in SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    environment = {**os.environ, "SDXL_TUTORIAL_MODE": "tiny", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
                   "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")}
    environment.pop("SDXL_TUTORIAL_STATIC", None)  # the widgets must be live here
    port, token = free_port(), secrets.token_hex(16)
    log = (scratch / "lab.log").open("w")
    server = subprocess.Popen(lab_command(port, token, root, settings, workspaces), cwd=root, env=environment,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"JupyterLab did not start: {(scratch / 'lab.log').read_text()[-3000:]}")
        time.sleep(0.5)
    yield base, token
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


# In the page: the open notebook's state, from JupyterLab's own objects (window.jupyterapp).
STATE = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.filter(cell => cell.model.type === 'code');
  const outputs = cells.map(cell => cell.model.outputs.toJSON());
  return {
    path: panel.context.path,
    kernel: kernel ? kernel.status : 'none',
    cells: cells.length,
    unexecuted: cells.map((cell, index) => cell.model.executionCount === null ? index : -1).filter(i => i >= 0),
    errors: outputs.flatMap((list, index) => list.filter(o => o.output_type === 'error')
        .map(o => `code cell ${index}: ${o.ename}: ${o.evalue}`)),
    tracebacks: outputs.flatMap((list, index) => list.filter(o => o.output_type === 'stream' && o.name === 'stderr'
        && /Traceback \\(most recent call last\\)/.test(Array.isArray(o.text) ? o.text.join('') : o.text))
        .map(() => `code cell ${index}: a traceback on stderr`)),
    widgets: outputs.flat().filter(o => o.data && o.data['""" + WIDGET_MIME + """']).length,
  };
}"""

RUN_ALL = """async () => {
  const app = window.jupyterapp;
  await app.shell.currentWidget.sessionContext.ready;
  app.commands.execute('notebook:run-all-cells');  // not awaited: the test waits, with its own time limit
  return true;
}"""

SHUTDOWN = "async () => { await window.jupyterapp.shell.currentWidget.sessionContext.shutdown(); }"


def wait_for(page, expression, timeout_s, argument=None, what="condition"):
    try:
        return page.wait_for_function(expression, arg=argument, timeout=timeout_s * 1000, polling=500)
    except Exception as error:  # Playwright's TimeoutError: say what was awaited
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}") from error


def open_lesson(page, base, token, notebook):
    page.goto(f"{base}/lab/tree/{notebook}?reset&token={token}")
    wait_for(page, "(path) => { const p = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                   " return p && p.context && p.context.path === path && p.sessionContext"
                   " && p.sessionContext.session && p.sessionContext.session.kernel"
                   " && p.sessionContext.session.kernel.status === 'idle'; }", 180, notebook, "the kernel to start")


def rendered_widgets(page):
    """Each widget output of the notebook's model, and whether the page drew it (or says it failed)."""
    return page.evaluate("""(mime) => {
      const panel = window.jupyterapp.shell.currentWidget;
      const found = [];
      panel.content.widgets.filter(cell => cell.model.type === 'code').forEach((cell, index) => {
        const outputs = cell.model.outputs;
        for (let i = 0; i < outputs.length; i++) {
          const data = outputs.get(i).data;
          if (!data || !data[mime]) continue;
          const view = cell.outputArea.widgets[i];
          const node = view ? view.node : null;
          found.push({cell: index, text: node ? node.innerText.slice(0, 200) : '(no output in the page)',
                      drawn: node !== null && node.querySelector('.jupyter-widgets') !== null});
        }
      });
      return found;
    }""", WIDGET_MIME)


def image_src(locator):
    return locator.evaluate("img => img.src")


def check_slider(page, slider_box):
    """Move a step slider to its first recorded step: the picture beside it must change."""
    picture = slider_box.locator("img").first
    before = image_src(picture)
    readout = slider_box.locator(".widget-readout").first
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("0")
    page.keyboard.press("Enter")
    wait_for(page, "([box, before]) => { const img = box.querySelector('img'); return img && img.src !== before; }",
             60, [slider_box.element_handle(), before], "the slider's picture to change")


def check_form(page, form):
    """Generate, then Generate with another seed: a picture each time, and a different one."""
    button = form.locator("button").first  # "Generate", or its translation
    output = form.locator(".widget-output")

    def generate(previous):
        button.click()
        wait_for(page, "([out, previous]) => { const img = out.querySelector('img');"
                       " return img && img.complete && img.naturalWidth > 0 && img.src !== previous; }",
                 120, [output.element_handle(), previous], "the form's picture")
        return image_src(output.locator("img").first)

    first = generate("")
    seed = form.locator(".widget-text:has(label:text-is('seed')) input").first
    seed.fill(str(int(seed.input_value()) + 1))
    seed.press("Enter")
    second = generate(first)
    assert second != first


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_in_jupyterlab(lesson, lab, browser, screenshots):
    base, token = lab
    notebook = f"{lesson}.ipynb"
    source = (NOTEBOOKS / notebook).read_text(encoding="utf-8")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside = []  # the lessons' Colab badge: a picture on Colab's server, not reachable from the test

    def route(request_route):
        if request_route.request.url.startswith((base, "data:", "blob:")):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page_errors = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        open_lesson(page, base, token, notebook)
        start = time.monotonic()
        page.set_default_timeout(LESSON_SECONDS * 1000)
        page.evaluate(RUN_ALL)
        wait_for(page, STATE.replace("() => {", "() => { const s = (() => {", 1) + ")(); return s && s.kernel === 'idle'"
                 " && (s.unexecuted.length === 0 || s.errors.length > 0); }", LESSON_SECONDS,
                 what="every cell to run")
        seconds = time.monotonic() - start
        wait_for(page, "() => !/Loading widget/.test(window.jupyterapp.shell.currentWidget.content.node.innerText)",
                 60, what="the widgets to load")
        state = page.evaluate(STATE)
        print(f"{lesson}: ran in JupyterLab in {seconds:.0f} s, {state['cells']} code cells, "
              f"{state['widgets']} widget outputs; requests to other hosts, refused: {sorted(set(outside)) or 'none'}")
        assert not state["errors"], f"error outputs in {notebook}: {state['errors']}"
        assert not state["tracebacks"], f"tracebacks in {notebook}: {state['tracebacks']}"
        assert not state["unexecuted"], f"code cells that did not run in {notebook}: {state['unexecuted']}"
        drawn = rendered_widgets(page)
        assert len(drawn) == state["widgets"]
        broken = [f"code cell {widget['cell']}: {widget['text']}" for widget in drawn
                  if not widget["drawn"] or "Error displaying widget" in widget["text"]]
        assert not broken, f"widgets not drawn in {notebook}: {broken}"
        expects_widgets = ".slider(" in source or "generation_form(" in source
        assert state["widgets"] > 0 or not expects_widgets, f"{notebook} builds a slider or a form, but shows no widget"

        sliders = page.locator(".widget-vbox:has(> .widget-slider):has(> .widget-image)")
        if ".slider(" in source:
            assert sliders.count() > 0, f"{notebook}: the step slider is not in the page"
            sliders.first.scroll_into_view_if_needed()
            check_slider(page, sliders.first)
        forms = page.locator(".widget-vbox:has(> .widget-button)")
        if "generation_form(" in source:
            assert forms.count() > 0, f"{notebook}: the generation form is not in the page"
            forms.first.scroll_into_view_if_needed()
            check_form(page, forms.first)
        page.screenshot(path=str(screenshots / f"lab-{lesson.replace('/', '-')}.png"))
        (screenshots / f"lab-{lesson.replace('/', '-')}.json").write_text(json.dumps(
            {"lesson": lesson, "run_all_seconds": round(seconds, 1), "code_cells": state["cells"],
             "widget_outputs": state["widgets"], "refused_requests": sorted(set(outside))}, indent=1) + "\n")
        assert not page_errors, f"JavaScript errors in JupyterLab: {page_errors}"
    finally:
        try:
            page.evaluate(SHUTDOWN)
        except Exception:
            pass
        context.close()
