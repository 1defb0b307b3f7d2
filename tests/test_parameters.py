"""Every lesson's settings cell accepts its own default parameters; the bad values are in test_parameters_lessonNN.py."""

import pytest

from lesson_parameters import NOTEBOOKS, settings_error

LESSONS = sorted(path.name[:2] for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_default_parameters_pass_the_settings_cell(lesson):
    assert settings_error(lesson) is None
