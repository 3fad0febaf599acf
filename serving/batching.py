"""Continuous batching: several sequences decoded together in one llama context.

A llama.cpp context can hold one sequence per slot and decode a token for
each of them in a single pass over the weights, which costs little more than
decoding one. :class:`Batcher` owns such a context and one thread that runs
the passes; requests join and leave between passes, so a short answer never
waits for a long one. This is what llama-server does with ``--parallel``.

Each slot keeps the tokens its cache holds. A new request takes the free slot
whose tokens share the longest prefix with its prompt and evaluates only the
rest, so requests with the same system prompt skip most of the prompt.

The decoding thread is the only one that touches the context; requests talk
to it through their :class:`Sequence`: a queue of sampled tokens one way, a
cancel flag the other.
"""

from __future__ import annotations

import ctypes
import queue
import random
import threading
from collections import deque
from dataclasses import dataclass, field

import structlog

from serving.errors import InvalidRequestError, ModelLoadError

log = structlog.get_logger("serving")

# Sampler settings llama-cpp-python's Llama.generate uses unless told otherwise,
# so a batched answer is sampled as an unbatched one would be.
_TOP_K = 40
_MIN_P = 0.05
_TYPICAL_P = 1.0
_PENALTY_LAST_N = 64
# Tokens evaluated in one pass at most; longer prompts take several passes.
_BATCH_TOKENS = 512


class End:
    """The last item on a sequence's queue: why generation ended."""

    def __init__(self, reason: str, error: BaseException | None = None) -> None:
        self.reason = reason
        self.error = error


END_OF_TEXT = End("stop")
TOKEN_LIMIT = End("length")


@dataclass(eq=False)
class Sequence:
    """One request's generation: prompt in, sampled tokens out on ``tokens``."""

    prompt: list[int]
    max_tokens: int
    sampler: ctypes.c_void_p
    tokens: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    cancelled: bool = False
    generated: int = 0

    def cancel(self) -> None:
        """Stop decoding for this request after the pass under way."""
        self.cancelled = True


@dataclass(eq=False)
class _Slot:
    """A sequence id of the context and what its cache holds."""

    seq_id: int
    cached: list[int] = field(default_factory=list)
    sequence: Sequence | None = None
    # Tokens to evaluate before the next sample: the prompt's uncached part,
    # then each sampled token.
    pending: list[int] = field(default_factory=list)


