"""The in-process inference engine: one GGUF loaded with llama-cpp-python.

Rendering and tokenizing run in the caller's thread. Decoding runs in the
batcher's own thread (serving/batching.py), which decodes as many generations
together as the engine has slots; the queue in front of the engine admits no
more than that.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from serving.batching import End
from serving.errors import InvalidRequestError, ModelLoadError, ServingError

log = structlog.get_logger("serving")


@dataclass(frozen=True)
class Prompt:
    """A prompt already tokenized, with the stop strings its template needs."""

    tokens: list[int]
    stop: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sampling:
    """Generation parameters, named as OpenAI and llama.cpp name them."""

    max_tokens: int
    temperature: float
    top_p: float = 0.95
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    # GBNF the answer must match (see serving.structured_output), or None.
    grammar: str | None = None


@dataclass(frozen=True)
class Piece:
    """A stretch of generated text; the last one carries the finish reason.

    ``completion_tokens`` counts the tokens generated so far, so a generation
    cut short still reports what it cost.
    """

    text: str
    finish_reason: str | None = None
    completion_tokens: int = 0


class LlamaEngine:
    """A GGUF loaded with llama-cpp-python, rendering and generating for the API.

    Generations run through a :class:`~serving.batching.Batcher`: up to
    ``parallel`` of them decode together in one llama context, each with a
    context window of ``n_ctx`` tokens.
    """

    # Why the loaded engine cannot answer now; an in-process model always can.
    problem: str | None = None

    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int,
        n_gpu_layers: int = 0,
        n_threads: int | None = None,
        parallel: int = 1,
    ) -> None:
        from llama_cpp import Llama

        from serving.batching import Batcher

        threads = n_threads or os.cpu_count() or 1
        try:
            # This context only backs tokenizing and the chat template; the
            # batcher's context does the decoding.
            self._llama = Llama(
                model_path=str(path),
                n_ctx=_TOKENIZER_CONTEXT,
                n_batch=_TOKENIZER_CONTEXT,
                n_gpu_layers=n_gpu_layers,
                n_threads=threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(
                f"llama.cpp could not load {path.name}; the file is not a GGUF "
                "this build supports"
            ) from exc
        _warn_past_training_context(self._llama, n_ctx, path)
        try:
            self._batcher = Batcher(
                self._llama.model, n_ctx=n_ctx, parallel=parallel, n_threads=threads
            )
        except BaseException:
            self._llama.close()
            raise
        self.slots = parallel
        self._n_ctx = n_ctx
        self._formatter = _chat_formatter(self._llama)

    @property
    def n_ctx(self) -> int:
        """Each generation's context window, prompt and answer together."""
        return self._n_ctx

    def chat_prompt(self, messages: list[dict[str, str]]) -> Prompt:
        """Render chat messages with the GGUF's own template and tokenize them."""
        try:
            rendered = self._formatter(messages=messages)
        except ValueError as exc:
            # Chat templates reject message orders they cannot render.
            raise InvalidRequestError(
                f"the model's chat template cannot render these messages: {exc}",
                param="messages",
            ) from exc
        except Exception as exc:  # jinja2 raises many types for a broken render
            raise InvalidRequestError(
                "the model's chat template cannot render these messages; check "
                "that roles alternate between user and assistant",
                param="messages",
            ) from exc

        tokens = self._llama.tokenize(
            rendered.prompt.encode("utf-8"),
            add_bos=not rendered.added_special,
            special=True,
        )
        stop = rendered.stop or []
        return Prompt(tokens, [stop] if isinstance(stop, str) else list(stop))

    def text_prompt(self, text: str) -> Prompt:
        """Tokenize a plain prompt for a text completion."""
        return Prompt(self._llama.tokenize(text.encode("utf-8"), add_bos=True))

    def stream(self, prompt: Prompt, sampling: Sampling) -> Iterator[Piece]:
        """Generate text piece by piece; closing the iterator stops generation.

        Tokens come from the batcher as they are sampled and are turned into
        text here, in the caller's thread, one token at a time.
        """
        from serving.batching import TOKEN_LIMIT

        sequence = self._batcher.submit(
            prompt.tokens,
            max_tokens=sampling.max_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            seed=sampling.seed,
            presence_penalty=sampling.presence_penalty,
            frequency_penalty=sampling.frequency_penalty,
            grammar=sampling.grammar,
        )
        text = _TextAssembler(prompt.stop + sampling.stop)
        generated, finish_reason = 0, "length"
        try:
            while not isinstance(token := sequence.tokens.get(), End):
                generated += 1
                piece, stopped = text.feed(self._llama.detokenize([token]))
                if piece:
                    yield Piece(piece, completion_tokens=generated)
                if stopped:
                    finish_reason = "stop"
                    break
            else:
                if token.error is not None:
                    raise ServingError("llama.cpp failed while generating") from (
                        token.error
                    )
                finish_reason = "length" if token is TOKEN_LIMIT else "stop"
        finally:
            sequence.cancel()
        yield Piece(text.flush(), finish_reason, generated)

    def close(self) -> None:
        """Free the model and its contexts now rather than at garbage collection."""
        self._batcher.close()
        self._llama.close()


