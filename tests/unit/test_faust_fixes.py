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


def record(tp: TP, offset: int) -> Any:
    from aiokafka.structs import ConsumerRecord
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


def fetching(consumer: Any, batches: list[dict[TP, list[Any]]]) -> None:
    """The consumer fetches these batches, one per getmany, with flow on."""
    async def _getmany(active_partitions: Any, timeout: float) -> dict[TP, list[Any]]:
        return batches.pop(0) if batches else {}

    consumer._getmany = _getmany
    consumer.flow_active = True
    consumer.highwater = lambda tp: 0


@pytest.mark.parametrize("topic", ["unique", "raw"])
async def test_records_of_a_batch_fetched_before_a_seek_are_not_delivered(topic: str) -> None:
    """The takeover we logged: the rebalance's seek to the committed offsets lands
    while a batch is being handed on; Faust delivered the rest of it and read the
    jump as a gap (committed unprocessed). The rest is dropped, read again. On an
    input topic (gaps allowed) too: the batch was fetched before the seek."""
    nw = create_app(Settings(app_id="stale"), prometheus=False)
    consumer = nw.app.consumer
    name = getattr(nw.settings, f"topic_{topic}")
    nw.app.topics._acking_topics.add(name)
    tp = TP(name, 0)
    consumer._set_active_tps({tp})
    sought: list[tuple[TP, int]] = []

    async def _seek(partition: TP, offset: int) -> None:
        sought.append((partition, offset))

    consumer._seek = _seek
    refetched: list[tuple[TP, int | None]] = []
    consumer.refetch = lambda tp, offset: refetched.append((tp, offset))
    await consumer.seek(tp, 4)
    fetching(consumer, [{tp: [record(tp, o) for o in range(4, 8)]},
                        {tp: [record(tp, o) for o in range(4, 9)]}])
    delivered = []
    async for _, m in consumer.getmany(1.0):
        delivered.append(m.offset)
        if m.offset == 6:
            await consumer.seek(tp, 4)  # seek_to_committed, mid-batch
    assert delivered == [4, 5, 6]
    assert refetched == [(tp, None)]
    async for _, m in consumer.getmany(1.0):
        delivered.append(m.offset)
    assert delivered == [4, 5, 6, 4, 5, 6, 7, 8]
    assert sought == [(tp, 4), (tp, 4)]
    assert not consumer._gap[tp]  # nothing for Faust to commit unread


def reading_consumer(app_id: str, topic: str) -> tuple[Any, TP, list[tuple[TP, int | None]]]:
    """The consumer of a new app reading partition 0 of one of its topics (a
    settings name: "raw", "cleaned"), and the list its seeks back go to."""
    nw = create_app(Settings(app_id=app_id), prometheus=False)
    consumer = nw.app.consumer
    name = getattr(nw.settings, f"topic_{topic}")
    nw.app.topics._acking_topics.add(name)
    tp = TP(name, 0)
    consumer._set_active_tps({tp})
    refetched: list[tuple[TP, int | None]] = []
    consumer.refetch = lambda tp, offset: refetched.append((tp, offset))
    return consumer, tp, refetched


async def test_records_faust_did_not_hand_on_are_read_again() -> None:
    """Faust stops handing on a batch when flow stops; aiokafka has moved on."""
    consumer, tp, refetched = reading_consumer("cut-batch", "cleaned")
    fetching(consumer, [{tp: [record(tp, o) for o in range(0, 5)]}])
    async for _, m in consumer.getmany(1.0):
        if m.offset == 1:
            consumer.flow_active = False  # a rebalance starts
    assert consumer.positions.next_offset(tp) == 2
    assert refetched == [(tp, None)]


