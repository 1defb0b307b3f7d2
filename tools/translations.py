"""The course in other languages: gettext catalogues, and the lessons generated from them.

    make translations                        # update translations/pt-BR/*.po, write notebooks/pt-BR/*.ipynb
    python tools/translations.py --lessons 05   # only lesson 05's catalogue and notebook
    python tools/translations.py --helpers   # only the helpers' catalogue (and its compiled .mo)
    python tools/translations.py --site      # only the site's catalogue (the words tools/build_site.py adds to pages)
    python tools/translations.py --check     # is every message translated and current, every generated lesson fresh?

The English lessons (notebooks/NN_name.ipynb) are the source of the code. A translated edition is generated from
them and one gettext catalogue per lesson (translations/<language>/NN_name.po, edited with any PO editor: Poedit,
Lokalize, Weblate, or a text editor). Its messages are what the learner reads:

- every markdown cell, whole;
- every comment of a code cell;
- every learner-facing string literal of a code cell: what `print` prints, an assertion's or an exception's
  message, `helpers.expect_trained`'s, figure titles and axis labels, the `hint=` of a parameter check. A message
  of that kind is the literal as it is written in Python, quotes, `f` prefix and `{...}` fields included: the
  translation keeps them (the check below says when it does not). Also the prose kept in a variable the lesson shows
  as it is (`size = f"{n:,} parameters"`, then `print(size)`), the items a shown loop runs over
  (`for label in ("no ControlNet", "with ControlNet")`), and the titles given to a lesson's own function at a
  parameter it shows (alone, or in a list it shows item by item). Never a prompt, nor a docstring.
- a *label*: a text the code also uses as data somewhere in the lesson (a key, a value it compares or looks up) and
  may show (a table's row names, a figure's titles taken from a dict's keys). Every use of it in the lesson takes the
  same translation, so the lookups still meet; a translation equal to the English keeps it English, which a prompt,
  a command, or a name that the helpers or a library expect (a memory placement, a warning's text) must. Not offered
  where the text also sits inside an f-string's {...} field (a translation there would change the code) or is a
  prompt. Two labels may not share one translation, nor take another data text's (a dict would lose a key).

The first code cell, the install cell (helpers/install_cell.py), is the same in every lesson: its messages live in
translations/<language>/_install_cell.po, translated once. Two more catalogues are shared: helpers.po, the course's
own messages (`_("...")` in helpers/, compiled for helpers.i18n), and site.po, the words the course site adds to its
pages (tools/build_site.py's TEXTS: the notes, the links, the index's table header).

`make translations` merges the catalogues with the English lessons as they are now. A message whose English
changed keeps its old translation, marked *fuzzy* (gettext's flag for "stale: check me"), with the English it was
made for (`#| msgid`), so a translator sees what changed. `--check` (and tests/test_translations.py) fails on any
message that is untranslated or fuzzy, on a translation that would change the code (its fields, its quotes), and
on a generated lesson that differs from what the catalogues make: it names the lesson and the cell.
"""

from __future__ import annotations

import argparse
import ast
import collections
import copy
import io
import json
import re
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CATALOGUES = ROOT / "translations"
LANGUAGES = ("pt-BR",)
LESSON_FILE = re.compile(r"^\d\d_\w+\.ipynb$")
INSTALL_CELL = "_install_cell"  # the catalogue of the install cell's messages, shared by every lesson
HELPERS = ROOT / "helpers"
HELPERS_CATALOGUE = "helpers"  # the messages of the course's own code, `_("...")` in helpers/ (helpers/i18n.py)
SITE_SOURCE = ROOT / "tools" / "build_site.py"
SITE_CATALOGUE = "site"  # the words the course site adds to its pages: tools/build_site.py's TEXTS

# Calls whose arguments a learner reads: printed, raised, asserted, drawn on a figure.
SHOWN_BY_CALL = {"print", "expect_trained", "set_title", "set_xlabel", "set_ylabel", "suptitle", "title", "xlabel",
                 "ylabel", "Markdown", "measure"}
SHOWN_BY_METHOD = {"text", "annotate"}  # ax.text(...), plt.annotate(...) (a bare `text(...)` is helpers.checks.text)
SHOWN_BY_KEYWORD = {"title", "titles", "suptitle", "label", "labels", "xlabel", "ylabel", "hint", "desc", "description"}
# Keywords shown only in the calls named here: a memory plan's title, printed at the head of the plan (helpers.memory).
# (or gathered in a dict(...) that the lesson passes on to them with **).
SHOWN_BY_KEYWORD_OF = {"what": {"plan_memory", "plan_training_memory", "dict"}}
# Calls whose string arguments pass text through to what is shown (", ".join(...), "...".format(...)).
PASSING_THROUGH = {"join", "format"}
# The call that names the language of the course's own messages (helpers.use_language): its string is the edition's
# language code, filled in by this tool, not by a translator.
LANGUAGE_CALL = "use_language"


@dataclass(frozen=True)
class Message:
    """One translatable piece of a lesson: a markdown cell, a comment, or a learner-facing string literal."""

    cell: int  # the cell's position in the lesson
    cell_id: str
    kind: str  # "markdown", "comment", "string", "label" or "language"; "helpers", "site" or "switch" in the shared ones
    ordinal: int  # its place among the cell's messages
    text: str  # the English, as the catalogue's msgid
    start: int = 0  # where it is in the cell's source (characters)
    end: int = 0
    key: str = ""  # a site text's key in TEXTS (tools/build_site.py)

    @property
    def occurrence(self) -> tuple[str, str]:
        if self.kind == "helpers":
            return (self.cell_id, str(self.cell))  # file, line
        if self.key:  # a site text: its key, which stays put when lines move or share a line
            return (f"{self.cell_id}:{self.key}", "")
        return (self.cell_id, str(self.ordinal))


# ---------------------------------------------------------------------------------------------------------
# Finding the messages


def _offsets(source: str) -> list[int]:
    """The character offset at which each line (1-based) starts."""
    starts, total = [0, 0], 0
    for line in re.split(r"(?<=\n)", source):  # as Python counts lines: at "\n" only (str.splitlines also cuts at \x0c, \u2028...)
        total += len(line)
        starts.append(total)
    return starts


