"""Build the course site: every lesson executed in tiny mode and rendered, with its outputs, into _site/.

`make site` runs this (`python tools/build_site.py [--out DIR] [--lessons 00 04] [--jobs 2]`). It

1. takes the lessons from notebooks/ (NN_name.ipynb) and their rows from the README's lesson table
   (what each teaches, its tiny and T4 times); a lesson missing from the table is an error that names it;
2. executes each lesson in tiny mode, offline, with the widgets' static fallbacks (the environment of the
   test run: conftest.py), two at a time with one torch thread each, in a scratch folder (what a lesson
   saves stays out of the repository);
3. renders each executed lesson with nbconvert's HTML exporter (JupyterLab's "lab" template, less its CDN
   script: site/templates/course) into one page, after a note that its pictures come from tiny mode, how
   to run it in full mode, and an "Open in Colab" link; and an index page, the lesson table, rendered by
   the same exporter from a notebook of markdown cells; the executed notebooks go beside the pages
   (_site/executed/, read by tools/prose_numbers.py);
4. copies MathJax from Debian's libjs-mathjax into the site, so that the pages need no network.

The site is the same, byte for byte, on every build of the same commit, except where a lesson prints
what it measures on the machine (run times in 08_speed_and_memory): execution timestamps and widget state
are not recorded, progress bars are off, and the pictures come from seeded generators.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
SITE = ROOT / "_site"
TEMPLATES = ROOT / "site" / "templates"
TEMPLATE = "course"
INDEX = "index.html"
EXECUTED = "executed"  # the executed lessons, as notebooks, beside the pages
LESSON_FILE = re.compile(r"^(\d\d)_\w+\.ipynb$")

# The test run's environment (conftest.py), and no progress bars: they print rates and times that differ
# on every run, and a static page cannot animate them anyway.
ENVIRONMENT = {
    "SDXL_TUTORIAL_MODE": "tiny",
    "HF_HUB_OFFLINE": "1",
    "SDXL_TUTORIAL_STATIC": "1",
    "TQDM_DISABLE": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}

# Debian's libjs-mathjax (MathJax 2.7, what nbconvert's pages are written for); only what the pages use.
MATHJAX_FOLDERS = (Path("/usr/share/javascript/mathjax"), Path("/usr/share/mathjax"))
MATHJAX_PARTS = ("MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/input/TeX",
                 "jax/output/CommonHTML", "jax/element", "fonts/HTML-CSS/TeX/woff", "localization/en")
MATHJAX_CONFIG = "?config=TeX-AMS_CHTML-full,Safe"


class SiteError(Exception):
    """The site cannot be built as asked: a lesson without a README row, a lesson that fails to run."""


@dataclass(frozen=True)
class Lesson:
    """One row of the README's lesson table: the notebook's name (no .ipynb), what it teaches, its times."""

    name: str
    teaches: str
    tiny: str
    t4: str

    @property
    def notebook(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def page(self) -> str:
        return f"{self.name}.html"

    @property
    def colab(self) -> str:
        return colab_url(self.notebook)


def colab_url(notebook: str) -> str:
    """The lesson's "Open in Colab" address, the same as its badge's (helpers/install_cell.py)."""
    from helpers.install_cell import COLAB_URL

    return COLAB_URL.format(name=notebook)


def _cells(line: str) -> list[str]:
    """The cells of one markdown table row, `|` inside backticks included."""
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    cells, current, in_code = [], "", False
    for character in line:
        if character == "`":
            in_code = not in_code
        if character == "|" and not in_code:
            cells.append(current.strip())
            current = ""
        else:
            current += character
    cells.append(current.strip())
    return cells


def read_lesson_table(readme: str) -> dict[str, Lesson]:
    """The README's lesson table (the first table under "## Lessons"): notebook name -> its row."""
    section = re.search(r"^## Lessons\s*$(.*?)(?=^## |\Z)", readme, flags=re.MULTILINE | re.DOTALL)
    if section is None:
        raise SiteError("README.md has no '## Lessons' section: the site's index is made from its lesson table.")
    rows = [line for line in section.group(1).splitlines() if line.lstrip().startswith("|")]
    if len(rows) < 2 or not _cells(rows[0])[0].lower().startswith("notebook"):
        raise SiteError("README.md's '## Lessons' section has no table whose first column is 'notebook'.")
    table = {}
    for line in rows[2:]:  # the header and the |---| line
        cells = _cells(line)
        if len(cells) != 4:
            raise SiteError(f"README.md's lesson table: a row should have 4 columns (notebook, what you learn, "
                            f"tiny time, T4 time), this one has {len(cells)}: {line.strip()}")
        name = cells[0].strip("`").strip()
        if name.endswith(".ipynb"):
            name = name[: -len(".ipynb")]
        table[name] = Lesson(name, *cells[1:])
    return table


