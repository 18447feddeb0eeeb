"""`newswire process` and the streaming worker reach the same decisions on the
same stream: same article ids, same topics, same records (bar Kafka positions)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.support import collect_outputs, produce
from worker.samples import build_feed, seed_items

pytestmark = pytest.mark.integration

SEED_DIR = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "seed"
_POSITION = ("origin", "source_topic", "partition", "offset")


def _comparable(topic: str, value: dict[str, Any]) -> bytes:
    kept = {k: v for k, v in value.items() if k not in _POSITION}
    return orjson.dumps({"topic": topic, "value": kept}, option=orjson.OPT_SORT_KEYS)


def test_process_gives_the_workers_decisions(start_worker: Any, tmp_path: Path) -> None:
    feed = build_feed(80, seed=5)
    originals = feed[:80] + seed_items(SEED_DIR)
    followers = feed[80:]
    assert any(i.note == "exact" for i in followers)
    assert any(i.note == "revision" for i in followers)

    worker = start_worker()
    s = worker.settings
    # Originals first and drained: across partitions Kafka orders nothing, and a
    # syndicated copy overtaking its original would swap which one is "first".
    produce(s, [(i.key, i.value) for i in originals])
    first = collect_outputs(s, len(originals), settle=0.5)
    assert len(first) == len(originals), worker.log_tail()
    produce(s, [(i.key, i.value) for i in followers])
    streamed = collect_outputs(s, len(originals) + len(followers))
    assert len(streamed) == len(originals) + len(followers), worker.log_tail()

    jsonl = tmp_path / "stream.jsonl"
    jsonl.write_bytes(b"".join(i.value + b"\n" for i in originals + followers))
    result = subprocess.run(
        [sys.executable, "-m", "worker.cli", "process", str(jsonl)],
        env=worker.env, capture_output=True, check=True, timeout=300,
    )
    offline = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [o["input"] for o in offline] == [
        f"{jsonl}:{n}" for n in range(1, len(originals) + len(followers) + 1)
    ]

    got = Counter(_comparable(o.topic, o.value) for o in streamed)
    want = Counter(_comparable(o["topic"], o["value"]) for o in offline)
    assert got == want
    # The comparison above is only as strong as the mix in it.
    topics = Counter(o["topic"] for o in offline)
    assert topics[s.topic_enriched] and topics[s.topic_duplicates] and topics[s.topic_deadletter]