def _warn_past_training_context(llama, n_ctx: int, path: Path) -> None:
    """Log when each generation's window is longer than the model was trained on.

    llama.cpp allows it (and RoPE scaling may make it work), but answers past
    the training context are often gibberish, so an operator should know.
    """
    import llama_cpp

    trained = llama_cpp.llama_model_n_ctx_train(llama.model)
    if n_ctx > trained:
        log.warning(
            "model.context_beyond_training",
            model=path.name,
            llm_context_size=n_ctx,
            n_ctx_train=trained,
        )


# Tokens of the context that llama-cpp-python's Llama makes for itself; it is
# never decoded in, so the smallest size llama.cpp accepts keeps it cheap.
_TOKENIZER_CONTEXT = 64


def _chat_formatter(llama):
    """The GGUF's own Jinja chat template, or a question/answer transcript."""
    from llama_cpp import llama_chat_format

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return format_transcript

    eos_id, bos_id = llama.token_eos(), llama.token_bos()
    return llama_chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=_token_text(llama, eos_id),
        bos_token=_token_text(llama, bos_id),
        stop_token_ids=[eos_id],
    )


# Roles as a base model (one without a chat template) reads them. The golden
# evaluation prompts such models with the same "Question:/Answer:" shape, so the
# served model sees the kind of prompt it was scored on. llama.cpp's llama-2
# fallback made the default base model answer with an immediate end of text.
_TRANSCRIPT_ROLES = {"user": "Question", "assistant": "Answer"}


def format_transcript(messages, **_ignored):
    """Render chat messages as plain text that ends where the answer begins."""
    from llama_cpp.llama_chat_format import ChatFormatterResponse

    lines = []
    for message in messages:
        content = message.get("content") or ""
        if not isinstance(content, str):
            content = " ".join(
                part.get("text", "") for part in content if isinstance(part, dict)
            )
        role = _TRANSCRIPT_ROLES.get(message.get("role", ""))
        lines.append(f"{role}: {content}" if role else content)
    prompt = "\n\n".join(lines) + "\nAnswer:"
    return ChatFormatterResponse(prompt=prompt, stop=["\nQuestion:", "\n\n"])


def _token_text(llama, token: int) -> str:
    if token == -1:
        return ""
    return llama.detokenize([token], special=True).decode("utf-8", errors="ignore")


class _TextAssembler:
    """Bytes of tokens in, text out: whole UTF-8 characters, cut at stop strings.

    Text that could be the start of a stop string is held back until the next
    token shows whether the stop string completes.
    """

    def __init__(self, stops: list[str]) -> None:
        self._stops = [stop for stop in stops if stop]
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes) -> tuple[str, bool]:
        """Text safe to emit now, and whether a stop string was reached."""
        self._pending += self._decoder.decode(data)
        found = [i for stop in self._stops if (i := self._pending.find(stop)) >= 0]
        if found:
            text, self._pending = self._pending[: min(found)], ""
            return text, True

        keep = self._partial_stop_length()
        cut = len(self._pending) - keep
        text, self._pending = self._pending[:cut], self._pending[cut:]
        return text, False

    def flush(self) -> str:
        """Whatever is held back, once generation has ended."""
        text, self._pending = self._pending + self._decoder.decode(b"", final=True), ""
        return text

    def _partial_stop_length(self) -> int:
        longest = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(self._pending)), longest, -1):
                if self._pending.endswith(stop[:size]):
                    longest = size
                    break
        return longest