class Batcher:
    """Decode up to ``parallel`` sequences together on one model.

    ``n_ctx`` is each sequence's context window. The context and its thread
    are freed by :meth:`close`; sequences still running then end with an error.
    """

    def __init__(self, model, *, n_ctx: int, parallel: int, n_threads: int) -> None:
        import llama_cpp

        self._lib = llama_cpp
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx * parallel
        params.n_seq_max = parallel
        params.kv_unified = False  # each sequence gets n_ctx of its own
        params.n_batch = params.n_ubatch = _BATCH_TOKENS
        params.n_threads = params.n_threads_batch = n_threads
        params.no_perf = True
        self._ctx = llama_cpp.llama_init_from_model(model, params)
        if not self._ctx:
            raise ModelLoadError(
                f"llama.cpp could not make a context for {parallel} sequences of "
                f"{n_ctx} tokens; lower LLAMA_N_PARALLEL or LLM_CONTEXT_SIZE"
            )
        self._vocab = llama_cpp.llama_model_get_vocab(model)
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(_BATCH_TOKENS, 0, 1)
        self._slots = [_Slot(seq_id) for seq_id in range(parallel)]
        self._arrivals: deque[Sequence] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(
            target=self._run, name="llama-batch", daemon=True
        )
        self._thread.start()

    # Called from request threads.

    def submit(
        self,
        prompt: list[int],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        seed: int | None,
        presence_penalty: float,
        frequency_penalty: float,
        grammar: str | None,
    ) -> Sequence:
        """Queue a generation; its tokens arrive on the returned sequence."""
        if not prompt:
            raise InvalidRequestError(
                "the prompt is empty; send some text to continue", param="prompt"
            )
        sampler = self._sampler(
            temperature, top_p, seed, presence_penalty, frequency_penalty, grammar
        )
        sequence = Sequence(list(prompt), max_tokens, sampler)
        with self._wake:
            if self._closing:
                self._lib.llama_sampler_free(sampler)
                sequence.tokens.put(End("error", RuntimeError("engine closed")))
                return sequence
            self._arrivals.append(sequence)
            self._wake.notify()
        return sequence

    def close(self) -> None:
        """Stop the decoding thread and free the context."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join()
        for sequence in list(self._arrivals):
            self._finish(sequence, End("error", RuntimeError("engine closed")))
        self._arrivals.clear()
        self._lib.llama_batch_free(self._batch)
        self._lib.llama_free(self._ctx)

    def _sampler(self, temperature, top_p, seed, presence, frequency, grammar):
        lib = self._lib
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        n_vocab = lib.llama_vocab_n_tokens(self._vocab)
        lib.llama_sampler_chain_add(
            chain,
            lib.llama_sampler_init_penalties(
                n_vocab, _PENALTY_LAST_N, 1.0, frequency, presence
            ),
        )
        if grammar is not None:
            constraint = lib.llama_sampler_init_grammar(
                self._vocab, grammar.encode("utf-8"), b"root"
            )
            if not constraint:
                lib.llama_sampler_free(chain)
                raise InvalidRequestError(
                    "llama.cpp cannot follow the grammar made from this "
                    "response_format; simplify the schema",
                    param="response_format",
                )
            lib.llama_sampler_chain_add(chain, constraint)
        if temperature == 0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
            return chain
        for stage in (
            lib.llama_sampler_init_top_k(_TOP_K),
            lib.llama_sampler_init_typical(_TYPICAL_P, 1),
            lib.llama_sampler_init_top_p(top_p, 1),
            lib.llama_sampler_init_min_p(_MIN_P, 1),
            lib.llama_sampler_init_temp(temperature),
            lib.llama_sampler_init_dist(
                random.getrandbits(32) if seed is None else seed & 0xFFFFFFFF
            ),
        ):
            lib.llama_sampler_chain_add(chain, stage)
        return chain

    # The decoding thread.

    def _run(self) -> None:
        while True:
            with self._wake:
                while not (self._closing or self._arrivals or self._busy()):
                    self._wake.wait()
                if self._closing:
                    break
                arrivals = list(self._arrivals)
                self._arrivals.clear()
            self._seat(arrivals)
            self._drop_cancelled()
            try:
                self._step()
            except Exception as exc:  # a failed pass ends its sequences, not us
                log.error("generation.batch_failed", error=repr(exc))
                for slot in self._slots:
                    # What the failed pass left in the cache is unknown.
                    self._lib.llama_memory_seq_rm(self._memory, slot.seq_id, 0, -1)
                    slot.cached = []
                    if slot.sequence is not None:
                        self._release(slot, End("error", exc))
        for slot in self._slots:
            if slot.sequence is not None:
                self._release(slot, End("error", RuntimeError("engine closed")))

    def _busy(self) -> bool:
        return any(slot.sequence is not None for slot in self._slots)

    def _seat(self, arrivals: list[Sequence]) -> None:
        """Give arrivals free slots, the one caching most of the prompt first."""
        waiting = []
        for sequence in arrivals:
            if sequence.cancelled:
                self._finish(sequence, TOKEN_LIMIT)
                continue
            free = [slot for slot in self._slots if slot.sequence is None]
            if not free:
                waiting.append(sequence)
                continue
            prompt = sequence.prompt
            slot = max(free, key=lambda s: _shared_prefix(s.cached, prompt))
            # At least one prompt token is evaluated: its logits start sampling.
            keep = min(_shared_prefix(slot.cached, prompt), len(prompt) - 1)
            if not self._lib.llama_memory_seq_rm(self._memory, slot.seq_id, keep, -1):
                # Some caches (recurrent models) cannot drop a tail: start over.
                self._lib.llama_memory_seq_rm(self._memory, slot.seq_id, 0, -1)
                keep = 0
            slot.cached = slot.cached[:keep]
            slot.pending = sequence.prompt[keep:]
            slot.sequence = sequence
        if waiting:
            with self._wake:
                self._arrivals.extendleft(reversed(waiting))

    def _drop_cancelled(self) -> None:
        for slot in self._slots:
            if slot.sequence is not None and slot.sequence.cancelled:
                self._release(slot, TOKEN_LIMIT)

    def _step(self) -> None:
        """One pass: a token for every decoding sequence, prompts in what is left."""
        batch = self._batch
        samples: list[tuple[int, _Slot]] = []
        count = 0
        decoding = [s for s in self._slots if s.sequence and s.sequence.generated]
        prompting = [s for s in self._slots if s.sequence and not s.sequence.generated]
        for slot in decoding + prompting:
            room = _BATCH_TOKENS - count
            if room <= 0:
                break
            chunk = slot.pending[:room]
            for token in chunk:
                batch.token[count] = token
                batch.pos[count] = len(slot.cached)
                batch.n_seq_id[count] = 1
                batch.seq_id[count][0] = slot.seq_id
                batch.logits[count] = False
                slot.cached.append(token)
                count += 1
            slot.pending = slot.pending[len(chunk) :]
            if not slot.pending:
                batch.logits[count - 1] = True
                samples.append((count - 1, slot))
        if not count:
            return
        batch.n_tokens = count
        status = self._lib.llama_decode(self._ctx, batch)
        if status != 0:
            raise RuntimeError(f"llama_decode returned {status}")
        for index, slot in samples:
            self._sample(slot, index)

    def _sample(self, slot: _Slot, index: int) -> None:
        sequence = slot.sequence
        token = self._lib.llama_sampler_sample(sequence.sampler, self._ctx, index)
        if self._lib.llama_vocab_is_eog(self._vocab, token):
            self._release(slot, END_OF_TEXT)
            return
        sequence.generated += 1
        sequence.tokens.put(token)
        if sequence.generated >= sequence.max_tokens:
            self._release(slot, TOKEN_LIMIT)
        else:
            slot.pending = [token]

    def _release(self, slot: _Slot, end: End) -> None:
        sequence, slot.sequence, slot.pending = slot.sequence, None, []
        self._finish(sequence, end)

    def _finish(self, sequence: Sequence, end: End) -> None:
        sequence.tokens.put(end)
        self._lib.llama_sampler_free(sequence.sampler)
        sequence.sampler = None


def _shared_prefix(a: list[int], b: list[int]) -> int:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length
