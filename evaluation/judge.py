"""Optional judge metrics: ragas faithfulness and factual correctness.

A judge is an instruction-following language model behind an OpenAI-compatible
server that accepts ``response_format`` ``json_object`` (llama.cpp's
llama-server, a hosted API). It is never required. Without a judge endpoint
nothing in this module runs: no client is made, no server is contacted, and
the record says the metrics were not computed. Nothing is downloaded either
way; the judge is whatever the server already serves.

With a judge, each answer gets two metrics of ``ragas.metrics.collections``:

- ``faithfulness``: the share of the answer's statements that the judge finds
  supported by the case's context and its reference answer;
- ``factual_correctness``: the F1 of the claims of the answer and of the
  reference, each checked against the other.

The judge samples at temperature 0, with at most ``concurrency`` requests in
flight. Judgements are cached by judge model, sampling settings, ragas version
and the texts judged, but not by the judge's address: the same model served
elsewhere reuses them. A judge that cannot be reached or does not answer in
the JSON ragas asks for stops the run with :class:`JudgeError`.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from evaluation.cache import JudgementCache
from evaluation.endpoint import api_root
from evaluation.errors import JudgeError
from evaluation.golden import GoldenCase
from yonca.hashing import sha256_text

API_KEY_ENV = "YONCA_JUDGE_API_KEY"
JUDGE_METRICS = ("faithfulness", "factual_correctness")
TEMPERATURE = 0.0
NOT_CONFIGURED = (
    "no judge endpoint was configured (--judge-endpoint or "
    "evaluation.judge.endpoint in params.yaml)"
)


def _api_key_from_env() -> str | None:
    return os.environ.get(API_KEY_ENV) or None


@dataclass(frozen=True)
class JudgeSettings:
    """Where the judge runs and how hard it may be pushed.

    ``model`` defaults to the first model the server lists. The API key, for
    servers that want one, comes from ``YONCA_JUDGE_API_KEY``.
    """

    endpoint: str
    model: str | None = None
    concurrency: int = 4
    max_tokens: int = 1024
    timeout: float = 120.0
    api_key: str | None = field(default_factory=_api_key_from_env, repr=False)

    def __post_init__(self) -> None:
        sizes = (self.concurrency, self.max_tokens, self.timeout)
        if not self.endpoint or min(sizes) <= 0:
            raise ValueError(
                f"{self!r}: a judge needs an endpoint and a positive concurrency, "
                "max_tokens and timeout; fix evaluation.judge in params.yaml."
            )


@dataclass(frozen=True)
class Judgement:
    """The judge metrics of one answer; None where there was nothing to judge."""

    faithfulness: float | None
    factual_correctness: float | None


@dataclass(frozen=True)
class JudgedAnswers:
    """Judgements in golden-set order and how the judgement cache served them."""

    judgements: list[Judgement]
    cache_hits: int
    seconds: float


def judge_contexts(case: GoldenCase) -> list[str]:
    """What an answer may rest on: the case's context, then its reference."""
    return [case.context, case.reference] if case.context else [case.reference]


def not_computed_section() -> dict[str, Any]:
    """The record's ``judge`` section for a run without a judge."""
    return {"computed": False, "reason": NOT_CONFIGURED}


def open_judge(settings: JudgeSettings | None, weight: float) -> Judge | None:
    """The judge of ``settings``, checked to answer now; None without settings.

    ``weight`` is the share of the score the weights give the judge metrics;
    it must be 0 when there is no judge.
    """
    if settings is None and weight:
        raise JudgeError(
            f"the score weights give the judge metrics {weight:g}, but no judge "
            "endpoint is configured; set evaluation.judge.endpoint (or "
            "--judge-endpoint), or set the faithfulness and factual_correctness "
            "weights to 0."
        )
    return Judge(settings) if settings is not None else None


