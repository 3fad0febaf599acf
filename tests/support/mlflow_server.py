"""Run a real ``mlflow server`` for tests that need what only a server does.

Webhooks need a SQL-backed server, and the gatekeeper listens on a loopback
address, so the server is started allowing plain http to private addresses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import answers, free_port, stop, wait_until

MLFLOW = Path(sys.executable).parent / "mlflow"


def server_env() -> dict[str, str]:
    """The environment of a server whose webhooks reach a local gatekeeper."""
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        # Every server worker must decrypt the webhook secret another one
        # stored; without a shared key each worker makes up its own.
        "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }


@contextmanager
def running_mlflow_server(
    backend_store_uri: str,
    artifacts: Path,
    log: Path,
    workers: int = 2,
    startup_seconds: float = 300,
) -> Iterator[str]:
    """Start ``mlflow server`` on a free port; yield its URL once it answers.

    Artifacts are proxied by the server and kept under ``artifacts``; the
    server's output goes to ``log``, which a failing test can point to. It
    starts in about 20 s on an idle machine, several times that on a busy one.
    """
    port = free_port()
    command = [
        str(MLFLOW),
        "server",
        "--backend-store-uri",
        backend_store_uri,
        "--artifacts-destination",
        str(artifacts),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        server = subprocess.Popen(
            command, env=server_env(), stdout=output, stderr=subprocess.STDOUT
        )
        try:
            wait_until(
                lambda: _started(server, url, log),
                startup_seconds,
                f"mlflow server (its output is in {log})",
            )
            yield url
        finally:
            stop(server)


def _started(server: subprocess.Popen, url: str, log: Path) -> bool:
    if server.poll() is not None:
        raise AssertionError(
            f"mlflow server exited with {server.returncode}; its output is in {log}"
        )
    return answers(f"{url}/health")
