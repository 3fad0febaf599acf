"""Load and validate the golden set: one JSON object per line, one case each.

Every problem is reported with the file, the line, the case id where known and
the field at fault, so the person editing the set can go straight to it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from evaluation.errors import GoldenSetError
from yonca.hashing import sha256_text

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "golden" / "schema.json"


@dataclass(frozen=True)
class GoldenCase:
    """One question with what a correct answer must and must not contain."""

    id: str
    category: str
    language: str
    question: str
    reference: str
    must_include: tuple[tuple[str, ...], ...]
    must_not_include: tuple[str, ...]
    critical: bool
    source: str
    context: str | None = None

    @property
    def content_hash(self) -> str:
        """Hash of everything that shapes the model's answer to this case."""
        return sha256_text(
            json.dumps([self.question, self.context], ensure_ascii=False)
        )


@dataclass(frozen=True)
class GoldenSet:
    """The parsed golden set and the sha256 of the file it came from."""

    path: Path
    sha256: str
    cases: tuple[GoldenCase, ...] = field(repr=False)

    def subset(self, limit: int | None) -> tuple[GoldenCase, ...]:
        """The first ``limit`` cases, or all of them when ``limit`` is None."""
        return self.cases if limit is None else self.cases[:limit]


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def load_golden_set(path: Path) -> GoldenSet:
    """Parse and validate the golden set at ``path``.

    Raises :class:`GoldenSetError` naming the line, case id and field of the
    first problem found.
    """
    raw = _read_bytes(path)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise GoldenSetError(
            f"{path}: starts with a UTF-8 byte-order mark; save it as UTF-8 "
            "without BOM."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GoldenSetError(
            f"{path}: not UTF-8 (byte {exc.start}); re-save it as UTF-8."
        ) from exc

    cases = _parse_lines(path, text)
    if not cases:
        raise GoldenSetError(f"{path}: holds no cases; add at least one line.")
    return GoldenSet(path=path, sha256=sha256_text(text), cases=tuple(cases))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise GoldenSetError(
            f"{path}: golden set not found; check --dataset or run `dvc pull`."
        ) from exc
    except OSError as exc:
        raise GoldenSetError(f"{path}: cannot be read ({exc.strerror}).") from exc


def _parse_lines(path: Path, text: str) -> list[GoldenCase]:
    cases: list[GoldenCase] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if line.endswith("\r"):
            raise GoldenSetError(
                f"{path}:{number}: ends with CRLF; convert the file to LF line endings."
            )
        if not line.strip():
            continue
        case = _parse_case(path, number, line)
        if case.id in seen:
            raise GoldenSetError(
                f"{path}:{number}: case '{case.id}': field 'id' duplicates "
                f"line {seen[case.id]}; give each case its own id."
            )
        seen[case.id] = number
        cases.append(case)
    return cases


def _parse_case(path: Path, number: int, line: str) -> GoldenCase:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise GoldenSetError(
            f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno}); "
            "each line must be one JSON object."
        ) from exc
    except ValueError as exc:  # an integer past Python's conversion limit
        raise GoldenSetError(
            f"{path}:{number}: holds an integer of more than "
            f"{sys.get_int_max_str_digits()} digits, too long to read; no field "
            "of a golden case takes such a number, so fix or remove it."
        ) from exc
    except RecursionError as exc:
        raise GoldenSetError(
            f"{path}:{number}: nests arrays or objects too deeply to read; "
            "each line must be one golden case as golden/schema.json describes."
        ) from exc

    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.path))
    if errors:
        raise GoldenSetError(_describe_schema_error(path, number, data, errors[0]))
    return _case_from_json(data)


def _describe_schema_error(
    path: Path, number: int, data: Any, error: jsonschema.ValidationError
) -> str:
    case_id = data.get("id", "?") if isinstance(data, dict) else "?"
    field_name = ".".join(str(part) for part in error.path) or _missing_field(error)
    return (
        f"{path}:{number}: case '{case_id}': field '{field_name}': "
        f"{error.message}; see golden/schema.json."
    )


def _missing_field(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        # The message reads "'reference' is a required property".
        return error.message.split("'")[1]
    if error.validator == "additionalProperties":
        return "(unknown field)"
    return "(case)"


def _case_from_json(data: dict[str, Any]) -> GoldenCase:
    return GoldenCase(
        id=data["id"],
        category=data["category"],
        language=data["language"],
        question=data["question"],
        reference=data["reference"],
        must_include=tuple(tuple(variants) for variants in data["must_include"]),
        must_not_include=tuple(data["must_not_include"]),
        critical=data["critical"],
        source=data["source"],
        context=data.get("context"),
    )
