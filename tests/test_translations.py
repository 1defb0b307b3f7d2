"""The Portuguese edition is generated from the English lessons and the catalogues (tools/translations.py): every
message translated and current, the code the English code, the generated lessons what the catalogues make. The
mechanism is tested on a small lesson in a scratch folder: a changed English cell makes its translation stale and
the check fails naming the lesson and the cell; a translation that would change the code is refused."""

import json
import shutil
from pathlib import Path

import polib
import pytest
import translations as T

ROOT = Path(__file__).resolve().parent.parent


def test_every_lesson_has_a_current_portuguese_twin_with_the_english_code():
    problems = T.check("pt-BR")
    assert not problems, f"{len(problems)} problems (run `make translations`, then translate):\n" + "\n".join(problems[:30])


def test_every_english_lesson_has_a_generated_portuguese_lesson():
    english = [path.name for path in T.lessons(T.NOTEBOOKS)]
    assert english and [path.name for path in T.lessons(T.NOTEBOOKS / "pt-BR")] == english


# ---------------------------------------------------------------------------------------------------------
# The mechanism, on a small lesson


def _cell(kind, source, cell_id):
    cell = {"cell_type": kind, "id": cell_id, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


@pytest.fixture
def course(tmp_path):
    """A course of one lesson (title with its badge, the install cell, a code cell), its catalogues translated."""
    from helpers.install_cell import CELL, badge

    notebooks, catalogues = tmp_path / "notebooks", tmp_path / "translations"
    notebooks.mkdir()
    lesson = {"cells": [
        _cell("markdown", f"# 99 · A lesson\n\n{badge('99_lesson.ipynb')}\n\nWhat you will learn.", "title"),
        _cell("code", CELL, "install"),
        _cell("code", 'steps = 4  # how many steps\nprint(f"{steps} steps done", "ok")\nassert steps > 0, "steps must be positive"', "work"),
        _cell("markdown", "What you should see: four steps.", "see"),
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (notebooks / "99_lesson.ipynb").write_text(json.dumps(lesson), encoding="utf-8")
    shutil.copytree(T.CATALOGUES / "pt-BR", catalogues / "pt-BR", ignore=shutil.ignore_patterns("[0-9]*.po"))
    T.update("pt-BR", notebooks, catalogues, names=["99"])
    translate(catalogues / "pt-BR" / "99_lesson.po", {
        "how many steps": "quantos passos",
        'f"{steps} steps done"': 'f"{steps} passos feitos"',
        '"ok"': '"ok"',
        '"steps must be positive"': '"steps deve ser positivo"',
        "What you should see: four steps.": "O que você deve ver: quatro passos.",
    }, title="# 99 · Uma lição\n\n{badge}\n\nO que você vai aprender.")
    T.update("pt-BR", notebooks, catalogues, names=["99"])
    return notebooks, catalogues


def translate(path, translations, title=None):
    catalogue = polib.pofile(str(path), wrapwidth=0)
    for entry in catalogue:
        if entry.msgid in translations:
            entry.msgstr = translations[entry.msgid]
        elif entry.msgid.startswith("# 99") and title:
            entry.msgstr = title.format(badge=entry.msgid.split("\n\n")[1])
        if entry.msgstr:
            entry.flags = [flag for flag in entry.flags if flag != "fuzzy"]
    catalogue.save(str(path))


def change_english(course, index, change):
    """Rewrite cell `index` of the small course's English lesson: its source becomes `change(source)`."""
    path = course[0] / "99_lesson.ipynb"
    lesson = json.loads(path.read_text(encoding="utf-8"))
    lesson["cells"][index]["source"] = change(lesson["cells"][index]["source"])
    path.write_text(json.dumps(lesson), encoding="utf-8")


def problems_of(course):
    notebooks, catalogues = course
    return [line for line in T.check("pt-BR", notebooks, catalogues) if line.startswith(("99", "pt-BR/99"))]


def test_the_generated_lesson_reads_portuguese_and_runs_the_english_code(course):
    notebooks, _ = course
    assert problems_of(course) == []
    generated = json.loads((notebooks / "pt-BR" / "99_lesson.ipynb").read_text(encoding="utf-8"))
    code = "".join(generated["cells"][2]["source"])
    assert code == 'steps = 4  # quantos passos\nprint(f"{steps} passos feitos", "ok")\nassert steps > 0, "steps deve ser positivo"'
    install = "".join(generated["cells"][1]["source"])
    assert 'helpers.use_language("pt-BR")' in install and "# @title Instalar o curso" in install
    title = "".join(generated["cells"][0]["source"])
    assert "Uma lição" in title and "/blob/main/notebooks/pt-BR/99_lesson.ipynb" in title  # its badge opens itself
    namespace = {}
    exec(compile(code, "cell", "exec"), namespace)  # the translated cell runs
    assert namespace["steps"] == 4


def test_a_changed_english_cell_makes_its_translation_stale_and_the_check_names_it(course):
    notebooks, catalogues = course
    change_english(course, 3, lambda source: "What you should see: four steps, in a row.")
    problems = problems_of(course)
    assert any("cell 3" in line and "not translated" in line for line in problems), problems
    T.update("pt-BR", notebooks, catalogues, names=["99"])  # `make translations`
    entry = next(entry for entry in polib.pofile(str(catalogues / "pt-BR" / "99_lesson.po")) if entry.msgid.endswith("in a row."))
    assert "fuzzy" in entry.flags and entry.msgstr == "O que você deve ver: quatro passos."
    assert entry.previous_msgid == "What you should see: four steps."  # what the translation was made for
    problems = problems_of(course)
    assert any("99_lesson, cell 3" in line and "stale (fuzzy)" in line for line in problems), problems
    translate(catalogues / "pt-BR" / "99_lesson.po", {entry.msgid: "O que você deve ver: quatro passos, em fila."})
    T.update("pt-BR", notebooks, catalogues, names=["99"])
    assert problems_of(course) == []


def test_a_changed_english_code_cell_fails_until_the_edition_is_generated_again(course):
    notebooks, catalogues = course
    change_english(course, 2, lambda source: source.replace("steps = 4", "steps = 5"))
    problems = problems_of(course)
    assert any("cell 2" in line and "code differs" in line for line in problems), problems
    T.update("pt-BR", notebooks, catalogues, names=["99"])
    assert problems_of(course) == []  # the comment and strings did not change: nothing to translate again


def test_a_translation_that_would_change_the_code_is_refused(course):
    notebooks, catalogues = course
    translate(catalogues / "pt-BR" / "99_lesson.po", {'f"{steps} steps done"': 'f"{passos} passos feitos"'})
    assert any("fields differ" in line for line in problems_of(course))
    translate(catalogues / "pt-BR" / "99_lesson.po", {'f"{steps} steps done"': '"passos feitos'})
    assert any("not a Python string literal" in line for line in problems_of(course))


def test_a_generated_lesson_edited_by_hand_is_caught(course):
    notebooks, _ = course
    path = notebooks / "pt-BR" / "99_lesson.ipynb"
    lesson = json.loads(path.read_text(encoding="utf-8"))
    lesson["cells"][2]["source"] = ["steps = 3  # quantos passos\n", 'print(f"{steps} passos feitos", "ok")']
    path.write_text(json.dumps(lesson), encoding="utf-8")
    problems = problems_of(course)
    assert any("code differs" in line for line in problems) and any("not what the catalogue makes" in line for line in problems)


def test_only_learner_facing_strings_are_messages():
    source = ('prompt = "a red circle"\nprint("the picture:", prompt)\nshow(x, titles=[f"seed {s}" for s in seeds])\n'
              'text("concept", "sks ring")\nraise ValueError(f"bad value {v!r}: use a number")\nkey = scores["light border"]\n'
              'ax.set(xlabel="step", yscale="log")\ncompare(a, b, "base only")\nmode = "tiny"\n'
              'size = f"{n:,} parameters"\nprint(size)\nprompt_2 = "a blue square"\nprint(prompt_2)\n'
              'print("loaded from:", helpers.model_path("sdxl-base"))\nprint(draw("a red circle"))')
    functions = "def compare(a, b, title):\n    ax.set_title(title)\ndef draw(prompt):\n    print(prompt)"
    context = T.lesson_context({"cells": [{"cell_type": "code", "source": source}, {"cell_type": "code", "source": functions}]})
    assert context.functions == {"compare": (2,), "draw": ()}  # the positions it shows; a prompt stays English and "size" in context.variables and "prompt_2" not in context.variables
    texts = [message.text for message in T.code_messages(source, 0, "c", context) if message.kind == "string"]
    assert texts == ['"the picture:"', 'f"seed {s}"', 'f"bad value {v!r}: use a number"', '"step"', '"base only"',
                     'f"{n:,} parameters"', '"loaded from:"']  # not a catalogue name, not a prompt


def test_an_f_string_whose_only_words_are_a_fields_branches_is_a_message():
    source = "print(f\"{name:38}{plan.label if plan.runs else 'does not fit'}\")\nprint(f\"{a}{b}\")"
    context = T.lesson_context({"cells": [{"cell_type": "code", "source": source}]})
    texts = [message.text for message in T.code_messages(source, 0, "c", context) if message.kind == "string"]
    assert texts == ["f\"{name:38}{plan.label if plan.runs else 'does not fit'}\""]
    header = T.Message(0, "c", "string", 0, "f\"{'scheduler':16} {'share of a step':>16}\"")  # a text that is a whole field
    assert T.translation_problem(header, "f\"{'scheduler':16} {'fração do passo':>16}\"") is None
    assert "fields differ" in T.translation_problem(header, "f\"{'scheduler':16} {'fração do passo':>12}\"")
    branch = T.Message(0, "c", "string", 0, "f\"{name:26} {f'right {share:.0%}' if tiny else '':12}\"")  # an f-string branch
    assert T.translation_problem(branch, "f\"{name:26} {f'certas {share:.0%}' if tiny else '':12}\"") is None
    assert "fields differ" in T.translation_problem(branch, "f\"{name:26} {f'certas {share:.1%}' if tiny else '':12}\"")


def test_the_leftovers_report_finds_output_that_reads_as_english(tmp_path):
    outputs = [{"output_type": "stream", "name": "stdout", "text": ["3 pictures made, 5 already there\n", "3 imagens feitas\n"]},
               {"output_type": "execute_result", "data": {"text/plain": "the UNets take turns on the GPU"}}]
    (tmp_path / "06_x.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "outputs": outputs}]}))
    assert T.leftovers(tmp_path) == ["06_x, cell 0: 3 pictures made, 5 already there",
                                     "06_x, cell 0: the UNets take turns on the GPU"]


def test_a_memory_plans_title_is_a_message_and_the_same_keyword_elsewhere_is_not():
    source = ('plan = helpers.memory.plan_memory(["sdxl-base"], what="SDXL base")\n'
              't4 = plan_training_memory(lora_parameters=n, what="LoRA training")\nshow_step(x, what="pred_original_sample")\n'
              'planned = dict(batch_size=1, what="on a T4")')
    context = T.lesson_context({"cells": [{"cell_type": "code", "source": source}]})
    texts = [message.text for message in T.code_messages(source, 0, "c", context) if message.kind == "string"]
    assert texts == ['"SDXL base"', '"LoRA training"', '"on a T4"']  # dict(...): the arguments passed on with **


def test_a_text_the_code_also_uses_as_data_is_not_a_message():
    source = ('four = "LCM-LoRA, 4 steps"\nright = {four: 0.9, "Euler, 4 steps": 0.6}\n'
              'print(f"{right[four]:.0%}", "LCM-LoRA, 4 steps")\nshow(x, titles=["Euler, 4 steps", "Euler, 30 steps"])\n'
              'if name == "the baseline":\n    print("the baseline", "faster")')
    context = T.lesson_context({"cells": [{"cell_type": "code", "source": source}]})
    assert "four" not in context.variables  # a key in a shown expression is not shown as it is
    texts = [message.text for message in T.code_messages(source, 0, "c", context) if message.kind == "string"]
    assert texts == ['"Euler, 30 steps"', '"faster"']  # the others are keys or compared somewhere


def test_words_inside_a_field_may_be_translated_and_names_inside_it_may_not():
    english = "f\"{'yes' if ok else 'no'}, {' and '.join(names)}: {scores['v']:.0%}\""
    message = T.Message(0, "c", "string", 0, english)
    assert T.translation_problem(message, "f\"{'sim' if ok else 'não'}, {' e '.join(names)}: {scores['v']:.0%}\"") is None
    assert "fields differ" in T.translation_problem(message, "f\"{'sim' if ok else 'não'}, {' e '.join(names)}: {scores['x']:.0%}\"")
    deeper = T.Message(0, "c", "string", 0, "f\"{scores['a b' if ok else 'c d']:.0%}\"")  # a key chosen by a condition
    assert "fields differ" in T.translation_problem(deeper, "f\"{scores['x' if ok else 'y']:.0%}\"")


def test_a_helpers_message_must_keep_its_format_fields():
    assert T.format_fields("{count} pictures {name!r:>5}") == T.format_fields("{name!r:>5} imagens {count}")
    assert T.format_fields("{count} imagens {") is None and T.format_fields("{count}") != T.format_fields("{{count}}")


def test_the_course_messages_follow_the_chosen_language():
    import helpers
    from helpers.i18n import _, current_language, languages

    assert languages()[:1] == ["en"] and "pt-BR" in languages()
    try:
        helpers.use_language("pt-BR")
        assert current_language() == "pt-BR"
        helpers.use_language("en")
        assert _("some message") == "some message"
        with pytest.raises(ValueError, match="use_language"):
            helpers.use_language("klingon")
    finally:
        helpers.use_language("en")


def test_a_label_the_code_also_uses_as_data_is_translated_alike_everywhere_or_kept():
    source = ('rows = {"base only": 1, "with the refiner": 2}\nprint(rows["base only"])\nfor name in rows:\n'
              '    print(f"{name}: done")\nprompt = "a red circle"\ndraw(prompt="a blue square")\nplan(placement="model CPU offload")\n'
              'print(f"{rows[\'with the refiner\']}")\ndef f():\n    """Its docstring."""\n')
    lesson = {"cells": [_cell("code", source, "work")]}
    context = T.lesson_context(lesson)
    labels = [message.text for message in T.code_messages(source, 0, "work", context) if message.kind == "label"]
    # a prompt and a text inside an f-string's field are not offered; a placement is, and its translator keeps it
    assert labels == ['"base only"', '"base only"', '"model CPU offload"']
    translated = source.replace('"base only"', '"só a base"')
    assert T.code_differences(lesson, {"cells": [_cell("code", translated, "work")]}, "x") == []
    half = source.replace('"base only": 1', '"só a base": 1')  # one use translated, the other not: the lookup breaks
    assert "written 2 ways" in T.code_differences(lesson, {"cells": [_cell("code", half, "work")]}, "x")[0]


def test_labels_that_would_merge_or_become_another_key_are_refused():
    source = 'rows = {"base only": 1, "refiner only": 2, "both": 3}\nprint(rows["base only"], rows["refiner only"], rows["both"])'
    context = T.lesson_context({"cells": [_cell("code", source, "work")]})
    label = lambda text: T.Message(0, "work", "label", 0, text)
    same = T._label_clashes(context, {label('"base only"'): '"só um"', label('"refiner only"'): '"só um"'}, "x")
    assert len(same) == 1 and "all written 'só um'" in same[0]
    taken = T._label_clashes(context, {label('"base only"'): '"both"'}, "x")
    assert len(taken) == 1 and "another text the lesson uses as data" in taken[0]
    assert T._label_clashes(context, {label('"base only"'): '"base only"', label('"refiner only"'): '"só o refiner"'}, "x") == []


def test_a_message_added_before_another_leaves_that_ones_translation_alone(course):
    notebooks, catalogues = course
    change_english(course, 2, lambda source: source.replace('print(f"', 'print("first,", f"'))
    T.update("pt-BR", notebooks, catalogues, names=["99"])
    entries = {entry.msgid: entry for entry in polib.pofile(str(catalogues / "pt-BR" / "99_lesson.po"))}
    assert entries['"first,"'].msgstr == "" and "fuzzy" not in entries['"first,"'].flags  # new: untranslated, not a neighbour's
    assert entries['f"{steps} steps done"'].msgstr == 'f"{steps} passos feitos"'
    assert any("cell 2" in line and "not translated" in line for line in problems_of(course))


def test_a_label_keeps_the_texts_the_lesson_tests_it_for():
    source = ('runs = {"SDXL Euler, 30 steps": 1, "DDIM, 50 steps": 2}\nfor name in runs:\n'
              '    print(30 if name.startswith("SDXL") else 50, "LoRA" in name)')
    context = T.lesson_context({"cells": [_cell("code", source, "work")]})
    assert context.tests == {("startswith", "SDXL"), ("in", "LoRA")}
    label = T.Message(0, "work", "label", 0, '"SDXL Euler, 30 steps"')
    lost = T._label_clashes(context, {label: '"Euler do SDXL, 30 passos"'}, "x")
    assert len(lost) == 1 and "loses 'SDXL'" in lost[0] and "startswith" in lost[0]
    assert T._label_clashes(context, {label: '"SDXL: Euler, 30 passos"'}, "x") == []


def test_a_nested_f_string_that_is_a_whole_field_is_translated_and_its_fields_kept():
    source = "print(\"\".join(f\"{f'{count} steps':>12}\" for count in counts))"
    context = T.lesson_context({"cells": [_cell("code", source, "work")]})
    texts = [message.text for message in T.code_messages(source, 0, "work", context) if message.kind == "string"]
    assert texts == ["f\"{f'{count} steps':>12}\""]
    message = T.Message(0, "work", "string", 0, texts[0])
    assert T.translation_problem(message, "f\"{f'{count} passos':>12}\"") is None
    assert "fields differ" in T.translation_problem(message, "f\"{f'{total} passos':>12}\"")


def test_a_choice_of_words_kept_in_a_shown_variable_is_translated_whole():
    source = ('verdict = "about the same" if close else "faster" if quick else "slower"\nprint(verdict)\n'
              'kind = "fp16" if half else "fp32"\nprint(kind)')
    context = T.lesson_context({"cells": [_cell("code", source, "work")]})
    texts = [message.text for message in T.code_messages(source, 0, "work", context) if message.kind == "string"]
    assert texts == ['"about the same"', '"faster"', '"slower"']  # names without prose stay as they are


def messages_of(source, functions):
    """The lesson context of a cell `source` beside a cell of functions, and the messages of `source`."""
    context = T.lesson_context({"cells": [_cell("code", source, "work"), _cell("code", functions, "functions")]})
    return context, T.code_messages(source, 0, "work", context)


def test_the_items_a_loop_shows_and_the_titles_a_lessons_own_function_shows_one_by_one_are_messages():
    source = ('print(", ".join(f"{name}: {colour}" for name, colour in zip(("unconditional", "guided"), read)))\n'
              'show(x, titles=[f"{label}, seed {s}" for label in ("no ControlNet", "with ControlNet") for s in seeds])\n'
              'compare(pictures, ["base only", "hand-off"])\nknob("prompt_2", [None, "blurry"])\n'
              'print([mode for mode in modes])')
    functions = ("def compare(pictures, titles):\n    for ax, title in zip(axes, titles):\n        ax.set_title(title)\n"
                 "def knob(name, values):\n    print(name)")
    context, messages = messages_of(source, functions)
    assert context.functions == {"compare": (1,), "knob": (0,)}  # compare shows `titles` item by item
    texts = [message.text for message in messages if message.kind == "string"]
    assert texts == ['"unconditional"', '"guided"', 'f"{label}, seed {s}"', '"no ControlNet"', '"with ControlNet"',
                     '"base only"', '"hand-off"']  # not a parameter's name given alone, nor values to try


def test_a_loop_variable_the_code_also_computes_with_is_not_shown_and_neither_are_its_values():
    source = ('print([f"{results[name]:.2f}" for name in ("base only", "hand-off")])\n'
              'print([plan(placement=p).gpu for p in ("model CPU offload", "group offload")])\n'
              'knob("negative_prompt", [None, "blurry, low quality"])\ndraw("a red circle")\nshow(x, title="the circles")')
    functions = ("def knob(name, values):\n    for value in values:\n        print(name, value)\n"
                 "        pipe(**{name: value})\ndef draw(prompt):\n    return pipe(prompt=prompt)")
    context, messages = messages_of(source, functions)
    assert context.functions == {"knob": (0,), "draw": ()}  # `values` is passed on, not only shown
    assert [m.text for m in messages if m.kind == "string"] == ['"the circles"']  # no key, no placement, no prompt, no None
    # the keys and the placement are labels, for a translator to decide on; the prompts are not even that
    assert [m.text for m in messages if m.kind == "label"] == ['"base only"', '"model CPU offload"', '"group offload"']  # (a word alone: not offered)


def test_a_changed_message_comes_back_stale_even_where_its_old_english_lives_on_in_another_cell(tmp_path):
    catalogue = tmp_path / "x.po"
    before = [T.Message(0, "a", "comment", 0, "the same seed"), T.Message(1, "b", "comment", 0, "the same seed")]
    T.update_catalogue(catalogue, before, "pt-BR", "x")
    translate(catalogue, {"the same seed": "a mesma seed"})
    after = [before[0], T.Message(1, "b", "comment", 0, "the same seed, again")]
    T.update_catalogue(catalogue, after, "pt-BR", "x")
    entries = {entry.msgid: entry for entry in polib.pofile(str(catalogue))}
    assert "fuzzy" in entries["the same seed, again"].flags and entries["the same seed, again"].msgstr == "a mesma seed"
    assert entries["the same seed"].msgstr == "a mesma seed" and not entries["the same seed"].flags


def test_two_labels_written_alike_in_a_generated_lesson_are_caught_and_every_way_of_testing_a_text_is_known():
    source = 'rows = {"base only": 1, "refiner only": 2}\nprint(rows["base only"], rows["refiner only"])'
    lesson = {"cells": [_cell("code", source, "work")]}
    merged = source.replace('"base only"', '"só um"').replace('"refiner only"', '"só um"')
    assert "are all written 'só um'" in T.code_differences(lesson, {"cells": [_cell("code", merged, "work")]}, "x")[0]
    tests = ('a = name.endswith(("(SDXL)", "(log)"))\nb = "LoRA" not in name')
    assert T.text_tests([T.ast.parse(tests)]) == {("endswith", "(SDXL)"), ("endswith", "(log)"), ("in", "LoRA")}


def test_the_site_words_are_messages_of_their_own_catalogue_and_a_changed_one_goes_stale_until_checked(tmp_path):
    source = tmp_path / "build_site.py"
    english = T.SITE_SOURCE.read_text(encoding="utf-8")
    assert '"open_in_colab": "Open in Colab",' in english
    source.write_text(english.replace('"open_in_colab": "Open in Colab",', '"open_in_colab": "Open it in Colab",'), encoding="utf-8")
    catalogues = tmp_path / "translations"
    shutil.copytree(T.CATALOGUES / "pt-BR", catalogues / "pt-BR", ignore=shutil.ignore_patterns("[0-9]*.po", "_*.po"))
    assert "Open in Colab" in [message.text for message in T.site_messages()]
    problems = T.update_site("pt-BR", catalogues, source)
    assert len(problems) == 1 and "stale (fuzzy)" in problems[0] and "'Open it in Colab'" in problems[0]
    assert problems[0].startswith("tools/build_site.py, line ")
    entry = polib.pofile(str(catalogues / "pt-BR" / "site.po")).find("Open it in Colab")
    assert entry.msgstr == "Abrir no Colab" and entry.previous_msgid == "Open in Colab"
    translate(catalogues / "pt-BR" / "site.po", {"Open it in Colab": "Abra-a no Colab"})
    assert T.site_problems("pt-BR", catalogues, source) == []
    translate(catalogues / "pt-BR" / "site.po", {"picture {number} of {count}": "imagem {numero} de {count}"})
    assert "fields differ" in " ".join(T.site_problems("pt-BR", catalogues, source))



def test_site_texts_on_one_line_keep_each_its_own_stale_translation(tmp_path):
    """A site text's place in the catalogue is its key in TEXTS, not its line: "← previous" and "next" share a line."""
    source, catalogues = tmp_path / "build_site.py", tmp_path / "translations"
    english = T.SITE_SOURCE.read_text(encoding="utf-8")
    assert '"previous": "← previous", "next": "next",' in english
    changed = english.replace('"previous": "← previous", "next": "next",', '"previous": "← back", "next": "onwards",')
    source.write_text("# a line more above TEXTS\n" + changed, encoding="utf-8")
    shutil.copytree(T.CATALOGUES / "pt-BR", catalogues / "pt-BR", ignore=shutil.ignore_patterns("[0-9]*.po", "_*.po"))
    problems = T.update_site("pt-BR", catalogues, source)
    assert len(problems) == 2 and all("stale (fuzzy)" in problem for problem in problems)
    catalogue = polib.pofile(str(catalogues / "pt-BR" / "site.po"))
    assert (catalogue.find("← back").msgstr, catalogue.find("onwards").msgstr) == ("← anterior", "próxima")
    assert catalogue.find("Read in English").comment == T.HINTS["switch"] and catalogue.find("next") is None
