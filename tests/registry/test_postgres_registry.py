"""Gated promotion and rollback on the development set-up, through the CLI.

``MLFLOW_TRACKING_URI`` names an ``mlflow server`` whose backend store is
PostgreSQL and whose artifact store holds the GGUF files. Each test runs the
installed ``yonca`` command in a subprocess and checks what an engineer sees:
the exit code, the verdict printed, where the alias points, the audit trail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tiny_gguf import write_tiny_gguf

pytestmark = pytest.mark.slow


def said(result) -> str:
    """Everything a command printed, for assertion messages."""
    return result.stdout + result.stderr


def tamper(copies: list[Path]) -> None:
    """Overwrite the tail of each stored GGUF, as a corrupted upload would."""
    assert copies, "the registry's GGUF is not in the server's artifact store"
    for path in copies:
        path.write_bytes(path.read_bytes()[:-16] + b"\0" * 16)


def test_vetted_version_is_promoted_and_the_trail_shows_who(served_registry):
    version = served_registry.register(score=0.9)

    result = served_registry.yonca("promote", "--version", version)

    assert result.returncode == 0, said(result)
    assert "PROMOTED to 'production'" in result.stdout
    assert served_registry.alias() == version
    promotion = f"promotion production - -> {version} by test-engineer via cli"
    assert promotion in served_registry.history()


def test_failed_gate_is_refused_naming_the_rule_and_production_stays(
    served_registry,
):
    vetted = served_registry.promoted()
    broken = served_registry.register(score=0.3)

    result = served_registry.yonca("promote", "--version", broken)

    assert result.returncode == 1, said(result)
    assert "gate-passed: gate is 'failed'" in result.stdout
    assert f"'production' stays at version {vetted}" in result.stdout
    assert served_registry.alias() == vetted
    assert f"refusal production {vetted} -> {broken}" in served_registry.history()


def test_list_shows_which_version_is_production_and_which_failed(served_registry):
    vetted = served_registry.promoted()
    served_registry.register(score=0.3)

    result = served_registry.yonca("registry", "list")

    assert result.returncode == 0, said(result)
    rows = [line for line in result.stdout.splitlines() if "tiny.gguf" in line]
    assert len(rows) == 2, result.stdout
    production = [row for row in rows if "production" in row]
    assert len(production) == 1 and "passed" in production[0]
    assert f" {vetted} " in production[0]
    failed = [row for row in rows if "failed" in row]
    assert len(failed) == 1 and "0.300" in failed[0]


def test_forced_promotion_is_recorded_with_rules_and_reason(served_registry):
    broken = served_registry.register(score=0.3)

    result = served_registry.yonca(
        "promote", "--version", broken, "--force", "--reason", "field trial"
    )

    assert result.returncode == 0, said(result)
    assert "OVERRIDDEN" in result.stdout
    assert served_registry.alias() == broken
    history = served_registry.history().splitlines()
    override = next(line for line in history if " override " in line)
    assert f"production - -> {broken}" in override
    assert "gate-passed" in override
    assert "reason='field trial'" in override


def test_rollback_puts_production_back_on_the_previous_version(served_registry):
    first = served_registry.promoted()
    second = served_registry.promoted()

    result = served_registry.yonca("rollback")

    assert result.returncode == 0, said(result)
    assert served_registry.alias() == first
    rollback = f"rollback production {second} -> {first} by test-engineer"
    assert rollback in served_registry.history()


def test_verify_passes_only_while_production_is_vetted_and_intact(served_registry):
    unset = served_registry.yonca("registry", "verify")
    assert unset.returncode == 1, said(unset)
    assert "points at nothing" in unset.stdout

    version = served_registry.promoted()
    vetted = served_registry.yonca("registry", "verify")
    assert vetted.returncode == 0, said(vetted)
    assert f"verify: OK 'production' -> version {version}" in vetted.stdout

    tamper(served_registry.stored_copies())
    damaged = served_registry.yonca("registry", "verify")
    assert damaged.returncode == 1, said(damaged)
    assert "artifact-intact" in damaged.stdout


def test_gguf_changed_in_the_artifact_store_is_refused(served_registry):
    vetted = served_registry.promoted()
    # A GGUF of its own, so that only the new version's stored copy changes.
    served_registry.gguf = write_tiny_gguf(served_registry.folder / "new.gguf", 7)
    changed = served_registry.register(score=0.95)
    tamper(served_registry.stored_copies())

    result = served_registry.yonca("promote", "--version", changed)

    assert result.returncode == 1, said(result)
    assert "artifact-intact" in result.stdout
    assert served_registry.alias() == vetted
