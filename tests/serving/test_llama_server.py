"""With LLAMA_SERVER_URL the API answers through a real llama-server.

The same routes, metrics and gate apply: llama-server must run on the vetted
GGUF, and its failures reach clients as 503s that say what to do.
"""

from __future__ import annotations

import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import jsonschema
import openai
import pytest

from serving.app import create_app
from serving.cache import VettedModel
from serving.engine import LlamaEngine
from serving.llama_server import LlamaServerEngine
from tests.serving.conftest import (
    MODEL,
    Registry,
    make_settings,
    wait_until_settled,
)
from tests.serving.test_structured_output import (
    ASK_JSON,
    IRRIGATION,
    IRRIGATION_FORMAT,
)
from tests.support.llama_server import (
    LlamaServer,
    llama_server_binary,
    running_llama_server,
)
from tests.support.servers import running_server
from tests.support.tiny_gguf import write_tiny_gguf
from yonca.hashing import sha256_file

BINARY = llama_server_binary()
pytestmark = pytest.mark.skipif(
    BINARY is None,
    reason="no llama-server binary: run `make llama-server` or set LLAMA_SERVER_BIN",
)

USER = [{"role": "user", "content": "When should I irrigate cotton in July?"}]


def _sdk(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="x", max_retries=0)


def _scratch_registry(folder: Path, empty_store: Path) -> Registry:
    shutil.copyfile(empty_store, folder / "mlflow.db")
    return Registry(f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts")


def _generated_tokens(base_url: str) -> float:
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    match = re.search(r"^yonca_generated_tokens_total (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@dataclass
class Setup:
    """What a test needs of the API it runs against."""

    base_url: str
    registry: Registry
    version: object
    llama: LlamaServer


@contextmanager
def _api_over(folder: Path, empty_store: Path, production: Path, served: Path):
    """The API with ``production`` promoted, over a llama-server on ``served``."""
    registry = _scratch_registry(folder, empty_store)
    version = registry.register(production)
    registry.promote(version)
    with running_llama_server(BINARY, served, folder / "llama.log") as llama:
        settings = make_settings(
            registry.tracking_uri, folder / "cache", llama_server_url=llama.url
        )
        with running_server(create_app(settings)) as base_url:
            yield Setup(base_url, registry, version, llama)


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_ggufs, empty_store):
    """The API over a llama-server with four slots running the vetted model."""
    folder = tmp_path_factory.mktemp("llama-server")
    vetted = tiny_ggufs[0]
    with _api_over(folder, empty_store, vetted, vetted) as setup:
        assert wait_until_settled(setup.base_url).status_code == 200
        yield setup.base_url, setup.version


def test_ready_reports_the_vetted_version_served_by_llama_server(served, tiny_ggufs):
    base_url, version = served
    ready = httpx.get(f"{base_url}/ready", timeout=10)

    assert ready.status_code == 200
    assert ready.json()["model"]["version"] == str(version.version)
    assert ready.json()["model"]["sha256"] == version.tags["sha256"]


def test_chat_completion_answers_through_llama_server(served):
    base_url, version = served
    answer = _sdk(base_url).chat.completions.create(
        model=MODEL, messages=USER, max_tokens=8
    )

    assert isinstance(answer.choices[0].message.content, str)
    assert answer.choices[0].finish_reason in ("stop", "length")
    assert 0 < answer.usage.completion_tokens <= 8
    assert answer.usage.prompt_tokens > 0
    assert answer.system_fingerprint.startswith(f"v{version.version}-")


def test_streamed_chat_completion_ends_with_a_finish_reason_and_usage(served):
    base_url, _ = served
    chunks = list(
        _sdk(base_url).chat.completions.create(
            model=MODEL,
            messages=USER,
            max_tokens=8,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] in ("stop", "length")
    assert all(reason is None for reason in finishes[:-1])
    assert 0 < chunks[-1].usage.completion_tokens <= 8


def test_text_completion_stops_at_max_tokens_or_earlier(served):
    base_url, _ = served
    answer = _sdk(base_url).completions.create(
        model=MODEL, prompt="Cotton needs water when", max_tokens=5, temperature=0
    )
    again = _sdk(base_url).completions.create(
        model=MODEL, prompt="Cotton needs water when", max_tokens=5, temperature=0
    )

    assert answer.usage.completion_tokens <= 5
    assert answer.choices[0].text == again.choices[0].text  # greedy is repeatable


def test_metrics_count_the_tokens_llama_server_generated(served):
    base_url, _ = served
    before = _generated_tokens(base_url)
    answer = _sdk(base_url).chat.completions.create(
        model=MODEL, messages=USER, max_tokens=6
    )

    assert _generated_tokens(base_url) - before == answer.usage.completion_tokens


def test_more_concurrent_requests_than_slots_all_succeed(served):
    base_url, _ = served

    def ask(index: int) -> httpx.Response:
        body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": f"Field {index}: salam"}],
            "max_tokens": 16,
        }
        return httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, range(8)))

    assert [answer.status_code for answer in answers] == [200] * 8