def lesson_names(folder: Path = NOTEBOOKS) -> list[str]:
    """The lessons in reading order: notebooks/NN_name.ipynb, without .ipynb."""
    return sorted(path.stem for path in folder.glob("*.ipynb") if LESSON_FILE.match(path.name))


def select(names: list[str], wanted: list[str] | None) -> list[str]:
    """The lessons asked for by number or name (`--lessons 00 04`), all when none are asked for."""
    if not wanted:
        return names
    chosen = [name for name in names if any(name == want or name.split("_")[0] == want for want in wanted)]
    unknown = [want for want in wanted if not any(name == want or name.split("_")[0] == want for name in names)]
    if unknown:
        raise SiteError(f"No lesson {', '.join(unknown)} in notebooks/ (there are: {', '.join(names)}).")
    return chosen


def lessons_in_table(names: list[str], table: dict[str, Lesson]) -> list[Lesson]:
    """The README row of every lesson, in order; a lesson without a row is an error that names it."""
    missing = [name for name in names if name not in table]
    if missing:
        rows = "\n".join(f"  | `{name}` | what it teaches | tiny time | T4 time |" for name in missing)
        raise SiteError(f"{', '.join(f'notebooks/{name}.ipynb' for name in missing)} "
                        f"{'is' if len(missing) == 1 else 'are'} not in README.md's lesson table (## Lessons), "
                        f"from which the site's index is made. Add a row:\n{rows}")
    return [table[name] for name in names]


def seconds(duration: str) -> float:
    """A README time ("11 s", "1.5 min", "2 min + 7 GB download") in seconds; 0 when it gives none."""
    match = re.search(r"([\d.]+)\s*(s|sec|min|h)\b", duration)
    if match is None:
        return 0.0
    return float(match.group(1)) * {"s": 1, "sec": 1, "min": 60, "h": 3600}[match.group(2)]


def longest_first(lessons: list[Lesson]) -> list[Lesson]:
    """The order to execute in: the longest lessons (by the README's tiny times) first, so that two at a time
    finish together instead of the slowest starting last."""
    return sorted(lessons, key=lambda lesson: -seconds(lesson.tiny))


def stale_rows(names: list[str], table: dict[str, Lesson]) -> list[str]:
    """README rows whose notebook does not exist (the index leaves them out)."""
    return [name for name in table if name not in names]


# ---------------------------------------------------------------------------------------------------------
# What the site adds to the lessons: markdown cells, so that nbconvert renders them like the lessons' own.

def navigation(lessons: list[Lesson], position: int) -> str:
    """A line of links: the index, the previous and the next lesson."""
    parts = [f"[Course index]({INDEX})"]
    if position > 0:
        previous = lessons[position - 1]
        parts.append(f"← previous: [{previous.name}]({previous.page})")
    if position < len(lessons) - 1:
        following = lessons[position + 1]
        parts.append(f"next: [{following.name}]({following.page}) →")
    return " · ".join(parts)


def repository_url() -> str:
    """The course's repository on GitHub, from the Colab address pattern (helpers/install_cell.py)."""
    return re.sub(r"^https://colab\.research\.google\.com/github/([^/]+/[^/]+)/.*$", r"https://github.com/\1",
                  colab_url("x.ipynb"))


