"""Every number typed into a lesson's prose, next to what the cells around it print: the review list for "the page
never contradicts its prose".

A number a run produces must be printed from a variable, never typed into markdown. This lists, for each executed
lesson that `make site` wrote (`_site/executed/NN_name.ipynb`), every number in a markdown cell that none of the
neighbouring code cells (NEIGHBOURS before and after) prints: each one is either a fact that does not depend on the
run (a config value, a published figure, a parameter's value), or a number the run makes that the prose should take
from a variable. A person reads the list and decides; the list is what they read instead of the whole page.

Numbers inside `code spans`, $formulas$, links and headings are left out (they are code, notation and section
numbers), and so are whole numbers below 10 (counts in words: "two encoders", "step 3"). A typed number counts as
printed when a neighbouring output shows the same number at the prose's precision (75% matches 0.75 or 75.3%).

    python tools/prose_numbers.py                 # every lesson of the last `make site`
    python tools/prose_numbers.py 05 10           # some lessons
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import nbformat

from build_site import EXECUTED as EXECUTED_FOLDER
from build_site import SITE, output_texts

EXECUTED = SITE / EXECUTED_FOLDER
NEIGHBOURS = 2  # code cells before and after a markdown cell whose outputs it may talk about

NUMBER = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?(?:e[-−+]?\d+)?\s?(?:%|×|x(?![a-z]))?", re.IGNORECASE)
LEFT_OUT = [
    re.compile(r"`[^`]*`"),  # code spans
    re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.DOTALL),  # formulas
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"https?://\S+"),
    re.compile(r"^#+ .*$", re.MULTILINE),  # headings
    re.compile(r"\b\d\d_\w+(?:\.ipynb)?"),  # lesson names
    re.compile(r"<[^>]+>"),  # HTML tags
]


@dataclass(frozen=True)
class Typed:
    """One number typed into a markdown cell."""

    cell: int
    text: str  # as written, e.g. "75%", "2.7×", "0.9709"
    context: str  # the words around it


def value_of(text: str) -> tuple[float, int, bool]:
    """(value, decimals written, is a percentage) of a number as written."""
    core = text.replace("−", "-").replace(",", "").rstrip("%×xX ").strip()
    mantissa = core.lower().split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return float(core), decimals, text.rstrip().endswith("%")


def prose(text: str) -> str:
    for pattern in LEFT_OUT:
        text = pattern.sub(" ", text)
    return text


def typed_numbers(cell: int, markdown: str) -> list[Typed]:
    text = prose(markdown)
    found = []
    for match in NUMBER.finditer(text):
        written = match.group(0).strip()
        try:
            value, decimals, _ = value_of(written)
        except ValueError:
            continue
        if decimals == 0 and abs(value) < 10 and not written.endswith(("%", "×", "x", "X")):
            continue  # small whole numbers are words: "two encoders", "step 3"
        context = " ".join(text[max(0, match.start() - 50):match.end() + 30].split())
        found.append(Typed(cell, written, context))
    return found


def printed_values(text: str) -> list[float]:
    values = []
    for match in NUMBER.finditer(text):
        try:
            values.append(value_of(match.group(0))[0])
        except ValueError:
            pass
    return values


def is_printed(number: Typed, printed: list[float]) -> bool:
    value, decimals, percent = value_of(number.text)
    candidates = printed + ([100 * p for p in printed] if percent else [])
    return any(round(candidate, decimals) == round(value, decimals) for candidate in candidates)


def unprinted(notebook) -> list[Typed]:
    """The typed numbers of one executed lesson (an nbformat notebook) that no neighbouring code cell prints."""
    shown = defaultdict(list)  # cell number -> the texts its outputs show, as the site shows them
    for number, text in output_texts(notebook):
        shown[number].append(text)
    code = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        before = [i for i in code if i < index][-NEIGHBOURS:]
        after = [i for i in code if i > index][:NEIGHBOURS]
        printed = printed_values("\n".join(text for i in before + after for text in shown[i]))
        found += [number for number in typed_numbers(index, cell.source) if not is_printed(number, printed)]
    return found


def report(paths: list[Path]) -> str:
    lines = []
    for path in paths:
        numbers = unprinted(nbformat.read(path, as_version=4))
        lines.append(f"## {path.stem}: {len(numbers)} typed numbers no neighbouring cell prints")
        lines += [f"- cell {number.cell}: **{number.text}** … {number.context}" for number in numbers]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lessons", nargs="*", help="lesson numbers or names (default: every executed lesson)")
    parser.add_argument("--executed", type=Path, default=EXECUTED, help=f"the executed lessons (default {EXECUTED})")
    arguments = parser.parse_args(argv)
    paths = sorted(arguments.executed.glob("*.ipynb"))
    if arguments.lessons:
        paths = [path for path in paths if any(path.stem == name or path.stem.startswith(f"{name}_")
                                               for name in arguments.lessons)]
    if not paths:
        print(f"No executed lessons in {arguments.executed}: run `make site` first.", file=sys.stderr)
        return 1
    print(report(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
