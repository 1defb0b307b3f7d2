"""Lesson 03's settings cell refuses each bad parameter before any training, naming it and saying what to do."""

import pytest
from lesson_parameters import assert_refused, settings_error


@pytest.mark.parametrize("parameters", [
    {"train_steps": 20, "pictures": 64, "batch_size": 8, "num_inference_steps": 10},  # the rehearsal's
    {"prediction_type": "epsilon", "beta_schedule": "scaled_linear", "comparison_steps": 300, "ema_decay": 0.0},
    {"image_size": 32, "base_channels": 64, "learning_rate": 2e-3, "seed": 5},
])
def test_valid_choices_pass_the_settings_cell(parameters):
    assert settings_error("03", **parameters) is None


def test_a_folder_passes_as_output_dir(tmp_path):
    assert settings_error("03", output_dir=str(tmp_path / "new-folder")) is None


def test_a_file_is_refused_as_output_dir(tmp_path):
    existing_file = tmp_path / "model.txt"
    existing_file.write_text("not a folder")
    assert_refused("03", "output_dir", "is a file", output_dir=str(existing_file))


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("mode", "huge", "Valid modes"),
        ("seed", -1, "out of range"),
        ("train_steps", 0, "whole number"),
        ("train_steps", 2.5, "whole number"),
        ("batch_size", 0, "whole number"),
        ("image_size", 18, "multiple of 4"),
        ("base_channels", 48, "multiple of 32"),
        ("pictures", 10, "at least 32"),
        ("pictures", 0, "whole number"),
        ("learning_rate", 0, "out of range"),
        ("learning_rate", 1.5, "out of range"),
        ("learning_rate", "0.01", "not a finite number"),
        ("prediction_type", "sample", "is not one of"),
        ("beta_schedule", "cosine", "is not one of"),
        ("comparison_steps", 1, "out of range"),
        ("comparison_steps", 2.5, "not a whole number"),
        ("ema_decay", 1.0, "out of range"),
        ("ema_decay", -0.1, "out of range"),
        ("ema_decay", "0.99", "not a finite number"),
        ("num_inference_steps", 0, "out of range"),
        ("num_inference_steps", 1001, "out of range"),
        ("output_dir", "", "not a non-empty text"),
        ("output_dir", 5, "not a non-empty text"),
    ],
)
def test_a_bad_value_is_refused_with_a_clear_message(name, value, fragment):
    assert_refused("03", name, fragment, **{name: value})
