# Two commands do all the set-up on a fresh machine:
#   make run    create .venv if missing, install, and run the main job (dvc repro)
#   make test   create .venv if missing, install, build llama-server and
#               install Chromium if missing, and run the test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

# dvc runs each stage's `python -m ...` through the shell: it must find ours.
export PATH := $(abspath $(BIN)):$(PATH)

# Telemetry of every dependency off unless the user opts in (see README);
# yonca/privacy.py does the same inside every Python entry point.
ifndef YONCA_ALLOW_TELEMETRY
export MLFLOW_DISABLE_TELEMETRY ?= true
export DO_NOT_TRACK ?= true
export DVC_NO_ANALYTICS ?= 1
export GX_ANALYTICS_ENABLED ?= false
export RAGAS_DO_NOT_TRACK ?= true
export HF_HUB_OFFLINE ?= 1
endif

.PHONY: run test install lint services clean llama-server

run: $(STAMP)
	$(BIN)/dvc repro
	$(BIN)/dvc metrics show

# The llama-server engine's tests need the binary, the MLflow UI test needs
# Chromium: both are set up here so that `make test` runs every test.
test: $(STAMP) services llama-server
	@scripts/ensure-chromium.sh
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install --quiet -r requirements.lock
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install --quiet --no-deps -e .
	touch $(STAMP)

# PostgreSQL and Redis back the integration tests; start them if they stopped.
services:
	@scripts/ensure-services.sh

# llama.cpp's llama-server, the engine behind LLAMA_SERVER_URL. It is built from
# the llama.cpp sources inside the llama-cpp-python sdist pinned in
# requirements.lock, so the server and the in-process engine run the same
# llama.cpp. About 8 minutes on 2 cores the first time; skipped once built.
LLAMA_CPP_PYTHON := $(shell sed -n 's/^llama-cpp-python==//p' requirements.lock)
LLAMA_CPP_DIR := .cache/llama.cpp
LLAMA_CPP_SDIST := $(LLAMA_CPP_DIR)/sdist/llama_cpp_python-$(LLAMA_CPP_PYTHON).tar.gz
LLAMA_CPP_SRC := $(LLAMA_CPP_DIR)/llama_cpp_python-$(LLAMA_CPP_PYTHON)
LLAMA_CPP_BUILD := $(LLAMA_CPP_DIR)/build-$(LLAMA_CPP_PYTHON)
LLAMA_SERVER := $(LLAMA_CPP_DIR)/bin/llama-server
LLAMA_BUILD_JOBS ?= 2
# No web UI (it would be fetched at build time) and no HTTPS client: the API
# talks to llama-server over plain HTTP and nothing is downloaded at run time.
LLAMA_CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
	-DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
	-DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
	-DLLAMA_OPENSSL=OFF

llama-server: $(LLAMA_SERVER)

$(LLAMA_SERVER): $(LLAMA_CPP_BUILD)/bin/llama-server
	mkdir -p $(@D)
	cp $< $@

$(LLAMA_CPP_BUILD)/bin/llama-server: $(LLAMA_CPP_SRC)/PKG-INFO
	cmake -S $(LLAMA_CPP_SRC)/vendor/llama.cpp -B $(LLAMA_CPP_BUILD) $(LLAMA_CMAKE_FLAGS)
	cmake --build $(LLAMA_CPP_BUILD) --target llama-server -j$(LLAMA_BUILD_JOBS)

$(LLAMA_CPP_SRC)/PKG-INFO: $(LLAMA_CPP_SDIST)
	tar -xzf $< -C $(LLAMA_CPP_DIR)
	touch $@

$(LLAMA_CPP_SDIST):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip download --quiet --no-deps --no-binary :all: \
		--dest $(@D) llama-cpp-python==$(LLAMA_CPP_PYTHON)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf data models outputs metrics reports mlflow.db mlartifacts .dvc/cache
