"""The evaluation record: everything needed to reproduce and audit a score."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from evaluation.backends import GenerationParams
from evaluation.golden import GoldenSet
from evaluation.model_file import GGUFInfo
from evaluation.prompts import PromptTemplate
from evaluation.scoring import GateVerdict, mean_by

RECORDED_PACKAGES = ("llama-cpp-python", "gguf", "sacrebleu", "jsonschema")


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a score, plus Python's."""
    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build_record(
    *,
    model: GGUFInfo,
    golden: GoldenSet,
    prompt: PromptTemplate,
    params: GenerationParams,
    results: list[dict[str, Any]],
    verdict: GateVerdict,
    seconds: float,
) -> dict[str, Any]:
    """Assemble the JSON-ready record of one evaluation."""
    tokens = sum(row["completion_tokens"] for row in results)
    generating = sum(row["seconds"] for row in results)
    return {
        "model": {
            "path": str(model.path),
            "sha256": model.sha256,
            "size_bytes": model.size_bytes,
            "name": model.name,
            "architecture": model.architecture,
            "quantization": model.quantization,
        },
        "golden_set": {
            "path": str(golden.path),
            "sha256": golden.sha256,
            "cases_total": len(golden.cases),
            "cases_evaluated": len(results),
        },
        "prompt": {"path": str(prompt.path), "sha256": prompt.sha256},
        "generation": asdict(params),
        "packages": package_versions(),
        "summary": {
            "golden_score": verdict.golden_score,
            "by_category": mean_by(results, "category"),
            "by_language": mean_by(results, "language"),
            "completion_tokens": tokens,
            "tokens_per_second": round(tokens / generating, 3) if generating else 0.0,
            "seconds_per_case": round(generating / len(results), 3),
            "seconds_total": round(seconds, 3),
        },
        "gate": asdict(verdict),
        "results": results,
    }


def write_record(record: dict[str, Any], path: Path) -> None:
    """Write the record as indented UTF-8 JSON, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, ensure_ascii=False, indent=2)
    path.write_text(text + "\n", encoding="utf-8")
