"""Disk caches of generated answers and judge verdicts, so re-scoring is free.

An answer is reused only when everything that shaped it is unchanged: the
model file (its sha256), the golden case (its content hash), the prompt
template (its sha256) and the generation parameters. Changing a metric or a
weight therefore costs no generation at all; changing any of those four costs
a fresh answer for the cases it touches.

A judgement (the judge metrics of one answer) is reused under the same rule:
its key, made by :mod:`evaluation.judge`, hashes the judge model, its sampling
settings and the texts it judged, but not the address it was reached at.

Each cache is one SQLite file in the cache folder, safe to delete at any time.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from pathlib import Path

from evaluation.backends import Generation, GenerationParams
from evaluation.errors import CacheError
from yonca.hashing import sha256_text

DEFAULT_CACHE_DIR = Path(".cache/generations")


def generation_key(
    model_sha256: str, case_hash: str, prompt_sha256: str, params: GenerationParams
) -> str:
    """The cache key of one answer: a hash of everything that shapes it."""
    parts = [model_sha256, case_hash, prompt_sha256, asdict(params)]
    return sha256_text(json.dumps(parts, sort_keys=True))


class _SqliteCache:
    """One SQLite file holding one key/value table."""

    file_name: str
    schema: str

    def __init__(self, folder: Path) -> None:
        self.path = folder / self.file_name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute(self.schema)
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(
                f"{self.path}: the cache cannot be opened ({exc}); "
                "delete the file or pass --no-cache."
            ) from exc

    def close(self) -> None:
        """Close the database; the cache object is unusable afterwards."""
        self._db.close()


class GenerationCache(_SqliteCache):
    """Answers stored by :func:`generation_key` in ``<folder>/generations.sqlite``."""

    file_name = "generations.sqlite"
    schema = """
    CREATE TABLE IF NOT EXISTS generations (
        key TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        completion_tokens INTEGER NOT NULL,
        seconds REAL NOT NULL
    )
    """

    def get(self, key: str) -> Generation | None:
        """The stored answer for ``key``, or None when there is none."""
        row = self._db.execute(
            "SELECT text, completion_tokens, seconds FROM generations WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        return Generation(text=row[0], completion_tokens=row[1], seconds=row[2])

    def put(self, key: str, generation: Generation) -> None:
        """Store ``generation`` under ``key``, replacing any older answer."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?)",
                (
                    key,
                    generation.text,
                    generation.completion_tokens,
                    generation.seconds,
                ),
            )


class JudgementCache(_SqliteCache):
    """Judge metrics of one answer, by key, in ``<folder>/judgements.sqlite``.

    A judgement maps metric names to values; None stands for a metric the
    judge could not compute (an answer that states nothing, for example).
    """

    file_name = "judgements.sqlite"
    schema = """
    CREATE TABLE IF NOT EXISTS judgements (
        key TEXT PRIMARY KEY,
        metrics TEXT NOT NULL
    )
    """

    def get(self, key: str) -> dict[str, float | None] | None:
        """The stored judgement for ``key``, or None when there is none."""
        row = self._db.execute(
            "SELECT metrics FROM judgements WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, metrics: dict[str, float | None]) -> None:
        """Store ``metrics`` under ``key``, replacing any older judgement."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO judgements VALUES (?, ?)",
                (key, json.dumps(metrics, sort_keys=True)),
            )