def test_a_gapless_topic_commits_only_from_the_committed_offset() -> None:
    """Faust lets one unacked record at the head go (room for a transaction
    marker); on our internal topics, and on a refused record, it must not."""
    nw = create_app(Settings(app_id="head"), prometheus=False)
    app, consumer = nw.app, nw.app.consumer
    consumer.refetch = lambda tp, offset: None
    app.consumer_generation_id = 1
    internal, raw = nw.settings.topic_unique, nw.settings.topic_raw
    for topic in (internal, raw):
        app.topics._acking_topics.add(topic)
        consumer._committed_offset[TP(topic, 0)] = 10
        for offset in (11, 12):
            assert consumer.ack(message(topic, offset, generation=1))
    assert committable(consumer, TP(internal, 0)) is None
    assert committable(consumer, TP(raw, 0)) == 13  # Faust's marker slack, kept
    # a refused head record on the input topic is not a marker
    raw1 = TP(raw, 1)
    consumer._committed_offset[raw1] = 10
    skipped = ConsumerMessage(raw, 1, 10, 0.0, 0, [], b"k", b"v", None, generation_id=1)
    skipped.tracked = False
    assert not consumer.ack(skipped)
    m = ConsumerMessage(raw, 1, 11, 0.0, 0, [], b"k", b"v", None, generation_id=1)
    m.tracked = True
    assert consumer.ack(m)
    assert committable(consumer, raw1) is None


async def test_records_fetched_before_the_seek_to_the_commit_are_read_once() -> None:
    """The start without local state we logged: recovery restores tables with the
    fetcher running, and Faust resumes the stream partitions before seeking them
    to their committed offsets. What was fetched meanwhile is dropped, and read
    from the commit; a partition with no commit, or one at 0, from 0 (aiokafka
    does not seek it)."""
    nw = create_app(Settings(app_id="assigned"), prometheus=False)
    consumer = nw.app.consumer
    topic = nw.settings.topic_raw
    nw.app.topics._acking_topics.add(topic)
    committed_tp, fresh_tp, zero_tp = TP(topic, 0), TP(topic, 1), TP(topic, 2)
    consumer._set_active_tps({committed_tp, fresh_tp, zero_tp})
    sought: list[tuple[TP, int]] = []

    async def _seek(partition: TP, offset: int) -> None:
        sought.append((partition, offset))

    async def base_seek_to_committed(self: Any) -> dict[TP, int | None]:
        return {committed_tp: 2, fresh_tp: None, zero_tp: 0}

    consumer._seek = _seek
    refetched: list[tuple[TP, int | None]] = []
    consumer.refetch = lambda tp, offset: refetched.append((tp, offset))
    base = type(consumer).__mro__[1]
    original = base.seek_to_committed
    base.seek_to_committed = base_seek_to_committed
    try:
        consumer.positions.assigned([committed_tp, fresh_tp, zero_tp])
        fetching(consumer, [{committed_tp: [record(committed_tp, o) for o in range(2, 5)],
                             fresh_tp: [record(fresh_tp, o) for o in range(0, 3)]},
                            {committed_tp: [record(committed_tp, o) for o in range(2, 5)],
                             fresh_tp: [record(fresh_tp, o) for o in range(0, 3)]}])
        delivered = [m.offset async for _, m in consumer.getmany(1.0)]
        assert delivered == []  # the partitions await their seek
        await consumer.seek_to_committed()
        assert sorted(sought) == [(fresh_tp, 0), (zero_tp, 0)]  # aiokafka did committed_tp
        # Where records were dropped, a read from the offset wanted next follows:
        # one dropped after aiokafka's seek, before the bookkeeping, is not lost.
        assert sorted(refetched) == [(committed_tp, None), (fresh_tp, None)]
        delivered = [(tp.partition, m.offset) async for tp, m in consumer.getmany(1.0)]
        assert sorted(delivered) == [(0, 2), (0, 3), (0, 4), (1, 0), (1, 1), (1, 2)]
    finally:
        base.seek_to_committed = original


