"""Lesson 06 refuses bad parameters in its settings cell, before any model is loaded, naming the parameter."""

import pytest

from lesson_parameters import assert_refused

LESSON = "06"

BAD_VALUES = [
    ("mode", "Unknown mode", {"mode": "gpu"}),
    ("seed", "at least 0", {"seed": -1}),
    ("prompt", "non-empty text", {"prompt": ""}),
    ("negative_prompt", "not a text", {"negative_prompt": 3}),
    ("height", "divisible by 8", {"height": 36}),
    ("width", "positive whole number", {"width": 0}),
    ("num_inference_steps", "out of range", {"num_inference_steps": 2}),
    ("guidance_scale", "out of range", {"guidance_scale": -1.0}),
    ("denoising_end", "out of range", {"denoising_end": 1.0}),
    ("denoising_end", "leaves one expert no step", {"denoising_end": 0.02}),
    ("aesthetic_score", "out of range", {"aesthetic_score": 11.0}),
    ("negative_aesthetic_score", "not a finite number", {"negative_aesthetic_score": "low"}),
    ("strength", "0 denoising steps", {"strength": 0.01}),
]


@pytest.mark.parametrize("name, fragment, parameters", BAD_VALUES, ids=[f"{n}={p[n]!r}" for n, _, p in BAD_VALUES])
def test_a_bad_value_is_refused_with_a_message_naming_it(name, fragment, parameters):
    assert_refused(LESSON, name, fragment, **parameters)
