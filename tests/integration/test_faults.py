"""Faults on a real broker, under the default at-least-once delivery: a worker
killed mid-stream and restarted, and a broker restart under a running worker.
(Two workers with the sequencer's owner killed: see the note at the end.)

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
    assert Counter(o.topic for o in first) == Counter(
        getattr(worker.settings, f"topic_{i.expect}") for i in feed
    )


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


# Not here yet: two workers of one app with the one holding the dedup sequencer
# SIGKILLed. Its test (branch wip/failover) failed in two of its three runs so
# far: after the rebalance 6 and 12 of 99 inputs stayed undecided past a
# 4-minute wait. Until that is understood it would only make this suite red.
