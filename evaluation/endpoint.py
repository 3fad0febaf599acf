"""Evaluate a model served behind an OpenAI-compatible HTTP API.

Works with the platform's own serving API and with llama.cpp's llama-server:
both answer ``GET /v1/models`` and ``POST /v1/chat/completions``. The server
applies its model's chat template, so the runner always sends chat messages.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from evaluation.backends import Generation, GenerationParams
from evaluation.errors import EndpointError, GenerationError


def api_root(url: str) -> str:
    """The server root of ``url``, accepting it with or without ``/v1``."""
    return url.rstrip("/").removesuffix("/v1")


class OpenAIEndpointBackend:
    """Sends each case to a server; thread-safe, so cases may run concurrently."""

    def __init__(
        self,
        url: str,
        params: GenerationParams,
        *,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 300.0,
    ) -> None:
        self.url = api_root(url)
        self.params = params
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        try:
            self._client = httpx.Client(
                base_url=self.url, headers=headers, timeout=timeout
            )
        except httpx.InvalidURL as exc:
            raise EndpointError(
                f"{url}: not a usable URL ({exc}); pass the server's root, such "
                "as http://127.0.0.1:8080"
            ) from exc
        self.model = model or self._served_model()

    def _served_model(self) -> str:
        try:
            response = self._client.get("/v1/models")
            response.raise_for_status()
            return str(response.json()["data"][0]["id"])
        except httpx.HTTPError as exc:
            raise EndpointError(
                f"{self.url}: GET /v1/models failed ({exc}); check that the server "
                "is running and that --endpoint points at its root."
            ) from exc
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise EndpointError(
                f"{self.url}: /v1/models did not list a model; the server is not "
                "OpenAI-compatible or has no model loaded."
            ) from exc

    def chat(self, messages: list[dict[str, str]]) -> Generation:
        """Answer chat messages with ``POST /v1/chat/completions``."""
        body = {"messages": messages, **self._sampling()}
        return self._post(
            "/v1/chat/completions",
            body,
            lambda data: data["choices"][0]["message"]["content"] or "",
        )

    def complete(self, prompt: str, stop: tuple[str, ...] = ()) -> Generation:
        """Continue a plain prompt with ``POST /v1/completions``."""
        body = {"prompt": prompt, "stop": list(stop), **self._sampling()}
        return self._post(
            "/v1/completions", body, lambda data: data["choices"][0]["text"]
        )

    def close(self) -> None:
        self._client.close()

    def _sampling(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "max_tokens": self.params.max_tokens,
            "temperature": self.params.temperature,
            "seed": self.params.seed,
        }

    def _post(self, path: str, body: dict[str, Any], extract) -> Generation:
        started = time.perf_counter()
        try:
            response = self._client.post(path, json=body)
            response.raise_for_status()
            data = response.json()
            text = extract(data)
            usage = data.get("usage") or {}
            completion_tokens = int(usage.get("completion_tokens") or 0)
            text = text.strip()
        except httpx.HTTPStatusError as exc:
            raise GenerationError(
                f"{self.url}{path} answered HTTP {exc.response.status_code}; "
                "see the server's log for the cause."
            ) from exc
        except httpx.HTTPError as exc:
            raise GenerationError(
                f"{self.url}{path} failed ({exc}); check the server and retry."
            ) from exc
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise GenerationError(
                f"{self.url}{path} returned no usable choice (answer text and "
                "token usage); the server is not OpenAI-compatible."
            ) from exc

        return Generation(
            text=text,
            completion_tokens=completion_tokens,
            seconds=time.perf_counter() - started,
        )
