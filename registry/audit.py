"""The audit trail: every alias decision, kept as a run in MLflow.

Each event is one finished run in the ``yonca-audit`` experiment whose tags
hold who decided, when, which alias moved from which version to which, the
scores and hashes behind it, the rules that failed and any override reason.
Being plain runs, events show in the MLflow UI and survive with the store.

Kinds of event, and whether they move the alias:
  promotion      yes  a version met every rule
  override       yes  a version failed rules and was promoted with a reason
  refusal        no   a promotion or rollback was refused
  rollback       yes  the alias went back to an earlier version
  revert         yes  the gatekeeper undid an unvetted change made elsewhere
  confirmation   yes  the gatekeeper accepted a vetted change made elsewhere
"""

from __future__ import annotations

import getpass
import os
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime

import structlog

from registry.config import AUDIT_EXPERIMENT
from registry.store import ensure_experiment

log = structlog.get_logger("registry")

MOVES_ALIAS = {"promotion", "override", "rollback", "revert", "confirmation"}
ACTOR_ENV = "YONCA_ACTOR"


@dataclass(frozen=True)
class AuditEvent:
    """One decision about an alias, as recorded in the trail."""

    kind: str
    model_name: str
    alias: str
    from_version: str = ""
    to_version: str = ""
    actor: str = ""
    source: str = ""
    golden_score: str = ""
    sha256: str = ""
    golden_set_sha256: str = ""
    rules: str = ""
    reason: str = ""
    recorded_at: str = ""

    @property
    def moves_alias(self) -> bool:
        """Whether the alias pointed at ``to_version`` after this event."""
        return self.kind in MOVES_ALIAS and bool(self.to_version)

    def line(self) -> str:
        """One human-readable line for `yonca registry history`."""
        moved = f"{self.from_version or '-'} -> {self.to_version or '-'}"
        text = (
            f"{self.recorded_at} {self.kind} {self.alias} {moved} by {self.actor} "
            f"via {self.source}"
        )
        if self.golden_score:
            text += f" score={self.golden_score}"
        if self.rules:
            text += f" rules=[{self.rules}]"
        if self.reason:
            text += f" reason={self.reason!r}"
        return text


def current_actor() -> str:
    """Who is acting: ``YONCA_ACTOR`` when set, else the login name."""
    explicit = os.environ.get(ACTOR_ENV)
    if explicit:
        return explicit
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


def record_event(client, event: AuditEvent) -> str:
    """Write ``event`` to the trail, stamping actor and time if missing.

    Returns the id of the run that holds it.
    """
    stamped = {
        **asdict(event),
        "actor": event.actor or current_actor(),
        "recorded_at": event.recorded_at or _now(),
    }
    experiment_id = ensure_experiment(client, AUDIT_EXPERIMENT, None)
    tags = {key: value for key, value in stamped.items() if value}
    tags["mlflow.user"] = stamped["actor"]
    run = client.create_run(
        experiment_id,
        tags=tags,
        run_name=f"{event.kind} {event.alias} v{event.to_version or '-'}",
    )
    client.set_terminated(run.info.run_id)
    log.info(
        "audit.recorded",
        run_id=run.info.run_id,
        kind=event.kind,
        alias=event.alias,
        model_version=event.to_version,
    )
    return run.info.run_id


def read_events(client, model_name: str, alias: str | None = None) -> list:
    """The trail of ``model_name`` (one alias, or all), oldest first."""
    experiment = client.get_experiment_by_name(AUDIT_EXPERIMENT)
    if experiment is None:
        return []
    query = f"tags.model_name = '{model_name}'"
    if alias:
        query += f" and tags.alias = '{alias}'"
    events, token = [], None
    while True:
        page = client.search_runs(
            [experiment.experiment_id], query, max_results=1000, page_token=token
        )
        events.extend(_event(run.data.tags) for run in page)
        token = page.token
        if not token:
            return sorted(events, key=lambda event: event.recorded_at)


def lineage(events: list[AuditEvent]) -> list[str]:
    """The versions the alias has stood on, most recent last.

    A rollback returns the lineage to the version it went back to, so a
    second rollback goes further back instead of toggling.
    """
    stack: list[str] = []
    for event in events:
        if not event.moves_alias:
            continue
        if event.kind == "rollback" and event.to_version in stack:
            last = len(stack) - 1 - stack[::-1].index(event.to_version)
            del stack[last + 1 :]
        elif not stack or stack[-1] != event.to_version:
            stack.append(event.to_version)
    return stack


def previous_version(events: list[AuditEvent], current) -> str | None:
    """The version the alias stood on before ``current``, per the trail."""
    stack = lineage(events)
    current = None if current is None else str(current)
    while stack and stack[-1] == current:
        stack.pop()
    return stack[-1] if stack else None


def _event(tags: dict[str, str]) -> AuditEvent:
    names = {field.name for field in fields(AuditEvent)}
    return AuditEvent(**{key: value for key, value in tags.items() if key in names})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
