"""Past the bounded queue a client is told to come back later, not kept waiting;
a client that leaves the line gives its place to the next.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from urllib.parse import urlsplit

import httpx
import pytest

from serving.errors import QueueFullError
from serving.metrics import ServingMetrics
from serving.model_manager import ModelManager
from serving.queue import GenerationQueue
from tests.serving.conftest import MODEL, make_settings, wait_until_settled
from tests.support.servers import wait_until

BODY = {"model": MODEL, "messages": [{"role": "user", "content": "salam"}]}


class HeldModel:
    """The served model, made to hold each generation until released.

    ``prompts`` records every generation the model was asked for.
    """

    def __init__(self, manager: ModelManager) -> None:
        self.started, self.release = threading.Event(), threading.Event()
        self.prompts: list = []
        engine = manager.current.engine
        original = engine.stream

        def held(prompt, sampling):
            self.prompts.append(prompt)
            self.started.set()
            self.release.wait(timeout=30)
            yield from original(prompt, sampling)

        engine.stream = held


def _one_slot_server(registry, tiny_ggufs, serve, settings, waiting: int):
    """A server with one generation slot and room for ``waiting`` in line."""
    registry.promote(registry.register(tiny_ggufs[0]))
    one_slot = make_settings(
        registry.tracking_uri,
        settings.model_cache_dir,
        max_queued_requests=waiting,
        llama_n_parallel=1,
    )
    manager = ModelManager(one_slot)
    base_url = serve(one_slot, manager)
    assert wait_until_settled(base_url).status_code == 200
    return base_url, HeldModel(manager)


def test_request_past_the_queue_gets_429_with_retry_after(
    registry, tiny_ggufs, serve, settings
):
    base_url, model = _one_slot_server(registry, tiny_ggufs, serve, settings, 0)
    first: list[httpx.Response] = []
    url = f"{base_url}/v1/chat/completions"
    holder = threading.Thread(
        target=lambda: first.append(httpx.post(url, json=BODY, timeout=30))
    )
    holder.start()
    assert model.started.wait(timeout=10)

    turned_away = httpx.post(url, json=BODY, timeout=10)
    model.release.set()
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


def _metric(base_url: str, sample: str) -> float:
    """The value of one sample in /metrics, 0 when it has not been recorded."""
    for line in httpx.get(f"{base_url}/metrics", timeout=10).text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    return 0.0


def _join_the_line(base_url: str, body: dict) -> socket.socket:
    """Send a chat request on a raw connection, so the test decides when to leave."""
    address = urlsplit(base_url)
    payload = json.dumps(body).encode()
    connection = socket.create_connection((address.hostname, address.port))
    connection.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\n"
        + f"Host: {address.netloc}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    return connection


DEPTH = "yonca_queue_depth"
LEFT = 'yonca_http_requests_total{route="/v1/chat/completions",status="499"}'
TOKENS = "yonca_generated_tokens_total"


def _ask_in_background(url: str, answers: dict, who: str) -> threading.Thread:
    """Post a chat request from a thread; its response lands in ``answers[who]``."""

    def post() -> None:
        answers[who] = httpx.post(url, json=BODY, timeout=30)

    thread = threading.Thread(target=post)
    thread.start()
    return thread


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_client_that_leaves_the_line_frees_its_place_and_gets_nothing_generated(
    registry, tiny_ggufs, serve, settings, stream
):
    base_url, model = _one_slot_server(registry, tiny_ggufs, serve, settings, 1)
    url = f"{base_url}/v1/chat/completions"
    answers: dict[str, httpx.Response] = {}
    holder = _ask_in_background(url, answers, "holder")
    assert model.started.wait(timeout=10)
    quitter = _join_the_line(base_url, {**BODY, "stream": stream})
    wait_until(lambda: _metric(base_url, DEPTH) == 1, 10, "the quitter to wait")

    quitter.close()
    wait_until(lambda: _metric(base_url, DEPTH) == 0, 10, "the quitter to leave")
    newcomer = _ask_in_background(url, answers, "newcomer")
    wait_until(
        lambda: _metric(base_url, DEPTH) == 1 or "newcomer" in answers,
        10,
        "the newcomer to join the line",
    )
    model.release.set()
    holder.join(timeout=30)
    newcomer.join(timeout=30)

    assert answers["holder"].status_code == 200
    assert answers["newcomer"].status_code == 200
    assert len(model.prompts) == 2, "the model generated for a client that left"
    generated = sum(
        answers[who].json()["usage"]["completion_tokens"]
        for who in ("holder", "newcomer")
    )
    assert _metric(base_url, TOKENS) == generated
    wait_until(lambda: _metric(base_url, LEFT) == 1, 10, "the quitter's 499")
