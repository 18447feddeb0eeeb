"""Faust's aiokafka transport with a consumer fetch wait of our choosing.

Faust builds its worker consumer with ``fetch_max_wait_ms=1500`` and no
setting to change it. aiokafka keeps at most one fetch in flight per broker,
and a partition that still had records buffered when that fetch was sent is
not in it: its next record waits until the fetch returns, which on a quiet
topic is the full wait. Every internal hop (by-source, cleaned, unique) can
pay that once, so at low input rates articles sat up to 1.5 s per hop.
A short wait bounds the stall; an idle worker then sends a few more empty
fetches per second, which costs next to nothing.

And with a producer whose buffer flush waits until every table changelog
record put in it has been acknowledged (``SettledFlushBuffer``). Faust sends
changelog records "soon", through that buffer, and flushes it before it
commits offsets; but its flush returns as soon as 0.1 s pass without a record
leaving the buffer, records still in it. On a busy worker the commit then
went ahead of the state it stands for: killed at that moment, the worker left
a committed decision whose table writes never reached the changelog, and the
survivor, rebuilding the tables from it, decided the next copy of that article
unique (the two-worker kill test, 1 of 2 runs, with two offload processes
per worker on two cores).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
from faust.transport.drivers import aiokafka as driver
from faust.transport.producer import ProducerBuffer

log = logging.getLogger("newswire")

# Futures kept before the done ones are dropped (between commits, a few thousand).
_PRUNE_AT = 4096
# How long one flush waits for acknowledgements before it lets the commit go
# ahead all the same (Faust's own behaviour, with 0.1 s): a broker that does not
# acknowledge for that long is in trouble, and a flush that never returned would
# stop the worker's commits, and its stop, for good.
_FLUSH_WAIT_S = 30.0


class SettledFlushBuffer(ProducerBuffer):
    """Faust's producer buffer, whose flush returns only once every message put
    in it before the flush was acknowledged by the broker (or failed), or after
    ``_FLUSH_WAIT_S``."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._unsettled: list[Any] = []

    def put(self, fut: Any) -> None:
        unsettled = self._unsettled
        if len(unsettled) >= _PRUNE_AT:
            unsettled[:] = [f for f in unsettled if not f.done()]
        unsettled.append(fut)
        super().put(fut)

    async def flush(self) -> None:
        waiting = [f for f in self._unsettled if not f.done()]
        self._unsettled = []  # what is put from here on, the next flush waits for
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + _FLUSH_WAIT_S
        while waiting:
            if self.should_stop or self.state != "running":
                # The sender task is ending (or not there): send the rest here.
                while not self.pending.empty():
                    await self._send_pending(self.pending.get_nowait())
            if loop.time() > give_up_at:
                log.warning("flush: %d changelog records still unacknowledged after %.0f s; "
                            "committing all the same", len(waiting), _FLUSH_WAIT_S)
                return
            _, still = await asyncio.wait(waiting, timeout=1.0)
            waiting = list(still)


class _Producer(driver.Producer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.app.conf.producer_threaded:  # the threaded buffer is another path
            buffer = SettledFlushBuffer(loop=self.loop, beacon=self.beacon)
            buffer.app = self.app
            self.buffer = buffer


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
    """Give ``app`` the aiokafka transport with this fetch wait and a producer
    whose flush waits for every changelog record. Call before
    anything touches ``app.transport`` (``app.topic`` does)."""
    thread_class = _consumer_thread(fetch_max_wait_ms)

    class Consumer(driver.Consumer):
        def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
            return thread_class(self, loop=self.loop, beacon=self.beacon)

    class Transport(driver.Transport):
        pass

    Transport.Consumer = Consumer
    Transport.Producer = _Producer
    app.transport = Transport(app.conf.broker_consumer, app)
