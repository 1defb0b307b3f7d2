"""The site builder's pure parts (tools/build_site.py): the README's lesson table, the pages, the links.

Building the site executes every lesson (`make site`); tests/browser/test_site.py checks the result.
"""

import json
import re

import nbformat
import pytest

import build_site
from build_site import Lesson, SiteError

README_TABLE = """# Course

A course.

## Lessons

| notebook | what you learn | tiny, 2-core CPU | free Colab T4 |
|---|---|---|---|
| `00_setup` | your machine | 11 s | 2 min |
| `01_loop.ipynb` | a loop, `a | b` in code | 15 s | 5 min + 455 MB |

Some text.

## Next section

| notebook | other | x | y |
|---|---|---|---|
| `99_not_a_lesson` | no | no | no |
"""


def lesson(name):
    return Lesson(name, f"what {name} teaches", "10 s", "1 min")


def test_the_lesson_table_is_read_from_the_lessons_section_only():
    table = build_site.read_lesson_table(README_TABLE)
    assert list(table) == ["00_setup", "01_loop"]
    assert table["01_loop"] == Lesson("01_loop", "a loop, `a | b` in code", "15 s", "5 min + 455 MB")


@pytest.mark.parametrize("readme, message", [
    ("# Course\n\nNo lessons here.\n", "no '## Lessons' section"),
    ("## Lessons\n\nSoon.\n", "no table"),
    ("## Lessons\n\n| notebook | a | b | c |\n|---|---|---|---|\n| `00_x` | only two |\n", "4 columns"),
])
def test_a_broken_lesson_table_is_a_clear_error(readme, message):
    with pytest.raises(SiteError, match=message):
        build_site.read_lesson_table(readme)


def test_a_lesson_missing_from_the_table_is_an_error_that_names_it():
    table = build_site.read_lesson_table(README_TABLE)
    with pytest.raises(SiteError) as raised:
        build_site.lessons_in_table(["00_setup", "01_loop", "02_new_lesson"], table)
    assert "notebooks/02_new_lesson.ipynb is not in README.md's lesson table" in str(raised.value)
    assert "| `02_new_lesson` |" in str(raised.value)  # the row to add
    assert build_site.stale_rows(["00_setup"], table) == ["01_loop"]


def test_every_lesson_of_the_repository_has_a_row_in_the_readme():
    table = build_site.read_lesson_table(build_site.README.read_text(encoding="utf-8"))
    names = build_site.lesson_names()
    assert names and names[0] == "00_setup"
    assert [row.name for row in build_site.lessons_in_table(names, table)] == names


def test_lessons_are_chosen_by_number_or_name():
    names = ["00_setup", "01_loop", "04_sdxl"]
    assert build_site.select(names, None) == names
    assert build_site.select(names, ["04", "00_setup"]) == ["00_setup", "04_sdxl"]
    with pytest.raises(SiteError, match="No lesson 07"):
        build_site.select(names, ["07"])


def test_colab_links_are_the_lessons_badges():
    for name in build_site.lesson_names():
        notebook = nbformat.read(build_site.NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert f"]({build_site.colab_url(name + '.ipynb')})" in notebook.cells[0].source, name
    assert lesson("03_x").colab.endswith("/blob/main/notebooks/03_x.ipynb")
    assert lesson("03_x").colab.startswith("https://colab.research.google.com/github/")


def test_the_longest_lessons_run_first():
    assert [build_site.seconds(text) for text in ("11 s", "1.5 min", "2 min + 7 GB download", "—")] == [11, 90, 120, 0]
    quick, slow = Lesson("00_a", "", "11 s", ""), Lesson("03_b", "", "1.5 min", "")
    assert build_site.longest_first([quick, slow]) == [slow, quick]


def test_navigation_links_the_index_and_the_neighbours():
    lessons = [lesson("00_a"), lesson("01_b"), lesson("02_c")]
    first, middle, last = (build_site.navigation(lessons, position) for position in range(3))
    assert "(index.html)" in first and "01_b.html" in first and "previous" not in first
    assert "00_a.html" in middle and "02_c.html" in middle
    assert "01_b.html" in last and "next" not in last


def test_the_badge_picture_becomes_a_link():
    title = "# Lesson\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://x/y.ipynb)\n"
    assert build_site.without_badge_image(title) == "# Lesson\n\n**[Open in Colab](https://x/y.ipynb)**\n"


def test_a_lesson_page_gets_the_note_and_the_links_and_keeps_every_cell():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# 01. The loop\n\n[![Open In Colab](https://colab.research.google.com/"
                                                    "assets/colab-badge.svg)](https://c/01_b.ipynb)"),
                      nbformat.v4.new_code_cell("print(1)")]
    lessons = [lesson("00_a"), lesson("01_b")]
    page = build_site.lesson_page(notebook, lessons, 1, "commit abc")
    sources = [cell.source for cell in page.cells]
    assert len(sources) == 5 and sources[1].startswith("# 01. The loop") and sources[3] == "print(1)"
    assert "00_a.html" in sources[0] and sources[0] == sources[-1]
    note = sources[2]  # right under the title
    assert "tiny mode" in note and "full mode" in note and lessons[1].colab in note and "commit abc" in note
    assert "static fallback" not in note  # this lesson has no widget
    assert "static fallback" in build_site.lesson_note(lessons[1], "commit abc", widgets=True)
    assert "](https://github.com/" in note
    assert "colab-badge.svg" not in "".join(sources)
    assert page.metadata["title"] == "01_b: 01. The loop"
    assert len(notebook.cells) == 2  # the executed lesson itself is left as it was


