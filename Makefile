# The two commands of the README, and the benchmark. Each sets up .venv first (once; again when
# pyproject.toml changes). Choose the interpreter with PYTHON=..., and a torch build with TORCH=...,
# e.g. `make test TORCH="torch==2.13.0"` (what CI does) or a CPU wheel on a laptop without a GPU.
PYTHON ?= python3
VENV ?= .venv
TORCH ?=
BIN := $(VENV)/bin
# Jupyter refuses to run as root (containers, some cloud machines) unless told it is intended.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

.PHONY: lab test colab-test benchmark rehearse rehearse-gpu site browser-test translations setup clean

lab: setup
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

# The course on Colab's own package set: Python 3.13 with the versions of tests/colab/packages.txt in .venv-colab, the
# course installed by the lessons' install cell, every lesson in tiny mode from a folder outside the repository, and
# the version-sensitive unit tests. Needs a Python 3.13 (python3.13 on PATH, pyenv's, or COLAB_PYTHON=...); builds its
# own environment, so it needs no `setup`. See tests/colab/run.py; e.g. COLAB_TEST_ARGS="--lessons 09".
colab-test:
	$(if $(COLAB_PYTHON),COLAB_PYTHON="$(COLAB_PYTHON)") $(PYTHON) tests/colab/run.py $(COLAB_TEST_ARGS)

benchmark: setup
	$(BIN)/python tools/benchmark.py

# The course site: every lesson executed in tiny mode and rendered with its outputs into _site/ (open
# _site/index.html). See tools/build_site.py.
site: setup
	$(BIN)/python tools/build_site.py

# The Portuguese edition: update the catalogues (translations/pt-BR/*.po) from the English lessons, the helpers and
# the site, and write notebooks/pt-BR/ from them (the helpers' messages compiled). Changed English is marked stale
# (fuzzy) for its translator; `make test` fails until it is translated again. See tools/translations.py.
translations: setup
	$(BIN)/python tools/translations.py $(TRANSLATIONS_ARGS)

# Every lesson run in JupyterLab in headless Chromium, and the built site opened there (Debian's
# `chromium` package; builds the site first if it is missing). See tests/browser/conftest.py.
browser-test: setup
	SDXL_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/browser -n 2

# Every lesson in full mode, offline, on random weights at real size (builds a ~20 GB cache once; 39.8 GB on a CPU). E.g.
# `make rehearse REHEARSE_ARGS="--lessons 04 06"`; see tools/rehearsal.py.
rehearse: setup
	$(BIN)/python tools/rehearsal.py $(REHEARSE_ARGS)

# The prepared GPU check (one CUDA GPU, under 10 minutes on an H100): lessons 10, 06, 08 and 11 at 1024x1024 with their
# real pictures per call, the GPU capped to a free Colab T4's 15 GiB, measured peaks against the plans into
# docs/rehearsal-gpu-results.md. REHEARSE_GPU_ARGS="--cpu-smoke --lessons 06" runs the same path on a CPU, small.
rehearse-gpu: setup
	$(BIN)/python tools/rehearse_gpu.py $(REHEARSE_GPU_ARGS)

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	if [ -n "$(TORCH)" ]; then $(BIN)/python -m pip install --quiet $(TORCH); fi
	$(BIN)/python -m pip install --quiet -e ".[lab,test]"
	touch $@

clean:
	rm -rf $(VENV) .venv-colab
