"""Noticing that a client has gone, for requests that send nothing meanwhile.

A request waiting for its turn, or for a whole answer, writes nothing to its
client, so a hang-up shows only when the server asks. Both ask at one pace.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

# Often enough that a slot or a waiting place is freed promptly, rarely enough
# to cost nothing next to decoding.
POLL_SECONDS = 0.25


async def until_disconnected(disconnected: Callable[[], Awaitable[bool]]) -> bool:
    """Return True once ``disconnected`` (Starlette's check) says the client left."""
    while not await disconnected():
        await asyncio.sleep(POLL_SECONDS)
    return True
