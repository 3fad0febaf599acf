"""The metadata scan finds keys of a real GGUF and refuses other files."""

from __future__ import annotations

import pytest

from serving.gguf_metadata import has_key
from tests.support.tiny_gguf import truncate


def test_keys_present_and_absent_are_told_apart(tiny_gguf):
    assert has_key(tiny_gguf, "general.name")
    assert has_key(tiny_gguf, "tokenizer.ggml.tokens")
    assert not has_key(tiny_gguf, "tokenizer.chat_template")


def test_a_file_that_is_not_a_gguf_is_refused(tmp_path):
    text = tmp_path / "notes.gguf"
    text.write_text("not a model, just words" * 10)
    with pytest.raises(ValueError, match="not a GGUF"):
        has_key(text, "general.name")


def test_a_gguf_cut_inside_its_metadata_is_refused(tiny_gguf, tmp_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes())
    with pytest.raises(ValueError, match="ends inside"):
        has_key(truncate(cut, keep_fraction=0.002), "tokenizer.chat_template")