def has_widgets(source: str) -> bool:
    """Whether a lesson builds a widget (the step slider, the generation form)."""
    return ".slider(" in source or "generation_form(" in source


def is_hosted(source: str) -> bool:
    """Whether a lesson's full mode calls a hosted model (09_hosted_inference) instead of loading one on a GPU."""
    return "helpers.hosted" in source


def lesson_note(lesson: Lesson, revision: str, widgets: bool = False, hosted: bool = False) -> str:
    """The note at the top of each lesson page: where its pictures come from, how to run it in full mode."""
    widget_line = (" Its widgets appear here as their static fallback (one picture); in JupyterLab or Colab they "
                   "are live." if widgets else "")
    if hosted:
        return (
            f"> **These outputs come from tiny mode.** `make site` ran this lesson ({revision}) on a CPU against a "
            f"server on the same machine that runs the course's small offline model, so every picture and number "
            f"below is tiny mode's (about {lesson.tiny} on 2 CPU cores).{widget_line}\n>\n"
            f"> **To run it in full mode** (a hosted model through Hugging Face's Inference Providers: no GPU, no "
            f"download, a Hugging Face token in `HF_TOKEN` or Colab's Secrets): [Open in Colab]({lesson.colab}), or "
            f"clone [the repository]({repository_url()}), run `make lab`, open `notebooks/{lesson.notebook}` and set "
            f"`mode = \"full\"` in its parameters cell (mode `auto` picks tiny mode without a GPU)."
        )
    return (
        f"> **These outputs come from tiny mode.** `make site` ran this lesson ({revision}) on a CPU with the "
        f"course's small offline models, trained on pictures of coloured shapes, so every picture, plot and "
        f"number below is tiny mode's, not real SDXL's (tiny mode takes about {lesson.tiny} on 2 CPU cores)."
        f"{widget_line}\n>\n"
        f"> **To run it in full mode** (the real checkpoints from the Hugging Face Hub, on a GPU): "
        f"[Open in Colab]({lesson.colab}) and choose a T4 GPU runtime (free Colab T4: {lesson.t4}), or clone "
        f"[the repository]({repository_url()}) on a machine with a GPU, run `make lab` and open "
        f"`notebooks/{lesson.notebook}` (mode `auto` picks full mode on a GPU). To run it in tiny mode yourself: "
        f"`SDXL_TUTORIAL_MODE=tiny make lab`."
    )


BADGE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]\(([^)]+)\)")


def without_badge_image(markdown: str) -> str:
    """The lesson's Colab badge as a plain link: its picture lives on Colab's server, the site loads nothing remote."""
    return BADGE.sub(r"**[Open in Colab](\1)**", markdown)


def _markdown_cell(cell_id: str, text: str):
    import nbformat

    cell = nbformat.v4.new_markdown_cell(text)
    cell["id"] = cell_id
    return cell


