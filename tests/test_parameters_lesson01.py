"""Lesson 01's settings cell refuses each bad parameter before any work, naming it and saying what to do."""

import pytest
from lesson_parameters import assert_refused, settings_error


@pytest.mark.parametrize("parameters", [{"num_inference_steps": 1}, {"num_inference_steps": 1000}, {"seed": 7, "mode": "tiny"}])
def test_valid_choices_pass_the_settings_cell(parameters):
    assert settings_error("01", **parameters) is None


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("mode", "huge", "Valid modes"),
        ("mode", "", "Valid modes"),
        ("seed", -1, "out of range"),
        ("seed", 1.5, "not a whole number"),
        ("seed", "0", "not a whole number"),
        ("num_inference_steps", 0, "out of range"),
        ("num_inference_steps", 1001, "1000 training timesteps"),
        ("num_inference_steps", 2.5, "not a whole number"),
        ("num_inference_steps", True, "not a whole number"),
    ],
)
def test_a_bad_value_is_refused_with_a_clear_message(name, value, fragment):
    assert_refused("01", name, fragment, **{name: value})
