"""Answers held to JSON: OpenAI's ``response_format`` as a llama.cpp grammar.

``{"type": "json_object"}`` is read as the JSON Schema ``{"type": "object"}``,
as llama-server's own OpenAI routes read it; ``json_schema`` brings its own
schema. The schema becomes a GBNF grammar with llama-cpp-python's converter,
and both engines sample under that one grammar: the in-process engine through
``LlamaGrammar``, llama-server through the ``grammar`` field of /completion.
llama-server's ``json_schema`` field is not used: its converter accepts other
schemas and lets whitespace run to blank lines, which end a transcript answer.

Before any request samples under a grammar, llama.cpp's own parser must
accept it: llama-cpp-python adds a grammar the parser refused to its sampler
chain as a null pointer, which crashes the process. Deeply nested grammars
crash the parser itself, so counts that nest (``maxLength``, ``maxItems``,
a pattern's ``{m,n}``) are bounded first.

A string's ``pattern`` is rewritten before the converter reads it, and
repeats a grammar would follow slowly are refused (serving/json_pattern.py).

The converter does not enforce numeric bounds (``minimum``, ``maximum``) or
most string formats; an answer cut short by ``max_tokens`` is unfinished JSON
with ``finish_reason`` ``length``, as with OpenAI.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re

import structlog

from serving.errors import InvalidRequestError
from serving.json_pattern import MAX_COUNT, PatternRefused, grammar_pattern
from serving.schemas import ResponseFormat

log = structlog.get_logger("serving")

JSON_OBJECT_SCHEMA = {"type": "object"}

_MAX_NESTING = 2 * MAX_COUNT
_COUNTS = ("minLength", "maxLength", "minItems", "maxItems")
# Values, not schemas: a count-like key inside them is data.
_DATA_KEYWORDS = ("const", "enum", "default", "examples")
# Maps from names (which may be "maxLength") to schemas.
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions")
# Keywords llama-cpp-python's converter ignores: refused rather than answered
# by JSON that breaks them. Numeric bounds and formats are documented instead.
_UNFOLLOWED = (
    "contains",
    "dependentRequired",
    "dependentSchemas",
    "else",
    "if",
    "maxContains",
    "maxProperties",
    "minContains",
    "minProperties",
    "not",
    "patternProperties",
    "propertyNames",
    "then",
    "unevaluatedItems",
    "unevaluatedProperties",
    "uniqueItems",
)
# What may stand beside "type": [...] without being dropped with it.
_TYPE_LIST_COMPANIONS = {
    "type",
    "title",
    "description",
    "default",
    "examples",
    "$schema",
    "$id",
    "$comment",
    "$defs",
    "definitions",
}
_LITERALS = re.compile(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]')
# The converter's string characters admit raw control characters and a
# pattern's "." admits quotes, neither valid inside a JSON string: these rules
# take their place. Surrogates and values past U+10FFFF are left out as well,
# since llama.cpp reads some malformed UTF-8 as such characters (it still
# reads overlong encodings as ASCII; their bytes reach the client as U+FFFD).
_STRING_CHARACTER = r'[^"\\\x7F\x00-\x1F\uD800-\uDFFF\U00110000-\U003FFFFF]'
_JSON_SAFE_RULES = {
    "char": _STRING_CHARACTER + r' | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})',
    "dot": _STRING_CHARACTER,
}


def schema_to_follow(response_format: ResponseFormat | None) -> dict | None:
    """The JSON Schema the answer must follow, or None for plain text."""
    if response_format is None:
        return None
    kind, given = response_format.type, response_format.json_schema
    if kind != "json_schema" and given is not None:
        raise InvalidRequestError(
            "response_format.json_schema is read only when type is "
            "'json_schema'; remove it or set type to 'json_schema'",
            param="response_format.json_schema",
        )
    if kind == "text":
        return None
    if kind == "json_object":
        return JSON_OBJECT_SCHEMA

    if given is None:
        raise InvalidRequestError(
            "response_format.json_schema is required when type is 'json_schema'; "
            'send {"type": "json_schema", "json_schema": {"name": ..., '
            '"schema": {...}}}',
            param="response_format.json_schema",
        )
    return given.schema_


def grammar_for(response_format: ResponseFormat | None) -> str | None:
    """The GBNF grammar that holds the answer to ``response_format``, or None.

    Blocking: compiling a schema not seen recently takes milliseconds.
    """
    schema = schema_to_follow(response_format)
    if schema is None:
        return None
    grammar, problem = _compiled(json.dumps(schema, ensure_ascii=False))
    if grammar is None:
        raise InvalidRequestError(
            f"response_format cannot be followed: {problem}",
            param="response_format",
        )
    return grammar


async def check_response_format(response_format: ResponseFormat | None) -> None:
    """Refuse an unusable ``response_format`` before the request waits its turn.

    The grammar is compiled in a worker thread and cached, so planning the
    generation finds it ready.
    """
    if schema_to_follow(response_format) is not None:
        await asyncio.to_thread(grammar_for, response_format)


@functools.lru_cache(maxsize=64)
def _compiled(schema_text: str) -> tuple[str, None] | tuple[None, str]:
    """(grammar, None) for a schema llama.cpp can follow, else (None, why not).

    Refusals are cached too: a client repeating a bad schema costs nothing.
    """
    if not schema_text.isascii() and _has_lone_surrogate(schema_text):
        return None, (
            "the schema holds a lone UTF-16 surrogate escape, which is not a "
            "character; send valid Unicode text"
        )
    schema = json.loads(schema_text)
    problem = _schema_problem(schema)
    if problem is not None:
        return None, problem
    try:
        grammar = _converted(schema)
    except PatternRefused as refused:
        return None, str(refused)
    except (AssertionError, ValueError, NotImplementedError) as exc:
        # The converter explains what in the schema it does not support.
        reason = str(exc)[:200] or "a keyword it does not support"
        return None, f"llama.cpp cannot turn the schema into a grammar ({reason})"
    except RecursionError:
        return None, "the schema or one of its patterns nests too deeply"
    except Exception as exc:  # the converter indexes the schema unchecked
        log.debug("response_format.unconverted", error=repr(exc))
        return None, (
            "llama.cpp cannot turn the schema into a grammar; check that each "
            "keyword has the type JSON Schema gives it"
        )

    if re.search(r"::= *$", grammar, re.MULTILINE):
        # An empty enum, anyOf or list of types; llama.cpp's parser would
        # refuse it too, printing the whole grammar to stderr.
        return None, "part of the schema allows no value at all (an empty list)"
    if _nesting(grammar) > _MAX_NESTING or not _parses(grammar):
        return None, (
            "llama.cpp's grammar parser refuses the grammar made from the "
            "schema; simplify the schema"
        )
    return grammar, None


def _schema_problem(schema) -> str | None:
    """What in ``schema`` the converter would choke on, or None.

    Counts that nest too deeply, and references to other documents, which
    the converter would try to fetch.
    """
    for node in _subschemas(schema):
        for key in _COUNTS:
            count = node.get(key)
            if count is None:
                continue
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                return f"{key} must be a whole number of at least 0, not {count!r}"
            if count > MAX_COUNT:
                return (
                    f"{key} {count} is more than a grammar can count (at most "
                    f"{MAX_COUNT}); lower it or leave it out"
                )
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return (
                f"$ref {ref[:80]!r} points outside the schema; put what it "
                "names under $defs and refer to it as #/$defs/..."
            )
        problem = _unfollowed(node)
        if problem is not None:
            return problem
    return None


def _unfollowed(node: dict) -> str | None:
    """A keyword of ``node`` the converter would drop without a word, or None."""
    for key in _UNFOLLOWED:
        if key in node:
            return f"{key} is not followed by llama.cpp's grammar; remove it"
    if "pattern" in node and ("minLength" in node or "maxLength" in node):
        return (
            "a pattern beside minLength or maxLength is followed without the "
            "lengths; count inside the pattern instead, as ^[a-z ]{0,3}$ does"
        )
    if isinstance(node.get("type"), list):
        dropped = sorted(set(node) - _TYPE_LIST_COMPANIONS)
        if dropped:
            return (
                f"a list of types is followed without {', '.join(dropped)}; "
                'write anyOf: [{"type": "string", ...}, {"type": "null"}] '
                "with the constraints inside their type"
            )
    return None


def _subschemas(schema):
    """Each object in ``schema`` that may be a schema, outermost first."""
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        yield node
        for key, value in node.items():
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                pending.extend(value.values())
            elif key not in _DATA_KEYWORDS:
                pending.append(value)


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _converted(schema: dict) -> str:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    for node in _subschemas(schema):
        if isinstance(node.get("pattern"), str):
            node["pattern"] = grammar_pattern(node["pattern"])
    rules = []
    # Rules end at "\n" only: splitlines() would also cut at U+2028 and other
    # line separators a pattern's literal may hold.
    for line in json_schema_to_gbnf(json.dumps(schema)).split("\n"):
        name = line.partition(" ::= ")[0]
        safe = _JSON_SAFE_RULES.get(name)
        rules.append(f"{name} ::= {safe}" if safe else line)
    return "\n".join(rules)


def _nesting(grammar: str) -> int:
    """How deeply the grammar's parentheses nest, outside literals and classes."""
    depth = deepest = 0
    for paren in re.findall(r"[()]", _LITERALS.sub("", grammar)):
        depth += 1 if paren == "(" else -1
        deepest = max(deepest, depth)
    return deepest


def _parses(grammar: str) -> bool:
    """Whether llama.cpp's grammar parser accepts ``grammar``.

    No vocabulary is needed: the converter writes no token references, the one
    part of a grammar that is read against a vocabulary.
    """
    import llama_cpp

    sampler = llama_cpp.llama_sampler_init_grammar(None, grammar.encode(), b"root")
    if not sampler:
        return False
    llama_cpp.llama_sampler_free(sampler)
    return True