def title_of(notebook) -> str:
    """The lesson's first heading, for the page's <title>."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1).strip()
    return notebook.metadata.get("title", "")


# "What you should see: ..." or "**What you should see.** ...", up to the end of the paragraph
SHOULD_SEE = re.compile(r"what you should see[^:.\n]*[.:]\**\s*(.+?)(?:\n\s*\n|$)", re.IGNORECASE | re.DOTALL)
ALT_LENGTH = 400  # characters: a screen reader reads it whole


def plain_text(markdown: str) -> str:
    """Markdown as a screen reader should say it: no emphasis, code marks, link targets or formula delimiters."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"[*`$]|\\\(|\\\)", "", text)
    text = " ".join(text.split())
    return text if len(text) <= ALT_LENGTH else text[:ALT_LENGTH].rsplit(" ", 1)[0] + " …"


def _pictures(cell) -> list:
    return [output for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]


def describe_pictures(notebook) -> None:
    """Give every picture an alternative text: the "What you should see" line after it (code cells without a picture
    may come between), or else the section it is in. (nbconvert alone writes "No description has been provided for this image" on every picture.)"""
    heading = title_of(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            headings = re.findall(r"^#{1,4}\s+(.+)$", cell.source, flags=re.MULTILINE)
            heading = headings[-1] if headings else heading
            continue
        pictures = _pictures(cell)
        following = next((later for later in notebook.cells[index + 1:] if later.cell_type == "markdown" or _pictures(later)),
                         None)
        seen = SHOULD_SEE.search(following.source) if following is not None and following.cell_type == "markdown" else None
        for number, output in enumerate(pictures, start=1):
            where = f" (picture {number} of {len(pictures)})" if len(pictures) > 1 else ""
            alt = f"What you should see{where}: {seen.group(1)}" if seen else f"A figure in section {heading}{where}"
            output.setdefault("metadata", {}).setdefault("image/png", {})["alt"] = plain_text(alt)


def lesson_page(executed, lessons: list[Lesson], position: int, revision: str):
    """The executed lesson as the site shows it: the note and the links added, the badge as a link."""
    page = copy.deepcopy(executed)
    lesson = lessons[position]
    for cell in page.cells:
        if cell.cell_type == "markdown":
            cell.source = without_badge_image(cell.source)
    links = navigation(lessons, position)
    source = "".join(cell.source for cell in executed.cells if cell.cell_type == "code")
    page.cells.insert(1, _markdown_cell("site-note", lesson_note(lesson, revision, has_widgets(source), is_hosted(source))))
    page.cells.insert(0, _markdown_cell("site-navigation-top", links))
    page.cells.append(_markdown_cell("site-navigation-bottom", links))
    page.metadata["title"] = f"{lesson.name}: {title_of(executed)}"
    describe_pictures(page)
    return page


def readme_introduction(readme: str) -> str:
    """The README's first paragraph: what the course is."""
    body = readme.split("\n# ", 1)[-1] if not readme.startswith("# ") else readme[2:]
    paragraphs = [part.strip() for part in body.split("\n\n")[1:]]
    return next((part for part in paragraphs if part and not part.startswith(("|", "#", "```"))), "")


def index_notebook(lessons: list[Lesson], introduction: str, revision: str):
    """The index page as a notebook of markdown cells: the course, the lesson table with links."""
    import nbformat

    rows = "\n".join(
        f"| [{lesson.name}]({lesson.page}) | {lesson.teaches} | {lesson.tiny} | {lesson.t4} | "
        f"[Open in Colab]({lesson.colab}) |" for lesson in lessons)
    table = ("| lesson | what you learn | tiny, 2-core CPU | free Colab T4 | run it |\n"
             "|---|---|---|---|---|\n" + rows)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        _markdown_cell("site-title", f"# SDXL by Hand\n\n{introduction}"),
        _markdown_cell("site-about", (
            f"Each page below is a lesson **executed in tiny mode** by `make site` ({revision}): the course's "
            "small offline models, trained on pictures of coloured shapes, run on a CPU, so you can see every "
            "picture, plot and check before running anything. The lessons' code is the same in full mode (the "
            "real SDXL on a GPU); open a lesson in Colab with a T4 GPU runtime to run it there, or clone the "
            "repository and run `make lab`.")),
        _markdown_cell("site-lessons", f"## Lessons\n\n{table}"),
        _markdown_cell("site-times", (
            "Tiny times are measured on 2 CPU cores; T4 times are estimated from about 1 s per SDXL step at "
            f"1024×1024, with the downloads on top. How to set up the course, the two modes, the exercises and "
            f"the workshop plans: [the README]({repository_url()}#readme) and [teaching with the course]"
            f"({repository_url()}/blob/main/docs/instructors.md).")),
    ]
    notebook.metadata["title"] = "SDXL by Hand: the lessons"
    return notebook


# ---------------------------------------------------------------------------------------------------------
# Executing and rendering

def revision() -> str:
    """The commit the site is built from (and whether the lessons or helpers differ from it)."""
    def git(*args):
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short=10", "HEAD")
    if not commit:
        return "outside a git checkout"
    changed = git("status", "--porcelain", "--", "notebooks", "helpers")
    return f"commit {commit}" + (", with local changes" if changed else "")


