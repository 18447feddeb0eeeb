"""Batches of stream events that cost no waiting: what has arrived, now.

Faust's ``take_events(n, within)`` wakes every ``within`` seconds whether or
not anything arrived, and a record that arrives just after a wake-up waits
the whole window before its batch runs. Measured on the worker (two batching
agents): a 10 ms window cost 69 ms of CPU per second of an idle worker, the
50 ms default 21, and the window added up to 50 ms per stage to latency.

Here a batch starts when its first event arrives and takes whatever else is
already waiting in the stream's buffer, up to the batch size. Under load the
buffer fills while the previous batch is being processed, so batches grow by
themselves; at low rates an article does not wait for company.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any


async def batches(stream: Any, max_size: int, linger_s: float = 0.0) -> AsyncIterator[list[Any]]:
    """Lists of events from ``stream``: each starts with the next event to arrive
    (waiting for it), then takes the events already buffered, up to ``max_size``.
    With ``linger_s`` > 0 the batch waits that long after its first event for
    more. Events are acknowledged only after the caller has handled the batch
    (its loop body ran), so an offset is committed only for handled records."""
    stream.enable_acks = False  # acked below, after the batch is handled
    channel = stream.channel
    events = stream.events().__aiter__()
    while True:
        try:
            batch = [await events.__anext__()]
        except StopAsyncIteration:
            return
        if linger_s > 0:
            await asyncio.sleep(linger_s)
        while len(batch) < max_size and not channel.empty():
            batch.append(await events.__anext__())
        yield batch
        for event in batch:
            await stream.ack(event)
