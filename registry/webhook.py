"""Authenticate MLflow webhook deliveries: HMAC signature, age and replay.

MLflow 3 signs each delivery with HMAC-SHA256 over
``"<delivery id>.<unix timestamp>.<raw body>"`` using the webhook's secret,
and sends ``v1,<base64 digest>`` in ``X-MLflow-Signature`` beside the
``X-MLflow-Timestamp`` and ``X-MLflow-Delivery-Id`` headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping

from registry.errors import SignatureError

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"


def sign(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The ``X-MLflow-Signature`` value MLflow sends for this delivery."""
    content = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


class DeliveryVerifier:
    """Accepts each correctly signed, recent delivery once.

    A delivery id is remembered only after it was handled (``remember``), so
    MLflow's retry of a delivery that failed on our side is still accepted.
    """

    def __init__(
        self,
        secret: str,
        max_skew_s: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._max_skew_s = max_skew_s
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def verify(self, headers: Mapping[str, str], body: bytes) -> str:
        """Return the delivery id, or raise :class:`SignatureError` saying why."""
        signature = headers.get(SIGNATURE_HEADER)
        timestamp = headers.get(TIMESTAMP_HEADER)
        delivery_id = headers.get(DELIVERY_HEADER)
        if not (signature and timestamp and delivery_id):
            raise SignatureError("signature, timestamp or delivery id header missing")

        expected = sign(self._secret, delivery_id, timestamp, body)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise SignatureError("signature does not match the body")
        self._check_age(timestamp)
        with self._lock:
            if delivery_id in self._seen:
                raise SignatureError(f"delivery {delivery_id} was already handled")
        return delivery_id

    def remember(self, delivery_id: str) -> None:
        """Refuse this delivery id from now on; forget ids past the window."""
        now = self._clock()
        with self._lock:
            self._seen[delivery_id] = now
            horizon = now - 2 * self._max_skew_s
            for old in [key for key, at in self._seen.items() if at < horizon]:
                del self._seen[old]

    def _check_age(self, timestamp: str) -> None:
        try:
            sent = int(timestamp)
        except ValueError as exc:
            raise SignatureError("timestamp is not a unix time") from exc
        if abs(self._clock() - sent) > self._max_skew_s:
            raise SignatureError(f"timestamp is more than {self._max_skew_s}s from now")