def _character(source_lines: list[str], starts: list[int], line: int, byte_column: int) -> int:
    """The character offset of an AST position (line, UTF-8 byte column)."""
    text = source_lines[line - 1] if line - 1 < len(source_lines) else ""
    return starts[line] + len(text.encode("utf-8")[:byte_column].decode("utf-8", errors="ignore"))


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _shown_leaves(node: ast.AST):
    """What an expression a learner reads shows as it is: its string literals, f-strings and variables; not what the
    code it calls makes of them (`len(x)`), nor keys (`right[four]`), attributes, comparisons, what a comprehension
    runs over or a conditional's test."""
    if isinstance(node, (ast.Constant, ast.JoinedStr, ast.Name)):
        yield node
        return
    if isinstance(node, ast.Call):
        if _call_name(node) in PASSING_THROUGH:
            if isinstance(node.func, ast.Attribute):
                yield from _shown_leaves(node.func.value)
            for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
                yield from _shown_leaves(argument)
        return
    if isinstance(node, (ast.Subscript, ast.Lambda, ast.Attribute, ast.Compare)):
        return
    if isinstance(node, ast.Dict):  # its keys are the program's; its values may be shown
        children = node.values
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        children = [node.elt, *_looped_over(node.generators, _shown_only([node.elt]))]
    elif isinstance(node, ast.DictComp):
        children = [node.value]
    elif isinstance(node, ast.IfExp):
        children = [node.body, node.orelse]
    else:
        children = ast.iter_child_nodes(node)
    for child in children:
        yield from _shown_leaves(child)


def _shown_only(region: list[ast.AST]) -> set[str]:
    """The variables `region` (expressions or statements) shows wherever it uses them: `label` in
    `f"{label}, seed {s}"`, not `name` in `f"{results[name]:.2f}"` nor `p` in `plan(placement=p)` (a translated
    value would change what those compute)."""
    used = collections.Counter(node.id for part in region for node in ast.walk(part) if isinstance(node, ast.Name))
    shown = collections.Counter(name for part in region
                                for expression in ([part] if isinstance(part, ast.expr) else _context_expressions(part))
                                for name in _names_within(expression))
    return {name for name, count in shown.items() if count == used[name]}


