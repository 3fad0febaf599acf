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

# llama.cpp is compiled for this machine's instruction sets, named one by one
# rather than with -march=native: some virtual machines list AMX in cpuid
# without enabling its registers, and -march=native would then build AMX
# kernels that die with a general protection fault on the first matrix product.
ifeq ($(shell uname -m),x86_64)
cpu_has = $(shell grep -qw $(1) /proc/cpuinfo && echo ON || echo OFF)
GGML_CPU_FLAGS := -DGGML_NATIVE=OFF -DGGML_SSE42=$(call cpu_has,sse4_2) \
	-DGGML_AVX=$(call cpu_has,avx) -DGGML_AVX2=$(call cpu_has,avx2) \
	-DGGML_FMA=$(call cpu_has,fma) -DGGML_F16C=$(call cpu_has,f16c) \
	-DGGML_BMI2=$(call cpu_has,bmi2) -DGGML_AVX_VNNI=$(call cpu_has,avx_vnni) \
	-DGGML_AVX512=$(call cpu_has,avx512bw) \
	-DGGML_AVX512_VBMI=$(call cpu_has,avx512vbmi) \
	-DGGML_AVX512_VNNI=$(call cpu_has,avx512_vnni) \
	-DGGML_AVX512_BF16=$(call cpu_has,avx512_bf16)
else
GGML_CPU_FLAGS := -DGGML_NATIVE=ON
endif
# The same flags reach llama-cpp-python's build as per-package config
# settings, which uv also files its built wheel under: a wheel built with
# other flags is not reused.
LLAMA_CPP_SETTINGS := $(foreach flag,$(GGML_CPU_FLAGS),\
	--config-settings-package llama-cpp-python:cmake.define.$(patsubst -D%,%,$(flag)))

$(STAMP): requirements.lock pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install --quiet $(LLAMA_CPP_SETTINGS) \
		--reinstall-package llama-cpp-python -r requirements.lock
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
LLAMA_SERVER := $(LLAMA_CPP_DIR)/bin/llama-server
LLAMA_BUILD_JOBS ?= 2
# No web UI (it would be fetched at build time) and no HTTPS client: the API
# talks to llama-server over plain HTTP and nothing is downloaded at run time.
LLAMA_CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release $(GGML_CPU_FLAGS) \
	-DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
	-DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
	-DLLAMA_OPENSSL=OFF
# One build folder per version and flag set, so changed flags mean a rebuild.
LLAMA_CPP_BUILD := $(LLAMA_CPP_DIR)/build-$(LLAMA_CPP_PYTHON)-$(shell \
	echo '$(LLAMA_CMAKE_FLAGS)' | cksum | cut -d' ' -f1)

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
