"""Exceptions raised by the evaluation package.

EvaluationError
├── UnusableInputError        the runner cannot start: exit status 2
│   ├── GoldenSetError        the golden set is missing or malformed
│   ├── ModelFileError        the GGUF is missing, truncated or not a GGUF
│   ├── PromptTemplateError   the prompt template is missing or malformed
│   ├── CacheError            a generation or judgement cache cannot be opened
│   ├── EndpointError         the OpenAI-compatible server cannot be used
│   └── JudgeError            the judge is unreachable, or its answers unusable
└── GenerationError           the model failed while answering a case
"""

from __future__ import annotations


class EvaluationError(Exception):
    """Base class of every error the evaluation package raises."""


class UnusableInputError(EvaluationError):
    """An input of the evaluation cannot be used; nothing was evaluated."""


class GoldenSetError(UnusableInputError):
    """The golden set file is missing, unreadable or breaks its schema."""


class ModelFileError(UnusableInputError):
    """The candidate model file is missing, truncated or not a GGUF."""


class PromptTemplateError(UnusableInputError):
    """The prompt template is missing or lacks its placeholders."""


class CacheError(UnusableInputError):
    """A cache file cannot be opened or created."""


class EndpointError(UnusableInputError):
    """The OpenAI-compatible server is unreachable or does not speak the API."""


class JudgeError(UnusableInputError):
    """The judge endpoint cannot be reached or does not answer as ragas asks.

    Judge metrics are optional, so a judge that fails stops the run as an
    unusable input: fix the judge or turn it off, and run again.
    """


class GenerationError(EvaluationError):
    """The inference engine failed while generating an answer."""
