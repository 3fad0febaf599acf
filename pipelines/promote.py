"""DVC stage `promote`: move the alias to the new version only if its gate passed."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipelines.register import REGISTRATION
from pipelines.stage import read_json, run_stage, write_json

PROMOTION = Path("outputs/promotion.json")


def promote_candidate(params: dict[str, Any]) -> None:
    from evaluation.golden import load_golden_set
    from registry.promotion import promote
    from registry.store import connect, resolve_tracking_uri
    from registry.versions import get_version
    from yonca.params import section

    tracking = section(params, "mlflow")
    registration = read_json(REGISTRATION, produced_by="register")
    golden = load_golden_set(Path(section(params, "evaluation")["dataset"]))
    client = connect(resolve_tracking_uri(tracking["tracking_uri"]))
    version = get_version(client, registration["model_name"], registration["version"])

    decision = promote(
        client,
        registration["model_name"],
        version,
        alias=tracking["alias"],
        threshold=float(section(params, "gate")["threshold"]),
        current_golden_sha256=golden.sha256,
    )
    write_json(PROMOTION, asdict(decision))
    print(decision.line())


if __name__ == "__main__":
    run_stage("promote", promote_candidate)
