"""helpers.forms: the generation form of lessons 05 and 09, exercised without a frontend (widgets are plain Python
objects; a button's click() runs its handlers), and its static fallback."""

import matplotlib

matplotlib.use("Agg")  # the fallback draws a figure: no window

from PIL import Image  # noqa: E402

import helpers.display  # noqa: E402
from helpers.forms import FIELDS, build_form, generation_form  # noqa: E402


class Generate:
    """A stand-in for a lesson's generate(): records its calls, returns a picture or raises what it is told to."""

    def __init__(self, size=(512, 256), error=None):
        self.calls, self.size, self.error = [], size, error

    def __call__(self, **values):
        self.calls.append(values)
        if self.error:
            raise self.error
        return Image.new("RGB", self.size, (220, 40, 40))


STARTING = dict(prompt="a red circle", negative_prompt="", seed=3, num_inference_steps=12, guidance_scale=5.0)


def test_the_form_has_the_fields_in_generates_argument_order_with_the_starting_values():
    form = build_form(Generate(), **STARTING)
    assert tuple(form.fields) == FIELDS
    assert form.values() == STARTING
    assert list(form.widget.children) == [*form.fields.values(), form.button, form.output]


def test_generate_is_called_with_what_the_fields_hold_when_the_button_is_clicked():
    generate = Generate()
    form = build_form(generate, **STARTING)
    form.fields["prompt"].value = "a blue square"
    form.fields["seed"].value = 7
    form.button.click()
    assert generate.calls == [{**STARTING, "prompt": "a blue square", "seed": 7}]


def test_the_picture_is_shown_at_preview_size(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objects, **kwargs: shown.extend(objects))
    build_form(Generate(size=(512, 256)), **STARTING, preview=128).button.click()
    assert [picture.size for picture in shown] == [(128, 64)]


def test_an_expected_error_is_printed_under_the_button_and_others_are_not_dressed_as_messages(capsys, caplog):
    refusing = build_form(Generate(error=ValueError("The prompt is empty: describe the picture.")), **STARTING)
    refusing.button.click()
    assert "The prompt is empty" in capsys.readouterr().out

    class Refused(RuntimeError):
        pass

    build_form(Generate(error=Refused("401: fix HF_TOKEN")), **STARTING, errors=(Refused,)).button.click()
    assert "401: fix HF_TOKEN" in capsys.readouterr().out
    build_form(Generate(error=ZeroDivisionError("a bug")), **STARTING).button.click()
    assert "a bug" not in capsys.readouterr().out  # a bug keeps its traceback (ipywidgets logs it)
    assert "ZeroDivisionError: a bug" in caplog.text


def test_ranges_stretch_to_hold_large_starting_values():
    form = build_form(Generate(), **{**STARTING, "num_inference_steps": 150, "guidance_scale": 20.0})
    assert form.values()["num_inference_steps"] == 150 and form.values()["guidance_scale"] == 20.0


def test_without_a_live_frontend_generate_runs_once_with_the_starting_values_and_is_shown(monkeypatch, capsys):
    monkeypatch.setattr(helpers.display, "live_frontend", lambda: False)
    shown = []
    monkeypatch.setattr(helpers.display, "show", lambda images, titles=None, **kwargs: shown.append(titles))
    generate = Generate()
    picture = generation_form(generate, **{**STARTING, "negative_prompt": None})
    assert generate.calls == [STARTING] and picture.size == (512, 256)  # None becomes "", as the field would hold
    assert "No live Jupyter frontend" in capsys.readouterr().out
    assert shown == [["generate('a red circle', seed=3, steps=12, guidance=5.0)"]]


def test_with_a_live_frontend_the_form_is_displayed_and_nothing_is_generated(monkeypatch):
    monkeypatch.setattr(helpers.display, "live_frontend", lambda: True)
    displayed = []
    monkeypatch.setattr("IPython.display.display", lambda *objects, **kwargs: displayed.extend(objects))
    generate = Generate()
    form = generation_form(generate, **STARTING)
    assert displayed == [form] and generate.calls == []
