"""A content-addressed cache of vetted GGUF files.

Each file is stored as ``<sha256>.gguf``, written under a temporary name and
renamed only once its bytes hash to the sha256 its registry record promises.
``last_vetted.json`` names the most recent model that passed every check, so a
restart can serve it when the registry cannot be reached.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import structlog

from serving.errors import ConfigurationError, ModelRefusedError
from yonca.hashing import sha256_file

log = structlog.get_logger("serving")

_CHUNK = 1 << 20
LAST_VETTED_FILE = "last_vetted.json"


@dataclass(frozen=True)
class VettedModel:
    """A model version that passed its gate and whose GGUF matches its sha256."""

    name: str
    version: str
    sha256: str
    golden_score: float
    path: Path


class ModelCache:
    """GGUF files kept by content hash, plus the record of the last vetted model."""

    def __init__(self, folder: Path) -> None:
        """Use ``folder``, creating it; ConfigurationError if it cannot be written."""
        self.folder = folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
                pass
        except OSError as exc:
            raise ConfigurationError(
                f"MODEL_CACHE_DIR {str(folder)[:200]} cannot hold models "
                f"({exc.strerror or exc}); point it at a folder this service "
                "may write"
            ) from exc

    def path_for(self, sha256: str) -> Path:
        return self.folder / f"{sha256}.gguf"

    def store(self, source: Path, expected_sha256: str) -> Path:
        """Copy ``source`` in unless already cached; either way, verify its hash.

        Raises :class:`ModelRefusedError` when the bytes do not hash to
        ``expected_sha256``; nothing is left behind under that name then.
        """
        target = self.path_for(expected_sha256)
        if target.exists() and sha256_file(target) == expected_sha256:
            return target

        self.folder.mkdir(parents=True, exist_ok=True)
        actual = self._copy_hashed(source, target)
        if actual != expected_sha256:
            raise ModelRefusedError(
                f"artifact sha256 {actual[:12]} does not match the version's "
                f"sha256 tag {expected_sha256[:12]}"
            )
        return target

    def _copy_hashed(self, source: Path, target: Path) -> str:
        digest = hashlib.sha256()
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".partial")
        try:
            with source.open("rb") as reader, os.fdopen(handle, "wb") as writer:
                while chunk := reader.read(_CHUNK):
                    digest.update(chunk)
                    writer.write(chunk)
            actual = digest.hexdigest()
            if actual == target.stem:
                os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)
        return actual

    def remember(self, model: VettedModel) -> None:
        """Record ``model`` as the last vetted one, atomically."""
        record = {**asdict(model), "path": model.path.name}
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f"{LAST_VETTED_FILE}.partial"
        temporary.write_text(json.dumps(record, indent=2), encoding="utf-8")
        os.replace(temporary, self.folder / LAST_VETTED_FILE)

    def last_vetted(self) -> VettedModel | None:
        """The last vetted model, if its record and its file are both intact."""
        record_path = self.folder / LAST_VETTED_FILE
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            model = VettedModel(
                name=record["name"],
                version=str(record["version"]),
                sha256=record["sha256"],
                golden_score=float(record["golden_score"]),
                path=self.path_for(record["sha256"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("cache.no_last_vetted", path=str(record_path), reason=str(exc))
            return None

        if not model.path.exists() or sha256_file(model.path) != model.sha256:
            log.warning("cache.last_vetted_corrupt", sha256=model.sha256)
            return None
        return model