class Judge:
    """A judge endpoint, checked to answer ``GET /v1/models`` when made."""

    def __init__(self, settings: JudgeSettings) -> None:
        # ragas reports every LLM call to its vendor unless told not to; the
        # texts judged go to the judge endpoint and nowhere else.
        from yonca.privacy import disable_telemetry

        disable_telemetry()
        self.settings = settings
        self.url = _usable_url(api_root(settings.endpoint))
        self.model = settings.model or self._listed_models()[0]

    def section(self, judged: JudgedAnswers) -> dict[str, Any]:
        """The record's ``judge`` section: who judged, how, and at what cost."""
        pending = len(judged.judgements) - judged.cache_hits
        return {
            "computed": True,
            "endpoint": self.url,
            "model": self.model,
            "metrics": list(JUDGE_METRICS),
            "temperature": TEMPERATURE,
            "max_tokens": self.settings.max_tokens,
            "concurrency": self.settings.concurrency,
            "ragas": metadata.version("ragas"),
            "cache": {"hits": judged.cache_hits, "misses": pending},
            "seconds": round(judged.seconds, 3),
        }

    def judge(
        self,
        answered: Sequence[tuple[GoldenCase, str]],
        cache_dir: Path | None = None,
        progress: bool = True,
    ) -> JudgedAnswers:
        """Judge each ``(case, answer)``, asking the judge only what is not cached.

        With ``cache_dir``, each judgement is cached as soon as it is made, so
        a run stopped by a failing judge keeps what was judged before.
        """
        cache = JudgementCache(cache_dir) if cache_dir else None
        try:
            return self._judge(answered, cache, progress)
        finally:
            if cache is not None:
                cache.close()

    def _judge(
        self,
        answered: Sequence[tuple[GoldenCase, str]],
        cache: JudgementCache | None,
        progress: bool,
    ) -> JudgedAnswers:
        started = time.perf_counter()
        keys = [self._key(case, answer) for case, answer in answered]
        found = [_cached(cache, key) for key in keys]
        pending = [index for index, judgement in enumerate(found) if judgement is None]

        if pending:
            from evaluation.generation import progress_bar

            bar = progress_bar(len(pending), progress, "judging")

            def keep(index: int, judgement: Judgement) -> None:
                found[index] = judgement
                if cache is not None:
                    cache.put(keys[index], asdict(judgement))
                bar.update(1)

            try:
                self._run(self._judge_pending(answered, pending, keep))
            finally:
                bar.close()

        return JudgedAnswers(
            judgements=[judgement for judgement in found if judgement is not None],
            cache_hits=len(answered) - len(pending),
            seconds=time.perf_counter() - started,
        )

    def _key(self, case: GoldenCase, answer: str) -> str:
        parts = {
            "model": self.model,
            "temperature": TEMPERATURE,
            "max_tokens": self.settings.max_tokens,
            "ragas": metadata.version("ragas"),
            "question": case.question,
            "answer": answer,
            "contexts": judge_contexts(case),
            "reference": case.reference,
        }
        return sha256_text(json.dumps(parts, ensure_ascii=False, sort_keys=True))

    def _listed_models(self) -> list[str]:
        from openai import OpenAI, OpenAIError

        client = OpenAI(
            base_url=f"{self.url}/v1",
            api_key=self._api_key(),
            timeout=min(self.settings.timeout, 30.0),
            max_retries=0,
        )
        try:
            listed = [str(model.id) for model in client.models.list().data]
        except (OpenAIError, ValueError, TypeError, AttributeError) as exc:
            raise self._failure("GET /v1/models", exc) from exc
        finally:
            client.close()
        if not listed:
            raise JudgeError(
                f"judge endpoint {self.url}: GET /v1/models lists no model; load "
                "one in the judge server or name it with --judge-model."
            )
        return listed

    def _run(self, judging) -> None:
        from instructor.core import InstructorError
        from openai import OpenAIError
        from pydantic import ValidationError

        try:
            asyncio.run(judging)
        except (OpenAIError, InstructorError, ValidationError, ValueError) as exc:
            raise self._failure("POST /v1/chat/completions", exc) from exc

    async def _judge_pending(
        self,
        answered: Sequence[tuple[GoldenCase, str]],
        pending: list[int],
        keep: Callable[[int, Judgement], None],
    ) -> None:
        from openai import AsyncOpenAI
        from ragas.llms import llm_factory
        from ragas.metrics.collections import FactualCorrectness, Faithfulness

        client = AsyncOpenAI(
            base_url=f"{self.url}/v1",
            api_key=self._api_key(),
            timeout=self.settings.timeout,
            max_retries=1,
        )
        llm = llm_factory(
            self.model,
            client=client,
            temperature=TEMPERATURE,
            max_tokens=self.settings.max_tokens,
        )
        metrics = _Metrics(
            faithfulness=Faithfulness(llm=llm),
            factual_correctness=FactualCorrectness(llm=llm),
            slots=asyncio.Semaphore(self.settings.concurrency),
        )

        async def judge_one(index: int) -> None:
            case, answer = answered[index]
            keep(index, await metrics.judge(case, answer))

        failure: Exception | None = None
        try:
            async with asyncio.TaskGroup() as group:
                for index in pending:
                    group.create_task(judge_one(index))
        except ExceptionGroup as failed:
            # The first failure says what is wrong; the rest were cancelled.
            failure = failed.exceptions[0]
        finally:
            await client.close()
        if failure is not None:
            # Raised outside the handler, so its own cause chain stays intact.
            raise failure

    def _api_key(self) -> str:
        # The OpenAI client insists on a key; local servers ignore it.
        return self.settings.api_key or "no-key"

    def _failure(self, request: str, exc: Exception) -> JudgeError:
        """Translate an openai, instructor or ragas error into a JudgeError."""
        import openai

        cause = _root_cause(exc, (openai.APIConnectionError, openai.APIStatusError))
        where = f"judge endpoint {self.url}: {request}"
        if isinstance(cause, openai.APIConnectionError):
            return JudgeError(
                f"{where} failed ({cause.__class__.__name__}); start the judge "
                "server or correct --judge-endpoint (evaluation.judge.endpoint). "
                "Judge metrics are optional: leaving the judge out also works."
            )
        if isinstance(cause, openai.APIStatusError):
            return JudgeError(
                f"{where} answered HTTP {cause.status_code}{_said(cause.body)}; "
                "check the judge server's log, the judge model name "
                f"(--judge-model), {API_KEY_ENV} if the server wants a key, and "
                "that it accepts response_format json_object."
            )
        return JudgeError(
            f"{where}: the answer is not the JSON ragas asks for "
            f"({_reason(exc)}); use a judge model that follows instructions "
            "and writes JSON, or leave the judge out."
        )


