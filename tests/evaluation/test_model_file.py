from pathlib import Path

import pytest

from evaluation.errors import ModelFileError
from evaluation.model_file import inspect_gguf
from tests.support.tiny_gguf import truncate


def test_complete_gguf_is_described(tiny_gguf):
    info = inspect_gguf(tiny_gguf)
    assert info.architecture == "llama"
    assert info.name == "tiny-random-llama"
    assert info.quantization == "ALL_F32"
    assert info.size_bytes == tiny_gguf.stat().st_size
    assert len(info.sha256) == 64


def test_missing_model_names_the_path():
    with pytest.raises(ModelFileError, match=r"/nowhere/x\.gguf: model file not found"):
        inspect_gguf(Path("/nowhere/x.gguf"))


def test_truncated_gguf_is_reported_as_truncated(tiny_gguf, tmp_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes())
    truncate(cut)
    with pytest.raises(ModelFileError, match="cut.gguf: .*(truncated|corrupt)"):
        inspect_gguf(cut)


def test_file_that_is_not_gguf_is_refused(tmp_path):
    fake = tmp_path / "weights.gguf"
    fake.write_bytes(b"PK\x03\x04 this is a zip archive")
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        inspect_gguf(fake)


def test_empty_file_is_called_empty(tmp_path):
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match="the file is empty"):
        inspect_gguf(empty)