def _loop_pairs(target: ast.AST, iterable: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    """Each loop variable with what it runs over: `for a in xs`: (a, xs); `for a, b in zip(xs, ys)`: (a, xs), (b, ys)."""
    if isinstance(iterable, ast.Call) and _call_name(iterable) == "zip" and isinstance(target, ast.Tuple):
        return list(zip(target.elts, iterable.args))
    return [(target, iterable)]


def _looped_over(loops, shown: set[str]):
    """The literal lists a loop runs over whose items it shows: `for label in ("no ControlNet", "with ControlNet")`,
    `for name, colour in zip(("unconditional", "conditional"), read)`, where the loop's variable is in `shown`."""
    for loop in loops:
        for target, values in _loop_pairs(loop.target, loop.iter):
            if isinstance(target, ast.Name) and target.id in shown and isinstance(values, (ast.Tuple, ast.List)):
                yield values


def _strings_within(node: ast.AST):
    """The string literals and f-strings an expression a learner reads shows (_shown_leaves)."""
    return (leaf for leaf in _shown_leaves(node)
            if isinstance(leaf, ast.JoinedStr) or (isinstance(leaf, ast.Constant) and isinstance(leaf.value, str)))


def _names_within(node: ast.AST):
    """The variables an expression a learner reads shows as they are: `size` in `print(size)` or `f"{size}"`."""
    for leaf in _shown_leaves(node):
        if isinstance(leaf, ast.Name):
            yield leaf.id
        elif isinstance(leaf, ast.JoinedStr):
            for value in leaf.values:
                if isinstance(value, ast.FormattedValue):
                    yield from _names_within(value.value)


def _local_arguments(call: ast.Call, shown_positions: tuple[int, ...]):
    """The titles a call to one of the lesson's own functions is given: its string arguments at the positions of the
    parameters that function shows (`compare(a, b, "base only")` where `compare` does `ax.set_title(title)`), written
    directly or in a list it shows item by item (`compare(pictures, ["base only", "hand-off"])` where `compare` does
    `for title in titles: ax.set_title(title)`). A parameter it does not show (values to try:
    `knob("negative_prompt", [None, "blurry"])`) gives nothing."""
    for position, argument in enumerate(call.args):
        if position in shown_positions:
            if isinstance(argument, (ast.List, ast.Tuple)):  # titles, each shown: a word is enough
                yield from ((item, "said") for item in argument.elts if _is_text(item))
            elif _is_text(argument):  # prose only: `knob("prompt_2", ...)` names a parameter
                yield argument, "kept"


PROMPT_NAMES = re.compile(r"prompt|caption|concept|subject|negative|preamble", re.IGNORECASE)  # what a model is asked to draw stays English


def _context_expressions(tree: ast.AST):
    """The expressions a learner reads: printed, raised (the exception's arguments), asserted, a figure's title or
    label (SHOWN_BY_*), and the language code given to use_language."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            method = isinstance(node.func, ast.Attribute) and name in SHOWN_BY_METHOD
            if name in SHOWN_BY_CALL or name == LANGUAGE_CALL or method:
                yield from node.args[1:] if name == "expect_trained" else node.args
            yield from (keyword.value for keyword in node.keywords
                        if keyword.arg in SHOWN_BY_KEYWORD or name in SHOWN_BY_KEYWORD_OF.get(keyword.arg, ()))
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):  # raise Error("..."): its arguments
            yield from [*node.exc.args, *(keyword.value for keyword in node.exc.keywords)]
        elif isinstance(node, ast.Assert) and node.msg is not None:
            yield node.msg


def shown_names(trees) -> frozenset[str]:
    """Variables a lesson shows as they are: `titles` in `show(..., titles=titles)`, `size` in `print(f"... {size}")`;
    the prose assigned to them is the learner's too (PROMPT_NAMES excepted: prompts stay English)."""
    return frozenset(name for tree in trees for expression in _context_expressions(tree)
                     for name in _names_within(expression) if not PROMPT_NAMES.search(name))


def defined_functions(trees) -> dict[str, tuple[int, ...]]:
    """The functions a lesson defines (in any of its code cells): name -> the positions of the parameters it shows to the
    learner (prints, raises, puts in a title or a label), prompts excepted (PROMPT_NAMES)."""
    functions = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                parameters = [argument.arg for argument in [*node.args.posonlyargs, *node.args.args]]
                shown = {name for expression in _context_expressions(node) for name in _names_within(expression)}
                for loop in (inner for inner in ast.walk(node) if isinstance(inner, ast.For)):  # for title in titles: show it
                    only_shown = _shown_only(loop.body)  # not also passed on: `pipe(**{name: value})` computes with it
                    shown |= {value.id for target, value in _loop_pairs(loop.target, loop.iter)
                              if isinstance(target, ast.Name) and target.id in only_shown and isinstance(value, ast.Name)}
                functions[node.name] = tuple(position for position, parameter in enumerate(parameters)
                                             if parameter in shown and not PROMPT_NAMES.search(parameter))
    return functions


def skeleton(node: ast.AST) -> str:
    """A string literal's text, an f-string's with "{}" for each field: what two uses of one string share."""
    parts = [node] if isinstance(node, ast.Constant) else node.values
    return "".join(str(part.value) if isinstance(part, ast.Constant) else "{}" for part in parts)


def _candidates(tree: ast.AST, local_functions: dict, shown_variables: frozenset[str]) -> dict:
    """(line, column) -> (string node, how it is shown: "said" where a learner reads it, "kept" in a shown variable or
    given to a lesson's function as a title)."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign)):  # prose put in a variable the lesson shows (shown_names)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and target.id in shown_variables for target in targets):
                strings = list(_strings_within(node.value))
                # a choice of words (`"about the same" if ... else "faster"`): if one is prose, every one is
                chosen = isinstance(node.value, ast.IfExp) and any(_has_words(string) for string in strings)
                for string in strings:
                    found[(string.lineno, string.col_offset)] = (string, "said" if chosen else "kept")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in local_functions:
            for string, origin in _local_arguments(node, local_functions[node.func.id]):
                found[(string.lineno, string.col_offset)] = (string, origin)
    for expression in _context_expressions(tree):
        for string in _strings_within(expression):
            found[(string.lineno, string.col_offset)] = (string, "said")
    return found


def data_strings(trees, local_functions: dict, shown_variables: frozenset[str]) -> frozenset[str]:
    """The texts a lesson's code uses as data somewhere (a key, a value compared, a name looked up): a string with the
    same text where a learner reads it stays as it is, or translating it would break the lookup."""
    data = set()
    for tree in trees:
        candidates = {id(node) for node, _ in _candidates(tree, local_functions, shown_variables).values()}
        within_fields = {id(node) for joined in ast.walk(tree) if isinstance(joined, ast.JoinedStr)
                         for value in joined.values for node in ast.walk(value) if node is not value}
        for node in _texts(tree):
            if id(node) not in candidates and id(node) not in within_fields:
                data.add(skeleton(node))
    return frozenset(data)


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _texts(tree: ast.AST):
    """A module's string literals and f-strings, each whole: not the literal parts of an f-string."""
    pieces = {id(part) for joined in ast.walk(tree) if isinstance(joined, ast.JoinedStr) for part in joined.values}
    return (node for node in ast.walk(tree) if _is_text(node) and id(node) not in pieces)


def _where_labels_cannot_go(tree: ast.AST, prompt_positions: dict[str, set[int]] | None = None) -> set[int]:
    """The texts of a module that a label's translation may not replace: inside an f-string's field (the field is the
    code), a docstring, a prompt (a `prompt=`-like keyword or variable: PROMPT_NAMES; an argument at a prompt-named
    parameter of the lesson's own functions, `prompt_positions`; the values given beside a prompt's parameter name,
    `knob("negative_prompt", [None, "blurry"])`), use_language's argument."""
    refused = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            positions = (prompt_positions or {}).get(_call_name(node), set())
            if _call_name(node) == LANGUAGE_CALL or any(PROMPT_NAMES.search(name) for name in names):
                positions = set(range(len(node.args)))
            refused |= {id(inner) for position in positions if position < len(node.args)
                        for inner in ast.walk(node.args[position])}
        elif isinstance(node, ast.JoinedStr):
            refused |= {id(inner) for value in node.values if isinstance(value, ast.FormattedValue)
                        for inner in ast.walk(value) if inner is not value}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and node.body \
                and isinstance(node.body[0], ast.Expr) and _is_text(node.body[0].value):
            refused.add(id(node.body[0].value))
        elif isinstance(node, ast.keyword) and node.arg and PROMPT_NAMES.search(node.arg):
            refused |= {id(inner) for inner in ast.walk(node.value)}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and PROMPT_NAMES.search(target.id) for target in targets) and node.value:
                refused |= {id(inner) for inner in ast.walk(node.value)}
    return refused


