"""Only vetted versions are served; swaps drop nothing; the cache covers outages."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter

import httpx
import openai

from registry.versions import local_artifact
from tests.serving.conftest import MODEL, make_settings, wait_until_settled
from tests.support.tiny_gguf import truncate

USER = [{"role": "user", "content": "salam"}]


def _refresh(base_url: str) -> httpx.Response:
    return httpx.post(f"{base_url}/admin/model/refresh", timeout=30)


def _ready(base_url: str) -> httpx.Response:
    return httpx.get(f"{base_url}/ready", timeout=10)


def _sdk(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="x", max_retries=0)


def test_without_production_alias_rules_answer_until_a_promotion(
    registry, tiny_ggufs, serve
):
    version = registry.register(tiny_ggufs[0])
    base_url = serve()

    not_ready = wait_until_settled(base_url)
    assert not_ready.status_code == 503
    assert "promote a vetted version" in not_ready.json()["reason"]
    # Meanwhile the rules answer, marked as degraded.
    answer = httpx.post(
        f"{base_url}/v1/chat/completions", json={"model": MODEL, "messages": USER}
    )
    assert answer.status_code == 200
    assert answer.headers["X-Yonca-Degraded"] == "true"

    registry.promote(version)
    assert _refresh(base_url).json()["outcome"] == "swapped"
    ready = _ready(base_url)
    assert ready.status_code == 200
    assert ready.json()["model"]["version"] == str(version.version)
    answer = _sdk(base_url).chat.completions.create(
        model=MODEL, messages=USER, max_tokens=4
    )
    assert answer.system_fingerprint.startswith(f"v{version.version}-")


def test_version_whose_gate_failed_is_refused_and_old_keeps_serving(
    registry, tiny_ggufs, serve
):
    vetted = registry.register(tiny_ggufs[0])
    registry.promote(vetted)
    base_url = serve()
    assert wait_until_settled(base_url).status_code == 200

    failed = registry.register(tiny_ggufs[1], gate_passed=False, score=0.2)
    registry.force_alias(failed)
    refresh = _refresh(base_url)

    assert refresh.status_code == 409
    assert refresh.json()["last_refusal"]["reason"] == "its gate is 'failed'"
    assert _ready(base_url).json()["model"]["version"] == str(vetted.version)
    answer = _sdk(base_url).chat.completions.create(
        model=MODEL, messages=USER, max_tokens=4
    )
    assert answer.system_fingerprint.startswith(f"v{vetted.version}-")


def test_version_whose_artifact_was_altered_is_refused(registry, tiny_ggufs, serve):
    vetted = registry.register(tiny_ggufs[0])
    registry.promote(vetted)
    base_url = serve()
    assert wait_until_settled(base_url).status_code == 200

    tampered = registry.register(tiny_ggufs[1])
    registry.force_alias(tampered)
    artifact = local_artifact(tampered)
    artifact.write_bytes(artifact.read_bytes()[:-16] + b"\0" * 16)
    refresh = _refresh(base_url)

    assert refresh.status_code == 409
    assert "does not match" in refresh.json()["last_refusal"]["reason"]
    assert _ready(base_url).json()["model"]["version"] == str(vetted.version)


def test_vetted_version_that_fails_to_load_leaves_the_old_one_serving(
    registry, tiny_ggufs, serve, tmp_path
):
    vetted = registry.register(tiny_ggufs[0])
    registry.promote(vetted)
    base_url = serve()
    assert wait_until_settled(base_url).status_code == 200

    cut = truncate(shutil.copyfile(tiny_ggufs[1], tmp_path / "cut.gguf"))
    registry.promote(registry.register(cut))
    refresh = _refresh(base_url)

    assert refresh.status_code == 409
    assert "could not load" in refresh.json()["last_refusal"]["reason"]
    assert _ready(base_url).json()["model"]["version"] == str(vetted.version)
    answer = _sdk(base_url).completions.create(model=MODEL, prompt="a", max_tokens=2)
    assert answer.choices[0].finish_reason in ("stop", "length")


def test_swap_under_concurrent_requests_fails_none(registry, tiny_ggufs, serve):
    first = registry.register(tiny_ggufs[0])
    registry.promote(first)
    base_url = serve()
    assert wait_until_settled(base_url).status_code == 200

    stop = threading.Event()
    fingerprints: Counter[str] = Counter()
    failures: list[BaseException] = []

    def ask_repeatedly(stream: bool) -> None:
        client = _sdk(base_url)
        while not stop.is_set():
            try:
                fingerprints[_ask(client, stream)] += 1
            except Exception as exc:  # every failure is a finding
                failures.append(exc)

    workers = [
        threading.Thread(target=ask_repeatedly, args=(n % 2 == 0,)) for n in range(4)
    ]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    second = registry.register(tiny_ggufs[1])
    registry.promote(second)
    assert _refresh(base_url).json()["outcome"] == "swapped"
    time.sleep(0.5)
    stop.set()
    for worker in workers:
        worker.join(timeout=30)

    assert failures == []
    versions = {fingerprint.split("-")[0] for fingerprint in fingerprints}
    assert versions == {f"v{first.version}", f"v{second.version}"}
    metrics = httpx.get(f"{base_url}/metrics", timeout=10).text
    assert 'yonca_model_swaps_total{outcome="loaded"} 1.0' in metrics
    assert 'yonca_model_swaps_total{outcome="swapped"} 1.0' in metrics


def _ask(client: openai.OpenAI, stream: bool) -> str:
    if not stream:
        answer = client.chat.completions.create(
            model=MODEL, messages=USER, max_tokens=8
        )
        return answer.system_fingerprint
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=USER, max_tokens=8, stream=True
        )
    )
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    return chunks[-1].system_fingerprint


def test_last_vetted_model_is_served_from_cache_when_registry_is_down(
    registry, tiny_ggufs, serve, settings, unreachable_uri
):
    vetted = registry.register(tiny_ggufs[0])
    registry.promote(vetted)
    assert wait_until_settled(serve()).status_code == 200

    offline = make_settings(unreachable_uri, settings.model_cache_dir)
    base_url = serve(offline)
    ready = wait_until_settled(base_url)

    assert ready.status_code == 200
    body = ready.json()
    assert body["registry"] == "unreachable"
    assert body["model"]["source"] == "cache"
    assert body["model"]["version"] == str(vetted.version)
    assert "cache" in body["warning"]
    answer = _sdk(base_url).chat.completions.create(
        model=MODEL, messages=USER, max_tokens=4
    )
    assert answer.choices[0].finish_reason in ("stop", "length")


def test_registry_down_and_empty_cache_is_not_ready(tmp_path, serve, unreachable_uri):
    base_url = serve(make_settings(unreachable_uri, tmp_path / "empty-cache"))

    ready = wait_until_settled(base_url)
    assert ready.status_code == 503
    assert ready.json()["registry"] == "unreachable"
    assert "MLFLOW_TRACKING_URI" in ready.json()["reason"]
