"""Ask the candidate every golden case, reusing cached answers.

Cases are answered in golden-set order when run one at a time; a server may
be asked several at once, and the answers still come back in that order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from evaluation.backends import Backend, Generation
from evaluation.cache import GenerationCache
from evaluation.golden import GoldenCase
from evaluation.prompts import PromptTemplate
from evaluation.targets import Target

KeyOf = Callable[[GoldenCase], str]


@dataclass(frozen=True)
class Answer:
    """The candidate's answer to one case, and whether it came from the cache."""

    case: GoldenCase
    generation: Generation
    cached: bool


def answer_cases(
    cases: Sequence[GoldenCase],
    target: Target,
    template: PromptTemplate,
    *,
    cache: GenerationCache | None = None,
    key_of: KeyOf | None = None,
    progress: bool = True,
) -> list[Answer]:
    """The answer to each case, generating only those the cache lacks."""
    cached = _lookup(cases, cache, key_of)
    pending = [index for index, found in enumerate(cached) if found is None]
    generated: dict[int, Generation] = {}
    if pending:
        backend = target.open_backend()
        ask = _asker(backend, template, target.use_chat)
        bar = progress_bar(len(pending), progress, "generating")
        for index, generation in _generate(cases, pending, ask, target.concurrency):
            generated[index] = generation
            if cache is not None and key_of is not None:
                cache.put(key_of(cases[index]), generation)
            bar.update(1)
        bar.close()

    return [
        Answer(case, found, cached=True)
        if found is not None
        else Answer(case, generated[index], cached=False)
        for index, (case, found) in enumerate(zip(cases, cached, strict=True))
    ]


def _lookup(
    cases: Sequence[GoldenCase],
    cache: GenerationCache | None,
    key_of: KeyOf | None,
) -> list[Generation | None]:
    if cache is None or key_of is None:
        return [None] * len(cases)
    return [cache.get(key_of(case)) for case in cases]


def _asker(
    backend: Backend, template: PromptTemplate, use_chat: bool
) -> Callable[[GoldenCase], Generation]:
    if use_chat:
        return lambda case: backend.chat(template.messages(case))
    return lambda case: backend.complete(
        template.completion_prompt(case), template.completion_stop
    )


def _generate(
    cases: Sequence[GoldenCase],
    pending: list[int],
    ask: Callable[[GoldenCase], Generation],
    concurrency: int,
) -> Iterator[tuple[int, Generation]]:
    """Yield ``(index, answer)`` as answers arrive; in order when sequential."""
    if concurrency <= 1:
        for index in pending:
            yield index, ask(cases[index])
        return

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = {pool.submit(ask, cases[index]): index for index in pending}
        for future in as_completed(futures):
            yield futures[future], future.result()


class _NoBar:
    def update(self, count: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, enabled: bool, desc: str):
    """A tqdm bar over ``total`` cases, or one that shows nothing."""
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="case")
