# Two commands do all the set-up on a fresh machine:
#   make run    create .venv if missing, install, and run the main job (dvc repro)
#   make test   create .venv if missing, install, and run the test suite

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

.PHONY: run test install lint services clean

run: $(STAMP)
	$(BIN)/dvc repro
	$(BIN)/dvc metrics show

test: $(STAMP) services
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

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf data models outputs metrics reports mlflow.db mlartifacts .dvc/cache
