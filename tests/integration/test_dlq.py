"""`newswire dlq list|replay` on real dead letters."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from kafka import KafkaConsumer

from tests.integration.support import collect_outputs, produce

pytestmark = pytest.mark.integration

BAD = [
    (b"k-json", b'{"url": "https://news.example.com/a", "text": '),
    (b"k-array", b"[1, 2, 3]"),
    (None, b"\xff\xfe not utf-8"),
]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "worker.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_dead_letters_are_listed_and_replayed_with_their_keys(start_worker: Any) -> None:
    worker = start_worker()
    produce(worker.settings, BAD)
    assert len(collect_outputs(worker.settings, len(BAD), settle=0.5)) == len(BAD)

    listed = _cli(worker.env, "dlq", "list")
    assert listed.returncode == 0, listed.stderr
    assert "malformed_json           1" in listed.stdout
    assert "not_an_object            1" in listed.stdout
    assert "total                    3" in listed.stdout

    refused = _cli(worker.env, "dlq", "replay")
    assert refused.returncode == 2 and "--reason" in refused.stderr

    target = f"{worker.settings.app_id}.replayed"
    replayed = _cli(worker.env, "dlq", "replay", "--reason", "malformed_json",
                    "--reason", "invalid_utf8", "--to", target)
    assert replayed.returncode == 0, replayed.stderr
    assert "replayed 1 x malformed_json" in replayed.stdout
    assert "replayed 1 x invalid_utf8" in replayed.stdout

    consumer = KafkaConsumer(target, bootstrap_servers=worker.settings.bootstrap_servers,
                             auto_offset_reset="earliest", group_id=None,
                             consumer_timeout_ms=10_000)
    got = sorted(((m.key, m.value) for m in consumer), key=repr)
    consumer.close()
    assert got == sorted([BAD[0], BAD[2]], key=repr)