def test_the_index_lists_every_lesson_with_its_times_and_links():
    lessons = [lesson("00_a"), lesson("01_b")]
    index = build_site.index_notebook(lessons, "A course.", "commit abc")
    text = "\n".join(cell.source for cell in index.cells)
    for item in lessons:
        assert f"[{item.name}]({item.page})" in text and item.colab in text and item.teaches in text
    assert "A course." in text and "tiny mode" in text


def test_run_metadata_is_dropped_and_printed_text_is_one_piece():
    notebook = nbformat.v4.new_notebook()
    notebook.metadata.update(widgets={"state": {}}, papermill={"duration": 3.2})
    cell = nbformat.v4.new_code_cell("1")
    cell.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
    notebook.cells = [cell]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="one\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="two\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="three\n")]
    build_site.make_deterministic(notebook)
    assert "widgets" not in notebook.metadata and "papermill" not in notebook.metadata
    assert "execution" not in notebook.cells[0].metadata
    # where the kernel cut the printed text differs from run to run: consecutive pieces become one
    assert [(output.name, output.text) for output in notebook.cells[0].outputs] == [
        ("stdout", "one\ntwo\n"), ("stderr", "warning\n"), ("stdout", "three\n")]


def test_pages_load_nothing_from_a_cdn(tmp_path):
    mathjax = build_site.mathjax_into(tmp_path)
    html = build_site.exporter(mathjax or "mathjax/MathJax.js")
    page = build_site.render(html, build_site.index_notebook([lesson("00_a")], "A course.", "commit abc"), "index")
    assert "require.min.js" not in page
    scripts = re.findall(r'<script[^>]*\ssrc="([^"]*)"', page)
    assert scripts == ["mathjax/MathJax.js" + (build_site.MATHJAX_CONFIG if mathjax else "")]
    assert '<a href="00_a.html">00_a</a>' in page
    if mathjax:
        assert (tmp_path / "mathjax" / "MathJax.js").is_file()
        assert (tmp_path / "mathjax" / "jax" / "output" / "CommonHTML" / "jax.js").is_file()
    json.dumps(build_site.ENVIRONMENT)  # plain strings, for a subprocess


def _executed(*texts):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("stream", name="stderr", text=text)])
                      for text in texts]
    return notebook


def test_a_progress_bar_stuck_at_zero_is_a_problem_of_the_page():
    stuck = "Loading pipeline components...:   0%|          | 0/7 [00:00<?, ?it/s]"
    problems = build_site.page_problems(_executed("fine\n", stuck))
    assert problems == [f"cell 1: a progress bar stuck at 0%: {stuck!r}"]


def test_a_finished_progress_bar_and_ordinary_numbers_are_not():
    done = "100%|██████████| 7/7 [00:01<00:00,  5.2it/s]"
    assert build_site.page_problems(_executed(done, "10%| of the pixels", "0/3 pictures differ", "speed 20.0%|x")) == []


def test_the_long_token_warning_is_a_problem_of_the_page():
    text = "Token indices sequence length is longer than the specified maximum sequence length for this model (90 > 77)."
    (problem,) = build_site.page_problems(_executed(text))
    assert "Token indices sequence length" in problem


