import os

import pytest

from yonca.privacy import TELEMETRY_SWITCHES, disable_telemetry


@pytest.fixture
def clean_env(monkeypatch):
    for name in [*TELEMETRY_SWITCHES, "YONCA_ALLOW_TELEMETRY"]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_dependency_telemetry_is_switched_off(clean_env):
    disable_telemetry()
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert os.environ["DVC_NO_ANALYTICS"] == "1"
    assert os.environ["RAGAS_DO_NOT_TRACK"] == "true"
    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"


def test_a_value_the_user_set_is_kept(clean_env):
    clean_env.setenv("MLFLOW_DISABLE_TELEMETRY", "false")
    disable_telemetry()
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "false"


def test_opting_in_leaves_the_dependencies_defaults(clean_env):
    clean_env.setenv("YONCA_ALLOW_TELEMETRY", "1")
    disable_telemetry()
    assert "MLFLOW_DISABLE_TELEMETRY" not in os.environ
    assert "DVC_NO_ANALYTICS" not in os.environ
