"""The official OpenAI SDK talks to a running server answering with a vetted model."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.serving.conftest import MODEL


@pytest.fixture(scope="module")
def client(vetted_server) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{vetted_server}/v1", api_key="unused", max_retries=0
    )


MESSAGES = [
    {"role": "system", "content": "You advise farmers in Azerbaijan."},
    {"role": "user", "content": "When should I irrigate cotton in July?"},
]


def test_chat_completion_answers_through_the_sdk(client):
    answer = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=8
    )

    assert answer.model == MODEL
    assert answer.object == "chat.completion"
    assert answer.choices[0].message.role == "assistant"
    assert isinstance(answer.choices[0].message.content, str)
    assert answer.choices[0].finish_reason in ("stop", "length")
    assert answer.usage.prompt_tokens > 0
    assert answer.usage.total_tokens == (
        answer.usage.prompt_tokens + answer.usage.completion_tokens
    )
    assert answer.system_fingerprint.startswith("v1-")


def test_chat_completion_streams_through_the_sdk(client):
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            max_tokens=8,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    with_choices = [chunk for chunk in chunks if chunk.choices]
    assert with_choices[0].choices[0].delta.role == "assistant"
    assert with_choices[-1].choices[0].finish_reason in ("stop", "length")
    assert chunks[-1].usage.completion_tokens > 0
    assert {chunk.id for chunk in chunks} == {chunks[0].id}


def test_streamed_and_whole_answers_agree_at_temperature_zero(client):
    whole = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=8, temperature=0
    )
    streamed = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=8, temperature=0, stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in streamed)
    assert text == whole.choices[0].message.content


def test_text_completion_whole_and_streamed(client):
    whole = client.completions.create(model=MODEL, prompt="Cotton needs", max_tokens=6)
    assert whole.object == "text_completion"
    assert whole.usage.completion_tokens > 0

    streamed = list(
        client.completions.create(
            model=MODEL, prompt="Cotton needs", max_tokens=6, stream=True
        )
    )
    assert streamed[-1].choices[0].finish_reason in ("stop", "length")


def test_models_lists_the_served_model(client):
    assert [model.id for model in client.models.list()] == [MODEL]


def test_max_tokens_above_the_configured_cap_is_capped(client):
    answer = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "salam"}],
        max_tokens=400,
        temperature=0,
    )
    # LLM_MAX_TOKENS is 256 in these tests; the random model never stops early.
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage.completion_tokens < 300


def test_metrics_count_requests_tokens_and_the_model(client, vetted_server):
    client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=4)
    text = httpx.get(f"{vetted_server}/metrics").text

    assert (
        'yonca_http_requests_total{route="/v1/chat/completions",status="200"}' in text
    )
    assert "yonca_http_request_duration_seconds_bucket" in text
    assert "yonca_generated_tokens_total" in text
    assert "yonca_generation_tokens_per_second_count" in text
    assert "yonca_queue_depth" in text
    assert 'version="1"} 1.0' in text


def test_health_and_ready_describe_the_model(vetted_server):
    assert httpx.get(f"{vetted_server}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{vetted_server}/ready").json()
    assert ready["status"] == "ready"
    assert ready["model"]["version"] == "1"
    assert ready["model"]["golden_score"] == pytest.approx(0.9)
    assert len(ready["model"]["sha256"]) == 64
    assert ready["model"]["source"] == "registry"


def test_health_and_ready_answer_head_requests_as_they_answer_get(vetted_server):
    for path in ("/health", "/ready"):
        head = httpx.head(f"{vetted_server}{path}")
        assert head.status_code == httpx.get(f"{vetted_server}{path}").status_code
        assert head.content == b""
