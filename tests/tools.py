"""System tools some tests drive (Chromium, promtool, prometheus).

make test installs them (deploy/install-test-tools.sh); a developer without
them gets a skip that says how to install, while CI fails instead: a check
that silently did not run would be a green run that proved nothing.
"""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_tool(*names: str, checks: str) -> str:
    """The path of the first of ``names`` on PATH; otherwise skip (fail under CI),
    saying what ``checks`` did not run."""
    for name in names:
        if path := shutil.which(name):
            return path
    message = (
        f"{names[0]} is not on PATH, so {checks} did not run. Install it with "
        "deploy/install-test-tools.sh (as root; it uses apt-get)."
    )
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)
