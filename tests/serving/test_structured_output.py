"""response_format holds answers to JSON, or is refused with a 400 that says why."""

from __future__ import annotations

import json
import re

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
        ({"type": "string", "pattern": "cotton"}, 'must start with "^"'),
        ({"type": "string", "maxLength": 100_000}, "maxLength 100000"),
        ({"type": "string", "pattern": "^a{1,50000}$"}, "repeats more than"),
        (
            {"type": "string", "pattern": "^((a|b){0,1000}){0,1000}c$"},
            "'^((a|b){0,1000}){0,1000}c$' repeats more than the 1000 times",
        ),
        ({"type": "string", "pattern": "^((a|b)?){0,100}$"}, "can match nothing"),
        ({"type": "string", "pattern": "^((a|b)+){0,1000}$"}, "split an answer"),
        ({"type": "string", "pattern": "^(a|aa){0,1000}$"}, "split an answer"),
        ({"type": "string", "pattern": "^a^b$"}, 'has "^" or "$" inside it'),
        ({"type": "string", "pattern": r"^\bfarm$"}, "uses \\b"),
        ({"type": "string", "pattern": "^(?=a)a$"}, "(?...) group"),
        ({"type": "string", "pattern": '^["]$'}, "a JSON string escapes"),
        ({"type": "string", "pattern": "^" + "a?" * 40 + "$"}, "40 parts that"),
        ({"type": "string", "pattern": r"^[^\s\S]$"}, "matches no character"),
        (
            {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "uniqueItems is not followed",
        ),
        (
            {"type": "string", "pattern": "^[a-z ]+$", "maxLength": 3},
            "without the lengths",
        ),
        (
            {"type": ["string", "null"], "pattern": "^x$"},
            "list of types is followed without pattern",
        ),
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


def _string_answers(client, pattern: str, seeds=range(4)) -> list:
    """One request's choice per seed, each asking for a string matching ``pattern``."""
    schema = {"type": "string", "pattern": pattern}
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "s", "schema": schema},
    }
    return [
        client.chat.completions.create(
            model=MODEL,
            messages=ASK_JSON,
            response_format=response_format,
            temperature=1,
            seed=seed,
        ).choices[0]
        for seed in seeds
    ]


def _assert_finished_strings_matching(choices, pattern: str) -> list[str]:
    values = []
    for choice in choices:
        assert choice.finish_reason == "stop"
        values.append(json.loads(choice.message.content))
        assert isinstance(values[-1], str)
        assert re.fullmatch(pattern, values[-1]), values[-1]
    return values


@pytest.mark.parametrize(
    "pattern",
    ["^[a-z]{1,20}$", "^(ab){2,5}$", "^[0-9]{3}-[0-9]{4}$", "^(yes|no){1,4}$"],
)
def test_string_answer_matches_its_pattern(client, pattern):
    _assert_finished_strings_matching(_string_answers(client, pattern), pattern)


@pytest.mark.parametrize(
    ("pattern", "left_out"),
    [("^[^0-9]{1,20}$", "[0-9]"), ("^[^a-z]{1,8}$", "[a-z]"), ("^.{1,10}$", "\n")],
)
def test_negated_class_and_dot_answers_are_json_strings(client, pattern, left_out):
    # These admit quotes, backslashes and control characters, which a JSON
    # string may not hold raw. An answer is checked for what the pattern
    # leaves out rather than matched whole: llama.cpp reads an overlong UTF-8
    # sequence as the character it spells, and the client gets U+FFFD for
    # each of its bytes.
    for choice in _string_answers(client, pattern, seeds=range(12)):
        assert choice.finish_reason == "stop"
        value = json.loads(choice.message.content)
        assert isinstance(value, str)
        assert not re.search(left_out, value)


@pytest.mark.parametrize(
    "pattern",
    [
        r"^\d{3}-\d{4}$",
        r"^a\.b$",
        r"^\w{1,12}$",
        r"^[a-z]{1,5}\s[a-z]{1,5}$",
        r"^\W\S\D$",
        r"^(\d{1,3}\.){3}\d{1,3}$",
    ],
)
def test_shorthand_and_escaped_characters_are_followed(client, pattern):
    _assert_finished_strings_matching(_string_answers(client, pattern), pattern)


@pytest.mark.parametrize("pattern", [r"^[^\D]{2}$", r"^[^\S]{2}$", r"^[^\w]{3}$"])
def test_negated_shorthand_classes_keep_to_what_both_dialects_match(client, pattern):
    # JSON Schema's \d is ASCII, Python's is any script's digit: answers
    # meet the pattern under both, so under Python's re as well.
    values = _assert_finished_strings_matching(
        _string_answers(client, pattern), pattern
    )
    assert all(value.isascii() for value in values)


def test_line_separators_in_a_pattern_come_out_as_themselves(client):
    pattern = "^a\u2028b\u0085c$"
    values = _assert_finished_strings_matching(
        _string_answers(client, pattern), pattern
    )
    assert set(values) == {"a\u2028b\u0085c"}


def test_unbounded_shorthand_is_followed_until_the_answer_ends(client):
    answers = _string_answers(client, r"^\w+$", seeds=range(6))

    finished = [choice for choice in answers if choice.finish_reason == "stop"]
    assert finished
    _assert_finished_strings_matching(finished, r"^\w+$")


@pytest.mark.parametrize(
    ("pattern", "alternatives"),
    [("^a|b$", {"a", "b"}), ("^cat|dog$", {"cat", "dog"})],
)
def test_top_level_alternatives_are_followed_whole(client, pattern, alternatives):
    values = _assert_finished_strings_matching(
        _string_answers(client, pattern), pattern
    )
    assert set(values) <= alternatives


def test_quotes_backslashes_and_newlines_in_a_pattern_come_out_escaped(client):
    pattern = r'^say "[a-z]{1,5}"\\\n$'  # a quote, a backslash, a newline
    values = _assert_finished_strings_matching(
        _string_answers(client, pattern), pattern
    )
    # The answer's JSON text held each as an escape, or it would not parse.
    assert all('"' in value and "\\" in value and "\n" in value for value in values)


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
