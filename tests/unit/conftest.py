"""Shared fixtures of the unit suite: our own fixture files and the optional shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures"
# ../shared next to the repository; absent on machines that only have the repo.
SHARED = Path(__file__).parents[2].parent / "shared"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def corpus() -> Path:
    path = SHARED / "corpus"
    if not path.is_dir():
        pytest.skip(f"shared corpus not found at {path}: corpus tests need ../shared/corpus")
    return path
