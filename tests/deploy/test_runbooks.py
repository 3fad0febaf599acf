"""The runbooks name commands, scripts and endpoints that really exist."""

from __future__ import annotations

import re

import pytest

from tests.deploy.conftest import REPO

RUNBOOKS = REPO / "docs" / "runbooks"
REQUIRED = (
    "high-cpu.md",
    "database-connection.md",
    "inference-slow-or-failing.md",
    "rollback.md",
    "secret-rotation.md",
    "disaster-recovery.md",
)


def runbook_texts() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(RUNBOOKS.glob("*.md"))}


def yonca_commands() -> set[str]:
    """Every `yonca ...` command line the CLI accepts, as 'word' or 'group word'."""
    from registry.cli import registry_app
    from yonca.cli import app

    names = {command.name for command in app.registered_commands}
    names |= {
        f"registry {command.name}" for command in registry_app.registered_commands
    }
    groups = {group.name for group in app.registered_groups}
    return names | groups | {"golden check"}


def api_paths() -> set[str]:
    from serving.openai_routes import router as openai_router
    from serving.ops_routes import router as ops_router

    return {route.path for route in [*openai_router.routes, *ops_router.routes]}


def test_every_required_runbook_exists():
    missing = [name for name in REQUIRED if not (RUNBOOKS / name).is_file()]
    assert not missing


def test_runbooks_link_only_to_runbooks_that_exist():
    for name, text in runbook_texts().items():
        for target in re.findall(r"\]\(([\w.-]+\.md)\)", text):
            assert (RUNBOOKS / target).is_file(), f"{name} links to missing {target}"


@pytest.mark.parametrize("name", REQUIRED)
def test_yonca_commands_in_runbooks_exist(name):
    known = yonca_commands()
    text = (RUNBOOKS / name).read_text()
    # A command starts a line of a code block or an inline code span.
    pattern = r"(?:^\s*|`|\.venv/bin/)yonca ((?:registry )?[a-z]+)\b"
    for words in re.findall(pattern, text, re.MULTILINE):
        assert words in known, f"{name}: `yonca {words}` is not a command"


def test_rollback_and_recovery_runbooks_use_the_project_tools():
    texts = runbook_texts()
    assert "yonca rollback" in texts["rollback.md"]
    assert "scripts/backup.sh" in texts["disaster-recovery.md"]
    assert "scripts/restore.sh" in texts["disaster-recovery.md"]


def test_scripts_named_in_runbooks_exist():
    for name, text in runbook_texts().items():
        for script in set(re.findall(r"scripts/[\w-]+\.sh", text)):
            assert (REPO / script).is_file(), f"{name}: {script} does not exist"


def test_api_endpoints_in_runbooks_are_served():
    paths = api_paths()
    for name, text in runbook_texts().items():
        for path in set(re.findall(r"\$API(/[\w/.-]*\w)", text)):
            assert path in paths, f"{name}: the API has no {path}"
