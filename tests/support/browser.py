"""Headless Chromium for browser tests, driven by Playwright.

The browser is Debian's Chromium (``scripts/ensure-chromium.sh`` installs
it), never one Playwright downloads: these machines reach only package
registries. ``YONCA_CHROMIUM`` names another executable.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Without the networking flags Chromium keeps calling home, and on a machine
# with a closed network each attempt fails and clutters the log.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium")


def find_chromium() -> str | None:
    """The Chromium executable to drive, or None when none is installed."""
    explicit = os.environ.get("YONCA_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def chromium_page(executable: str, profile: Path, width: int = 1400) -> Iterator:
    """A Playwright page in a fresh headless Chromium profile at ``profile``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": width, "height": 1000},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
