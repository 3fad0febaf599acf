"""Gated promotion: an alias moves only to a version that earned it.

The rules, each named in a refusal:
  gate-passed          the version's ``gate`` tag is ``passed``
  score-threshold      its ``golden_score`` reaches the threshold in force now
  golden-set-current   its ``golden_set_sha256`` is the current golden set's
  artifact-intact      its GGUF still hashes to its ``sha256`` tag
  category-regression  no category falls more than ``gate.max_category_drop``
                       below the production version scored on the same set

An override (``force_reason``) moves the alias despite failed rules; the
decision then carries the rules it broke and the reason given.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from registry.audit import AuditEvent, record_event
from registry.config import PRODUCTION
from registry.errors import ArtifactError
from registry.regression import regression_failures
from registry.versions import get_alias_version, local_artifact
from yonca.hashing import sha256_file

log = structlog.get_logger("registry")


@dataclass(frozen=True)
class Decision:
    """The outcome of one promotion or rollback attempt, printable as one line."""

    model_version: str
    alias: str
    golden_score: float
    threshold: float
    sha256: str
    golden_set_sha256: str
    promoted: bool
    failed_rules: tuple[str, ...]
    previous_version: str | None
    overridden: bool = False
    reason: str = ""

    def line(self) -> str:
        """One decision line for logs and CI output."""
        rules = "; ".join(self.failed_rules)
        if self.overridden:
            verdict = (
                f"OVERRIDDEN into '{self.alias}' despite ({rules}); "
                f"reason: {self.reason!r}"
            )
        elif self.promoted:
            verdict = f"PROMOTED to '{self.alias}'"
        else:
            kept = self.previous_version or "none"
            verdict = f"REFUSED ({rules}); '{self.alias}' stays at version {kept}"
        return (
            f"promotion: version={self.model_version} "
            f"score={self.golden_score:.3f} threshold={self.threshold:.2f} "
            f"model_sha256={self.sha256} "
            f"golden_set_sha256={self.golden_set_sha256} verdict={verdict}"
        )

    def audit_event(self, model_name: str, kind: str, source: str) -> AuditEvent:
        """The trail's record of this decision."""
        return AuditEvent(
            kind=kind,
            model_name=model_name,
            alias=self.alias,
            from_version=self.previous_version or "",
            to_version=self.model_version,
            source=source,
            golden_score=f"{self.golden_score:.6f}",
            sha256=self.sha256,
            golden_set_sha256=self.golden_set_sha256,
            rules="; ".join(self.failed_rules),
            reason=self.reason,
        )


def failed_rules(
    version,
    current_golden_sha256: str,
    threshold: float,
    *,
    client=None,
    baseline=None,
    max_category_drop: float | None = None,
) -> list[str]:
    """The promotion rules ``version`` breaks, each with its reason.

    The category-regression rule is checked only when ``client``, ``baseline``
    and ``max_category_drop`` are all given.
    """
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
    if client is not None and max_category_drop is not None:
        failures.extend(
            regression_failures(client, version, baseline, max_category_drop)
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
    max_category_drop: float | None = None,
    force_reason: str | None = None,
    source: str | None = None,
) -> Decision:
    """Point ``alias`` at ``version`` if it meets every rule; report either way.

    With ``force_reason`` the alias moves despite failed rules. With
    ``source`` (``cli``, ``pipeline``) the decision is written to the audit
    trail before the alias moves, so the gatekeeper finds it recorded.
    """
    previous = get_alias_version(client, model_name, alias)
    baseline = (
        previous
        if alias == PRODUCTION
        else get_alias_version(client, model_name, PRODUCTION)
    )
    failures = failed_rules(
        version,
        current_golden_sha256,
        threshold,
        client=client,
        baseline=baseline,
        max_category_drop=max_category_drop,
    )
    decision = decide(version, alias, threshold, failures, previous, force_reason)

    if source is not None:
        record_event(client, decision.audit_event(model_name, _kind(decision), source))
    if decision.promoted:
        client.set_registered_model_alias(model_name, alias, version.version)
    log.info(
        "promotion.decided",
        model_version=decision.model_version,
        alias=alias,
        promoted=decision.promoted,
        overridden=decision.overridden,
        sha256=decision.sha256,
    )
    return decision


def decide(version, alias, threshold, failures, previous, force_reason) -> Decision:
    """The decision for ``version`` given the rules it failed and any override."""
    overridden = bool(failures) and bool(force_reason)
    return Decision(
        model_version=str(version.version),
        alias=alias,
        golden_score=_score(version.tags),
        threshold=threshold,
        sha256=version.tags.get("sha256", "unknown"),
        golden_set_sha256=version.tags.get("golden_set_sha256", "unknown"),
        promoted=not failures or overridden,
        failed_rules=tuple(failures),
        previous_version=str(previous.version) if previous else None,
        overridden=overridden,
        reason=force_reason or "",
    )


def _kind(decision: Decision) -> str:
    if decision.overridden:
        return "override"
    return "promotion" if decision.promoted else "refusal"
