"""tools/prose_numbers.py: the review list of numbers typed into a lesson's prose that no neighbouring cell prints."""

import nbformat

import prose_numbers


def lesson(markdown: str, printed: str):
    code = nbformat.v4.new_code_cell("print(share)")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    return nbformat.v4.new_notebook(cells=[code, nbformat.v4.new_markdown_cell(markdown)])


def test_a_typed_number_the_run_does_not_print_is_listed():
    found = prose_numbers.unprinted(lesson("What you should see: 88% without guidance.", "right without guidance: 0.75"))
    assert [number.text for number in found] == ["88%"]
    assert "without guidance" in found[0].context


def test_a_number_printed_at_the_proses_precision_is_not_listed():
    markdown = "About 75% without guidance, 2.7× faster, loss 0.036."
    assert prose_numbers.unprinted(lesson(markdown, "share 0.7512 · speed-up 2.73x · loss 0.0361")) == []


def test_code_formulas_headings_and_small_counts_are_left_out():
    markdown = "## 3. Two encoders\n\nSet `guidance_scale = 7.5`; $\\sigma = 14.6$; the two encoders, step 3."
    assert prose_numbers.unprinted(lesson(markdown, "")) == []


def test_the_report_names_the_lesson_and_the_cell(tmp_path):
    path = tmp_path / "05_sdxl_base.ipynb"
    nbformat.write(lesson("Takes 45 s.", "took 16 min"), path)
    text = prose_numbers.report([path])
    assert text.startswith("## 05_sdxl_base: 1 typed numbers") and "cell 1: **45 s" not in text and "**45**" in text
