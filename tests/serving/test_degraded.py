"""Without a model the service answers from fixed rules, and says so."""

from __future__ import annotations

import httpx
import openai
import pytest

from serving.rules import advise
from tests.serving.conftest import MODEL, make_settings, wait_until_settled

RECORDS_EN = (
    "Farm records:\nFarm AZ-000455 (Sabirabad district). Field AZ-000455-F1: "
    "22.0 ha, cotton, drip irrigation, soil moisture 14 % on 2026-07-14, "
    "expected harvest 2026-09-30. Forecast 2026-07-15: day 42 °C.\n\n"
    "Question: When should I irrigate?"
)
RECORDS_AZ = (
    "Təsərrüfat AZ-000163. Sahə AZ-000163-F1: 22,5 ha, payızlıq buğda, torpaq "
    "rütubəti 36,5%, gözlənilən yığım 2026-06-20. Sual: suvarım?"
)


def test_dry_field_gets_irrigation_advice_with_its_own_figures():
    answer = advise(RECORDS_EN)
    assert "unavailable" in answer
    assert "14%" in answer and "irrigate the cotton within a day" in answer
    assert "42 °C" in answer and "not at midday" in answer
    assert "2026-09-30" in answer and "from 2026-09-16" in answer


def test_wet_field_in_azerbaijani_is_told_not_to_irrigate():
    answer = advise(RECORDS_AZ)
    assert "36,5%" in answer and "buğda sahəsini hələ suvarmayın" in answer
    assert "2026-06-06 tarixindən dayandırın" in answer
    assert "Dil modeli hazırda əlçatan deyil" in answer


def test_frost_forecast_is_a_frost_warning():
    answer = advise("Apple orchard in full bloom. Tonight minimum -3 °C.")
    assert "Frost down to -3 °C" in answer


def test_question_without_records_gets_general_guidance():
    answer = advise("What is the best fertiliser?")
    assert answer.startswith("The language model is unavailable")
    assert "General guidance" in answer


def test_same_request_always_gets_the_same_answer():
    assert advise(RECORDS_EN) == advise(RECORDS_EN)


@pytest.fixture
def rules_only(serve, registry, tmp_path) -> str:
    settings = make_settings(
        registry.tracking_uri, tmp_path / "cache", degradation_level="rules_only"
    )
    return serve(settings)


def _chat(base_url: str, content: str, **extra) -> httpx.Response:
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}]}
    return httpx.post(f"{base_url}/v1/chat/completions", json={**body, **extra})


def test_rules_only_answers_are_marked_degraded(rules_only):
    response = _chat(rules_only, RECORDS_EN)

    assert response.status_code == 200
    assert response.headers["X-Yonca-Degraded"] == "true"
    answer = response.json()
    assert answer["system_fingerprint"] == "rules-only"
    assert (
        "irrigate the cotton within a day" in answer["choices"][0]["message"]["content"]
    )


def test_rules_only_streams_and_completes_through_the_sdk(rules_only):
    client = openai.OpenAI(base_url=f"{rules_only}/v1", api_key="x", max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "system", "content": RECORDS_EN}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "from 2026-09-16" in text
    assert {chunk.system_fingerprint for chunk in chunks} == {"rules-only"}
    assert chunks[-1].usage.completion_tokens > 0

    completion = client.completions.create(model=MODEL, prompt=RECORDS_AZ)
    assert "suvarmayın" in completion.choices[0].text


def test_rules_answer_stops_at_max_tokens_words_with_length(rules_only):
    client = openai.OpenAI(base_url=f"{rules_only}/v1", api_key="x", max_retries=0)
    whole = advise(RECORDS_EN)

    short = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": RECORDS_EN}], max_tokens=5
    )
    chunks = list(
        client.completions.create(
            model=MODEL,
            prompt=RECORDS_EN,
            max_tokens=5,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    roomy = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": RECORDS_EN}]
    )

    assert short.choices[0].message.content == " ".join(whole.split()[:5])
    assert short.choices[0].finish_reason == "length"
    assert short.usage.completion_tokens == 5
    streamed = "".join(c.choices[0].text for c in chunks if c.choices)
    assert streamed == short.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices] == ["length"]
    assert chunks[-1].usage.completion_tokens == 5
    assert roomy.choices[0].message.content == whole
    assert roomy.choices[0].finish_reason == "stop"


def test_rules_answer_ends_before_a_stop_string(rules_only):
    whole = advise(RECORDS_EN)
    stop = whole.split()[3]

    response = _chat(rules_only, RECORDS_EN, stop=[stop])

    answer = response.json()["choices"][0]
    assert answer["message"]["content"] == whole[: whole.index(stop)]
    assert answer["finish_reason"] == "stop"


def test_refresh_in_rules_only_loads_no_model(rules_only, registry, tiny_ggufs):
    registry.promote(registry.register(tiny_ggufs[0]))

    response = httpx.post(f"{rules_only}/admin/model/refresh")

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    metrics = httpx.get(f"{rules_only}/metrics").text
    assert 'yonca_model_swaps_total{outcome="loaded"} 1.0' not in metrics
    assert httpx.get(f"{rules_only}/ready").json()["status"] == "degraded"
    assert httpx.get(f"{rules_only}/v1/models").json()["data"][0]["owned_by"] == (
        "rules-only"
    )


def test_rules_only_chosen_is_ready_but_degraded(rules_only):
    ready = httpx.get(f"{rules_only}/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert "DEGRADATION_LEVEL" in ready.json()["reason"]


def test_no_loadable_model_falls_back_to_rules_but_stays_unready(
    serve, tmp_path, unreachable_uri
):
    base_url = serve(make_settings(unreachable_uri, tmp_path / "empty-cache"))

    ready = wait_until_settled(base_url)
    assert ready.status_code == 503
    assert ready.json()["answering"] == "rules_only"
    response = _chat(base_url, RECORDS_EN)
    assert response.status_code == 200
    assert response.headers["X-Yonca-Degraded"] == "true"
    assert response.json()["system_fingerprint"] == "rules-only"
