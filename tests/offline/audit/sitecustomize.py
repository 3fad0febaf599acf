"""Record every attempt to reach a non-loopback address, for the offline tests.

Python imports ``sitecustomize`` at start-up from ``sys.path``; the offline
tests put this folder on PYTHONPATH so that each Python process of the main
job (dvc, every stage, the server) audits its own sockets. Each attempt is
appended as one JSON line to the file named by ``YONCA_NET_AUDIT_LOG``, with
the library whose code made the call.
"""

import ipaddress
import json
import os
import sys
import traceback

_LOG = os.environ.get("YONCA_NET_AUDIT_LOG")


def _is_local(host) -> bool:
    if host in (None, "", "localhost"):
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a host name that would need resolving
    return address.is_loopback or address.is_unspecified


def _library() -> str:
    for frame in reversed(traceback.extract_stack()[:-3]):
        marker = "site-packages/"
        if marker in frame.filename:
            return frame.filename.split(marker, 1)[1].split("/", 1)[0]
    return "project code"


def _audit(event: str, args) -> None:
    if event == "socket.connect":
        address = args[1]
        host = address[0] if isinstance(address, tuple) else None
        if isinstance(address, str | bytes):  # a UNIX socket path
            return
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if _is_local(host):
        return
    entry = {
        "event": event,
        "host": str(host),
        "library": _library(),
        "argv": sys.argv[:3],
        "pid": os.getpid(),
    }
    with open(_LOG, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(entry) + "\n")


if _LOG:
    sys.addaudithook(_audit)
