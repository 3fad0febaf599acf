"""Refuse request bodies larger than MAX_REQUEST_BYTES before anyone reads them.

A chat request never needs more than a few context windows of text; a larger
body is a client mistake or an attack, and answering it would only tie up
memory and the tokenizer.
"""

from __future__ import annotations

import json


class BodySizeLimit:
    """Plain ASGI middleware answering 413 for bodies over ``max_bytes``."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_length(scope) > self.max_bytes:
            await self._refuse(send)
            return

        received = 0
        too_large = False

        async def counting_receive():
            # Past the limit the app is told the body has ended, and whatever
            # it answers is replaced by the 413 below.
            nonlocal received, too_large
            if too_large:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                too_large = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message) -> None:
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._refuse(send)

        await self.app(scope, counting_receive, guarded_send)

    @staticmethod
    def _declared_length(scope) -> int:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0

    async def _refuse(self, send) -> None:
        body = json.dumps(
            {
                "error": {
                    "message": (
                        f"request body is larger than {self.max_bytes} bytes; "
                        "send a shorter prompt or raise MAX_REQUEST_BYTES."
                    ),
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "request_too_large",
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
