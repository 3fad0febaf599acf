"""Back up a PostgreSQL-backed MLflow registry, destroy it, restore it.

Uses the PostgreSQL server of the development machines (127.0.0.1:5432, trust
auth, user postgres) and a throwaway database that is dropped at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO, SCRIPTS
from tests.support.postgres import (
    SERVER,
    admin,
    drop_database,
    postgres_answers,
    sqlalchemy_uri,
)

TOOLS = ("pg_dump", "pg_restore", "psql")


pytestmark = pytest.mark.skipif(
    any(shutil.which(name) is None for name in TOOLS) or not postgres_answers(),
    reason="needs the PostgreSQL client tools and a server at 127.0.0.1:5432",
)


@dataclass
class Store:
    database: str
    tracking_uri: str
    artifacts: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MLFLOW_DATABASE_URL": self.tracking_uri,
            "MLFLOW_ARTIFACTS_DIR": str(self.artifacts),
        }

    def destroy(self) -> None:
        drop_database(self.database)
        shutil.rmtree(self.artifacts, ignore_errors=True)


def new_store(folder: Path) -> Store:
    database = f"yonca_backup_test_{secrets.token_hex(4)}"
    admin(f'CREATE DATABASE "{database}"')
    artifacts = folder / "artifacts"
    artifacts.mkdir(parents=True)
    return Store(database, sqlalchemy_uri(database), artifacts)


def registry(command: str, store: Store) -> dict:
    """Populate or read the registry in a fresh process; its content as a dict."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.deploy.registry_snapshot", command]
        + [store.tracking_uri, str(store.artifacts)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def count_aliases(store: Store) -> int:
    import psycopg

    with psycopg.connect(f"{SERVER}/{store.database}") as connection:
        row = connection.execute("SELECT count(*) FROM registered_model_aliases")
        return row.fetchone()[0]


def script(name: str, *args: str, store: Store) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPTS / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=store.env(),
    )


@dataclass
class Cycle:
    store: Store
    backup: Path
    before: dict
    after: dict


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> Iterator[Cycle]:
    """Populate, back up, drop the database and the artifacts, then restore."""
    folder = tmp_path_factory.mktemp("backup-cycle")
    store = new_store(folder)
    try:
        before = registry("populate", store)
        backed_up = script("backup.sh", str(folder / "backups"), store=store)
        assert backed_up.returncode == 0, backed_up.stderr
        backup = Path(backed_up.stdout.strip().splitlines()[-1])

        store.destroy()
        restored = script("restore.sh", str(backup), store=store)
        assert restored.returncode == 0, restored.stderr
        yield Cycle(store, backup, before, registry("snapshot", store))
    finally:
        store.destroy()


def test_restore_brings_back_every_version_with_its_tags(cycle):
    assert set(cycle.after["versions"]) == {"1", "2", "3"}
    for number, version in cycle.before["versions"].items():
        assert cycle.after["versions"][number]["tags"] == version["tags"]
    assert cycle.after["versions"]["1"]["tags"]["gate"] == "passed"
    assert cycle.after["model_tags"] == cycle.before["model_tags"]


def test_restore_brings_back_the_aliases(cycle):
    assert cycle.after["aliases"] == {"production": 1, "candidate": 3}
    assert cycle.after["versions"]["1"]["aliases"] == ["production"]


def test_restored_artifacts_are_byte_identical(cycle):
    for number, version in cycle.before["versions"].items():
        restored = cycle.after["versions"][number]["artifact_sha256"]
        assert restored == version["artifact_sha256"], f"version {number}"


def test_restore_refuses_to_overwrite_a_live_registry_without_force(cycle):
    result = script("restore.sh", str(cycle.backup), store=cycle.store)
    assert result.returncode == 1
    assert "--force" in result.stderr
    assert count_aliases(cycle.store) == 2, "the live registry was touched"


def test_restore_refuses_a_damaged_backup(cycle, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(cycle.backup, damaged)
    dump = damaged / "database.dump"
    dump.write_bytes(dump.read_bytes()[:-10])
    target = Store(
        cycle.store.database + "_x",
        cycle.store.tracking_uri + "_x",
        tmp_path / "artifacts",
    )
    result = script("restore.sh", str(damaged), store=target)
    assert result.returncode == 1
    assert "damaged" in result.stderr
    assert not target.artifacts.exists(), "a damaged backup was unpacked"
