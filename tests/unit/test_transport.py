"""The worker's Kafka consumer is built with the fetch wait of its settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
