"""Review an alias change made outside our tools, such as in the MLflow UI.

When the guarded alias lands on a version that breaks a promotion rule, the
alias goes back to the newest earlier version in its lineage that still
passes (or is removed when none does), and the refused version is tagged
with the reason. A change the audit trail already records as an override is
honoured; any other passing change is confirmed and recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from registry.audit import AuditEvent, lineage, read_events, record_event
from registry.config import RegistryConfig
from registry.promotion import failed_rules
from registry.versions import get_alias_version, get_version

log = structlog.get_logger("registry")

REFUSED_TAG = "gatekeeper.refused"
REFUSED_AT_TAG = "gatekeeper.refused_at"
SOURCE = "gatekeeper"


@dataclass(frozen=True)
class Review:
    """What the gatekeeper did about one alias change."""

    status: str  # ignored | confirmed | reverted | cleared
    model_version: str
    alias_now: str | None = None
    failures: tuple[str, ...] = ()


def review_alias_change(
    client, config: RegistryConfig, name: str, alias: str, version: str
) -> Review:
    """Check the version ``alias`` was just pointed at; undo it if unvetted."""
    version = str(version)
    current = get_alias_version(client, name, alias)
    now = str(current.version) if current else None
    if name != config.model_name or alias != config.alias or now != version:
        return Review("ignored", version, now)  # not guarded, or already moved on

    events = read_events(client, name, alias)
    if _recorded_override(events, version):
        return Review("confirmed", version, version)
    history = [number for number in lineage(events) if number != version]
    failures = failed_rules(
        current,
        config.golden_set_sha256(),
        config.threshold,
        client=client,
        baseline=get_version(client, name, history[-1]) if history else None,
        max_category_drop=config.max_category_drop,
    )
    if failures:
        return _revert(client, config, current, history, failures)
    return _confirm(client, config, current, lineage(events))


def _recorded_override(events: list[AuditEvent], version: str) -> bool:
    moves = [event for event in events if event.moves_alias]
    last = moves[-1] if moves else None
    return bool(last and last.to_version == version and last.reason)


def _confirm(client, config, current, stack: list[str]) -> Review:
    version = str(current.version)
    if not stack or stack[-1] != version:
        previous = stack[-1] if stack else ""
        event = _event("confirmation", config, current, previous, version)
        record_event(client, event)
    log.info("gatekeeper.confirmed", model_version=version, alias=config.alias)
    return Review("confirmed", version, version)


def _revert(client, config, current, history, failures) -> Review:
    version = str(current.version)
    target = _last_vetted(client, config, history)
    reason = "; ".join(failures)
    client.set_model_version_tag(config.model_name, version, REFUSED_TAG, reason)
    client.set_model_version_tag(
        config.model_name, version, REFUSED_AT_TAG, datetime.now(UTC).isoformat()
    )
    event = _event("revert", config, current, version, target or "", failures)
    record_event(client, event)
    if target:
        client.set_registered_model_alias(config.model_name, config.alias, target)
    else:
        client.delete_registered_model_alias(config.model_name, config.alias)
    log.warning(
        "gatekeeper.reverted",
        model_version=version,
        alias=config.alias,
        restored=target,
        rules=reason,
    )
    return Review("reverted" if target else "cleared", version, target, tuple(failures))


def _last_vetted(client, config, history: list[str]) -> str | None:
    golden = config.golden_set_sha256()
    for number in reversed(history):
        candidate = get_version(client, config.model_name, number)
        if not failed_rules(candidate, golden, config.threshold):
            return number
    return None


def _event(kind, config, version, from_version, to_version, failures=()):
    tags = version.tags
    return AuditEvent(
        kind=kind,
        model_name=config.model_name,
        alias=config.alias,
        from_version=from_version,
        to_version=to_version,
        source=SOURCE,
        golden_score=tags.get("golden_score", ""),
        sha256=tags.get("sha256", ""),
        golden_set_sha256=tags.get("golden_set_sha256", ""),
        rules="; ".join(failures),
    )