def test_the_progress_bars_widgets_are_left_out_of_a_page_and_other_widgets_stay():
    bar = nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "a", "version_major": 2, "version_minor": 0},
        "text/plain": "Loading pipeline components...:   0%|          | 0/7 [00:00<?, ?it/s]"})
    slider = nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "b", "version_major": 2, "version_minor": 0},
        "text/plain": "IntSlider(value=3)"})
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x", outputs=[bar, slider])]
    build_site.make_deterministic(notebook)
    assert notebook.cells[0].outputs == [slider]


def test_an_output_longer_than_a_screen_is_a_problem_of_the_page():
    assert build_site.page_problems(_executed("line\n" * build_site.SCREEN_LINES)) == []
    (problem,) = build_site.page_problems(_executed("head\n" + "line\n" * build_site.SCREEN_LINES))
    assert "longer than a screen" in problem and problem.endswith("its most frequent line: 'line'")  # what fills it


def test_a_hosted_lessons_note_says_its_full_mode_needs_a_token_not_a_gpu():
    lesson = Lesson("09_hosted", "hosted inference", "15 s", "1 min, no download")
    note = build_site.lesson_note(lesson, "commit abc", hosted=True)
    assert "HF_TOKEN" in note and "no GPU" in note and "T4 GPU runtime" not in note
    assert build_site.is_hosted("from helpers.hosted import hosted_model") and not build_site.is_hosted("import helpers")


def test_every_picture_gets_the_line_that_says_what_to_see_as_its_alternative_text():
    import nbformat

    picture = {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo="}, "metadata": {}}
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Lesson\n\n## 2. The first picture"),
        nbformat.v4.new_code_cell("show(image)", outputs=[nbformat.from_dict(picture)]),
        nbformat.v4.new_code_cell("assert image.size == (32, 32)"),
        nbformat.v4.new_markdown_cell("**What you should see:** a `red` disc on a [light](x.html) background.\n\nMore."),
        nbformat.v4.new_code_cell("show(a); show(b)", outputs=[nbformat.from_dict(picture), nbformat.from_dict(picture)]),
    ])
    build_site.describe_pictures(notebook)
    alts = [output.metadata["image/png"]["alt"] for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert alts == ["What you should see: a red disc on a light background.",
                    "A figure in section 2. The first picture (picture 1 of 2)",
                    "A figure in section 2. The first picture (picture 2 of 2)"]
    notebook.cells[3].source = "**What you should see.** Left: the picture; right: its latents.\n\nMore."
    build_site.describe_pictures(notebook)
    assert notebook.cells[1].outputs[0].metadata["image/png"]["alt"] == "What you should see: Left: the picture; right: its latents."
    notebook.cells[3].source = "What you should see: a red disc on a light background."
    build_site.describe_pictures(notebook)
    html = build_site.render(build_site.exporter(None), notebook, "lesson")
    assert 'alt="What you should see: a red disc on a light background."' in html
    assert "No description has been provided" not in html


def test_the_portuguese_edition_reads_its_own_table_and_links_its_own_notebooks_and_the_english_twin():
    edition = build_site.EDITIONS["pt-BR"]
    readme = README_TABLE.replace("## Lessons", "## Lições")
    table = build_site.read_lesson_table(readme, edition)
    first = table["00_setup"]
    assert first.language == "pt-BR" and first.colab.endswith("/blob/main/notebooks/pt-BR/00_setup.ipynb")
    with pytest.raises(SiteError, match="README.pt-BR.md has no '## Lições' section"):
        build_site.read_lesson_table(README_TABLE, edition)
    lessons = list(table.values())
    top = build_site.navigation(lessons, 0)
    assert "[Índice do curso](index.html)" in top and "próxima: [01_loop](01_loop.html)" in top
    assert "[Read in English](../00_setup.html)" in top
    note = build_site.lesson_note(first, "commit abc")
    assert "modo tiny" in note and "notebooks/pt-BR/00_setup.ipynb" in note and first.colab in note
    index = build_site.index_notebook(lessons, "Um curso.", "commit abc", "pt-BR")
    text = "\n".join(cell.source for cell in index.cells)
    assert "## Lições" in text and "[Abrir no Colab](" in text and "(../index.html)" in text
    assert build_site.without_badge_image("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](u)",
                                          "pt-BR") == "**[Abrir no Colab](u)**"


def test_a_page_links_its_twin_in_the_other_language_when_this_build_makes_it(monkeypatch):
    name = build_site.lesson_names(build_site.EDITIONS["pt-BR"].notebooks)[0]
    assert build_site.twin(f"{name}.html", "en") == f"pt-BR/{name}.html"
    assert build_site.twin(f"{name}.html", "pt-BR") == f"../{name}.html"
    assert build_site.twin("99_no_such_lesson.html", "en") is None
    assert build_site.twin("index.html", "en") == "pt-BR/index.html"
    monkeypatch.setattr(build_site, "BUILT", {"en"})  # `--languages en`: no link to pages this build does not make
    assert build_site.twin(f"{name}.html", "en") is None and build_site.twin("index.html", "en") is None


def test_a_portuguese_page_says_it_is_portuguese():
    page = build_site.render(build_site.exporter(None, "pt-BR"), build_site.index_notebook([lesson("00_a")], "Um curso.", "c", "pt-BR"), "index")
    assert '<html lang="pt">' in page
    assert '<html lang="en">' in build_site.render(build_site.exporter(None), build_site.index_notebook([lesson("00_a")], "A course.", "c"), "index")


def test_a_portuguese_picture_gets_the_portuguese_line_as_its_alternative_text():
    picture = {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo="}, "metadata": {}}
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Lição\n\n## 2. A primeira imagem"),
        nbformat.v4.new_code_cell("show(a); show(b)", outputs=[nbformat.from_dict(picture), nbformat.from_dict(picture)]),
        nbformat.v4.new_markdown_cell("**O que você deve ver.** um disco vermelho.\n\nMais."),
    ])
    build_site.describe_pictures(notebook, "pt-BR")
    alts = [output.metadata["image/png"]["alt"] for output in notebook.cells[1].outputs]
    assert alts == ["O que você deve ver (imagem 1 de 2): um disco vermelho.", "O que você deve ver (imagem 2 de 2): um disco vermelho."]


