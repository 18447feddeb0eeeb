"""The exactly-once publisher's pure parts: where copies of one input's record
land, and the bounded memory of what was published."""

from __future__ import annotations

import pytest

from worker.outbox import (
    DEST_HEADER,
    INPUT_HEADER,
    SeenInputs,
    header,
    outbox_headers,
    outbox_partition,
)
from worker.settings import Settings
from worker.topics import topic_specs


def test_every_copy_of_an_input_lands_in_one_partition_and_inputs_spread() -> None:
    tokens = [f"articles.raw:{p}:{o}" for p in range(4) for o in range(500)]
    parts = [outbox_partition(t, 4) for t in tokens]
    assert parts == [outbox_partition(t, 4) for t in tokens]  # stable
    counts = [parts.count(p) for p in range(4)]
    assert min(counts) > 400, counts  # 2,000 inputs, roughly even


def test_headers_name_the_destination_and_the_input() -> None:
    headers = outbox_headers("articles.enriched", "articles.raw:1:42")
    assert header(headers, DEST_HEADER) == "articles.enriched"
    assert header(headers, INPUT_HEADER) == "articles.raw:1:42"
    # An input without a Kafka position (offline) carries no input header.
    assert header(outbox_headers("articles.enriched", None), INPUT_HEADER) is None
    assert header(None, DEST_HEADER) is None


def test_seen_inputs_remember_the_window_before_the_newest_record() -> None:
    seen = SeenInputs(window_ms=1_000)
    seen.add("a", 10_000)
    seen.add("b", 10_500)
    assert "a" in seen and "b" in seen
    seen.add("c", 11_000)  # "a" is exactly one window old: still a repeat
    assert "a" in seen
    seen.add("d", 11_001)
    assert "a" not in seen and "b" in seen and len(seen) == 3
    # A late record (older timestamp) does not move the horizon back.
    seen.add("e", 10_600)
    assert "e" in seen and "b" in seen


def test_seen_inputs_stay_bounded_over_a_long_stream() -> None:
    seen = SeenInputs(window_ms=60_000)
    for n in range(100_000):  # one input every 10 ms for 1,000 s
        seen.add(f"raw:0:{n}", n * 10)
    assert len(seen) == 6_001  # the last minute, both ends included
    assert "raw:0:99999" in seen and "raw:0:93999" in seen and "raw:0:93998" not in seen


def test_exactly_once_is_a_setting_with_its_own_topics() -> None:
    settings = Settings.from_env({"NEWSWIRE_PROCESSING_GUARANTEE": "exactly_once",
                                  "NEWSWIRE_APP_ID": "nw"})
    assert settings.exactly_once
    names = {s.name for s in topic_specs(settings)}
    assert {"nw-outbox", "nw-outbox-seen"} <= names
    assert "nw-outbox" not in {s.name for s in topic_specs(Settings(app_id="nw"))}
    with pytest.raises(ValueError, match="PROCESSING_GUARANTEE must be one of"):
        Settings.from_env({"NEWSWIRE_PROCESSING_GUARANTEE": "exactly-once"})
    with pytest.raises(ValueError, match="REPEAT_WINDOW_S"):
        Settings.from_env({"NEWSWIRE_REPEAT_WINDOW_S": "0"})