def test_json_schema_answers_follow_the_schema_through_llama_server(served):
    base_url, _ = served
    asked = {"model": MODEL, "messages": ASK_JSON, "temperature": 0}
    whole = _sdk(base_url).chat.completions.create(
        **asked, response_format=IRRIGATION_FORMAT
    )
    streamed = _sdk(base_url).chat.completions.create(
        **asked, response_format=IRRIGATION_FORMAT, stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in streamed)

    assert whole.choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(whole.choices[0].message.content), IRRIGATION)
    assert text == whole.choices[0].message.content


def test_json_object_answer_through_llama_server_is_a_json_object(served):
    base_url, _ = served
    answer = _sdk(base_url).chat.completions.create(
        model=MODEL,
        messages=ASK_JSON,
        response_format={"type": "json_object"},
        temperature=0,
    )

    assert answer.choices[0].finish_reason == "stop"
    assert isinstance(json.loads(answer.choices[0].message.content), dict)


def test_llama_server_on_another_file_is_refused(tmp_path, tiny_ggufs, empty_store):
    # llama-server runs on a different GGUF than the vetted production one.
    with _api_over(tmp_path, empty_store, *tiny_ggufs) as setup:
        ready = wait_until_settled(setup.base_url)
        refresh = httpx.post(f"{setup.base_url}/admin/model/refresh", timeout=30)

    assert ready.status_code == 503
    assert "not the vetted GGUF" in ready.json()["reason"]
    assert "llama-server -m" in ready.json()["reason"]
    assert refresh.status_code == 409


def test_alias_moved_to_a_file_llama_server_does_not_serve_keeps_the_old_model(
    tmp_path, tiny_ggufs, empty_store
):
    vetted = tiny_ggufs[0]
    with _api_over(tmp_path, empty_store, vetted, vetted) as setup:
        assert wait_until_settled(setup.base_url).status_code == 200
        setup.registry.promote(setup.registry.register(tiny_ggufs[1]))
        refresh = httpx.post(f"{setup.base_url}/admin/model/refresh", timeout=30)
        answer = _sdk(setup.base_url).chat.completions.create(
            model=MODEL, messages=USER, max_tokens=4
        )

    first = setup.version.version
    assert refresh.status_code == 409
    assert refresh.json()["model"]["version"] == str(first)
    assert answer.system_fingerprint.startswith(f"v{first}-")


def test_stopped_llama_server_gets_a_503_that_says_what_happened(
    tmp_path, tiny_ggufs, empty_store
):
    vetted = tiny_ggufs[0]
    with _api_over(tmp_path, empty_store, vetted, vetted) as setup:
        assert wait_until_settled(setup.base_url).status_code == 200
        setup.llama.stop()
        url = f"{setup.base_url}/v1/chat/completions"
        body = {"model": MODEL, "messages": USER, "max_tokens": 4}
        whole = httpx.post(url, json=body, timeout=30)
        streamed = httpx.post(url, json={**body, "stream": True}, timeout=30)

    for answer in (whole, streamed):
        assert answer.status_code == 503
        error = answer.json()["error"]
        assert error["code"] == "engine_unavailable"
        assert "model server cannot answer now" in error["message"]
        assert "Traceback" not in answer.text


