"""Gated promotion: an alias moves only to a version that earned it.

The rules, checked in order, each named in a refusal:
  gate-passed        the version's ``gate`` tag is ``passed``
  score-threshold    its ``golden_score`` reaches the threshold in force now
  golden-set-current its ``golden_set_sha256`` is the current golden set's
  artifact-intact    its GGUF still hashes to its ``sha256`` tag
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from evaluation.hashing import sha256_file
from registry.errors import ArtifactError
from registry.versions import get_alias_version, local_artifact

log = structlog.get_logger("registry")


@dataclass(frozen=True)
class Decision:
    """The outcome of one promotion attempt, printable as one line."""

    model_version: str
    alias: str
    golden_score: float
    threshold: float
    sha256: str
    golden_set_sha256: str
    promoted: bool
    failed_rules: tuple[str, ...]
    previous_version: str | None

    def line(self) -> str:
        """One decision line for logs and CI output."""
        if self.promoted:
            verdict = f"PROMOTED to '{self.alias}'"
        else:
            kept = self.previous_version or "none"
            verdict = (
                f"REFUSED ({'; '.join(self.failed_rules)}); "
                f"'{self.alias}' stays at version {kept}"
            )
        return (
            f"promotion: version={self.model_version} "
            f"score={self.golden_score:.3f} threshold={self.threshold:.2f} "
            f"model_sha256={self.sha256} "
            f"golden_set_sha256={self.golden_set_sha256} verdict={verdict}"
        )


def failed_rules(version, current_golden_sha256: str, threshold: float) -> list[str]:
    """The promotion rules ``version`` breaks, each with its reason."""
    tags = version.tags
    failures = []
    if tags.get("gate") != "passed":
        failures.append(f"gate-passed: gate is '{tags.get('gate', 'missing')}'")
    score = _score(tags)
    if not score >= threshold:  # a missing score (NaN) fails too
        failures.append(f"score-threshold: {score:.3f} is below {threshold:.2f}")
    if tags.get("golden_set_sha256") != current_golden_sha256:
        failures.append(
            "golden-set-current: evaluated on golden set "
            f"{tags.get('golden_set_sha256', 'unknown')[:12]}, current is "
            f"{current_golden_sha256[:12]}"
        )
    if not failures:
        failures.extend(_artifact_failures(version))
    return failures


def _score(tags: dict) -> float:
    try:
        return float(tags.get("golden_score", "nan"))
    except ValueError:
        return float("nan")


def _artifact_failures(version) -> list[str]:
    try:
        actual = sha256_file(local_artifact(version))
    except ArtifactError as exc:
        return [f"artifact-intact: {exc}"]
    expected = version.tags.get("sha256")
    if actual != expected:
        return [f"artifact-intact: sha256 {actual[:12]} != tag {str(expected)[:12]}"]
    return []


def promote(
    client,
    model_name: str,
    version,
    *,
    alias: str,
    threshold: float,
    current_golden_sha256: str,
) -> Decision:
    """Point ``alias`` at ``version`` if it meets every rule; report either way."""
    previous = get_alias_version(client, model_name, alias)
    failures = failed_rules(version, current_golden_sha256, threshold)
    if not failures:
        client.set_registered_model_alias(model_name, alias, version.version)

    decision = Decision(
        model_version=str(version.version),
        alias=alias,
        golden_score=_score(version.tags),
        threshold=threshold,
        sha256=version.tags.get("sha256", "unknown"),
        golden_set_sha256=version.tags.get("golden_set_sha256", "unknown"),
        promoted=not failures,
        failed_rules=tuple(failures),
        previous_version=previous.version if previous else None,
    )
    log.info(
        "promotion.decided",
        model_version=decision.model_version,
        alias=alias,
        promoted=decision.promoted,
        sha256=decision.sha256,
    )
    return decision
