"""`--endpoint`: evaluate a model behind an OpenAI-compatible server.

The server is a small FastAPI app serving the tiny GGUF through
LlamaCppBackend on 127.0.0.1, so every request really generates.
"""

from __future__ import annotations

import threading
import time

import pytest

from evaluation.backends import GenerationParams, LlamaCppBackend
from evaluation.runner import evaluate
from tests.conftest import REPO
from tests.support.servers import free_port, running_server

DATASET = REPO / "golden" / "dataset.jsonl"
PARAMS = GenerationParams(max_tokens=16)


class _Traffic:
    """Counts requests the server holds at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1


def _app(backend: LlamaCppBackend, traffic: _Traffic):
    from fastapi import FastAPI

    app = FastAPI()
    generating = threading.Lock()  # one llama.cpp context answers one at a time

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": "tiny-random", "object": "model"}]}

    @app.post("/v1/chat/completions")
    def chat(body: dict):
        traffic.enter()
        try:
            time.sleep(0.05)  # let concurrent requests overlap visibly
            with generating:
                answer = backend.chat(body["messages"])
        finally:
            traffic.leave()
        return {
            "model": body["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": answer.text}}
            ],
            "usage": {"completion_tokens": answer.completion_tokens},
        }

    return app


@pytest.fixture(scope="module")
def server(tiny_gguf):
    traffic = _Traffic()
    app = _app(LlamaCppBackend(tiny_gguf, PARAMS), traffic)
    with running_server(app) as base_url:
        yield base_url, traffic


def test_endpoint_answers_every_case_with_concurrent_requests(server):
    url, traffic = server
    record = evaluate(
        DATASET,
        endpoint=url + "/v1",
        threshold=0.85,
        limit=6,
        concurrency=3,
        params=PARAMS,
        progress=False,
    )
    assert record["model"]["name"] == "tiny-random"
    assert record["model"]["path"] == url
    assert [row["id"] for row in record["results"]] == [
        case_id for case_id in _first_ids(6)
    ]
    assert all(row["completion_tokens"] > 0 for row in record["results"])
    assert record["gate"]["passed"] is False
    assert traffic.peak >= 2


def _first_ids(count: int) -> list[str]:
    from evaluation.golden import load_golden_set

    return [case.id for case in load_golden_set(DATASET).cases[:count]]


def test_unreachable_endpoint_exits_2_saying_what_to_check(tmp_path):
    from typer.testing import CliRunner

    from evaluation.runner import cli

    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        cli,
        [
            "--dataset",
            str(DATASET),
            "--endpoint",
            url,
            "--output",
            str(tmp_path / "r.json"),
        ],
    )
    assert result.exit_code == 2
    assert f"{url}: GET /v1/models failed" in result.output
    assert not (tmp_path / "r.json").exists()


def test_model_and_endpoint_together_exit_2(tiny_gguf, tmp_path):
    from typer.testing import CliRunner

    from evaluation.runner import cli

    args = ["--dataset", str(DATASET), "--model", str(tiny_gguf)]
    result = CliRunner().invoke(cli, [*args, "--endpoint", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "exactly one candidate" in result.output


@pytest.mark.parametrize("option", ["--endpoint", "--judge-endpoint"])
def test_a_url_with_a_bad_port_exits_2_naming_it(option, tiny_gguf, tmp_path):
    from typer.testing import CliRunner

    from evaluation.runner import cli

    output = tmp_path / "r.json"
    output.write_text('{"kept": true}\n')
    candidate = [] if option == "--endpoint" else ["--model", str(tiny_gguf)]
    args = ["--dataset", str(DATASET), "--output", str(output), "--limit", "1"]
    result = CliRunner().invoke(
        cli, [*args, *candidate, option, "http://127.0.0.1:abc"]
    )

    assert result.exit_code == 2
    assert "http://127.0.0.1:abc" in result.output
    assert "not a usable URL" in result.output
    assert output.read_text() == '{"kept": true}\n'


def test_an_answer_whose_text_is_not_text_is_an_error_not_a_crash(tmp_path):
    from fastapi import FastAPI
    from typer.testing import CliRunner

    from evaluation.runner import cli

    odd = FastAPI()

    @odd.get("/v1/models")
    def models():
        return {"data": [{"id": "odd"}]}

    @odd.post("/v1/chat/completions")
    def chat():
        return {"choices": [{"message": {"content": 123}}], "usage": "x"}

    @odd.post("/v1/completions")
    def complete():
        return {"choices": [{"text": 123}], "usage": "x"}

    with running_server(odd) as url:
        result = CliRunner().invoke(
            cli,
            ["--dataset", str(DATASET), "--endpoint", url, "--limit", "1"]
            + ["--output", str(tmp_path / "r.json")],
        )

    assert result.exit_code in (1, 2)
    assert "not OpenAI-compatible" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
