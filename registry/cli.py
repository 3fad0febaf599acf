"""Registry commands: gated promotion, rollback, and a look at the registry.

Mounted in ``yonca`` as ``yonca promote``, ``yonca rollback`` and
``yonca registry list|history|verify``. Settings come from params.yaml in
the working directory; ``MLFLOW_TRACKING_URI`` overrides its tracking URI.
Exit codes: 0 done, 1 refused or failed verification, 2 could not run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import typer

from registry.errors import RegistryError

EXIT_REFUSED, EXIT_UNUSABLE = 1, 2
OVERRIDE_HINT = (
    'to promote anyway, repeat with --force --reason "why"; the override '
    "is recorded in the audit trail."
)

HEADERS = {
    "version": "ver",
    "base_model": "base",
    "quantization": "quant",
    "golden_score": "score",
    "fine_tune": "fine-tune",
}

registry_app = typer.Typer(
    help="Inspect the model registry: versions, audit trail, production check.",
    no_args_is_help=True,
    add_completion=False,
)


class Alias(StrEnum):
    """The aliases a person may promote to."""

    production = "production"
    staging = "staging"


@contextmanager
def _registry_errors() -> Iterator[None]:
    """Turn a registry error into its message on stderr and exit code 2."""
    try:
        yield
    except RegistryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_UNUSABLE) from exc


# Rich folds a table to 80 columns when stdout is not a terminal. Piped
# output goes to a file or a script that reads one row per line, so it gets
# this width instead, unless COLUMNS says otherwise.
PIPED_WIDTH = 1000

# MLflow retries a tracking server that does not answer for about four
# minutes by default; a person at a prompt should hear within seconds. An
# explicit MLFLOW_HTTP_REQUEST_MAX_RETRIES still wins.
CLI_HTTP_RETRIES = "2"


def _open():
    """The registry's client and settings; a missing SQLite store is refused.

    Every command here works on versions that already exist, so a store that
    MLflow would create empty can only be a wrong URI.
    """
    from registry.config import load_config
    from registry.store import connect

    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", CLI_HTTP_RETRIES)
    config = load_config()
    return connect(config.tracking_uri, create=False), config


def _override_reason(force: bool, reason: str | None) -> str | None:
    if force and not (reason and reason.strip()):
        typer.echo(
            'error: --force needs --reason "…": an override without a reason '
            "cannot be audited.",
            err=True,
        )
        raise typer.Exit(EXIT_UNUSABLE)
    return reason.strip() if force else None


def _report(decision) -> None:
    typer.echo(decision.line())
    if decision.promoted:
        return
    for rule in decision.failed_rules:
        typer.echo(f"  failed rule {rule}")
    typer.echo(f"  {OVERRIDE_HINT}")
    raise typer.Exit(EXIT_REFUSED)


ForceOption = Annotated[
    bool, typer.Option("--force", help="Go ahead despite failed rules (recorded).")
]
ReasonOption = Annotated[
    str | None, typer.Option(help="Why the override is needed (with --force).")
]


def promote_command(
    version: Annotated[int, typer.Option("--version", min=1, help="Model version.")],
    alias: Annotated[Alias, typer.Option(help="Alias to move.")] = Alias.production,
    force: ForceOption = False,
    reason: ReasonOption = None,
) -> None:
    """Point ALIAS at VERSION if it passes the gate; refuse, naming the rule."""
    from registry.promotion import promote
    from registry.versions import get_version

    force_reason = _override_reason(force, reason)
    with _registry_errors():
        client, config = _open()
        decision = promote(
            client,
            config.model_name,
            get_version(client, config.model_name, version),
            alias=alias.value,
            threshold=config.threshold,
            current_golden_sha256=config.golden_set_sha256(),
            max_category_drop=config.max_category_drop,
            force_reason=force_reason,
            source="cli",
        )
    _report(decision)


def rollback_command(
    force: ForceOption = False,
    reason: ReasonOption = None,
) -> None:
    """Move production back to the version it stood on before, per the trail."""
    from registry.rollback import rollback

    force_reason = _override_reason(force, reason)
    with _registry_errors():
        client, config = _open()
        decision = rollback(client, config, force_reason=force_reason)
    _report(decision)


@registry_app.command("list")
def list_command() -> None:
    """Print every version with its model facts, aliases, score and gate."""
    from rich.table import Table

    from registry.listing import VersionRow, version_rows

    with _registry_errors():
        client, config = _open()
        rows = version_rows(client, config.model_name)
    table = Table(title=f"{config.model_name}: registered versions")
    columns = list(VersionRow.__dataclass_fields__)
    for column in columns:
        table.add_column(HEADERS.get(column, column), overflow="fold")
    for row in rows:
        table.add_row(*(getattr(row, column) for column in columns))
    _console().print(table)


def _console():
    """A console for stdout: a terminal's width, or one row per line if piped."""
    from rich.console import Console

    console = Console()
    if console.is_terminal or os.environ.get("COLUMNS"):
        return console
    return Console(width=PIPED_WIDTH)


@registry_app.command("history")
def history_command(
    limit: Annotated[int, typer.Option(min=1, help="Most recent N events.")] = 50,
    alias: Annotated[str | None, typer.Option(help="Only this alias.")] = None,
) -> None:
    """Print the audit trail, oldest first: who moved which alias, and why."""
    from registry.audit import read_events

    with _registry_errors():
        client, config = _open()
        events = read_events(client, config.model_name, alias)
    if not events:
        typer.echo(f"no audit events for '{config.model_name}' yet.")
    for event in events[-limit:]:
        typer.echo(event.line())


@registry_app.command("verify")
def verify_command() -> None:
    """Exit 0 only if production's version passed its gate and its GGUF matches."""
    from registry.verification import check_alias

    with _registry_errors():
        client, config = _open()
        check = check_alias(client, config)
    where = f"'{check.alias}' -> version {check.model_version or 'none'}"
    if check.ok:
        typer.echo(
            f"verify: OK {where}: gate passed, golden set current, artifact intact"
        )
        return
    typer.echo(f"verify: FAILED {where}: {'; '.join(check.failures)}")
    raise typer.Exit(EXIT_REFUSED)


if __name__ == "__main__":
    registry_app()
