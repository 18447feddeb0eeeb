"""Dead-letter operations: list them, and replay them to the raw topic after a fix.

Replay reads the dead-letter topic up to its end offsets at start (so a replay
that dead-letters again does not loop), keeps the letters whose reason matches,
and publishes each original value under its original key. A letter whose copy
was truncated is replayed from its source position instead, which holds the
whole value while the raw topic's retention keeps it.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from worker.security import client_options
from worker.settings import Settings
from worker.topics import deadletter_limit


@dataclass(frozen=True, slots=True)
class Letter:
    key: bytes | None
    value: dict[str, Any]

    @property
    def reason(self) -> str:
        return str(self.value.get("reason", "?"))


def read_letters(settings: Settings) -> Iterator[Letter]:
    """Every dead letter currently in the topic, oldest first per partition."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=None,
        enable_auto_commit=False, max_partition_fetch_bytes=deadletter_limit(
            settings.max_message_bytes), **client_options(settings),
    )
    try:
        partitions = consumer.partitions_for_topic(settings.topic_deadletter) or set()
        tps = [TopicPartition(settings.topic_deadletter, p) for p in sorted(partitions)]
        if not tps:
            return
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > consumer.position(tp)}
        while remaining:
            for tp, messages in consumer.poll(timeout_ms=1000).items():
                for m in messages:
                    if m.offset < ends[tp]:
                        yield Letter(m.key, orjson.loads(m.value))
                if consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        consumer.close()


def _from_source(settings: Settings, letter: Letter) -> bytes | None:
    v = letter.value
    if v.get("source_topic") is None or v.get("partition") is None or v.get("offset") is None:
        return None
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=None, enable_auto_commit=False,
        max_partition_fetch_bytes=deadletter_limit(settings.max_message_bytes),
        **client_options(settings),
    )
    try:
        tp = TopicPartition(v["source_topic"], int(v["partition"]))
        consumer.assign([tp])
        consumer.seek(tp, int(v["offset"]))
        for messages in consumer.poll(timeout_ms=5000).values():
            for m in messages:
                if m.offset == int(v["offset"]):
                    return bytes(m.value)
        return None
    finally:
        consumer.close()


@dataclass
class ReplayReport:
    replayed: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)  # truncated and gone from the source


def replay(
    settings: Settings, reasons: set[str] | None, *, to_topic: str | None = None,
    dry_run: bool = False, limit: int = 0,
) -> ReplayReport:
    report = ReplayReport()
    producer = None if dry_run else KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all",
        max_request_size=deadletter_limit(settings.max_message_bytes),
        **client_options(settings),
    )
    topic = to_topic or settings.topic_raw
    try:
        for letter in read_letters(settings):
            if reasons and letter.reason not in reasons:
                report.skipped[letter.reason] += 1
                continue
            if limit and sum(report.replayed.values()) >= limit:
                report.skipped[letter.reason] += 1
                continue
            original: bytes | None = base64.b64decode(letter.value.get("original", ""))
            if letter.value.get("original_truncated"):
                original = _from_source(settings, letter)
            if original is None:
                report.lost[letter.reason] += 1
                continue
            if producer is not None:
                producer.send(topic, key=letter.key, value=original)
            report.replayed[letter.reason] += 1
        if producer is not None:
            producer.flush()
    finally:
        if producer is not None:
            producer.close()
    return report
