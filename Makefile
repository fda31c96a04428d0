# `make repro` and `make test` each set up .venv from the pinned lock first, so both work on a fresh clone.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The Python lock `make setup` installs: requirements-cuda.lock on NVIDIA machines (see docs/environments.md).
PY_LOCK ?= requirements.lock
# llama.cpp's HF -> GGUF converter (stage convert), from the llama-cpp-python sdist pinned in requirements.lock.
LLAMA_CPP_PYTHON := $(shell sed -n 's/^llama-cpp-python==\([^ ]*\).*/\1/p' requirements.lock)
LLAMA_CPP_SDIST := llama_cpp_python-$(LLAMA_CPP_PYTHON)
CONVERTER := $(VENV)/llama.cpp/convert_hf_to_gguf.py

# Determinism and offline operation for every command run through make.
export PYTHONHASHSEED := 0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export MPLBACKEND := Agg
# dvc.yaml's commands call `nava-instruct` from the virtual environment.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup repro test lock clean nix-tools sign verify audit image image-lock image-tools repro-image audit-image

setup: $(INSTALLED)

$(INSTALLED): $(PY_LOCK) requirements-nodeps.lock pyproject.toml $(CONVERTER)
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(PY_LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-nodeps.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

repro: setup
	$(BIN)/dvc repro
	@echo "Pipeline done. Serve the fine-tuned model (OpenAI-compatible, http://127.0.0.1:8080):"
	@echo "  $(BIN)/nava-instruct serve"

# Publisher: sign the released artifacts with $$NAVA_SIGNING_KEY (default ~/.config/nava-instruct/signing-key.pem,
# created if missing). Anyone: check signatures and dvc.lock hashes; rebuild a commit and compare (REV=...).
sign: setup
	$(BIN)/nava-instruct sign

verify: setup
	$(BIN)/nava-instruct verify

REV ?= HEAD
audit: setup
	$(BIN)/nava-instruct audit --rev $(REV) --out audit

# Lint first (pyproject.toml's [tool.ruff]: line length, import order, unused names), then the suite.
test: setup nix-tools
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest -q

# Debian's nix-bin, for the offline Nix checks in tests/test_environment.py; installed only when
# nix-instantiate is missing and apt-get can run (CI runs as root).
nix-tools:
	@command -v nix-instantiate >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nix-bin >/dev/null 2>&1 \
	    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nix-bin >/dev/null; }; \
	  else echo "nix-tools: nix-instantiate not found and apt-get unavailable; the Nix tests will skip" >&2; fi; }

# The CPU image (image/build, README.md "The container image"): needs root, podman, mmdebstrap and runc
# (installed by image-tools), and the llama-cpp-python wheel that `make setup` leaves in pip's cache.
image: setup image-tools
	image/build

# Re-pin image/debian-packages.txt to the registry's newest versions of image/debian-packages.in, then build.
image-lock: setup image-tools
	image/build --lock

# `dvc repro` with every stage's command run inside the image, no network (image/bin/nava-instruct).
repro-image: image
	PATH=$(abspath image/bin):$$PATH $(BIN)/dvc repro

# The audit with every stage of the rebuild run inside the image (REV=...).
audit-image: image
	$(BIN)/nava-instruct audit --rev $(REV) --out audit --image

# podman, mmdebstrap and runc from Debian, as nix-tools installs nix-bin: only when missing and root.
image-tools:
	@command -v podman >/dev/null 2>&1 && command -v mmdebstrap >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      podman mmdebstrap runc >/dev/null; \
	  else echo "image-tools: podman, mmdebstrap or runc is missing and apt-get cannot run (not root)" >&2; exit 1; fi; }

# Re-pin requirements.lock from requirements.in (needs the registry; commit the result), then
# requirements-cuda.lock: the same pins (constrained to requirements.lock's), except that torch is
# PyPI's CUDA build of the same version, with the CUDA libraries it depends on. That resolution ignores
# pip's configuration (PIP_CONFIG_FILE=/dev/null), whose find-links would offer the CPU wheel again.
lock: setup
	$(BIN)/python -m pip install --quiet pip-tools==7.6.2
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	  --no-emit-find-links --find-links /opt/wheels -o requirements.lock requirements.in
	mkdir -p build && grep -oE '^[A-Za-z0-9_.-]+==[^ ]+' requirements.lock | grep -v '^torch==' > build/cuda-constraints.txt
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe \
	  --strip-extras --no-emit-index-url --no-emit-find-links -c build/cuda-constraints.txt \
	  -o requirements-cuda.lock requirements.in

# Fetch the sdist, check it against the lock's sha256, and keep only convert_hf_to_gguf.py, its
# conversion/ package and the gguf-py it was written for (the converter runs with that gguf-py).
$(CONVERTER): requirements.lock
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
	  -d $(VENV)/downloads llama-cpp-python==$(LLAMA_CPP_PYTHON)
	actual=$$(sha256sum $(VENV)/downloads/$(LLAMA_CPP_SDIST).tar.gz | cut -d' ' -f1); \
	  sed -n '/^llama-cpp-python==/,/^[^ ]/s/.*--hash=sha256:\([0-9a-f]*\).*/\1/p' requirements.lock | grep -qx "$$actual" \
	  || { echo "$(LLAMA_CPP_SDIST).tar.gz: sha256 $$actual is not the one pinned in requirements.lock" >&2; exit 1; }
	rm -rf $(VENV)/llama.cpp $(VENV)/llama.cpp.tmp && mkdir -p $(VENV)/llama.cpp.tmp
	tar -xzf $(VENV)/downloads/$(LLAMA_CPP_SDIST).tar.gz -C $(VENV)/llama.cpp.tmp --strip-components=3 --touch \
	  $(addprefix $(LLAMA_CPP_SDIST)/vendor/llama.cpp/,convert_hf_to_gguf.py conversion gguf-py)
	mv $(VENV)/llama.cpp.tmp $(VENV)/llama.cpp

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
