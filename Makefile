# `make repro` and `make test` each set up .venv from the pinned lock first, so both work on a fresh clone.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# Determinism and offline operation for every command run through make.
export PYTHONHASHSEED := 0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export MPLBACKEND := Agg

.PHONY: setup repro test lock clean

setup: $(INSTALLED)

$(INSTALLED): requirements.lock requirements-nodeps.lock pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-nodeps.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

repro: setup
	$(BIN)/dvc repro

test: setup
	$(BIN)/python -m pytest -q

# Re-pin requirements.lock from requirements.in (needs the registry; commit the result).
lock: setup
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	  --no-emit-find-links --find-links /opt/wheels -o requirements.lock requirements.in

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
