"""Producing to and reading from the real broker in integration tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer

from worker.security import client_options
from worker.settings import Settings


def produce(
    settings: Settings, items: list[tuple[bytes | None, bytes]]
) -> list[tuple[int, int]]:
    """Publishes to the raw topic; returns each message's (partition, offset)."""
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        linger_ms=5,
        max_request_size=32 * 1024 * 1024,
        **client_options(settings),
    )
    try:
        futures = [producer.send(settings.topic_raw, key=k, value=v) for k, v in items]
        producer.flush()
        failed = [f for f in futures if f.failed()]
        assert not failed, f"{len(failed)} messages not accepted: {failed[0].exception}"
        return [(f.value.partition, f.value.offset) for f in futures]
    finally:
        producer.close()


@dataclass(frozen=True)
class Output:
    topic: str
    key: bytes | None
    value: dict[str, Any]


def origin_of(output: Output) -> tuple[int, int]:
    """The raw (partition, offset) an output record stands for."""
    v = output.value
    if "reason" in v:
        return v["partition"], v["offset"]
    return v["origin"]["partition"], v["origin"]["offset"]


def collect_outputs(
    settings: Settings, expected: int, timeout: float = 240.0, settle: float = 3.0
) -> list[Output]:
    """Reads enriched + duplicates + deadletter until ``expected`` records arrived,
    then keeps reading for ``settle`` seconds so surplus records would be seen too."""
    return collect_until(settings, lambda out: len(out) >= expected, timeout, settle)


def collect_until(
    settings: Settings,
    done: Callable[[list[Output]], bool],
    timeout: float = 240.0,
    settle: float = 3.0,
) -> list[Output]:
    """Reads enriched + duplicates + deadletter (read_committed: records of open or
    aborted transactions are never seen) from the beginning until ``done`` holds,
    then ``settle`` seconds more; returns what it read by the deadline otherwise."""
    topics = [settings.topic_enriched, settings.topic_duplicates, settings.topic_deadletter]
    consumer = KafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=32 * 1024 * 1024,
        **client_options(settings),
    )
    out: list[Output] = []
    deadline = time.monotonic() + timeout
    settle_until: float | None = None
    try:
        while True:
            for tp, messages in consumer.poll(timeout_ms=500).items():
                out.extend(Output(tp.topic, m.key, orjson.loads(m.value)) for m in messages)
            now = time.monotonic()
            if settle_until is None and done(out):
                settle_until = now + settle
            if settle_until is not None and now >= settle_until:
                return out
            if now > deadline:
                return out
    finally:
        consumer.close()
