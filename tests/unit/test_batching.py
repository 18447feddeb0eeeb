"""Batches of stream events: what is already waiting, at once, never more than
the batch size; acknowledged only after the batch was handled."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import faust

from worker.batching import batches


def make_stream(tmp_path: Path) -> tuple[Any, Any]:
    # An in-memory channel: the broker is never contacted.
    app = faust.App("batching-test", broker="kafka://127.0.0.1:1", store="memory://",
                    datadir=str(tmp_path), web_enabled=False)
    app.flow_control.resume()
    channel = app.channel()
    return channel, app.stream(channel)


def test_a_batch_takes_what_is_waiting_up_to_its_size(tmp_path: Path) -> None:
    async def scenario() -> list[list[int]]:
        channel, stream = make_stream(tmp_path)
        for n in range(5):
            await channel.send(value=n)
        seen: list[list[int]] = []
        async for events in batches(stream, 3):
            seen.append([e.value for e in events])
            if sum(map(len, seen)) == 5:
                break
        return seen

    assert asyncio.run(scenario()) == [[0, 1, 2], [3, 4]]


def test_a_lone_record_runs_without_waiting_for_the_batch_to_fill(tmp_path: Path) -> None:
    async def scenario() -> list[int]:
        channel, stream = make_stream(tmp_path)

        async def later() -> None:
            await asyncio.sleep(0.05)
            await channel.send(value=7)

        feeder = asyncio.ensure_future(later())
        gen = batches(stream, 32)
        # A deadline, not a measurement: nothing else ever arrives.
        events = await asyncio.wait_for(gen.__anext__(), 30)
        await feeder
        return [e.value for e in events]

    assert asyncio.run(scenario()) == [7]


def test_a_window_waits_after_the_first_record_for_more(tmp_path: Path) -> None:
    async def scenario() -> list[int]:
        channel, stream = make_stream(tmp_path)

        async def trickle() -> None:
            for n in range(3):
                await channel.send(value=n)
                await asyncio.sleep(0.01)

        feeder = asyncio.ensure_future(trickle())
        async for events in batches(stream, 32, linger_s=2.0):
            values = [e.value for e in events]
            break
        await feeder
        return values

    assert asyncio.run(scenario()) == [0, 1, 2]


def test_events_are_acked_only_after_the_batch_was_handled(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[bool], list[bool], list[int]]:
        channel, stream = make_stream(tmp_path)
        acked: list[Any] = []
        original = stream.ack

        async def ack(event: Any) -> bool:
            acked.append(event)
            return bool(await original(event))

        stream.ack = ack
        for n in range(2):
            await channel.send(value=n)
        gen = batches(stream, 2)
        first = await gen.__anext__()
        during = [e in acked for e in first]
        await channel.send(value=9)
        # Asking for the next batch means the loop body finished with this one.
        second = await gen.__anext__()
        return during, [e in acked for e in first], [e.value for e in second]

    during, after, second = asyncio.run(scenario())
    assert during == [False, False]
    assert after == [True, True]
    assert second == [9]


def test_an_event_skipped_during_a_rebalance_does_not_hold_the_batch(tmp_path: Path) -> None:
    """A rebalance suspends flow control just after a batch's first event: the
    stream skips the next event it reads. The batch must still be handed on (its
    events acked), or the rebalance waits for them for ever (Faust's wait_empty)."""
    async def scenario() -> list[int]:
        channel, stream = make_stream(tmp_path)
        app = stream.app

        def rebalance_starts(value: int) -> int:
            if value == 0:
                app.flow_control.suspend()
            return value

        stream.add_processor(rebalance_starts)
        for n in range(2):
            await channel.send(value=n)
        gen = batches(stream, 8)
        # A deadline, not a measurement: before the fix this never returned.
        events = await asyncio.wait_for(gen.__anext__(), 30)
        await gen.aclose()
        return [e.value for e in events]

    assert asyncio.run(scenario()) == [0]


def test_events_never_handled_are_settled_as_unprocessed(tmp_path: Path) -> None:
    """The agent stops (or crashes) with a batch in hand and events queued: each
    is acked as interrupted (not committed, read again), none left pending."""
    async def scenario() -> tuple[list[int], list[int]]:
        channel, stream = make_stream(tmp_path)
        marked: list[int] = []
        stream.app.consumer.interrupted = lambda ms: marked.extend(m.value for m in ms)
        acked: list[int] = []
        original = stream.ack

        async def ack(event: Any) -> bool:
            acked.append(event.value)
            return bool(await original(event))

        stream.ack = ack
        for n in range(4):
            await channel.send(value=n)
        gen = batches(stream, 2)
        await gen.__anext__()  # [0, 1] in hand; 2, 3 queued or on the way
        await asyncio.sleep(0.05)
        await gen.aclose()
        return sorted(marked), sorted(acked)

    marked, acked = asyncio.run(scenario())
    assert marked == acked
    assert marked == [0, 1, 2, 3]
