"""Inspect a GGUF file before anything tries to load it.

llama.cpp reports a truncated or foreign file with a bare "failed to load
model", so we check the header and the tensor table ourselves and say which
file is wrong and how.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evaluation.errors import ModelFileError
from yonca.hashing import sha256_file

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class GGUFInfo:
    """What the platform records about a candidate model file."""

    path: Path
    sha256: str
    size_bytes: int
    architecture: str
    name: str
    quantization: str
    chat_template: str | None


def inspect_gguf(path: Path) -> GGUFInfo:
    """Check that ``path`` is a complete GGUF file and describe it.

    Raises :class:`ModelFileError` naming the file and the problem.
    """
    _check_header(path)
    reader = _open_reader(path)
    _check_complete(path, reader)
    return GGUFInfo(
        path=path,
        sha256=sha256_file(path),
        size_bytes=path.stat().st_size,
        architecture=_field_text(reader, "general.architecture") or "unknown",
        name=_field_text(reader, "general.name") or path.stem,
        quantization=_quantization(reader),
        chat_template=_field_text(reader, "tokenizer.chat_template"),
    )


def _check_header(path: Path) -> None:
    if not path.exists():
        raise ModelFileError(
            f"{path}: model file not found; check --model or run "
            "`dvc repro fetch_model`."
        )
    if not path.is_file():
        raise ModelFileError(f"{path}: is not a file; pass the path of a .gguf file.")
    if path.stat().st_size == 0:
        raise ModelFileError(
            f"{path}: the file is empty (0 bytes); fetch or copy the model again."
        )
    with path.open("rb") as stream:
        magic = stream.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"{path}: not a GGUF file (starts with {magic!r}, expected b'GGUF'); "
            "convert the model with llama.cpp's convert_hf_to_gguf.py."
        )


def _open_reader(path: Path):
    from gguf import GGUFReader

    try:
        return GGUFReader(path, "r")
    except (ValueError, IndexError, OSError, KeyError) as exc:
        # The reader's own message speaks of numpy offsets, not of the file;
        # it stays available as the cause.
        raise ModelFileError(
            f"{path}: the GGUF header or tensor table is unreadable; the file "
            "is corrupt or truncated: fetch it again."
        ) from exc


def _check_complete(path: Path, reader) -> None:
    size = path.stat().st_size
    for tensor in reader.tensors:
        end = int(tensor.data_offset) + int(tensor.n_bytes)
        if end > size:
            raise ModelFileError(
                f"{path}: truncated: tensor '{tensor.name}' ends at byte {end} "
                f"but the file has {size} bytes; fetch the model again."
            )


def _field_text(reader, key: str) -> str | None:
    field = reader.fields.get(key)
    if field is None or not field.data:
        return None
    value = field.parts[field.data[0]]
    try:
        return bytes(value).decode("utf-8")
    except (TypeError, ValueError):
        return None


def _quantization(reader) -> str:
    from gguf import LlamaFileType

    field = reader.fields.get("general.file_type")
    if field is None or not field.data:
        return "unknown"
    code = int(field.parts[field.data[0]][0])
    try:
        return LlamaFileType(code).name.removeprefix("MOSTLY_")
    except ValueError:
        return f"file_type_{code}"
