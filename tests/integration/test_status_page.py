"""The status page in a real browser: headless Chromium runs its script against a
live worker, and the numbers it shows match the worker's counters."""

from __future__ import annotations

import re
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support import collect_outputs, produce
from tests.tools import require_tool
from worker.samples import build_feed

pytestmark = pytest.mark.integration

OUTPUT_DIR = Path(__file__).resolve().parents[2] / "var" / "test-output"
IDS = ("consumed", "enriched", "duplicates", "deadletters")


def _chromium() -> str:
    return require_tool(
        "chromium", "chromium-browser", "google-chrome", checks="the status page browser test"
    )


def _browser(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=6000",
             *args],
            capture_output=True, text=True, timeout=120, check=False,
        )


class _ById(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open = dict(attrs).get("id")

    def handle_data(self, data: str) -> None:
        if self._open:
            self.text[self._open] = self.text.get(self._open, "") + data

    def handle_endtag(self, tag: str) -> None:
        self._open = None


def test_status_page_shows_the_counters(start_worker: Any) -> None:
    worker = start_worker()
    feed = build_feed(40, seed=21)
    produce(worker.settings, [(i.key, i.value) for i in feed])
    assert len(collect_outputs(worker.settings, len(feed), settle=0.5)) == len(feed)
    url = worker.metrics_url.removesuffix("metrics")

    dom = _browser("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    shown = _ById()
    shown.feed(dom.stdout)
    assert shown.text.get("updated", "never") not in ("never", ""), "the script never ran"
    assert not shown.text["updated"].startswith("failed"), shown.text["updated"]
    numbers = {k: int(re.sub(r"\D", "", shown.text[k])) for k in IDS}

    s, snap = worker.settings, worker.metrics()
    assert numbers == {
        "consumed": snap.total("newswire_messages_consumed_total"),
        "enriched": snap.total("newswire_records_published_total", topic=s.topic_enriched),
        "duplicates": snap.total("newswire_duplicates_total"),
        "deadletters": snap.total("newswire_dead_letters_total"),
    }
    assert numbers["consumed"] == len(feed)
    assert "malformed_json" in dom.stdout  # the recent dead letters table

    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    shot = OUTPUT_DIR / "status-page.png"
    taken = _browser(f"--screenshot={shot}", "--window-size=1200,900", url)
    assert taken.returncode == 0 and shot.stat().st_size > 10_000, taken.stderr[-2000:]
