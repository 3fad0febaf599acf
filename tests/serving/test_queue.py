"""Past the bounded queue a client is told to come back later, not kept waiting."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from serving.errors import QueueFullError
from serving.metrics import ServingMetrics
from serving.model_manager import ModelManager
from serving.queue import GenerationQueue
from tests.serving.conftest import MODEL, make_settings, wait_until_settled

BODY = {"model": MODEL, "messages": [{"role": "user", "content": "salam"}]}


def _hold_generation(manager: ModelManager) -> tuple[threading.Event, threading.Event]:
    """Make the next generation wait until released; report when it has begun."""
    engine = manager.current.engine
    started, release = threading.Event(), threading.Event()
    original = engine.stream

    def held(prompt, sampling):
        started.set()
        release.wait(timeout=30)
        yield from original(prompt, sampling)

    engine.stream = held
    return started, release


def test_request_past_the_queue_gets_429_with_retry_after(
    registry, tiny_ggufs, serve, settings
):
    registry.promote(registry.register(tiny_ggufs[0]))
    no_waiting = make_settings(
        registry.tracking_uri,
        settings.model_cache_dir,
        max_queued_requests=0,
        llama_n_parallel=1,
    )
    manager = ModelManager(no_waiting)
    base_url = serve(no_waiting, manager)
    assert wait_until_settled(base_url).status_code == 200

    started, release = _hold_generation(manager)
    first: list[httpx.Response] = []
    url = f"{base_url}/v1/chat/completions"
    holder = threading.Thread(
        target=lambda: first.append(httpx.post(url, json=BODY, timeout=30))
    )
    holder.start()
    assert started.wait(timeout=10)

    turned_away = httpx.post(url, json=BODY, timeout=10)
    release.set()
    holder.join(timeout=30)

    assert turned_away.status_code == 429
    assert int(turned_away.headers["Retry-After"]) >= 1
    assert turned_away.json()["error"]["code"] == "queue_full"
    assert first[0].status_code == 200
    assert httpx.post(url, json=BODY, timeout=30).status_code == 200


def test_queue_admits_as_many_generations_as_the_engine_has_slots():
    async def scenario():
        queue = GenerationQueue(1, ServingMetrics(), slots=lambda: 3)
        turns = [await queue.take_turn() for _ in range(3)]
        fourth = asyncio.create_task(queue.take_turn())
        await asyncio.sleep(0)
        with pytest.raises(QueueFullError):
            await queue.take_turn()  # three running, one waiting: full

        turns[0].release()
        await asyncio.wait_for(fourth, timeout=1)
        assert (queue.running, queue.waiting) == (3, 0)

    asyncio.run(scenario())


def test_request_that_gives_up_waiting_leaves_its_place_to_the_next():
    async def scenario():
        queue = GenerationQueue(2, ServingMetrics(), slots=lambda: 1)
        first = await queue.take_turn()
        quitter = asyncio.create_task(queue.take_turn())
        patient = asyncio.create_task(queue.take_turn())
        await asyncio.sleep(0)
        quitter.cancel()
        await asyncio.sleep(0)

        first.release()
        await asyncio.wait_for(patient, timeout=1)
        assert (queue.running, queue.waiting) == (1, 0)

    asyncio.run(scenario())
