"""A client that leaves frees the model at once; SIGTERM lets answers finish."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from serving.model_manager import ModelManager
from tests.serving.conftest import MODEL
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
USER = [{"role": "user", "content": "salam"}]
# Seconds added after each piece, so that a long answer takes seconds.
PIECE_DELAY = 0.02


def _slow_down(manager: ModelManager) -> list[int]:
    """Pause after every piece; return a list that grows with each piece decoded."""
    engine = manager.current.engine
    original = engine.stream
    decoded: list[int] = []

    def slow(prompt, sampling):
        for piece in original(prompt, sampling):
            decoded.append(piece.completion_tokens)
            yield piece
            time.sleep(PIECE_DELAY)

    engine.stream = slow
    return decoded


def _tokens_generated(base_url: str) -> float:
    for line in httpx.get(f"{base_url}/metrics").text.splitlines():
        if line.startswith("yonca_generated_tokens_total "):
            return float(line.split()[1])
    raise AssertionError("yonca_generated_tokens_total is missing from /metrics")


def test_client_leaving_mid_stream_cancels_its_generation(
    registry, tiny_ggufs, serve, settings
):
    registry.promote(registry.register(tiny_ggufs[0]))
    manager = ModelManager(settings)
    base_url = serve(settings, manager)
    assert httpx.post(f"{base_url}/admin/model/refresh", timeout=30).is_success
    decoded = _slow_down(manager)
    before = _tokens_generated(base_url)
    url = f"{base_url}/v1/chat/completions"

    long_answer = {"model": MODEL, "messages": USER, "max_tokens": 200, "stream": True}
    with httpx.stream("POST", url, json=long_answer, timeout=10) as response:
        content = (line for line in response.iter_lines() if '"content"' in line)
        for _ in range(4):
            next(content)
    # Leaving the block closed the connection after a few pieces.

    started = time.monotonic()
    short = httpx.post(url, json={"model": MODEL, "messages": USER, "max_tokens": 4})
    waited = time.monotonic() - started
    assert short.status_code == 200
    # 200 pieces at 20 ms each would have held the model for 4 s or more.
    assert waited < 2.0

    settled = len(decoded)
    time.sleep(5 * PIECE_DELAY)
    assert len(decoded) == settled, "generation went on after the client left"
    short_tokens = short.json()["usage"]["completion_tokens"]
    cut_short = _tokens_generated(base_url) - before - short_tokens
    assert 0 < cut_short < 200


def _serve_in_subprocess(registry, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MLFLOW_TRACKING_URI": registry.tracking_uri,
        "MODEL_CACHE_DIR": str(tmp_path / "cache"),
        "MODEL_POLL_INTERVAL_SECONDS": "0",
        "LLM_CONTEXT_SIZE": "2048",
        "LLM_MAX_TOKENS": "1500",
        "LLM_TEMPERATURE": "0",
        "LLAMA_N_THREADS": "1",
        "LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "uvicorn", "serving.app:app", "--port", str(port)]
    # Run outside the repository so that no developer's .env leaks in.
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    return process, f"http://127.0.0.1:{port}"


def _wait_ready(process: subprocess.Popen, base_url: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode()
        try:
            if httpx.get(f"{base_url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"the server never became ready:\n{process.stdout.read().decode()}")


def test_sigterm_lets_the_answer_in_flight_finish_then_exits_cleanly(
    registry, tiny_ggufs, tmp_path
):
    registry.promote(registry.register(tiny_ggufs[0]))
    process, base_url = _serve_in_subprocess(registry, tmp_path)
    try:
        _wait_ready(process, base_url)
        body = {"model": MODEL, "messages": USER, "max_tokens": 1500, "stream": True}
        url = f"{base_url}/v1/chat/completions"
        with httpx.stream("POST", url, json=body, timeout=60) as response:
            lines = response.iter_lines()
            first = next(line for line in lines if '"content"' in line)
            process.send_signal(signal.SIGTERM)
            rest = [line for line in lines if line.startswith("data: ")]
        exit_code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read().decode()

    assert response.status_code == 200
    assert first and rest[-1] == "data: [DONE]"
    last = json.loads(rest[-2].removeprefix("data: "))
    assert last["choices"][0]["finish_reason"] == "length"
    assert '"event": "serving.stopped"' in output, output
    # After its graceful shutdown uvicorn re-raises the signal it caught, so
    # the parent sees an exit by SIGTERM rather than status 0; a crash or a
    # hang would show another status or no "serving.stopped" event.
    assert exit_code == -signal.SIGTERM, output
