"""The parts of bench/stream.py whose correctness the printed numbers rest on."""

from __future__ import annotations

import orjson

from bench.stream_feed import synthetic_feed
from bench.stream_kafka import latencies, percentile
from bench.stream_memory import slope
from worker.pipeline.flow import InProcessPipeline, route_of
from worker.pipeline.records import Origin


def test_synthetic_articles_are_all_unique_to_the_sequencer() -> None:
    # The memory run claims the dedup state grows with every article: that
    # holds only if none of them is a URL, exact or near duplicate of another.
    pipeline = InProcessPipeline()
    routes = [
        route_of(pipeline.run(value, Origin("raw", 0, n, key), stop_after="dedup"))
        for n, (key, value) in enumerate(synthetic_feed(150))
    ]
    assert routes == ["unique"] * 150


def test_event_step_advances_fetched_at_and_zero_keeps_it() -> None:
    stepped = [orjson.loads(v)["fetched_at"] for _, v in synthetic_feed(3, event_step_s=3600)]
    assert stepped == ["2026-11-20T09:00:00Z", "2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z"]
    fixed = {orjson.loads(v)["fetched_at"] for _, v in synthetic_feed(3)}
    assert fixed == {"2026-11-20T09:00:00Z"}


def test_slope_is_bytes_per_article() -> None:
    assert slope([(0, 1000), (10, 1200), (20, 1400)]) == 20.0
    assert slope([(0, 5000), (100, 5000)]) == 0.0


def test_latency_pairs_send_and_receipt_by_input_and_skips_missing_ones() -> None:
    sent = {"a": 10.0, "b": 11.0, "c": 12.0}
    arrived = {"a": 10.5, "c": 12.25}
    assert latencies(sent, arrived, ["a", "b", "c"]) == [0.5, 0.25]


def test_percentile_of_a_uniform_range() -> None:
    values = [float(v) for v in range(1, 1001)]
    assert percentile(values, 0.5) == 500.5
    assert 989.0 < percentile(values, 0.99) < 991.0
