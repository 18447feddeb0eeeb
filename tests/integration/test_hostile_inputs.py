"""The hostile corpus (tests/hostile.py) through a real worker on a real broker.

Values larger than the raw topic's max.message.bytes (newswire's limit plus
64 KiB headroom, worker/topics.py) are refused by the broker at produce time:
the producer gets MESSAGE_SIZE_TOO_LARGE and nothing reaches the worker. But
the broker limits compressed batches: with Kafka compression a 20 MiB value
gets in, and the worker dead-letters it (too_large, copy truncated). Every
value the broker accepted ends in exactly one output topic with a sensible
outcome, and the worker process survives all of it and keeps working.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer
from kafka.errors import MessageSizeTooLargeError

from tests.hostile import DEAD, Hostile, MiB, corpus, prose
from tests.integration.support import collect_outputs, produce
from worker.security import client_options
from worker.settings import Settings
from worker.topics import raw_limit

pytestmark = pytest.mark.integration


def _refused_by_broker(settings: Settings, values: list[bytes]) -> list[BaseException | None]:
    """Sends each value with a client limit above it, so that any refusal is the
    broker's (the client would otherwise refuse first, never asking the broker)."""
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all",
        max_request_size=max(len(v) for v in values) + MiB, **client_options(settings),
    )
    try:
        futures = [producer.send(settings.topic_raw, value=v) for v in values]
        producer.flush()
        return [f.exception for f in futures]
    finally:
        producer.close()


def _produce_compressed(settings: Settings, value: bytes) -> tuple[int, int]:
    """One value in a gzip-compressed batch, as any producer may send it."""
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", compression_type="gzip",
        max_request_size=len(value) + MiB, **client_options(settings),
    )
    try:
        metadata = producer.send(settings.topic_raw, value=value).get(timeout=120)
        return metadata.partition, metadata.offset
    finally:
        producer.close()


def _peak_rss_mib(pid: int) -> float:
    """VmHWM of a process and its children (the clean/enrich pool)."""
    def hwm(p: int) -> float:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    children = [
        int(c) for task in Path(f"/proc/{pid}/task").iterdir()
        for c in (task / "children").read_text().split()
    ]
    return max([hwm(pid), *(hwm(c) for c in children)])


def test_hostile_corpus_through_the_worker(start_worker: Any) -> None:
    worker = start_worker()
    s = worker.settings
    limit = raw_limit(s.max_message_bytes)
    items = corpus(huge=True)
    accepted = [h for h in items if len(h.value) <= limit]
    oversize = [h for h in items if len(h.value) > limit]
    assert {h.name for h in oversize} == {"big/value-50MiB", "big/over-limit-11MiB"}

    # Over the topic's limit: the broker refuses at produce time, by name.
    errors = _refused_by_broker(s, [h.value for h in oversize])
    for item, error in zip(oversize, errors, strict=True):
        assert isinstance(error, MessageSizeTooLargeError), (item.name, error)
        assert "max_request_size" not in str(error), "refused by the client, not the broker"

    positions = produce(s, [(h.key, h.value) for h in accepted])
    # Past the raw limit, yet accepted: compressed, it is a few KB to the broker.
    squeezed = Hostile("kafka-gzip-20MiB", orjson.dumps(
        {"url": "https://hostile.example.org/squeezed", "text": "word " * (4 * MiB)}),
        DEAD, frozenset({"too_large"}))
    assert len(squeezed.value) > limit
    accepted.append(squeezed)
    positions.append(_produce_compressed(s, squeezed.value))
    outputs = collect_outputs(s, len(accepted), timeout=420)
    proc = worker.procs[-1]
    assert proc.poll() is None, f"the worker died:\n{worker.log_tail()}"

    def origin(value: dict[str, Any]) -> tuple[int, int]:
        if "reason" in value:
            return value["partition"], value["offset"]
        return value["origin"]["partition"], value["origin"]["offset"]

    route = {s.topic_enriched: "enriched", s.topic_duplicates: "duplicates",
             s.topic_deadletter: "deadletter"}
    by_origin = Counter(origin(o.value) for o in outputs)
    assert len(outputs) == len(accepted), worker.log_tail()
    assert set(by_origin) == set(positions) and max(by_origin.values()) == 1
    outcome = {origin(o.value): (route[o.topic], o.value.get("reason")) for o in outputs}
    wrong = [(h.name, *outcome[pos]) for h, pos in zip(accepted, positions, strict=True)
             if not h.allows(*outcome[pos])]
    assert wrong == []
    [letter] = [o.value for o in outputs if origin(o.value) == positions[-1]]
    assert letter["original_size"] == len(squeezed.value) and letter["original_truncated"]

    # Still alive and still working: an ordinary article after all of that.
    canary = prose("canary")
    produce(s, [(None, b'{"url": "https://hostile.example.org/canary", "text": "Canary\\n'
                 + canary.encode() + b'"}')])
    outputs = collect_outputs(s, len(accepted) + 1, timeout=180)
    assert any(o.topic == s.topic_enriched and o.value["url"].endswith("/canary")
               for o in outputs), worker.log_tail()
    assert proc.poll() is None
    peak = _peak_rss_mib(proc.pid)
    print(f"worker peak RSS after the hostile corpus: {peak:.0f} MiB")
    assert peak < 2048, f"worker processes peaked at {peak:.0f} MiB"
