"""The parts of bench/stream.py whose correctness the printed numbers rest on."""

from __future__ import annotations

import orjson

from bench.stream_failover import buckets, caught_up, log_events, read_plan, takeover_marks
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


# --- the failover phase (bench/stream_failover.py) ---------------------------------

SURVIVOR_LOG = """\
[2026-11-26 09:00:00,000] [7] [INFO] faust.tables.recovery: [^---Recovery]: Worker ready
[2026-11-26 09:01:00,500] [7] [INFO] aiokafka.consumer.group_coordinator: Revoking previously \
assigned partitions {TP(topic='r.articles.raw', partition=0)} for group r
[2026-11-26 09:01:01,000] [7] [INFO] aiokafka.consumer.group_coordinator: Setting newly \
assigned partitions {...} for group r
[2026-11-26 09:01:01,250] [7] [INFO] faust.tables.recovery: [^---Recovery]: Highwater for \
active changelog partitions:
+Highwater - Active-------------+-----------+-----------+
| topic                         | partition | highwater |
+-------------------------------+-----------+-----------+
| r-dedup-bands-changelog       | 0         | 9599      |
| r-source-lines-changelog      | 1         | 40        |
| 〃                            | 3         | 19        |
+-------------------------------+-----------+-----------+
[2026-11-26 09:01:01,300] [7] [INFO] faust.tables.recovery: [^---Recovery]: active offsets \
at start of reading:
+Reading Starts At - Active-----+-----------+--------+
| topic                         | partition | offset |
+-------------------------------+-----------+--------+
| r-dedup-bands-changelog       | 0         | -1     |
| r-source-lines-changelog      | 1         | 10     |
| 〃                            | 3         | -1     |
+-------------------------------+-----------+--------+
[2026-11-26 09:01:01,500] [7] [INFO] faust.tables.recovery: [^---Recovery]: Restoring state \
from changelog topics...
[2026-11-26 09:01:04,000] [7] [INFO] faust.tables.recovery: [^---Recovery]: Done reading \
from changelog topics
[2026-11-26 09:01:04,750] [7] [INFO] faust.tables.recovery: [^---Recovery]: Worker ready
"""


def _at(clock: str) -> float:
    from datetime import datetime

    return datetime.strptime(f"2026-11-26 {clock}", "%Y-%m-%d %H:%M:%S,%f").timestamp()


def test_takeover_marks_are_seconds_after_the_kill_and_skip_the_start_up() -> None:
    events = log_events(SURVIVOR_LOG)
    assert len(events) == 8  # table rows belong to the record above them
    marks, rebalances = takeover_marks(events, _at("09:00:30,000"))
    assert marks == {"rebalance": 30.5, "assigned": 31.0, "restore_start": 31.5,
                     "restore_done": 34.0, "ready": 34.75}
    assert rebalances == 1


def test_takeover_marks_stop_at_the_first_marker_missing() -> None:
    # A survivor still restoring when the run ended: no "done", no "ready".
    cut = SURVIVOR_LOG.split("[2026-11-26 09:01:04,000]")[0]
    marks, _ = takeover_marks(log_events(cut), _at("09:00:30,000"))
    assert list(marks) == ["rebalance", "assigned", "restore_start"]


def test_read_plan_is_highwater_minus_start_per_changelog_topic() -> None:
    plan = read_plan(log_events(SURVIVOR_LOG), _at("09:00:30,000"))
    # bands: offsets 0..9599 (start -1 means from the beginning); source-lines:
    # partition 1 from 11 to 40 (30 records), partition 3 from 0 to 19 (20).
    assert plan == {"r-dedup-bands-changelog": 9600, "r-source-lines-changelog": 50}


def test_caught_up_is_the_first_point_after_which_latency_stays_low() -> None:
    points = [(0.0, 5.0), (1.0, 5.1), (2.0, 2.2), (3.0, 6.0), (4.0, 4.3), (5.0, 5.2)]
    # (3.0, 6.0) is the last point above 1 s: caught up from the point after it.
    assert caught_up(points, 1.0) == 4
    assert caught_up(points, 10.0) == 0
    assert caught_up(points[:4], 1.0) is None
    assert caught_up([], 1.0) is None


def test_buckets_group_by_send_time_and_count_the_unanswered() -> None:
    sent = {"a": 95.0, "b": 101.0, "c": 109.0, "d": 112.0}
    arrived = {"a": 95.5, "b": 130.0, "c": 130.0}
    rows = buckets(sent, arrived, ["a", "b", "c", "d"], zero=100.0, width_s=10.0)
    assert rows[0] == (-10.0, 1, 1, 500.0, 500.0)
    assert rows[1] == (0.0, 2, 2, 25000.0, 29000.0)
    start, n, answered, p50, worst = rows[2]
    assert (start, n, answered) == (10.0, 1, 0) and p50 != p50 and worst != worst  # NaN