def execute(lesson: Lesson, notebooks: Path = NOTEBOOKS, timeout: int = 1800) -> tuple[object, float]:
    """Run one lesson in tiny mode in a scratch folder (its working directory); returns it executed and the seconds."""
    import nbformat

    environment = {**os.environ, **ENVIRONMENT}
    with tempfile.TemporaryDirectory(prefix=f"site-{lesson.name}-") as scratch:
        shutil.copy(notebooks / lesson.notebook, scratch)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
             f"--ExecutePreprocessor.timeout={timeout}", "--ExecutePreprocessor.kernel_name=python3",
             "--ExecutePreprocessor.record_timing=False", "--ExecutePreprocessor.store_widget_state=False",
             str(Path(scratch) / lesson.notebook)],
            cwd=scratch, env=environment, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SiteError(f"{lesson.notebook} failed in tiny mode:\n{done.stderr[-3000:]}")
        return nbformat.read(Path(scratch) / lesson.notebook, as_version=4), seconds


# What a static page must never show: a progress bar frozen at its start (a static page cannot animate it), and
# transformers' long-token log line, which a learner can do nothing about (the lessons say what CLIP cuts).
FORBIDDEN_OUTPUT = {
    "a progress bar stuck at 0%": re.compile(r"(?<![\d.])0%\||(?<![\d/])0/\d+ \[[^\]]*\?"),
    "transformers' 'Token indices sequence length' warning": re.compile(r"Token indices sequence length"),
}


def output_texts(notebook):
    """(cell number, text) of every text a lesson's outputs show: streams, plain text and HTML. (Also
    what tools/prose_numbers.py reads the printed numbers from.)"""
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                yield number, "".join(output.get("text", ""))
            for kind in ("text/plain", "text/html"):
                data = output.get("data", {}).get(kind)
                if data:
                    yield number, "".join(data)


SCREEN_LINES = 40  # an output longer than this is scrolled past, not read


def page_problems(notebook) -> list[str]:
    """What an executed lesson shows that a static page must not (FORBIDDEN_OUTPUT, an output longer than a screen),
    one line per cell and kind."""
    problems = []
    for number, text in output_texts(notebook):
        lines = text.rstrip("\n").count("\n") + 1
        if lines > SCREEN_LINES and not text.lstrip().startswith("<"):
            problems.append(f"cell {number}: an output of {lines} lines, longer than a screen ({SCREEN_LINES})")
        for what, pattern in FORBIDDEN_OUTPUT.items():
            found = pattern.search(text)
            if found:
                line = text[max(0, text.rfind("\n", 0, found.start()) + 1):].split("\n", 1)[0][:120]
                problems.append(f"cell {number}: {what}: {line!r}")
    return problems


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PROGRESS_BAR = re.compile(r"^[^\n]*\d+%\|[^\n]*\|\s*\d+/\d+ \[")


def is_progress_widget(output) -> bool:
    """A live tqdm bar (tqdm.auto in a kernel is an ipywidget): on a static page it is only its first frame, "0%"."""
    data = output.get("data", {})
    return WIDGET_VIEW in data and bool(PROGRESS_BAR.match("".join(data.get("text/plain", ""))))


def make_deterministic(notebook) -> None:
    """Drop what changes from run to run without being the lesson's: run metadata, widget state, the progress
    bars' widgets (TQDM_DISABLE turns off tqdm's text bars but not its notebook ones, which diffusers and
    transformers use in a kernel), and where the kernel happened to cut its printed text into pieces
    (consecutive stream outputs become one, as a reader sees them)."""
    for key in ("widgets", "papermill", "execution"):
        notebook.metadata.pop(key, None)
    for cell in notebook.cells:
        for key in ("execution", "papermill", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        merged = []
        for output in cell.outputs:
            if is_progress_widget(output):
                continue
            previous = merged[-1] if merged else None
            if (output.output_type == "stream" and previous is not None and previous.output_type == "stream"
                    and previous.name == output.name):
                previous.text += output.text
            else:
                merged.append(output)
        cell.outputs = merged


def mathjax_into(site: Path) -> str | None:
    """Copy Debian's MathJax into the site; its address for the pages, or None (not installed here)."""
    source = next((folder for folder in MATHJAX_FOLDERS if (folder / "MathJax.js").is_file()), None)
    if source is None:
        return None
    target = site / "mathjax"
    for part in MATHJAX_PARTS:
        origin = source / part
        if origin.is_dir():
            shutil.copytree(origin, target / part, dirs_exist_ok=True)
        elif origin.is_file():
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, target / part)
    return f"mathjax/MathJax.js{MATHJAX_CONFIG}"


