"""Look up a key in a GGUF file's metadata without loading the file.

A GGUF starts with its metadata as key/value pairs; this walks them, skipping
every value it does not need, and stops at the key asked for. That takes about
a second for a vocabulary of 262,000 tokens, where the ``gguf`` package's
reader, which decodes every value, takes close to a minute.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

_MAGIC = b"GGUF"
# Value types of the GGUF format, with the size of the fixed-size ones.
_FIXED_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING = 8
_ARRAY = 9


def has_key(path: Path, key: str) -> bool:
    """Whether ``path``'s metadata holds ``key``; ValueError if it is not a GGUF."""
    try:
        return _scan(path, key.encode())
    except struct.error as exc:
        raise ValueError(f"{path} ends inside its GGUF metadata") from exc


def _scan(path: Path, key: bytes) -> bool:
    with path.open("rb") as stream:
        magic, _version, _tensors, pairs = struct.unpack("<4sIQQ", stream.read(24))
        if magic != _MAGIC:
            raise ValueError(f"{path} is not a GGUF file")
        for _ in range(pairs):
            name = stream.read(_u64(stream))
            kind = _u32(stream)
            if name == key:
                return True
            _skip(stream, kind)
    return False


def _skip(stream: BinaryIO, kind: int) -> None:
    if kind in _FIXED_SIZES:
        stream.seek(_FIXED_SIZES[kind], 1)
    elif kind == _STRING:
        stream.seek(_u64(stream), 1)
    elif kind == _ARRAY:
        item, count = _u32(stream), _u64(stream)
        if item in _FIXED_SIZES:
            stream.seek(_FIXED_SIZES[item] * count, 1)
        else:
            for _ in range(count):
                _skip(stream, item)
    else:
        raise ValueError(f"unknown GGUF value type {kind}")


def _u32(stream: BinaryIO) -> int:
    return struct.unpack("<I", stream.read(4))[0]


def _u64(stream: BinaryIO) -> int:
    return struct.unpack("<Q", stream.read(8))[0]
