"""Configure structlog once per entry point; libraries only emit events."""

from __future__ import annotations

import logging
import os
import sys

import structlog


def configure_logging(level: str | None = None, fmt: str | None = None) -> None:
    """Send key/value events to stderr, as JSON when ``LOG_FORMAT=json``."""
    level_name = (level or os.environ.get("LOG_LEVEL", "INFO")).upper()
    numeric = logging.getLevelNamesMapping().get(level_name, logging.INFO)
    fmt = (fmt or os.environ.get("LOG_FORMAT", "console")).lower()

    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # Look sys.stderr up per logger: tests and daemons may replace it.
        logger_factory=lambda *args: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Quiet the chattiest third-party loggers; their warnings still show.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for noisy in ("alembic", "mlflow", "urllib3", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
