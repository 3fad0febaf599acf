"""The image definition: lint-clean, non-root, healthy, and built from code only."""

from __future__ import annotations

import fnmatch
import re
import subprocess

from tests.deploy.conftest import REPO, tool

DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes."""
    verdict = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        bare = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, bare) or path.startswith(bare + "/"):
            verdict = not negate
    return verdict


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and line[0] != "#"]


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_the_api_as_a_non_root_user():
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users, "the final stage never switches away from root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_image_health_check_probes_the_health_endpoint():
    checks = [args for keyword, args in final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "/health" in checks[0]


def test_image_starts_uvicorn_with_the_serving_app():
    commands = [args for keyword, args in final_stage() if keyword == "CMD"]
    assert "uvicorn serving.app:app" in commands[-1]


def test_cuda_build_argument_switches_base_image_and_cmake_flags():
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG ACCELERATOR=cpu$", text, re.MULTILINE)
    assert re.search(r"^FROM nvidia/cuda:\S+ AS builder-cuda$", text, re.MULTILINE)
    assert "FROM builder-${ACCELERATOR} AS builder" in text
    assert "-DGGML_CUDA=on" in text


def test_build_context_keeps_models_data_and_stores_out():
    patterns = dockerignore_patterns()
    for path in [
        "models/candidate.gguf",
        "data/synthetic/farms.parquet",
        "mlflow.db",
        "mlartifacts/1/model.gguf",
        ".venv/bin/python",
        ".dvc/cache/files/md5/ab/cdef",
        ".env",
        ".git/HEAD",
    ]:
        assert ignored(path, patterns), f"{path} would enter the build context"


def test_everything_the_image_copies_is_in_the_build_context():
    patterns = dockerignore_patterns()
    sources = []
    for keyword, args in instructions():
        if keyword != "COPY" or "--from=" in args:
            continue
        words = [word for word in args.split() if not word.startswith("--")]
        sources += words[:-1]
    assert sources, "the Dockerfile copies nothing from the build context"
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such path"
        assert not ignored(source, patterns), f"COPY {source}: .dockerignore drops it"
