"""Dedup state expires in event time, and expiry survives restarts.

A weak spot of Faust's windowed tables is expiry across restarts and
rebalances; the sequencer keeps its clock and sweep cursor in a changelogged
table instead. Here the worker is stopped and started between phases, so each
phase decides on the state (clock included) the worker recovered.

The local RocksDB state is deleted at each restart as well, so everything,
the clock included, comes from the changelogs (as on a new host). Before the
fix in worker/read_positions.py ("Reads before the seek to the commit" in
README) that went wrong in 4 of 6 runs: records fetched while the tables were
restored were processed, then read again from the committed offset, and the
syndicated copy, re-processed after the window had moved past it, was decided
twice (a duplicate, then unique). The last restart keeps the local state
after a clean stop, as a deploy does: the local LSH bands are kept, not
rebuilt. A restart after a crash with the local state is the kill-and-restart
test in test_faults.py.
"""

from __future__ import annotations

import random
import shutil
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from tests.integration.conftest import WorkerHandle
from tests.integration.support import Output, collect_outputs, produce

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
STORY = (
    "Harbour ferry fares rise\n\n"
    "The Lower Valley ferry company will raise fares by twelve percent from April, "
    "citing fuel costs and the repairs to its two oldest boats.\n\n"
    "Commuters who cross the harbour every weekday said the increase would add "
    "more than forty pounds a month to their travel costs.\n\n"
    "The company said a monthly pass would keep its current price until the end "
    "of the summer, and that the timetable would not change."
)
_WORDS = (
    "council", "market", "river", "station", "bridge", "school", "library", "harvest",
    "festival", "museum", "orchestra", "hospital", "stadium", "airport", "factory", "garden",
    "tunnel", "tram", "harbour", "lighthouse", "committee", "budget", "election", "weather",
    "storm", "drought", "vaccine", "theatre", "gallery", "college", "bakery", "brewery",
    "vineyard", "quarry", "railway", "canal", "reservoir", "forest", "mountain", "valley",
)


def filler(n: int) -> str:
    """An unrelated short story: its own words in its own order."""
    rng = random.Random(n)
    paragraphs = []
    for _ in range(3):
        sentence = " ".join(rng.choice(_WORDS) for _ in range(18))
        paragraphs.append(f"Report {n} says the {sentence} near the {rng.choice(_WORDS)}.")
    return f"Story number {n} from the county\n\n" + "\n\n".join(paragraphs)


def raw(url: str, text: str, hours: float) -> tuple[bytes, bytes]:
    fetched = (T0 + timedelta(hours=hours)).isoformat()
    return url.encode(), orjson.dumps({"url": url, "text": text, "fetched_at": fetched})


def restart(worker: WorkerHandle) -> None:
    """A restart on a new host: the tables come back from their changelogs alone."""
    worker.stop()
    shutil.rmtree(worker.settings.datadir)
    worker.start()


def decided(settings: Any, urls: set[str], timeout: float = 300.0) -> dict[str, Any]:
    """Reads the outputs until every one of ``urls`` has its decision."""
    deadline = time.monotonic() + timeout
    while True:
        seen = decisions(collect_outputs(settings, len(urls), timeout=30, settle=1), settings)
        if urls <= seen.keys() or time.monotonic() > deadline:
            assert urls <= seen.keys(), f"no decision for {sorted(urls - seen.keys())}"
            return seen


def decisions(outputs: list[Output], settings: Any) -> dict[str, tuple[str, str | None]]:
    """url -> (route, what it duplicates) for every output. An input decided twice
    (re-processed after a restart) must have got the same decision both times."""
    out: dict[str, tuple[str, str | None]] = {}
    for o in outputs:
        assert o.topic != settings.topic_deadletter, o.value
        if o.topic == settings.topic_duplicates:
            decision: tuple[str, str | None] = ("duplicate", o.value["duplicate_of"])
        else:
            decision = ("enriched", o.value["article_id"])
        url = o.value["url"]
        assert out.setdefault(url, decision) == decision, (url, out[url], decision)
    return out


def test_dedup_window_expires_in_event_time_across_restarts(start_worker: Any) -> None:
    # A one-day window: an article's state is gone once the stream is a day past it.
    worker = start_worker(NEWSWIRE_DEDUP_WINDOW_DAYS="1")
    settings = worker.settings
    first = "https://valley-times.example/news/ferry-fares"
    produce(settings, [raw(first, STORY, 0)])
    seen = decided(settings, {first})
    assert seen[first][0] == "enriched"
    original = seen[first][1]

    # After a restart the copy six hours later is still a duplicate.
    restart(worker)
    copy = "https://county-wire.example/ferry-fares-rise"
    # The stream moves on an hour per article, two days in all: the clock may step
    # an hour per article, so one bad timestamp cannot expire the window.
    fillers = [raw(f"https://filler{n}.example/story", filler(n), 6 + n) for n in range(42)]
    produce(settings, [raw(copy, STORY, 6), *fillers])
    filler_urls = {f"https://filler{n}.example/story" for n in range(42)}
    seen = decided(settings, {first, copy, *filler_urls})
    assert seen[copy] == ("duplicate", original)
    assert all(seen[f"https://filler{n}.example/story"][0] == "enriched" for n in range(42))

    # Restart again: the recovered clock is two days on, so the first article has
    # expired and the same story is new again; the last hours are still in the window.
    restart(worker)
    later = "https://another-paper.example/ferry"
    recent_copy = "https://county-wire.example/story-41"
    produce(settings, [raw(later, STORY, 48), raw(recent_copy, filler(41), 48)])
    seen = decided(settings, {first, copy, *filler_urls, later, recent_copy})
    assert seen[later][0] == "enriched", "expired state still matched after a restart"
    assert seen[later][1] != original
    assert seen[recent_copy] == ("duplicate", seen["https://filler41.example/story"][1])

    # A clean restart that keeps the local state: the stop stamped the local LSH
    # bands with the tables' version, the new process keeps them instead of
    # rebuilding them (worker/band_store.py), and a near copy of a story still in
    # the window is found through them.
    worker.env["NEWSWIRE_LOG_LEVEL"] = "info"
    worker.stop()
    worker.start()
    edited = "https://county-wire.example/story-40-with-a-note"
    produce(settings, [raw(edited, filler(40) + "\n\nAn editor's note was added later.", 48)])
    seen = decided(settings, {first, copy, *filler_urls, later, recent_copy, edited})
    assert seen[edited] == ("duplicate", seen["https://filler40.example/story"][1])
    log = worker.log_path.read_text(errors="replace")
    assert "the local LSH bands match the tables: kept, not rebuilt" in log, worker.log_tail()
