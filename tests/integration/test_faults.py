"""Faults on a real broker, under the default at-least-once delivery: a worker
killed mid-stream and restarted, a broker restart under a running worker, and
two workers of one app with the one holding the dedup sequencer killed.

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

import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
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


def near_copies(feed: list[FeedItem], every: int = 4) -> list[FeedItem]:
    """Syndicated near-duplicates of some plain-text originals: a new headline, one
    paragraph dropped, on another site (found by containment)."""
    copies = []
    text_originals = [i for i in feed if i.note == "unique" and b'"text"' in i.value]
    for n, item in enumerate(text_originals[::every]):
        doc = orjson.loads(item.value)
        _title, _, body = doc["text"].partition("\n\n")
        paragraphs = body.split("\n\n")
        del paragraphs[1]
        url = doc["url"].replace("news.example.com", "wire.example.net")
        copy = {"url": url, "source": "wire.example.net",
                "text": f"Wire report {n}: officials decide\n\n" + "\n\n".join(paragraphs)}
        copies.append(FeedItem(url.encode(), orjson.dumps(copy), "duplicates", "near"))
    return copies


def holds(worker: WorkerHandle, topic: str) -> bool | None:
    """Whether the worker reports lag for (so holds) a partition of ``topic``
    (reported for partitions with a committed offset, refreshed every 5 s)."""
    try:
        snap = worker.metrics()
    except OSError:
        return None
    return any(
        name == "newswire_consumer_lag_messages" and dict(labels).get("topic") == topic
        for name, labels in snap.samples
    )


def sequencer_owner(workers: list[WorkerHandle], timeout: float = 120.0) -> WorkerHandle:
    """The worker holding the dedup sequencer's partition, once both hold some
    (after traffic: the lag gauges exist only for partitions with commits)."""
    cleaned = workers[0].settings.topic_cleaned
    raw = workers[0].settings.topic_raw
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owners = [w for w in workers if holds(w, cleaned)]
        if len(owners) == 1 and all(holds(w, raw) for w in workers):
            return owners[0]
        time.sleep(1.0)
    pytest.fail("the two workers never split the partitions")


def comparable(topic: str, value: dict[str, Any]) -> bytes:
    kept = {k: v for k, v in value.items() if k not in _POSITION}
    return orjson.dumps({"topic": topic, "value": kept}, option=orjson.OPT_SORT_KEYS)


def test_two_workers_one_killed_the_survivor_takes_over(
    start_worker: WorkerFactory, tmp_path: Path
) -> None:
    feed = build_feed(60, seed=24)
    originals, followers = feed[:60], feed[60:] + near_copies(feed[:60])
    assert {i.note for i in followers} >= {"url", "exact", "near", "revision"}

    first = start_worker(**FAST_GROUP)
    second = start_worker.adopt(first.sibling(tmp_path / "second"))
    second.start()
    s = first.settings

    # Originals first and drained (as in the offline-equivalence test): across
    # partitions Kafka orders nothing, and a copy overtaking its original would
    # swap which one is "first".
    produce(s, messages(originals))
    assert len(collect_until(s, covers(len(originals)), settle=0.5)) >= len(originals)
    victim = sequencer_owner([first, second])
    survivor = second if victim is first else first
    produce(s, messages(followers))
    deadline = time.monotonic() + 120
    while (done := (published(first) or 0) + (published(second) or 0)) < len(originals) + 8:
        assert time.monotonic() < deadline, f"stuck at {done} outputs"
        time.sleep(0.2)
    # The worker deciding duplicates dies mid-stream.
    victim.kill()
    n_inputs = len(originals) + len(followers)
    outputs = collect_until(s, covers(n_inputs), settle=5.0)
    first_outputs = decided_once(survivor, outputs, n_inputs)
    # The sequencer now runs on the survivor, on the state the victim built.
    assert holds(survivor, s.topic_cleaned)

    jsonl = tmp_path / "stream.jsonl"
    jsonl.write_bytes(b"".join(i.value + b"\n" for i in originals + followers))
    result = subprocess.run(
        [sys.executable, "-m", "worker.cli", "process", str(jsonl)],
        env=first.env, capture_output=True, check=True, timeout=300,
    )
    offline = [orjson.loads(line) for line in result.stdout.splitlines()]
    # The same decisions as the offline pipeline on the same stream: no expected
    # duplicate missed across the failover, none reported for a unique article.
    assert Counter(comparable(o.topic, o.value) for o in first_outputs) == Counter(
        comparable(o["topic"], o["value"]) for o in offline
    )
    methods = Counter(o.value["method"] for o in first_outputs if o.topic == s.topic_duplicates)
    assert methods == Counter(i.note for i in followers if i.expect == "duplicates")