async def test_a_batch_fetched_as_flow_stops_is_read_again_without_a_commit() -> None:
    """Flow stops (a rebalance begins) between the fetch and the hand-on: Faust
    hands on nothing and seeks to the committed offsets, which does not move a
    partition that has none: ours sends it back to the start, from where its
    records are read again."""
    consumer, tp, refetched = reading_consumer("no-commit", "raw")
    sought: list[tuple[TP, int]] = []

    async def _seek(partition: TP, offset: int) -> None:
        sought.append((partition, offset))

    consumer._seek = _seek

    async def _getmany(active_partitions: Any, timeout: float) -> dict[TP, list[Any]]:
        consumer.flow_active = False  # a rebalance starts as the fetch returns
        return {tp: [record(tp, o) for o in range(3, 6)]}

    async def base_seek_to_committed(self: Any) -> dict[TP, int | None]:
        return {tp: None}

    consumer._getmany = _getmany
    consumer.flow_active = True
    base = type(consumer).__mro__[1]
    original = base.seek_to_committed
    base.seek_to_committed = base_seek_to_committed
    try:
        delivered = [m.offset async for _, m in consumer.getmany(1.0)]
    finally:
        base.seek_to_committed = original
    assert delivered == []
    assert sought == [(tp, 0)]
    assert refetched == [(tp, None)]  # the next offset wanted: 0


async def test_a_second_seek_to_no_commit_does_not_skip_what_was_not_handed_on() -> None:
    """The takeover that stalled: a partition with no commit delivers 0 and 1
    after the seek to the commits; records 2.. are fetched and not handed on
    when Faust seeks to the commits again (a fetch that ends with flow
    stopped). aiokafka stands past them. The next record fetched there (3) must
    not be taken for the start: 2 is read again (and 0 and 1 repeated)."""
    consumer, tp, refetched = reading_consumer("second-seek", "raw")
    seeks: list[tuple[TP, int]] = []

    async def _seek(partition: TP, offset: int) -> None:
        seeks.append((partition, offset))

    async def base_seek_to_committed(self: Any) -> dict[TP, int | None]:
        return {tp: None}

    consumer._seek = _seek
    base = type(consumer).__mro__[1]
    original = base.seek_to_committed
    base.seek_to_committed = base_seek_to_committed
    try:
        consumer.positions.assigned([tp])
        await consumer.seek_to_committed()
        fetching(consumer, [{tp: [record(tp, 0), record(tp, 1)]}])
        assert [m.offset async for _, m in consumer.getmany(1.0)] == [0, 1]
        await consumer.seek_to_committed()  # again, with 2.. fetched, not handed on
        fetching(consumer, [{tp: [record(tp, o) for o in (3, 4)]},
                            {tp: [record(tp, o) for o in range(0, 5)]}])
        first = [m.offset async for _, m in consumer.getmany(1.0)]
        then = [m.offset async for _, m in consumer.getmany(1.0)]
    finally:
        base.seek_to_committed = original
    assert seeks == [(tp, 0), (tp, 0)]
    assert first == [] and refetched == [(tp, None)]  # 3 is a jump: read again from 0
    assert then == [0, 1, 2, 3, 4]


async def test_seeks_run_on_the_consumer_thread(tmp_path: Any) -> None:
    """aiokafka's seek drops the partition's fetched records, which the consumer
    thread reads: Faust called it from the event loop's thread, and the race
    killed a worker (KeyError in aiokafka's fetched_records). Seeks now go
    through the consumer thread's call queue."""
    nw = create_app(Settings(store="memory://", datadir=str(tmp_path), processes=0),
                    prometheus=False)
    consumer: Any = nw.app.consumer
    calls: list[Any] = []

    class ConsumerThread:
        def seek(self, tp: TP, offset: int) -> None:
            calls.append(("seek", tp, offset))

        async def call_thread(self, fun: Any, *args: Any) -> Any:
            calls.append(("on the thread", fun.__name__))
            return fun(*args)

    consumer._thread = ConsumerThread()
    tp = TP(nw.settings.topic_raw, 1)
    await consumer.seek(tp, 7)
    assert calls == [("on the thread", "seek"), ("seek", tp, 7)]
