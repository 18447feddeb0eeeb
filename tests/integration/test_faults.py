"""Faults on a real broker: a worker killed mid-stream and restarted (under
at-least-once and under exactly-once), a broker restart under a running
worker, and two workers with the one holding the dedup sequencer killed.

Every input must end up in an output topic; an input processed again after a
crash (its offset was not committed) may appear again, but only as a pure
repeat: the same decision (article_id, topic, duplicate_of, method, revision).
The dedup sequencer makes that so (README, "Re-processing is not re-sending").

Faust's group timings are shortened through its own environment variables
(BROKER_SESSION_TIMEOUT, BROKER_HEARTBEAT_INTERVAL): with the default 60 s
session a killed member holds its partitions, and a restarted one waits to
join, for up to a minute (measured: 43 s from restart to assignment), which is
most of each test's time. 15 s still leaves the worker's event loop room on a
loaded 2-core machine: heavy work runs in the process pool."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (
    WorkerFactory,
    WorkerHandle,
    start_broker,
    stop_broker,
)
from tests.integration.support import Output, collect_until, origin_of, produce
from worker.samples import FeedItem, build_feed

pytestmark = pytest.mark.integration

FAST_GROUP = {"BROKER_SESSION_TIMEOUT": "15", "BROKER_HEARTBEAT_INTERVAL": "2"}
_POSITION = ("origin", "source_topic", "partition", "offset")


def published(worker: WorkerHandle) -> float | None:
    """Final records the worker has published, or None when /metrics is too slow."""
    s = worker.settings
    try:
        snap = worker.metrics()
    except OSError:  # a busy worker may miss a scrape's timeout
        return None
    return sum(
        snap.total("newswire_records_published_total", topic=t)
        for t in (s.topic_enriched, s.topic_duplicates, s.topic_deadletter)
    )


def wait_for_progress(worker: WorkerHandle, outputs: int, timeout: float = 180.0) -> None:
    """Polls /metrics until the worker has published ``outputs`` final records (so
    a fault lands mid-stream: some work done and committed, some not)."""
    deadline = time.monotonic() + timeout
    while (done := published(worker)) is None or done < outputs:
        if time.monotonic() > deadline:
            pytest.fail(f"worker stuck at {done} outputs:\n{worker.log_tail()}")
        time.sleep(0.2)


def covers(n_inputs: int) -> Callable[[list[Output]], bool]:
    """Until every input (raw partition, offset) has at least one output."""
    return lambda out: len({origin_of(o) for o in out}) >= n_inputs


def messages(feed: list[FeedItem]) -> list[tuple[bytes | None, bytes]]:
    return [(i.key, i.value) for i in feed]


def decided_once(worker: WorkerHandle, outputs: list[Output], n_inputs: int) -> list[Output]:
    """Every input has outputs, and its repeats (re-processing after a fault) are
    the same decision; returns one output per input."""
    by_origin: dict[tuple[int, int], list[Output]] = defaultdict(list)
    for o in outputs:
        by_origin[origin_of(o)].append(o)
    assert len(by_origin) == n_inputs, (
        f"{n_inputs - len(by_origin)} inputs lost\n{worker.log_tail()}")
    differing = {
        origin: sorted({decision(o) for o in outs}, key=repr)
        for origin, outs in by_origin.items()
        if len({decision(o) for o in outs}) > 1
    }
    repeats = sum(len(outs) - 1 for outs in by_origin.values())
    print(f"{repeats} repeated outputs, {len(differing)} inputs decided differently")
    assert not differing, f"{len(differing)} inputs decided differently: {differing}"
    return [outs[0] for outs in by_origin.values()]


def decision(o: Output) -> tuple[Any, ...]:
    """What was decided about an input, without where the record was written."""
    v = o.value
    return (o.topic, v.get("article_id"), v.get("duplicate_of"), v.get("method"),
            v.get("revision"), v.get("supersedes"), v.get("reason"))


def test_a_killed_worker_restarts_and_only_repeats(start_worker: WorkerFactory) -> None:
    feed = build_feed(80, seed=22)
    worker = start_worker(**FAST_GROUP)
    produce(worker.settings, messages(feed))
    wait_for_progress(worker, len(feed) // 4)
    worker.kill()
    worker.start()
    outputs = collect_until(worker.settings, covers(len(feed)), settle=5.0)
    first = decided_once(worker, outputs, len(feed))
    assert Counter(o.topic for o in first) == expected_topics(worker, feed)


@pytest.fixture
def own_broker(tmp_path: Path) -> Any:
    """A broker of this test's own, so restarting it disturbs no other test."""
    data_dir = tmp_path / "kafka"
    bootstrap = start_broker(data_dir)
    try:
        yield data_dir, bootstrap
    finally:
        stop_broker(data_dir)


