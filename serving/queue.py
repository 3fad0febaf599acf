"""The bounded queue in front of the model: as many generations as it has slots.

Both engines decode one sequence per slot at once (LLAMA_N_PARALLEL slots in
process, llama-server's own slots otherwise), so the queue admits that many
requests together and the rest take turns. At most ``max_waiting`` requests may wait
for a place; the next one is turned away at once with a ``Retry-After``
estimate instead of piling up latency. A request whose client hangs up while
it waits leaves the line at once, so its place goes to the next live client.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

from serving.disconnect import until_disconnected
from serving.errors import QueueFullError
from serving.metrics import ServingMetrics

# Weight of the newest generation in the running mean of generation time.
_SMOOTHING = 0.2


class Turn:
    """One request's place at the model; release it exactly once when done."""

    def __init__(self, queue: GenerationQueue) -> None:
        self._queue = queue
        self._started = time.perf_counter()
        self._released = False

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._queue._finish(time.perf_counter() - self._started)


class GenerationQueue:
    """Up to ``slots()`` generations at once, then a counted, bounded waiting line.

    ``slots`` is asked on every admission, so a model swapped in with more or
    fewer slots takes effect without rebuilding the queue. Places are handed
    out in arrival order. Every method runs on the event loop.
    """

    def __init__(
        self,
        max_waiting: int,
        metrics: ServingMetrics,
        slots: Callable[[], int] = lambda: 1,
    ) -> None:
        self.max_waiting = max_waiting
        self.metrics = metrics
        self.running = 0
        self._slots = slots
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._mean_seconds = 1.0

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def take_turn(
        self, disconnected: Callable[[], Awaitable[bool]] | None = None
    ) -> Turn | None:
        """Wait for a place; raise QueueFullError when the line is full.

        While the request waits, ``disconnected`` is asked whether its client
        has gone; if so it leaves the line and gets None instead of a turn.
        """
        self._admit_waiting()  # the model may have gained slots since
        if not self._waiters and self.running < self._capacity():
            self.running += 1
            return Turn(self)
        if self.waiting >= self.max_waiting:
            raise QueueFullError(
                f"the model is busy and {self.waiting} requests are already "
                "waiting; retry after the time in the Retry-After header",
                retry_after=self.retry_after(),
            )

        place = asyncio.get_running_loop().create_future()
        self._waiters.append(place)
        self._publish_depth()
        return await self._wait_in_line(place, disconnected)

    def retry_after(self) -> int:
        """Seconds until a place is likely to free up, at least one."""
        turns_ahead = (self.waiting + 1) / self._capacity()
        return max(1, math.ceil(self._mean_seconds * turns_ahead))

    async def _wait_in_line(
        self,
        place: asyncio.Future[None],
        disconnected: Callable[[], Awaitable[bool]] | None,
    ) -> Turn | None:
        try:
            client_left = await _client_leaves_first(place, disconnected)
        except BaseException:  # cancelled, or the disconnect check failed
            self._give_up(place)
            raise
        if client_left:
            self._give_up(place)
            return None
        return Turn(self)  # _admit_waiting has published the shorter line

    def _capacity(self) -> int:
        return max(1, self._slots())

    def _admit_waiting(self) -> None:
        while self._waiters and self.running < self._capacity():
            place = self._waiters.popleft()
            if not place.done():
                self.running += 1
                place.set_result(None)
        self._publish_depth()

    def _give_up(self, place: asyncio.Future[None]) -> None:
        place.cancel()  # no effect on a place already handed over
        if place.cancelled():
            # Gave up while waiting: leave the line.
            if place in self._waiters:
                self._waiters.remove(place)
            self._publish_depth()
            return
        # Gave up just after being admitted: pass the place on.
        self.running -= 1
        self._admit_waiting()

    def _finish(self, seconds: float) -> None:
        self._mean_seconds += _SMOOTHING * (seconds - self._mean_seconds)
        self.running -= 1
        self._admit_waiting()

    def _publish_depth(self) -> None:
        self.metrics.queue_depth.set(self.waiting)


async def _client_leaves_first(
    place: asyncio.Future[None], disconnected: Callable[[], Awaitable[bool]] | None
) -> bool:
    """Wait for ``place``; True as soon as the client is found gone instead.

    A client found gone just as its place comes leaves all the same, so that
    no generation starts for a client that is not there to read it.
    """
    if disconnected is None:
        await place
        return False

    watcher = asyncio.create_task(until_disconnected(disconnected))
    try:
        done, _ = await asyncio.wait(
            (place, watcher), return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        watcher.cancel()
    return watcher in done and watcher.result()
