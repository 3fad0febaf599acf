"""Run commands with no route out, and record every attempt to leave loopback.

``offline`` wraps a shell command in a network namespace where only the
loopback interface is up. Putting ``AUDIT_DIR`` on a Python process's
``PYTHONPATH`` loads its sitecustomize audit hook, which appends each
connection or name lookup towards a non-loopback address to the file named by
``YONCA_NET_AUDIT_LOG``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

AUDIT_DIR = Path(__file__).resolve().parents[1] / "offline" / "audit"


def namespaces_available() -> bool:
    """Whether ``unshare -n`` works here (root or user namespaces)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


def offline(command: str) -> list[str]:
    """Wrap a shell command to run in a namespace with only loopback up."""
    return ["unshare", "-n", "sh", "-c", f"ip link set lo up && {command}"]
