"""Write a tiny llama-architecture GGUF with random weights.

It loads in llama.cpp in milliseconds and answers with gibberish: the stand-in
for a broken candidate that the gate must refuse.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

WIDTH = 64
BLOCKS = 2
HEADS = 4
FEED_FORWARD = 128
BYTE_TOKENS = [f"<0x{value:02X}>" for value in range(256)]
PIECES = ["▁", *"abcdefghijklmnopqrstuvwxyz", "▁the", "▁a", "▁is", "▁to", "▁of"]


def write_tiny_gguf(
    path: Path, seed: int = 0, chat_template: str | None = None
) -> Path:
    """Write the tiny random model to ``path`` and return the path."""
    from gguf import GGUFWriter, LlamaFileType, TokenType

    rng = np.random.default_rng(seed)
    tokens = ["<unk>", "<s>", "</s>", *BYTE_TOKENS, *PIECES]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL]
    types += [TokenType.BYTE] * len(BYTE_TOKENS) + [TokenType.NORMAL] * len(PIECES)

    writer = GGUFWriter(str(path), "llama")
    writer.add_name("tiny-random-llama")
    writer.add_file_type(LlamaFileType.ALL_F32)
    writer.add_context_length(512)
    writer.add_embedding_length(WIDTH)
    writer.add_block_count(BLOCKS)
    writer.add_feed_forward_length(FEED_FORWARD)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(WIDTH // HEADS)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([-float(i) for i in range(len(tokens))])
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    if chat_template is not None:
        writer.add_chat_template(chat_template)

    for name, shape in _tensor_shapes(len(tokens)):
        data = rng.standard_normal(shape).astype(np.float32) * 0.1
        if name.endswith("norm.weight"):
            data = np.ones(shape, dtype=np.float32)
        writer.add_tensor(name, data)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _tensor_shapes(vocab: int):
    yield "token_embd.weight", (vocab, WIDTH)
    yield "output_norm.weight", (WIDTH,)
    yield "output.weight", (vocab, WIDTH)
    for block in range(BLOCKS):
        prefix = f"blk.{block}"
        yield f"{prefix}.attn_norm.weight", (WIDTH,)
        for part in ("q", "k", "v", "output"):
            yield f"{prefix}.attn_{part}.weight", (WIDTH, WIDTH)
        yield f"{prefix}.ffn_norm.weight", (WIDTH,)
        yield f"{prefix}.ffn_gate.weight", (FEED_FORWARD, WIDTH)
        yield f"{prefix}.ffn_up.weight", (FEED_FORWARD, WIDTH)
        yield f"{prefix}.ffn_down.weight", (WIDTH, FEED_FORWARD)


def truncate(path: Path, keep_fraction: float = 0.5) -> Path:
    """Cut ``path`` to a fraction of its size, as an interrupted copy would."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path
