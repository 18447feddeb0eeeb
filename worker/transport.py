"""Faust's aiokafka transport with a consumer fetch wait of our choosing.

Faust builds its worker consumer with ``fetch_max_wait_ms=1500`` and no
setting to change it. aiokafka keeps at most one fetch in flight per broker,
and a partition that still had records buffered when that fetch was sent is
not in it: its next record waits until the fetch returns, which on a quiet
topic is the full wait. Every internal hop (by-source, cleaned, unique) can
pay that once, so at low input rates articles sat up to 1.5 s per hop.
A short wait bounds the stall; an idle worker then sends a few more empty
fetches per second, which costs next to nothing.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as driver


def _consumer_thread(fetch_max_wait_ms: int) -> type[driver.AIOKafkaConsumerThread]:
    class ConsumerThread(driver.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            # Read by AIOKafkaConsumer.start() when it builds its fetcher; the
            # consumer is not started yet here.
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            return consumer

    return ConsumerThread


def install(app: faust.App, fetch_max_wait_ms: int) -> None:
    """Give ``app`` the aiokafka transport with this fetch wait. Call before
    anything touches ``app.transport`` (``app.topic`` does)."""
    thread_class = _consumer_thread(fetch_max_wait_ms)

    class Consumer(driver.Consumer):
        def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
            return thread_class(self, loop=self.loop, beacon=self.beacon)

    class Transport(driver.Transport):
        pass

    Transport.Consumer = Consumer
    app.transport = Transport(app.conf.broker_consumer, app)
