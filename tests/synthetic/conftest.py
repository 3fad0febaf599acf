"""Small seeded tables shared by the synthetic tests."""

from __future__ import annotations

import pytest

from synthetic.generator import generate

SEED = 7
FARMS = 400
CHUNK_SIZE = 150


@pytest.fixture(scope="session")
def tables():
    """Tables for 400 farms in three chunks; tests copy before changing them."""
    return generate(SEED, FARMS, chunk_size=CHUNK_SIZE)
