# The two commands of the README, and the benchmark. Each sets up .venv first (once; again when
# pyproject.toml changes). Choose the interpreter with PYTHON=..., and a torch build with TORCH=...,
# e.g. `make test TORCH="torch==2.13.0"` (what CI does) or a CPU wheel on a laptop without a GPU.
PYTHON ?= python3
VENV ?= .venv
TORCH ?=
BIN := $(VENV)/bin

.PHONY: lab test benchmark setup clean

lab: setup
	$(BIN)/jupyter lab notebooks/

test: setup
	$(BIN)/python -m pytest

benchmark: setup
	$(BIN)/python tests/benchmark.py

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	if [ -n "$(TORCH)" ]; then $(BIN)/python -m pip install --quiet $(TORCH); fi
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

clean:
	rm -rf $(VENV)