def exporter(mathjax_url: str | None):
    """nbconvert's HTML exporter with the course template: images embedded, anchors kept."""
    from nbconvert import HTMLExporter

    html = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)])
    if mathjax_url:
        html.mathjax_url = mathjax_url
    return html


def render(html, notebook, name: str) -> str:
    body, _ = html.from_notebook_node(notebook, resources={"metadata": {"name": name}})
    return body


def build(out: Path = SITE, wanted: list[str] | None = None, jobs: int = 2, readme: Path = README,
          notebooks: Path = NOTEBOOKS) -> dict:
    """Build the site into `out` (emptied first); returns {lesson: seconds to execute}."""
    started = time.perf_counter()
    table = read_lesson_table(readme.read_text(encoding="utf-8"))
    names = lesson_names(notebooks)
    lessons = lessons_in_table(names, table)  # every lesson, for the index and the links
    for name in stale_rows(names, table):
        print(f"README.md's lesson table has a row for {name}, but there is no notebooks/{name}.ipynb: "
              "the index leaves it out.", file=sys.stderr)
    chosen = [lesson for lesson in lessons if lesson.name in select(names, wanted)]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / EXECUTED).mkdir()  # the executed notebooks: for tools/prose_numbers.py, and a learner who wants one run
    mathjax = mathjax_into(out)
    if mathjax is None:
        print("MathJax is not installed here (Debian: apt-get install libjs-mathjax): the pages load it from a "
              "CDN, so their formulas need the network.", file=sys.stderr)
    html = exporter(mathjax)
    where = revision()
    times, failures = {}, []

    def one(lesson):
        import nbformat

        executed, seconds = execute(lesson, notebooks)
        make_deterministic(executed)
        problems = page_problems(executed)
        if problems:
            raise SiteError(f"{lesson.name} shows what a static page must not:\n  " + "\n  ".join(problems))
        page = lesson_page(executed, lessons, lessons.index(lesson), where)
        (out / lesson.page).write_text(render(html, page, lesson.name), encoding="utf-8")
        nbformat.write(executed, out / EXECUTED / lesson.notebook)
        print(f"{lesson.name}: executed in {seconds:.0f} s", file=sys.stderr, flush=True)
        return seconds

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {lesson.name: pool.submit(one, lesson) for lesson in longest_first(chosen)}
        for name, future in futures.items():
            try:
                times[name] = future.result()
            except SiteError as error:
                failures.append(str(error))
    index = index_notebook(lessons, readme_introduction(readme.read_text(encoding="utf-8")), where)
    (out / INDEX).write_text(render(html, index, "index"), encoding="utf-8")
    if failures:
        raise SiteError("\n\n".join(failures))
    times["total"] = time.perf_counter() - started
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=SITE, help="where the site goes (emptied first; default _site/)")
    parser.add_argument("--lessons", nargs="*", help="only these lessons (numbers or names); the index lists all")
    parser.add_argument("--jobs", type=int, default=2, help="lessons executed at a time (default 2)")
    arguments = parser.parse_args(argv)
    try:
        times = build(arguments.out, arguments.lessons, arguments.jobs)
    except SiteError as error:
        print(f"make site: {error}", file=sys.stderr)
        return 1
    total = times.pop("total")
    print(f"Built {len(times)} lesson pages and the index into {arguments.out} in {total:.0f} s. "
          f"Open {arguments.out / INDEX} in a browser.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
