"""The consumer's ack bookkeeping with the stale-ack fix (worker/faust_fixes.py):
a message fetched in an earlier consumer generation never becomes committable."""

from __future__ import annotations

from typing import Any

from faust.types import TP
from faust.types.tuples import ConsumerMessage

from worker.app import create_app
from worker.settings import Settings


def message(topic: str, offset: int, generation: int) -> ConsumerMessage:
    return ConsumerMessage(topic, 0, offset, 0.0, 0, [], b"k", b"v", None,
                           generation_id=generation)


def committable(consumer: Any, tp: TP) -> int | None:
    return consumer._new_offset(tp)  # type: ignore[no-any-return]


def test_acks_of_an_earlier_generation_are_never_committed() -> None:
    nw = create_app(Settings(app_id="acks"), prometheus=False)
    app, consumer = nw.app, nw.app.consumer
    topic = nw.settings.topic_raw
    app.topics._acking_topics.add(topic)  # as when the route agent subscribes
    tp = TP(topic, 0)

    app.consumer_generation_id = 2
    fresh = [message(topic, n, generation=2) for n in range(3)]
    assert all(consumer.ack(m) for m in fresh)
    assert committable(consumer, tp) == 3

    # A rebalance later (generation 3), an event fetched in generation 2 is
    # skipped by its stream and acked: the offset must not move past it.
    app.consumer_generation_id = 3
    stale = message(topic, 3, generation=2)
    assert consumer.ack(stale) is False
    assert stale.acked  # settled, so the next rebalance does not wait for it
    assert committable(consumer, tp) is None

    # The same offset fetched again in generation 3 and processed: committable.
    assert consumer.ack(message(topic, 3, generation=3))
    assert committable(consumer, tp) == 4
