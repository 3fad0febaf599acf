"""response_format holds answers to JSON, or is refused with a 400 that says why."""

from __future__ import annotations

import json

import httpx
import jsonschema
import openai
import pytest

from serving.schemas import ResponseFormat
from serving.structured_output import grammar_for
from tests.serving.conftest import MODEL, make_settings

CHAT = "/v1/chat/completions"
ASK_JSON = [{"role": "user", "content": "Reply in JSON."}]
IRRIGATION = {
    "type": "object",
    "properties": {
        "irrigate": {"type": "boolean"},
        "days": {"type": "integer"},
        "crop": {"enum": ["cotton", "wheat"]},
        "note": {"type": "string", "pattern": "^[a-z ]{1,12}$"},
    },
    "required": ["irrigate", "days", "crop", "note"],
    "additionalProperties": False,
}
IRRIGATION_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "irrigation", "schema": IRRIGATION, "strict": True},
}


@pytest.fixture(scope="module")
def client(vetted_server) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{vetted_server}/v1", api_key="unused", max_retries=0
    )


def _post(base_url: str, body: dict, path: str = CHAT) -> httpx.Response:
    return httpx.post(f"{base_url}{path}", json=body, timeout=30)


def _error(response: httpx.Response) -> dict:
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_json_object_answer_is_a_json_object(client):
    answer = client.chat.completions.create(
        model=MODEL,
        messages=ASK_JSON,
        response_format={"type": "json_object"},
        temperature=0,
    )

    assert answer.choices[0].finish_reason == "stop"
    assert isinstance(json.loads(answer.choices[0].message.content), dict)


def test_json_schema_answer_follows_the_schema_whole_and_streamed(client):
    whole = client.chat.completions.create(
        model=MODEL,
        messages=ASK_JSON,
        response_format=IRRIGATION_FORMAT,
        temperature=0,
    )
    streamed = client.chat.completions.create(
        model=MODEL,
        messages=ASK_JSON,
        response_format=IRRIGATION_FORMAT,
        temperature=0,
        stream=True,
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in streamed)

    assert whole.choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(whole.choices[0].message.content), IRRIGATION)
    assert text == whole.choices[0].message.content


def test_json_schema_answer_follows_the_schema_when_sampling(client):
    for seed in range(3):
        answer = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "When should I irrigate?"}],
            response_format=IRRIGATION_FORMAT,
            temperature=1,
            seed=seed,
        )
        jsonschema.validate(json.loads(answer.choices[0].message.content), IRRIGATION)


def test_text_completion_follows_a_json_schema(vetted_server):
    body = {
        "model": MODEL,
        "prompt": "Irrigation plan:",
        "response_format": IRRIGATION_FORMAT,
        "temperature": 0,
    }
    response = _post(vetted_server, body, "/v1/completions")

    assert response.status_code == 200
    jsonschema.validate(json.loads(response.json()["choices"][0]["text"]), IRRIGATION)


def test_text_format_answers_as_without_it(client):
    plain = client.chat.completions.create(
        model=MODEL, messages=ASK_JSON, max_tokens=8, temperature=0
    )
    text = client.chat.completions.create(
        model=MODEL,
        messages=ASK_JSON,
        max_tokens=8,
        temperature=0,
        response_format={"type": "text"},
    )
    assert text.choices[0].message.content == plain.choices[0].message.content


