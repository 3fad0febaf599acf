"""Rollback: put an alias back on the version it stood on before.

The earlier version comes from the audit trail, not from version numbers: it
is the one the alias last stood on before its current version. It must still
meet the gate on the current golden set; ``force_reason`` overrides that.
"""

from __future__ import annotations

import structlog

from registry.audit import previous_version, read_events, record_event
from registry.config import RegistryConfig
from registry.errors import RollbackError
from registry.promotion import Decision, decide, failed_rules
from registry.versions import get_alias_version, get_version

log = structlog.get_logger("registry")


def rollback(
    client,
    config: RegistryConfig,
    *,
    alias: str | None = None,
    force_reason: str | None = None,
    source: str = "cli",
) -> Decision:
    """Move ``alias`` (production by default) back one step in its lineage.

    Raises :class:`RollbackError` when the trail knows no earlier version.
    """
    alias = alias or config.alias
    current = get_alias_version(client, config.model_name, alias)
    events = read_events(client, config.model_name, alias)
    target_number = previous_version(events, current.version if current else None)
    if target_number is None:
        raise RollbackError(
            f"the audit trail holds no version of '{config.model_name}' that "
            f"'{alias}' stood on before its current one; promote a version "
            "explicitly with `yonca promote --version N`."
        )

    target = get_version(client, config.model_name, target_number)
    failures = failed_rules(target, config.golden_set_sha256(), config.threshold)
    decision = decide(target, alias, config.threshold, failures, current, force_reason)
    kind = "rollback" if decision.promoted else "refusal"
    record_event(client, decision.audit_event(config.model_name, kind, source))
    if decision.promoted:
        client.set_registered_model_alias(config.model_name, alias, target.version)
    log.info(
        "rollback.decided",
        model_version=decision.model_version,
        alias=alias,
        rolled_back=decision.promoted,
    )
    return decision