@dataclass(frozen=True)
class _Metrics:
    """The two ragas metrics sharing one judge and one limit on requests."""

    faithfulness: Any
    factual_correctness: Any
    slots: asyncio.Semaphore

    async def judge(self, case: GoldenCase, answer: str) -> Judgement:
        # ragas refuses an empty response; an answer that says nothing states
        # nothing unfaithful, and none of the reference's claims.
        if not answer.strip():
            return Judgement(faithfulness=None, factual_correctness=0.0)

        # Each metric asks the judge one request at a time, so holding a slot
        # per metric keeps at most ``concurrency`` requests in flight.
        async with self.slots:
            faithful = await self.faithfulness.ascore(
                user_input=case.question,
                response=answer,
                retrieved_contexts=judge_contexts(case),
            )
        async with self.slots:
            correct = await self.factual_correctness.ascore(
                response=answer, reference=case.reference
            )
        return Judgement(
            faithfulness=_unit(faithful.value),
            factual_correctness=_unit(correct.value),
        )


def _cached(cache: JudgementCache | None, key: str) -> Judgement | None:
    stored = cache.get(key) if cache is not None else None
    return Judgement(**stored) if stored is not None else None


def _unit(value: float | None) -> float | None:
    """A metric value in [0, 1], or None where ragas found nothing to score."""
    if value is None or math.isnan(value):
        return None
    return round(min(1.0, max(0.0, float(value))), 6)


def _root_cause(exc: BaseException, wanted: tuple[type, ...]) -> BaseException:
    """The first exception of a ``wanted`` type along the cause chain, else exc."""
    seen: BaseException | None = exc
    for _ in range(32):  # chains are short; the bound guards against a loop
        if seen is None or isinstance(seen, wanted):
            break
        seen = seen.__cause__ or seen.__context__
    return seen if isinstance(seen, wanted) else exc


def _said(body: object) -> str:
    """The server's own error message, as `` (message)``, or nothing."""
    error = body.get("error", body) if isinstance(body, dict) else body
    message = error.get("message") if isinstance(error, dict) else error
    if not isinstance(message, str) or not message.strip():
        return ""
    return f" ({_short(message)})"


def _reason(exc: BaseException) -> str:
    """What went wrong at the bottom of the cause chain, in one short line."""
    from pydantic import ValidationError

    while exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, ValidationError) and exc.errors():
        line = f"{exc.title}: {exc.errors()[0]['msg']}"
    else:
        lines = str(exc).strip().splitlines()
        line = lines[0] if lines else exc.__class__.__name__
    return _short(line)


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _usable_url(url: str) -> str:
    """``url`` when it is an http(s) URL httpx can open, else JudgeError."""
    import httpx

    try:
        scheme = httpx.URL(url).scheme
    except httpx.InvalidURL as exc:
        raise JudgeError(f"judge endpoint {url}: not a usable URL ({exc}).") from exc
    if scheme not in ("http", "https"):
        raise JudgeError(
            f"judge endpoint {url}: not an http(s) URL; pass the judge server's "
            "root, such as http://127.0.0.1:8080"
        )
    return url