@pytest.mark.parametrize(
    ("response_format", "param"),
    [
        ({"type": "xml"}, "response_format.type"),
        ("json", "response_format"),
        ({"type": "json_object", "schema": {}}, "response_format.schema"),
        ({"type": "json_schema"}, "response_format.json_schema"),
        (
            {"type": "json_object", "json_schema": {"name": "a"}},
            "response_format.json_schema",
        ),
        (
            {"type": "json_schema", "json_schema": {"schema": {}}},
            "response_format.json_schema.name",
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "a", "schema": []}},
            "response_format.json_schema.schema",
        ),
    ],
)
def test_unsupported_or_malformed_response_format_is_a_400(
    vetted_server, response_format, param
):
    body = {"model": MODEL, "messages": ASK_JSON, "response_format": response_format}
    response = _post(vetted_server, body)

    assert response.status_code == 400
    error = _error(response)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert "response_format" in error["message"]


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        ({"type": "objekt"}, "Unrecognized schema"),
        ({"$ref": "https://example.com/farm.json"}, "points outside the schema"),
        ({"type": "string", "pattern": "cotton"}, "Pattern must start"),
        ({"type": "string", "maxLength": 100_000}, "maxLength 100000"),
        ({"type": "string", "pattern": "^a{1,50000}$"}, "repeats more than"),
        ({"type": "array", "items": 5}, "the type JSON Schema gives it"),
        ({"type": "string", "minLength": 2.5}, "whole number"),
    ],
)
def test_schema_llama_cpp_cannot_follow_is_a_400_saying_why(vetted_server, schema, why):
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "s", "schema": schema},
    }
    body = {"model": MODEL, "messages": ASK_JSON, "response_format": response_format}
    response = _post(vetted_server, body)

    assert response.status_code == 400
    error = _error(response)
    assert error["param"] == "response_format"
    assert why in error["message"]
    after = _post(
        vetted_server, {"model": MODEL, "messages": ASK_JSON, "max_tokens": 4}
    )
    assert after.status_code == 200


def test_a_lone_surrogate_escape_in_a_schema_is_a_400(vetted_server):
    schema = '{"type": "string", "pattern": "^\\ud800$"}'
    body = (
        '{"model": "yonca-agri", "messages": [{"role": "user", "content": "a"}], '
        '"response_format": {"type": "json_schema", "json_schema": '
        f'{{"name": "s", "schema": {schema}}}}}}}'
    )
    response = httpx.post(
        f"{vetted_server}{CHAT}",
        content=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )

    assert response.status_code == 400
    error = _error(response)
    assert error["param"] == "response_format"
    assert "surrogate" in error["message"]


def test_sdk_surfaces_a_refused_schema(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model=MODEL,
            messages=ASK_JSON,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "s", "schema": {"type": "objekt"}},
            },
        )
    assert refused.value.body["param"] == "response_format"


def test_keyword_names_used_as_property_names_or_values_are_not_counts():
    schema = {
        "type": "object",
        "properties": {"maxLength": {"type": "integer"}},
        "required": ["maxLength"],
        "default": {"maxLength": 10**9},
    }
    response_format = ResponseFormat.model_validate(
        {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}
    )
    assert '"\\"maxLength\\""' in grammar_for(response_format)


# Without a model, the rules answer.


@pytest.fixture
def rules_only(serve, registry, tmp_path) -> str:
    settings = make_settings(
        registry.tracking_uri, tmp_path / "cache", degradation_level="rules_only"
    )
    return serve(settings)


def test_rules_only_answer_to_json_object_is_a_json_object(rules_only):
    body = {
        "model": MODEL,
        "messages": [
            {
                "role": "user",
                "content": "Apple orchard in full bloom. Tonight minimum -3 °C.",
            }
        ],
        "response_format": {"type": "json_object"},
    }
    whole = _post(rules_only, body)
    streamed = _post(rules_only, {**body, "stream": True})

    assert whole.headers["X-Yonca-Degraded"] == "true"
    content = json.loads(whole.json()["choices"][0]["message"]["content"])
    assert "Frost down to -3 °C" in content["answer"]
    events = [
        json.loads(line[6:])
        for line in streamed.text.splitlines()
        if line.startswith("data: {")
    ]
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    assert json.loads(text) == content


def test_rules_only_refuses_a_json_schema_with_a_503(rules_only):
    body = {"model": MODEL, "messages": ASK_JSON, "response_format": IRRIGATION_FORMAT}
    response = _post(rules_only, body)

    assert response.status_code == 503
    error = _error(response)
    assert error["param"] == "response_format"
    assert "cannot follow a JSON schema" in error["message"]


def test_rules_only_still_refuses_a_schema_llama_cpp_cannot_follow(rules_only):
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "s", "schema": {"type": "objekt"}},
    }
    body = {"model": MODEL, "messages": ASK_JSON, "response_format": response_format}
    response = _post(rules_only, body)

    assert response.status_code == 400
    assert _error(response)["param"] == "response_format"
