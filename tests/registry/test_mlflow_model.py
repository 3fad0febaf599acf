"""Each version is an MLflow model that MLflow itself can load and serve offline."""

from __future__ import annotations

import json
import socket
import subprocess
from importlib import metadata
from pathlib import Path

import mlflow
import pytest
import yaml
from typer.testing import CliRunner

from registry.errors import ArtifactError
from registry.tracking import log_evaluation
from registry.versions import get_version, local_artifact, register_candidate
from tests.registry.conftest import FACTS, MODEL, fake_record
from tests.support.offline import AUDIT_DIR, namespaces_available, offline
from tests.support.project import run
from tests.support.servers import free_port
from yonca.cli import app
from yonca.hashing import sha256_file

PRODUCTION = f"models:/{MODEL}@production"
CHAT = {"messages": [{"role": "user", "content": "When to sow wheat?"}]}
QUESTIONS = {"question": ["Is it going to rain?", "When to irrigate?"]}


def promote_to_production(version: int | str) -> None:
    result = CliRunner().invoke(app, ["promote", "--version", str(version)])
    assert result.exit_code == 0, result.output


def test_version_source_is_an_mlflow_model_holding_the_gguf(registry):
    version = get_version(registry.client, MODEL, registry.register(score=0.9))

    folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=version.source))
    flavors = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]

    assert "python_function" in flavors
    assert local_artifact(version) == folder / "artifacts" / "tiny.gguf"
    assert sha256_file(local_artifact(version)) == version.tags["sha256"]
    assert version.tags["file"] == "tiny.gguf"


def test_model_requirements_pin_the_installed_packages(registry):
    version = get_version(registry.client, MODEL, registry.register(score=0.9))

    folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=version.source))
    requirements = (folder / "requirements.txt").read_text().split()

    assert f"mlflow=={metadata.version('mlflow')}" in requirements
    assert f"llama-cpp-python=={metadata.version('llama-cpp-python')}" in requirements
    assert all("==" in line for line in requirements)


def test_registering_reaches_no_one_and_runs_no_pip(registry, monkeypatch):
    attempts = []

    def refuse_connect(sock, address):
        attempts.append(address)
        raise OSError("no network in this test")

    def refuse_lookup(host, *args, **kwargs):
        attempts.append(host)
        raise OSError("no name lookups in this test")

    def refuse_subprocess(*args, **kwargs):
        attempts.append(args)
        raise OSError("no subprocesses in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse_subprocess)

    version = registry.register(score=0.9)

    assert str(version) == "1"
    assert attempts == []


def test_registering_an_unreadable_gguf_says_what_to_check(registry, tmp_path):
    record = fake_record(registry.gguf, "g" * 64, 0.9, {"pests": 0.9}, passed=True)
    run_id = log_evaluation(registry.client, registry.experiment_id, record)
    missing = tmp_path / "gone.gguf"

    with pytest.raises(ArtifactError, match="gone.gguf.*readable"):
        register_candidate(registry.client, MODEL, missing, record, run_id, FACTS)


def test_version_registered_as_a_bare_gguf_is_still_found(registry):
    client = registry.client
    client.create_registered_model(MODEL)
    run_id = client.create_run(registry.experiment_id).info.run_id
    client.log_artifact(run_id, str(registry.gguf), artifact_path="model")
    source = f"{client.get_run(run_id).info.artifact_uri}/model"
    created = client.create_model_version(MODEL, source=source, run_id=run_id)

    artifact = local_artifact(get_version(client, MODEL, created.version))

    assert artifact.name == "tiny.gguf"
    assert sha256_file(artifact) == sha256_file(registry.gguf)


@pytest.fixture
def production(registry, monkeypatch):
    """The tiny GGUF promoted to production, loaded with MLflow."""
    monkeypatch.setenv("LLM_CONTEXT_SIZE", "256")
    promote_to_production(registry.register(score=0.9))
    return mlflow.pyfunc.load_model(PRODUCTION)


def test_production_loads_with_mlflow_and_answers_text(production):
    answers = production.predict(CHAT, params={"max_tokens": 4})
    two = production.predict(QUESTIONS, params={"max_tokens": 4})

    assert len(answers) == 1 and isinstance(answers[0], str)
    assert len(two) == 2 and all(isinstance(answer, str) for answer in two)


def test_production_input_without_a_question_says_what_to_send(production):
    with pytest.raises(ValueError, match="'question'.*'messages'"):
        production.predict(["a bare string list"], params={"max_tokens": 4})


@pytest.mark.parametrize(
    ("params", "named"),
    [({"max_tokens": -1}, "max_tokens"), ({"temperature": -3.0}, "temperature")],
)
def test_production_refuses_generation_settings_it_cannot_honour(
    production, params, named
):
    with pytest.raises(ValueError, match=named):
        production.predict(QUESTIONS, params={"max_tokens": 4, **params})


# The probe raises the audit event a name lookup would, without looking up
# anything: its entry shows that the audit hook is live in the processes run.
PROBE_HOST = "audit-probe.invalid"
BODIES = ("chat", "questions", "unanswerable")
SERVE_AND_ASK = (
    f"python -c \"import sys; sys.audit('socket.getaddrinfo', '{PROBE_HOST}', "
    '0, 0, 0, 0)"; '
    "mlflow models serve -m {model} --env-manager local -h 127.0.0.1 -p {port} "
    "& server=$!; "
    "for _ in $(seq 180); do "
    "curl -sf -o /dev/null http://127.0.0.1:{port}/ping && break; sleep 1; done; "
    "for body in {bodies}; do "
    "curl -s -o $body.answer -w '%{{http_code}}' --data @$body.json "
    "-H 'Content-Type: application/json' http://127.0.0.1:{port}/invocations "
    "> $body.status; "
    "done; kill $server; wait $server"
)


@pytest.mark.slow
def test_mlflow_models_serve_answers_offline(registry, tracking_uri, tmp_path):
    promote_to_production(registry.register(score=0.9))
    (tmp_path / "chat.json").write_text(json.dumps({**CHAT, "max_tokens": 8}))
    (tmp_path / "questions.json").write_text(json.dumps({"inputs": QUESTIONS}))
    unanswerable = {"dataframe_records": [{"question": None, "messages": None}]}
    (tmp_path / "unanswerable.json").write_text(json.dumps(unanswerable))
    audit_log = tmp_path / "network-attempts.jsonl"
    command = SERVE_AND_ASK.format(
        model=PRODUCTION, port=free_port(), bodies=" ".join(BODIES)
    )
    env = {
        "PYTHONPATH": str(AUDIT_DIR),
        "YONCA_NET_AUDIT_LOG": str(audit_log),
        "MLFLOW_TRACKING_URI": tracking_uri,
        "LLM_CONTEXT_SIZE": "256",
    }
    args = offline(command) if namespaces_available() else ["sh", "-c", command]

    result = run(args, cwd=tmp_path, env=env)

    statuses = [(tmp_path / f"{body}.status").read_text() for body in BODIES]
    assert statuses == ["200", "200", "400"], result.stdout + result.stderr[-3000:]
    chat = json.loads((tmp_path / "chat.answer").read_text())
    questions = json.loads((tmp_path / "questions.answer").read_text())
    assert len(chat) == 1 and isinstance(chat[0], str)
    assert len(questions["predictions"]) == 2
    refusal = json.loads((tmp_path / "unanswerable.answer").read_text())
    assert "neither a question nor messages" in refusal["message"]
    hosts = [json.loads(line)["host"] for line in audit_log.read_text().splitlines()]
    assert hosts == [PROBE_HOST], f"the served model tried to reach {hosts[1:]}"
