"""Lesson 02's settings cell refuses each bad parameter before any work, naming it and saying what to do."""

import pytest
from lesson_parameters import assert_refused, settings_error


def test_a_folder_or_a_hub_id_passes_as_model_id(tmp_path):
    assert settings_error("02", model_id=str(tmp_path)) is None
    assert settings_error("02", model_id="google/ddpm-cat-256") is None


@pytest.mark.parametrize("parameters", [{"num_inference_steps": 1}, {"num_inference_steps": 500, "trusted_steps": 1000},
                                        {"images_per_setting": 1, "comparison_images": 1, "trusted_steps": 1, "seed": 3}])
def test_valid_choices_pass_the_settings_cell(parameters):
    assert settings_error("02", **parameters) is None


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("mode", "huge", "Valid modes"),
        ("seed", -1, "out of range"),
        ("seed", 0.5, "not a whole number"),
        ("num_inference_steps", 0, "out of range"),  # `x or 25` once turned 0 into 25
        ("num_inference_steps", 501, "twice the count"),
        ("num_inference_steps", "25", "not a whole number"),
        ("images_per_setting", 0, "out of range"),
        ("images_per_setting", 2.5, "not a whole number"),
        ("comparison_images", 0, "out of range"),
        ("comparison_images", -3, "out of range"),
        ("trusted_steps", 0, "out of range"),
        ("trusted_steps", 1001, "out of range"),
        ("model_id", "", "not a non-empty text"),
        ("model_id", 42, "not a non-empty text"),
        ("model_id", "/nonexistent/ddpm-shapes", "neither an existing folder nor a Hub id"),
    ],
)
def test_a_bad_value_is_refused_with_a_clear_message(name, value, fragment):
    assert_refused("02", name, fragment, **{name: value})
