"""Offline checks of tools/device_wheels.py's pure parts: what the device has, the walk, the names of wheels."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("device_wheels", Path(__file__).resolve().parent.parent / "tools" / "device_wheels.py")
device_wheels = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(device_wheels)

VERSIONS = {"transformers": "5.17.0", "huggingface-hub": "1.33.0"}
PACKAGES = {"transformers", "huggingface-hub", "requests", "peft"}


def _item(name, version, *requires):
    return {"metadata": {"name": name, "version": version, "requires_dist": list(requires)}}


def test_canonical_names():
    assert device_wheels.canonical("Jupyter_Client") == "jupyter-client"
    assert device_wheels.canonical("huggingface_hub") == "huggingface-hub"
    assert device_wheels.canonical("ruamel.yaml") == "ruamel-yaml"


def test_device_has_checks_known_versions_against_our_ranges():
    assert device_wheels.device_has("transformers>=5.0,<6", VERSIONS, PACKAGES)
    assert not device_wheels.device_has("transformers>=6", VERSIONS, PACKAGES)  # there, but refused: carried
    assert device_wheels.device_has("requests>=2", VERSIONS, PACKAGES)  # unrecorded version: taken as there
    assert device_wheels.device_has("Huggingface_Hub>=1.0,<3", VERSIONS, PACKAGES)
    assert not device_wheels.device_has("diffusers>=0.42,<0.50", VERSIONS, PACKAGES)


def test_constraints_pin_the_known_versions_unless_refused():
    pins = device_wheels.constraints(["transformers>=6", "huggingface_hub>=1"], VERSIONS)
    assert pins == ["huggingface-hub==1.33.0"]


def test_top_level_takes_the_core_and_the_check_s_test_extras():
    text = """
[project]
dependencies = ["torch>=2.4,<3", "diffusers>=0.42,<0.50"]
[project.optional-dependencies]
test = ["pytest>=8", "papermill>=2.6", "ipykernel>=6", "nbval>=0.11"]
"""
    assert device_wheels.top_level(text) == ["torch>=2.4,<3", "diffusers>=0.42,<0.50", "papermill>=2.6", "ipykernel>=6"]


def test_walk_stops_at_the_device_and_follows_markers_and_extras():
    report = {"install": [
        _item("diffusers", "0.42.1", "huggingface-hub>=0.34", "importlib_metadata", "torch>=2; extra == 'torch'"),
        _item("importlib_metadata", "10.2.0", "zipp>=3.20"),
        _item("zipp", "4.1.2"),
        _item("papermill", "2.7.0", "nbclient>=0.2", "requests", "pywin32; sys_platform == 'win32'",
              "aiohttp>=3.9; python_version == '3.12'", "black; extra == 'black'"),
        _item("nbclient", "0.11.0", "jsonschema[format-nongpl]>=4"),
        _item("jsonschema", "4.26.0", "attrs", "rfc3339-validator; extra == 'format-nongpl'"),
        _item("rfc3339-validator", "0.1.4"),
        _item("attrs", "26.1.0"),
        _item("aiohttp", "3.13.0"),
        _item("huggingface_hub", "1.33.0", "httpx"),
    ]}
    present = set()
    carried = device_wheels.needed(report, ["diffusers>=0.42", "papermill>=2.6"], VERSIONS,
                                   PACKAGES | {"zipp", "attrs"}, present)
    assert carried == {"aiohttp": "3.13.0", "diffusers": "0.42.1", "importlib-metadata": "10.2.0", "jsonschema": "4.26.0",
                       "nbclient": "0.11.0", "papermill": "2.7.0", "rfc3339-validator": "0.1.4"}
    assert present == {"huggingface-hub", "zipp", "requests", "attrs"}  # httpx, behind huggingface-hub, is not reached


def test_a_refused_device_version_is_carried():
    report = {"install": [_item("transformers", "5.18.0", "huggingface-hub>=1")]}
    carried = device_wheels.needed(report, ["transformers>=5.18"], VERSIONS, PACKAGES)
    assert carried == {"transformers": "5.18.0"}


def test_marker_environment_is_the_device_s():
    requirement = device_wheels.Requirement("x; python_version >= '3.12' and platform_machine == 'x86_64'")
    assert device_wheels.applies(requirement, set())
    assert not device_wheels.applies(device_wheels.Requirement("x; python_version < '3.12'"), set())
    assert not device_wheels.applies(device_wheels.Requirement("x; extra == 'dev'"), set())
    assert device_wheels.applies(device_wheels.Requirement("x; extra == 'dev'"), {"dev"})


def test_wheel_names():
    assert device_wheels.wheel_name("jupyter_client-8.10.0-py3-none-any.whl") == ("jupyter-client", "8.10.0")
    assert device_wheels.wheel_name(
        "pyzmq-27.3.0-cp312-abi3-manylinux_2_26_x86_64.manylinux_2_28_x86_64.whl") == ("pyzmq", "27.3.0")