def label_strings(trees, data: frozenset[str], install_trees=()) -> frozenset[str]:
    """The data texts (data_strings) a translator may translate as labels, alike everywhere: prose (letters and a
    space), none of whose uses is where a label cannot go (_where_labels_cannot_go) or in the install cell."""
    offered, refused = set(), set()
    prompt_positions = {node.name: {position for position, argument in enumerate([*node.args.posonlyargs, *node.args.args])
                                    if PROMPT_NAMES.search(argument.arg)}
                        for tree in trees for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    for tree in trees:
        nowhere = _where_labels_cannot_go(tree, prompt_positions)
        for node in ast.walk(tree):
            if _is_text(node) and skeleton(node) in data:
                (refused if id(node) in nowhere else offered).add(skeleton(node))
    refused |= {skeleton(node) for tree in install_trees for node in ast.walk(tree) if _is_text(node)}
    return frozenset(text for text in offered - refused if re.search(r"[A-Za-z]", text) and " " in text.strip())


def label_nodes(tree: ast.AST, labels: frozenset[str]) -> list[ast.AST]:
    """The texts of a module that are labels (label_strings), in source order."""
    found = [node for node in _texts(tree) if skeleton(node) in labels]
    return sorted(found, key=lambda node: (node.lineno, node.col_offset))


def shown_strings(tree: ast.AST, local_functions: dict | None = None, shown_variables: frozenset[str] = frozenset(),
                  data: frozenset[str] = frozenset(), with_origin: bool = False) -> list:
    """Every learner-facing string node of a module (see the module's docstring), in source order, once each; not one
    whose text the lesson also uses as data (data_strings)."""
    found = _candidates(tree, local_functions or {}, shown_variables)
    kept = [found[key] for key in sorted(found) if skeleton(found[key][0]) not in data]
    return kept if with_origin else [node for node, _ in kept]


def _is_language_call(tree: ast.AST, string: ast.AST) -> bool:
    return any(isinstance(node, ast.Call) and _call_name(node) == LANGUAGE_CALL and string in node.args
               for node in ast.walk(tree))


def _has_letters(node: ast.AST) -> bool:
    """Whether a literal has letters outside its {...} fields, or in the words a field prints at its top
    (`{'yes' if ok else 'no'}`, _field_texts): a word a learner reads, in a place a learner reads it."""
    return bool(re.search(r"[A-Za-z]", skeleton(node) + " ".join(_field_words(node))))


def _field_texts(value: ast.AST) -> list[ast.AST]:
    """The texts an f-string field's expression prints at its top: the whole field (`{'share of a step':>16}`, an
    f-string too: `{f'{count} steps':>12}`, whose own fields are still compared), the
    branches of a conditional that is the whole field (`{'yes' if ok else 'no'}`, an f-string branch included), the
    operands of a whole-field `or`/`and`, a whole-field `" and ".join(...)`'s separator. Anywhere deeper (a key, a
    call's argument) a string is the program's and must stay."""
    if isinstance(value, (ast.Constant, ast.JoinedStr)):  # `{'share':>16}`, `{f'{count} steps':>12}`
        return [value]
    if isinstance(value, ast.IfExp):
        return [value.body, value.orelse]
    if isinstance(value, ast.BoolOp):
        return list(value.values)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "join":
        return [value.func.value]
    return []


def _words_of(text: ast.AST) -> list[ast.Constant]:
    """A text's words: the string itself, or an f-string's strings around its fields."""
    parts = text.values if isinstance(text, ast.JoinedStr) else [text]
    return [part for part in parts if isinstance(part, ast.Constant) and isinstance(part.value, str)]


def _field_words(node: ast.AST) -> list[str]:
    """The words an f-string's fields print at their top (_field_texts)."""
    if not isinstance(node, ast.JoinedStr):
        return []
    return [word.value for part in node.values if isinstance(part, ast.FormattedValue)
            for text in _field_texts(part.value) for word in _words_of(text)]


def _has_words(node: ast.AST) -> bool:
    """Whether a literal is prose (letters and a space outside its {...} fields), not a key, a name or a format."""
    return _has_letters(node) and " " in skeleton(node).strip()


@dataclass
class Context:
    """What a lesson's cells share that decides which strings are the learner's: its own functions (their titles:
    name -> positional parameters), the variables it shows (their prose)."""

    functions: dict = field(default_factory=dict)
    variables: frozenset[str] = frozenset()
    data: frozenset[str] = frozenset()
    labels: frozenset[str] = frozenset()  # the data texts a translator may translate alike everywhere (label_strings)
    tests: frozenset[tuple[str, str]] = frozenset()  # ("startswith" | "endswith" | "in", a text): what the code tests texts for


def code_messages(source: str, cell: int, cell_id: str, context: Context = Context()) -> list[Message]:
    """The comments and learner-facing strings of one code cell."""
    spans = []
    starts, lines = _offsets(source), re.split(r"(?<=\n)", source)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            text = token.string[1:]
            text = text[1:] if text.startswith(" ") else text
            if re.search(r"[A-Za-z]", text):
                start = starts[token.start[0]] + token.start[1]
                spans.append((start, start + len(token.string), "comment", text))
    tree = ast.parse(source)
    for string, origin in shown_strings(tree, context.functions, context.variables, context.data, with_origin=True):
        start = _character(lines, starts, string.lineno, string.col_offset)
        end = _character(lines, starts, string.end_lineno, string.end_col_offset)
        text = source[start:end]
        if _is_language_call(tree, string):
            spans.append((start, end, "language", text))
        elif _has_letters(string) if origin == "said" else _has_words(string):  # a kept one: prose, not a name
            spans.append((start, end, "string", text))
    for label in label_nodes(tree, context.labels):
        start = _character(lines, starts, label.lineno, label.col_offset)
        end = _character(lines, starts, label.end_lineno, label.end_col_offset)
        spans.append((start, end, "label", source[start:end]))
    spans.sort()
    return [Message(cell, cell_id, kind, ordinal, text, start, end) for ordinal, (start, end, kind, text) in enumerate(spans)]


def lesson_context(notebook: dict) -> Context:
    from helpers.install_cell import CELL

    trees, install = [], []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            try:
                (install if source == CELL else trees).append(ast.parse(source))
            except SyntaxError:  # code_differences reports it
                pass
    functions, variables = defined_functions([*install, *trees]), shown_names([*install, *trees])
    data = data_strings([*install, *trees], functions, variables)
    return Context(functions, variables, data, label_strings(trees, data, install), text_tests(trees))


def text_tests(trees) -> frozenset[tuple[str, str]]:
    """What a lesson's code tests its texts for: `name.startswith("SDXL")`, `.endswith(...)`, `"LoRA" in name`. A label's
    translation must keep such a text where the English label has it, or the test would change its answer. It errs on
    the safe side (`"fp16-fix VAE" in vaes`, a membership test, counts too) and misses a text held in a variable."""
    found = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in ("startswith", "endswith") and node.args:
                choices = node.args[0].elts if isinstance(node.args[0], ast.Tuple) else [node.args[0]]
                found |= {(_call_name(node), choice.value) for choice in choices
                          if isinstance(choice, ast.Constant) and isinstance(choice.value, str)}
            elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str) \
                    and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                found.add(("in", node.left.value))
    return frozenset(found)