def test_the_portuguese_readme_lists_every_lesson_with_the_english_readmes_times():
    english = build_site.read_lesson_table(build_site.README.read_text(encoding="utf-8"))
    edition = build_site.EDITIONS["pt-BR"]
    portuguese = build_site.read_lesson_table((build_site.ROOT / edition.readme).read_text(encoding="utf-8"), edition)
    assert list(portuguese) == list(english) == build_site.lesson_names(edition.notebooks)
    assert [row.tiny for row in portuguese.values()] == [row.tiny for row in english.values()], \
        "the tiny times are measured once: copy them into README.pt-BR.md when README.md's change"


def test_the_portuguese_site_words_come_from_the_site_catalogue_and_each_edition_links_to_the_other_in_that_ones_words():
    portuguese = build_site.texts("pt-BR")
    assert set(portuguese) == set(build_site.TEXTS) and portuguese["open_in_colab"] == "Abrir no Colab"
    assert build_site.texts("en")["switch"] == "Read in English" and portuguese["switch"] == "Leia em português"
    table = build_site.read_lesson_table(README_TABLE)  # 00_setup has a Portuguese twin in notebooks/pt-BR/
    english_top = build_site.navigation([table["00_setup"], table["01_loop"]], 0)
    assert "[Leia em português](pt-BR/00_setup.html)" in english_top


def test_a_site_text_without_a_current_translation_stops_the_build_and_names_it(tmp_path):
    import polib

    (tmp_path / "pt-BR").mkdir()
    catalogue = polib.pofile(str(build_site.CATALOGUES / "pt-BR" / "site.po"), wrapwidth=0)
    catalogue.find("Open in Colab").flags.append("fuzzy")  # its English changed since it was translated
    catalogue.save(str(tmp_path / "pt-BR" / "site.po"))
    with pytest.raises(SiteError, match=r"no current translation of 'Open in Colab' \(1 of the site's"):
        build_site.texts("pt-BR", tmp_path)
    with pytest.raises(SiteError, match=r"site.po is missing: the pt-BR edition's site words"):
        build_site.texts("pt-BR", tmp_path / "nowhere")
    (tmp_path / "lost").mkdir()
    catalogue = polib.pofile(str(build_site.CATALOGUES / "pt-BR" / "site.po"), wrapwidth=0)
    catalogue.find("picture {number} of {count}").msgstr = "imagem {numero} de {count}"
    (tmp_path / "lost" / "pt-BR").mkdir()
    catalogue.save(str(tmp_path / "lost" / "pt-BR" / "site.po"))
    with pytest.raises(SiteError, match=r"translation of 'picture \{number\} of \{count\}' has other \{\.\.\.\} fields"):
        build_site.texts("pt-BR", tmp_path / "lost")
