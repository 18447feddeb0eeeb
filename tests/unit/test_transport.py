"""The worker's Kafka consumer is built with the fetch wait of its settings."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from worker.app import create_app
from worker.settings import Settings


def consumer_fetch_wait(tmp_path: Path, **overrides: int) -> int:
    settings = Settings(store="memory://", datadir=str(tmp_path), processes=0, **overrides)
    newswire = create_app(settings, prometheus=False)

    async def build() -> int:
        # The consumer Faust would start in its consumer thread; built, not started,
        # so no broker is needed.
        thread = newswire.app.consumer._thread  # type: ignore[attr-defined]
        consumer = thread._create_worker_consumer(newswire.app.transport)
        wait: int = consumer._fetch_max_wait_ms
        await consumer.stop()
        return wait

    return asyncio.run(build())


def test_the_consumer_fetch_wait_is_the_setting(tmp_path: Path) -> None:
    assert consumer_fetch_wait(tmp_path, fetch_max_wait_ms=120) == 120
    # Faust alone would have fetched with 1500 ms whatever the setting.
    assert consumer_fetch_wait(tmp_path / "b", fetch_max_wait_ms=1500) == 1500


def test_the_producer_linger_is_the_setting(tmp_path: Path) -> None:
    settings = Settings(store="memory://", datadir=str(tmp_path), processes=0,
                        producer_linger_ms=7)
    assert create_app(settings, prometheus=False).app.conf.producer_linger == 0.007


async def test_the_flush_before_a_commit_waits_for_every_changelog_record(
    tmp_path: Path,
) -> None:
    """Faust flushes its producer buffer before it commits offsets, but its flush
    returned once 0.1 s passed without a record sent, records still waiting: a
    commit could then go ahead of the table writes it stands for. A sender
    slower than that (a busy worker) must not let the flush end early."""
    settings = Settings(store="memory://", datadir=str(tmp_path), processes=0)
    newswire = create_app(settings, prometheus=False)
    buffer = newswire.app.producer.buffer
    topic = newswire.app.topic("changelog-like")
    acknowledged: list[int] = []

    async def slow_send(fut: Any) -> None:  # publish; the broker answers 0.25 s later
        await asyncio.sleep(0.25)
        acknowledged.append(fut.message.value)
        fut.set_result(None)

    buffer._send_pending = slow_send
    await buffer.start()
    try:
        for n in range(3):
            buffer.put(topic.as_future_message(key=b"k", value=n))
        await buffer.flush()
        assert acknowledged == [b"0", b"1", b"2"]
        await buffer.flush()  # nothing put since: returns at once
    finally:
        await buffer.stop()


async def test_a_stopping_buffer_sends_what_is_left_itself(tmp_path: Path) -> None:
    settings = Settings(store="memory://", datadir=str(tmp_path), processes=0)
    newswire = create_app(settings, prometheus=False)
    buffer = newswire.app.producer.buffer
    topic = newswire.app.topic("changelog-like")
    sent: list[int] = []

    async def send(fut: Any) -> None:
        sent.append(fut.message.value)
        fut.set_result(None)

    buffer._send_pending = send
    for n in range(2):  # never started: no sender task
        buffer.put(topic.as_future_message(key=b"k", value=n))
    await buffer.flush()
    assert sent == [b"0", b"1"]
