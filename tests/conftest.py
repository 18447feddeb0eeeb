"""Suite-wide isolation: the process environment must not steer the tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings.from_env() reads os.environ; a developer's exported NEWSWIRE_*
    # or KAFKA_BOOTSTRAP would otherwise change topic names and limits.
    # NEWSWIRE_TEST_* steer the tests on purpose (the workers' log level) and stay.
    for name in list(os.environ):
        if name.startswith("NEWSWIRE_TEST_"):
            continue
        if name.startswith("NEWSWIRE_") or name == "KAFKA_BOOTSTRAP":
            monkeypatch.delenv(name)