def test_llama_server_restarted_on_another_file_is_refused_and_not_ready(
    tmp_path, tiny_ggufs, empty_store, monkeypatch
):
    # Look at /props on every request rather than every few seconds.
    monkeypatch.setattr("serving.llama_server._RECHECK_SECONDS", 0.0)
    vetted, other = tiny_ggufs
    with _api_over(tmp_path, empty_store, vetted, vetted) as setup:
        assert wait_until_settled(setup.base_url).status_code == 200
        setup.llama.stop()
        port = int(setup.llama.url.rsplit(":", 1)[1])
        log = tmp_path / "other.log"
        with running_llama_server(BINARY, other, log, port=port):
            url = f"{setup.base_url}/v1/chat/completions"
            body = {"model": MODEL, "messages": USER, "max_tokens": 4}
            answer = httpx.post(url, json=body, timeout=30)
            ready = httpx.get(f"{setup.base_url}/ready", timeout=30)

    assert answer.status_code == 503
    assert "no longer serves the vetted model" in answer.json()["error"]["message"]
    assert ready.status_code == 503
    assert "cannot be served" in ready.json()["reason"]


def test_request_after_llama_server_went_away_looks_again_before_answering(
    tmp_path, tiny_ggufs, empty_store, monkeypatch
):
    # Trust /props for an hour: only the failed request can make it look again.
    monkeypatch.setattr("serving.llama_server._RECHECK_SECONDS", 3600.0)
    vetted, other = tiny_ggufs
    url_path = "/v1/chat/completions"
    body = {"model": MODEL, "messages": USER, "max_tokens": 4}
    with _api_over(tmp_path, empty_store, vetted, vetted) as setup:
        assert wait_until_settled(setup.base_url).status_code == 200
        setup.llama.stop()
        port = int(setup.llama.url.rsplit(":", 1)[1])
        during_restart = httpx.post(setup.base_url + url_path, json=body, timeout=30)
        with running_llama_server(BINARY, other, tmp_path / "other.log", port=port):
            after_restart = httpx.post(setup.base_url + url_path, json=body, timeout=30)

    assert during_restart.status_code == 503
    assert after_restart.status_code == 503
    assert (
        "no longer serves the vetted model" in after_restart.json()["error"]["message"]
    )


# A template of the usual kind: special markers around each turn, the BOS
# token first, and a refusal of conversations that open with the assistant.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% if messages[0]['role'] == 'assistant' %}"
    "{{ raise_exception('Conversations must start with the user') }}{% endif %}"
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
CHAT = [
    {"role": "system", "content": "You advise farmers in Azerbaijan."},
    {"role": "user", "content": "Pambığı iyulda nə vaxt suvarım?"},
]


@pytest.mark.parametrize("template", [None, CHAT_TEMPLATE], ids=["none", "jinja"])
def test_prompts_are_the_tokens_the_in_process_engine_would_decode(tmp_path, template):
    """The golden evaluation scored in-process prompts; llama-server gets the same."""
    gguf = write_tiny_gguf(tmp_path / "model.gguf", chat_template=template)
    model = VettedModel(MODEL, "1", sha256_file(gguf), 0.9, gguf)
    in_process = LlamaEngine(gguf, n_ctx=512, n_threads=1)
    with running_llama_server(BINARY, gguf, tmp_path / "llama.log") as llama:
        remote = LlamaServerEngine(llama.url, model)
        try:
            pairs = [
                (in_process.chat_prompt(CHAT), remote.chat_prompt(CHAT)),
                (in_process.text_prompt("Suvarma"), remote.text_prompt("Suvarma")),
            ]
        finally:
            remote.close()
            in_process.close()

    for expected, sent in pairs:
        assert sent.tokens == expected.tokens
    assert pairs[0][1].stop == (["\nQuestion:", "\n\n"] if template is None else [])


def test_messages_the_chat_template_refuses_get_a_400(tmp_path, empty_store):
    gguf = write_tiny_gguf(tmp_path / "model.gguf", chat_template=CHAT_TEMPLATE)
    with _api_over(tmp_path, empty_store, gguf, gguf) as setup:
        assert wait_until_settled(setup.base_url).status_code == 200
        with pytest.raises(openai.BadRequestError) as refused:
            _sdk(setup.base_url).chat.completions.create(
                model=MODEL,
                messages=[{"role": "assistant", "content": "Salam"}],
                max_tokens=4,
            )

    assert refused.value.body["param"] == "messages"
