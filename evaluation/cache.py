"""A disk cache of generated answers, so re-scoring never regenerates.

An answer is reused only when everything that shaped it is unchanged: the
model file (its sha256), the golden case (its content hash), the prompt
template (its sha256) and the generation parameters. Changing a metric or a
weight therefore costs no generation at all; changing any of those four costs
a fresh answer for the cases it touches.

The cache is one SQLite file, safe to delete at any time.
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
_FILE_NAME = "generations.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    completion_tokens INTEGER NOT NULL,
    seconds REAL NOT NULL
)
"""


def generation_key(
    model_sha256: str, case_hash: str, prompt_sha256: str, params: GenerationParams
) -> str:
    """The cache key of one answer: a hash of everything that shapes it."""
    parts = [model_sha256, case_hash, prompt_sha256, asdict(params)]
    return sha256_text(json.dumps(parts, sort_keys=True))


class GenerationCache:
    """Answers stored by :func:`generation_key` in ``<folder>/generations.sqlite``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / _FILE_NAME
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(
                f"{self.path}: the generation cache cannot be opened ({exc}); "
                "delete the file or pass --no-cache."
            ) from exc

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

    def close(self) -> None:
        """Close the database; the cache object is unusable afterwards."""
        self._db.close()
