"""DVC stage `promote`: move the alias to the new version only if it meets the rules.

The decision, promoted or refused, is also written to the registry's audit trail.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipelines.register import REGISTRATION
from pipelines.stage import read_json, run_stage, write_json

PROMOTION = Path("outputs/promotion.json")


def promote_candidate(params: dict[str, Any]) -> None:
    from evaluation.golden import load_golden_set
    from registry.config import RegistryConfig
    from registry.promotion import promote
    from registry.store import connect
    from registry.versions import get_version

    config = RegistryConfig.from_params(params)
    registration = read_json(REGISTRATION, produced_by="register")
    golden = load_golden_set(config.golden_set)
    client = connect(config.tracking_uri)
    version = get_version(client, registration["model_name"], registration["version"])

    decision = promote(
        client,
        registration["model_name"],
        version,
        alias=config.alias,
        threshold=config.threshold,
        current_golden_sha256=golden.sha256,
        max_category_drop=config.max_category_drop,
        source="pipeline",
    )
    write_json(PROMOTION, asdict(decision))
    print(decision.line())


if __name__ == "__main__":
    run_stage("promote", promote_candidate)
