"""DVC stage `fetch_model`: materialise the candidate GGUF and record its hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.stage import run_stage, write_json

CANDIDATE_RECORD = Path("outputs/candidate.json")


def fetch_model(params: dict[str, Any]) -> None:
    from evaluation.candidate import materialise_candidate
    from pipelines.settings import ModelParams, read_section

    model = read_section(params, "model", ModelParams)
    info = materialise_candidate(model.source, model.path)
    write_json(
        CANDIDATE_RECORD,
        {
            "source": model.source,
            "path": str(info.path),
            "sha256": info.sha256,
            "size_bytes": info.size_bytes,
            "name": info.name,
            "architecture": info.architecture,
            "quantization": info.quantization,
            "base_model": model.base_model,
        },
    )
    print(f"fetch_model: {info.path} sha256={info.sha256} size={info.size_bytes}")


if __name__ == "__main__":
    run_stage("fetch_model", fetch_model)
