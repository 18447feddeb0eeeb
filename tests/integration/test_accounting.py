"""Every raw message ends up exactly once in enriched + duplicates + deadletter,
every output validates against its schema, and /metrics tells the same story."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest

from tests.integration.support import collect_outputs, origin_of, produce
from worker.samples import build_feed
from worker.schemas import validator

pytestmark = pytest.mark.integration

MAX_BYTES = 200_000


def _extra_bad_inputs() -> list[tuple[bytes | None, bytes, str]]:
    """Bad inputs beyond the sample feed's: size limit, NUL bytes, wrong shapes."""
    oversize = orjson.dumps({"url": "https://news.example.com/huge", "text": "word " * 45_000})
    assert len(oversize) > MAX_BYTES
    return [
        (b"https://news.example.com/huge", oversize, "too_large"),
        (None, b"", "malformed_json"),
        (None, b"\x00\x00\x00", "malformed_json"),
        (None, b'{"url": "https://news.example.com/x", "text": 42}', "schema_violation"),
        (None, b'{"text": "   \\n\\n  "}', "missing_content"),
        (None, b"null", "not_an_object"),
    ]


def test_every_input_is_accounted_for_exactly_once(start_worker: Any) -> None:
    worker = start_worker(NEWSWIRE_MAX_MESSAGE_BYTES=str(MAX_BYTES))
    feed = build_feed(700, seed=11)
    extras = _extra_bad_inputs()
    messages = [(i.key, i.value) for i in feed] + [(k, v) for k, v, _ in extras]
    assert len(messages) >= 1000
    expected_routes = Counter(i.expect for i in feed) + Counter({"deadletter": len(extras)})
    expected_reasons = Counter(i.note for i in feed if i.expect == "deadletter") + Counter(
        r for _, _, r in extras
    )
    expected_methods = Counter(i.note for i in feed if i.expect == "duplicates")

    produce(worker.settings, messages)
    outputs = collect_outputs(worker.settings, len(messages))

    s = worker.settings
    route = {
        s.topic_enriched: "enriched",
        s.topic_duplicates: "duplicates",
        s.topic_deadletter: "deadletter",
    }
    assert len(outputs) == len(messages), worker.log_tail()
    # Exactly once: every raw (partition, offset) is the origin of one output.
    origins = Counter(origin_of(o) for o in outputs)
    assert max(origins.values()) == 1
    assert len(origins) == len(messages)
    assert Counter(route[o.topic] for o in outputs) == expected_routes
    dead = [o.value for o in outputs if route[o.topic] == "deadletter"]
    assert Counter(d["reason"] for d in dead) == expected_reasons
    dups = [o.value for o in outputs if route[o.topic] == "duplicates"]
    assert Counter(d["method"] for d in dups) == expected_methods
    enriched = [o.value for o in outputs if route[o.topic] == "enriched"]
    assert sum(1 for e in enriched if e["revision"] == 2) == sum(
        1 for i in feed if i.note == "revision"
    )

    # The dead letter keeps the original bytes and where they came from.
    huge = next(d for d in dead if d["reason"] == "too_large")
    assert huge["source_topic"] == s.topic_raw
    assert len(huge["original"]) > MAX_BYTES

    schema_for = {
        "enriched": validator("enriched"),
        "duplicates": validator("duplicates"),
        "deadletter": validator("deadletter"),
    }
    problems = [
        (route[o.topic], problem)
        for o in outputs
        if (problem := schema_for[route[o.topic]](o.value)) is not None
    ]
    assert problems == []

    # Output keys are the article ids downstream upserts rely on.
    for o in outputs:
        if route[o.topic] != "deadletter":
            assert o.key == o.value["article_id"].encode()

    snap = worker.metrics()
    assert snap.total("newswire_messages_consumed_total", topic=s.topic_raw) == len(messages)
    for topic, name in route.items():
        assert snap.total("newswire_records_published_total", topic=topic) == expected_routes[name]
    def nonzero(counts: dict[str, float]) -> dict[str, float]:
        return {k: v for k, v in counts.items() if v}

    assert nonzero(snap.by_label("newswire_dead_letters_total", "reason")) == {
        k: float(v) for k, v in expected_reasons.items()
    }
    assert nonzero(snap.by_label("newswire_duplicates_total", "method")) == {
        k: float(v) for k, v in expected_methods.items()
    }
    assert snap.total("newswire_stage_duration_seconds_count", stage="clean") == len(messages)
    # Faust's own sensor is exported beside ours.
    assert any(name.startswith("faust_") for name, _ in snap.samples)
