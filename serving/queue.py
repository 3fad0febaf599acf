"""The bounded queue in front of the model: one generation at a time.

A llama context decodes one sequence at a time, so requests take turns. At
most ``max_waiting`` may wait for their turn; the next one is turned away at
once with a ``Retry-After`` estimate instead of piling up latency.
"""

from __future__ import annotations

import asyncio
import math
import time

from serving.errors import QueueFullError
from serving.metrics import ServingMetrics

# Weight of the newest generation in the running mean of generation time.
_SMOOTHING = 0.2


class Turn:
    """One request's turn at the model; release it exactly once when done."""

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
    """An asyncio semaphore of one with a counted, bounded waiting line."""

    def __init__(self, max_waiting: int, metrics: ServingMetrics) -> None:
        self.max_waiting = max_waiting
        self.metrics = metrics
        self.waiting = 0
        self._slot = asyncio.Semaphore(1)
        self._mean_seconds = 1.0

    async def take_turn(self) -> Turn:
        """Wait for the model; raise QueueFullError when the line is full."""
        if self._slot.locked() and self.waiting >= self.max_waiting:
            raise QueueFullError(
                f"the model is busy and {self.waiting} requests are already "
                "waiting; retry after the time in the Retry-After header",
                retry_after=self.retry_after(),
            )

        self._set_waiting(self.waiting + 1)
        try:
            await self._slot.acquire()
        finally:
            self._set_waiting(self.waiting - 1)
        return Turn(self)

    def retry_after(self) -> int:
        """Seconds until a place is likely to free up, at least one."""
        return max(1, math.ceil(self._mean_seconds * (self.waiting + 1)))

    def _finish(self, seconds: float) -> None:
        self._mean_seconds += _SMOOTHING * (seconds - self._mean_seconds)
        self._slot.release()

    def _set_waiting(self, count: int) -> None:
        self.waiting = count
        self.metrics.queue_depth.set(count)
