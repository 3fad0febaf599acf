"""A client's mistake gets a 4xx in OpenAI's error shape that says what to fix."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.serving.conftest import MODEL

CHAT = "/v1/chat/completions"
USER = [{"role": "user", "content": "salam"}]


def _post(base_url: str, body, path: str = CHAT, **kwargs) -> httpx.Response:
    if isinstance(body, str | bytes):
        kwargs["content"] = body
        kwargs.setdefault("headers", {"content-type": "application/json"})
    else:
        kwargs["json"] = body
    return httpx.post(f"{base_url}{path}", timeout=30, **kwargs)


def _error(response: httpx.Response) -> dict:
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_malformed_json_is_a_400_naming_the_problem(vetted_server):
    response = _post(vetted_server, b'{"model": "yonca-agri", "messages": [')
    assert response.status_code == 400
    assert "not valid JSON" in _error(response)["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": MODEL, "messages": USER, "max_tokens": "lots"}, "max_tokens"),
        ({"model": MODEL, "messages": "salam"}, "messages"),
        ({"model": MODEL, "messages": USER, "temperature": "hot"}, "temperature"),
        ({"model": MODEL, "messages": USER, "stream": "yes"}, "stream"),
        ({"model": MODEL, "messages": []}, "messages"),
        ({"messages": USER}, "model"),
    ],
)
def test_wrong_types_are_a_400_naming_the_parameter(vetted_server, body, param):
    response = _post(vetted_server, body)
    assert response.status_code == 400
    error = _error(response)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert param in error["message"]


def test_unknown_role_is_a_400(vetted_server):
    body = {"model": MODEL, "messages": [{"role": "farmer", "content": "salam"}]}
    response = _post(vetted_server, body)
    assert response.status_code == 400
    assert _error(response)["param"] == "messages[0].role"


def test_unsupported_parameter_is_a_400_saying_so(vetted_server):
    body = {"model": MODEL, "messages": USER, "logit_bias": {"1": 5}}
    response = _post(vetted_server, body)
    assert response.status_code == 400
    assert "'logit_bias' is not supported" in _error(response)["message"]


def test_more_than_one_choice_is_a_400(vetted_server):
    response = _post(vetted_server, {"model": MODEL, "messages": USER, "n": 2})
    assert response.status_code == 400
    assert _error(response)["param"] == "n"


def test_body_that_is_not_an_object_is_a_400(vetted_server):
    response = _post(vetted_server, [1, 2, 3])
    assert response.status_code == 400
    assert "JSON object" in _error(response)["message"]


def test_unknown_model_is_a_404_naming_the_served_one(vetted_server):
    response = _post(vetted_server, {"model": "gpt-4o", "messages": USER})
    assert response.status_code == 404
    error = _error(response)
    assert error["code"] == "model_not_found"
    assert MODEL in error["message"]


def test_prompt_longer_than_the_context_window_is_a_400(vetted_server):
    body = {"model": MODEL, "prompt": "the farm " * 400, "max_tokens": 4}
    response = _post(vetted_server, body, path="/v1/completions")
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "context_length_exceeded"
    assert "context window of 512" in error["message"]


def test_chat_messages_longer_than_the_window_name_messages(vetted_server):
    messages = [{"role": "user", "content": "the farm " * 400}]
    response = _post(vetted_server, {"model": MODEL, "messages": messages})
    assert response.status_code == 400
    assert _error(response)["param"] == "messages"


def test_a_text_prompt_longer_than_the_window_names_prompt(vetted_server):
    body = {"model": MODEL, "prompt": "the farm " * 400}
    response = _post(vetted_server, body, path="/v1/completions")
    assert response.status_code == 400
    assert _error(response)["param"] == "prompt"


def test_prompt_plus_max_tokens_beyond_the_window_is_a_400(vetted_server):
    # About 300 prompt tokens plus the 256-token cap cannot fit in 512.
    body = {"model": MODEL, "prompt": "x" * 300, "max_tokens": 256}
    response = _post(vetted_server, body, path="/v1/completions")
    assert response.status_code == 400
    error = _error(response)
    assert error["param"] == "max_tokens"
    assert "lower max_tokens" in error["message"]


def test_sdk_surfaces_the_message_of_a_bad_request(vetted_server):
    client = openai.OpenAI(base_url=f"{vetted_server}/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=USER, top_p=7)
    assert "top_p" in str(raised.value)


def test_unknown_route_and_wrong_method_keep_the_error_shape(vetted_server):
    missing = httpx.get(f"{vetted_server}/v1/engines")
    assert missing.status_code == 404
    assert _error(missing)["type"] == "invalid_request_error"
    wrong = httpx.get(f"{vetted_server}{CHAT}")
    assert wrong.status_code == 405
    _error(wrong)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b'"text"',
        b'{"model": 5, "messages": [{"role": "user"}]}',
        b'{"model": "yonca-agri", "messages": [{"role": "user", "content": 5}]}',
        b'{"model": "yonca-agri", "messages": [{"role": "user", "content": [{}]}]}',
        b'{"model": "yonca-agri", "messages": [], "max_tokens": -1}',
        b'{"model": "yonca-agri", "messages": [{"role": "user", "content": "a"}],'
        b' "max_tokens": 1e400}',
        b'{"model": "yonca-agri", "messages": [{"role": "user", "content": "a"}],'
        b' "stop": ["a", "b", "c", "d", "e"]}',
    ],
)
def test_odd_bodies_never_cause_a_server_error(vetted_server, body):
    response = _post(vetted_server, body)
    assert 400 <= response.status_code < 500
    _error(response)


def test_oversized_body_is_a_413_before_it_is_read(vetted_server):
    huge = "x" * 2_000_000
    body = {"model": MODEL, "messages": [{"role": "user", "content": huge}]}
    response = _post(vetted_server, body)
    assert response.status_code == 413
    error = _error(response)
    assert error["code"] == "request_too_large"
    assert "MAX_REQUEST_BYTES" in error["message"]


def test_oversized_chunked_body_is_a_413(vetted_server):
    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    response = httpx.post(
        f"{vetted_server}{CHAT}",
        content=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert _error(response)["code"] == "request_too_large"


def test_a_very_long_unknown_path_is_not_echoed_whole(vetted_server):
    response = httpx.get(f"{vetted_server}/{'a' * 20_000}", timeout=30)
    assert response.status_code == 404
    assert len(_error(response)["message"]) < 400


@pytest.mark.parametrize(
    ("path", "field", "param"),
    [
        (
            CHAT,
            '"messages": [{"role": "user", "content": "hi \\ud800 there"}]',
            "messages",
        ),
        ("/v1/completions", '"prompt": "\\udfff"', "prompt"),
    ],
)
def test_a_lone_surrogate_escape_is_a_400_and_the_server_keeps_answering(
    vetted_server, path, field, param
):
    body = '{"model": "yonca-agri", "max_tokens": 4, ' + field + "}"
    response = _post(vetted_server, body, path)

    assert response.status_code == 400
    error = _error(response)
    assert "surrogate" in error["message"] and error["param"] == param
    after = _post(vetted_server, {"model": MODEL, "messages": USER, "max_tokens": 4})
    assert after.status_code == 200


def test_a_lone_surrogate_in_the_model_name_is_a_404_quoting_it_escaped(
    vetted_server,
):
    body = '{"model": "\\ud800", "messages": [{"role": "user", "content": "hi"}]}'
    with httpx.Client(timeout=30) as client:
        response = client.post(
            f"{vetted_server}{CHAT}",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 404
        assert "\\ud800" in _error(response)["message"]
        # The same connection goes on serving.
        after = client.post(
            f"{vetted_server}{CHAT}",
            json={"model": MODEL, "messages": USER, "max_tokens": 2},
        )
    assert after.status_code == 200


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"stop": "Question:"}, id="one-long-stop-string"),
        pytest.param({"stream": None}, id="stream-null"),
        pytest.param({"stream_options": {"include_usage": None}}, id="usage-null"),
        pytest.param({"top_p": 0}, id="top-p-zero"),
        pytest.param({"seed": -1}, id="negative-seed"),
        pytest.param({"seed": 2**63 - 1}, id="64-bit-seed"),
    ],
)
def test_values_openai_accepts_are_answered(vetted_server, extra):
    body = {"model": MODEL, "messages": USER, "max_tokens": 2, **extra}
    response = _post(vetted_server, body)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["finish_reason"] in ("stop", "length")


def test_five_stop_strings_are_a_400_naming_stop(vetted_server):
    body = {"model": MODEL, "messages": USER, "stop": ["a", "b", "c", "d", "e"]}
    response = _post(vetted_server, body)
    assert response.status_code == 400
    assert _error(response)["param"] == "stop"


@pytest.mark.parametrize("seed", [-1, 2**32 - 1, 2**40 + 3])
def test_any_seed_samples_repeatably(vetted_server, seed):
    # llama.cpp reads 0xFFFFFFFF as "choose a seed at random"; no client seed
    # may land there.
    body = {
        "model": MODEL,
        "messages": USER,
        "max_tokens": 12,
        "temperature": 1.5,
        "seed": seed,
    }
    answers = {
        _post(vetted_server, body).json()["choices"][0]["message"]["content"]
        for _ in range(3)
    }
    assert len(answers) == 1
