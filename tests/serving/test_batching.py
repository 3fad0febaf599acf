"""Several requests decode together in one llama context, each as if alone."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from serving.engine import LlamaEngine, Prompt, Sampling
from serving.errors import ServingError
from serving.model_manager import ModelManager
from tests.serving.conftest import MODEL, make_settings, wait_until_settled

QUESTIONS = ["Pambığı nə vaxt suvarım?", "Buğdaya nə qədər azot?", "Üzüm xəstəliyi"]
GREEDY = Sampling(max_tokens=40, temperature=0.0)


def _answer(base_url: str, question: str) -> str:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": question}],
        "max_tokens": 40,
    }
    response = httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def _meet_before_decoding(manager: ModelManager, count: int) -> threading.Barrier:
    """Make each generation wait until ``count`` of them have started."""
    engine = manager.current.engine
    barrier = threading.Barrier(count, timeout=20)
    original = engine.stream

    def meeting(prompt, sampling):
        barrier.wait()
        yield from original(prompt, sampling)

    engine.stream = meeting
    return barrier


def test_parallel_requests_run_together_and_answer_as_they_would_alone(
    registry, tiny_ggufs, serve, settings
):
    registry.promote(registry.register(tiny_ggufs[0]))
    three = make_settings(
        registry.tracking_uri, settings.model_cache_dir, llama_n_parallel=3
    )
    manager = ModelManager(three)
    base_url = serve(three, manager)
    assert wait_until_settled(base_url).status_code == 200
    alone = [_answer(base_url, question) for question in QUESTIONS]

    # Each generation waits for the other two: with fewer than three running
    # at once the barrier breaks and the requests fail.
    barrier = _meet_before_decoding(manager, len(QUESTIONS))
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        together = list(pool.map(lambda q: _answer(base_url, q), QUESTIONS))

    assert not barrier.broken
    assert together == alone
    assert len(set(alone)) == len(alone)  # distinct answers: no crossed wires


@pytest.fixture(scope="module")
def engine(tiny_ggufs):
    engine = LlamaEngine(tiny_ggufs[0], n_ctx=256, n_threads=1, parallel=2)
    yield engine
    engine.close()


def _text(engine: LlamaEngine, prompt: str) -> str:
    return "".join(
        piece.text for piece in engine.stream(engine.text_prompt(prompt), GREEDY)
    )


def test_a_prompt_extending_a_cached_one_answers_as_on_a_fresh_engine(
    engine, tiny_ggufs
):
    _text(engine, "Suvarma cədvəli")  # leaves this prompt in a slot's cache
    extended = _text(engine, "Suvarma cədvəli, iyul ayı üçün")
    shorter = _text(engine, "Suvarma")

    fresh = LlamaEngine(tiny_ggufs[0], n_ctx=256, n_threads=1, parallel=1)
    try:
        assert extended == _text(fresh, "Suvarma cədvəli, iyul ayı üçün")
        assert shorter == _text(fresh, "Suvarma")
    finally:
        fresh.close()


def test_a_generation_closed_early_frees_its_slot(tiny_ggufs):
    single = LlamaEngine(tiny_ggufs[0], n_ctx=256, n_threads=1, parallel=1)
    try:
        long = Sampling(max_tokens=200, temperature=0.0)
        abandoned = single.stream(single.text_prompt("Buğda"), long)
        next(abandoned)
        abandoned.close()  # what a client that disconnects causes

        answers: list[str] = []
        worker = threading.Thread(target=lambda: answers.append(_text(single, "Arpa")))
        worker.start()
        worker.join(timeout=30)
        assert answers, "the next generation never got the only slot"
    finally:
        single.close()


def test_answer_longer_than_max_tokens_stops_with_length(engine):
    # The tiny model runs on past 40 tokens for this prompt (see GREEDY).
    assert len(_text(engine, "Pambıq")) > 0
    pieces = list(engine.stream(engine.text_prompt("Pambıq"), Sampling(3, 0.0)))
    assert (pieces[-1].completion_tokens, pieces[-1].finish_reason) == (3, "length")


def test_a_closed_engine_refuses_new_generations_instead_of_hanging(tiny_ggufs):
    closed = LlamaEngine(tiny_ggufs[0], n_ctx=256, n_threads=1, parallel=1)
    closed.close()
    with pytest.raises(ServingError):
        list(closed.stream(Prompt([1, 2, 3]), GREEDY))