def lesson_messages(notebook: dict, context: Context | None = None) -> tuple[list[Message], list[Message]]:
    """(the lesson's own messages, the install cell's) in cell order (`context`: the lesson's, when known)."""
    from helpers.install_cell import CELL

    own, install = [], []
    context = context or lesson_context(notebook)
    for index, cell in enumerate(notebook["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            if source.strip():
                own.append(Message(index, cell["id"], "markdown", 0, source))
        elif cell["cell_type"] == "code":
            messages = code_messages(source, index, cell["id"], context)
            (install if source == CELL else own).extend(messages)
    return own, install


def helpers_messages(folder: Path = HELPERS) -> list[Message]:
    """Every `_("...")` and `N_("...")` in the helpers' code: the messages the course's checks, exercises and helpers
    show (N_ marks a name kept in English as an identifier and translated where it is shown)."""
    messages = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_") and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                where = str(path.relative_to(folder.parent))
                messages.append(Message(node.lineno, where, "helpers", len(messages), node.args[0].value))
    return messages


def format_fields(text: str) -> list | None:
    """The fields `str.format` fills in `text` (name, conversion, format spec), sorted; None if it cannot parse it."""
    import string

    try:
        return sorted((name, conversion or "", spec or "") for _, name, spec, conversion in string.Formatter().parse(text)
                      if name is not None)
    except ValueError:
        return None


def mo_path(language: str, folder: Path = HELPERS) -> Path:
    return folder / "locale" / language.replace("-", "_") / "LC_MESSAGES" / "helpers.mo"


def compiled(catalogue_file: Path) -> bytes:
    """The catalogue compiled as gettext reads it (.mo): its translated, current entries only."""
    import polib
    import tempfile

    catalogue = polib.pofile(str(catalogue_file), wrapwidth=0)
    for entry in [entry for entry in catalogue if not entry.msgstr or "fuzzy" in entry.flags]:
        catalogue.remove(entry)
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "helpers.mo"
        catalogue.save_as_mofile(str(target))
        return target.read_bytes()


def _entry_problem(entry, message: Message) -> str | None:
    """Why a catalogue entry cannot be used for `message` yet: missing, untranslated or stale; None when it can."""
    if entry is None or not entry.msgstr:
        return f"not translated: {message.text[:70]!r}"
    if "fuzzy" in entry.flags:
        return f"stale (fuzzy): the English changed since it was translated: {message.text[:70]!r}"
    return None


def helpers_problems(language: str, catalogues: Path = CATALOGUES, folder: Path = HELPERS) -> list[str]:
    """The helpers' messages that are untranslated or stale in `language`, and whether the compiled catalogue is current."""
    path = catalogue_path(language, HELPERS_CATALOGUE, catalogues)
    problems = _catalogue_problems(path, helpers_messages(folder))
    mo = mo_path(language, folder)
    if path.exists() and (not mo.exists() or mo.read_bytes() != compiled(path)):
        problems.append(f"{mo.relative_to(folder.parent)} is not {path.name} compiled: run `make translations`")
    return problems


def site_messages(source: Path = SITE_SOURCE) -> list[Message]:
    """The words the course site adds to its pages (the values of TEXTS in tools/build_site.py), in English."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and target.id == "TEXTS" for target in node.targets):
            where = str(SITE_SOURCE.relative_to(ROOT))  # (a test's changed copy of it stands in its place)
            return [Message(value.lineno, where, "switch" if key.value == "switch" else "site", ordinal,
                            ast.literal_eval(value), key=key.value)
                    for ordinal, (key, value) in enumerate(zip(node.value.keys, node.value.values))]
    raise ValueError(f"{source} has no TEXTS = {{...}}: the site's words")


def _catalogue_problems(path: Path, messages: list[Message]) -> list[str]:
    """The messages of a shared catalogue (the helpers', the site's) untranslated, stale, or with other {...} fields."""
    catalogue, problems = read_catalogue(path), []
    for message in messages:
        entry = catalogue.get(message.text)
        where = f"{message.cell_id}, line {message.cell}"
        if problem := _entry_problem(entry, message):
            problems.append(f"{where}: {problem}")
        elif format_fields(entry.msgstr) != format_fields(message.text):
            problems.append(f"{where}: its {{...}} fields differ from the English (or a brace is unbalanced): "
                            f"{entry.msgstr[:70]!r}")
    return problems


def site_problems(language: str, catalogues: Path = CATALOGUES, source: Path = SITE_SOURCE) -> list[str]:
    """The site's words that are untranslated or stale in `language` (tools/build_site.py refuses to build then)."""
    return _catalogue_problems(catalogue_path(language, SITE_CATALOGUE, catalogues), site_messages(source))


# ---------------------------------------------------------------------------------------------------------
# Catalogues


def lessons(folder: Path = NOTEBOOKS) -> list[Path]:
    return sorted(path for path in folder.glob("*.ipynb") if LESSON_FILE.match(path.name))


def catalogue_path(language: str, name: str, root: Path = CATALOGUES) -> Path:
    return root / language / f"{name}.po"


def _header(language: str, name: str) -> dict:
    return {"Project-Id-Version": f"SDXL by Hand {name}", "Language": language.replace("-", "_"),
            "MIME-Version": "1.0", "Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit",
            "Plural-Forms": "nplurals=2; plural=(n > 1);"}


HINTS = {
    "markdown": "A markdown cell, whole. Keep its markdown, links, code in backticks and formulas ($...$).",
    "comment": "A comment in a code cell (written after '# ').",
    "string": "A Python string literal, as written: keep its quotes, its prefix (f, r) and every {...} field unchanged.",
    "label": "A label: a Python string literal the code also uses as data (a key, a value it looks up or compares). Every "
             "use in the lesson takes this translation; keep its quotes and {...} fields. Copy the English unchanged for "
             "a prompt, a command, or a name the helpers or a library expect (a memory placement, a warning's text); "
             "`make site` runs the translated lesson and fails where a translation broke it.",
    "language": "The edition's language code (filled in by tools/translations.py).",
    "helpers": "A message of the course's code (helpers/): keep every {...} field, as written.",
    "site": "A text the course site adds to its pages (tools/build_site.py): keep its markdown, links and {...} fields.",
    "switch": "The link from the other editions' pages to this one: \"Read in\" this edition's language, written in it.",
}


KIND_OF_HINT = {hint: kind for kind, hint in HINTS.items()}


def update_catalogue(path: Path, messages: list[Message], language: str, name: str) -> tuple[int, int, int]:
    """Merge `messages` into the catalogue at `path` (created if missing): new ones added untranslated, removed ones
    dropped, one whose English changed kept with its old translation, fuzzy. Returns (new, stale, removed)."""
    import polib

    old = polib.pofile(str(path), wrapwidth=0) if path.exists() else None
    live = [entry for entry in (old or []) if not entry.obsolete]
    by_id = {entry.msgid: entry for entry in live}
    by_place = {}
    for entry in live:
        for occurrence in entry.occurrences:
            by_place[occurrence] = entry
    catalogue = polib.POFile(wrapwidth=0)
    catalogue.metadata = old.metadata if old else _header(language, name)
    new = stale = 0
    entries, current = {}, {(message.cell_id, message.text) for message in messages}
    for message in messages:
        if message.text in entries:
            entries[message.text].occurrences.append(message.occurrence)
            continue
        entry = polib.POEntry(msgid=message.text, occurrences=[message.occurrence], comment=HINTS[message.kind])
        if message.kind == "language":
            entry.msgstr = message.text[0] + language + message.text[-1]
        elif message.text in by_id and by_id[message.text].msgstr:
            known = by_id[message.text]
            entry.msgstr, entry.flags = known.msgstr, list(known.flags)
            entry.previous_msgid = known.previous_msgid
        elif (was := by_place.get(message.occurrence)) and was.msgstr and (message.cell_id, was.msgid) not in current \
                and KIND_OF_HINT.get(was.comment, message.kind) == message.kind:
            # the same place, the same kind, new English (the old English is gone from this cell, not moved along by
            # a new message before it): keep the translation, mark it stale
            entry.msgstr, entry.flags = was.msgstr, ["fuzzy"]
            entry.previous_msgid = was.previous_msgid if "fuzzy" in was.flags and was.previous_msgid else was.msgid
            stale += 1
        else:
            new += 1
        entries[message.text] = entry
        catalogue.append(entry)
    removed = len([entry for entry in live if entry.msgid not in entries])
    path.parent.mkdir(parents=True, exist_ok=True)
    catalogue.save(str(path))
    return new, stale, removed


def read_catalogue(path: Path) -> dict:
    """msgid -> entry of a catalogue (empty when it does not exist)."""
    import polib

    if not path.exists():
        return {}
    return {entry.msgid: entry for entry in polib.pofile(str(path), wrapwidth=0) if not entry.obsolete}


# ---------------------------------------------------------------------------------------------------------
# Checking a translation and generating a lesson


def _field_words_aside(value: ast.AST) -> ast.AST:
    """An f-string field's expression with the words it prints (_field_texts) set aside: a translation may change
    them, never the rest (their fields included)."""
    value = copy.deepcopy(value)
    for text in _field_texts(value):
        for word in _words_of(text):
            word.value = "<shown>"
    return value


def _fields(node: ast.AST) -> list[str]:
    """What a string node computes, less its words: an f-string's fields (sorted, so a translation may reorder them),
    with the words they print set aside (_field_words_aside)."""
    if isinstance(node, ast.JoinedStr):
        return sorted(ast.dump(ast.FormattedValue(_field_words_aside(value.value), value.conversion, value.format_spec))
                      for value in node.values if isinstance(value, ast.FormattedValue))
    return []


def _literal(text: str) -> ast.AST | None:
    try:
        tree = ast.parse(f"({text}\n)", mode="eval")
    except SyntaxError:
        return None
    node = tree.body
    return node if isinstance(node, (ast.Constant, ast.JoinedStr)) and (isinstance(node, ast.JoinedStr) or isinstance(node.value, str)) else None


def translation_problem(message: Message, translation: str) -> str | None:
    """Why `translation` cannot replace `message` in the code (None: it can)."""
    if message.kind == "comment":
        return "a comment must stay on one line" if "\n" in translation else None
    if message.kind in ("string", "label"):
        english, translated = _literal(message.text), _literal(translation)
        if translated is None:
            return "it is not a Python string literal (check its quotes and escapes)"
        if type(english) is not type(translated):
            return "an f-string must stay an f-string (and a plain string a plain string)"
        if _fields(english) != _fields(translated):
            return "its {...} fields differ from the English (keep each one, as written)"
    return None


def generate(notebook: dict, catalogue: dict, install_catalogue: dict, language: str, name: str) -> tuple[dict, list[str]]:
    """The lesson in `language`, and what is missing, stale or wrong (one line each; empty when none)."""
    context = lesson_context(notebook)
    own, install = lesson_messages(notebook, context)
    problems = []
    translations = {}
    for message in [*own, *install]:
        entry = (install_catalogue if message in install else catalogue).get(message.text)
        where = f"{name}, cell {message.cell} ({message.kind}, id {message.cell_id})"
        if problem := _entry_problem(entry, message):
            problems.append(f"{where}: {problem}")
        elif problem := translation_problem(message, entry.msgstr):
            problems.append(f"{where}: {problem}: {entry.msgstr[:70]!r}")
        else:
            translations[message] = entry.msgstr
    problems += _label_clashes(context, {message: text for message, text in translations.items() if message.kind == "label"}, name)
    result = copy.deepcopy(notebook)
    for index, cell in enumerate(result["cells"]):
        source = "".join(cell["source"])
        messages = [message for message in translations if message.cell == index]
        if cell["cell_type"] == "markdown" and messages:
            source = translations[messages[0]]
            if index == 0:  # the Colab badge opens this edition's notebook
                from helpers.install_cell import badge

                source = source.replace(badge(f"{name}.ipynb"), badge(f"{language}/{name}.ipynb"))
        else:
            for message in sorted(messages, key=lambda message: -message.start):
                text = translations[message]
                text = "# " + text if message.kind == "comment" else text
                source = source[:message.start] + text + source[message.end:]
        cell["source"] = source.splitlines(keepends=True)
    return result, problems


def _label_clashes(context: Context, translated: dict, name: str) -> list[str]:
    """Labels whose translations would merge what the English keeps apart: two labels given one translation, or a
    label translated into another data text of the lesson (a dict would lose a key, a comparison change its answer)."""
    problems, pairs = [], set()
    for message, translation in translated.items():
        english, text = skeleton(_literal(message.text)), skeleton(_literal(translation))
        pairs.add((english, text))
        where = f"{name}, cell {message.cell} (label, id {message.cell_id}): its translation {translation[:60]!r}"
        if text != english and text in context.data:
            problems.append(f"{where} is another text the lesson uses as data: translate it into a text of its own")
        for how, tested in context.tests:
            kept = {"startswith": str.startswith, "endswith": str.endswith, "in": str.__contains__}[how]
            if tested != english and kept(english, tested) and not kept(text, tested):  # (the label itself: a lookup)
                problems.append(f"{where} loses {tested!r}: the lesson tests its labels with `{how}` {tested!r}; "
                                "keep it where the English has it")
    return problems + _labels_apart(pairs, name)


def _labels_apart(pairs: set[tuple[str, str]], name: str) -> list[str]:
    """Whether (English label, its translation) pairs keep labels apart as the English does: each label written one way
    everywhere (or a lookup misses), two labels never written alike (or a dict loses a key)."""
    ways, labels = {}, {}
    for english, text in pairs:
        ways.setdefault(english, set()).add(text)
        labels.setdefault(text, set()).add(english)
    return ([f"{name}: the label {english!r} is written {len(texts)} ways ({sorted(texts)}): a lookup would miss; each "
             "label takes one translation everywhere" for english, texts in ways.items() if len(texts) > 1] +
            [f"{name}: the labels {sorted(englishes)} are all written {text!r}: a dict would lose a key; give each its own"
             for text, englishes in labels.items() if len(englishes) > 1])


def set_aside(tree: ast.AST, context: Context = Context()) -> frozenset[int]:
    """Where a module's learner-facing strings and labels are: their places in `ast.walk`'s order, which a translated
    module of the same program shares (a label is known by its English text, so the English module says where)."""
    shown = {id(node) for node in shown_strings(tree, context.functions, context.variables, context.data)}
    shown |= {id(node) for node in label_nodes(tree, context.labels)}
    return frozenset(place for place, node in enumerate(_walk_to_texts(tree)) if id(node) in shown)


def _walk_to_texts(tree: ast.AST):
    """`ast.walk`, not going into f-strings: a translated f-string may hold more or fewer pieces than the English one,
    so places counted inside them would not match. (Nothing set aside lies inside an f-string: a shown one is set
    aside whole, and a label never sits in a field.)"""
    todo = collections.deque([tree])
    while todo:
        node = todo.popleft()
        if not isinstance(node, ast.JoinedStr):
            todo.extend(ast.iter_child_nodes(node))
        yield node


def normalised(source: str, context: Context = Context(), places: frozenset[int] | None = None) -> str:
    """A code cell's program with its learner-facing strings and labels set aside (comments are not in the syntax
    tree), at `places` (set_aside; default: this cell's own): two cells whose normalised forms are equal run the same
    code, once each label's translation is the same everywhere (generate makes it so) and its own (_label_clashes)."""
    tree = ast.parse(source)
    places = set_aside(tree, context) if places is None else places
    shown = {id(node) for place, node in enumerate(_walk_to_texts(tree)) if place in places}

    class SetAside(ast.NodeTransformer):
        def visit_Constant(self, node):
            return ast.Constant("<shown>") if id(node) in shown else node

        def visit_JoinedStr(self, node):
            if id(node) in shown:
                return ast.Tuple([ast.Constant("<shown>"), *map(ast.Constant, _fields(node))], ast.Load())
            return self.generic_visit(node)

    return ast.dump(SetAside().visit(tree))


def code_differences(english: dict, translated: dict, name: str) -> list[str]:
    """Where a translated lesson's code is not the English lesson's (cells, their kinds, their programs), and labels
    not translated alike everywhere (each English label one translation, two labels never the same one)."""
    if len(english["cells"]) != len(translated["cells"]):
        return [f"{name}: {len(translated['cells'])} cells, the English lesson has {len(english['cells'])}"]
    problems, context, pairs = [], lesson_context(english), set()
    for index, (one, other) in enumerate(zip(english["cells"], translated["cells"])):
        if one["cell_type"] != other["cell_type"] or one.get("metadata") != other.get("metadata"):
            problems.append(f"{name}, cell {index}: its kind or metadata differ from the English cell's")
        elif one["cell_type"] == "code":
            try:
                tree, other_tree = ast.parse("".join(one["source"])), ast.parse("".join(other["source"]))
                places = set_aside(tree, context)
                same = normalised("".join(one["source"]), context, places) == normalised("".join(other["source"]), context, places)
            except SyntaxError as error:
                problems.append(f"{name}, cell {index} (id {one['id']}): not valid Python: {error}")
                continue
            if not same:
                problems.append(f"{name}, cell {index} (id {one['id']}): its code differs from the English cell's, "
                                "beyond comments and learner-facing strings")
                continue
            ours = {id(node) for node in label_nodes(tree, context.labels)}
            pairs |= {(skeleton(node), skeleton(their)) for node, their in zip(_walk_to_texts(tree), _walk_to_texts(other_tree))
                      if id(node) in ours}
    return problems + _labels_apart(pairs, name)


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, notebook: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def edition(language: str, notebooks: Path = NOTEBOOKS) -> Path:
    return notebooks / language


def update_helpers(language: str, catalogues: Path = CATALOGUES) -> list[str]:
    """The helpers' catalogue merged with their `_()` messages, and compiled; returns what is left to translate."""
    helpers_path = catalogue_path(language, HELPERS_CATALOGUE, catalogues)
    new, stale, removed = update_catalogue(helpers_path, helpers_messages(), language, HELPERS_CATALOGUE)
    print(f"{language}/{helpers_path.name}: {new} new, {stale} stale, {removed} removed")
    mo = mo_path(language)
    mo.parent.mkdir(parents=True, exist_ok=True)
    mo.write_bytes(compiled(helpers_path))
    return helpers_problems(language, catalogues)


def update_site(language: str, catalogues: Path = CATALOGUES, source: Path = SITE_SOURCE) -> list[str]:
    """The site's catalogue merged with its words (TEXTS in tools/build_site.py); returns what is left to translate."""
    path = catalogue_path(language, SITE_CATALOGUE, catalogues)
    new, stale, removed = update_catalogue(path, site_messages(source), language, SITE_CATALOGUE)
    print(f"{language}/{path.name}: {new} new, {stale} stale, {removed} removed")
    return site_problems(language, catalogues, source)


def update(language: str, notebooks: Path = NOTEBOOKS, catalogues: Path = CATALOGUES, names=None) -> list[str]:
    """`make translations` for one language: merge the catalogues, write the lessons that are fully translated.
    Returns what is still to translate (one line per message). With `names` (lesson numbers or names), only those
    lessons' catalogues and notebooks: the shared catalogues (the install cell's, the helpers', the site's) are left alone."""
    install_messages, todo = {}, []
    chosen = [path for path in lessons(notebooks) if not names or path.stem[:2] in names or path.stem in names]
    for path in chosen:
        own, install = lesson_messages(_read(path))
        install_messages.update({message.text: message for message in install})
        new, stale, removed = update_catalogue(catalogue_path(language, path.stem, catalogues), own, language, path.stem)
        print(f"{language}/{path.stem}.po: {len(own)} messages; {new} new, {stale} stale, {removed} removed")
    install_path = catalogue_path(language, INSTALL_CELL, catalogues)
    if not names:
        update_catalogue(install_path, list(install_messages.values()), language, INSTALL_CELL)
        todo += update_helpers(language, catalogues) + update_site(language, catalogues)
    install_catalogue = read_catalogue(install_path)
    for path in chosen:
        result, problems = generate(_read(path), read_catalogue(catalogue_path(language, path.stem, catalogues)),
                                    install_catalogue, language, path.stem)
        target = edition(language, notebooks) / path.name
        if problems:
            todo += problems
            print(f"  {path.stem}: {len(problems)} messages to translate or check: {target} not written")
        else:
            _write(target, result)
    return todo


def check(language: str, notebooks: Path = NOTEBOOKS, catalogues: Path = CATALOGUES) -> list[str]:
    """Every English lesson has a current, complete translation whose code is the English code, and the generated
    lesson is what the catalogues make. Returns the problems (empty: all is well)."""
    problems = helpers_problems(language, catalogues) + site_problems(language, catalogues)
    install_catalogue = read_catalogue(catalogue_path(language, INSTALL_CELL, catalogues))
    for path in lessons(notebooks):
        catalogue = catalogue_path(language, path.stem, catalogues)
        if not catalogue.exists():
            problems.append(f"{path.stem}: no catalogue {catalogue.relative_to(catalogues.parent)}: run `make translations`")
            continue
        english = _read(path)
        result, missing = generate(english, read_catalogue(catalogue), install_catalogue, language, path.stem)
        problems += missing
        target = edition(language, notebooks) / path.name
        if not target.exists():
            problems.append(f"{path.stem}: no {target.relative_to(notebooks.parent)}: run `make translations`")
            continue
        committed = _read(target)
        problems += code_differences(english, committed, f"{language}/{path.stem}")
        if not missing and committed != result:
            problems.append(f"{language}/{path.stem}: not what the catalogue makes: run `make translations`")
    stray = [path.name for path in lessons(edition(language, notebooks)) if not (notebooks / path.name).exists()]
    problems += [f"{language}/{name}: there is no English lesson {name}" for name in stray]
    return problems


ENGLISH_WORDS = re.compile(r"\b(the|of|with|and|from|into|each|is|are|was|were|not|this|that|these|its|their|has|have|"
                           r"picture|pictures|steps?|right|without|layers?|seconds?|loaded|made|already)\b")


def leftovers(folder: Path, least: int = 2) -> list[str]:
    """Output lines of executed lessons (e.g. _site/pt-BR/executed, which `make site` writes) that read as English: `least`
    or more common English words. A report for translators: what a learner of the edition still reads in English
    (library output is expected to stay; a label the code uses as data, see docs/maintaining.md, too)."""
    found = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for number, cell in enumerate(cells):
            for output in cell.get("outputs", []):
                text = output.get("text") or output.get("data", {}).get("text/plain") or ""
                for line in ("".join(text) if isinstance(text, list) else text).splitlines():
                    if len(ENGLISH_WORDS.findall(line)) >= least:
                        found.append(f"{path.stem}, cell {number}: {line.strip()[:160]}")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="check, change nothing (what the tests do)")
    parser.add_argument("--language", choices=LANGUAGES, action="append", help="default: every language")
    parser.add_argument("--lessons", nargs="*", help="update only these lessons (numbers or names)")
    parser.add_argument("--helpers", action="store_true", help="update only the helpers' catalogue, and compile it")
    parser.add_argument("--site", action="store_true", help="update only the site's catalogue (tools/build_site.py's words)")
    parser.add_argument("--leftovers", type=Path, metavar="FOLDER", help="report the output lines of the executed lessons "
                        "in FOLDER that read as English (e.g. _site/pt-BR/executed after `make site`); changes nothing")
    arguments = parser.parse_args(argv)
    if arguments.leftovers:
        lines = leftovers(arguments.leftovers)
        print("\n".join(lines) + f"\n{len(lines)} output lines read as English in {arguments.leftovers}")
        return 0
    failed = False
    for language in arguments.language or LANGUAGES:
        if arguments.check:
            problems = check(language)
        elif arguments.helpers or arguments.site:
            problems = (update_helpers(language) if arguments.helpers else []) + (update_site(language) if arguments.site else [])
        else:
            problems = update(language, names=arguments.lessons)
        if problems:
            failed = True
            shown = problems[:40]
            print(f"{language}: {len(problems)} problems" + (f" (the first {len(shown)})" if len(problems) > len(shown) else "")
                  + ":\n  " + "\n  ".join(shown), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
