"""Find the llama-server binary and run it on a free loopback port."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import answers, free_port, stop, wait_until

REPO = Path(__file__).resolve().parents[2]
# Where `make llama-server` leaves it.
BUILT_BINARY = REPO / ".cache" / "llama.cpp" / "bin" / "llama-server"


def llama_server_binary() -> Path | None:
    """LLAMA_SERVER_BIN if set, else the binary `make llama-server` built."""
    configured = os.environ.get("LLAMA_SERVER_BIN")
    path = Path(configured) if configured else BUILT_BINARY
    return path if path.is_file() and os.access(path, os.X_OK) else None


@dataclass
class LlamaServer:
    """A llama-server process and the base URL it answers on."""

    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        """Stop llama-server, killing it if it does not exit within seconds."""
        stop(self.process, seconds=15)


@contextmanager
def running_llama_server(
    binary: Path,
    model: Path,
    log_file: Path,
    *,
    parallel: int = 4,
    ctx_size: int = 2048,
    threads: int = 1,
    startup_seconds: float = 120,
    port: int | None = None,
) -> Iterator[LlamaServer]:
    """Serve ``model`` with llama-server until the block ends."""
    port = port or free_port()
    command = [
        str(binary),
        *("--model", str(model.resolve())),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--parallel", str(parallel), "--ctx-size", str(ctx_size)),
        *("--threads", str(threads)),
        # Answer a chat that ends with an assistant message, as the in-process
        # engine does, rather than continue that message.
        "--no-prefill-assistant",
        "--no-webui",
    ]
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        server = LlamaServer(f"http://127.0.0.1:{port}", process)
        try:
            _wait_until_healthy(server, log_file, startup_seconds)
            yield server
        finally:
            server.stop()


def _wait_until_healthy(server: LlamaServer, log_file: Path, seconds: float) -> None:
    def healthy() -> bool:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"llama-server exited with {server.process.returncode}; see {log_file}"
            )
        return answers(f"{server.url}/health")

    wait_until(healthy, seconds, f"llama-server (its output is in {log_file})", 0.1)