def test_the_worker_rides_out_a_broker_restart(own_broker: Any, tmp_path: Path) -> None:
    data_dir, bootstrap = own_broker
    factory = WorkerFactory(bootstrap, tmp_path)
    try:
        feed = build_feed(80, seed=23)
        half = len(feed) // 2
        worker = factory(**FAST_GROUP)
        produce(worker.settings, messages(feed[:half]))
        wait_for_progress(worker, half // 3)
        stop_broker(data_dir)
        assert start_broker(data_dir) == bootstrap  # same data, same port
        produce(worker.settings, messages(feed[half:]))
        outputs = collect_until(worker.settings, covers(len(feed)), settle=5.0)
        assert worker.procs[-1].poll() is None, "the worker died with the broker"
        decided_once(worker, outputs, len(feed))
    finally:
        factory.stop_all()


def dedup_decisions(worker: WorkerHandle) -> float:
    """Decisions the worker's dedup sequencer has made (0 if it holds none)."""
    try:
        return worker.metrics().total("newswire_stage_duration_seconds_count", stage="dedup")
    except OSError:
        return 0.0



def expected_topics(worker: WorkerHandle, feed: list[FeedItem]) -> Counter[str]:
    return Counter(getattr(worker.settings, f"topic_{i.expect}") for i in feed)


def once_each(worker: WorkerHandle, outputs: list[Output], feed: list[FeedItem]) -> None:
    """Exactly one output per input, in the topic its kind leads to."""
    per_input = Counter(origin_of(o) for o in outputs)
    repeated = {origin: n for origin, n in per_input.items() if n > 1}
    assert len(per_input) == len(feed), (
        f"{len(feed) - len(per_input)} inputs lost\n{worker.log_tail()}")
    assert not repeated, f"{len(repeated)} inputs published more than once: {repeated}"
    assert Counter(o.topic for o in outputs) == expected_topics(worker, feed)
    dropped = worker.metrics().total("newswire_outbox_repeats_dropped_total")
    print(f"exactly_once: {len(outputs)} outputs for {len(feed)} inputs; "
          f"{dropped:.0f} repeats dropped by this worker's publisher")


def test_exactly_once_a_killed_worker_leaves_each_input_once(
    start_worker: WorkerFactory,
) -> None:
    """processing_guarantee=exactly_once: a SIGKILL mid-stream and a restart,
    and a read_committed consumer sees one final record per input."""
    feed = build_feed(80, seed=25)
    worker = start_worker(**FAST_GROUP, NEWSWIRE_PROCESSING_GUARANTEE="exactly_once")
    produce(worker.settings, messages(feed))
    wait_for_progress(worker, len(feed) // 4)
    worker.kill()
    worker.start()
    outputs = collect_until(worker.settings, covers(len(feed)), settle=8.0)
    once_each(worker, outputs, feed)


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_a_survivor_takes_over_from_a_killed_worker(
    start_worker: WorkerFactory, tmp_path: Path, guarantee: str
) -> None:
    """Two workers of one app; the one holding the dedup sequencer is SIGKILLed
    mid-stream. The survivor gets its partitions and recovers the tables from
    their changelogs: every input decided, repeats only as the same decision
    (at-least-once) or none at all (exactly-once)."""
    feed = build_feed(99, seed=24)
    first = start_worker(**FAST_GROUP, NEWSWIRE_PROCESSING_GUARANTEE=guarantee)
    second = start_worker.adopt(first.sibling(tmp_path / "second"))
    second.start()
    produce(first.settings, messages(feed))
    deadline = time.monotonic() + 180
    while (owner := next((w for w in (first, second) if dedup_decisions(w) > 0), None)) is None:
        if time.monotonic() > deadline:
            pytest.fail(f"no sequencer decided anything:\n{first.log_tail()}\n{second.log_tail()}")
        time.sleep(0.2)
    survivor = second if owner is first else first
    wait_for_progress(owner, len(feed) // 5)
    owner.kill()
    outputs = collect_until(first.settings, covers(len(feed)), settle=8.0)
    assert survivor.procs[-1].poll() is None, f"the survivor died:\n{survivor.log_tail()}"
    if guarantee == "exactly_once":
        once_each(survivor, outputs, feed)
    else:
        decided = decided_once(survivor, outputs, len(feed))
        assert Counter(o.topic for o in decided) == expected_topics(first, feed)
