"""The consumer's ack bookkeeping with worker/faust_fixes.py: a message that no
stream processed (skipped during a rebalance, or fetched in an earlier consumer
generation) never becomes committable."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from worker import metrics
from worker.app import create_app
from worker.faust_fixes import interrupted_unacked
from worker.settings import Settings


def message(topic: str, offset: int, generation: int, *, taken: bool = True) -> ConsumerMessage:
    m = ConsumerMessage(topic, 0, offset, 0.0, 0, [], b"k", b"v", None,
                        generation_id=generation)
    m.tracked = taken  # what a stream sets when it takes (does not skip) the event
    return m


def committable(consumer: Any, tp: TP) -> int | None:
    return consumer._new_offset(tp)  # type: ignore[no-any-return]


def test_only_acks_of_processed_messages_of_this_generation_are_committed() -> None:
    nw = create_app(Settings(app_id="acks"), prometheus=False)
    app, consumer = nw.app, nw.app.consumer
    topic = nw.settings.topic_raw
    app.topics._acking_topics.add(topic)  # as when the route agent subscribes
    tp = TP(topic, 0)
    refetched: list[tuple[TP, int]] = []
    consumer.refetch = lambda tp, offset: refetched.append((tp, offset))

    app.consumer_generation_id = 2
    assert all(consumer.ack(message(topic, n, generation=2)) for n in range(3))
    assert committable(consumer, tp) == 3

    # During a rebalance a stream skips an event (flow control suspended) and
    # acks it: it was never processed, so the offset must stay.
    skipped = message(topic, 3, generation=2, taken=False)
    assert consumer.ack(skipped) is False
    assert skipped.acked  # settled, so the rebalance does not wait for it
    assert committable(consumer, tp) is None
    assert refetched == [(tp, 3)]  # Faust will not deliver it again by itself

    # A rebalance later (generation 3), an event fetched in generation 2.
    app.consumer_generation_id = 3
    assert consumer.ack(message(topic, 3, generation=2)) is False
    assert committable(consumer, tp) is None
    assert refetched == [(tp, 3)]  # the rebalance's own seek re-reads it

    # The same offset fetched again in generation 3 and processed: committable.
    assert consumer.ack(message(topic, 3, generation=3))
    assert committable(consumer, tp) == 4


async def test_skipped_offsets_are_read_again_once_per_burst() -> None:
    nw = create_app(Settings(app_id="refetch"), prometheus=False)
    consumer = nw.app.consumer
    tp, other = TP("t", 0), TP("t", 1)
    seeks: list[tuple[TP, int]] = []

    async def seek(partition: TP, offset: int) -> None:
        seeks.append((partition, offset))

    consumer.seek = seek
    consumer.assignment = lambda: {tp}  # ``other`` was revoked meanwhile
    for offset in (7, 5, 9):
        consumer.refetch(tp, offset)
    consumer.refetch(other, 2)
    await consumer._refetching
    assert seeks == [(tp, 5)]


def test_events_whose_processing_was_cut_short_are_not_committed() -> None:
    """A stop cancels an agent mid-event (or the agent raises); Faust's stream
    acks the event on its way out all the same."""
    nw = create_app(Settings(app_id="cut"), prometheus=False)
    app, consumer = nw.app, nw.app.consumer
    topic = nw.settings.topic_raw
    app.topics._acking_topics.add(topic)
    tp = TP(topic, 0)
    consumer.refetch = lambda tp, offset: None
    app.consumer_generation_id = 1
    done, cut = message(topic, 0, generation=1), message(topic, 1, generation=1)

    class Event:
        def __init__(self, m: ConsumerMessage) -> None:
            self.message = m

    with interrupted_unacked(app, [Event(done)]):
        pass
    with pytest.raises(asyncio.CancelledError), interrupted_unacked(app, [Event(cut)]):
        raise asyncio.CancelledError
    assert consumer.ack(done) and not consumer.ack(cut)
    assert committable(consumer, tp) == 1


async def test_a_gap_on_an_internal_topic_is_counted() -> None:
    """Faust takes a jump in the offsets read as a gap Kafka left and commits it;
    on our internal topics that never happens legitimately, so it is counted."""
    nw = create_app(Settings(app_id="gaps"), prometheus=False)
    consumer = nw.app.consumer
    internal, raw = TP(nw.settings.topic_unique, 0), TP(nw.settings.topic_raw, 0)
    counter = metrics.FAUST_GAPS.labels(topic=internal.topic)
    before = counter._value.get()
    await consumer._add_gap(raw, 3, 5)
    await consumer._add_gap(internal, 7, 9)
    assert counter._value.get() == before + 1
    assert consumer._gap[internal] and consumer._gap[raw]  # Faust's own behaviour kept
